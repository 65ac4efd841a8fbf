"""Names that end up in store paths, DAG ids and URLs, and the rules that keep them safe."""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime

from nbreports.errors import UnsafePathError

REPORT_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")
SHA256 = re.compile(r"^[0-9a-f]{64}$")


def check_report_name(name: str) -> str:
    """Return ``name`` if it is a safe report name; raise ``UnsafePathError`` otherwise.

    Report names become store folders and DAG ids, so only lower-case letters, digits,
    ``_`` and ``-`` are allowed: nothing like ``..``, ``/`` or an absolute path gets through.
    """
    if not isinstance(name, str) or not REPORT_NAME.fullmatch(name):
        raise UnsafePathError(
            f"invalid report name {name!r}: expected 1-63 characters of a-z, 0-9, '_' or '-', "
            "starting with a letter or digit"
        )
    return name


def check_run_id(run_id: str) -> str:
    """Return ``run_id`` if it is safe in a store path; raise ``UnsafePathError`` otherwise."""
    if not isinstance(run_id, str) or not RUN_ID.fullmatch(run_id) or ".." in run_id:
        raise UnsafePathError(f"invalid run id {run_id!r}: expected letters, digits, '_', '.' or '-'")
    return run_id


def check_sha256(digest: str) -> str:
    """Return ``digest`` if it is a full lower-case sha256; raise ``UnsafePathError`` otherwise."""
    if not isinstance(digest, str) or not SHA256.fullmatch(digest):
        raise UnsafePathError(f"invalid notebook version {digest!r}: expected 64 hex digits")
    return digest


def new_run_id(now: datetime | None = None) -> str:
    """A fresh run id: sortable by time, and unique even for runs started in the same second."""
    now = now or datetime.now(UTC)
    return f"{now:%Y%m%dT%H%M%S}Z-{secrets.token_hex(4)}"
