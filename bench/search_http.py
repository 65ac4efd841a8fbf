"""The query half of ``bench/search.py``: a minimal search app over HTTP, its LIKE peer, timing both.

The plugin's own app (``plugins/nbreports_ui/search_api.py``) needs Airflow's auth manager, so the
benchmark serves ``nbreports.search.search`` the way that route calls it, from a FastAPI app run by
uvicorn in a thread of the benchmark's process, and times requests with httpx.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import sqlalchemy as sa
import uvicorn
from fastapi import FastAPI

from nbreports.search import ReportFacts, parse_query, search
from nbreports.search.find import _conditions
from nbreports.search.index import DOCUMENTS
from nbreports.search.query import Term
from nbreports.storage.database import PlatformDB
from tests.conftest import free_port

QUERIES = (
    ("rare word", "{rare}"),
    ("common word", "revenue"),
    ("phrase", '"net margin"'),
    ("prefix", "quart*"),
    ("kind: + after:", "orders kind:code after:2025-02-15"),
    ("status: + kind:", "columns status:failed kind:error"),
    ("OR, -exclusion", "bookings OR churn -forecast"),
)


def ms_since(start: float) -> float:
    return (time.perf_counter() - start) * 1000


# --- the peer: a hand-written LIKE search ----------------------------------------------------------


def _like(term: Term) -> sa.ColumnElement[bool]:
    return DOCUMENTS.c.body.ilike("%" + " ".join(term.words) + "%")


def like_page(db: PlatformDB, text: str, reports: list[str], page: int = 1, per_page: int = 20) -> dict[str, Any]:
    """The query's terms as ``ILIKE`` scans of ``body``, the same reports and filters: count, a page, newest first."""
    query = parse_query(text)
    where = _conditions(query.filters, reports)  # the core's own report, kind, status and date conditions
    where += [sa.or_(*(_like(t) for t in group)) for group in query.groups]
    where += [sa.not_(_like(t)) for t in query.excluded]
    with db.engine.connect() as conn:
        total = conn.execute(sa.select(sa.func.count()).select_from(DOCUMENTS).where(*where)).scalar_one()
        cols = (DOCUMENTS.c.report, DOCUMENTS.c.kind, DOCUMENTS.c.run_id, DOCUMENTS.c.version, DOCUMENTS.c.body)
        stmt = sa.select(*cols).where(*where).order_by(DOCUMENTS.c.at.desc()).limit(per_page)
        hits = [{**r._mapping, "body": r.body[:200]} for r in conn.execute(stmt.offset((page - 1) * per_page))]
    return {"total": total, "page": page, "hits": hits}


# --- the HTTP side ---------------------------------------------------------------------------------


def make_app(db: PlatformDB, facts: dict[str, ReportFacts]) -> FastAPI:
    app = FastAPI()

    @app.get("/search")
    def _search(q: str, page: int = 1) -> dict[str, Any]:
        return search(db, q, facts, page=page).to_dict()

    @app.get("/like")
    def _like_route(q: str, page: int = 1) -> dict[str, Any]:
        return like_page(db, q, sorted(facts), page)

    return app


@contextlib.contextmanager
def serve(app: FastAPI) -> Iterator[str]:
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the search bench's uvicorn server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)


def measure_queries(
    base: str, rare: str, rounds: int, peer_rounds: int, budget_s: float = 10.0
) -> dict[str, dict[str, Any]]:
    """Each query ``rounds`` times (fewer, at least 10, once one has taken ``budget_s``), its LIKE peer
    beside it in the first ``peer_rounds`` rounds."""
    found: dict[str, dict[str, Any]] = {}
    with httpx.Client(base_url=base, timeout=300) as client:

        def get(path: str, q: str) -> tuple[float, int]:
            start = time.perf_counter()
            resp = client.get(path, params={"q": q})
            resp.raise_for_status()
            return ms_since(start), int(resp.json()["total"])

        for label, template in QUERIES:  # warm-up: connections, caches, the server's first requests
            q = template.format(rare=rare)
            found[label] = {"q": q, "search": [], "like": [], "total": get("/search", q)[1]}
            found[label]["like_total"] = get("/like", q)[1]
        for i in range(rounds):
            for row in found.values():
                if i >= 10 and sum(row["search"]) > budget_s * 1000:
                    continue
                row["search"].append(get("/search", row["q"])[0])
                if i < peer_rounds:
                    row["like"].append(get("/like", row["q"])[0])
    return found
