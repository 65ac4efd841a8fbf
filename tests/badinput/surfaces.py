"""How a case's input reaches the platform: one function per surface, each doing what the real caller does.

A surface has a ``setup`` (puts the input in place, before the "nothing is written" snapshot), a
``send`` (raises what the platform raised, or for the plugin returns the HTTP response) and a
``still_serving`` (the platform answers good input afterwards). ``SURFACES`` names them.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import quote

from nbreports.reports.catalog import Report, find_report, load_report, load_reports
from nbreports.reports.parameters import resolve_parameters
from nbreports.storage.store import Store
from tests.badinput.corpus import HERE, Case
from tests.conftest import REPO

TEMPLATE = HERE / "templates"
OTHERS = ("data_quality", "hr_headcount")  # good reports beside every bad one: they must still load
BAD = "bad_report"
GOOD_RUN = "20240601T060000Z-0000aaaa"
WRITE_HEADERS = {"X-Requested-With": "nbreports"}


@dataclass
class World:
    """The platform one case runs against: a notebooks folder with good reports, a store and a database."""

    notebooks: Path
    cache_dir: Path
    platform: Any
    shared: Path  # a folder of the session: the template report and its DAG are made once
    env: SimpleNamespace | None = None  # the plugin's app, only for plugin cases


def copy_examples(notebooks: Path, names: tuple[str, ...] = OTHERS) -> None:
    for name in names:
        shutil.copytree(REPO / "notebooks" / name, notebooks / name)


def build_folder(notebooks: Path, case: Case, name: str | None = None) -> Path:
    """The case's report folder: the template with the case's spec or notebook, or the case's folder as is."""
    name = name or case.options.get("folder", BAD)
    folder = notebooks / name
    source = case.path()
    if source.is_dir():
        shutil.copytree(source, folder)
        if not list(folder.glob("*.ipynb")):
            shutil.copy(TEMPLATE / "report.ipynb", folder / f"{name}.ipynb")
        return folder
    folder.mkdir(parents=True)
    is_notebook = source.suffix == ".ipynb"
    (folder / "report.yaml").write_bytes((TEMPLATE / "report.yaml").read_bytes() if is_notebook else case.data())
    notebook = case.data() if is_notebook else (TEMPLATE / "report.ipynb").read_bytes()
    (folder / f"{name}.ipynb").write_bytes(notebook)
    for extra in case.options.get("files", ()):  # files the spec refers to
        (folder / extra).parent.mkdir(parents=True, exist_ok=True)
        (folder / extra).write_text("a,b\n1,2\n")
    return folder


# -- catalog: load_report, find_report by folder and by name ---------------------------------------


def setup_catalog(world: World, case: Case) -> Any:
    return build_folder(world.notebooks, case)


def send_catalog(world: World, case: Case, folder: Path) -> None:
    """The catalog's three ways in must all refuse the folder (``load_reports`` is checked by ``still_serving``)."""
    errors: list[BaseException] = []
    calls: list[Callable[[], object]] = [
        lambda: load_report(folder, world.cache_dir),
        lambda: find_report(world.notebooks, str(folder), world.cache_dir),
    ]
    if case.options.get("by_name", True):
        calls.append(lambda: find_report(world.notebooks, folder.name, world.cache_dir))
    for call in calls:
        try:
            call()
        except Exception as exc:
            errors.append(exc)
        else:
            raise AssertionError(f"{case.id}: the catalog accepted {folder.name}")
    first = errors[0]
    assert all(type(e) is type(first) and str(e) == str(first) for e in errors), errors
    raise first


def still_serving_catalog(world: World, case: Case) -> None:
    reports, errors = load_reports(world.notebooks, world.cache_dir)
    assert sorted(r.name for r in reports) == sorted(OTHERS), (reports, errors)
    assert len(errors) <= 1, errors  # the bad report, if discover() sees it (a hidden or odd name still counts)


# -- prepare: what only a run can find ------------------------------------------------------------


def setup_prepare(world: World, case: Case) -> Any:
    report = load_report(build_folder(world.notebooks, case), world.cache_dir)
    for path in case.options.get("remove", ()):  # what changed on disk after the DAG was parsed
        (report.folder / path).unlink()
    return report


def send_prepare(world: World, case: Case, report: Report) -> None:
    from nbreports.runs.prepare import prepare

    prepare(world.platform, report, {})


