"""The report spec: ``report.yaml`` beside the notebook, validated by one pydantic model.

A report is a folder ``notebooks/<name>/`` with one notebook and a ``report.yaml``. Invalid
specs raise ``SpecError`` naming the file, the field and what was expected.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from croniter import croniter
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from nbreports.access.grants import AccessGrants
from nbreports.errors import SpecError
from nbreports.identifiers import REPORT_NAME
from nbreports.notify.spec import NotifyRule
from nbreports.reports.validation import spec_error
from nbreports.reports.yaml_keys import load_yaml

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

    @model_validator(mode="after")
    def _bounds_in_order(self) -> ParameterOverride:
        if self.minimum is not None and self.maximum is not None and self.minimum > self.maximum:
            raise ValueError(f"minimum {self.minimum:g} is over maximum {self.maximum:g}: no value could be given")
        return self


class PublishOptions(_Strict):
    """How a successful run is published as HTML."""

    hide_code: bool = Field(default=False, strict=True, description="Render the HTML report without code cells.")


_DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


class CacheOptions(_Strict):
    """When a run may be served from an earlier identical run instead of executing again."""

    ttl: int | None = Field(
        default=None,
        description="Seconds (or '30m', '12h', '7d') a successful run stays reusable; unset turns caching off.",
    )
    inputs: list[str] = Field(
        default_factory=list,
        description="Files (relative to the report folder, globs allowed) or object URIs "
        "whose content is part of the cache key.",
    )

    @field_validator("ttl", mode="before")
    @classmethod
    def _duration(cls, value: Any) -> Any:
        if isinstance(value, str) and value[:-1].isdigit() and value[-1] in _DURATION_UNITS:
            return int(value[:-1]) * _DURATION_UNITS[value[-1]]
        if isinstance(value, str):
            raise ValueError(f"{value!r} is not a duration such as 3600, '30m', '12h' or '7d'")
        return value

    @field_validator("ttl")
    @classmethod
    def _positive(cls, value: int | None) -> int | None:
        if value is not None and value <= 0:
            raise ValueError("must be a positive number of seconds")
        return value

    @field_validator("inputs")
    @classmethod
    def _inside_the_folder(cls, value: list[str]) -> list[str]:
        for entry in value:
            if "://" in entry:
                continue
            if not entry or entry.startswith(("/", "\\")) or ".." in re.split(r"[/\\]", entry):
                raise ValueError(
                    f"{entry!r} is not a path inside the report folder (relative, without '..'), nor a URI"
                )
        return value


class ImageChoice(_Strict):
    """Which build of the team's kernel image runs the report: a channel, or one pinned digest."""

    channel: Literal["beta", "ga"] | None = Field(
        default=None, description="Image tag to follow; default from the compute config (ga)."
    )
    digest: str | None = Field(
        default=None,
        pattern=r"^sha256:[0-9a-f]{64}$",
        description="Pin one image build ('sticky image'); wins over the channel.",
    )


AIRFLOW_NAME = re.compile(r"[A-Za-z0-9_.-]{1,250}")  # what Airflow accepts as a conn_id or variable key
KERNEL_NAME = re.compile(r"[A-Za-z0-9._-]{1,128}")  # jupyter_client's kernel names (case-insensitive)


