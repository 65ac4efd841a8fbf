import pytest

from nbreports.errors import ParameterError, SpecError
from nbreports.reports.parameters import infer_parameters, json_schema, resolve_parameters
from nbreports.reports.spec import ParameterOverride
from tests.helpers import make_notebook

CELL = """\
region: str = "EU"  # Sales region
start = "2024-01-01"  # type: date First day
top_n: int = 3  # How many
ratio = 0.5
enabled = True
tags: list = ["a", "b"]
options = {"k": 1}
nothing = None
today = __import__("datetime").date.today().isoformat()  # computed
"""


def params(**overrides):
    return infer_parameters(
        make_notebook(CELL), "r/report.yaml", {k: ParameterOverride(**v) for k, v in overrides.items()}
    )


def test_types_defaults_and_help_come_from_the_parameters_cell():
    found = {p.name: p for p in params()}
    assert [(p.name, p.type) for p in found.values()] == [
        ("region", "string"),
        ("start", "date"),
        ("top_n", "integer"),
        ("ratio", "number"),
        ("enabled", "boolean"),
        ("tags", "array"),
        ("options", "object"),
        ("nothing", "any"),
        ("today", "any"),
    ]
    assert found["region"].default == "EU"
    assert found["region"].help == "Sales region"
    assert found["start"].help == "First day"
    assert found["tags"].item_type == "string"
    assert found["nothing"].nullable
    assert found["today"].literal is False


def test_notebook_without_parameters_cell_has_no_parameters():
    assert infer_parameters(make_notebook(None, "print(1)"), "r/report.yaml") == []


def test_override_of_unknown_parameter_is_a_spec_error():
    with pytest.raises(SpecError, match=r"parameters\.colour: no such parameter"):
        params(colour={"choices": ["red"]})


def test_default_outside_choices_is_a_spec_error():
    with pytest.raises(SpecError, match=r"parameters\.region\.choices"):
        params(region={"choices": ["US", "APAC"]})


def test_json_schema_rejects_unknown_names():
    schema = json_schema(params(region={"choices": ["EU", "US"]}))
    assert schema["additionalProperties"] is False
    assert schema["properties"]["region"]["enum"] == ["EU", "US"]
    assert schema["properties"]["start"] == {"type": "string", "format": "date", "description": "First day"}


def test_resolve_fills_defaults_and_keeps_given_values():
    values = resolve_parameters("r", params(), {"top_n": 5, "start": "2024-02-29"})
    assert values["top_n"] == 5
    assert values["region"] == "EU"
    assert values["start"] == "2024-02-29"
    assert "today" not in values  # computed in the notebook unless given


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"top_n": "five"}, "parameter 'top_n': got 'five', expected integer"),
        ({"top_n": 2.5}, "expected integer"),
        ({"enabled": "yes"}, "expected boolean"),
        ({"start": "31/01/2024"}, "expected date"),
        ({"region": "Mars"}, "expected one of ['EU', 'US']"),
        ({"colour": "red"}, "unknown parameter 'colour' (known: region, start"),
        ({"tags": ["a", 1]}, "parameter 'tags.1'"),
    ],
)
def test_invalid_values_are_refused_with_the_parameter_named(values, message):
    with pytest.raises(ParameterError) as info:
        resolve_parameters("r", params(region={"choices": ["EU", "US"]}), values)
    assert message in str(info.value)
    assert "report 'r'" in str(info.value)


def test_all_problems_are_reported_at_once():
    with pytest.raises(ParameterError) as info:
        resolve_parameters("r", params(), {"top_n": "x", "colour": 1})
    assert len(info.value.problems) == 2