def still_serving_prepare(world: World, case: Case) -> None:
    reports, errors = load_reports(world.notebooks, world.cache_dir)
    names = {r.name for r in reports}  # the others load; the bad one loads too unless what it lacks shows at load
    assert set(OTHERS) <= names <= {*OTHERS, BAD}, (reports, errors)


# -- run parameters: resolve_parameters, and Airflow's Params as the REST trigger checks them ------


@cache
def template_report(root: Path) -> Report:
    """The template report (one parameter of every type), loaded once per session folder."""
    folder = root / "template" / BAD
    if not folder.exists():
        folder.mkdir(parents=True)
        shutil.copy(TEMPLATE / "report.yaml", folder / "report.yaml")
        shutil.copy(TEMPLATE / "report.ipynb", folder / f"{BAD}.ipynb")
    return load_report(folder)


@cache
def template_dag(root: Path) -> Any:
    """The template report's DAG as the API server holds it: built by the factory, serialized, deserialized."""
    from airflow.serialization.serialized_objects import DagSerialization

    from operators.factory import build_dag

    return DagSerialization.from_dict(DagSerialization.to_dict(build_dag(template_report(root))))


def conf_of(case: Case) -> Any:
    return json.loads(case.data())


def send_parameters(world: World, case: Case, state: Any = None) -> None:
    report = template_report(world.shared)
    resolve_parameters(report.name, report.parameters, conf_of(case))


def send_dag_conf(world: World, case: Case, state: Any = None) -> None:
    """The REST API's trigger: its body model, then ``deep_merge(conf).validate()``; then prepare's check."""
    from airflow.api_fastapi.core_api.datamodels.dag_run import TriggerDAGRunPostBody

    from operators.report import FORCE_PARAM, PROFILE_PARAM

    body = TriggerDAGRunPostBody.model_validate({"logical_date": None, "conf": conf_of(case)})
    conf = body.conf or {}
    params = template_dag(world.shared).params.deep_merge(conf).validate()
    report = template_report(world.shared)
    names = {p.name for p in report.parameters}  # what PrepareReportOperator hands prepare
    values = {k: v for k, v in params.items() if k in names}
    values.update({k: v for k, v in conf.items() if k not in names and k not in (FORCE_PARAM, PROFILE_PARAM)})
    resolve_parameters(report.name, report.parameters, values)


def still_serving_parameters(world: World, case: Case) -> None:
    report = template_report(world.shared)
    assert resolve_parameters(report.name, report.parameters, {"count": 4})["count"] == 4


def still_serving_dag_conf(world: World, case: Case) -> None:
    assert template_dag(world.shared).params.deep_merge({"count": 4}).validate()["count"] == 4


# -- names: identifiers, the store, a folder of that name ------------------------------------------


def name_of(case: Case) -> str:
    return case.path().read_bytes().decode("utf-8")


def send_report_name(world: World, case: Case, state: Any = None) -> None:
    from nbreports.identifiers import check_report_name

    check_report_name(name_of(case))


def send_run_id(world: World, case: Case, state: Any = None) -> None:
    from nbreports.identifiers import check_run_id

    check_run_id(name_of(case))


def send_sha256(world: World, case: Case, state: Any = None) -> None:
    from nbreports.identifiers import check_sha256

    check_sha256(name_of(case))


def send_store_report(world: World, case: Case, state: Any = None) -> None:
    world.platform.store.write_bytes(Store.run_key(name_of(case), GOOD_RUN, "run.json"), b"{}")


def send_store_latest(world: World, case: Case, state: Any = None) -> None:
    world.platform.store.write_bytes(Store.latest_key(name_of(case)), b"{}")


def send_store_run(world: World, case: Case, state: Any = None) -> None:
    world.platform.store.write_bytes(Store.run_key("sales_summary", name_of(case), "run.json"), b"{}")


def send_store_version(world: World, case: Case, state: Any = None) -> None:
    world.platform.store.write_bytes(Store.version_key(name_of(case)), b"{}")


def send_store_key(world: World, case: Case, state: Any = None) -> None:
    world.platform.store.write_bytes(name_of(case), b"{}")


def still_serving_store(world: World, case: Case) -> None:
    key = Store.run_key("sales_summary", GOOD_RUN, "probe.json")
    world.platform.store.write_bytes(key, b"{}")
    assert world.platform.store.read_bytes(key) == b"{}"


