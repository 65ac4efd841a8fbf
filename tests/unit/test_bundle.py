"""Report-folder bundles: deterministic, stored once, fetched only after their digest checks, never unpacked outside."""

import hashlib
import io
import os
import tarfile
from pathlib import Path

import pytest

from nbreports.errors import CorruptObjectError, SpecError, UnsafePathError
from nbreports.runs.bundle import build_bundle, bundle_digest, fetch_bundle, main, store_bundle
from nbreports.storage.store import Store


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A report folder with a data file, a helper script, a subfolder and the leftovers a bundle skips."""
    root = tmp_path / "report"
    (root / "data").mkdir(parents=True)
    (root / "report.ipynb").write_text("{}")
    (root / "data" / "orders.csv").write_text("id,amount\n1,9.5\n")
    (root / "helper.sh").write_text("#!/bin/sh\necho hi\n")
    (root / "helper.sh").chmod(0o750)
    (root / "empty").mkdir()
    for junk in (".ipynb_checkpoints", "__pycache__", "data/__pycache__"):
        (root / junk).mkdir()
        (root / junk / "x.pyc").write_bytes(b"\0")
    return root


def names(data: bytes) -> list[str]:
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        return tar.getnames()


def test_the_same_files_give_the_same_bytes(folder):
    first = build_bundle(folder)
    os.utime(folder / "data" / "orders.csv", (1, 1))
    (folder / "report.ipynb").chmod(0o600)
    assert build_bundle(folder) == first  # times and group/other bits do not matter
    assert names(first) == ["data", "data/orders.csv", "empty", "helper.sh", "report.ipynb"]  # sorted, no leftovers
    with tarfile.open(fileobj=io.BytesIO(first)) as tar:
        members = {m.name: m for m in tar.getmembers()}
    assert {(m.mtime, m.uid, m.gid, m.uname, m.gname) for m in members.values()} == {(0, 0, 0, "", "")}
    assert members["helper.sh"].mode == 0o755
    assert members["report.ipynb"].mode == 0o644
    (folder / "data" / "orders.csv").write_text("id,amount\n1,9.6\n")
    assert build_bundle(folder) != first  # content is what the digest addresses


def test_stored_once_and_fetched_back(folder, store, tmp_path):
    sha = store_bundle(store, folder)
    assert sha == bundle_digest(folder) == hashlib.sha256(store.read_bytes(Store.bundle_key(sha))).hexdigest()
    assert store_bundle(store, folder) == sha
    assert store.list("bundles") == [f"{sha}.tar"]
    dest = tmp_path / "pod" / "work"
    assert fetch_bundle(store, sha, dest) == 3
    assert (dest / "data" / "orders.csv").read_text() == "id,amount\n1,9.5\n"
    assert (dest / "empty").is_dir()
    assert os.access(dest / "helper.sh", os.X_OK)
    assert not (dest / ".ipynb_checkpoints").exists()
    assert fetch_bundle(store, sha, dest) == 3  # a restarted init container unpacks again over its own files


def test_an_existing_bundle_is_not_written_again(folder, local_store):
    sha = store_bundle(local_store, folder)
    path = Path(local_store.root) / Store.bundle_key(sha)
    inode = path.stat().st_ino
    store_bundle(local_store, folder)
    assert path.stat().st_ino == inode  # an atomic write would have replaced the file


def test_symlinks_inside_are_files_and_outside_are_refused(folder, tmp_path):
    (folder / "latest.csv").symlink_to("data/orders.csv")
    assert "latest.csv" in names(build_bundle(folder))
    with tarfile.open(fileobj=io.BytesIO(build_bundle(folder))) as tar:
        member = tar.getmember("latest.csv")
        assert member.isreg()
        assert tar.extractfile(member).read() == b"id,amount\n1,9.5\n"  # type: ignore[union-attr]
    secret = tmp_path / "secret.txt"
    secret.write_text("not for the pod")
    (folder / "leak.txt").symlink_to(secret)
    with pytest.raises(UnsafePathError, match=r"leak\.txt is a symlink to .*secret\.txt.*not a file inside the report"):
        build_bundle(folder)
    (folder / "leak.txt").unlink()
    (folder / "loop").symlink_to(folder)  # a folder link could loop: refused too
    with pytest.raises(UnsafePathError, match="loop is a symlink"):
        build_bundle(folder)


def test_a_folder_over_the_limit_or_missing_is_a_spec_error(folder, tmp_path):
    with pytest.raises(SpecError, match="over 0 MiB"):
        build_bundle(folder, max_bytes=10)
    with pytest.raises(SpecError, match="the report folder does not exist"):
        build_bundle(tmp_path / "missing")


def test_a_corrupt_object_is_never_unpacked(folder, local_store, tmp_path):
    sha = store_bundle(local_store, folder)
    local_store.write_bytes(Store.bundle_key(sha), build_bundle(folder) + b"\0" * 512)
    dest = tmp_path / "dest"
    with pytest.raises(CorruptObjectError, match=f"not {sha}"):
        fetch_bundle(local_store, sha, dest)
    assert not dest.exists()
    with pytest.raises(UnsafePathError, match="invalid bundle digest"):
        fetch_bundle(local_store, "../../etc/passwd", dest)


def _evil(*members: tuple[tarfile.TarInfo, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for info, data in members:
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data) if data else None)
    return buffer.getvalue()


def _member(name: str, kind: bytes = tarfile.REGTYPE, link: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, link
    return info


@pytest.mark.parametrize(
    ("member", "problem"),
    [
        (_member("../outside.txt"), "not a plain relative path"),
        (_member("/etc/cron.d/evil"), "not a plain relative path"),
        (_member("a/../../outside.txt"), "not a plain relative path"),
        (_member("./a"), "not a plain relative path"),
        (_member("link", tarfile.SYMTYPE, "/etc/passwd"), "not a regular file or folder"),
        (_member("hard", tarfile.LNKTYPE, "/etc/passwd"), "not a regular file or folder"),
        (_member("dev", tarfile.CHRTYPE), "not a regular file or folder"),
        (_member("fifo", tarfile.FIFOTYPE), "not a regular file or folder"),
    ],
    ids=lambda v: v.name if isinstance(v, tarfile.TarInfo) else None,
)
def test_a_bundle_that_would_escape_is_refused(member, problem, local_store, tmp_path):
    data = _evil((_member("ok.txt"), b"fine"), (member, b"evil" if member.isreg() else b""))
    sha = hashlib.sha256(data).hexdigest()
    local_store.write_bytes(Store.bundle_key(sha), data)  # its digest matches: only the unpacking can refuse it
    dest = tmp_path / "a" / "dest"
    with pytest.raises(UnsafePathError, match=problem):
        fetch_bundle(local_store, sha, dest)
    assert not (tmp_path / "a" / "outside.txt").exists()
    assert not (tmp_path / "outside.txt").exists()


def test_an_existing_symlink_in_the_destination_is_not_followed(folder, local_store, tmp_path):
    sha = store_bundle(local_store, folder)
    dest, elsewhere = tmp_path / "dest", tmp_path / "elsewhere"
    dest.mkdir()
    elsewhere.mkdir()
    (dest / "data").symlink_to(elsewhere)
    with pytest.raises(UnsafePathError, match="is a symlink: refusing to unpack through it"):
        fetch_bundle(local_store, sha, dest)
    assert list(elsewhere.iterdir()) == []


def test_the_init_container_command(folder, local_store, tmp_path, monkeypatch, capsys):
    sha = store_bundle(local_store, folder)
    monkeypatch.setenv("NBREPORTS_STORE_URL", local_store.url_prefix)
    assert main([sha, str(tmp_path / "work")]) == 0
    assert f"report folder bundle {sha[:12]}: 3 files in {tmp_path / 'work'}" in capsys.readouterr().out
    assert (tmp_path / "work" / "report.ipynb").is_file()
    assert main(["0" * 64, str(tmp_path / "other")]) == 1
    assert "could not fetch the report folder's bundle" in capsys.readouterr().err
    assert main([]) == 2
