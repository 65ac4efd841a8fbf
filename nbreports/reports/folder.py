"""A report folder on disk: which file is its notebook, and reading that notebook.

The catalog, version restores and the Jupyter hook all ask this one module, so they agree on
which notebook belongs to a report.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import nbformat
from nbformat.warnings import MissingIDFieldWarning

from nbreports.errors import SpecError
from nbreports.reports.spec import SPEC_FILE, ReportSpec


def notebook_candidates(folder: Path) -> list[Path]:
    """The notebooks in ``folder`` (hidden files such as checkpoints and temporary saves left out)."""
    return sorted(p for p in folder.glob("*.ipynb") if not p.name.startswith(".") and not p.is_dir())


def notebook_file(folder: Path, spec: ReportSpec | None, *, must_exist: bool = True) -> Path:
    """The report's notebook: the spec's ``notebook``, else the folder's one ``.ipynb``.

    With ``must_exist=False`` (restoring a version into an emptied folder) the answer may be a file
    that is not there yet: the spec's, the one notebook found, or ``<folder name>.ipynb``.
    """
    spec_file = str(folder / SPEC_FILE)
    if spec is not None and spec.notebook:
        path = folder / spec.notebook
        if path.parent != folder or (must_exist and not path.is_file()):
            raise SpecError(spec_file, "notebook", f"{spec.notebook!r} is not a notebook file in {folder}")
        return path
    found = notebook_candidates(folder)
    if len(found) == 1:
        return found[0]
    if not found and not must_exist:
        return folder / f"{folder.name}.ipynb"
    folders = sorted(p.name for p in folder.glob("*.ipynb") if p.is_dir() and not p.name.startswith("."))
    also = f" ({', '.join(folders)} is a folder, not a notebook file)" if folders else ""
    raise SpecError(
        spec_file,
        "notebook",
        f"expected exactly one .ipynb in {folder} (found {len(found)}){also}; name it in 'notebook'",
    )


def is_report_notebook(path: Path, spec: ReportSpec | None) -> bool:
    """Whether ``path`` is (one of) the report's notebook(s): the spec's ``notebook``, or any when it names none."""
    if path.suffix != ".ipynb" or path.name.startswith("."):
        return False
    return path.name == spec.notebook if spec is not None and spec.notebook else True


def not_utf8(exc: UnicodeDecodeError) -> str:
    """What to say about bytes that are not UTF-8: which byte, where."""
    return f"is not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at position {exc.start})"


def parse_notebook(data: bytes, file: str, field: str = "") -> nbformat.NotebookNode:
    """Parse and validate an nbformat 4 notebook; every refusal is a ``SpecError`` naming ``file`` and ``field``.

    The catalog and uploads share it, so a notebook is refused with the same words on disk and in
    the UI. Only nbformat 4 is accepted (an nbformat 3 file would be converted in memory while
    its bytes, which are what runs and is versioned, stay version 3).
    """
    if not data.strip():
        raise SpecError(file, field, "is empty: expected an nbformat 4 notebook (JSON)")
    try:
        text = data.decode("utf-8")
        content: Any = json.loads(text)
    except UnicodeDecodeError as exc:
        raise SpecError(file, field, f"{not_utf8(exc)}: a notebook is UTF-8 JSON") from exc
    except ValueError as exc:
        raise SpecError(file, field, f"is not a notebook (not JSON text: {exc})") from exc
    if not isinstance(content, dict) or content.get("nbformat") != 4:
        found = content.get("nbformat") if isinstance(content, dict) else type(content).__name__
        raise SpecError(
            file, field, f"is not an nbformat 4 notebook (nbformat: {found!r}); save or convert it as nbformat 4"
        )
    try:
        with warnings.catch_warnings():  # a 4.5 notebook without cell ids: validation says so, as an error
            warnings.simplefilter("ignore", MissingIDFieldWarning)
            nbformat.validate(content)
        nb: nbformat.NotebookNode = nbformat.reads(text, as_version=4)  # sources as strings, as papermill reads
    except nbformat.ValidationError as exc:
        where = ".".join(str(p) for p in getattr(exc, "absolute_path", ())) or "(notebook)"
        raise SpecError(file, field, f"is not a valid nbformat 4 notebook: {where}: {exc.message}") from exc
    except (TypeError, KeyError, AttributeError, ValueError) as exc:  # nbformat's normalizer trips on some shapes
        raise SpecError(file, field, f"is not a valid nbformat 4 notebook ({type(exc).__name__}: {exc})") from exc
    return nb


def read_notebook(path: Path) -> nbformat.NotebookNode:
    """Read, parse and validate a notebook file; errors name the file (and say it is no valid notebook)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SpecError(str(path), "", f"cannot read the notebook: {exc.strerror or exc}") from exc
    try:
        return parse_notebook(data, str(path))
    except SpecError as exc:
        raise SpecError(exc.file, exc.field, f"not a valid Jupyter notebook: {exc.problem}") from exc.__cause__
