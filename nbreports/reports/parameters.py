"""Notebook parameters: found in the ``parameters`` cell, described as JSON schema, validated.

Papermill's own inspection reads the cell (``name: type = default  # help``); the literal
defaults are evaluated safely with ``ast.literal_eval``. The spec may add choices, titles and
descriptions. Values are validated against the schema before any run starts.
"""

from __future__ import annotations

import ast
import datetime as dt
import json
from dataclasses import asdict, dataclass
from typing import Any

import jsonschema
import nbformat

from nbreports.errors import ParameterError, SpecError
from nbreports.reports.cell import check_cell, matches, python_name, read_annotation
from nbreports.reports.spec import ParameterOverride


@dataclass(frozen=True)
class Parameter:
    """One notebook parameter as the trigger form and the validator see it."""

    name: str
    type: str  # integer, number, string, boolean, date, array, object, or any
    default: Any = None
    help: str = ""
    title: str | None = None
    choices: list[Any] | None = None
    minimum: float | None = None
    maximum: float | None = None
    item_type: str | None = None  # for arrays: the type of the default's items, when uniform
    nullable: bool = False
    literal: bool = True  # False when the default is an expression (computed in the notebook)

    def to_dict(self) -> dict[str, Any]:
        """The parameter as plain JSON, as the database and the API hold it."""
        return asdict(self)

    def json_schema(self) -> dict[str, Any]:
        """The JSON Schema of the parameter's values (type, choices, bounds, help), for validation and the form."""
        schema: dict[str, Any] = {}
        if self.type == "date":
            schema = {"type": "string", "format": "date"}
        elif self.type != "any":
            schema = {"type": self.type}
        if self.type == "array" and self.item_type:
            schema["items"] = {"type": self.item_type}
        if self.nullable and "type" in schema:
            schema["type"] = [schema["type"], "null"]
        if self.choices is not None:
            schema["enum"] = list(self.choices)
        if self.minimum is not None:
            schema["minimum"] = self.minimum
        if self.maximum is not None:
            schema["maximum"] = self.maximum
        if self.help:
            schema["description"] = self.help
        if self.title:
            schema["title"] = self.title
        return schema


def parameters_from_dicts(items: list[dict[str, Any]]) -> list[Parameter]:
    """The parameters back from ``Parameter.to_dict``'s dicts."""
    return [Parameter(**item) for item in items]


def _literal(source: str) -> tuple[bool, Any]:
    try:
        return True, ast.literal_eval(source)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return False, None


def _type_of(value: Any) -> str:
    for python_type, name in (
        (bool, "boolean"),
        (int, "integer"),
        (float, "number"),
        (str, "string"),
        (list, "array"),
        (tuple, "array"),
        (dict, "object"),
    ):
        if isinstance(value, python_type):
            return name
    return "any"


def _is_iso_date(value: Any) -> bool:
    try:
        dt.date.fromisoformat(value)
    except (TypeError, ValueError):
        return False
    return True


def parameters_cell_index(nb: nbformat.NotebookNode) -> int:
    """Index of the first cell tagged ``parameters``, or -1."""
    for index, cell in enumerate(nb.cells):
        if "parameters" in cell.get("metadata", {}).get("tags", []):
            return index
    return -1


def _json_value(value: Any) -> bool:
    """Whether a literal default is a JSON value (what the trigger form, the plan and the row can hold)."""
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError):
        return False
    return not isinstance(value, set | frozenset | bytes | complex)


def _check_override(file: str, raw_name: str, kind: str, default: Any, over: ParameterOverride) -> None:
    """The spec's choices and bounds must fit the parameter's type and its notebook default."""
    where = f"parameters.{raw_name}"
    for choice in over.choices or ():
        if kind != "any" and not matches(kind, choice):
            raise SpecError(
                file,
                f"{where}.choices",
                f"choice {choice!r} is not of the parameter's type ({python_name(kind)}, {kind})",
            )
    if over.choices is not None and default is not None and default not in over.choices:
        raise SpecError(file, f"{where}.choices", f"the notebook's default {default!r} is not a choice")
    numeric = isinstance(default, int | float) and not isinstance(default, bool)
    if over.minimum is not None and numeric and default < over.minimum:
        raise SpecError(file, f"{where}.minimum", f"the notebook's default {default!r} is below it ({over.minimum:g})")
    if over.maximum is not None and numeric and default > over.maximum:
        raise SpecError(file, f"{where}.maximum", f"the notebook's default {default!r} is above it ({over.maximum:g})")


