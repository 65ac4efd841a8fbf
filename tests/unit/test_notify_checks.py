"""What a notify rule is checked against beyond its own fields: the notebook's scraps, YAML's booleans."""

from __future__ import annotations

from pathlib import Path

import pytest

from nbreports.errors import SpecError
from nbreports.notify.checks import glued_names
from nbreports.notify.spec import NotifyEvent
from nbreports.reports.spec import load_spec
from tests.helpers import make_notebook


def test_glued_names_are_the_literal_names_of_every_glue_call() -> None:
    nb = make_notebook(
        None,
        'import scrapbook as sb\nsb.glue("anomalies", 3)\n%time x = 1',
        'from scrapbook import glue\nglue(name="total", data=1)\nprint("glue")',
    )
    assert glued_names(nb) == ["anomalies", "total"]


@pytest.mark.parametrize(
    "code",
    ['import scrapbook as sb\nfor k in "ab":\n    sb.glue(k, 1)', "%%bash\necho not python"],
)
def test_a_computed_name_or_a_cell_that_is_not_python_makes_the_names_unknowable(code: str) -> None:
    assert glued_names(make_notebook(None, code)) is None


def test_on_in_report_yaml_is_the_rules_events_not_yaml_1_1s_true(tmp_path: Path) -> None:
    spec_file = tmp_path / "report.yaml"
    spec_file.write_text(
        "title: T\ncatchup: false\nnotify:\n  - on: [failure, recovered]\n    channel: slack\n    conn_id: ops\n"
    )
    spec = load_spec(spec_file)
    assert spec.notify[0].on == [NotifyEvent.FAILURE, NotifyEvent.RECOVERED]
    assert spec.catchup is False


def test_yes_is_not_a_boolean_any_more_and_the_error_says_what_is(tmp_path: Path) -> None:
    spec_file = tmp_path / "report.yaml"
    spec_file.write_text("title: T\ncatchup: yes\n")
    with pytest.raises(SpecError, match="catchup"):
        load_spec(spec_file)
