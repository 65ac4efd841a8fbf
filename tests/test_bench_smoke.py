"""Smoke test of ``make bench``: the quick mode of the cheap benchmarks runs and writes its JSON.

Only the shape of the results is checked, never the figures (the machine may be busy).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO


def test_quick_bench_of_parsing_and_publish_writes_the_expected_json(tmp_path: Path) -> None:
    out = tmp_path / "results"
    proc = subprocess.run(  # noqa: S603 - argv fixed by the test, no untrusted input
        [sys.executable, "-m", "bench", "--quick", "--only", "parse,publish", "--out", str(out)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert proc.returncode == 0, proc.stderr[-4000:] + proc.stdout[-4000:]
    assert "[bench" in proc.stderr  # progress lines
    files = sorted(out.glob("bench-quick-*.json"))
    assert len(files) == 1
    doc = json.loads(files[0].read_text())
    assert doc["mode"] == "quick"
    assert doc["runs"] == 2
    assert doc["warmups"] == 1
    assert {"loadavg_before", "loadavg_after", "cpus"} <= doc["machine"].keys()
    assert set(doc["benchmarks"]) == {"parse", "publish"}
    for bench in doc["benchmarks"].values():
        assert bench["tables"]
        assert bench["goals"]
        assert all(g["verdict"] in ("met", "missed", "not measured") for g in bench["goals"])
        for g in bench["goals"]:
            assert f"GOAL {g['verdict'].upper()}" in proc.stdout

    parse = doc["benchmarks"]["parse"]["data"]["sizes"]["10"]
    assert (parse["a"], parse["b"]) == ("cold", "warm")
    assert len(parse["samples_a"]) == len(parse["samples_b"]) == len(parse["ratios"]) == 2
    for sample in parse["samples_a"] + parse["samples_b"]:
        assert {"parse_s", "parse_cpu_s", "per_report_cpu_ms", "serialize_s", "peak_tree_mb"} <= sample.keys()
    assert {"median", "min", "max"} <= parse["ratio"].keys()

    publish = doc["benchmarks"]["publish"]["data"]
    assert publish["sizes_mb"][0] == 1
    pair = publish["pair"]
    assert len(pair["samples_a"]) == len(pair["samples_b"]) == 2
    for sample in pair["samples_a"] + pair["samples_b"]:
        assert {"publish_s", "publish_cpu_s", "render_s", "read_s", "scraps_s", "peak_tree_mb"} <= sample.keys()


def test_quick_per_run_bench_times_both_runners_and_latency_reuses_their_stamps(tmp_path: Path) -> None:
    out = tmp_path / "results"
    proc = subprocess.run(  # noqa: S603 - argv fixed by the test, no untrusted input
        [sys.executable, "-m", "bench", "--quick", "--only", "per_run,latency", "--no-airflow", "--out", str(out)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert proc.returncode == 0, proc.stderr[-4000:] + proc.stdout[-4000:]
    doc = json.loads(next(out.glob("bench-quick-*.json")).read_text())
    tiny = doc["benchmarks"]["per_run"]["data"]["cli"]["tiny"]
    assert (tiny["a"], tiny["b"]) == ("papermill", "nbr run")
    assert {"nbr run / papermill (tiny)", "nbr run / papermill (realistic)"} <= {
        g["name"] for g in doc["benchmarks"]["per_run"]["goals"]
    }
    latency = doc["benchmarks"]["latency"]["data"]["cli"]
    assert "reusing the per-run benchmark's tiny runs" in proc.stderr
    assert [s["latency_s"] for s in latency["samples_b"]] == [s["latency_s"] for s in tiny["samples_b"]]
    assert all(0 < s["latency_s"] < s["wall_s"] for s in latency["samples_a"] + latency["samples_b"])
    assert latency["key"] == "latency_s"
    assert len(latency["ratios"]) == 2
