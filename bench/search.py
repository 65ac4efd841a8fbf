"""Benchmark 7, search (issue 14): what indexing adds to a publish, a full reindex, queries over HTTP.

On SQLite (FTS5) and on PostgreSQL (``tsvector`` + GIN), each on a throw-away database:

1. Per publish, a 25-cell notebook's new version and its run (parameters, 5 scraps, text outputs):
   the search hooks a publish calls (``version_saved`` + ``run_published``: the version's cells, the
   run's documents, the report's) against the publish's own writes of the same run side by side
   (``add_version`` + ``update_run`` of the row), on the populated index.
2. ``search.rebuild.reindex`` over a small platform kept in a local store: documents/s, sources/s.
3. Queries at 10,000 versions and 100,000 runs (quick: 500 / 5,000), bulk-written (``search_data``),
   over HTTP: a minimal FastAPI app in this process (uvicorn in a thread) whose ``/search`` calls
   ``nbreports.search.search`` as the plugin's route does; the plugin's own app needs Airflow's auth.
   The viewer may view 40 of every 100 reports. Peer: ``/like``, the same query as a hand-written
   search would run it — ``body ILIKE '%word%'`` per term, the same report filter, count and a page.
"""

from __future__ import annotations

import contextlib
import statistics
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from bench.harness import BenchResult, Goal, Mode, progress, table
from bench.search_data import T0, Report, Words, content, fill, make_report, make_run
from bench.search_http import QUERIES, make_app, measure_queries, ms_since, serve
from bench.workspace import Workspace
from nbreports.history.versions import store_content
from nbreports.search import ReportFacts
from nbreports.search.hooks import run_published, version_saved
from nbreports.search.index import DOCUMENTS
from nbreports.search.rebuild import reindex
from nbreports.storage.database import PlatformDB
from nbreports.storage.store import Store, open_store
from tests.conftest import create_pg_database, drop_pg_database

GOAL_MS = 50.0


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(0.95 * len(ordered)) - 1))]


# --- per publish and reindex -----------------------------------------------------------------------


def publish_costs(db: PlatformDB, words: Words, n: int) -> dict[str, list[float]]:
    """``n`` publishes (after one warm-up): the publish's writes, then the search hooks, timed apart."""
    report = make_report(words, "publish_bench", n + 1)
    db.upsert_report(report.name, "Publish bench", "alice", "analytics", {"tags": ["bench"]}, [])
    times: dict[str, list[float]] = {"peer": [], "search": [], "version": [], "documents": []}
    for i in range(n + 1):
        sha, data = content(report.versions[i])
        record, nb, scraps = make_run(words, report, 50_000 + i, i)
        run_id = record["run_id"]
        db.start_run(
            run_id=run_id,
            report=report.name,
            status="running",
            parameters=record["parameters"],
            notebook_version=sha,
            executor="local",
            kernel="python3",
            started_at=record["started_at"],
        )
        start = time.perf_counter()
        db.add_version(report.name, sha, len(data), "python3", "run")
        end = record["started_at"] + timedelta(seconds=42)
        fields = {k: record.get(k) for k in ("status", "error", "failed_cell", "failure_kind")}
        db.update_run(run_id, ended_at=end, duration_s=42.0, scraps=scraps, output_uri=f"file:///o/{run_id}", **fields)
        peer = ms_since(start)
        start = time.perf_counter()
        indexed = version_saved(db, report.name, sha, data, end)
        version = ms_since(start)
        if not (indexed and run_published(db, report.name, run_id, nb, scraps)):
            raise RuntimeError(f"indexing publish {i} failed (see the log)")
        cost = ms_since(start)
        if i:
            times["peer"].append(peer)
            times["search"].append(cost)
            times["version"].append(version)
    with db.engine.connect() as conn:
        docs = conn.execute(sa.select(sa.func.count()).where(DOCUMENTS.c.report == report.name)).scalar_one()
    times["documents"].append(docs / (n + 1))
    return times


