"""Query-result cache for notebook authors: a warehouse query (or any function) once a week, not once a run.

Inside a report notebook::

    from nbreports.querycache import cached, cached_query
    sales = cached_query(engine, "select * from sales where region = %(r)s", {"r": region})
    model = cached(fit_model, sales, alpha=0.1)

Results live in the store under ``querycache/<sha256>.parquet`` (DataFrames) or ``.json`` (dicts, lists,
tuples, sets, numbers, strings, dates, Decimals, bytes: ``jsonvalues``). The key is the connection identity
(dialect, host, port, database, user — never the password), the query text and the bound parameters, so
two reports asking the same question share the answer.

Never a pickle: every team's kernels write to this one prefix, and unpickling runs what the writer put in
it. A value that is neither a DataFrame nor JSON-like (a fitted model, an arbitrary object), or a frame
Parquet cannot hold (mixed-type object columns), is not cached: the function runs, its value is returned,
one warning per key says why, and the run's ``uncached`` count goes up. Raising instead would break a
notebook that only wanted to be faster. Pickles earlier versions wrote are never read (a miss; the sweep
removes them).

Why it can be trusted:

* every entry carries its own key and expiry: an entry for another key or past its expiry is never
  served, whatever the bucket lifecycle or sweep has (not yet) done;
* Parquet entries are written with page checksums and their row count, JSON entries with a sha256 of
  the payload: a truncated or flipped entry is detected, counted as ``corrupt`` and recomputed;
* writes go through ``Store.write_bytes`` (atomic rename locally, one PUT on S3), so a reader sees an
  old entry or a new one, never half of one, and two kernels computing the same entry both win.

Hits, misses and bytes of a run are the ``query_cache`` section of ``runs/<report>/<run_id>/kernel.json``
when the engine sets ``NBREPORTS_REPORT`` and ``NBREPORTS_RUN_ID`` (``nbreports.kernel.report``; publish
records them as the run's metrics: the kernel itself never reaches the platform database).
"""

from __future__ import annotations

import contextlib
import logging
import threading
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from nbreports.errors import CacheError, CorruptObjectError, StoreError
from nbreports.kernel.querycache.entries import EntryMeta, decode, encode_json, encode_parquet
from nbreports.kernel.querycache.keys import connection_identity, digest, function_identity
from nbreports.kernel.report import KernelReport, current_report
from nbreports.settings import Settings, get_settings
from nbreports.storage.store import Store, open_store

logger = logging.getLogger(__name__)

PREFIX = "querycache"
SECTION = "query_cache"  # of the run's kernel.json


@dataclass
class CacheStats:
    """The cache's hits, misses and bytes in this run, as ``kernel.json``'s ``query_cache`` section holds them."""

    hits: int = 0
    misses: int = 0
    expired: int = 0  # misses because the entry was past its expiry
    corrupt: int = 0  # misses because the entry was not intact (it is recomputed)
    uncached: int = 0  # results computed and not kept: neither a DataFrame Parquet holds nor JSON-like
    bytes_read: int = 0
    bytes_written: int = 0


_MISSING = object()


