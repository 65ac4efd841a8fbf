"""Overhead of a podman pod run against the local engine, for the same report (wall time).

    .venv/bin/python -m bench.bench_pods [--quick] [--report sales_summary] [--runs N]

Both engines run the same example report through the whole path (prepare → execute → publish)
on one local store, interleaved so machine load hits both alike; one warm-up run each is not
counted. Needs podman and the analytics image (scripts/setup-podman.sh).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import yaml

from nbreports.reports.yaml_keys import load_yaml

REPO = Path(__file__).resolve().parent.parent


def _report_copy(notebooks: Path, report: str, executor: str) -> Path:
    folder = notebooks / f"{report}_{executor}"
    shutil.copytree(REPO / "notebooks" / report, folder)
    spec_file = folder / "report.yaml"
    spec = load_yaml(spec_file.read_text())  # as specs are read: `on:` stays a key
    spec.update(executor=executor, team="analytics")
    spec_file.write_text(yaml.safe_dump(spec))
    for nb in folder.glob("*.ipynb"):  # one notebook per folder, named after it
        nb.rename(folder / f"{folder.name}.ipynb")
    return folder


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="2 counted runs per engine")
    parser.add_argument("--runs", type=int, default=5, help="counted runs per engine")
    parser.add_argument("--report", default="sales_summary")
    args = parser.parse_args(argv)
    runs = 2 if args.quick else args.runs
    os.environ.setdefault("CONTAINERS_CONF", str(REPO / "images" / "containers.conf"))
    os.environ.setdefault("NBREPORTS_PROFILES_FILE", str(REPO / "config" / "profiles.yaml"))

    with tempfile.TemporaryDirectory(prefix="nbr-bench-pods-") as tmp:
        os.environ["NBREPORTS_HOME"] = str(Path(tmp) / "home")
        from nbreports.reports.catalog import load_report
        from nbreports.runs.model import Platform
        from nbreports.runs.runner import run_report

        platform = Platform.from_settings()
        notebooks = Path(tmp) / "notebooks"
        reports = {engine: load_report(_report_copy(notebooks, args.report, engine)) for engine in ("local", "podman")}
        times: dict[str, list[float]] = {"local": [], "podman": []}
        executions: dict[str, list[float]] = {"local": [], "podman": []}
        for index in range(runs + 1):
            for engine, report in reports.items():
                start = time.perf_counter()
                record = run_report(platform, report, {}, log=lambda line: None, force=True)  # never a cache hit
                wall = time.perf_counter() - start
                if index:  # the first round warms caches (image layers, imports) and is not counted
                    times[engine].append(wall)
                    executions[engine].append(record["execution_s"])
                peak = (record.get("pod") or {}).get("peak_memory_bytes")
                memory = f"   pod peak memory {peak / 2**20:.0f} MiB" if peak else ""
                print(f"  {'warm-up' if not index else f'run {index}'} {engine:7} {wall:6.2f} s{memory}", flush=True)

    local, pod = statistics.median(times["local"]), statistics.median(times["podman"])
    print(f"\n{args.report}: median wall time of a whole run (prepare + execute + publish), {runs} runs each")
    print(f"  local engine : {local:6.2f} s   (execute step {statistics.median(executions['local']):.2f} s)")
    print(f"  podman pod   : {pod:6.2f} s   (execute step {statistics.median(executions['podman']):.2f} s)")
    print(f"  overhead     : {pod - local:+6.2f} s  ({pod / local:.2f}x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
