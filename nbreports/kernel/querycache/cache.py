"""Query-result cache for notebook authors: run a warehouse query (or any function) once a week, not
once a run.

Inside a report notebook::

    from nbreports.kernel.querycache.cache import cached, cached_query
    sales = cached_query(engine, "select * from sales where region = %(r)s", {"r": region})
    model = cached(fit_model, sales, alpha=0.1)

Results live in the store under ``querycache/<sha256>.parquet`` (DataFrames) or ``.pickle`` (anything
else). The key is the connection identity (dialect, host, port, database, user — never the password),
the query text and the bound parameters, so two reports asking the same question share the answer.

Why it can be trusted:

* every entry carries its own key and expiry: an entry for another key or past its expiry is never
  served, whatever the bucket lifecycle or sweep has (not yet) done;
* Parquet entries are written with page checksums and their row count, pickles with a sha256 of the
  payload: a truncated or flipped entry is detected, counted as ``corrupt`` and recomputed;
* writes go through ``Store.write_bytes`` (atomic rename locally, one PUT on S3), so a reader sees an
  old entry or a new one, never half of one, and two kernels computing the same entry both win.

Hits, misses and bytes of a run are written to ``runs/<report>/<run_id>/query_cache.json`` when the
engine sets ``NBREPORTS_REPORT`` and ``NBREPORTS_RUN_ID`` (publish copies it into the run's metrics).
Pickled entries are loaded with ``pickle``: the store must be as trusted as the notebooks themselves.
"""

from __future__ import annotations

import contextlib
import hashlib
import inspect
import io
import json
import logging
import os
import pickle
import sqlite3
import threading
from dataclasses import asdict, dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import IO, Any

from nbreports.errors import CacheError, CorruptObjectError, StoreError
from nbreports.settings import Settings, get_settings
from nbreports.storage.store import Store, open_store

logger = logging.getLogger(__name__)

PREFIX = "querycache"
FORMAT = 1  # bump when keys or the entry layout change: old entries are then simply never found
PARQUET_META = b"nbreports.querycache"
PICKLE_MAGIC = b"NBRQC1\n"
_DBAPI_DIALECTS = {
    "psycopg2": "postgresql",
    "psycopg": "postgresql",
    "pg8000": "postgresql",
    "sqlite3": "sqlite",
    "pymysql": "mysql",
    "MySQLdb": "mysql",
    "duckdb": "duckdb",
}


# -- keys ---------------------------------------------------------------------------------------------
def _canonical(value: Any) -> Any:
    """A JSON form of ``value`` that is equal exactly when the values are (1 and 1.0 and '1' differ)."""
    if value is None or isinstance(value, str | bool | int | float):
        return value
    if isinstance(value, dict):
        return {
            "__dict__": sorted([json.dumps(_canonical(k), sort_keys=True), _canonical(v)] for k, v in value.items())
        }
    if isinstance(value, list | tuple):
        return [_canonical(v) for v in value]
    if isinstance(value, set | frozenset):
        return {"__set__": sorted(json.dumps(_canonical(v), sort_keys=True) for v in value)}
    if isinstance(value, datetime | date | time):
        return {"__type__": type(value).__name__, "v": value.isoformat()}
    if isinstance(value, Decimal):
        return {"__type__": "Decimal", "v": str(value)}
    if isinstance(value, bytes):
        return {"__type__": "bytes", "sha256": hashlib.sha256(value).hexdigest()}
    try:
        import pandas as pd

        if isinstance(value, pd.DataFrame | pd.Series):
            hashed = pd.util.hash_pandas_object(value, index=True).to_numpy().tobytes()
            columns = [str(c) for c in value.columns] if isinstance(value, pd.DataFrame) else [str(value.name)]
            return {"__type__": type(value).__name__, "columns": columns, "sha256": hashlib.sha256(hashed).hexdigest()}
    except ImportError:  # pragma: no cover - pandas is part of the kernel image
        pass
    try:
        payload = pickle.dumps(value, protocol=5)
    except Exception as exc:
        raise CacheError(f"cannot derive a cache key from a {type(value).__name__}: {exc}") from exc
    return {
        "__type__": f"{type(value).__module__}.{type(value).__qualname__}",
        "sha256": hashlib.sha256(payload).hexdigest(),
    }


