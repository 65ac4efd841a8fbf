"""Daily backups of the report folders and the platform database to the store, and bringing them back.

Layout: ``backups/<YYYY-MM-DD>/notebooks/<report>/<file>``, ``backups/<date>/db/...`` and, written
last, ``backups/<date>/manifest.json`` with the sha256 of every file: a backup without a manifest is
incomplete and is never restored from. The database is copied with SQLite's backup API, or (any other
database, e.g. PostgreSQL) dumped table by table as JSON lines through SQLAlchemy, so no ``pg_dump``
matching the server's version is needed.

A restore never destroys anything: database rows are merged (rows that exist are kept), files that
differ from the backup are kept unless ``overwrite`` is asked for, and a notebook about to be
overwritten is saved as a version first. Restored notebooks are logged as saves (source ``restore``).
"""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
import tempfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError

from nbreports.errors import BackupError, DatabaseError, StoreError, UnsafePathError
from nbreports.history.versions import write_restored
from nbreports.identifiers import REPORT_NAME
from nbreports.storage.database import PlatformDB, dialect_insert
from nbreports.storage.files import write_file_atomic
from nbreports.storage.store import Store
from nbreports.storage.tables import Base

logger = logging.getLogger(__name__)

PREFIX = "backups"
MAX_FILE_BYTES = 50 * 1024 * 1024  # bigger files in a report folder are data, not a report: skipped


def backup_key(day: date, name: str = "") -> str:
    """The store key of ``name`` in the backup of ``day`` (the backup's folder when no name)."""
    base = f"{PREFIX}/{day.isoformat()}"
    return f"{base}/{name}" if name else base


def _report_files(notebooks_dir: Path) -> list[Path]:
    """Files of report folders, without hidden files (checkpoints, temporary files)."""
    files = []
    for folder in sorted(p for p in notebooks_dir.iterdir() if p.is_dir()) if notebooks_dir.is_dir() else []:
        if not REPORT_NAME.fullmatch(folder.name) or not (folder / "report.yaml").is_file():
            continue
        for path in sorted(folder.rglob("*")):
            rel = path.relative_to(notebooks_dir)
            if path.is_file() and not any(part.startswith(".") for part in rel.parts):
                files.append(path)
    return files


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON")


