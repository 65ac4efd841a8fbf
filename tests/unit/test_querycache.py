"""The query-result cache against a real PostgreSQL, on a local store and a real HTTP S3 endpoint."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import boto3
import pandas as pd
import psycopg2
import pytest
import sqlalchemy as sa

from nbreports.errors import CacheError, CorruptObjectError
from nbreports.identifiers import new_run_id
from nbreports.kernel.querycache.cache import PREFIX, QueryCache
from nbreports.kernel.querycache.entries import EntryMeta, decode, encode_parquet
from nbreports.kernel.querycache.expiry import TMP_PREFIX, apply_lifecycle, maintain, s3_location, sweep
from nbreports.kernel.querycache.keys import connection_identity
from nbreports.storage.store import Store, open_store
from tests.conftest import REPO, create_pg_database, drop_pg_database

SQL = "select region, amount, day from sales where region = :region order by day"
WEEK = timedelta(days=7)


@pytest.fixture(scope="module")
def warehouse(postgres: str) -> Iterator[str]:
    """A PostgreSQL 'warehouse' with a small sales table."""
    url = create_pg_database("nbr_warehouse")
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("create table sales (region text, amount numeric(10, 2), day date)"))
        conn.execute(
            sa.text(
                "insert into sales values ('EU', 10.50, '2024-01-01'), ('EU', 20.25, '2024-01-02'), "
                "('US', 7.00, '2024-01-01')"
            )
        )
    engine.dispose()
    yield url
    drop_pg_database(url)


@pytest.fixture
def engine(warehouse: str) -> Iterator[sa.Engine]:
    eng = sa.create_engine(warehouse)
    yield eng
    with eng.begin() as conn:  # each test starts from the same three rows
        conn.execute(sa.text("delete from sales where day >= '2024-02-01'"))
    eng.dispose()


def add_sale(engine: sa.Engine, region: str = "EU", amount: str = "99.99") -> None:
    with engine.begin() as conn:
        conn.execute(sa.text("insert into sales values (:r, :a, '2024-02-01')"), {"r": region, "a": amount})


def entry_names(store: Store) -> list[str]:
    return [n for n in store.list(PREFIX) if not n.startswith(".")]


def test_a_query_is_run_once_and_served_from_the_store_until_it_expires(store, engine):
    run_id = new_run_id()
    cache = QueryCache(store, WEEK, report="sales", run_id=run_id)
    first = cache.query(engine, SQL, {"region": "EU"})
    assert list(first.columns) == ["region", "amount", "day"]
    assert first["amount"].tolist() == [Decimal("10.50"), Decimal("20.25")]
    assert first["day"].tolist() == [date(2024, 1, 1), date(2024, 1, 2)]
    add_sale(engine)  # the warehouse changes: a hit must still give the cached answer
    second = cache.query(engine, SQL, {"region": "EU"})
    pd.testing.assert_frame_equal(first, second)
    other = cache.query(engine, SQL, {"region": "US"})  # other parameters: another entry
    assert other["amount"].tolist() == [Decimal("7.00")]

    [name] = [n for n in entry_names(store) if n.endswith(".parquet")][:1]
    stats = store.read_json(Store.run_key("sales", run_id, "kernel.json"))["query_cache"]
    assert stats["hits"] == 1
    assert stats["misses"] == 2
    assert stats["expired"] == stats["corrupt"] == 0
    assert stats["bytes_read"] > 0
    assert stats["bytes_written"] > stats["bytes_read"]
    assert len(entry_names(store)) == 2, name


def test_an_expired_entry_is_never_served(store, engine):
    cache = QueryCache(store, WEEK)
    before = cache.query(engine, SQL, {"region": "EU"}, ttl=timedelta(milliseconds=200))
    add_sale(engine)
    time.sleep(0.3)
    after = cache.query(engine, SQL, {"region": "EU"})
    assert len(before) == 2
    assert len(after) == 3
    assert cache.stats.expired == 1
    assert cache.stats.hits == 0
    assert cache.stats.misses == 2


@pytest.mark.parametrize("damage", ["truncated", "empty", "bit_flip", "other_key"])
def test_a_corrupt_entry_is_detected_never_served_and_recomputed(store, engine, damage):
    cache = QueryCache(store, WEEK)
    cache.query(engine, SQL, {"region": "EU"})
    cache.query(engine, SQL, {"region": "US"})
    eu, us = (next(n for n in entry_names(store) if n.startswith(k)) for k in _keys(store, engine))
    data = store.read_bytes(f"{PREFIX}/{eu}")
    bad = {
        "truncated": data[: len(data) // 2],
        "empty": b"",
        "bit_flip": data[:40] + bytes([data[40] ^ 0x10]) + data[41:],
        "other_key": store.read_bytes(f"{PREFIX}/{us}"),
    }[damage]
    store.write_bytes(f"{PREFIX}/{eu}", bad)
    add_sale(engine)  # a recomputed answer differs from the cached one
    again = cache.query(engine, SQL, {"region": "EU"})
    assert len(again) == 3
    assert set(again["region"]) == {"EU"}
    assert cache.stats.corrupt == 1
    value, _ = decode(store.read_bytes(f"{PREFIX}/{eu}"), eu.removesuffix(".parquet"))  # rewritten intact
    assert len(value) == 3


def _keys(store: Store, engine: sa.Engine) -> tuple[str, str]:
    from nbreports.kernel.querycache.keys import digest

    who = connection_identity(engine)
    return tuple(digest({"kind": "sql", "conn": who, "sql": SQL, "params": {"region": r}}) for r in ("EU", "US"))


def test_every_single_bit_flip_of_an_entry_is_caught_or_harmless():
    df = pd.DataFrame(
        {"day": [date(2024, 1, d) for d in range(1, 11)], "amount": [Decimal("1.50")] * 10, "region": ["EU", "US"] * 5},
        index=range(5, 15),
    )
    now = datetime.now(UTC)
    data = encode_parquet(df, EntryMeta("k", "parquet", now, now + WEEK, rows=len(df)))
    good, _ = decode(data, "k")
    wrong = []
    for offset in range(len(data)):
        flipped = bytearray(data)
        flipped[offset] ^= 0x04
        try:
            value, _ = decode(bytes(flipped), "k")
        except CorruptObjectError:
            continue
        if not (value.equals(good) and value.index.equals(good.index) and list(value.columns) == list(good.columns)):
            wrong.append(offset)
    assert wrong == []


def test_dbapi_connection_and_engine_share_no_password_in_keys(engine, warehouse, store):
    raw = psycopg2.connect(warehouse)
    try:
        cache = QueryCache(store, WEEK)
        sql = "select region, sum(amount) as total from sales where region = %(r)s group by region"
        first = cache.query(raw, sql, {"r": "EU"})
        add_sale(engine)
        assert cache.query(raw, sql, {"r": "EU"})["total"].tolist() == first["total"].tolist() == [Decimal("30.75")]
        assert cache.stats.hits == 1
        ident = connection_identity(raw)
        assert ident["dialect"] == "postgresql"
        assert ident["database"] == warehouse.rsplit("/", 1)[1]
    finally:
        raw.close()
    secret = sa.create_engine("postgresql://alice:s3cret-pw@db.example:5432/dw")
    assert "s3cret-pw" not in json.dumps(connection_identity(secret))
    assert connection_identity(secret) == {
        "dialect": "postgresql",
        "host": "db.example",
        "port": 5432,
        "database": "dw",
        "user": "alice",
    }


def test_connections_without_an_identity_are_refused(store):
    import sqlite3

    with pytest.raises(CacheError, match="in-memory SQLite"):
        QueryCache(store, WEEK).query(sqlite3.connect(":memory:"), "select 1")
    with pytest.raises(CacheError, match="pass identity="):
        connection_identity(object())


def test_cached_function_calls_as_parquet_and_json(store):
    calls: list[tuple] = []

    def frame(n: int, label: str = "x") -> pd.DataFrame:
        calls.append((n, label))
        return pd.DataFrame({"i": range(n), "label": [label] * n})

    def summary(values: list[int]) -> dict:
        calls.append(tuple(values))
        return {"sum": sum(values), "when": date(2024, 1, 1)}

    cache = QueryCache(store, WEEK)
    assert len(cache.call(frame, (3,), {"label": "a"})) == 3
    assert cache.call(frame, (3,), {"label": "a"})["label"].tolist() == ["a"] * 3
    cache.call(frame, (3,), {"label": "b"})
    assert (
        cache.call(summary, ([1, 2],), {}) == cache.call(summary, ([1, 2],), {}) == {"sum": 3, "when": date(2024, 1, 1)}
    )
    assert calls == [(3, "a"), (3, "b"), (1, 2)]
    names = entry_names(store)
    assert sum(n.endswith(".parquet") for n in names) == 2
    assert sum(n.endswith(".json") for n in names) == 1
    assert not [n for n in names if n.endswith(".pickle")]
    [kept] = [n for n in names if n.endswith(".json")]
    data = store.read_bytes(f"{PREFIX}/{kept}")
    store.write_bytes(f"{PREFIX}/{kept}", data[:-3] + b"xyz")  # payload no longer matches its sha256
    assert cache.call(summary, ([1, 2],), {})["sum"] == 3
    assert len(calls) == 4
    assert cache.stats.corrupt == 1


def test_two_kernels_filling_the_same_entry_at_once_both_get_the_right_answer(local_store, engine):
    store = local_store
    barrier, results, errors = threading.Barrier(4), [], []

    def fill() -> None:
        try:
            barrier.wait()
            results.append(QueryCache(store, WEEK).query(engine, SQL, {"region": "EU"}))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=fill) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(results) == 4
    for df in results:
        pd.testing.assert_frame_equal(df, results[0])
    assert len(entry_names(store)) == 1
    assert not [n for n in store.list(PREFIX) if n.startswith(".")]


def test_the_kernel_helpers_count_per_run_from_the_engine_environment(tmp_path, warehouse):
    """A kernel-like child process: the store and the run come from NBREPORTS_* variables only."""
    run_id = new_run_id()
    code = (
        "import sqlalchemy as sa\nfrom nbreports.querycache import cached, cached_query\n"  # noqa: S608 - Python source for a child process, not SQL
        f"eng = sa.create_engine({warehouse!r})\n"
        "for _ in range(3):\n    df = cached_query(eng, 'select count(*) as n from sales')\n"
        "cached(sorted, [3, 1, 2])\nprint(int(df['n'][0]))\n"
    )
    env = {
        **os.environ,
        "NBREPORTS_HOME": str(tmp_path / "home"),
        "NBREPORTS_REPORT": "sales",
        "NBREPORTS_RUN_ID": run_id,
        "NBREPORTS_QUERY_CACHE_TTL_DAYS": "3",
    }
    env.pop("NBREPORTS_STORE_URL", None)
    proc = subprocess.run([sys.executable, "-c", code], env=env, cwd=REPO, capture_output=True, text=True, timeout=120)  # noqa: S603 - argv fixed by the test, no untrusted input
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "3"
    store = open_store(str(tmp_path / "home" / "store"))
    stats = store.read_json(Store.run_key("sales", run_id, "kernel.json"))["query_cache"]
    assert (stats["hits"], stats["misses"]) == (2, 2)
    [entry] = [n for n in entry_names(store) if n.endswith(".parquet")]
    _, meta = decode(store.read_bytes(f"{PREFIX}/{entry}"), entry.removesuffix(".parquet"))
    assert timedelta(days=3) - (meta.expires_at - meta.created_at) < timedelta(seconds=1)


def test_sweep_removes_expired_corrupt_and_abandoned_temporary_entries(local_store, tmp_path, engine):
    store = local_store
    cache = QueryCache(store, WEEK)
    cache.query(engine, SQL, {"region": "EU"})
    cache.query(engine, SQL, {"region": "US"}, ttl=timedelta(seconds=1))
    cache.call(sorted, ([2, 1],), {})
    folder = tmp_path / "store" / PREFIX
    (folder / f"{'f' * 64}.parquet").write_bytes(b"PAR1 half a file")
    stale, fresh = folder / f"{TMP_PREFIX}killed", folder / f"{TMP_PREFIX}writing"
    stale.write_bytes(b"partial")
    fresh.write_bytes(b"partial")
    two_hours_ago = time.time() - 7200
    os.utime(stale, (two_hours_ago, two_hours_ago))
    result = sweep(store, now=datetime.now(UTC) + timedelta(seconds=5))
    assert sorted(n.rsplit("/", 1)[1] for n in result.removed) == sorted(
        [f"{'f' * 64}.parquet", stale.name, _keys(store, engine)[1] + ".parquet"]
    )
    assert result.corrupt == 1
    assert result.kept == 3
    assert fresh.exists()
    assert not stale.exists()
    assert cache.query(engine, SQL, {"region": "EU"}) is not None
    assert cache.stats.hits == 1


def test_lifecycle_rule_on_the_s3_bucket(s3_endpoint, tmp_path):
    store = open_store(f"s3://reports/lc-{tmp_path.name}", {"endpoint_url": s3_endpoint})
    client = boto3.client("s3", endpoint_url=s3_endpoint)
    bucket, prefix = s3_location(store)
    assert (bucket, prefix) == ("reports", f"lc-{tmp_path.name}")
    other = {"ID": "team-logs", "Status": "Enabled", "Filter": {"Prefix": "logs/"}, "Expiration": {"Days": 30}}
    client.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": [other]})
    apply_lifecycle(client, bucket, prefix, 7)
    summary = maintain(store, 5, client=client)  # the DAG again, with a new TTL: replaced, not added
    rules = {r["ID"]: r for r in client.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]}
    assert summary["lifecycle_rules"] == ["team-logs", "nbreports-querycache-ttl", "nbreports-abort-incomplete-uploads"]
    assert set(rules) == {"team-logs", "nbreports-querycache-ttl", "nbreports-abort-incomplete-uploads"}
    ttl_rule = rules["nbreports-querycache-ttl"]
    assert ttl_rule["Filter"]["Prefix"] == f"{prefix}/{PREFIX}/"
    assert ttl_rule["Expiration"]["Days"] == 5
    assert rules["team-logs"]["Expiration"]["Days"] == 30


def test_nbr_cache_setup_and_sweep(s3_endpoint, tmp_path, monkeypatch, capsys, home):
    from nbreports.cli import main

    monkeypatch.setenv("NBREPORTS_STORE_URL", f"s3://reports/cli-{tmp_path.name}")
    monkeypatch.setenv("NBREPORTS_STORE_OPTIONS", json.dumps({"endpoint_url": s3_endpoint}))
    assert main(["cache", "setup"]) == 0
    assert f"cli-{tmp_path.name}/{PREFIX}/" in capsys.readouterr().out
    rules = boto3.client("s3", endpoint_url=s3_endpoint).get_bucket_lifecycle_configuration(Bucket="reports")["Rules"]
    assert any(
        r["Filter"].get("Prefix") == f"cli-{tmp_path.name}/{PREFIX}/" and r["Expiration"]["Days"] == 7 for r in rules
    )
    monkeypatch.delenv("NBREPORTS_STORE_URL")
    monkeypatch.delenv("NBREPORTS_STORE_OPTIONS")
    assert main(["cache", "sweep"]) == 0
    assert "removed 0 entries" in capsys.readouterr().out
