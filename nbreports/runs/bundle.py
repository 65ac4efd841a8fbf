"""A report folder's files as one content-addressed bundle in the store (``bundles/<sha256>.tar``).

A pod on a cluster cannot see the worker's disk, so the files a notebook reads beside itself (its
data files, helper modules) travel through the store: prepare stores the folder once per content
(``store_bundle``), the run records the digest (``RunPlan.bundle``), and the pod's init container
fetches it into its scratch working directory (``python -m nbreports.runs.bundle SHA DEST``).

The tar is deterministic — sorted paths, zeroed times and owners, modes reduced to 0644/0755 — so
the same files always give the same digest and are stored once. Nothing in it can reach outside
the folder it is unpacked into: only regular files and directories, relative paths without
``..``; a symlink is stored as the file it points to when that file is inside the report folder,
and refused otherwise. Unpacking checks the digest first and refuses anything else.
"""

from __future__ import annotations

import hashlib
import io
import os
import posixpath
import sys
import tarfile
from pathlib import Path

from nbreports.errors import CorruptObjectError, NbreportsError, SpecError, UnsafePathError
from nbreports.identifiers import SHA256
from nbreports.storage.store import Store

SKIPPED = frozenset({".ipynb_checkpoints", "__pycache__"})  # editor and interpreter leftovers, never data
MAX_BUNDLE_BYTES = 512 * 2**20  # a report folder holds small data files; anything bigger belongs in the store


def _entries(folder: Path) -> list[tuple[str, Path | None]]:
    """``(relative POSIX path, the file to read or None for a directory)``, sorted by path."""
    root = folder.resolve()
    entries: list[tuple[str, Path | None]] = []
    for current, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d not in SKIPPED]
        base = Path(current)
        for name in [*dirs, *files]:
            path = base / name
            rel = path.relative_to(root).as_posix()
            if path.is_symlink():
                target = path.resolve()
                if not target.is_relative_to(root) or not target.is_file():
                    raise UnsafePathError(
                        f"report folder {folder}: {rel} is a symlink to {os.readlink(path)!r}, which is not a "
                        "file inside the report folder (a pod could not see it); copy the file in instead"
                    )
                entries.append((rel, target))
            elif path.is_dir():
                entries.append((rel, None))
            elif path.is_file():
                entries.append((rel, path))
            else:
                raise UnsafePathError(f"report folder {folder}: {rel} is neither a file nor a folder")
        dirs[:] = [d for d in dirs if not (base / d).is_symlink()]  # never walked: refused or stored above
    return sorted(entries)


def build_bundle(folder: Path, max_bytes: int = MAX_BUNDLE_BYTES) -> bytes:
    """The report folder's files as a deterministic tar (the same files give the same bytes)."""
    if not folder.is_dir():
        raise SpecError(str(folder), "", "the report folder does not exist")
    buffer = io.BytesIO()
    total = 0
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for rel, source in _entries(folder):
            info = tarfile.TarInfo(rel)
            info.mtime, info.uid, info.gid, info.uname, info.gname = 0, 0, 0, "", ""
            if source is None:
                info.type, info.mode = tarfile.DIRTYPE, 0o755
                tar.addfile(info)
                continue
            data = source.read_bytes()
            total += len(data)
            if total > max_bytes:
                raise SpecError(
                    str(folder), "", f"its files are over {max_bytes // 2**20} MiB: keep large data in the store"
                )
            info.size, info.mode = len(data), 0o755 if source.stat().st_mode & 0o111 else 0o644
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def bundle_digest(folder: Path) -> str:
    """The sha256 the bundle of ``folder`` has (what ``store_bundle`` would return), storing nothing."""
    return hashlib.sha256(build_bundle(folder)).hexdigest()


def store_bundle(store: Store, folder: Path) -> str:
    """Store the bundle of ``folder`` once (``bundles/<sha256>.tar``); its sha256."""
    data = build_bundle(folder)
    sha = hashlib.sha256(data).hexdigest()
    key = Store.bundle_key(sha)
    if not store.exists(key):
        store.write_bytes(key, data)
    return sha


def _check_member(sha: str, member: tarfile.TarInfo) -> str:
    """The member's safe relative path; ``UnsafePathError`` for links, devices and escaping names."""
    name = member.name
    if not (member.isreg() or member.isdir()):
        raise UnsafePathError(f"bundle {sha}: {name!r} is not a regular file or folder (links and devices refused)")
    parts = name.split("/")
    if not name or name.startswith("/") or "\0" in name or ".." in parts or posixpath.normpath(name) != name:
        raise UnsafePathError(f"bundle {sha}: member {name!r} is not a plain relative path")
    return name


def _no_link_on_the_way(dest: Path, rel: str) -> Path:
    """``dest/rel``, after checking that no part of it below ``dest`` is a symlink already there."""
    path = dest
    for part in rel.split("/"):
        path = path / part
        if path.is_symlink():
            raise UnsafePathError(f"{path} is a symlink: refusing to unpack through it")
    return path


def extract_bundle(sha: str, data: bytes, dest: Path) -> int:
    """Unpack the bundle ``data`` (already verified as ``sha``) into ``dest``; the number of files."""
    dest.mkdir(parents=True, exist_ok=True)
    files = 0
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as tar:
        for member in tar.getmembers():
            path = _no_link_on_the_way(dest, _check_member(sha, member))
            if member.isdir():
                path.mkdir(mode=0o755, exist_ok=True)
                continue
            source = tar.extractfile(member)
            if source is None:  # a regular member always has a file object
                raise CorruptObjectError(f"bundle {sha}: {member.name!r} has no content")
            path.parent.mkdir(parents=True, exist_ok=True)
            mode = 0o755 if member.mode & 0o111 else 0o644
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0), mode)
            with os.fdopen(fd, "wb") as out:
                out.write(source.read())
            files += 1
    return files


def fetch_bundle(store: Store, sha: str, dest: Path) -> int:
    """Unpack the stored bundle ``sha`` into ``dest`` after checking its sha256; the number of files."""
    if not isinstance(sha, str) or not SHA256.fullmatch(sha):
        raise UnsafePathError(f"invalid bundle digest {sha!r}: expected 64 lower-case hex digits")
    data = store.read_bytes(Store.bundle_key(sha))
    actual = hashlib.sha256(data).hexdigest()
    if actual != sha:
        raise CorruptObjectError(f"{store.uri(Store.bundle_key(sha))} has sha256 {actual}, not {sha}: not unpacked")
    try:
        return extract_bundle(sha, data, dest)
    except tarfile.TarError as exc:
        raise CorruptObjectError(f"bundle {sha} is not a readable tar: {exc}") from exc


def main(argv: list[str] | None = None) -> int:
    """``python -m nbreports.runs.bundle SHA DEST``: what a pod's init container runs, on the pod's store."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print("usage: python -m nbreports.runs.bundle SHA DEST", file=sys.stderr)
        return 2
    from nbreports.settings import get_settings
    from nbreports.storage.store import open_store

    settings = get_settings()
    try:
        files = fetch_bundle(open_store(settings.resolved_store_url, settings.store_options), args[0], Path(args[1]))
    except NbreportsError as exc:
        print(f"could not fetch the report folder's bundle: {exc}", file=sys.stderr)
        return 1
    print(f"report folder bundle {args[0][:12]}: {files} files in {args[1]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
