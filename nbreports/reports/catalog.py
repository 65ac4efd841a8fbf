"""Reports found in the notebooks folder, with what is derived from them cached by content hash.

The DAG factory calls ``load_reports`` on every parse, so deriving must be cheap: the
notebook's JSON is parsed only when its content (or its spec's) changed since last time.
"""

from __future__ import annotations

import glob
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat

from nbreports.access.rules import ReportRules, resolve_rules
from nbreports.access.teams import TeamsConfig, load_teams, teams_path
from nbreports.errors import ReportNotFound, SpecError, UnsafePathError
from nbreports.identifiers import check_report_name
from nbreports.notify.checks import check_notify, glued_names
from nbreports.reports.folder import notebook_file, read_notebook
from nbreports.reports.parameters import Parameter, infer_parameters, parameters_from_dicts
from nbreports.reports.spec import SPEC_FILE, ReportSpec, load_spec
from nbreports.storage.files import write_file_atomic

_DERIVED_FORMAT = 2  # bump when what is cached changes shape


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
    rules: ReportRules
    kernel: str | None = None

    @property
    def spec_path(self) -> Path:
        """The report's ``report.yaml``."""
        return self.folder / SPEC_FILE


def _first_markdown(nb: nbformat.NotebookNode) -> str:
    for cell in nb.cells:
        if cell.cell_type == "markdown" and cell.source.strip():
            return str(cell.source)
    return ""


def check_kernelspec(nb: nbformat.NotebookNode, spec: ReportSpec, file: str, field: str = "") -> None:
    """A notebook must say which kernel it runs on, unless its spec does (``kernel:``)."""
    kernelspec = nb.metadata.get("kernelspec")
    if spec.kernel is None and not (isinstance(kernelspec, dict) and kernelspec.get("name")):
        raise SpecError(
            file,
            f"{field}: metadata.kernelspec" if field else "metadata.kernelspec",
            "is missing: expected the kernel the notebook runs on (save it from Jupyter with a kernel), "
            f"or name one in {SPEC_FILE}'s 'kernel'",
        )


def _derive(nb_path: Path, spec: ReportSpec, spec_file: str) -> dict[str, Any]:
    """What the DAG factory and the UI need from the notebook: parameters, docs and kernel."""
    nb = read_notebook(nb_path)
    check_kernelspec(nb, spec, str(nb_path))
    params = infer_parameters(nb, spec_file, spec.parameters, notebook=str(nb_path))
    if spec.cache.ttl and any(p.name == "force" for p in params):
        raise SpecError(
            str(nb_path),
            "parameters.force",
            "'force' is the trigger parameter that bypasses the run cache; rename the notebook's one",
        )
    kernel = nb.metadata.get("kernelspec", {}).get("name")
    return {
        "format": _DERIVED_FORMAT,
        "parameters": [p.to_dict() for p in params],
        "doc_md": _first_markdown(nb),
        "kernel": kernel,
        "glued": glued_names(nb),  # the scraps notify conditions may name
    }


def _check_folder_facts(folder: Path, name: str, spec: ReportSpec, spec_file: str) -> None:
    """What the spec says about its own folder: it is not its own upstream; its cache inputs exist."""
    if name in spec.triggered_by:
        raise SpecError(
            spec_file,
            "triggered_by",
            f"report {name!r} cannot be triggered by itself (each run would trigger the next)",
        )
    for entry in spec.cache.inputs:
        if "://" not in entry and not any(Path(m).is_file() for m in glob.glob(str(folder / entry), recursive=True)):
            raise SpecError(spec_file, "cache.inputs", f"{entry!r} matches no file in {folder}")


def load_report(folder: Path, cache_dir: Path | None = None, teams: TeamsConfig | None = None) -> Report:
    """Load one report folder. Raises ``SpecError`` (or ``UnsafePathError``) when it is invalid.

    ``teams`` is the teams file the report's team and grants are checked against (default: the
    one beside the notebooks folder); the spec comes back with its owning team filled in.
    """
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
    except OSError as exc:  # a folder named report.yaml, no permission: this report's error, not the catalog's
        raise SpecError(str(spec_path), "", f"cannot read {SPEC_FILE}: {exc.strerror or exc}") from exc
    spec = load_spec(spec_path, spec_bytes)
    _check_folder_facts(folder, name, spec, str(spec_path))
    teams = teams or load_teams(teams_path(folder.parent))
    rules = resolve_rules(str(spec_path), name, spec.team, spec.access, teams)
    spec = spec.model_copy(update={"team": rules.team})
    nb_path = notebook_file(folder, spec)
    try:
        nb_bytes = nb_path.read_bytes()
    except OSError as exc:
        raise SpecError(str(nb_path), "", f"cannot read the notebook: {exc.strerror or exc}") from exc
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
    fresh = derived is None
    if derived is None:
        derived = _derive(nb_path, spec, str(spec_path))
    check_notify(spec.notify, teams, derived.get("glued"), str(spec_path))  # before anything is cached
    if fresh and cache_file:
        write_file_atomic(cache_file, json.dumps(derived).encode(), durable=False)
    return Report(
        name=name,
        folder=folder,
        notebook_path=nb_path,
        spec=spec,
        parameters=parameters_from_dicts(derived["parameters"]),
        doc_md=derived["doc_md"],
        notebook_sha=nb_sha,
        rules=rules,
        kernel=derived.get("kernel"),
    )


def discover(notebooks_dir: Path) -> list[Path]:
    """Report folders: sub-folders of ``notebooks_dir`` that hold a ``report.yaml``."""
    if not notebooks_dir.is_dir():
        return []
    return sorted(p for p in notebooks_dir.iterdir() if (p / SPEC_FILE).is_file())


def load_reports(notebooks_dir: Path, cache_dir: Path | None = None) -> tuple[list[Report], dict[str, SpecError]]:
    """All valid reports, and an error per invalid one (one bad report never hides the others)."""
    reports, errors = [], {}
    teams = load_teams(teams_path(notebooks_dir))
    for folder in discover(notebooks_dir):
        try:
            reports.append(load_report(folder, cache_dir, teams))
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


__all__ = ["Report", "discover", "find_report", "load_report", "load_reports", "read_notebook"]