def setup_catalog_folder(world: World, case: Case) -> Any:
    """A report folder named like the case's name, with the template inside."""
    folder = world.notebooks / name_of(case)
    folder.mkdir()
    shutil.copy(TEMPLATE / "report.yaml", folder / "report.yaml")
    shutil.copy(TEMPLATE / "report.ipynb", folder / "report.ipynb")
    return folder


def send_catalog_folder(world: World, case: Case, folder: Path) -> None:
    """Refused for its name, whatever it holds."""
    load_report(folder, world.cache_dir)


# -- the plugin's routes ---------------------------------------------------------------------------


def send_plugin_report_route(world: World, case: Case, state: Any = None) -> Any:
    return _get(world, f"/api/reports/{quote(name_of(case), safe='')}")


def send_plugin_run_route(world: World, case: Case, state: Any = None) -> Any:
    return _get(world, f"/api/reports/sales_summary/runs/{quote(name_of(case), safe='')}")


def _get(world: World, path: str) -> Any:
    from tests.unit.test_access_plugin import as_

    assert world.env is not None
    return world.env.client.get(path, headers=as_("root"))


def send_plugin(world: World, case: Case, state: Any = None) -> Any:
    """The request the case's file describes, sent to the in-process plugin app."""
    import yaml

    from tests.unit.test_access_plugin import as_

    assert world.env is not None
    request = yaml.safe_load(case.path().read_text())
    method, path = request["method"], request["path"]
    headers = as_(request.get("user", "root"), **(WRITE_HEADERS if method != "GET" else {}))
    kwargs: dict[str, Any] = {}
    generate = request.get("generate")
    if "json" in request:
        kwargs["json"] = request["json"]
    elif "json_content_file" in request:
        data = Case(case.id, case.surface, request["json_content_file"], None, {"generate": generate}).data()
        kwargs["json"] = {"content": data.decode("utf-8"), "filename": Path(request["json_content_file"]).name}
    elif "multipart_file" in request:
        data = Case(case.id, case.surface, request["multipart_file"], None, {"generate": generate}).data()
        field = request.get("multipart_field", "notebook")
        kwargs["files"] = {field: (Path(request["multipart_file"]).name, data, "application/x-ipynb+json")}
    elif "raw" in request:
        kwargs["content"] = str(request["raw"]).encode()
        headers["Content-Type"] = request["content_type"]
    return world.env.client.request(method, path, headers=headers, **kwargs)


def still_serving_plugin(world: World, case: Case) -> None:
    from tests.unit.test_access_plugin import as_

    assert world.env is not None
    resp = world.env.client.get("/api/reports", headers=as_("root"))
    assert resp.status_code == 200, resp.text
    assert {"sales_summary", BAD} <= {r["name"] for r in resp.json()["reports"]}


def _nothing(world: World, case: Case) -> Any:
    return None


@dataclass(frozen=True)
class Surface:
    """One way in: put the input in place, send it, check the platform still answers."""

    send: Any
    still_serving: Any
    setup: Any = _nothing
    http: bool = False


_STORE = {"store_report": send_store_report, "store_latest": send_store_latest, "store_run": send_store_run,
          "store_version": send_store_version, "store_key": send_store_key}  # fmt: skip
SURFACES: dict[str, Surface] = {
    "catalog": Surface(send_catalog, still_serving_catalog, setup_catalog),
    "catalog_folder": Surface(send_catalog_folder, still_serving_catalog, setup_catalog_folder),
    "prepare": Surface(send_prepare, still_serving_prepare, setup_prepare),
    "parameters": Surface(send_parameters, still_serving_parameters),
    "dag_conf": Surface(send_dag_conf, still_serving_dag_conf),
    "report_name": Surface(send_report_name, still_serving_store),
    "run_id": Surface(send_run_id, still_serving_store),
    "sha256": Surface(send_sha256, still_serving_store),
    **{name: Surface(send, still_serving_store) for name, send in _STORE.items()},
    "plugin": Surface(send_plugin, still_serving_plugin, http=True),
    "plugin_report_route": Surface(send_plugin_report_route, still_serving_plugin, http=True),
    "plugin_run_route": Surface(send_plugin_run_route, still_serving_plugin, http=True),
}
