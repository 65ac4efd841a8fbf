"""Every saved version of every report notebook: content-addressed, with who saved it, when and from where.

Two records, so that no save is ever lost and the database stays small:

* the content, once per sha256, under ``versions/<sha256>.ipynb`` (the ``Store.version_key``), and a
  ``notebook_versions`` row per report and content with its *first* provenance (kernel, source,
  author, origin);
* an append-only log of *every* save, one small object each under
  ``reports/<report>/saves/<time>-<sha12>-<random>.json`` (also the image the version was made
  with). Saving content that is already known (two saves at the same moment, a restore) adds a
  log entry, never overwrites one.

Content is written before its row, and a stored version is re-verified against its sha256 before a
save trusts it, so a writer killed mid-write can leave no row pointing at missing or partial content.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from nbreports.errors import CorruptObjectError, DatabaseError, StoreError, VersionNotFound
from nbreports.identifiers import check_report_name
from nbreports.reports.folder import notebook_file
from nbreports.reports.spec import SPEC_FILE, load_spec
from nbreports.search.hooks import version_saved
from nbreports.storage.database import PlatformDB
from nbreports.storage.files import write_file_atomic
from nbreports.storage.store import Store
from nbreports.storage.tables import NotebookVersionRow

logger = logging.getLogger(__name__)

MIN_PREFIX = 8


def saves_prefix(report: str) -> str:
    """The store folder of ``report``'s save log, one object per save."""
    return f"reports/{check_report_name(report)}/saves"


def notebook_kernel(nb_bytes: bytes) -> str | None:
    """The kernel a notebook names in its metadata (None when it names none or is not JSON)."""
    try:
        name = json.loads(nb_bytes).get("metadata", {}).get("kernelspec", {}).get("name")
    except (ValueError, AttributeError):
        return None
    return str(name) if name else None


def store_content(store: Store, sha: str, nb_bytes: bytes) -> None:
    """Store the content once; an existing object is trusted only if it hashes to its name."""
    key = Store.version_key(sha)
    if store.exists(key):
        try:
            if hashlib.sha256(store.read_bytes(key)).hexdigest() == sha:
                return
        except StoreError:
            pass
        logger.warning("notebook version %s in the store was not intact; writing it again", sha)
    store.write_bytes(key, nb_bytes)


def save_version(
    store: Store,
    db: PlatformDB,
    report: str,
    nb_bytes: bytes,
    *,
    kernel: str | None,
    source: str,
    author: str | None = None,
    origin: str | None = None,
    image: str | None = None,
    log_known: bool = True,
) -> str:
    """Keep this content of ``report``'s notebook and log the save; return its sha256.

    ``log_known=False`` (a run pinning its notebook) logs only content new to the report: a run is
    not a save, but the first run of an edit made outside Jupyter (git, a file copy) is where it shows.
    """
    check_report_name(report)
    sha = hashlib.sha256(nb_bytes).hexdigest()
    now = datetime.now(UTC)
    store_content(store, sha, nb_bytes)
    first = db.add_version(report, sha, len(nb_bytes), kernel, source, author=author, origin=origin, created_at=now)
    if first:
        version_saved(db, report, sha, nb_bytes, now)
    if not first and not log_known:
        return sha
    event = {
        "report": report,
        "sha256": sha,
        "size": len(nb_bytes),
        "kernel": kernel,
        "image": image,
        "source": source,
        "author": author,
        "origin": origin,
        "saved_at": now.isoformat(),
        "first": first,
    }
    store.write_json(f"{saves_prefix(report)}/{now:%Y%m%dT%H%M%S%fZ}-{sha[:12]}-{secrets.token_hex(4)}.json", event)
    return sha


def _rows(db: PlatformDB, report: str, prefix: str = "") -> list[dict[str, Any]]:
    query = select(NotebookVersionRow).where(NotebookVersionRow.report == report)
    if prefix:
        query = query.where(NotebookVersionRow.sha256.startswith(prefix, autoescape=True))
    try:
        with Session(db.engine) as session:
            rows = session.scalars(query.order_by(NotebookVersionRow.created_at.desc())).all()
            return [r.to_dict() for r in rows]
    except SQLAlchemyError as exc:
        raise DatabaseError(f"could not read the versions of {report}: {exc}") from exc


