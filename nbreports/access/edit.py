"""The writes that need *change*: a new notebook version, a restored version, new access rules.

Each checks its input first and changes nothing when it is wrong (a ``SpecError`` naming the
field); files are replaced in one rename (``storage.files.write_file_atomic``) and every new
notebook is recorded as a version (``history.versions.save_version``). Who may call these is the
caller's decision (``access.policy``); what was done is the caller's to audit (``access.audit``).
"""

from __future__ import annotations

import hashlib
import json
import re

from nbreports.access.grants import AccessGrants
from nbreports.access.rules import ReportRules, resolve_rules
from nbreports.access.teams import TeamsConfig
from nbreports.browse.versions import has_version
from nbreports.errors import SpecError
from nbreports.history.versions import notebook_kernel, restore_version, save_version
from nbreports.reports.catalog import Report, check_kernelspec
from nbreports.reports.folder import parse_notebook
from nbreports.reports.parameters import infer_parameters
from nbreports.reports.spec import load_spec
from nbreports.runs.model import Platform
from nbreports.storage.files import write_file_atomic

MAX_NOTEBOOK_BYTES = 16 * 1024 * 1024
_PLAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")
_YAML_WORDS = {"y", "n", "yes", "no", "on", "off", "true", "false", "null", "none"}
_ACCESS_LINE = re.compile(r"^access\s*:(?P<rest>.*)$")


def check_notebook(
    data: bytes, report: Report, *, field: str = "notebook", max_bytes: int = MAX_NOTEBOOK_BYTES
) -> None:
    """Refuse anything but a valid nbformat 4 notebook whose parameters cell the report can use.

    The same checks, in the same words, as the catalog's (``reports.folder.parse_notebook``,
    ``check_kernelspec``, ``infer_parameters``): what an upload may write, the catalog can load.
    """
    where = f"upload for {report.name}"
    if not data:
        raise SpecError(where, field, "is empty")
    if len(data) > max_bytes:
        raise SpecError(where, field, f"is {len(data):,} bytes; the limit is {max_bytes:,}")
    nb = parse_notebook(data, where, field)
    check_kernelspec(nb, report.spec, where, field)
    infer_parameters(nb, f"{where}: {field}", report.spec.parameters)


def upload_notebook(
    platform: Platform, report: Report, data: bytes, *, author: str, filename: str | None = None
) -> str:
    """Make ``data`` the report's notebook (source ``upload``); its sha256.

    The content it replaces is kept as a version first when it never was one (source
    ``pre-upload``), so an upload cannot lose an edit made on disk.
    """
    check_notebook(data, report)
    db, store = platform.db, platform.store
    target = report.notebook_path
    if target.is_file():
        current = target.read_bytes()
        if not has_version(db, report.name, hashlib.sha256(current).hexdigest()):
            save_version(
                store, db, report.name, current, kernel=notebook_kernel(current), source="pre-upload", author=author,
                origin=f"{target.name} before an upload",
            )  # fmt: skip
    write_file_atomic(target, data)
    origin = f"upload of {filename[:200]!r}" if filename else "upload"
    return save_version(store, db, report.name, data, kernel=notebook_kernel(data), source="upload", author=author,
                        origin=origin)  # fmt: skip


def restore(platform: Platform, report: Report, version: str, *, author: str) -> str:
    """Put a recorded version back as the report's notebook (``history.versions.restore_version``)."""
    return restore_version(platform.store, platform.db, report.folder, version, author=author)


def _scalar(value: str) -> str:
    return value if _PLAIN.fullmatch(value) and value.lower() not in _YAML_WORDS else json.dumps(value)


def render_access(grants: AccessGrants) -> list[str]:
    """The ``access:`` block for ``grants``, one flow-style line per action (none when it grants nothing)."""
    lines = []
    for action in ("view", "execute"):
        who = getattr(grants, action)
        parts = [
            f"{kind}: [{', '.join(_scalar(v) for v in getattr(who, kind))}]" for kind in ("teams", "roles", "users")
        ]
        parts = [p for p in parts if not p.endswith("[]")]
        if parts:
            lines.append(f"  {action}: {{{', '.join(parts)}}}\n")
    return ["access:\n", *lines] if lines else []


def replace_access_block(text: str, grants: AccessGrants) -> str:
    """``report.yaml``'s text with only its top-level ``access:`` block replaced (or added, or removed).

    Everything outside the block is kept as it was, comments included, and so is a comment on the
    ``access:`` line itself; comments inside the old block go with it.
    """
    lines = text.splitlines(keepends=True)
    new = render_access(grants)
    start = next((i for i, line in enumerate(lines) if _ACCESS_LINE.match(line)), None)
    if start is None:
        if not new:
            return text
        after = next((i + 1 for i, line in enumerate(lines) if re.match(r"^team\s*:", line)), len(lines))
        if after == len(lines) and lines and not lines[-1].endswith("\n"):
            lines[-1] += "\n"
        return "".join([*lines[:after], *new, *lines[after:]])
    end = start + 1
    while end < len(lines) and (lines[end][:1] in (" ", "\t") or not lines[end].strip()):
        end += 1
    while end > start + 1 and not lines[end - 1].strip():
        end -= 1  # blank lines after the block belong to what follows
    match = _ACCESS_LINE.match(lines[start])
    rest = match.group("rest").rstrip("\r\n") if match else ""
    if new and rest.strip().startswith("#"):
        new[0] = f"access:{rest}\n"
    return "".join([*lines[:start], *new, *lines[end:]])


def set_access(report: Report, grants: AccessGrants, teams: TeamsConfig) -> ReportRules:
    """Check ``grants`` against the teams file, then rewrite only ``access:`` in ``report.yaml``.

    A grant naming an unknown team, role or person, or sharing a restricted team's report outside
    it, raises the ``SpecError`` of ``resolve_rules`` and leaves the file as it was.
    """
    path = report.spec_path
    rules = resolve_rules(str(path), report.name, report.spec.team, grants, teams)
    old = path.read_bytes()
    new = replace_access_block(old.decode("utf-8"), grants).encode("utf-8")
    if load_spec(path, new).access != grants:  # pragma: no cover - the rewrite is checked, never trusted
        raise SpecError(str(path), "access", "could not rewrite the access block; edit report.yaml by hand")
    if new != old:
        write_file_atomic(path, new)
    return rules
