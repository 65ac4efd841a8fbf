"""Query-cache keys: what was asked and of whom, as one sha256 (never a password in it)."""

from __future__ import annotations

import hashlib
import inspect
import json
import os
import pickle
import sqlite3
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from nbreports.errors import CacheError

FORMAT = 1  # bump when keys or the entry layout change: old entries are then simply never found
_DBAPI_DIALECTS = {
    "psycopg2": "postgresql",
    "psycopg": "postgresql",
    "pg8000": "postgresql",
    "sqlite3": "sqlite",
    "pymysql": "mysql",
    "MySQLdb": "mysql",
    "duckdb": "duckdb",
}


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


def function_identity(fn: Any) -> dict[str, Any]:
    """The function's name and code: editing the function invalidates what it cached."""
    try:
        code = inspect.getsource(fn)
    except (OSError, TypeError):
        raw = getattr(fn, "__code__", None)
        code = repr((raw.co_code, raw.co_consts)) if raw is not None else ""
    name = f"{getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', repr(fn))}"
    return {"name": name, "code_sha256": hashlib.sha256(code.encode()).hexdigest()}
