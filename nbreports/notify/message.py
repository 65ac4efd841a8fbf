"""What a notification says, built from the run's row: readable without opening Airflow, never a secret.

Every text that comes from the run (parameters, scraps, error) passes through the run's ``Redactor``
after it is rendered and before it is cut, so no secret slips in through a JSON encoding or a cut. Only small
scraps are shown, each cut to ``MAX_SCRAP_CHARS``: a message is a summary, the report is the page.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from nbreports.redaction.redact import Redactor
from nbreports.storage.tables import RunRow

MAX_SCRAP_CHARS = 200
MAX_SCRAPS = 10
MAX_ERROR_CHARS = 1000


@dataclass(frozen=True)
class Message:
    """One notification's content; the channel adapters turn it into an email, a Slack post or a JSON body."""

    subject: str
    body: str
    html_body: str | None = None
    fields: dict[str, str] = field(default_factory=dict)


def _short(value: Any, limit: int, redactor: Redactor) -> str:
    """``value`` rendered, redacted, then cut (in that order: a cut must never leave part of a secret)."""
    text = value if isinstance(value, str) else json.dumps(value, default=str, ensure_ascii=False)
    text = redactor.text(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def run_link(base_url: str, run: RunRow) -> str:
    """The run's page in the Airflow UI plugin (``base_url`` is the UI's address)."""
    return f"{base_url.rstrip('/')}/nbreports/reports/{quote(run.report)}/runs/{quote(run.run_id)}"


def output_link(base_url: str, run: RunRow) -> str:
    """The run's output notebook, through the plugin's API (it needs *view* of the report)."""
    return f"{run_link(base_url, run).replace('/nbreports/reports/', '/nbreports/api/reports/', 1)}/output.ipynb"


def build_message(
    run: RunRow,
    title: str,
    base_url: str,
    redactor: Redactor,
    *,
    label: str | None = None,
    error: str | None = None,
) -> Message:
    """The message for ``run`` of the report titled ``title``, every run-supplied text redacted.

    ``label`` heads the subject instead of the run's status (``retry`` while the run goes on), and
    ``error`` is the failed try's error while the run's row has none yet.
    """
    fields: dict[str, str] = {"report": run.report, "status": label or run.status, "run": run.run_id}
    if run.duration_s is not None:
        fields["duration"] = f"{run.duration_s:.1f} s"
    if run.parameters:
        fields["parameters"] = _short(run.parameters, MAX_SCRAP_CHARS * 2, redactor)
    for name, value in list((run.scraps or {}).items())[:MAX_SCRAPS]:
        fields[f"scrap {name}"] = _short(value, MAX_SCRAP_CHARS, redactor)
    if run.status == "failed" or label == "retry":
        if run.failed_cell is not None:
            fields["failed cell"] = str(run.failed_cell)
        if error or run.error:
            fields["error"] = _short(error or run.error, MAX_ERROR_CHARS, redactor)
        if run.output_uri or label == "retry":
            fields["output notebook"] = output_link(base_url, run)
    fields["link"] = run_link(base_url, run)
    fields = {k: redactor.text(v) for k, v in fields.items()}
    subject = redactor.text(f"[{label or run.status}] {title}")
    body = "\n".join([subject, "", *(f"{k}: {v}" for k, v in fields.items())]) + "\n"
    rows = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in fields.items())
    html_body = f"<h2>{html.escape(subject)}</h2><table>{rows}</table>"
    return Message(subject=subject, body=body, html_body=html_body, fields=fields)
