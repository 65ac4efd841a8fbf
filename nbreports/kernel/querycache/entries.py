"""Query-cache entries as stored: Parquet (DataFrames) or checksummed JSON, each with its own key and expiry.

Earlier versions stored other values as pickles (``NBRQC1``): any team's kernel can write to the
cache, so such an entry is never unpickled again — reading one is a ``CorruptObjectError`` (a miss
that is recomputed), and the sweep removes them.
"""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from typing import IO, Any

from nbreports.errors import CorruptObjectError
from nbreports.kernel.querycache import jsonvalues

PARQUET_META = b"nbreports.querycache"  # the Parquet schema-metadata key of an entry's metadata
JSON_MAGIC = b"NBRQCJ1\n"
LEGACY_PICKLE_MAGIC = b"NBRQC1\n"  # pickles of earlier versions: never loaded


@dataclass(frozen=True)
class EntryMeta:
    """What an entry says about itself: its key, kind and expiry, and what its payload must match."""

    key: str
    kind: str  # "parquet" or "json"
    created_at: datetime
    expires_at: datetime
    rows: int | None = None
    columns: list[str] | None = None  # names and dtypes as written: a flipped bit in the schema shows
    dtypes: list[str] | None = None
    values_sha256: str | None = None  # of the values and index: whatever the page checksums miss

    def to_json(self) -> bytes:
        """The metadata as JSON bytes (datetimes in ISO format), as an entry stores it."""
        data = asdict(self)
        data["created_at"], data["expires_at"] = self.created_at.isoformat(), self.expires_at.isoformat()
        return json.dumps(data).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> EntryMeta:
        """The metadata back from ``to_json``'s bytes."""
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
    """``df`` as a Parquet entry with page checksums, ``meta`` (with its schema and values hash) in its footer."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(df)
    columns, dtypes, values_sha = _schema(table.to_pandas())  # as a reader will see them
    meta = replace(meta, columns=columns, dtypes=dtypes, values_sha256=values_sha)
    table = table.replace_schema_metadata({**(table.schema.metadata or {}), PARQUET_META: meta.to_json()})
    buf = io.BytesIO()
    pq.write_table(table, buf, write_page_checksum=True)
    return buf.getvalue()


def encode_json(value: Any, meta: EntryMeta) -> bytes:
    """``value`` as a JSON entry: a header with ``meta`` and the payload's sha256 and size, then the payload.

    ``CacheError`` when ``value`` holds something JSON cannot keep (``jsonvalues``).
    """
    payload = jsonvalues.dumps(value)
    header = json.loads(meta.to_json())
    header.update(sha256=hashlib.sha256(payload).hexdigest(), size=len(payload))
    return JSON_MAGIC + json.dumps(header).encode() + b"\n" + payload


def _decode_json(data: bytes, key: str) -> tuple[Any, EntryMeta]:
    header_raw, _, payload = data[len(JSON_MAGIC) :].partition(b"\n")
    header = json.loads(header_raw)
    if len(payload) != header["size"] or hashlib.sha256(payload).hexdigest() != header["sha256"]:
        raise CorruptObjectError(f"query-cache entry {key}: payload does not match its sha256")
    return jsonvalues.loads(payload), EntryMeta.from_json(header_raw)


def _decode_parquet(data: bytes, key: str) -> tuple[Any, EntryMeta]:
    import pyarrow.parquet as pq

    table = pq.read_table(io.BytesIO(data), page_checksum_verification=True)
    meta = EntryMeta.from_json((table.schema.metadata or {})[PARQUET_META])
    if meta.rows != table.num_rows:
        raise CorruptObjectError(f"query-cache entry {key}: {table.num_rows} rows, {meta.rows} written")
    value = table.to_pandas()
    if (meta.columns, meta.dtypes, meta.values_sha256) != _schema(value):
        raise CorruptObjectError(f"query-cache entry {key}: columns or types differ from those written")
    return value, meta


def decode(data: bytes, key: str) -> tuple[Any, EntryMeta]:
    """The value of an entry and its metadata; ``CorruptObjectError`` for anything not intact (or a pickle)."""
    if data.startswith(LEGACY_PICKLE_MAGIC):
        raise CorruptObjectError(f"query-cache entry {key} is a pickle: pickled entries are never loaded")
    try:
        value, meta = (_decode_json if data.startswith(JSON_MAGIC) else _decode_parquet)(data, key)
    except CorruptObjectError:
        raise
    except Exception as exc:  # pyarrow, json and KeyError all mean: not an intact entry
        raise CorruptObjectError(f"query-cache entry {key} is not intact: {type(exc).__name__}: {exc}") from exc
    if meta.key != key:
        raise CorruptObjectError(f"query-cache entry {key} holds the result of {meta.key}")
    return value, meta


def read_meta(fh: IO[bytes]) -> EntryMeta:
    """An entry's metadata from its header (JSON) or footer (Parquet), without reading the payload.

    A pickle of an earlier version is ``CorruptObjectError``: the sweep removes it.
    """
    try:
        head = fh.read(len(JSON_MAGIC))
        if head == JSON_MAGIC:
            return EntryMeta.from_json(fh.readline())
        if head.startswith(LEGACY_PICKLE_MAGIC):
            raise CorruptObjectError("a pickled query-cache entry of an earlier version: never loaded")
        import pyarrow.parquet as pq

        fh.seek(0)
        return EntryMeta.from_json((pq.read_schema(fh).metadata or {})[PARQUET_META])
    except CorruptObjectError:
        raise
    except Exception as exc:
        raise CorruptObjectError(f"not an intact query-cache entry: {type(exc).__name__}: {exc}") from exc