class QueryCache:
    """Entries in ``store``; counts of this run in ``runs/<report>/<run_id>/kernel.json`` (``query_cache``)."""

    def __init__(
        self,
        store: Store,
        ttl: timedelta,
        report: str | None = None,
        run_id: str | None = None,
        kernel_report: KernelReport | None = None,
    ) -> None:
        self.store = store
        self.ttl = ttl
        self.report, self.run_id = report, run_id
        self.stats = CacheStats()
        self._lock = threading.Lock()
        self._warned: set[str] = set()  # keys whose result could not be kept: warned once
        self._report = kernel_report or (KernelReport(store, report, run_id) if report and run_id else None)
        if self._report:
            with contextlib.suppress(TypeError):  # a restarted kernel keeps counting
                self.stats = CacheStats(**(self._report.get(SECTION) or {}))

    @classmethod
    def from_env(cls, settings: Settings | None = None) -> QueryCache:
        """The cache of the settings' store and TTL, counting for the run the engine named."""
        settings = settings or get_settings()
        return cls(
            open_store(settings.resolved_store_url, settings.store_options),
            timedelta(days=settings.query_cache_ttl_days),
            settings.report or None,
            settings.run_id or None,
            current_report(),  # shared with the kernel's other helpers: one kernel.json per run
        )

    def _count(self, **deltas: int) -> None:
        with self._lock:
            for name, delta in deltas.items():
                setattr(self.stats, name, getattr(self.stats, name) + delta)
            snapshot = asdict(self.stats)
        if self._report:
            self._report.put(SECTION, snapshot)

    def _load(self, key: str, name: str) -> Any:
        try:
            data = self.store.read_bytes(name)
        except StoreError as exc:
            if not isinstance(exc.__cause__, FileNotFoundError):
                logger.warning("query cache: %s; computing instead", exc)
            return _MISSING
        try:
            value, meta = decode(data, key)
        except CorruptObjectError as exc:
            logger.warning("query cache: %s; recomputing", exc)
            self._count(corrupt=1)
            self._remove(name)
            return _MISSING
        if meta.expires_at <= datetime.now(UTC):
            self._count(expired=1)
            return _MISSING
        self._count(hits=1, bytes_read=len(data))
        return value

    def _remove(self, name: str) -> None:
        with contextlib.suppress(OSError):  # the next write replaces it anyway
            self.store.fs.rm_file(f"{self.store.root}/{name}")

    def _store_value(self, key: str, value: Any, ttl: timedelta | None, label: str) -> None:
        """Keep ``value`` as Parquet (a DataFrame) or JSON; anything else is counted ``uncached`` and warned once."""
        import pandas as pd

        now = datetime.now(UTC)
        frame = isinstance(value, pd.DataFrame)
        meta = EntryMeta(
            key=key,
            kind="parquet" if frame else "json",
            created_at=now,
            expires_at=now + (ttl or self.ttl),
            rows=len(value) if frame else None,
        )
        try:
            data = encode_parquet(value, meta) if frame else encode_json(value, meta)
        except Exception as exc:  # CacheError, or pyarrow refusing e.g. a mixed-type object column
            self._count(misses=1, uncached=1)
            if key not in self._warned:
                self._warned.add(key)
                reason = exc if isinstance(exc, CacheError) else f"Parquet cannot hold this frame: {exc}"
                logger.warning("query cache: %s not cached (%s)", label, reason)
            return
        self.store.write_bytes(f"{PREFIX}/{key}.{meta.kind}", data)
        self._count(misses=1, bytes_written=len(data))

    def query(
        self, conn: Any, sql: Any, params: Any = None, *, ttl: timedelta | None = None, identity: str | None = None
    ) -> Any:
        """The result of ``sql`` with ``params`` on ``conn`` as a DataFrame, from the cache when fresh."""
        who = identity or connection_identity(conn)
        key = digest({"kind": "sql", "conn": who, "sql": str(sql), "params": params})
        value = self._load(key, f"{PREFIX}/{key}.parquet")
        if value is _MISSING:
            value = run_query(conn, sql, params)
            self._store_value(key, value, ttl, f"query {key[:12]}")
        return value

    def call(self, fn: Any, args: tuple[Any, ...], kwargs: dict[str, Any], ttl: timedelta | None = None) -> Any:
        """``fn(*args, **kwargs)``, from the cache when fresh (never from a pickle)."""
        key = digest({"kind": "call", "fn": function_identity(fn), "args": list(args), "kwargs": kwargs})
        for name in (f"{PREFIX}/{key}.parquet", f"{PREFIX}/{key}.json"):
            value = self._load(key, name)
            if value is not _MISSING:
                return value
        value = fn(*args, **kwargs)
        self._store_value(key, value, ttl, f"{getattr(fn, '__qualname__', 'the function')}(...)")
        return value


def run_query(conn: Any, sql: Any, params: Any = None) -> Any:
    """Run ``sql`` on a SQLAlchemy engine/connection or a DB-API connection; a DataFrame of the rows."""
    import pandas as pd
    import sqlalchemy as sa

    if isinstance(conn, sa.Engine):
        with conn.connect() as connection:
            return run_query(connection, sql, params)
    if isinstance(conn, sa.Connection):
        statement = sa.text(sql) if isinstance(sql, str) else sql
        result = conn.execute(statement, params or {})
        return pd.DataFrame([tuple(row) for row in result.fetchall()], columns=list(result.keys()))
    cursor = conn.cursor()
    try:
        if params is None:
            cursor.execute(sql)
        else:
            cursor.execute(sql, params)
        columns = [d[0] for d in cursor.description or []]
        return pd.DataFrame([tuple(row) for row in cursor.fetchall()], columns=columns)
    finally:
        cursor.close()


_default: QueryCache | None = None
_default_lock = threading.Lock()


def default_cache() -> QueryCache:
    """The cache of this kernel, from ``NBREPORTS_*`` variables the engine sets."""
    global _default
    with _default_lock:
        if _default is None:
            _default = QueryCache.from_env()
        return _default


def cached_query(
    conn: Any, sql: Any, params: Any = None, ttl: timedelta | None = None, identity: str | None = None
) -> Any:
    """Run ``sql`` once per ``ttl`` (default: the ``query_cache_ttl_days`` setting); a pandas DataFrame."""
    return default_cache().query(conn, sql, params, ttl=ttl, identity=identity)


def cached(fn: Any, *args: Any, ttl: timedelta | None = None, **kwargs: Any) -> Any:
    """``fn(*args, **kwargs)`` once per ``ttl``; the keyword ``ttl`` is the cache's, not ``fn``'s."""
    return default_cache().call(fn, args, kwargs, ttl=ttl)