def list_saves(store: Store, db: PlatformDB, report: str) -> list[dict[str, Any]]:
    """Every save of ``report``, newest first: the save log, plus versions recorded without one (runs)."""
    saves = []
    for name in store.list(saves_prefix(report)):
        if not name.endswith(".json"):
            continue
        try:
            saves.append(store.read_json(f"{saves_prefix(report)}/{name}"))
        except StoreError as exc:
            logger.warning("skipping unreadable save record %s: %s", name, exc)
    logged = {s["sha256"] for s in saves}
    for row in _rows(db, report):
        if row["sha256"] not in logged:
            saves.append(
                {
                    **{k: row[k] for k in ("report", "sha256", "size", "kernel", "source", "author", "origin")},
                    "image": None,
                    "saved_at": _utc(row["created_at"]).isoformat(),
                    "first": True,
                }
            )
    return sorted(saves, key=lambda s: _utc(datetime.fromisoformat(s["saved_at"])), reverse=True)


def _utc(value: datetime) -> datetime:
    """SQLite hands back naive datetimes; they were written in UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def resolve_version(db: PlatformDB, report: str, version: str) -> dict[str, Any]:
    """The version row of ``report`` whose sha256 starts with ``version`` (at least 8 hex digits)."""
    check_report_name(report)
    version = version.lower()
    if len(version) < MIN_PREFIX or any(c not in "0123456789abcdef" for c in version):
        raise VersionNotFound(f"{version!r} is not a notebook version: give at least {MIN_PREFIX} hex digits")
    rows = _rows(db, report, version)
    if not rows:
        raise VersionNotFound(f"report {report} has no version {version}")
    if len(rows) > 1:
        raise VersionNotFound(
            f"version {version} of {report} is ambiguous: " + ", ".join(r["sha256"][:16] for r in rows)
        )
    return rows[0]


def read_version(store: Store, sha: str) -> bytes:
    """The content of a version, checked against its name: corrupt content is never returned."""
    data = store.read_bytes(Store.version_key(sha))
    if hashlib.sha256(data).hexdigest() != sha:
        raise CorruptObjectError(f"{store.uri(Store.version_key(sha))} does not hash to its name")
    return data


def show_version(store: Store, db: PlatformDB, report: str, version: str) -> tuple[dict[str, Any], bytes]:
    """The record and the verified content of the one version of ``report`` that ``version`` names."""
    row = resolve_version(db, report, version)
    return row, read_version(store, row["sha256"])


def notebook_path(folder: Path) -> Path:
    """Where the report's notebook lives (or lived): the spec's ``notebook``, its one .ipynb, or <name>.ipynb."""
    spec_path = folder / SPEC_FILE
    return notebook_file(folder, load_spec(spec_path) if spec_path.is_file() else None, must_exist=False)


def restore_version(
    store: Store, db: PlatformDB, folder: Path, version: str, *, author: str | None = None, image: str | None = None
) -> str:
    """Put a version back as the report's notebook; the restore is logged as a save (source ``restore``).

    Content in the folder that was never saved as a version is saved first (source ``pre-restore``),
    so a restore cannot lose it.
    """
    report = check_report_name(folder.name)
    row, data = show_version(store, db, report, version)
    target = notebook_path(folder)
    unsaved = target.is_file() and not _rows(db, report, hashlib.sha256(target.read_bytes()).hexdigest())
    return write_restored(
        store,
        db,
        report,
        target,
        data,
        author=author,
        image=image,
        kernel=row["kernel"],
        origin=f"restore of {row['sha256']} into {target}",
        replaced_origin=f"{target} before restoring {row['sha256'][:12]}" if unsaved else None,
    )


def write_restored(
    store: Store,
    db: PlatformDB,
    report: str,
    target: Path,
    data: bytes,
    *,
    author: str | None,
    origin: str,
    replaced_origin: str | None,
    image: str | None = None,
    kernel: str | None = None,
) -> str:
    """Make ``data`` the notebook at ``target``, logged as a save (source ``restore``); its sha256.

    With ``replaced_origin`` the content it replaces is saved first (source ``pre-restore``), so the
    restore cannot lose it.
    """
    if replaced_origin is not None and target.is_file():
        current = target.read_bytes()
        save_version(
            store,
            db,
            report,
            current,
            kernel=notebook_kernel(current),
            source="pre-restore",
            author=author,
            origin=replaced_origin,
            image=image,
        )
    write_file_atomic(target, data)
    return save_version(
        store,
        db,
        report,
        data,
        kernel=notebook_kernel(data) or kernel,
        source="restore",
        author=author,
        origin=origin,
        image=image,
    )
