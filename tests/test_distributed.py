"""Scale-out on a real Dask LocalCluster: the same reports as one process, in input order, and no
claim lost or doubled when a worker dies mid-run."""

from __future__ import annotations

import json
import os
from pathlib import Path
from urllib.parse import quote

import pytest

from cptkg.claims import read_paths
from cptkg.rules import distributed
from cptkg.rules.validator import Validator

pytestmark = pytest.mark.slow

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "claims"


def write_ndjson(path: Path, count: int) -> list[str]:
    templates = [json.loads(p.read_text()) for p in sorted(EXAMPLES.glob("*.json"))]
    ids = []
    with path.open("w") as out:
        for i in range(count):
            claim = dict(templates[i % len(templates)], id=f"claim-{i}")
            ids.append(claim["id"])
            out.write(json.dumps(claim) + "\n")
    return ids


@pytest.fixture(scope="module")
def cluster():
    from dask.distributed import Client, LocalCluster

    local = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                         dashboard_address=None)
    client = Client(local)
    yield client
    client.close()
    local.close()


def kill_worker_once(partition, batch_size, marker_dir):
    """A task that takes its worker process down the first time it sees partition 1."""
    marker = Path(marker_dir) / f"killed-{partition.index}"
    if partition.index == 1 and not marker.exists():
        marker.write_text(str(os.getpid()))
        os._exit(1)
    return distributed.validate_partition(partition, batch_size)


def test_same_reports_in_input_order(cluster, tmp_path: Path) -> None:
    path = tmp_path / "claims.ndjson"
    ids = write_ndjson(path, 300)
    (tmp_path / "one.ttl").write_text((EXAMPLES / "addon-modifier-51_XFAIL.ttl").read_text())
    inputs = [path, tmp_path / "one.ttl"]
    got = list(distributed.run(inputs, cluster, lines_per_partition=40))
    expected = [report for report in Validator().validate(read_paths(inputs))]
    assert [r.claim for r in got] == [*ids, "https://example.org/claims/addon-modifier-51_XFAIL"]
    assert [(r.claim, r.results) for r in got] == [(r.claim, r.results) for r in expected]
    assert [r.position for r in got] == list(range(len(ids) + 1))


def test_worker_death_loses_no_claim(cluster, tmp_path: Path) -> None:
    from functools import partial

    path = tmp_path / "claims.ndjson"
    ids = write_ndjson(path, 200)
    task = partial(kill_worker_once, marker_dir=str(tmp_path))
    got = list(distributed.run([path], cluster, lines_per_partition=50, task=task))
    assert (tmp_path / "killed-1").exists(), "the fault was not injected"
    assert [r.claim for r in got] == ids  # every claim exactly once, in order
    assert sum(not r.conforms for r in got) > 0


def test_cli_on_an_existing_scheduler(cluster, tmp_path: Path) -> None:
    from tests.conftest import run_cli

    path = tmp_path / "claims.ndjson"
    ids = write_ndjson(path, 120)
    address = cluster.scheduler.address
    proc = run_cli("validate", str(path), "--scheduler", address, "--format", "json")
    assert proc.returncode == 1, proc.stderr
    got = json.loads(proc.stdout)["claims"]
    local = json.loads(run_cli("validate", str(path), "--format", "json").stdout)["claims"]
    assert [c["claim"] for c in got] == ids
    assert got == local
    assert proc.stderr == ""  # no Dask chatter


def test_cli_local_workers_and_bad_scheduler(tmp_path: Path) -> None:
    from tests.conftest import run_cli

    path = tmp_path / "claims.ndjson"
    ids = write_ndjson(path, 60)
    proc = run_cli("validate", str(path), "--workers", "1000", "--format", "jsonl")
    assert [json.loads(line)["claim"] for line in proc.stdout.splitlines()] == ids
    # --workers is capped at the CPU count, with one line saying so (not hundreds of processes).
    cpus = os.cpu_count() or 1
    assert proc.stderr.strip().splitlines() == [f"cptkg: --workers 1000 is more than the {cpus} CPUs here: "
                                                f"using {cpus}"]
    bad = run_cli("validate", str(path), "--scheduler", "tcp://127.0.0.1:9", "--format", "json")
    assert bad.returncode == 2 and "cannot reach the Dask scheduler" in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1