class ReportSpec(_Strict):
    """A report's ``report.yaml``: what it is, who owns it, when and where it runs, how it is published."""

    title: str = Field(description="Human title of the report.")
    description: str = ""
    owner: str = Field(default="nbreports", description="Person or group answerable for the report.")

    @field_validator("title", "owner")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be empty")
        return value

    team: str = Field(
        default="",
        description="The team owning the report's folder in the teams file (filled in when empty; "
        "naming another team is an error).",
    )
    access: AccessGrants = Field(
        default_factory=AccessGrants, description="Who outside the team may view or execute the report."
    )
    notebook: str | None = Field(default=None, description="Notebook file in the report folder.")
    schedule: str | None = Field(default=None, description="Cron expression or preset such as @daily.")
    timezone: str = Field(default="UTC", description="IANA time zone the schedule is read in.")
    triggered_by: list[str] = Field(
        default_factory=list, description="Reports whose successful runs trigger this one (Airflow Assets)."
    )
    tags: list[str] = Field(default_factory=list)
    executor: Literal["local", "podman", "kubernetes"] = Field(
        default="local", description="Engine that runs the notebook: in the worker, or in a pod on the team's image."
    )
    profile: str | None = Field(
        default=None, description="Default compute profile of pod runs; default: the team's default profile."
    )
    image: ImageChoice = Field(default_factory=ImageChoice, description="Kernel image channel or digest.")
    kernel: str | None = Field(default=None, description="Jupyter kernel name; default from settings.")
    cell_timeout: int = Field(strict=True, default=600, gt=0, description="Seconds one cell may run.")
    run_timeout: int = Field(strict=True, default=3600, gt=0, description="Seconds the whole notebook may run.")
    retries: int = Field(strict=True, default=0, ge=0, le=10)
    retry_delay: int = Field(strict=True, default=60, ge=0, description="Seconds between retries.")
    catchup: bool = Field(default=False, strict=True)
    publish: PublishOptions = Field(default_factory=PublishOptions)
    cache: CacheOptions = Field(default_factory=CacheOptions)
    parameters: dict[str, ParameterOverride] = Field(default_factory=dict)
    notify: list[NotifyRule] = Field(
        default_factory=list,
        description="Who is told what: events, an optional scrap condition, a channel and its Airflow "
        "connection, recipients (nbreports.notify.spec).",
    )
    connections: list[str] = Field(
        default_factory=list,
        description="Airflow connections the notebook reads (``nbreports.kernel.connection_uri``); "
        "their values are masked in everything the run publishes. Local executor only.",
    )
    variables: list[str] = Field(
        default_factory=list,
        description="Airflow variables the notebook reads (``nbreports.kernel.variable``); masked like connections.",
    )

    @field_validator("connections", "variables")
    @classmethod
    def _valid_airflow_names(cls, value: list[str]) -> list[str]:
        for name in value:
            if not AIRFLOW_NAME.fullmatch(name):
                raise ValueError(f"{name!r} is not an Airflow connection or variable name (letters, digits, _ . -)")
        if len(set(value)) != len(value):
            raise ValueError("each name may be listed once")
        return value

    @field_validator("kernel")
    @classmethod
    def _valid_kernel(cls, value: str | None) -> str | None:
        if value is not None and not KERNEL_NAME.fullmatch(value):
            raise ValueError(
                f"{value!r} is not a Jupyter kernel name (letters, digits, '.', '_' or '-', "
                "as 'jupyter kernelspec list' shows them)"
            )
        return value

    @field_validator("schedule")
    @classmethod
    def _valid_schedule(cls, value: str | None) -> str | None:
        if value is None or value in SCHEDULE_PRESETS:
            return value
        if len(value.split()) != 5 or not croniter.is_valid(value):
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
        if (self.connections or self.variables) and self.executor != "local":
            raise ValueError(
                "'connections' and 'variables' reach only a local kernel; a pod gets its credentials "
                "from its team's Secret (store_secret in the teams file)"
            )
        return self


def parse_spec(data: Any, file: str) -> ReportSpec:
    """Validate a spec mapping; errors name ``file`` and the failing field."""
    if data is None:
        raise SpecError(file, "", "is empty: expected a mapping of spec fields (at least 'title')")
    if not isinstance(data, dict):
        raise SpecError(file, "", f"expected a mapping of spec fields, got {type(data).__name__}")
    try:
        return ReportSpec.model_validate(data)
    except ValidationError as exc:
        raise spec_error(exc, file, ReportSpec) from exc


def load_spec(path: Path, content: bytes | None = None) -> ReportSpec:
    """Read and validate ``report.yaml`` (or its ``content``, when the caller has read it already)."""
    try:
        text = (content if content is not None else path.read_bytes()).decode("utf-8")
        data = load_yaml(text)
    except FileNotFoundError as exc:
        raise SpecError(str(path), "", f"missing {SPEC_FILE}: every report folder needs one") from exc
    except OSError as exc:
        raise SpecError(str(path), "", f"cannot read {SPEC_FILE}: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        where = f"byte 0x{exc.object[exc.start]:02x} at position {exc.start}"
        raise SpecError(str(path), "", f"is not UTF-8 text ({where}): save {SPEC_FILE} as UTF-8") from exc
    except yaml.YAMLError as exc:
        raise SpecError(str(path), "", f"not valid YAML ({exc})") from exc
    return parse_spec(data, str(path))
