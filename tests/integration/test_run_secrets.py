"""Airflow connections and variables a report lists reach its kernel, and never anything it publishes.

Through ``dag.test()`` on a real Airflow: the notebook prints its whole environment and the
connection's URI and password, and glues the URI; the values come from Airflow (``AIRFLOW_CONN_*``,
``AIRFLOW_VAR_*``) the way a deployment's secrets backend hands them over.
"""

from __future__ import annotations

import hashlib
import json

import pytest

from nbreports.storage.store import Store, open_store
from tests.helpers import make_report
from tests.integration.test_dags import run_dag

pytestmark = pytest.mark.integration

PASSWORD = "Wh-p4ssw0rd-91z"  # noqa: S105 - a test secret, the point of the test
TOKEN = "tok-7f3e9a12bd44"  # noqa: S105
URI = f"postgresql://analyst:{PASSWORD}@db.internal:5432/sales"
LEAKY = """\
import hashlib, os
from nbreports.kernel import connection_uri, variable
uri, token = connection_uri("warehouse"), variable("api_token")
print(dict(os.environ))
password = uri.split(":")[2].split("@")[0]
print("connecting with", uri, "password", password, "token", token)
import scrapbook as sb
sb.glue("uri", uri)
sb.glue("seen", hashlib.sha256((password + token).encode()).hexdigest())
"""


def _env(airflow_env, tmp_path, connections):
    notebooks = tmp_path / "notebooks"
    make_report(notebooks, "leaky", None, LEAKY, spec={"connections": connections, "variables": ["api_token"]})
    return {
        **airflow_env,
        "NBREPORTS_NOTEBOOKS_DIR": str(notebooks),
        "NBREPORTS_STORE_URL": str(tmp_path / "store"),
        "AIRFLOW_CONN_WAREHOUSE": URI,
        "AIRFLOW_VAR_API_TOKEN": TOKEN,
    }


def test_a_notebook_printing_its_connection_and_variable_publishes_neither(airflow_env, tmp_path):
    env = _env(airflow_env, tmp_path, ["warehouse"])
    result = run_dag(env, "leaky")
    assert result["state"] == "success", result["log"][-4000:]
    scraps = result["xcom"]["publish"]
    assert scraps["seen"] == hashlib.sha256((PASSWORD + TOKEN).encode()).hexdigest()  # the kernel got the real values
    assert scraps["uri"] == "***"
    run_id = result["xcom"]["prepare"]["run_id"]
    store = open_store(env["NBREPORTS_STORE_URL"])
    published = {
        name: store.read_bytes(Store.run_key("leaky", run_id, name)).decode()
        for name in ("output.ipynb", "report.html", "scraps.json", "run.json", "execution.json")
    }
    published["task log"] = result["log"]
    published["xcom"] = json.dumps(result["xcom"])
    for where, text in published.items():
        for secret in (PASSWORD, TOKEN):
            assert secret not in text, f"{secret} in {where}"
    assert "connecting with ***" in published["output.ipynb"]


def test_an_unknown_connection_fails_prepare_naming_it_and_writes_nothing(airflow_env, tmp_path):
    env = _env(airflow_env, tmp_path, ["warehouse", "no_such_conn"])
    result = run_dag(env, "leaky")
    assert result["state"] == "failed"
    assert result["tasks"]["prepare"] == "failed"
    assert "report leaky: connections: Airflow has no connection 'no_such_conn'" in result["log"]
    assert not (tmp_path / "store" / "runs").exists()
