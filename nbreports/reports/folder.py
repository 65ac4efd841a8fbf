"""A report folder on disk: which file is its notebook, and reading that notebook.

The catalog, version restores and the Jupyter hook all ask this one module, so they agree on
which notebook belongs to a report.
"""

from __future__ import annotations

from pathlib import Path

import nbformat

from nbreports.errors import SpecError
from nbreports.reports.spec import SPEC_FILE, ReportSpec


def notebook_candidates(folder: Path) -> list[Path]:
    """The notebooks in ``folder`` (hidden files such as checkpoints and temporary saves left out)."""
    return sorted(p for p in folder.glob("*.ipynb") if not p.name.startswith("."))


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
    raise SpecError(
        spec_file, "notebook", f"expected exactly one .ipynb in {folder} (found {len(found)}); name it in 'notebook'"
    )


def is_report_notebook(path: Path, spec: ReportSpec | None) -> bool:
    """Whether ``path`` is (one of) the report's notebook(s): the spec's ``notebook``, or any when it names none."""
    if path.suffix != ".ipynb" or path.name.startswith("."):
        return False
    return path.name == spec.notebook if spec is not None and spec.notebook else True


def read_notebook(path: Path) -> nbformat.NotebookNode:
    """Parse and validate a notebook file; errors name the file."""
    try:
        nb: nbformat.NotebookNode = nbformat.reads(path.read_text(encoding="utf-8"), as_version=4)
        nbformat.validate(nb)
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(str(path), "", f"cannot read the notebook: {exc}") from exc
    except Exception as exc:  # nbformat raises JSONDecodeError, NotJSONError, ValidationError
        raise SpecError(str(path), "", f"not a valid Jupyter notebook (nbformat 4 JSON expected): {exc}") from exc
    return nb
