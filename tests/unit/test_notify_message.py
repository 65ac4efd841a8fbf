"""A notification reads without Airflow (title, status, parameters, scraps, failing cell, link) and holds no secret."""

from __future__ import annotations

from nbreports.notify.message import MAX_SCRAP_CHARS, build_message
from nbreports.redaction.redact import Redactor
from nbreports.storage.tables import RunRow

SECRET = "hunter2-very-secret"  # noqa: S105 - the fake secret the test hunts for


def failed_run() -> RunRow:
    return RunRow(
        run_id="manual__2026-12-02",
        report="sales",
        status="failed",
        parameters={"region": "emea", "api_key": SECRET},
        notebook_version="a" * 64,
        executor="local",
        duration_s=12.34,
        scraps={"anomalies": 3, "leak": f"token={SECRET}", "big": "x" * 5000},
        failed_cell=4,
        error=f"ValueError: cannot connect with {SECRET}",
    )


def test_a_failure_message_says_what_happened_and_links_to_the_run() -> None:
    message = build_message(failed_run(), "Sales daily", "https://airflow.example/", Redactor([SECRET]))
    assert message.subject == "[failed] Sales daily"
    assert message.fields["failed cell"] == "4"
    assert message.fields["error"].startswith("ValueError: cannot connect")
    assert message.fields["duration"] == "12.3 s"
    assert message.fields["scrap anomalies"] == "3"
    assert "emea" in message.fields["parameters"]
    assert message.fields["link"] == "https://airflow.example/nbreports/reports/sales/runs/manual__2026-12-02"
    assert len(message.fields["scrap big"]) == MAX_SCRAP_CHARS


def test_a_secret_cut_by_the_length_limit_leaves_no_part_of_itself() -> None:
    run = failed_run()
    run.scraps = {"cut": "x" * (MAX_SCRAP_CHARS - 5) + SECRET}
    message = build_message(run, "Sales daily", "https://airflow.example", Redactor([SECRET]))
    assert SECRET[:4] not in message.fields["scrap cut"]


def test_a_secret_in_the_parameters_scraps_or_error_appears_nowhere_in_the_message() -> None:
    message = build_message(failed_run(), "Sales daily", "https://airflow.example", Redactor([SECRET]))
    everything = [message.subject, message.body, message.html_body or "", *message.fields.values()]
    assert all(SECRET not in text for text in everything)
    assert "***" in message.fields["error"]
    assert "***" in message.fields["scrap leak"]
