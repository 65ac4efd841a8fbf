"""Schedules are read in the spec's time zone, presets such as @daily like cron expressions.

The next run times come from the timetable the scheduler gets (the DAG's timetable through
Airflow's serialization), across the spring daylight-saving change in Berlin (2024-03-31).
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml
from airflow.serialization.decoders import decode_timetable
from airflow.serialization.encoders import encode_timetable
from airflow.timetables.base import DataInterval, TimeRestriction

from nbreports.reports.catalog import load_report
from operators.factory import build_dag
from tests.conftest import REPO

BERLIN = ZoneInfo("Europe/Berlin")


def next_runs(tmp_path: Path, schedule: str, timezone: str, after: datetime, count: int = 4) -> list[datetime]:
    folder = tmp_path / "notebooks" / "data_quality"
    shutil.copytree(REPO / "notebooks" / "data_quality", folder)
    spec = yaml.safe_load((folder / "report.yaml").read_text())
    (folder / "report.yaml").write_text(yaml.safe_dump({**spec, "schedule": schedule, "timezone": timezone}))
    timetable = decode_timetable(encode_timetable(build_dag(load_report(folder)).timetable))
    runs: list[datetime] = []
    last: DataInterval | None = None
    restriction = TimeRestriction(earliest=after, latest=None, catchup=True)
    for _ in range(count):
        info = timetable.next_dagrun_info(last_automated_data_interval=last, restriction=restriction)
        assert info is not None
        runs.append(info.run_after)
        last = info.data_interval
    return runs


@pytest.mark.parametrize(
    ("schedule", "hour", "utc_hours"),
    [
        ("@daily", 0, [23, 23, 22, 22]),  # midnight of 31 March is still winter time (the change is at 02:00)
        ("0 6 * * *", 6, [5, 4, 4, 4]),
    ],
)
def test_a_berlin_schedule_keeps_its_local_hour_across_daylight_saving(tmp_path, schedule, hour, utc_hours):
    runs = next_runs(tmp_path, schedule, "Europe/Berlin", datetime(2024, 3, 29, 12, tzinfo=UTC))
    local = [r.astimezone(BERLIN) for r in runs]
    assert [(t.month, t.day, t.hour, t.minute) for t in local] == [(3, d, hour, 0) for d in (30, 31)] + [
        (4, d, hour, 0) for d in (1, 2)
    ]
    # the same local hour is one UTC hour earlier once summer time began (Sunday 31 March, 02:00)
    assert [r.astimezone(UTC).hour for r in runs] == utc_hours


def test_a_preset_without_a_time_zone_stays_in_utc(tmp_path):
    runs = next_runs(tmp_path, "@daily", "UTC", datetime(2024, 3, 29, 12, tzinfo=UTC), count=2)
    assert [(r.day, r.hour) for r in runs] == [(30, 0), (31, 0)]


def test_monthly_in_berlin_is_midnight_there(tmp_path):
    runs = next_runs(tmp_path, "@monthly", "Europe/Berlin", datetime(2024, 2, 15, tzinfo=UTC), count=2)
    assert [r.isoformat() for r in runs] == ["2024-02-29T23:00:00+00:00", "2024-03-31T22:00:00+00:00"]
