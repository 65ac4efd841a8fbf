"""The code's layout rules: small modules, no import cycles, dependencies pointing one way
(``dags -> operators -> nbreports <- plugins``), a docstring per subpackage, stable public import paths."""

from __future__ import annotations

import ast
import importlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO

MAX_LINES = 300
CODE_FOLDERS = ("nbreports", "operators", "plugins", "dags")


def python_files(folder: str) -> list[Path]:
    """The project's own modules below ``folder`` (not third-party files the front end installs)."""
    return sorted(p for p in (REPO / folder).rglob("*.py") if not {"node_modules", "__pycache__"} & set(p.parts))


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def parse(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def is_type_checking_block(node: ast.stmt) -> bool:
    test = getattr(node, "test", None)
    return isinstance(node, ast.If) and (
        (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING")
        or (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")
    )


def module_level_imports(tree: ast.Module) -> Iterator[ast.Import | ast.ImportFrom]:
    """The imports that run when the module is imported: top level, also inside top-level
    ``if``/``try``/``with`` blocks, but not under ``if TYPE_CHECKING:`` nor inside functions or classes."""
    pending: list[ast.stmt] = list(tree.body)
    while pending:
        node = pending.pop(0)
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        elif isinstance(node, ast.If | ast.Try | ast.With) and not is_type_checking_block(node):
            for field in ("body", "orelse", "finalbody", "handlers"):
                for child in getattr(node, field, []):
                    pending.extend(child.body if isinstance(child, ast.ExceptHandler) else [child])


def all_imports(tree: ast.Module) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import statement anywhere in the module (lazy imports in functions are dependencies too)."""
    yield from (node for node in ast.walk(tree) if isinstance(node, ast.Import | ast.ImportFrom))


def absolute_base(node: ast.ImportFrom, importer: str, is_package: bool) -> str:
    """The module ``from <base> import ...`` names, with relative imports resolved against ``importer``."""
    if not node.level:
        return node.module or ""
    package = importer.split(".") if is_package else importer.split(".")[:-1]
    package = package[: len(package) - (node.level - 1)]
    return ".".join([*package, node.module] if node.module else package)


def imported_modules(node: ast.Import | ast.ImportFrom, importer: str, is_package: bool, known: set[str]) -> set[str]:
    """The modules an import statement loads: ``from x import y`` is module ``x.y`` when that is a module."""
    if isinstance(node, ast.Import):
        return {alias.name for alias in node.names}
    base = absolute_base(node, importer, is_package)
    targets = set()
    for alias in node.names:
        sub = f"{base}.{alias.name}"
        targets.add(sub if sub in known else base)
    return targets


def top_level_names(path: Path) -> set[str]:
    """The first component of every module that ``path`` imports anywhere."""
    name = module_name(path)
    is_package = path.name == "__init__.py"
    names = set()
    for node in all_imports(parse(path)):
        if isinstance(node, ast.ImportFrom):
            names.add(absolute_base(node, name, is_package).split(".")[0])
        else:
            names.update(alias.name.split(".")[0] for alias in node.names)
    return names


def import_graph() -> dict[str, set[str]]:
    """Module-level imports among the modules of ``nbreports``."""
    paths = {module_name(p): p for p in python_files("nbreports")}
    known = set(paths)
    graph = {}
    for name, path in paths.items():
        is_package = path.name == "__init__.py"
        edges: set[str] = set()
        for node in module_level_imports(parse(path)):
            edges |= imported_modules(node, name, is_package, known)
        graph[name] = {target for target in edges if target in known and target != name}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as ``[a, b, ..., a]``, or ``None`` (depth-first search, white/grey/black)."""
    state: dict[str, int] = dict.fromkeys(graph, 0)  # 0 unvisited, 1 on the current path, 2 done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for target in sorted(graph[node]):
            if state[target] == 1:
                return [*path[path.index(target) :], target]
            if state[target] == 0 and (cycle := visit(target)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if state[start] == 0 and (cycle := visit(start)):
            return cycle
    return None


def test_no_module_is_over_300_lines():
    lengths = {
        str(path.relative_to(REPO)): len(path.read_text(encoding="utf-8").splitlines())
        for folder in CODE_FOLDERS
        for path in python_files(folder)
    }
    assert len(lengths) > 40, "the layout test found too few modules"
    offenders = {name: lines for name, lines in sorted(lengths.items()) if lines > MAX_LINES}
    assert not offenders, f"modules over {MAX_LINES} lines (split them by concern): {offenders}"


def test_the_cycle_finder_finds_a_cycle_and_accepts_a_tree():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None


def test_from_imports_resolve_to_the_submodule_they_name():
    tree = ast.parse("from nbreports.runs import model\nfrom nbreports.runs.model import Platform\nfrom . import x")
    known = {"nbreports.runs", "nbreports.runs.model", "nbreports.runs.x"}
    found = [imported_modules(node, "nbreports.runs.prepare", False, known) for node in module_level_imports(tree)]
    assert found == [{"nbreports.runs.model"}, {"nbreports.runs.model"}, {"nbreports.runs.x"}]


def test_the_modules_of_nbreports_import_each_other_without_a_cycle():
    graph = import_graph()
    assert "nbreports.runs.prepare" in graph
    assert "nbreports.storage.store" in graph["nbreports.runs.model"]
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


@pytest.mark.parametrize(
    ("folder", "forbidden"),
    [
        ("nbreports", {"airflow", "operators", "plugins", "nbreports_ui", "dags"}),
        ("operators", {"plugins", "nbreports_ui", "dags"}),
    ],
)
def test_dependencies_point_one_way(folder, forbidden):
    offenders = {
        str(path.relative_to(REPO)): sorted(names)
        for path in python_files(folder)
        if (names := top_level_names(path) & forbidden)
    }
    assert not offenders, f"{folder} must not import {sorted(forbidden)}: {offenders}"


def subpackages() -> list[Path]:
    return sorted(p.parent for p in (REPO / "nbreports").rglob("__init__.py") if p.parent != REPO / "nbreports")


@pytest.mark.parametrize("package", subpackages(), ids=lambda p: module_name(p / "__init__.py"))
def test_every_subpackage_says_what_it_holds_in_a_one_line_docstring(package):
    docstring = ast.get_docstring(parse(package / "__init__.py"), clean=True)
    assert docstring, f"{package.relative_to(REPO)}/__init__.py has no docstring"
    summary, *rest = docstring.splitlines()
    assert summary.strip().endswith("."), f"the first line is not a whole sentence: {summary!r}"
    assert not rest or not rest[0].strip(), f"the summary runs over more than one line: {docstring[:200]!r}"


@pytest.mark.parametrize(
    ("module", "name"),
    [
        ("nbreports.kernel", "latest_scraps"),
        ("nbreports.querycache", "cached_query"),
        ("nbreports.jupyter_hook", "post_save"),
    ],
)
def test_the_names_notebooks_and_jupyter_configs_use_still_import(module, name):
    assert callable(getattr(importlib.import_module(module), name))
