"""Secrets never published: a notebook that prints its environment and a connection's password.

A real kernel prints ``os.environ``, a database URL with the password a connection gave it, and
glues the secret as a scrap, then fails with it in the error: the stored output notebook, the HTML,
the scraps, run.json, the database row and every log line carry ``***`` instead.
"""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
import sqlalchemy as sa

from nbreports.errors import CellExecutionError
from nbreports.redaction.redact import MASK, Redactor, secrets_of
from nbreports.reports.catalog import load_report
from nbreports.runs.runner import run_report
from nbreports.storage.store import Store
from tests.helpers import make_report

STORE_SECRET = "store-secret-Zq81!x"  # noqa: S105 - a test value
WAREHOUSE_PASSWORD = 'w4re"house\\pw'  # noqa: S105 - JSON escapes it: the bytes do not hold it verbatim
CONNECTION_PASSWORD = "conn-pass-77e1c9"  # noqa: S105 - handed over by the Airflow adapter

PRINTS_EVERYTHING = """\
import os, scrapbook as sb
print(dict(os.environ))
print("dsn:", os.environ["WAREHOUSE_DSN"])
sb.glue("leak", os.environ["WAREHOUSE_PASSWORD"])
"""
FAILS_WITH_IT = 'raise RuntimeError("cannot connect with " + os.environ["WAREHOUSE_DSN"])'


def test_secrets_are_found_by_name_option_and_url_password():
    found = secrets_of(
        {"AWS_SECRET_ACCESS_KEY": "abcdefgh", "API_TOKEN": "tok-123456", "HOME": "/root", "DB_PASSWORD": "x"},
        {"key": "AKIAEXAMPLE", "endpoint_url": "http://127.0.0.1:9000"},
        ["postgresql://nbr:pg-pass-123@db/nbr", "sqlite:///tmp/x.db"],
    )
    assert found == {"abcdefgh", "tok-123456", "AKIAEXAMPLE", "pg-pass-123"}  # "x" is too short to mask


def test_a_notebooks_outputs_are_masked_and_its_sources_kept():
    nb = {
        "cells": [
            {
                "cell_type": "code",
                "source": "s = 'abc-secret'",
                "outputs": [{"output_type": "stream", "text": ["abc-secret!"]}],
            },
            {"cell_type": "markdown", "source": "abc-secret"},
        ],
        "metadata": {},
    }
    redactor = Redactor({"abc-secret"})
    masked = json.loads(redactor.notebook(json.dumps(nb).encode()))
    assert masked["cells"][0]["outputs"][0]["text"] == [f"{MASK}!"]
    assert masked["cells"][0]["source"] == "s = 'abc-secret'"
    assert masked["cells"][1]["source"] == "abc-secret"
    untouched = json.dumps({"cells": [], "metadata": {}}).encode()
    assert redactor.notebook(untouched) is untouched


@pytest.mark.parametrize("platform", ["local-sqlite"], indirect=True)
def test_a_run_that_prints_its_environment_publishes_no_secret(platform, notebooks, monkeypatch):
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", STORE_SECRET)  # the worker's store credentials
    platform = replace(
        platform,
        kernel_env={
            **platform.kernel_env,
            "WAREHOUSE_PASSWORD": WAREHOUSE_PASSWORD,
            "WAREHOUSE_DSN": f"postgresql://analyst:{CONNECTION_PASSWORD}@warehouse/sales",
        },
        extra_secrets=frozenset({CONNECTION_PASSWORD}),
    )
    report = load_report(make_report(notebooks, "leaky", "n: int = 1", PRINTS_EVERYTHING, FAILS_WITH_IT))
    lines: list[str] = []
    with pytest.raises(CellExecutionError) as failed:
        run_report(platform, report, {}, log=lines.append)
    run_id = failed.value.output_uri.split("/")[-2]

    secrets = (STORE_SECRET, WAREHOUSE_PASSWORD, json.dumps(WAREHOUSE_PASSWORD)[1:-1], CONNECTION_PASSWORD)
    store = platform.store
    published = {
        name: store.read_bytes(Store.run_key("leaky", run_id, name)).decode()
        for name in ("output.ipynb", "report.html", "scraps.json", "run.json", "execution.json")
    }
    published["log"] = "\n".join(lines)
    published["error"] = str(failed.value)
    with platform.db.engine.connect() as conn:  # what search can find: the masked output, the recorded error
        bodies = conn.execute(sa.text("SELECT kind, body FROM search_documents WHERE report = 'leaky'")).all()
    published["search index"] = "\n".join(body for _, body in bodies)
    assert {"output", "error", "scrap"} <= {kind for kind, _ in bodies}
    for where, text in published.items():
        for secret in secrets:
            assert secret not in text, f"{secret!r} published in {where}"
    assert f"dsn: postgresql://analyst:{MASK}@warehouse/sales" in published["output.ipynb"]
    assert MASK in published["log"]
    assert json.loads(published["scraps.json"])["leak"] == MASK
    assert "HOME" in published["output.ipynb"]  # the environment was printed: only the values are masked


@pytest.mark.parametrize(
    ("spec", "field", "message"),
    [
        ({"connections": ["warehouse"], "executor": "podman"}, "(spec)", "reach only a local kernel"),
        ({"connections": ["ware house"]}, "connections", "not an Airflow connection or variable name"),
        ({"variables": ["token", "token"]}, "variables", "listed once"),
    ],
)
def test_connections_and_variables_in_the_spec_are_checked(spec, field, message):
    from nbreports.errors import SpecError
    from nbreports.reports.spec import parse_spec

    with pytest.raises(SpecError) as info:
        parse_spec({"title": "t", **spec}, "r/report.yaml")
    assert (info.value.field, message in str(info.value)) == (field, True)


def test_the_kernel_reads_the_listed_connections_and_is_told_which_are_missing(monkeypatch):
    from nbreports.kernel import connection_uri, variable
    from nbreports.kernel.airflow_values import kernel_env

    monkeypatch.setattr("os.environ", {**kernel_env({"my-dwh.prod": "postgresql://u:p@h/db"}, {"api_token": "t0k"})})
    assert connection_uri("my-dwh.prod") == "postgresql://u:p@h/db"
    assert variable("api_token") == "t0k"
    with pytest.raises(KeyError, match="list it under `connections:` in report.yaml"):
        connection_uri("other")
