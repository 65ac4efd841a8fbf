"""Child of ``bench.access_policy``: the plugin's catalog and history APIs in-process, policy on vs off.

Run with the workspace's environment (AIRFLOW_HOME, NBREPORTS_*). Airflow's user dependency is
replaced by the person under test, so what is timed is the plugin: its policy adapter, the core's
decision, the browse queries and the JSON. "Off" is the plugin as it was before the policy:
every report visible and allowed, the catalog queries unfiltered. Prints ``BENCH <json>``.
"""

from __future__ import annotations

import contextlib
import gc
import json
import statistics
import sys
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "plugins"))


@dataclass(frozen=True)
class Role:
    name: str


@dataclass(frozen=True)
class Person:
    """What the plugin reads of a FAB user: a login name and roles."""

    username: str
    roles: tuple[Role, ...]

    def get_name(self) -> str:
        return self.username


@contextlib.contextmanager
def policy_off() -> Iterator[None]:
    """Every report visible and allowed, catalog queries without the report filter."""
    from nbreports_ui import access, api

    from nbreports.access.policy import ALL_ACTIONS
    from nbreports.browse import catalog

    saved = (access.actions_for, api.visible_reports, catalog.catalog)
    real_catalog = catalog.catalog

    def everything(user: Any) -> tuple[dict[str, Any], bool]:
        return dict.fromkeys((r.name for r in api.disk_reports()), ALL_ACTIONS), True

    def unfiltered(*args: Any, **kwargs: Any) -> Any:
        kwargs["reports"] = None
        return real_catalog(*args, **kwargs)

    access.actions_for = lambda who, rules: ALL_ACTIONS  # type: ignore[assignment]
    api.visible_reports = everything  # type: ignore[assignment]
    catalog.catalog = unfiltered  # type: ignore[assignment]
    try:
        yield
    finally:
        access.actions_for, api.visible_reports, catalog.catalog = saved  # type: ignore[assignment]


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[18] if len(values) > 1 else values[0]


def main() -> None:
    spec = json.loads(sys.argv[1])
    with warnings.catch_warnings():  # starlette's TestClient asks for httpx2 (not in the lock)
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient
    from airflow.api_fastapi.core_api.security import get_user
    from nbreports_ui.app import create_app

    app = create_app()
    current: list[Person] = []
    app.dependency_overrides[get_user] = lambda: current[0]
    client = TestClient(app, base_url="http://bench/")
    people = {name: Person(name, tuple(Role(r) for r in roles)) for name, roles in spec["people"].items()}
    current[:] = [next(iter(people.values()))]
    client.get("/api/reports")  # the catalog read once (its objects live for the whole process)
    gc.collect()
    gc.freeze()  # what exists now is never collected again: the per-request collections stay cheap
    requests = {"catalog": "/api/reports", "history": f"/api/reports/{spec['hot']}/runs?limit=50"}
    times: dict[str, list[float]] = {}
    seen: dict[str, int] = {}
    for what, url in requests.items():
        for i in range(spec["warmups"] + spec["rounds"][what]):
            for person_name, person in people.items():
                # interleaved, the order swapped every round (on off, off on, ...), each after a
                # collection, so neither side pays for the garbage of the request before it
                for policy in ("on", "off") if i % 2 == 0 else ("off", "on"):
                    current[:] = [person]
                    with policy_off() if policy == "off" else contextlib.nullcontext():
                        gc.collect()
                        t0 = time.perf_counter()
                        resp = client.get(url)
                        elapsed = time.perf_counter() - t0
                    if resp.status_code != 200:
                        problem = f"{resp.status_code} {resp.text[:300]}"
                        raise SystemExit(f"{what} as {person_name}, policy {policy}: {problem}")
                    key = f"{what}|{person_name}|{policy}"
                    seen[key] = resp.json()["total"]
                    if i >= spec["warmups"]:
                        times.setdefault(key, []).append(elapsed)
    out = {
        key: {"p50_ms": statistics.median(v) * 1000, "p95_ms": p95(v) * 1000, "n": len(v), "total": seen[key]}
        for key, v in times.items()
    }
    print("BENCH " + json.dumps(out))


if __name__ == "__main__":
    main()
