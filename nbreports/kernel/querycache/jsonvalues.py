"""Non-DataFrame values of the query cache as JSON, tagged where JSON has no type of its own.

Why JSON and not pickle: ``querycache/`` in the store is shared by every team's kernels, and
unpickling an entry runs whatever its writer put in it. Reading JSON can only ever give back data.

The tags keep ``cached(f)`` returning what ``f`` returns, not a look-alike: a tuple stays a tuple,
``Decimal("1.50")`` keeps its digits, a ``date`` stays a ``date``, a dict keyed by ints keeps its int
keys. A tag is a dict ``{"$nbr": <type>, ...}``; a value's own dict with a ``"$nbr"`` key is itself
stored tagged, so data is never read back as a tag. Anything else (models, arbitrary objects) raises
``CacheError`` naming where in the value it sits: the cache then calls the function and keeps nothing.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from nbreports.errors import CacheError, CorruptObjectError

TAG = "$nbr"
PLAIN = (str, int, float, bool, type(None))  # exact types: a subclass (e.g. a str enum) is not plain
NUMPY_KINDS = "biuf"  # numpy scalars kept with their dtype: bool, int, unsigned, float


def _items(values: Any, path: str) -> list[Any]:
    return [to_json(v, f"{path}[{i}]") for i, v in enumerate(values)]


def _datetime(value: datetime) -> dict[str, Any]:
    tagged: dict[str, Any] = {TAG: "datetime", "v": value.isoformat()}
    if isinstance(value.tzinfo, ZoneInfo):  # the offset alone would lose the zone's later offsets
        tagged["tz"] = value.tzinfo.key
    return tagged


def _special(value: Any, path: str) -> dict[str, Any] | None:
    """The tagged form of a value JSON has no type for; None when this module keeps no such type."""
    kind = type(value)
    if kind is tuple or kind is set or kind is frozenset:
        return {TAG: kind.__name__, "items": _items(value, path)}
    if kind is datetime and (value.tzinfo is None or isinstance(value.tzinfo, timezone | ZoneInfo)):
        return _datetime(value)  # other time zones (pytz, dateutil) would come back as a bare offset
    if kind is date or (kind is time and (value.tzinfo is None or isinstance(value.tzinfo, timezone))):
        return {TAG: kind.__name__, "v": value.isoformat()}
    if kind is timedelta:
        return {TAG: "timedelta", "v": [value.days, value.seconds, value.microseconds]}
    if kind is Decimal:
        return {TAG: "Decimal", "v": str(value)}
    if kind is bytes:
        return {TAG: "bytes", "v": base64.b64encode(value).decode()}
    if kind.__module__ == "numpy" and getattr(getattr(value, "dtype", None), "kind", "") in NUMPY_KINDS:
        return {TAG: "numpy", "dtype": value.dtype.str, "v": value.item()}
    return None


def to_json(value: Any, path: str = "value") -> Any:
    """``value`` as JSON-ready data with tags; ``CacheError`` naming ``path`` for what cannot be kept."""
    kind = type(value)
    if kind in PLAIN:
        return value
    if kind is list:
        return _items(value, path)
    if kind is dict:
        if TAG not in value and all(type(k) is str for k in value):
            return {k: to_json(v, f"{path}[{k!r}]") for k, v in value.items()}
        return {
            TAG: "dict",
            "items": [[to_json(k, f"{path} key {k!r}"), to_json(v, f"{path}[{k!r}]")] for k, v in value.items()],
        }
    tagged = _special(value, path)
    if tagged is None:
        raise CacheError(
            f"{path} is a {kind.__module__}.{kind.__qualname__}: the query cache keeps DataFrames (Parquet) "
            "and JSON-like values (dicts, lists, tuples, sets, numbers, strings, dates, Decimals, bytes) only"
        )
    return tagged


def _numpy(tagged: dict[str, Any]) -> Any:
    import numpy as np

    dtype = np.dtype(tagged["dtype"])
    if dtype.kind not in NUMPY_KINDS:
        raise CorruptObjectError(f"query-cache JSON: numpy dtype {dtype} is not one the cache writes")
    return dtype.type(tagged["v"])


def _zoned(tagged: dict[str, Any]) -> datetime:
    value = datetime.fromisoformat(tagged["v"])
    return value.astimezone(ZoneInfo(tagged["tz"])) if tagged.get("tz") else value


_DECODERS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "tuple": lambda t: tuple(t["items"]),
    "set": lambda t: set(t["items"]),
    "frozenset": lambda t: frozenset(t["items"]),
    "dict": lambda t: {k: v for k, v in t["items"]},
    "datetime": _zoned,
    "date": lambda t: date.fromisoformat(t["v"]),
    "time": lambda t: time.fromisoformat(t["v"]),
    "timedelta": lambda t: timedelta(*t["v"]),
    "Decimal": lambda t: Decimal(t["v"]),
    "bytes": lambda t: base64.b64decode(t["v"], validate=True),
    "numpy": _numpy,
}


def _untag(obj: dict[str, Any]) -> Any:
    if TAG not in obj:
        return obj
    try:
        return _DECODERS[obj[TAG]](obj)
    except KeyError as exc:
        raise CorruptObjectError(f"query-cache JSON: unknown or incomplete tag {obj.get(TAG)!r}") from exc


def dumps(value: Any) -> bytes:
    """``value`` as tagged JSON bytes; ``CacheError`` when it holds something JSON cannot keep."""
    return json.dumps(to_json(value), separators=(",", ":")).encode()


def loads(data: bytes) -> Any:
    """The value back from ``dumps``' bytes (tags turned back into their types)."""
    return json.loads(data, object_hook=_untag)
