"""What the query cache keeps besides DataFrames: tagged JSON, never a pickle — not even one planted by another team."""

from __future__ import annotations

import hashlib
import json
import logging
import pickle
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest

from nbreports.errors import CacheError, CorruptObjectError
from nbreports.kernel.querycache import jsonvalues
from nbreports.kernel.querycache.cache import PREFIX, QueryCache
from nbreports.kernel.querycache.entries import LEGACY_PICKLE_MAGIC, EntryMeta, decode, encode_json
from nbreports.kernel.querycache.expiry import sweep
from nbreports.kernel.querycache.keys import digest, function_identity

WEEK = timedelta(days=7)
BERLIN = ZoneInfo("Europe/Berlin")

VALUES = {
    "plain": {"a": 1, "b": [1.5, "x", None, True], "c": {"nested": []}},
    "tuple_and_sets": (1, (2, 3), {4, 5}, frozenset({"x"})),
    "int_keys": {1: "one", (2, 3): "pair", "s": 0},
    "tag_lookalike": {"$nbr": "tuple", "items": [1, 2]},  # the user's own data, not a tag
    "dates": [date(2024, 3, 31), time(12, 30, 5), timedelta(days=2, seconds=3, microseconds=4)],
    "datetimes": [datetime(2024, 3, 31, 1, 59), datetime(2024, 3, 31, 3, 0, tzinfo=BERLIN), datetime.now(UTC)],
    "offset": datetime(2024, 1, 1, tzinfo=timezone(timedelta(hours=-5))),
    "decimal": Decimal("10.50"),
    "bytes": b"\x00\xffbinary",
    "numpy": [np.int64(7), np.float32(0.5), np.bool_(True), np.uint8(255)],
    "nan": float("nan"),
}


def _same(a: object, b: object) -> bool:
    """Equal values of the same types all the way down (NaN equal to NaN)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float) and a != a:
        return b != b
    if isinstance(a, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)  # type: ignore[index]
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))  # type: ignore[arg-type]
    if isinstance(a, datetime):
        return a == b and str(a.tzinfo) == str(b.tzinfo)  # type: ignore[attr-defined]
    return a == b and (not isinstance(a, np.generic) or a.dtype == b.dtype)  # type: ignore[attr-defined]


@pytest.mark.parametrize("name", sorted(VALUES))
def test_json_values_come_back_with_their_types(name):
    value = VALUES[name]
    assert _same(jsonvalues.loads(jsonvalues.dumps(value)), value)


@pytest.mark.parametrize("name", sorted(VALUES))
def test_cached_calls_return_what_the_function_returned(local_store, name):
    calls = []

    def make() -> object:
        calls.append(1)
        return VALUES[name]

    cache = QueryCache(local_store, WEEK)
    first, second = cache.call(make, (), {}), cache.call(make, (), {})
    assert calls == [1]
    assert _same(second, VALUES[name])
    assert _same(first, VALUES[name])
    assert cache.stats.hits == 1


class Model:
    """What a notebook might return that JSON cannot keep (a fitted model, say)."""

    def __init__(self, alpha: float) -> None:
        self.alpha = alpha


def test_a_value_json_cannot_keep_is_computed_each_time_warned_once_and_counted(local_store, caplog):
    calls = []

    def fit(alpha: float) -> dict:
        calls.append(alpha)
        return {"model": Model(alpha), "score": 0.9}

    cache = QueryCache(local_store, WEEK)
    with caplog.at_level(logging.WARNING, logger="nbreports.kernel.querycache.cache"):
        results = [cache.call(fit, (0.1,), {}) for _ in range(3)]
    assert calls == [0.1, 0.1, 0.1]
    assert all(isinstance(r["model"], Model) for r in results)
    assert (cache.stats.uncached, cache.stats.misses, cache.stats.hits) == (3, 3, 0)
    [warning] = caplog.messages
    assert "fit(...) not cached" in warning
    assert f"value['model'] is a {Model.__module__}.Model" in warning
    assert local_store.list(PREFIX) == []
    with pytest.raises(CacheError, match=r"value\[0\]\[1\] is a builtins.object"):
        jsonvalues.dumps([(1, object())])


def test_a_frame_parquet_cannot_hold_is_not_cached_either(local_store, caplog):
    mixed = pd.DataFrame({"x": [1, "a"]})  # a mixed-type object column
    cache = QueryCache(local_store, WEEK)
    assert cache.call(lambda: mixed, (), {}) is mixed
    assert cache.stats.uncached == 1
    assert "Parquet cannot hold this frame" in caplog.text
    assert local_store.list(PREFIX) == []


class WritesMarker:
    """A pickle whose loading writes a file: what a hostile team could plant in the shared cache."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self) -> tuple:
        return (Path.write_text, (self.path, "unpickled!"))


