"""The shared harness: run a command while watching its process tree, interleave A and B, summarise.

Every benchmark module builds on four things here:

* ``measure_cmd`` starts a command and polls its whole process tree with psutil (every 20 ms):
  wall time, peak RSS of the tree, of the orchestrating processes and of the Jupyter kernels
  (processes running ``ipykernel``) separately, and the exit code.
* ``interleave`` runs warm-ups, then counted runs of A and B as A B A B ..., and gives the
  per-pair ratios B/A (so machine drift, which is large on a shared 2-core box, cancels).
* ``summary`` gives median / min / max of a series; ``table`` prints one table per benchmark.
* ``Bench`` collects the tables, the verdict per goal (met / missed) and writes the JSON.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

REPO = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
RESULTS_DIR = REPO / ".bench"
MB = 1024 * 1024


@dataclass
class Mode:
    """How much to measure: the full mode, or the quick smoke mode CI runs."""

    quick: bool = False

    @property
    def warmups(self) -> int:
        return 1

    @property
    def runs(self) -> int:
        return 2 if self.quick else 5


def progress(message: str) -> None:
    """One progress line on stderr (stdout keeps the tables)."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def loadavg() -> list[float]:
    try:
        return [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]
    except OSError:
        return list(os.getloadavg())


# --- measuring a process tree ---------------------------------------------------------------------


def _is_kernel(proc: psutil.Process) -> bool:
    try:
        return any("ipykernel" in part for part in proc.cmdline())
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return False


class TreeWatcher:
    """Polls the process trees of some root pids; keeps the peak RSS of the whole, of the
    orchestrating processes (everything but kernels) and of the kernels."""

    def __init__(self, roots: Sequence[int], interval: float = 0.02) -> None:
        self.roots = [psutil.Process(pid) for pid in roots]
        self.interval = interval
        self.peak_total = self.peak_orchestrator = self.peak_kernel = 0
        self.peak_processes = 0
        self._kernel_pids: set[int] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self) -> TreeWatcher:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def sample(self) -> None:
        procs: list[psutil.Process] = []
        for root in self.roots:
            try:
                procs.append(root)
                procs.extend(root.children(recursive=True))
            except (psutil.NoSuchProcess, psutil.ZombieProcess):
                continue
        total = orchestrator = kernel = 0
        alive = 0
        for proc in procs:
            try:
                rss = proc.memory_info().rss
            except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
                continue
            alive += 1
            total += rss
            if proc.pid in self._kernel_pids or _is_kernel(proc):
                self._kernel_pids.add(proc.pid)
                kernel += rss
            else:
                orchestrator += rss
        self.peak_total = max(self.peak_total, total)
        self.peak_orchestrator = max(self.peak_orchestrator, orchestrator)
        self.peak_kernel = max(self.peak_kernel, kernel)
        self.peak_processes = max(self.peak_processes, alive)

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.interval)

    def memory(self) -> dict[str, float]:
        return {
            "peak_tree_mb": round(self.peak_total / MB, 1),
            "peak_orchestrator_mb": round(self.peak_orchestrator / MB, 1),
            "peak_kernel_mb": round(self.peak_kernel / MB, 1),
        }


@dataclass
class CmdResult:
    wall_s: float
    returncode: int
    memory: dict[str, float]
    output: str = ""
    started_at: float = 0.0  # time.time() when the command was started

    def require_ok(self, what: str) -> CmdResult:
        if self.returncode != 0:
            raise RuntimeError(f"{what} exited with {self.returncode}:\n{self.output[-3000:]}")
        return self


def _kill_tree(proc: subprocess.Popen[bytes]) -> None:
    try:
        parent = psutil.Process(proc.pid)
        kids = parent.children(recursive=True)
    except psutil.NoSuchProcess:
        return
    for p in [parent, *kids]:
        with contextlib.suppress(psutil.NoSuchProcess):
            p.kill()