def infer_parameters(
    nb: nbformat.NotebookNode,
    file: str,
    overrides: dict[str, ParameterOverride] | None = None,
    *,
    notebook: str | None = None,
) -> list[Parameter]:
    """Read the notebook's ``parameters`` cell. A notebook without one has no parameters.

    ``file`` is the spec the overrides come from; ``notebook`` (default ``file``) is named in the
    errors about the cell itself (``nbreports.reports.cell``).
    """
    overrides = overrides or {}
    notebook = notebook or file
    index = parameters_cell_index(nb)
    found = []
    if index >= 0:
        check_cell(str(nb.cells[index].source), notebook)
        kernelspec = nb.metadata.get("kernelspec")
        kernelspec = kernelspec if isinstance(kernelspec, dict) else {}
        kernel = kernelspec.get("name") or "python3"
        language = kernelspec.get("language") or "python"
        from papermill.translators import papermill_translators  # heavy: only when the cache misses

        translator = papermill_translators.find_translator(kernel, language)
        found = translator.inspect(nb.cells[index])
    names = {p.name for p in found}
    for name in overrides:
        if name not in names:
            raise SpecError(file, f"parameters.{name}", "no such parameter in the notebook's parameters cell")

    params = []
    for raw in found:
        is_literal, default = _literal(raw.default)
        annotation = read_annotation(raw.name, raw.inferred_type_name, notebook)
        literal_type = _type_of(default) if is_literal else "any"
        kind = annotation.kind or literal_type
        if is_literal and not _json_value(default):
            raise SpecError(
                notebook, f"parameters.{raw.name}", f"default {raw.default} is not a JSON value (number, string, "
                "boolean, list, dict or None), so no trigger form or run record can hold it",
            )  # fmt: skip
        if is_literal and default is not None and annotation.kind and not matches(annotation.kind, default):
            raise SpecError(
                notebook,
                f"parameters.{raw.name}",
                f"default {default!r} does not match its annotation {raw.inferred_type_name!r} "
                f"(expected a {python_name(annotation.kind)})",
            )
        if is_literal and annotation.item_type and not all(matches(annotation.item_type, i) for i in default or ()):
            raise SpecError(
                notebook,
                f"parameters.{raw.name}",
                f"default {default!r} does not match its annotation {raw.inferred_type_name!r}",
            )
        if kind == "date" and default is not None and not _is_iso_date(default):
            raise SpecError(
                notebook, f"parameters.{raw.name}", f"default {raw.default} is not an ISO date like '2024-01-31'"
            )
        if isinstance(default, tuple):
            default = list(default)
        item_type = annotation.item_type
        if kind == "array" and default and item_type is None:
            item_types = {_type_of(item) for item in default}
            item_type = item_types.pop() if len(item_types) == 1 else None
        over = overrides.get(raw.name, ParameterOverride())
        _check_override(file, raw.name, kind, default if is_literal else None, over)
        params.append(
            Parameter(
                name=raw.name,
                type=kind,
                default=default if is_literal else None,
                help=over.description or (raw.help or "").strip(),
                title=over.title,
                choices=over.choices,
                minimum=over.minimum,
                maximum=over.maximum,
                item_type=item_type,
                nullable=(is_literal and default is None) or annotation.nullable,
                literal=is_literal,
            )
        )
    return params


def json_schema(params: list[Parameter]) -> dict[str, Any]:
    """The JSON schema of a run's parameters: every name known, every value typed."""
    return {
        "type": "object",
        "properties": {p.name: p.json_schema() for p in params},
        "additionalProperties": False,
    }


def _encodable(value: Any) -> bool:
    """Whether every string in ``value`` can be written as UTF-8 (the notebook's encoding)."""
    try:
        json.dumps(value, ensure_ascii=False, default=str).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def resolve_parameters(report: str, params: list[Parameter], values: dict[str, Any]) -> dict[str, Any]:
    """Validate ``values`` and fill in defaults. Raises ``ParameterError`` naming each problem."""
    if not isinstance(values, dict):
        raise ParameterError(report, [f"expected a mapping of parameter names to values, got {values!r}"])
    computed = {p.name for p in params if not p.literal}
    # An empty value for an expression default means "let the notebook compute it".
    values = {k: v for k, v in values.items() if not (k in computed and v is None)}
    validator = jsonschema.Draft202012Validator(
        json_schema(params), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    problems: list[str] = []
    known = ", ".join(p.name for p in params) or "none"
    for error in sorted(validator.iter_errors(values), key=lambda e: list(e.path)):
        if error.validator == "additionalProperties":
            unknown = sorted(set(values) - {p.name for p in params})
            problems.extend(f"unknown parameter {name!r} (known: {known})" for name in unknown)
        else:
            name = ".".join(str(p) for p in error.path)
            expected = error.schema.get("format") or error.schema.get("type")
            if error.validator == "enum":
                expected = f"one of {error.schema['enum']}"
            problems.append(f"parameter {name!r}: got {error.instance!r}, expected {expected} ({error.message})")
    problems.extend(
        f"parameter {name!r}: not valid Unicode text (it holds a lone surrogate, e.g. undecodable bytes)"
        for name, value in values.items()
        if not _encodable(value)
    )
    if problems:
        raise ParameterError(report, problems)
    # Expression defaults (e.g. ``date.today()``) are left for the notebook to compute.
    resolved = {p.name: p.default for p in params if p.literal}
    resolved.update(values)
    return resolved
