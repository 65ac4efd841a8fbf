"""The report spec: ``report.yaml`` beside the notebook, validated by one pydantic model.

A report is a folder ``notebooks/<name>/`` with one notebook and a ``report.yaml``. Invalid
specs raise ``SpecError`` naming the file, the field and what was expected.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from croniter import croniter
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from nbreports.errors import SpecError
from nbreports.names import REPORT_NAME

SPEC_FILE = "report.yaml"
SCHEDULE_PRESETS = {"@once", "@continuous", "@hourly", "@daily", "@weekly", "@monthly", "@quarterly", "@yearly"}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ParameterOverride(_Strict):
    """What the spec adds to a parameter found in the notebook's ``parameters`` cell."""

    description: str | None = Field(default=None, description="Help text shown in the trigger form.")
    title: str | None = Field(default=None, description="Label shown in the trigger form.")
    choices: list[Any] | None = Field(default=None, description="The only values allowed.")
    minimum: float | None = None
    maximum: float | None = None


class PublishOptions(_Strict):
    hide_code: bool = Field(default=False, description="Render the HTML report without code cells.")


class ReportSpec(_Strict):
    title: str = Field(description="Human title of the report.")
    description: str = ""
    owner: str = Field(default="nbreports", description="Person or group answerable for the report.")
    team: str = Field(default="default", description="Team whose environment and profiles the report uses.")
    notebook: str | None = Field(default=None, description="Notebook file in the report folder.")
    schedule: str | None = Field(default=None, description="Cron expression or preset such as @daily.")
    timezone: str = Field(default="UTC", description="IANA time zone the schedule is read in.")
    triggered_by: list[str] = Field(
        default_factory=list, description="Reports whose successful runs trigger this one (Airflow Assets)."
    )
    tags: list[str] = Field(default_factory=list)
    executor: Literal["local"] = Field(default="local", description="Engine that runs the notebook.")
    kernel: str | None = Field(default=None, description="Jupyter kernel name; default from settings.")
    cell_timeout: int = Field(default=600, gt=0, description="Seconds one cell may run.")
    run_timeout: int = Field(default=3600, gt=0, description="Seconds the whole notebook may run.")
    retries: int = Field(default=0, ge=0, le=10)
    retry_delay: int = Field(default=60, ge=0, description="Seconds between retries.")
    catchup: bool = False
    publish: PublishOptions = Field(default_factory=PublishOptions)
    parameters: dict[str, ParameterOverride] = Field(default_factory=dict)

    @field_validator("schedule")
    @classmethod
    def _valid_schedule(cls, value: str | None) -> str | None:
        if value is None or value in SCHEDULE_PRESETS:
            return value
        if not croniter.is_valid(value):
            raise ValueError(
                f"{value!r} is not a cron expression (5 fields, e.g. '0 6 * * 1-5') "
                f"nor one of {', '.join(sorted(SCHEDULE_PRESETS))}"
            )
        return value

    @field_validator("timezone")
    @classmethod
    def _valid_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"{value!r} is not an IANA time zone such as 'Europe/Berlin'") from exc
        return value

    @field_validator("triggered_by")
    @classmethod
    def _valid_upstreams(cls, value: list[str]) -> list[str]:
        for name in value:
            if not REPORT_NAME.fullmatch(name):
                raise ValueError(f"{name!r} is not a report name")
        return value

    @model_validator(mode="after")
    def _one_kind_of_schedule(self) -> ReportSpec:
        if self.schedule and self.triggered_by:
            raise ValueError("give either 'schedule' or 'triggered_by', not both")
        return self

    @property
    def run_timeout_delta(self) -> timedelta:
        return timedelta(seconds=self.run_timeout)


def parse_spec(data: Any, file: str) -> ReportSpec:
    """Validate a spec mapping; errors name ``file`` and the failing field."""
    if not isinstance(data, dict):
        raise SpecError(file, "", f"expected a mapping of spec fields, got {type(data).__name__}")
    try:
        return ReportSpec.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "(spec)"
        message = first["msg"].removeprefix("Value error, ")
        if first["type"] == "extra_forbidden":
            message = f"unknown field; expected one of {', '.join(ReportSpec.model_fields)}"
        elif first["type"] == "missing":
            message = "required field is missing"
        raise SpecError(file, field, message) from exc


def load_spec(path: Path) -> ReportSpec:
    """Read and validate ``report.yaml``."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise SpecError(str(path), "", f"missing {SPEC_FILE}: every report folder needs one") from exc
    except yaml.YAMLError as exc:
        raise SpecError(str(path), "", f"not valid YAML ({exc})") from exc
    return parse_spec(data, str(path))
