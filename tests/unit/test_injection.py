"""Parameters reach the kernel unchanged: property-based over papermill's Python translator."""

import keyword

from hypothesis import given, settings
from hypothesis import strategies as st
from papermill.translators import PythonTranslator

# Everything a JSON conf or a trigger form can carry.
scalars = st.none() | st.booleans() | st.integers() | st.text() | st.floats(allow_nan=False, allow_infinity=False)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


def injected(parameters):
    namespace: dict = {}
    exec(PythonTranslator.codify(parameters), namespace)
    return {name: namespace[name] for name in parameters}


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
    assert out["a"] == float("inf") and out["b"] == float("-inf") and str(out["c"]) == "-0.0"