def _children_cpu() -> float:
    """User + system CPU seconds of every reaped descendant (their kernels included)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def start_cmd(
    args: Sequence[str], env: dict[str, str] | None = None, cwd: Path | None = None, log: Path | None = None
) -> subprocess.Popen[bytes]:
    out = log.open("wb") if log else subprocess.DEVNULL
    try:
        return subprocess.Popen(
            list(args), env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
    finally:
        if log and hasattr(out, "close"):
            out.close()  # type: ignore[union-attr]


def measure_cmds(
    commands: Sequence[Sequence[str]],
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    workdir: Path | None = None,
    timeout: float = 600,
) -> tuple[float, list[CmdResult], dict[str, float]]:
    """Start ``commands`` at once; the wall time until the last one ends, one result each, and the
    CPU time and peak memory of all their trees together. (Do not run two of these at once:
    the CPU time is read from ``RUSAGE_CHILDREN``.)"""
    workdir = workdir or Path(tempfile.gettempdir())  # $TMPDIR, else /tmp
    logs = [workdir / f"cmd-{os.getpid()}-{time.monotonic_ns()}-{i}.log" for i in range(len(commands))]
    started_at = time.time()
    cpu_before = _children_cpu()
    start = time.perf_counter()
    procs = [start_cmd(c, env=env, cwd=cwd, log=log) for c, log in zip(commands, logs, strict=True)]
    ends: list[float] = [0.0] * len(procs)
    try:
        with TreeWatcher([p.pid for p in procs]) as watcher:
            deadline = time.monotonic() + timeout
            pending = set(range(len(procs)))
            while pending:
                for i in list(pending):
                    if procs[i].poll() is not None:
                        ends[i] = time.perf_counter()
                        pending.discard(i)
                if time.monotonic() > deadline:
                    raise TimeoutError(f"commands still running after {timeout:.0f} s: {commands}")
                time.sleep(0.005)
    finally:
        for p in procs:
            if p.poll() is None:
                _kill_tree(p)
                p.wait()
    total = max(ends) - start
    cpu = round(_children_cpu() - cpu_before, 3)
    results = []
    for p, end, log in zip(procs, ends, logs, strict=True):
        text = log.read_text(errors="replace") if log.exists() else ""
        log.unlink(missing_ok=True)
        results.append(
            CmdResult(wall_s=end - start, returncode=p.returncode or 0, memory={}, output=text, started_at=started_at)
        )
    return total, results, {"cpu_s": cpu, **watcher.memory()}


def measure_cmd(
    args: Sequence[str],
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    workdir: Path | None = None,
    timeout: float = 600,
) -> CmdResult:
    """Run one command to its end: wall time, exit code, output, peak memory of its tree."""
    total, (result,), memory = measure_cmds([args], env=env, cwd=cwd, workdir=workdir, timeout=timeout)
    result.wall_s, result.memory = total, memory
    return result


# --- series and A/B interleaving ------------------------------------------------------------------


def summary(values: Sequence[float], digits: int = 3) -> dict[str, float]:
    vals = list(values)
    return {
        "median": round(statistics.median(vals), digits),
        "min": round(min(vals), digits),
        "max": round(max(vals), digits),
        "n": len(vals),
    }


Sample = dict[str, Any]  # one counted run: at least {"wall_s": ...}


def interleave(
    label: str,
    a: tuple[str, Callable[[], Sample]],
    b: tuple[str, Callable[[], Sample]],
    mode: Mode,
    key: str = "wall_s",
) -> dict[str, Any]:
    """Warm-ups, then counted runs A B A B ...; per-pair ratios B/A on ``key``."""
    (name_a, run_a), (name_b, run_b) = a, b
    for i in range(mode.warmups):
        progress(f"{label}: warm-up {i + 1}/{mode.warmups} ({name_a}, {name_b})")
        run_a()
        run_b()
    samples_a: list[Sample] = []
    samples_b: list[Sample] = []
    for i in range(mode.runs):
        sa = run_a()
        samples_a.append(sa)
        sb = run_b()
        samples_b.append(sb)
        progress(
            f"{label}: run {i + 1}/{mode.runs}  {name_a} {sa[key]:.3f}s  {name_b} {sb[key]:.3f}s  "
            f"ratio {sb[key] / sa[key]:.3f}  load {loadavg()[0]:.1f}"
        )
    ratios = [sb[key] / sa[key] for sa, sb in zip(samples_a, samples_b, strict=True)]
    return {
        "a": name_a,
        "b": name_b,
        "key": key,
        "samples_a": samples_a,
        "samples_b": samples_b,
        "ratios": [round(r, 4) for r in ratios],
        "ratio": summary(ratios, 4),
    }


def series_summary(samples: Sequence[Sample]) -> dict[str, dict[str, float]]:
    """median/min/max of every numeric field of the samples."""
    keys = [k for k, v in samples[0].items() if isinstance(v, int | float) and not isinstance(v, bool)]
    return {k: summary([s[k] for s in samples]) for k in keys}


# --- output ---------------------------------------------------------------------------------------


def fmt_stat(stat: dict[str, float], unit: str = "", digits: int = 3) -> str:
    return f"{stat['median']:.{digits}f}{unit} [{stat['min']:.{digits}f}-{stat['max']:.{digits}f}]"


def table(title: str, header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    cells = [[str(c) for c in header]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    lines = [
        title,
        "  ".join(h.ljust(w) for h, w in zip(cells[0], widths, strict=True)),
        "  ".join("-" * w for w in widths),
    ]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in cells[1:]]
    return "\n".join(lines)


@dataclass
class Goal:
    name: str
    target: str
    measured: str
    met: bool | None  # None: not measured in this run

    def line(self) -> str:
        verdict = "met" if self.met else ("missed" if self.met is False else "not measured")
        return f"GOAL {verdict.upper():12} {self.name}: {self.measured} (goal {self.target})"


@dataclass
class BenchResult:
    name: str
    title: str
    data: dict[str, Any]
    tables: list[str] = field(default_factory=list)
    goals: list[Goal] = field(default_factory=list)
    duration_s: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "duration_s": round(self.duration_s, 1),
            "goals": [
                {
                    "name": g.name,
                    "target": g.target,
                    "measured": g.measured,
                    "verdict": "met" if g.met else ("missed" if g.met is False else "not measured"),
                }
                for g in self.goals
            ],
            "tables": self.tables,
            "data": self.data,
        }


def machine() -> dict[str, Any]:
    return {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "memory_mb": round(psutil.virtual_memory().total / MB),
        "loadavg": loadavg(),
    }


def write_results(
    results: list[BenchResult], mode: Mode, started: float, load_before: list[float], out_dir: Path = RESULTS_DIR
) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    doc = {
        "mode": "quick" if mode.quick else "full",
        "warmups": mode.warmups,
        "runs": mode.runs,
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(started)),
        "duration_s": round(time.time() - started, 1),
        "machine": {**machine(), "loadavg_before": load_before, "loadavg_after": loadavg()},
        "benchmarks": {r.name: r.to_dict() for r in results},
    }
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(started))
    path = out_dir / f"bench-{doc['mode']}-{stamp}.json"
    path.write_text(json.dumps(doc, indent=2, default=str))
    (out_dir / f"latest-{doc['mode']}.json").write_text(json.dumps(doc, indent=2, default=str))
    return path
