"""The run cache: a run whose inputs are all unchanged may reuse an earlier successful run.

The key covers what decides a notebook's output: the notebook version, the parameters, the
environment it runs in (image digest or kernel), the content of the inputs the spec declares
(files by sha256, object-store URIs by ETag/checksum) and any upstream facts the caller adds
(e.g. the Airflow Asset events that triggered the run).
"""

from __future__ import annotations

import glob
import hashlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import fsspec
from sqlalchemy import select

from nbreports.errors import SpecError, StoreError
from nbreports.storage.database import PlatformDB
from nbreports.storage.store import Store
from nbreports.storage.tables import RunRow

# What a source run must still have in the store for its outputs to be reused.
REUSED_FILES = ("output.ipynb", "report.html", "scraps.json", "run.json")


def _file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def input_versions(folder: Path, declared: list[str], spec_file: str) -> dict[str, str]:
    """The version of each declared input: sha256 for local files, ETag or checksum for URIs."""
    versions: dict[str, str] = {}
    for entry in declared:
        if "://" in entry:
            try:
                fs, path = fsspec.core.url_to_fs(entry)
                info = fs.info(path)
            except (OSError, ValueError) as exc:
                raise SpecError(spec_file, "cache.inputs", f"cannot read input {entry!r}: {exc}") from exc
            versions[entry] = str(info.get("ETag") or info.get("checksum") or info.get("mtime") or info.get("size"))
            continue
        matches = sorted(glob.glob(str(folder / entry), recursive=True))
        files = [Path(m) for m in matches if Path(m).is_file()]
        if not files:
            raise SpecError(spec_file, "cache.inputs", f"{entry!r} matches no file in {folder}")
        for file in files:
            versions[str(file.relative_to(folder))] = _file_digest(file)
    return versions


def cache_key(
    notebook_version: str,
    parameters: dict[str, Any],
    environment: str,
    inputs: dict[str, str],
    extra: dict[str, Any] | None = None,
) -> str:
    """The sha256 of what a run's result depends on: notebook version, parameters, environment, inputs, ``extra``."""
    material = {
        "notebook": notebook_version,
        "parameters": parameters,
        "environment": environment,
        "inputs": inputs,
        "extra": extra or {},
    }
    return hashlib.sha256(json.dumps(material, sort_keys=True, default=str).encode()).hexdigest()


def find_fresh_run(db: PlatformDB, store: Store, report: str, key: str, ttl: int) -> str | None:
    """The newest successful, executed run with ``key`` inside the TTL whose outputs are intact.

    Runs that were themselves cache hits are skipped, so a hit always points at a real execution.
    """
    since = datetime.now(UTC) - timedelta(seconds=ttl)
    with db._session() as session:
        candidates = session.scalars(
            select(RunRow.run_id)
            .where(
                RunRow.report == report,
                RunRow.cache_key == key,
                RunRow.status == "success",
                RunRow.cache_hit_of.is_(None),
                RunRow.started_at >= since,
            )
            .order_by(RunRow.started_at.desc())
            .limit(5)
        ).all()
    for run_id in candidates:
        try:
            if all(store.exists(Store.run_key(report, run_id, name)) for name in REUSED_FILES):
                return str(run_id)
        except StoreError:
            continue
    return None
