"""Keeping the query cache small: a bucket lifecycle rule on S3, a sweep on a local store.

Expired entries are never served either way (``nbreports.querycache`` checks each entry's own
expiry); this only frees the space. The sweep also removes the ``.pickle`` entries earlier versions
wrote: they are never loaded any more (see ``entries``), so they only take space. ``nbr cache
setup`` and the maintenance DAG call these.
"""

from __future__ import annotations

import logging
import posixpath
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlparse

from nbreports.errors import CorruptObjectError, StoreError
from nbreports.kernel.querycache.cache import PREFIX
from nbreports.kernel.querycache.entries import read_meta
from nbreports.storage.store import Store

logger = logging.getLogger(__name__)

RULE_ID = "nbreports-querycache-ttl"
ABORT_RULE_ID = "nbreports-abort-incomplete-uploads"
TMP_PREFIX = ".tmp-"  # Store.write_bytes' temporary files: left behind only by a killed writer


def s3_location(store: Store) -> tuple[str, str]:
    """The bucket and the key prefix (no trailing slash, may be empty) of an ``s3://`` store."""
    parsed = urlparse(store.url_prefix)
    if parsed.scheme != "s3":
        raise StoreError(f"{store.url_prefix} is not an S3 store")
    return parsed.netloc, parsed.path.strip("/")


def lifecycle_rules(prefix: str, ttl_days: int) -> list[dict[str, Any]]:
    """Delete query-cache entries ``ttl_days`` after they were written; drop abandoned multipart uploads."""
    base = f"{prefix}/" if prefix else ""
    return [
        {
            "ID": RULE_ID,
            "Status": "Enabled",
            "Filter": {"Prefix": f"{base}{PREFIX}/"},
            "Expiration": {"Days": ttl_days},
        },
        {
            "ID": ABORT_RULE_ID,
            "Status": "Enabled",
            "Filter": {"Prefix": base},
            "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1},
        },
    ]


def apply_lifecycle(client: Any, bucket: str, prefix: str, ttl_days: int) -> list[dict[str, Any]]:
    """Put nbreports' rules on ``bucket`` next to its other rules (boto3 S3 ``client``); the rules now set."""
    from botocore.exceptions import ClientError

    ours = lifecycle_rules(prefix, ttl_days)
    try:
        current = client.get_bucket_lifecycle_configuration(Bucket=bucket).get("Rules", [])
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "NoSuchLifecycleConfiguration":
            raise StoreError(f"cannot read the lifecycle rules of bucket {bucket}: {exc}") from exc
        current = []
    ours_prefixes = {rule["Filter"]["Prefix"] for rule in ours}
    # one bucket may hold several stores: only this store's earlier rules are replaced
    keep = [
        r
        for r in current
        if not (
            str(r.get("ID", "")).startswith((RULE_ID, ABORT_RULE_ID))
            and r.get("Filter", {}).get("Prefix") in ours_prefixes
        )
    ]
    taken = {r.get("ID") for r in keep}
    for rule in ours:  # rule IDs are unique per bucket
        if rule["ID"] in taken:
            rule["ID"] = f"{rule['ID']}-{prefix.replace('/', '-')}"[:255]
    rules = keep + ours
    try:
        client.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": rules})
    except ClientError as exc:
        raise StoreError(f"cannot set the lifecycle rules of bucket {bucket}: {exc}") from exc
    return rules


def s3_client(options: dict[str, Any]) -> Any:
    """A boto3 S3 client for the store options (endpoint, region); credentials from the environment."""
    import boto3

    kwargs = {k: options[k] for k in ("endpoint_url", "region_name") if k in options}
    return boto3.client("s3", **kwargs)


@dataclass
class SweepResult:
    """What a sweep did: the entries it removed, how many it kept, found corrupt or pickled, the bytes freed."""

    removed: list[str] = field(default_factory=list)
    kept: int = 0
    corrupt: int = 0
    pickles: int = 0  # entries earlier versions pickled: removed unread
    bytes_freed: int = 0


def _mtime(info: dict[str, Any]) -> datetime | None:
    value = info.get("mtime") or info.get("LastModified") or info.get("created")
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC)
    return None


def sweep(store: Store, now: datetime | None = None, tmp_grace: timedelta = timedelta(hours=1)) -> SweepResult:
    """Remove expired, corrupt and pickled entries, and temporary files a killed writer left behind."""
    now = now or datetime.now(UTC)
    result = SweepResult()
    base = f"{store.root}/{PREFIX}"
    try:
        found: dict[str, dict[str, Any]] = store.fs.find(base, detail=True)
    except FileNotFoundError:
        return result
    for path, info in sorted(found.items()):
        name = posixpath.basename(path)
        if name.startswith(TMP_PREFIX):
            mtime = _mtime(info)
            remove = mtime is not None and now - mtime > tmp_grace
        elif name.endswith(".pickle"):  # never opened: the name alone says it is an old pickle
            result.pickles += 1
            remove = True
        else:
            try:
                with store.fs.open(path, "rb") as fh:
                    remove = read_meta(fh).expires_at <= now
            except CorruptObjectError:
                result.corrupt += 1
                remove = True
            except FileNotFoundError:  # removed meanwhile
                continue
        if not remove:
            result.kept += 1
            continue
        try:
            store.fs.rm_file(path)
        except FileNotFoundError:
            continue
        result.removed.append(path.removeprefix(f"{store.root}/"))
        result.bytes_freed += int(info.get("size") or 0)
    logger.info(
        "query cache sweep: removed %d (%d corrupt, %d pickled), kept %d, freed %d bytes",
        len(result.removed),
        result.corrupt,
        result.pickles,
        result.kept,
        result.bytes_freed,
    )
    return result


def maintain(
    store: Store, ttl_days: int, client: Any | None = None, options: dict[str, Any] | None = None
) -> dict[str, Any]:
    """What the daily DAG does: the lifecycle rule on S3 (the bucket then deletes), a sweep elsewhere."""
    if store.url_prefix.startswith("s3://"):
        bucket, prefix = s3_location(store)
        rules = apply_lifecycle(client or s3_client(options or {}), bucket, prefix, ttl_days)
        return {"store": store.url_prefix, "lifecycle_rules": [r["ID"] for r in rules]}
    result = sweep(store)
    return {
        "store": store.url_prefix,
        "removed": len(result.removed),
        "corrupt": result.corrupt,
        "pickles": result.pickles,
        "kept": result.kept,
        "bytes_freed": result.bytes_freed,
    }