def test_bad_input_under_dask_reads_as_without(cluster, tmp_path: Path) -> None:
    """The same exit code and one line with and without a cluster; no Dask tracebacks."""
    from tests.conftest import run_cli

    broken = tmp_path / "broken.json"
    broken.write_text('{"resourceType": "Claim", ')
    alone = run_cli("validate", str(broken))
    on_dask = run_cli("validate", str(broken), "--scheduler", cluster.scheduler.address)
    assert alone.returncode == on_dask.returncode == 2
    assert alone.stderr == on_dask.stderr and len(on_dask.stderr.strip().splitlines()) == 1
    mixed = tmp_path / "mixed.ndjson"
    good = (EXAMPLES / "place-of-service_PASS.json").read_text().replace("\n", " ")
    mixed.write_text("\n".join([good, '{"resourceType": "Claim", "id": "x", "item": 5}', "[1, 2",
                                 good.replace('"value": 1', '"value": ' + "7" * 5000)]) + "\n")
    proc = run_cli("validate", str(mixed), "--scheduler", cluster.scheduler.address, "--format", "json")
    assert proc.returncode == 1 and proc.stderr == "", proc.stderr
    verdicts = [c["conforms"] for c in json.loads(proc.stdout)["claims"]]
    assert verdicts == [True, False, False, False]


def test_a_failing_partition_is_reported_not_raised(monkeypatch) -> None:
    def broken(partition, batch_size, rules=None, engine=None):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(distributed, "_validate_partition", broken)
    part = distributed.Partition(3, "claims.ndjson", b"{}\n", True, first_line=41)
    (report,) = distributed.validate_partition(part)
    (result,) = report["results"]
    assert (report["claim"], report["source"], report["where"]) == ("claims.ndjson line 41", "claims.ndjson", "line 41")
    assert result["rule"] == "Unreadable" and "disk on fire" in result["message"]


def test_mixed_folder_same_json_with_and_without_workers(cluster, tmp_path: Path) -> None:
    """FHIR, NDJSON, Bundles, 837P and Turtle in one folder: the same JSON, byte for byte, from one
    process and from the cluster (names come from paths and positions, never from worker files)."""
    import shutil

    from tests.conftest import run_cli

    inputs = EXAMPLES.parent / "inputs"
    folder = tmp_path / "mixed"
    shutil.copytree(inputs, folder)
    for name in ("addon-modifier-51_XFAIL.ttl", "addon-requires-primary_PASS.json", "unit-per-site_XFAIL.ttl"):
        if (EXAMPLES / name).exists():
            shutil.copy(EXAMPLES / name, folder / name)
    alone = run_cli("validate", str(folder), "--format", "json")
    on_dask = run_cli("validate", str(folder), "--scheduler", cluster.scheduler.address, "--format", "json")
    assert alone.returncode == on_dask.returncode == 1
    assert alone.stdout == on_dask.stdout
    claims = json.loads(alone.stdout)["claims"]
    assert {c["verdict"] for c in claims} == {"conforms", "does-not-conform", "not-applicable", "unreadable"}
    assert all(c["origin"]["file"].startswith(str(folder)) for c in claims)
    # A focus of a FHIR or X12 claim is named by its input's path, never by a worker's own file.
    named = [r["focus"] for c in claims for r in c["results"] if r["focus"].startswith("urn:cptkg:claim:")]
    assert named and all(f.startswith("urn:cptkg:claim:" + quote(str(folder), safe="")) for f in named)
