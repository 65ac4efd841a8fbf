"""Parameters reach the kernel unchanged: property-based over papermill's Python translator, the
project's ``inject`` (the input notebook ``prepare`` writes) and ``prepare`` itself."""

import ast
import json
import keyword

import nbformat
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from papermill.translators import PythonTranslator

from nbreports.browse.runs import get_run, recent_runs
from nbreports.errors import ParameterError
from nbreports.reports.catalog import load_report
from nbreports.runs.prepare import inject, prepare
from tests.helpers import make_notebook, make_report

# Everything a JSON conf or a trigger form can carry.
scalars = st.none() | st.booleans() | st.integers() | st.text() | st.floats(allow_nan=False, allow_infinity=False)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


def injected(parameters):
    namespace: dict = {}
    exec(PythonTranslator.codify(parameters), namespace)  # noqa: S102 - the translator's own output, under test
    return {name: namespace[name] for name in parameters}


def injected_values(nb_bytes: bytes) -> dict:
    """The values assigned by the notebook's injected cell: it must hold only ``name = <literal>`` lines."""
    nb = nbformat.reads(nb_bytes.decode("utf-8"), as_version=4)
    [cell] = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    values = {}
    for node in ast.parse(cell.source).body:
        assert isinstance(node, ast.Assign), ast.dump(node)
        assert len(node.targets) == 1, ast.dump(node)
        values[node.targets[0].id] = ast.literal_eval(node.value)
    return values


TEMPLATE = nbformat.writes(make_notebook("a = None\nb = None", "print(a, b)")).encode()


# Parameter names come from the notebook's parameters cell, so they are identifiers, never keywords.
names = st.from_regex(r"[a-z_][a-z0-9_]{0,10}", fullmatch=True).filter(lambda n: not keyword.iskeyword(n))


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(names, values, max_size=5))
def test_any_json_value_round_trips_through_injection(parameters):
    assert injected(parameters) == parameters


@given(st.text())
@settings(max_examples=300, deadline=None)
def test_any_string_round_trips_exactly(text):
    assert injected({"s": text})["s"] == text
    assert type(injected({"s": text})["s"]) is str


def test_tricky_strings_round_trip():
    for text in ['"', "'", "\\", '\\"', '"""', "\n\r\t", "\x00", "é ✓ 中文 🎉", "\ud800", "{x}", "${x}", "#"]:
        assert injected({"s": text})["s"] == text


def test_special_floats_round_trip():
    out = injected({"a": float("inf"), "b": float("-inf"), "c": -0.0, "d": 1e308})
    assert out["a"] == float("inf")
    assert out["b"] == float("-inf")
    assert str(out["c"]) == "-0.0"


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(names, values, min_size=1, max_size=5))
def test_any_json_value_round_trips_through_the_injected_input_notebook(parameters):
    provenance = {"parameters": parameters, "run_id": "r1"}
    nb_bytes = inject(TEMPLATE, parameters, "python3", provenance)
    assert injected_values(nb_bytes) == parameters
    nb = nbformat.reads(nb_bytes.decode("utf-8"), as_version=4)
    assert nb.metadata["nbreports"] == json.loads(json.dumps(provenance))  # provenance travels as plain JSON
    assert [c.source for c in nb.cells if "parameters" in c.metadata.tags] == ["a = None\nb = None"]


def test_without_parameters_nothing_is_injected():
    nb = nbformat.reads(inject(TEMPLATE, {}, "python3", {"run_id": "r1"}).decode(), as_version=4)
    assert not [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert nb.metadata["nbreports"] == {"run_id": "r1"}


def test_a_string_that_is_not_valid_unicode_is_a_parameter_error_and_nothing_is_written(platform, notebooks):
    """A lone surrogate (JSON "\\ud800", undecodable bytes on a command line) cannot be written as UTF-8."""
    report = load_report(make_report(notebooks, "inject", "a = None\nb = None", "print(a, b)"))
    with pytest.raises(ParameterError, match="parameter 'a': not valid Unicode text"):
        prepare(platform, report, {"a": "x\ud800y"})
    assert platform.store.list("runs") == []
    assert platform.store.list("versions") == []
    assert recent_runs(platform.db, "inject") == []


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.fixed_dictionaries({}, optional={"a": values, "b": values, "c": values}))
def test_prepare_writes_an_input_notebook_whose_injected_cell_holds_exactly_the_values(
    platform, notebooks, given_values
):
    """Through ``prepare`` itself, on the shared platform: validation, the run record and the stored input."""
    report = load_report(make_report(notebooks, "inject", "a = None\nb = None\nc = None", "print(a, b, c)"))
    plan = prepare(platform, report, given_values)
    expected = {"a": None, "b": None, "c": None, **given_values}  # defaults fill what was not given
    assert plan.parameters == expected
    stored = platform.store.read_bytes(plan.key("input.ipynb"))
    assert injected_values(stored) == expected
    assert nbformat.reads(stored.decode(), as_version=4).metadata["nbreports"]["parameters"] == expected
    assert get_run(platform.db, "inject", plan.run_id)["parameters"] == expected
