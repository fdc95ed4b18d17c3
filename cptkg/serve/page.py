"""The page at GET / of `cptkg serve`: paste or upload claims and see the HTML report; look up a
code and see its diagram. Everything it loads comes from the service itself."""

from __future__ import annotations

from functools import cache

from cptkg._version import __version__


@cache
def index_page() -> str:
    from jinja2 import Environment, PackageLoader, StrictUndefined

    environment = Environment(loader=PackageLoader("cptkg.serve", "templates"), autoescape=True,
                              undefined=StrictUndefined)
    return str(environment.get_template("index.html").render(version=__version__))
