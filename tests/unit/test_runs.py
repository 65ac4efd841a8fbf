"""Whole runs through real papermill kernels, on a local store and SQLite."""

import json
import threading
import time

import nbformat
import psutil
import pytest

from nbreports.browse.runs import recent_runs
from nbreports.browse.versions import versions as list_versions
from nbreports.engines.local import LocalEngine
from nbreports.errors import CellExecutionError, KernelDiedError, ParameterError, RunTimeoutError
from nbreports.reports.catalog import load_report
from nbreports.runs.runner import run_report
from nbreports.storage.store import Store
from tests.helpers import make_report

GLUE = "import scrapbook as sb\nsb.glue('echo', {'n': n, 'label': label})"


def report(notebooks, name="echo", params="n: int = 1\nlabel: str = 'a'", *cells, **spec):
    return load_report(make_report(notebooks, name, params, *(cells or (GLUE,)), spec=spec))


def test_successful_run_is_versioned_published_and_recorded(platform, notebooks):
    rep = report(notebooks)
    record = run_report(platform, rep, {"n": 7})
    store, key = platform.store, (lambda f: Store.run_key("echo", record["run_id"], f))
    for name in ("input.ipynb", "output.ipynb", "report.html", "scraps.json", "run.json"):
        assert store.exists(key(name)), name
    assert store.read_json(key("scraps.json")) == {"echo": {"n": 7, "label": "a"}}
    assert store.read_json(Store.latest_key("echo"))["run_id"] == record["run_id"]
    assert store.exists(Store.version_key(rep.notebook_sha))
    output = nbformat.reads(store.read_bytes(key("output.ipynb")).decode(), as_version=4)
    assert output.metadata["nbreports"]["parameters"] == {"n": 7, "label": "a"}
    assert output.metadata["nbreports"]["notebook_version"] == rep.notebook_sha
    [row] = recent_runs(platform.db, "echo")
    assert row["status"] == "success"
    assert row["parameters"] == {"n": 7, "label": "a"}
    assert row["duration_s"] > 0
    assert row["html_uri"] == record["html_uri"]
    assert row["peak_memory_bytes"] > 10_000_000  # the papermill process and its kernel, sampled
    assert list_versions(platform.db, "echo")[0]["sha256"] == rep.notebook_sha


def test_failing_cell_keeps_output_records_failure_and_leaves_latest(platform, notebooks):
    ok = report(notebooks)
    first = run_report(platform, ok, {})
    bad = report(notebooks, "echo", "n: int = 1\nlabel: str = 'a'", "x = 1", "raise ValueError('bad data: 3 rows')")
    with pytest.raises(CellExecutionError, match="ValueError: bad data: 3 rows") as info:
        run_report(platform, bad, {})
    assert info.value.cell_index == 4
    failed = recent_runs(platform.db, "echo")[0]
    assert failed["status"] == "failed"
    assert failed["failed_cell"] == 4
    assert "bad data" in failed["error"]
    output = nbformat.reads(
        platform.store.read_bytes(Store.run_key("echo", failed["run_id"], "output.ipynb")).decode(), as_version=4
    )
    errors = [o for c in output.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert [e.ename for e in errors] == ["ValueError"]
    assert platform.store.exists(Store.run_key("echo", failed["run_id"], "report.html"))
    assert platform.store.read_json(Store.latest_key("echo"))["run_id"] == first["run_id"]


def test_invalid_parameters_write_nothing(platform, notebooks):
    rep = report(notebooks)
    with pytest.raises(ParameterError, match="unknown parameter 'm'"):
        run_report(platform, rep, {"m": 1})
    with pytest.raises(ParameterError, match="expected integer"):
        run_report(platform, rep, {"n": "1"})
    assert platform.store.list("runs") == []
    assert platform.store.list("versions") == []
    assert recent_runs(platform.db, "echo") == []


def _papermill_children() -> list[psutil.Process]:
    return [
        p
        for p in psutil.Process().children(recursive=True)
        if "nbreports.engines.papermill_child" in " ".join(p.cmdline())
    ]


def test_invalid_parameters_stop_the_prestarted_engine(platform, notebooks):
    with pytest.raises(ParameterError):
        run_report(platform, report(notebooks), {"n": "not a number"})
    assert _papermill_children() == []


def test_a_prestarted_engine_without_a_job_closes_cleanly():
    engine = LocalEngine()
    engine.prestart()
    for _ in range(100):  # a busy machine: the child is forked, but may not have exec'ed papermill_child yet
        if _papermill_children():
            break
        time.sleep(0.05)
    assert len(_papermill_children()) == 1
    engine.close()
    assert _papermill_children() == []


def test_concurrent_runs_of_one_report_never_share_a_folder(platform, notebooks):
    rep = report(notebooks)
    records, errors = [], []

    def one(n):
        try:
            records.append(run_report(platform, rep, {"n": n}))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=one, args=(n,)) for n in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len({r["run_id"] for r in records}) == 3
    assert sorted(
        platform.store.read_json(Store.run_key("echo", r["run_id"], "scraps.json"))["echo"]["n"] for r in records
    ) == [0, 1, 2]


