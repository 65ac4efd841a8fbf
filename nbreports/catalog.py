"""Reports found in the notebooks folder, with what is derived from them cached by content hash.

The DAG factory calls ``load_reports`` on every parse, so deriving must be cheap: the
notebook's JSON is parsed only when its content (or its spec's) changed since last time.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat

from nbreports.errors import ReportNotFound, SpecError, UnsafePathError
from nbreports.names import check_report_name
from nbreports.parameters import Parameter, infer_parameters, parameters_from_dicts
from nbreports.spec import SPEC_FILE, ReportSpec, load_spec, parse_spec

_DERIVED_FORMAT = 1  # bump when what is cached changes shape


@dataclass(frozen=True)
class Report:
    """A report as found on disk: its spec, its notebook and what was derived from them."""

    name: str
    folder: Path
    notebook_path: Path
    spec: ReportSpec
    parameters: list[Parameter]
    doc_md: str
    notebook_sha: str
    kernel: str | None = None
    derived: dict[str, Any] = field(default_factory=dict, repr=False)


def read_notebook(path: Path) -> nbformat.NotebookNode:
    """Parse and validate a notebook file; errors name the file."""
    try:
        nb = nbformat.reads(path.read_text(encoding="utf-8"), as_version=4)
        nbformat.validate(nb)
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(str(path), "", f"cannot read the notebook: {exc}") from exc
    except Exception as exc:  # nbformat raises JSONDecodeError, NotJSONError, ValidationError
        raise SpecError(str(path), "", f"not a valid Jupyter notebook (nbformat 4 JSON expected): {exc}") from exc
    return nb


def _first_markdown(nb: nbformat.NotebookNode) -> str:
    for cell in nb.cells:
        if cell.cell_type == "markdown" and cell.source.strip():
            return str(cell.source)
    return ""


def _notebook_file(folder: Path, spec: ReportSpec, spec_file: str) -> Path:
    if spec.notebook:
        path = folder / spec.notebook
        if path.parent != folder or not path.is_file():
            raise SpecError(spec_file, "notebook", f"{spec.notebook!r} is not a notebook file in {folder}")
        return path
    candidates = sorted(p for p in folder.glob("*.ipynb") if not p.name.startswith("."))
    if len(candidates) != 1:
        raise SpecError(
            spec_file, "notebook",
            f"expected exactly one .ipynb in {folder} (found {len(candidates)}); name it in 'notebook'",
        )
    return candidates[0]


def _derive(name: str, folder: Path, nb_path: Path, spec: ReportSpec, nb_bytes: bytes) -> dict[str, Any]:
    nb = read_notebook(nb_path)
    params = infer_parameters(nb, str(folder / SPEC_FILE), spec.parameters)
    if spec.cache.ttl and any(p.name == "force" for p in params):
        raise SpecError(str(nb_path), "parameters.force",
                        "'force' is the trigger parameter that bypasses the run cache; rename the notebook's one")
    kernel = nb.metadata.get("kernelspec", {}).get("name")
    return {
        "format": _DERIVED_FORMAT,
        "parameters": [p.to_dict() for p in params],
        "doc_md": _first_markdown(nb),
        "kernel": kernel,
    }


def load_report(folder: Path, cache_dir: Path | None = None) -> Report:
    """Load one report folder. Raises ``SpecError`` (or ``UnsafePathError``) when it is invalid."""
    folder = folder.absolute()
    try:
        name = check_report_name(folder.name)
    except UnsafePathError as exc:
        raise SpecError(str(folder), "(folder name)", str(exc)) from exc
    spec_path = folder / SPEC_FILE
    try:
        spec_bytes = spec_path.read_bytes()
    except FileNotFoundError:
        raise SpecError(str(spec_path), "", f"missing {SPEC_FILE}: every report folder needs one") from None
    spec = load_spec(spec_path, spec_bytes)
    nb_path = _notebook_file(folder, spec, str(spec_path))
    nb_bytes = nb_path.read_bytes()
    nb_sha = hashlib.sha256(nb_bytes).hexdigest()
    key = hashlib.sha256(nb_bytes + b"\0" + spec_bytes).hexdigest()

    derived: dict[str, Any] | None = None
    cache_file = cache_dir / f"{key}.json" if cache_dir else None
    if cache_file and cache_file.is_file():
        try:
            derived = json.loads(cache_file.read_bytes())
            if derived.get("format") != _DERIVED_FORMAT:
                derived = None
        except (OSError, ValueError):
            derived = None
    if derived is None:
        derived = _derive(name, folder, nb_path, spec, nb_bytes)
        if cache_file:
            cache_file.parent.mkdir(parents=True, exist_ok=True)
            tmp = cache_file.with_suffix(f".tmp{os.getpid()}")
            tmp.write_text(json.dumps(derived))
            os.replace(tmp, cache_file)
    return Report(
        name=name,
        folder=folder,
        notebook_path=nb_path,
        spec=spec,
        parameters=parameters_from_dicts(derived["parameters"]),
        doc_md=derived["doc_md"],
        notebook_sha=nb_sha,
        kernel=derived.get("kernel"),
        derived=derived,
    )


def discover(notebooks_dir: Path) -> list[Path]:
    """Report folders: sub-folders of ``notebooks_dir`` that hold a ``report.yaml``."""
    if not notebooks_dir.is_dir():
        return []
    return sorted(p for p in notebooks_dir.iterdir() if (p / SPEC_FILE).is_file())


def load_reports(notebooks_dir: Path, cache_dir: Path | None = None) -> tuple[list[Report], dict[str, SpecError]]:
    """All valid reports, and an error per invalid one (one bad report never hides the others)."""
    reports, errors = [], {}
    for folder in discover(notebooks_dir):
        try:
            reports.append(load_report(folder, cache_dir))
        except SpecError as exc:
            errors[str(folder)] = exc
    return reports, errors


def find_report(notebooks_dir: Path, name_or_path: str, cache_dir: Path | None = None) -> Report:
    """A report by name (``sales_summary``) or by folder (``notebooks/sales_summary``)."""
    candidate = Path(name_or_path)
    if candidate.is_dir():
        return load_report(candidate, cache_dir)
    check_report_name(name_or_path)
    folder = notebooks_dir / name_or_path
    if not (folder / SPEC_FILE).is_file():
        raise ReportNotFound(f"no report {name_or_path!r} in {notebooks_dir} (no {folder / SPEC_FILE})")
    return load_report(folder, cache_dir)


__all__ = ["Report", "discover", "find_report", "load_report", "load_reports", "parse_spec", "read_notebook"]
