"""What the capacity plan measures with: PostgreSQL databases and their sizes, an S3 endpoint and its objects.

* ``create_database`` / ``drop_database``: a fresh PostgreSQL database named ``nbr_capacity_<what>_<hex>``.
* ``snapshot``: per table of the ``public`` schema its exact row count and ``pg_total_relation_size``
  (heap + TOAST + every index), with ``pg_database_size``; ``delta`` subtracts two snapshots.
* ``moto_endpoint``: moto's threaded HTTP server on a free localhost port with a bucket ``reports``
  (as tests/conftest.py's ``s3_server`` fixture starts it); ``list_objects`` sizes a prefix in it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import uuid
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa

PG_ADMIN_URL = os.environ.get("NBREPORTS_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
PREFIX = "nbr_capacity_"
BUCKET = "reports"


def create_database(what: str) -> str:
    """A new empty database; its URL (``postgresql://``)."""
    name = f"{PREFIX}{what}_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


def drop_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    if not name.startswith(PREFIX):
        raise ValueError(f"refusing to drop {name}: not one of the capacity plan's databases")
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


TABLES_SQL = """
SELECT c.relname, pg_total_relation_size(c.oid), pg_relation_size(c.oid), pg_indexes_size(c.oid)
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')
ORDER BY c.relname
"""


def snapshot(url: str) -> dict[str, Any]:
    """Rows and bytes of every table: ``bytes`` is ``pg_total_relation_size`` (heap, TOAST and indexes,
    in whole 8 KiB pages), ``heap`` the main fork, ``indexes`` ``pg_indexes_size``, ``data`` the sum
    of ``pg_column_size`` of its rows (the tuples' own bytes, compressed values as stored, no page slack)."""
    engine = sa.create_engine(url.replace("postgresql+psycopg2://", "postgresql://"))
    try:
        with engine.connect() as conn:
            tables: dict[str, dict[str, int]] = {}
            for name, total, heap, indexes in conn.execute(sa.text(TABLES_SQL)).all():
                # a table name read from pg_class, not input
                count = f'SELECT count(*), coalesce(sum(pg_column_size(t.*)), 0) FROM "{name}" t'  # noqa: S608
                rows, data = conn.execute(sa.text(count)).one()
                tables[name] = {
                    "rows": int(rows),
                    "bytes": int(total),
                    "heap": int(heap),
                    "indexes": int(indexes),
                    "data": int(data),
                }
            db_bytes = conn.execute(sa.text("SELECT pg_database_size(current_database())")).scalar_one()
    finally:
        engine.dispose()
    return {"tables": tables, "database_bytes": int(db_bytes)}


def delta(before: dict[str, Any], after: dict[str, Any], runs: int) -> dict[str, Any]:
    """Per run: rows and bytes each table grew by (``after - before`` over ``runs``), and the database's."""
    tables = {}
    for name, a in after["tables"].items():
        b = before["tables"].get(name, dict.fromkeys(a, 0))
        d_rows, d_bytes = a["rows"] - b["rows"], a["bytes"] - b["bytes"]
        if d_rows or d_bytes:
            tables[name] = {
                "rows_per_run": round(d_rows / runs, 3),
                "bytes_per_run": round(d_bytes / runs),
                "index_bytes_per_run": round((a["indexes"] - b["indexes"]) / runs),
                "data_bytes_per_run": round((a["data"] - b["data"]) / runs),
                "rows_total": d_rows,
                "bytes_total": d_bytes,
            }
    d_db = after["database_bytes"] - before["database_bytes"]
    return {"runs": runs, "tables": tables, "database_bytes_per_run": round(d_db / runs), "database_bytes_total": d_db}


# -- the S3 endpoint --------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def moto_endpoint() -> Iterator[str]:
    """moto's HTTP S3 server on localhost with the bucket ``reports``: its endpoint URL."""
    import boto3
    from moto.server import ThreadedMotoServer

    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing-key")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing-secret")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    port = _free_port()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per request on stderr
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    try:
        boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket=BUCKET)
        yield endpoint
    finally:
        server.stop()


def list_objects(endpoint: str, prefix: str) -> dict[str, int]:
    """Every object below ``prefix`` in the bucket: key -> bytes."""
    import boto3

    client = boto3.client("s3", endpoint_url=endpoint)
    out: dict[str, int] = {}
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix):
        for obj in page.get("Contents", []):
            out[obj["Key"]] = int(obj["Size"])
    return out
