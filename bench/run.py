"""``make bench``: every benchmark, one table each, JSON under ``.bench/``, a verdict per goal.

.venv/bin/python -m bench                 # full mode (>= 5 counted runs, all sizes)
.venv/bin/python -m bench --quick         # smoke mode: 1 warm-up, 2 counted runs, smallest sizes
.venv/bin/python -m bench --only parse,publish --quick
.venv/bin/python -m bench --only load     # 200 runs through real Airflow (not in the default set)
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

from bench import workspace
from bench.harness import RESULTS_DIR, BenchResult, Mode, loadavg, progress, write_results
from bench.workspace import Workspace

Done = dict[str, BenchResult]  # the benchmarks already run in this invocation, by name


def _per_run(ws: Workspace, mode: Mode, args: argparse.Namespace, done: Done) -> BenchResult:
    from bench import per_run

    dag_notebooks = tuple(n.strip() for n in args.dag_notebooks.split(",") if n.strip())
    return per_run.run(ws, mode, dag_notebooks=dag_notebooks, with_dags=not args.no_airflow)


def _parse(ws: Workspace, mode: Mode, args: argparse.Namespace, done: Done) -> BenchResult:
    from bench import dag_parsing

    return dag_parsing.run(ws, mode)


def _concurrency(ws: Workspace, mode: Mode, args: argparse.Namespace, done: Done) -> BenchResult:
    from bench import concurrency

    return concurrency.run(ws, mode)


def _latency(ws: Workspace, mode: Mode, args: argparse.Namespace, done: Done) -> BenchResult:
    from bench import start_latency

    per_run = done.get("per_run")
    tiny = per_run.data.get("cli", {}).get("tiny") if per_run else None
    return start_latency.run(ws, mode, with_scheduler=args.scheduler and not args.no_airflow, cli_pair=tiny)


def _publish(ws: Workspace, mode: Mode, args: argparse.Namespace, done: Done) -> BenchResult:
    from bench import publish

    return publish.run(ws, mode)


def _access(ws: Workspace, mode: Mode, args: argparse.Namespace, done: Done) -> BenchResult:
    from bench import access_policy

    return access_policy.run(ws, mode)


def _search(ws: Workspace, mode: Mode, args: argparse.Namespace, done: Done) -> BenchResult:
    from bench import search

    return search.run(ws, mode)


def _load(ws: Workspace, mode: Mode, args: argparse.Namespace, done: Done) -> BenchResult:
    from bench import load

    return load.run(ws, mode, count=args.load_runs, at_once=args.load_at_once)


Runner = Callable[[Workspace, Mode, argparse.Namespace, Done], BenchResult]
BENCHMARKS: dict[str, Runner] = {
    "per_run": _per_run,
    "parse": _parse,
    "concurrency": _concurrency,
    "latency": _latency,
    "publish": _publish,
    "access": _access,
    "search": _search,
}
#: run only when named in --only (``make bench-more``): longer than ``make bench``'s budget
EXTRA: dict[str, Runner] = {"load": _load}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="1 warm-up, 2 counted runs, smallest sizes")
    parser.add_argument(
        "--only", default="", help=f"comma-separated subset of {', '.join(BENCHMARKS)}, or {', '.join(EXTRA)}"
    )
    parser.add_argument("--no-airflow", action="store_true", help="skip the dag.test() and scheduler parts")
    parser.add_argument(
        "--dag-notebooks",
        default="tiny",
        help="notebooks of the dag.test() comparison (tiny,realistic: about 4 min more)",
    )
    parser.add_argument(
        "--scheduler",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="start latency through real Airflow servers (default: on in full mode)",
    )
    parser.add_argument("--load-runs", type=int, default=None, help="DAG runs of the load benchmark (200; quick 6)")
    parser.add_argument("--load-at-once", type=int, default=None, help="POSTs in flight together (default: all)")
    parser.add_argument("--out", type=Path, default=RESULTS_DIR, help="folder for the JSON results")
    parser.add_argument("--keep", action="store_true", help="keep the temporary workspace")
    args = parser.parse_args(argv)
    mode = Mode(quick=args.quick)
    if args.scheduler is None:
        args.scheduler = not mode.quick
    names = [n.strip() for n in args.only.split(",") if n.strip()] or list(BENCHMARKS)
    unknown = set(names) - BENCHMARKS.keys() - EXTRA.keys()
    if unknown:
        parser.error(f"unknown benchmark(s) {sorted(unknown)}; choose from {', '.join([*BENCHMARKS, *EXTRA])}")

    started, load_before = time.time(), loadavg()
    ws = workspace.create()
    progress(f"mode {'quick' if mode.quick else 'full'}, workspace {ws.root}, load average {load_before}")
    results: list[BenchResult] = []
    failed = False
    try:
        for name in names:
            t0 = time.monotonic()
            try:
                result = (BENCHMARKS | EXTRA)[name](ws, mode, args, {r.name: r for r in results})
            except Exception as exc:  # one broken benchmark does not hide the others' figures
                failed = True
                progress(f"{name}: FAILED: {type(exc).__name__}: {exc}")
                result = BenchResult(name, name, {"error": f"{type(exc).__name__}: {exc}"})
            result.duration_s = time.monotonic() - t0
            results.append(result)
            for text in result.tables:
                print("\n" + text, flush=True)
            for goal in result.goals:
                print(goal.line(), flush=True)
            path = write_results(results, mode, started, load_before, args.out)
    finally:
        if not args.keep:
            ws.cleanup()
    print(
        f"\nload average before {load_before}, after {loadavg()}; {time.time() - started:.0f} s in all; results: {path}"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