def _platform(db: PlatformDB, store: Store, words: Words, reports: int, versions: int, runs: int) -> None:
    """Versions in the store and their rows, finished runs with their output notebook and scraps."""
    for r in range(reports):
        report: Report = make_report(words, f"kept_{r:02d}", versions)
        db.upsert_report(report.name, report.name.title(), "alice", "analytics", {"tags": ["bench"]}, [])
        for i, nb in enumerate(report.versions):
            sha, data = content(nb)
            store_content(store, sha, data)
            db.add_version(report.name, sha, len(data), "python3", "bench", created_at=T0 + timedelta(days=3 * i))
        for j in range(runs):
            record, nb, scraps = make_run(words, report, j, j * versions // runs)
            run_id = record["run_id"]
            out = store.write_bytes(Store.run_key(report.name, run_id, "output.ipynb"), content(nb)[1])
            store.write_json(Store.run_key(report.name, run_id, "scraps.json"), scraps)
            db.start_run(
                **record,
                notebook_version=content(report.versions[j * versions // runs])[0],
                executor="local",
                kernel="python3",
                output_uri=out,
                scraps=scraps,
                ended_at=record["started_at"] + timedelta(seconds=42),
                duration_s=42.0,
            )


def reindex_rate(db: PlatformDB, store: Store, words: Words, sizes: tuple[int, int, int]) -> dict[str, float]:
    _platform(db, store, words, *sizes)
    shown = [0]

    def said(done: int, total: int) -> None:
        if done * 4 // total > shown[0]:
            shown[0] = done * 4 // total
            progress(f"  reindex {done:,}/{total:,} sources")

    start = time.perf_counter()
    outcome = reindex(db, store, said)
    seconds = time.perf_counter() - start
    with db.engine.connect() as conn:
        docs = conn.execute(sa.select(sa.func.count()).select_from(DOCUMENTS)).scalar_one()
    if outcome.failed:
        raise RuntimeError(f"reindex: {outcome.failed} sources failed")
    return {"sources": outcome.indexed, "documents": docs, "seconds": seconds}


# --- the benchmark ---------------------------------------------------------------------------------


@contextlib.contextmanager
def database(ws: Workspace, backend: str, name: str) -> Iterator[PlatformDB]:
    url = f"sqlite:///{ws.tmp / f'{name}.db'}" if backend == "sqlite" else create_pg_database(f"nbr_bench_{name}")
    db = PlatformDB(url)
    try:
        yield db
    finally:
        db.engine.dispose()
        if backend == "postgresql":
            drop_pg_database(url)


def one_backend(ws: Workspace, mode: Mode, backend: str) -> dict[str, Any]:
    reports, versions, runs = (20, 25, 250) if mode.quick else (100, 100, 1000)
    words = Words()
    out: dict[str, Any] = {}
    with database(ws, backend, "search") as db:
        progress(f"search/{backend}: writing {reports * versions:,} versions and {reports * runs:,} runs' documents")
        start = time.perf_counter()
        out["fill"] = fill(db, words, reports, versions, runs, progress)
        out["fill"]["seconds"] = round(time.perf_counter() - start, 1)
        progress(f"search/{backend}: {out['fill']['documents']:,} documents in {out['fill']['seconds']} s")
        viewable = [f"report_{r:03d}" for r in range(reports) if r % 5 in (0, 2)]  # 40 of 100
        facts = {n: ReportFacts(n, n.title(), "analytics", "alice", ("bench",)) for n in viewable}
        rounds, peer_rounds = (10, 2) if mode.quick else (20, 3)
        progress(f"search/{backend}: {len(QUERIES)} queries x {rounds} over HTTP, the LIKE peer x {peer_rounds}")
        with serve(make_app(db, facts)) as base:
            out["queries"] = measure_queries(base, words.rare, rounds, peer_rounds)
        publishes = 20 if mode.quick else 100
        progress(f"search/{backend}: {publishes} publishes indexed on the populated index")
        out["publish"] = publish_costs(db, words, publishes)
    kept = (2, 5, 20) if mode.quick else (5, 20, 200)
    with database(ws, backend, "reindex") as db:
        progress(f"search/{backend}: reindex of {kept[0] * kept[1]} versions and {kept[0] * kept[2]} runs in a store")
        out["reindex"] = reindex_rate(db, open_store(str(ws.tmp / f"store-{backend}")), words, kept)
    return out


def _pg_reachable() -> bool:
    try:
        drop_pg_database(create_pg_database("nbr_bench_probe"))
        return True
    except (AssertionError, sa.exc.OperationalError) as exc:
        progress(f"search: PostgreSQL unreachable, measured on SQLite only: {exc}")
        return False


def _rows(results: dict[str, dict[str, Any]]) -> tuple[list[list[Any]], list[list[Any]], list[list[Any]]]:
    publish, rebuild, queries = [], [], []
    for backend, r in results.items():
        pub = r["publish"]
        ratio = statistics.median(s / p for s, p in zip(pub["search"], pub["peer"], strict=True))
        publish.append(
            [
                backend,
                len(pub["search"]),
                f"{pub['documents'][0]:.0f}",
                f"{statistics.median(pub['search']):.1f}",
                f"{p95(pub['search']):.1f}",
                f"{statistics.median(pub['version']):.1f}",
                f"{statistics.median(pub['peer']):.1f}",
                f"{p95(pub['peer']):.1f}",
                f"{ratio:.2f}x",
            ]
        )
        re_ = r["reindex"]
        rebuild.append(
            [
                backend,
                re_["sources"],
                re_["documents"],
                f"{re_['seconds']:.1f}",
                f"{re_['documents'] / re_['seconds']:,.0f}",
                f"{re_['sources'] / re_['seconds']:,.0f}",
            ]
        )
        every: list[float] = []
        for label, q in r["queries"].items():
            every += q["search"]
            like = statistics.median(q["like"])
            queries.append(
                [
                    backend,
                    label,
                    q["q"],
                    f"{q['total']:,}",
                    f"{statistics.median(q['search']):.1f}",
                    f"{p95(q['search']):.1f}",
                    f"{like:.1f}",
                    f"{like / statistics.median(q['search']):.1f}x",
                    "" if q["like_total"] == q["total"] else f"{q['like_total']:,}",
                ]
            )
        queries.append([backend, "all", "", "", f"{statistics.median(every):.1f}", f"{p95(every):.1f}", "", "", ""])
    return publish, rebuild, queries


def run(ws: Workspace, mode: Mode) -> BenchResult:
    backends = ["sqlite", *(["postgresql"] if _pg_reachable() else [])]
    results = {b: one_backend(ws, mode, b) for b in backends}
    publish, rebuild, queries = _rows(results)
    size = results["sqlite"]["fill"]
    scale = f"{size['versions']:,} versions, {size['runs']:,} runs, {size['documents']:,} documents"
    tables = [
        table(
            "Search: indexing per publish (version_saved + run_published) vs the publish's own writes of it "
            "(add_version + update_run), ms, on the populated index",
            [
                "backend",
                "publishes",
                "new docs each",
                "index p50",
                "index p95",
                "of it version p50",
                "writes p50",
                "writes p95",
                "index/writes",
            ],
            publish,
        ),
        table(
            "Search: full reindex (search.rebuild.reindex) from a local store",
            ["backend", "sources", "documents", "seconds", "documents/s", "sources/s"],
            rebuild,
        ),
        table(
            f"Search: queries over HTTP (FastAPI + uvicorn in the bench, not the plugin's app) at {scale}; "
            f"viewer sees 40% of reports; ms; peer: the same terms as ILIKE '%..%' scans, the same filters",
            ["backend", "query", "q", "hits", "p50", "p95", "LIKE p50", "LIKE/search", "LIKE hits if other"],
            queries,
        ),
    ]
    goals = []
    for backend, r in results.items():
        pub = p95(r["publish"]["search"])
        goals.append(
            Goal(
                f"search indexing per publish ({backend})",
                f"p95 < {GOAL_MS:.0f} ms",
                f"p95 {pub:.1f} ms",
                pub < GOAL_MS,
            )
        )
        every = [t for q in r["queries"].values() for t in q["search"]]
        worst = max(r["queries"].items(), key=lambda item: p95(item[1]["search"]))
        goals.append(
            Goal(
                f"search query p95 over HTTP at 10,000 versions / 100,000 runs ({backend})",
                f"p95 < {GOAL_MS:.0f} ms",
                f"p95 {p95(every):.1f} ms, all queries at {scale}; worst {worst[0]!r} {p95(worst[1]['search']):.1f} ms",
                None if mode.quick else p95(every) < GOAL_MS,
            )
        )
    return BenchResult("search", "Search", results, tables, goals)