def test_run_timeout_stops_the_run_and_names_the_cell(platform, notebooks):
    rep = report(notebooks, "slow", None, "print('started', flush=True)", "import time\ntime.sleep(120)", run_timeout=4)
    with pytest.raises(RunTimeoutError, match="run timed out after 4s in cell 2"):
        run_report(platform, rep, {})
    row = recent_runs(platform.db, "slow")[0]
    assert row["status"] == "failed"
    output = nbformat.reads(
        platform.store.read_bytes(Store.run_key("slow", row["run_id"], "output.ipynb")).decode(), as_version=4
    )
    assert "started" in output.cells[1].outputs[0].text


def test_cell_timeout_fails_the_run_naming_the_cell(platform, notebooks):
    rep = report(notebooks, "slowcell", None, "x = 1", "import time\ntime.sleep(60)", cell_timeout=2)
    with pytest.raises(RunTimeoutError, match="cell 2 exceeded the cell timeout of 2s"):
        run_report(platform, rep, {})


def test_dead_kernel_is_a_clear_failure(platform, notebooks):
    rep = report(notebooks, "crash", None, "import os\nos._exit(3)")
    with pytest.raises(KernelDiedError, match="kernel died while running cell 1"):
        run_report(platform, rep, {})
    assert recent_runs(platform.db, "crash")[0]["status"] == "failed"


def test_awkward_values_reach_the_kernel_unchanged(platform, notebooks):
    values = {
        "s": "quote \" apostrophe ' backslash \\ newline \n tab \t unicode é✓中🎉 {braces} %s",
        "i": -(2**63),
        "f": 1.000000000000001e-300,
        "b": False,
        "z": None,
        "l": ["a", 1, 2.5, None, ["nested"]],
        "d": {"k\n": {"x": [True]}, "": "empty key"},
    }
    params = "\n".join(f"{k} = None" for k in values)
    rep = report(
        notebooks,
        "awkward",
        params,
        "import scrapbook as sb\nsb.glue('back', dict(" + ", ".join(f"{k}={k}" for k in values) + "))",
    )
    record = run_report(platform, rep, values)
    scraps = platform.store.read_json(Store.run_key("awkward", record["run_id"], "scraps.json"))
    assert scraps["back"] == values


def test_hidden_code_is_not_in_the_html(platform, notebooks):
    secret_source = "very_distinctive_variable_name = 41 + 1"  # noqa: S105 - a throw-away test value, not a credential
    shown = report(notebooks, "shown", None, secret_source + "\nprint(very_distinctive_variable_name)")
    hidden = report(
        notebooks,
        "hidden",
        None,
        secret_source + "\nprint(very_distinctive_variable_name)",
        publish={"hide_code": True},
    )
    html = {}
    for rep in (shown, hidden):
        record = run_report(platform, rep, {})
        html[rep.name] = platform.store.read_bytes(Store.run_key(rep.name, record["run_id"], "report.html")).decode()
    assert "very_distinctive_variable_name" in html["shown"]
    assert "very_distinctive_variable_name" not in html["hidden"]
    assert "42" in html["hidden"]
    json.dumps(html)  # both pages are plain text
