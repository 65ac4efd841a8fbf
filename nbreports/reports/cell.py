"""The ``parameters`` cell checked before papermill reads it, and its type annotations read.

Papermill's inspection is line-based: it takes ``count: int = (3`` as a parameter whose default
is ``(3``, drops ``count: int`` (no value) without a word, keeps both of two ``count = ...``
lines, and passes on any annotation. A report that then fails at run time, or a trigger form
that lies, is worse than a refusal here naming the notebook, the parameter and what is expected.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from nbreports.errors import SpecError

#: Parameter defaults travel in every run's plan (XCom), row and input notebook, and in the DAG's
#: trigger form: big data belongs in a file the notebook reads, not in its parameters cell.
MAX_PARAMETERS_CELL_BYTES = 1024 * 1024

# Python annotation (or ``# type:`` comment) -> JSON schema type.
TYPE_NAMES = {
    "int": "integer",
    "float": "number",
    "str": "string",
    "bool": "boolean",
    "list": "array",
    "dict": "object",
    "date": "date",
    "datetime.date": "date",
    "any": "any",
}
SUPPORTED = "int, float, str, bool, list, list[<type>], dict, date, Optional[<type>] or <type> | None"
_MAGIC = re.compile(r"^\s*[%!]")  # IPython line magics and shell lines: not Python, not parameters


@dataclass(frozen=True)
class Annotation:
    """What a parameter's annotation says: its JSON type, whether None is allowed, its items' type."""

    kind: str | None  # None: no annotation (the default's type decides)
    nullable: bool = False
    item_type: str | None = None


def check_cell(source: str, notebook: str) -> None:
    """Refuse a parameters cell that is too big, is not Python, has a name without a value or twice."""
    size = len(source.encode("utf-8", "surrogatepass"))
    if size > MAX_PARAMETERS_CELL_BYTES:
        raise SpecError(
            notebook,
            "parameters cell",
            f"is {size:,} bytes; the limit is {MAX_PARAMETERS_CELL_BYTES:,} (defaults travel with every run: "
            "read big data from a file in the report folder)",
        )
    code = "\n".join("" if _MAGIC.match(line) else line for line in source.splitlines())
    try:
        tree = ast.parse(code)
    except SyntaxError as exc:
        raise SpecError(notebook, "parameters cell", f"is not valid Python: line {exc.lineno}: {exc.msg}") from None
    first_line: dict[str, int] = {}
    for node in tree.body:
        targets: list[ast.expr] = []
        if isinstance(node, ast.AnnAssign):
            if node.value is None and isinstance(node.target, ast.Name):
                raise SpecError(
                    notebook,
                    f"parameters.{node.target.id}",
                    f"has a type but no default value (line {node.lineno}); give it one, e.g. "
                    f"'{node.target.id}: {ast.unparse(node.annotation)} = ...'",
                )
            targets = [node.target]
        elif isinstance(node, ast.Assign):
            targets = list(node.targets)
        for target in targets:
            if not isinstance(target, ast.Name):
                continue
            if target.id in first_line:
                raise SpecError(
                    notebook,
                    f"parameters.{target.id}",
                    f"is assigned twice in the parameters cell (lines {first_line[target.id]} and {node.lineno}); "
                    "give each parameter once",
                )
            first_line[target.id] = node.lineno


def _split_optional(text: str) -> tuple[str, bool]:
    """``Optional[int]``, ``int | None`` and ``None | int`` as ``("int", True)``."""
    inner = re.fullmatch(r"(?:typing\.)?Optional\[(.+)\]", text)
    if inner:
        return inner.group(1).strip(), True
    parts = [p.strip() for p in text.split("|")]
    if len(parts) == 2 and "None" in parts:
        parts.remove("None")
        return parts[0], True
    return text, False


def read_annotation(name: str, annotation: str | None, notebook: str) -> Annotation:
    """The annotation papermill found (``None``/empty when there is none); an unsupported one is refused."""
    text = (annotation or "").strip()
    if not text or text == "None":
        return Annotation(None)
    base, nullable = _split_optional(text)
    base = base.removeprefix("typing.")
    listed = re.fullmatch(r"(?:list|List)\[(.+)\]", base)
    kind = TYPE_NAMES.get(base.lower())
    item = TYPE_NAMES.get(listed.group(1).strip().lower()) if listed else None
    if listed and item not in (None, "date", "array", "object", "any"):
        return Annotation("array", nullable, item)
    if kind is None:
        raise SpecError(
            notebook,
            f"parameters.{name}",
            f"type {text!r} is not supported (a trigger form cannot offer it); use one of {SUPPORTED}",
        )
    return Annotation(kind, nullable)


_PYTHON_OF = {
    "integer": "int",
    "number": "float",
    "string": "str",
    "boolean": "bool",
    "array": "list",
    "object": "dict",
}


def matches(kind: str, value: object) -> bool:
    """Whether a literal default (or a spec choice) is a value of the JSON type ``kind``."""
    checks: dict[str, bool] = {
        "integer": isinstance(value, int) and not isinstance(value, bool),
        "number": isinstance(value, int | float) and not isinstance(value, bool),
        "string": isinstance(value, str),
        "date": isinstance(value, str),
        "boolean": isinstance(value, bool),
        "array": isinstance(value, list | tuple),
        "object": isinstance(value, dict),
    }
    return checks.get(kind, True)


def python_name(kind: str) -> str:
    """The Python spelling of a JSON type, for messages (``integer`` → ``int``)."""
    return _PYTHON_OF.get(kind, kind)