def digest(material: dict[str, Any]) -> str:
    """The sha256 naming an entry; ``material`` says what was asked, and of whom."""
    text = json.dumps({"format": FORMAT, **_canonical_top(material)}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def _canonical_top(material: dict[str, Any]) -> dict[str, Any]:
    return {k: _canonical(v) for k, v in material.items()}


def _url_identity(url: Any) -> dict[str, Any]:
    database = url.database
    if url.get_backend_name() == "sqlite":
        if not database or database == ":memory:":
            raise CacheError("an in-memory SQLite database has no identity that outlives it: nothing is cached")
        database = os.path.abspath(database)
    return {
        "dialect": url.get_backend_name(),
        "host": url.host,
        "port": url.port,
        "database": database,
        "user": url.username,
    }


def connection_identity(conn: Any) -> dict[str, Any]:
    """Who answers a query: dialect, host, port, database and user — never the password.

    Raises ``CacheError`` when ``conn`` does not say, rather than risk serving one database's answer
    for another's (pass ``identity=`` to ``cached_query`` then).
    """
    try:
        import sqlalchemy as sa

        if isinstance(conn, sa.Engine):
            return _url_identity(conn.url)
        if isinstance(conn, sa.Connection):
            return _url_identity(conn.engine.url)
    except ImportError:  # pragma: no cover - SQLAlchemy is a core dependency
        pass
    module = type(conn).__module__.split(".")[0]
    dialect = _DBAPI_DIALECTS.get(module, module)
    if isinstance(conn, sqlite3.Connection):
        files = [row[2] for row in conn.execute("PRAGMA database_list") if row[1] == "main"]
        if not files or not files[0]:
            raise CacheError("an in-memory SQLite database has no identity that outlives it: nothing is cached")
        return {"dialect": "sqlite", "host": None, "port": None, "database": os.path.abspath(files[0]), "user": None}
    info = getattr(conn, "info", None)  # psycopg 3 and psycopg2 >= 2.8
    if info is not None and hasattr(info, "dbname"):
        port = getattr(info, "port", None)
        return {
            "dialect": dialect,
            "host": getattr(info, "host", None),
            "port": int(port) if port else None,
            "database": info.dbname,
            "user": getattr(info, "user", None),
        }
    raise CacheError(
        f"cannot tell which database a {type(conn).__qualname__} connection reaches; "
        "pass identity='<dialect://user@host:port/database>' to cached_query"
    )


def _function_identity(fn: Any) -> dict[str, Any]:
    """The function's name and code: editing the function invalidates what it cached."""
    try:
        code = inspect.getsource(fn)
    except (OSError, TypeError):
        raw = getattr(fn, "__code__", None)
        code = repr((raw.co_code, raw.co_consts)) if raw is not None else ""
    name = f"{getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', repr(fn))}"
    return {"name": name, "code_sha256": hashlib.sha256(code.encode()).hexdigest()}


# -- entries ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class EntryMeta:
    key: str
    kind: str  # "parquet" or "pickle"
    created_at: datetime
    expires_at: datetime
    rows: int | None = None
    columns: list[str] | None = None  # names and dtypes as written: a flipped bit in the schema shows
    dtypes: list[str] | None = None
    values_sha256: str | None = None  # of the values and index: whatever the page checksums miss

    def to_json(self) -> bytes:
        data = asdict(self)
        data["created_at"], data["expires_at"] = self.created_at.isoformat(), self.expires_at.isoformat()
        return json.dumps(data).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> EntryMeta:
        data = json.loads(raw)
        return cls(
            key=data["key"],
            kind=data["kind"],
            created_at=datetime.fromisoformat(data["created_at"]),
            expires_at=datetime.fromisoformat(data["expires_at"]),
            rows=data.get("rows"),
            columns=data.get("columns"),
            dtypes=data.get("dtypes"),
            values_sha256=data.get("values_sha256"),
        )


def _schema(df: Any) -> tuple[list[str], list[str], str | None]:
    """Column names, dtypes and a hash of the values and index of ``df``, as a reader sees them."""
    import pandas as pd

    try:
        hashed = pd.util.hash_pandas_object(df, index=True).to_numpy().tobytes()
    except TypeError:  # unhashable cells (lists, dicts): names, types and page checksums must do
        return [str(c) for c in df.columns], [str(t) for t in df.dtypes], None
    return [str(c) for c in df.columns], [str(t) for t in df.dtypes], hashlib.sha256(hashed).hexdigest()


def encode_parquet(df: Any, meta: EntryMeta) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(df)
    columns, dtypes, values_sha = _schema(table.to_pandas())  # as a reader will see them
    meta = replace(meta, columns=columns, dtypes=dtypes, values_sha256=values_sha)
    table = table.replace_schema_metadata({**(table.schema.metadata or {}), PARQUET_META: meta.to_json()})
    buf = io.BytesIO()
    pq.write_table(table, buf, write_page_checksum=True)
    return buf.getvalue()


def encode_pickle(value: Any, meta: EntryMeta) -> bytes:
    payload = pickle.dumps(value, protocol=5)
    header = json.loads(meta.to_json())
    header.update(sha256=hashlib.sha256(payload).hexdigest(), size=len(payload))
    return PICKLE_MAGIC + json.dumps(header).encode() + b"\n" + payload


def decode(data: bytes, key: str) -> tuple[Any, EntryMeta]:
    """The value of an entry and its metadata; ``CorruptObjectError`` for anything not intact."""
    try:
        if data.startswith(PICKLE_MAGIC):
            header_raw, _, payload = data[len(PICKLE_MAGIC) :].partition(b"\n")
            header = json.loads(header_raw)
            if len(payload) != header["size"] or hashlib.sha256(payload).hexdigest() != header["sha256"]:
                raise CorruptObjectError(f"query-cache entry {key}: payload does not match its sha256")
            meta = EntryMeta.from_json(header_raw)
            value = pickle.loads(payload)
        else:
            import pyarrow.parquet as pq

            table = pq.read_table(io.BytesIO(data), page_checksum_verification=True)
            meta = EntryMeta.from_json((table.schema.metadata or {})[PARQUET_META])
            if meta.rows != table.num_rows:
                raise CorruptObjectError(f"query-cache entry {key}: {table.num_rows} rows, {meta.rows} written")
            value = table.to_pandas()
            if (meta.columns, meta.dtypes, meta.values_sha256) != _schema(value):
                raise CorruptObjectError(f"query-cache entry {key}: columns or types differ from those written")
    except CorruptObjectError:
        raise
    except Exception as exc:  # pyarrow, json, pickle and KeyError all mean: not an intact entry
        raise CorruptObjectError(f"query-cache entry {key} is not intact: {type(exc).__name__}: {exc}") from exc
    if meta.key != key:
        raise CorruptObjectError(f"query-cache entry {key} holds the result of {meta.key}")
    return value, meta


def read_meta(fh: IO[bytes]) -> EntryMeta:
    """An entry's metadata from its header (pickle) or footer (Parquet), without reading the payload."""
    try:
        head = fh.read(len(PICKLE_MAGIC))
        if head == PICKLE_MAGIC:
            return EntryMeta.from_json(fh.readline())
        import pyarrow.parquet as pq

        fh.seek(0)
        return EntryMeta.from_json((pq.read_schema(fh).metadata or {})[PARQUET_META])
    except Exception as exc:
        raise CorruptObjectError(f"not an intact query-cache entry: {type(exc).__name__}: {exc}") from exc


# -- the cache ----------------------------------------------------------------------------------------
@dataclass
class CacheStats:
    hits: int = 0
    misses: int = 0
    expired: int = 0  # misses because the entry was past its expiry
    corrupt: int = 0  # misses because the entry was not intact (it is recomputed)
    bytes_read: int = 0
    bytes_written: int = 0


_MISSING = object()


class QueryCache:
    """Entries in ``store``; counts of this run written to ``runs/<report>/<run_id>/query_cache.json``."""

    def __init__(self, store: Store, ttl: timedelta, report: str | None = None, run_id: str | None = None) -> None:
        self.store = store
        self.ttl = ttl
        self.report, self.run_id = report, run_id
        self.stats = CacheStats()
        self._lock = threading.Lock()
        if self._stats_key:
            with contextlib.suppress(StoreError, TypeError, ValueError):  # a restarted kernel keeps counting
                self.stats = CacheStats(**store.read_json(self._stats_key))

    @classmethod
    def from_env(cls, settings: Settings | None = None) -> QueryCache:
        settings = settings or get_settings()
        return cls(
            open_store(settings.resolved_store_url, settings.store_options),
            timedelta(days=settings.query_cache_ttl_days),
            settings.report or None,
            settings.run_id or None,
        )

    @property
    def _stats_key(self) -> str | None:
        if self.report and self.run_id:
            return Store.run_key(self.report, self.run_id, "query_cache.json")
        return None

    def _count(self, **deltas: int) -> None:
        with self._lock:
            for name, delta in deltas.items():
                setattr(self.stats, name, getattr(self.stats, name) + delta)
            snapshot = asdict(self.stats)
        if self._stats_key:
            self.store.write_json(self._stats_key, snapshot)

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

    def _store_value(self, key: str, value: Any, ttl: timedelta | None, parquet: bool) -> None:
        now = datetime.now(UTC)
        meta = EntryMeta(
            key=key,
            kind="parquet" if parquet else "pickle",
            created_at=now,
            expires_at=now + (ttl or self.ttl),
            rows=len(value) if parquet else None,
        )
        if parquet:
            try:
                data = encode_parquet(value, meta)
                name = f"{PREFIX}/{key}.parquet"
            except Exception as exc:  # e.g. mixed-type object columns: still cacheable as a pickle
                logger.info("query cache: %s is kept as a pickle (%s)", key[:12], exc)
                parquet = False
        if not parquet:
            meta = EntryMeta(key=key, kind="pickle", created_at=now, expires_at=meta.expires_at)
            data, name = encode_pickle(value, meta), f"{PREFIX}/{key}.pickle"
        self.store.write_bytes(name, data)
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
            self._store_value(key, value, ttl, parquet=True)
        return value

    def call(self, fn: Any, args: tuple[Any, ...], kwargs: dict[str, Any], ttl: timedelta | None = None) -> Any:
        """``fn(*args, **kwargs)``, from the cache when fresh."""
        import pandas as pd

        key = digest({"kind": "call", "fn": _function_identity(fn), "args": list(args), "kwargs": kwargs})
        for name in (f"{PREFIX}/{key}.parquet", f"{PREFIX}/{key}.pickle"):
            value = self._load(key, name)
            if value is not _MISSING:
                return value
        value = fn(*args, **kwargs)
        self._store_value(key, value, ttl, parquet=isinstance(value, pd.DataFrame))
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
