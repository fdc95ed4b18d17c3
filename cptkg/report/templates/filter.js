// cptkg report filter (ours, MIT, no dependencies): hides claims by verdict and by text, in the
// table and in the claim sections alike, and says how many are shown.
(function () {
  "use strict";
  var hide = document.getElementById("hide-conforming");
  var verdict = document.getElementById("verdict-filter");
  var text = document.getElementById("text-filter");
  var shown = document.getElementById("shown-count");
  var rows = document.querySelectorAll(".claim-row");
  function apply() {
    var wanted = verdict.value, words = text.value.trim().toLowerCase(), count = 0;
    rows.forEach(function (row) {
      var v = row.getAttribute("data-verdict");
      var show = !(hide.checked && v === "conforms") && (!wanted || v === wanted) &&
        (!words || row.getAttribute("data-search").indexOf(words) !== -1);
      row.classList.toggle("hidden", !show);
      var section = document.getElementById(row.getAttribute("data-claim"));
      if (section) { section.classList.toggle("hidden", !show); }
      if (show) { count += 1; }
    });
    shown.textContent = count + " of " + rows.length + " shown";
  }
  hide.addEventListener("change", apply);
  verdict.addEventListener("change", apply);
  text.addEventListener("input", apply);
})();