def _dump_database(db: PlatformDB, store: Store, day: date) -> dict[str, Any]:
    url = db.engine.url
    if url.get_backend_name() == "sqlite":
        with tempfile.TemporaryDirectory(prefix="nbr-backup-") as tmp:
            copy = Path(tmp) / "platform.sqlite"
            src, dst = sqlite3.connect(str(url.database)), sqlite3.connect(copy)
            try:
                src.backup(dst)  # a consistent copy even while tasks write
            finally:
                dst.close()
                src.close()
            data = copy.read_bytes()
        store.write_bytes(backup_key(day, "db/platform.sqlite"), data)
        return {"dialect": "sqlite", "files": {"db/platform.sqlite": hashlib.sha256(data).hexdigest()}}
    files, rows = {}, {}
    try:
        with db.engine.connect() as conn, conn.begin():  # one transaction: one consistent snapshot
            if url.get_backend_name() == "postgresql":
                conn.execute(sa.text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"))
            for table in Base.metadata.sorted_tables:
                lines = [json.dumps(dict(r._mapping), default=_json_default) for r in conn.execute(sa.select(table))]
                data = "".join(line + "\n" for line in lines).encode()
                name = f"db/{table.name}.jsonl"
                store.write_bytes(backup_key(day, name), data)
                files[name], rows[table.name] = hashlib.sha256(data).hexdigest(), len(lines)
    except SQLAlchemyError as exc:
        raise DatabaseError(f"could not dump the platform database: {exc}") from exc
    return {"dialect": url.get_backend_name(), "files": files, "rows": rows}


def prune(store: Store, keep_days: int, today: date) -> list[str]:
    """Delete backups older than ``keep_days`` days before ``today``; the dates deleted."""
    oldest = today - timedelta(days=keep_days - 1)
    removed = []
    for name in store.list(PREFIX):
        try:
            day = date.fromisoformat(name)
        except ValueError:
            continue
        if day < oldest:
            store.fs.rm(f"{store.root}/{backup_key(day)}", recursive=True)
            removed.append(name)
    return removed


def backup(
    store: Store, db: PlatformDB, notebooks_dir: Path, *, keep_days: int, day: date | None = None
) -> dict[str, Any]:
    """Snapshot every report folder and the platform database under ``backups/<day>/``; its manifest."""
    day = day or datetime.now(UTC).date()
    files, skipped = [], []
    for path in _report_files(notebooks_dir):
        rel = path.relative_to(notebooks_dir).as_posix()
        if path.stat().st_size > MAX_FILE_BYTES:
            skipped.append(rel)
            continue
        data = path.read_bytes()
        try:
            store.write_bytes(backup_key(day, f"notebooks/{rel}"), data)
        except UnsafePathError:  # a file name the store cannot hold
            skipped.append(rel)
            continue
        files.append({"path": rel, "sha256": hashlib.sha256(data).hexdigest(), "size": len(data)})
    manifest: dict[str, Any] = {
        "date": day.isoformat(),
        "created_at": datetime.now(UTC).isoformat(),
        "files": files,
        "skipped": skipped,
        "database": _dump_database(db, store, day),
    }
    store.write_json(backup_key(day, "manifest.json"), manifest)  # last: the backup is now complete
    manifest["pruned"] = prune(store, keep_days, day)
    logger.info(
        "backup %s: %d files, database %s, pruned %s",
        day,
        len(files),
        manifest["database"]["dialect"],
        manifest["pruned"],
    )
    return manifest


def _read_checked(store: Store, key: str, sha: str) -> bytes:
    data = store.read_bytes(key)
    if hashlib.sha256(data).hexdigest() != sha:
        raise BackupError(f"{store.uri(key)} does not match the sha256 in its backup's manifest")
    return data


def _backup_rows(store: Store, day: date, database: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """The rows of each table in a backup, as Python values."""
    if database["dialect"] == "sqlite":
        data = _read_checked(store, backup_key(day, "db/platform.sqlite"), database["files"]["db/platform.sqlite"])
        with tempfile.TemporaryDirectory(prefix="nbr-restore-") as tmp:
            copy = Path(tmp) / "platform.sqlite"
            copy.write_bytes(data)
            engine = sa.create_engine(f"sqlite:///{copy}")
            try:
                with engine.connect() as conn:
                    names = set(sa.inspect(conn).get_table_names())
                    return {
                        t.name: [dict(r._mapping) for r in conn.execute(sa.select(t))]
                        for t in Base.metadata.sorted_tables
                        if t.name in names
                    }
            finally:
                engine.dispose()
    tables: dict[str, list[dict[str, Any]]] = {}
    for table in Base.metadata.sorted_tables:
        name = f"db/{table.name}.jsonl"
        if name not in database["files"]:
            continue
        data = _read_checked(store, backup_key(day, name), database["files"][name])
        tables[table.name] = [json.loads(line) for line in data.decode().splitlines() if line]
    return tables


def _as_utc(tables: dict[str, list[dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    """Timestamps were written in UTC; SQLite and JSON lines may hand them back as text or naive."""
    for table in Base.metadata.sorted_tables:
        stamps = [c.name for c in table.columns if isinstance(c.type, sa.DateTime)]
        for row in tables.get(table.name, []):
            for name in (n for n in stamps if n in row):
                value = row[name]
                if isinstance(value, str):
                    value = datetime.fromisoformat(value)
                if isinstance(value, datetime) and value.tzinfo is None:
                    value = value.replace(tzinfo=UTC)
                row[name] = value
    return tables


def _merge_rows(db: PlatformDB, tables: dict[str, list[dict[str, Any]]]) -> dict[str, int]:
    """Insert the rows that are missing; rows that exist win. Surrogate ids are assigned afresh."""
    counts = {}
    try:
        with db.engine.begin() as conn:
            for table in Base.metadata.sorted_tables:
                rows = tables.get(table.name, [])
                surrogate = {
                    c.name
                    for c in table.primary_key.columns
                    if c.autoincrement is True or (c.autoincrement == "auto" and isinstance(c.type, sa.Integer))
                }
                known = {c.name for c in table.columns} - surrogate
                inserted = 0
                for row in rows:
                    values = {k: v for k, v in row.items() if k in known}
                    stmt = dialect_insert(db.engine, table).values(**values).on_conflict_do_nothing()
                    # RETURNING, not rowcount: psycopg 3 reports -1 for these inserts
                    inserted += conn.execute(stmt.returning(*table.primary_key.columns)).first() is not None
                counts[table.name] = inserted
    except SQLAlchemyError as exc:
        raise DatabaseError(f"could not merge the backup into the platform database: {exc}") from exc
    return counts


def restore_backup(
    store: Store, db: PlatformDB, notebooks_dir: Path, day: date, *, overwrite: bool = False, author: str | None = None
) -> dict[str, Any]:
    """Bring back the report folders and database rows of the backup of ``day``; what was done."""
    try:
        manifest = store.read_json(backup_key(day, "manifest.json"))
    except StoreError as exc:
        known = ", ".join(store.list(PREFIX)) or "none"
        raise BackupError(f"no complete backup of {day} (backups: {known})") from exc
    root = notebooks_dir.absolute()
    result: dict[str, Any] = {"restored": [], "unchanged": [], "kept": [], "overwritten": []}
    files: list[tuple[dict[str, Any], Path, bytes]] = []
    for entry in manifest["files"]:  # everything is checked before anything is changed
        target = (root / entry["path"]).absolute()
        if root not in target.parents:
            raise BackupError(f"backup {day} names a file outside the notebooks folder: {entry['path']}")
        files.append(
            (entry, target, _read_checked(store, backup_key(day, f"notebooks/{entry['path']}"), entry["sha256"]))
        )
    tables = _as_utc(_backup_rows(store, day, manifest["database"]))
    # records first, so restored versions keep their original provenance (the restore is logged on top)
    result["database_rows"] = _merge_rows(db, tables)
    for entry, target, data in files:
        report = Path(entry["path"]).parts[0]
        state = "restored"
        if target.is_file():
            current = target.read_bytes()
            if current == data:
                result["unchanged"].append(entry["path"])
                continue
            if not overwrite:
                result["kept"].append(entry["path"])
                continue
            state = "overwritten"
        if target.suffix == ".ipynb":  # nothing saved is lost: the content replaced becomes a version
            write_restored(
                store,
                db,
                report,
                target,
                data,
                author=author,
                origin=f"backup {day}: {entry['path']}",
                replaced_origin=f"{target} before restoring backup {day}",
            )
        else:
            write_file_atomic(target, data)
        result[state].append(entry["path"])
    return result
