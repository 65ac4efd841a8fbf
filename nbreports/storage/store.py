"""The store: one interface over a local folder and object storage (S3), through fsspec.

Layout (all keys relative to the store root)::

    versions/<sha256>.ipynb                  each notebook version, stored once
    bundles/<sha256>.tar                     a report folder's files, stored once (runs/bundle.py)
    runs/<report>/<run_id>/input.ipynb       the exact notebook run, parameters injected
    runs/<report>/<run_id>/output.ipynb      the executed notebook (also when it failed)
    runs/<report>/<run_id>/report.html       the published report
    runs/<report>/<run_id>/scraps.json       scraps glued by the notebook
    runs/<report>/<run_id>/run.json          the run record
    reports/<report>/latest.json             the last successful run

Schemes are a named registry, like papermill's I/O handlers: ``register_scheme("gs", factory)``.

Every failure of the filesystem underneath is a ``StoreError`` naming the object's URI: an
unreachable endpoint raises the object store's own exceptions (botocore's
``EndpointConnectionError`` is no ``OSError``), and callers (publish recording a run it could not
store) must be able to tell a store failure from a bug of theirs.
"""

from __future__ import annotations

import json
import posixpath
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import fsspec
from fsspec.implementations.local import LocalFileSystem

from nbreports.errors import CorruptObjectError, StoreError, UnsafePathError
from nbreports.identifiers import check_report_name, check_run_id, check_sha256
from nbreports.storage.files import write_file_atomic


class Store:
    """Keys are POSIX-style relative paths below ``root`` on the filesystem ``fs``."""

    def __init__(self, fs: fsspec.AbstractFileSystem, root: str, url_prefix: str) -> None:
        self.fs = fs
        self.root = root.rstrip("/")
        self.url_prefix = url_prefix.rstrip("/")
        self._local = isinstance(fs, LocalFileSystem)

    def __repr__(self) -> str:
        return f"Store({self.url_prefix!r})"

    # -- keys -----------------------------------------------------------------
    @staticmethod
    def version_key(sha: str) -> str:
        """The store key of the notebook version ``sha``."""
        return f"versions/{check_sha256(sha)}.ipynb"

    @staticmethod
    def bundle_key(sha: str) -> str:
        """The store key of the report-folder bundle ``sha`` (the sha256 of the tar)."""
        return f"bundles/{check_sha256(sha)}.tar"

    @staticmethod
    def run_key(report: str, run_id: str, name: str = "") -> str:
        """The store key of ``name`` in this run's folder (the folder itself when no name)."""
        base = f"runs/{check_report_name(report)}/{check_run_id(run_id)}"
        return f"{base}/{name}" if name else base

    @staticmethod
    def latest_key(report: str) -> str:
        """The store key of the record of ``report``'s last successful run."""
        return f"reports/{check_report_name(report)}/latest.json"

    def _path(self, key: str) -> str:
        norm = posixpath.normpath(key)
        if key.startswith("/") or norm.startswith("..") or norm != key.rstrip("/"):
            raise UnsafePathError(f"store key {key!r} is not a plain relative path")
        return f"{self.root}/{norm}"

    def uri(self, key: str) -> str:
        """A URI a person or another tool can open (``file://...`` or ``s3://...``)."""
        self._path(key)
        return f"{self.url_prefix}/{key}"

    # -- reading and writing ----------------------------------------------------
    def write_bytes(self, key: str, data: bytes) -> str:
        """Write atomically: readers see the old object or the new one, never half of one."""
        path = self._path(key)
        try:
            if self._local:
                write_file_atomic(Path(path), data, durable=False)
            else:
                self.fs.pipe_file(path, data)  # an object PUT is atomic
        except Exception as exc:  # OSError, or the object store's own (see the module docstring)
            raise StoreError(f"could not write {self.uri(key)}: {_reason(exc)}") from exc
        return self.uri(key)

    def read_bytes(self, key: str) -> bytes:
        """The object at ``key``; ``StoreError`` when it does not exist or cannot be read."""
        path = self._path(key)
        try:
            return bytes(self.fs.cat_file(path))
        except FileNotFoundError as exc:
            raise StoreError(f"{self.uri(key)} does not exist") from exc
        except Exception as exc:
            raise StoreError(f"could not read {self.uri(key)}: {_reason(exc)}") from exc

    def write_json(self, key: str, value: Any) -> str:
        """Write ``value`` as indented JSON (anything else as its ``str``), atomically; its URI."""
        return self.write_bytes(key, json.dumps(value, indent=2, default=str).encode())

    def read_json(self, key: str) -> Any:
        """The JSON object at ``key``; ``CorruptObjectError`` (a ``StoreError``) when it is not JSON."""
        data = self.read_bytes(key)
        try:
            return json.loads(data)
        except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError
            raise CorruptObjectError(f"{self.uri(key)} is not valid JSON: {exc}") from exc

    def exists(self, key: str) -> bool:
        """Whether there is an object at ``key``."""
        path = self._path(key)
        try:
            return bool(self.fs.exists(path))
        except Exception as exc:
            raise StoreError(f"could not check {self.uri(key)}: {_reason(exc)}") from exc

    def download(self, key: str, local_path: Path) -> None:
        """Copy the object at ``key`` to the local file ``local_path``."""
        local_path.write_bytes(self.read_bytes(key))

    def list(self, prefix: str) -> list[str]:
        """Keys directly below ``prefix`` (names only)."""
        path = self._path(prefix)
        try:
            entries = self.fs.ls(path, detail=False)
        except FileNotFoundError:
            return []
        except Exception as exc:
            raise StoreError(f"could not list {self.uri(prefix)}: {_reason(exc)}") from exc
        return sorted(posixpath.basename(str(e).rstrip("/")) for e in entries)


def _reason(exc: Exception) -> str:
    """What went wrong, with the exception's type when its message alone does not say (``EndpointConnectionError``)."""
    return f"{type(exc).__name__}: {exc}" if not isinstance(exc, OSError) else str(exc)


StoreFactory = Callable[[str, dict[str, Any]], Store]
_SCHEMES: dict[str, StoreFactory] = {}


def register_scheme(scheme: str, factory: StoreFactory) -> None:
    """Make ``open_store`` understand URLs of ``scheme``."""
    _SCHEMES[scheme] = factory


def _local_store(url: str, options: dict[str, Any]) -> Store:
    root = Path(url.removeprefix("file://")).absolute()
    root.mkdir(parents=True, exist_ok=True)
    return Store(LocalFileSystem(), str(root), root.as_uri())


def _s3_store(url: str, options: dict[str, Any]) -> Store:
    parsed = urlparse(url)
    client_kwargs = {k: options[k] for k in ("endpoint_url", "region_name") if k in options}
    fs = fsspec.filesystem(
        "s3",
        client_kwargs=client_kwargs,
        skip_instance_cache=True,
        **{k: v for k, v in options.items() if k not in client_kwargs},
    )
    root = f"{parsed.netloc}{parsed.path}".rstrip("/")
    return Store(fs, root, f"s3://{root}")


register_scheme("file", _local_store)
register_scheme("", _local_store)
register_scheme("s3", _s3_store)


def open_store(url: str, options: dict[str, Any] | None = None) -> Store:
    """Open the store at ``url``: a local path, ``file://...`` or ``s3://bucket/prefix``."""
    scheme = urlparse(url).scheme if "://" in url else ""
    try:
        factory = _SCHEMES[scheme]
    except KeyError:
        raise StoreError(f"no store for URL scheme {scheme!r} in {url!r}; known: {sorted(_SCHEMES)}") from None
    return factory(url, options or {})