def _legacy_pickle_entry(key: str, payload: bytes) -> bytes:
    """An entry as earlier versions wrote them: magic, JSON header with a matching sha256, the pickle."""
    now = datetime.now(UTC)
    header = json.loads(EntryMeta(key, "pickle", now, now + WEEK).to_json())
    header.update(sha256=hashlib.sha256(payload).hexdigest(), size=len(payload))
    return LEGACY_PICKLE_MAGIC + json.dumps(header).encode() + b"\n" + payload


def test_a_pickle_planted_by_another_team_is_never_loaded(local_store, tmp_path):
    marker = tmp_path / "marker"
    payload = pickle.dumps(WritesMarker(marker))
    pickle.loads(payload)  # noqa: S301 - the control: this payload really does write the marker
    assert marker.read_text() == "unpickled!"
    marker.unlink()

    def total(values: list[int]) -> int:
        return sum(values)

    key = digest({"kind": "call", "fn": function_identity(total), "args": [[1, 2]], "kwargs": {}})
    planted = _legacy_pickle_entry(key, payload)
    for name in (f"{key}.pickle", f"{key}.json", f"{key}.parquet"):  # under every name the cache reads
        local_store.write_bytes(f"{PREFIX}/{name}", planted)
    cache = QueryCache(local_store, WEEK)
    assert cache.call(total, ([1, 2],), {}) == 3
    assert cache.call(total, ([1, 2],), {}) == 3  # the entry it wrote instead, as JSON
    assert not marker.exists()
    assert (cache.stats.corrupt, cache.stats.hits) == (2, 1)  # .parquet and .json: refused and removed
    with pytest.raises(CorruptObjectError, match="pickled entries are never loaded"):
        decode(planted, key)
    raw = pickle.dumps(WritesMarker(marker))  # a bare pickle without any header, named .json
    local_store.write_bytes(f"{PREFIX}/{'e' * 64}.json", raw)
    with pytest.raises(CorruptObjectError):
        decode(raw, "e" * 64)

    result = sweep(local_store)
    assert result.pickles == 1
    assert result.corrupt == 1  # the bare pickle named .json
    assert local_store.list(PREFIX) == [f"{key}.json"]
    assert not marker.exists()


def test_a_json_entry_with_an_unknown_tag_or_bad_payload_is_corrupt():
    now = datetime.now(UTC)
    meta = EntryMeta("k", "json", now, now + WEEK)
    good = encode_json({"a": (1, 2)}, meta)
    assert decode(good, "k")[0] == {"a": (1, 2)}
    forged = good.replace(b'"tuple"', b'"pickle"')
    header, _, payload = forged.partition(b"\n")[2].partition(b"\n")
    fixed_sha = json.loads(header) | {"sha256": hashlib.sha256(payload).hexdigest(), "size": len(payload)}
    forged = good[: good.index(b"\n") + 1] + json.dumps(fixed_sha).encode() + b"\n" + payload
    with pytest.raises(CorruptObjectError, match="unknown or incomplete tag 'pickle'"):
        decode(forged, "k")
    with pytest.raises(CorruptObjectError, match="does not match its sha256"):
        decode(good[:-2] + b"]}", "k")
