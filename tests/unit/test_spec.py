from pathlib import Path

import pytest

from nbreports.errors import SpecError
from nbreports.reports.spec import load_spec, parse_spec


def test_minimal_spec_gets_defaults():
    spec = parse_spec({"title": "T"}, "report.yaml")
    assert spec.executor == "local"
    assert spec.schedule is None
    assert spec.cell_timeout == 600
    assert spec.publish.hide_code is False


def test_full_example_specs_are_valid():
    for path in Path("notebooks").glob("*/report.yaml"):
        assert load_spec(path).title


@pytest.mark.parametrize(
    ("data", "field", "expected"),
    [
        ({"title": "T", "schedule": "every day"}, "schedule", "not a cron expression"),
        ({"title": "T", "schedule": "0 25 * * *"}, "schedule", "not a cron expression"),
        ({"title": "T", "timezone": "Mars/Olympus"}, "timezone", "IANA time zone"),
        ({"title": "T", "colour": "red"}, "colour", "unknown field"),
        ({"description": "no title"}, "title", "required field is missing"),
        ({"title": "T", "cell_timeout": 0}, "cell_timeout", "greater than 0"),
        ({"title": "T", "executor": "spark"}, "executor", "'local'"),
        ({"title": "T", "triggered_by": ["../etc"]}, "triggered_by", "not a report name"),
        ({"title": "T", "schedule": "@daily", "triggered_by": ["a"]}, "(spec)", "either 'schedule' or"),
        ({"title": "T", "parameters": {"x": {"choises": [1]}}}, "parameters.x.choises", "unknown field"),
    ],
)
def test_bad_spec_names_file_field_and_expectation(data, field, expected):
    with pytest.raises(SpecError) as info:
        parse_spec(data, "notebooks/r/report.yaml")
    assert info.value.file == "notebooks/r/report.yaml"
    assert info.value.field == field
    assert expected in str(info.value)


def test_spec_that_is_not_a_mapping(tmp_path):
    path = tmp_path / "report.yaml"
    path.write_text("- just\n- a list\n")
    with pytest.raises(SpecError, match="expected a mapping"):
        load_spec(path)


def test_spec_with_broken_yaml(tmp_path):
    path = tmp_path / "report.yaml"
    path.write_text("title: [unclosed\n")
    with pytest.raises(SpecError, match="not valid YAML") as info:
        load_spec(path)
    assert info.value.file == str(path)
