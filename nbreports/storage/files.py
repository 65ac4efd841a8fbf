"""Replacing a local file in one rename, so a reader (an editor, the DAG parser) never sees half of it."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def _plain_mode() -> int:
    """The mode ``open()`` gives a new file: 0666 less the process's umask (read once, at import)."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


_PLAIN_MODE = _plain_mode()


def write_file_atomic(path: Path, data: bytes, *, durable: bool = True) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder and ``os.replace``.

    ``durable`` also fsyncs before the rename (notebooks, store objects); caches that can be
    derived again skip it.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
    try:
        os.fchmod(fd, _PLAIN_MODE)  # mkstemp's 0600 would hide stored objects from a pod's non-root user
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            if durable:
                fh.flush()
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
