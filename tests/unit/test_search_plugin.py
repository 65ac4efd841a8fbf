"""The plugin's search: ``/api/search`` finds only what the user may view, and a hit leads to its version's cell.

Same app and platform as ``test_access_plugin`` (its ``env`` fixture). The documents are put into
the index the way the platform does it: a notebook saved as a version (``save_version``, which
indexes it), here an example notebook with one more code cell naming a word nobody else uses.
"""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import pytest

from nbreports.history.versions import save_version
from tests.unit import test_access_plugin as base

env = base.env  # the fixture: the plugin's app over copies of the examples, a few runs of each
as_ = base.as_
WORD = "zanzibar_margin"  # in one code cell of a version of sales_summary (alice, carol) and of hr_headcount (paula)


def save_with_word(env: SimpleNamespace, report: str) -> tuple[str, int]:
    """Save the report's notebook with a code cell using ``WORD`` as a version; its sha256 and the cell's index."""
    path = env.notebooks / report / f"{report}.ipynb"
    nb = json.loads(path.read_bytes())
    cell: dict[str, Any] = {
        "cell_type": "code",
        "id": "margin-cell",
        "metadata": {},
        "execution_count": None,
        "outputs": [],
    }
    nb["cells"].append({**cell, "source": [f"{WORD} = revenue / cost  # the margin of {report}\n"]})
    sha = save_version(env.platform.store, env.platform.db, report, json.dumps(nb).encode(), kernel="python3",
                       source="upload", author="test")  # fmt: skip
    return sha, len(nb["cells"]) - 1


@pytest.fixture
def versions(env: SimpleNamespace) -> dict[str, tuple[str, int]]:
    """A version with ``WORD`` in a code cell of sales_summary (analytics) and hr_headcount (people, restricted)."""
    return {report: save_with_word(env, report) for report in ("sales_summary", "hr_headcount")}


def search(env: SimpleNamespace, user: str, q: str = WORD, **params: Any) -> Any:
    return env.client.get("/api/search", params={"q": q, **params}, headers=as_(user))


def found(env: SimpleNamespace, user: str, q: str = WORD) -> dict[str, Any]:
    resp = search(env, user, q)
    assert resp.status_code == 200, resp.text
    answer: dict[str, Any] = resp.json()
    return answer


def test_a_code_cell_is_found_at_its_version_and_cell(env: SimpleNamespace, versions: dict[str, Any]) -> None:
    sha, cell = versions["sales_summary"]
    answer = found(env, "alice")
    assert answer["total"] == 1
    (hit,) = answer["hits"]
    assert (hit["report"], hit["kind"], hit["version"], hit["cell"]) == ("sales_summary", "code", sha, cell)
    assert hit["title"] == "Sales summary"
    assert "".join(part["text"] for part in hit["snippet"]).startswith(WORD)  # the words of the cell
    assert [part["text"] for part in hit["snippet"] if part["hit"]][:2] == ["zanzibar", "margin"]  # "_" splits
    assert hit["url"] == f"/reports/sales_summary/versions/{sha}?cell={cell}#cell-{cell}"


def test_a_hit_from_a_report_one_may_not_view_is_neither_shown_nor_counted(
    env: SimpleNamespace, versions: dict[str, Any]
) -> None:
    by_user = {user: found(env, user) for user in ("alice", "carol", "paula", "root", "dave")}
    reports = {user: sorted(h["report"] for h in a["hits"]) for user, a in by_user.items()}
    assert reports == {
        "alice": ["sales_summary"],
        "carol": ["sales_summary"],  # a view grant of her own
        "paula": ["hr_headcount"],  # the restricted team's, for its members alone
        "root": ["hr_headcount", "sales_summary"],
        "dave": [],
    }
    totals = {user: a["total"] for user, a in by_user.items()}
    assert totals == {"alice": 1, "carol": 1, "paula": 1, "root": 2, "dave": 0}
    # a filter naming the report one may not view finds nothing either, and says nothing of it
    assert found(env, "alice", f"{WORD} report:hr_headcount") | {"query": ""} == {
        "total": 0, "total_exact": True, "page": 1, "per_page": 20, "query": "", "hits": []
    }  # fmt: skip
    assert "hr_headcount" not in search(env, "carol", f"{WORD} team:people").text


def test_paging_and_the_page_size_cap(env: SimpleNamespace, versions: dict[str, Any]) -> None:
    first = search(env, "root", per_page=1).json()
    second = search(env, "root", per_page=1, page=2).json()
    assert (first["total"], second["total"], len(first["hits"]), len(second["hits"])) == (2, 2, 1, 1)
    assert first["hits"][0]["report"] != second["hits"][0]["report"]
    assert search(env, "root", per_page=101).status_code == 422
    assert search(env, "root", page=0).status_code == 422
    deep = search(env, "root", per_page=100, page=101)  # deeper than anyone reads: the core's 400
    assert deep.status_code == 400
    assert deep.json()["position"] is None
    assert "page" in deep.json()["detail"]


@pytest.mark.parametrize("query", ['"unbalanced', "color:blue", "x" * 10_000])
def test_a_query_the_core_cannot_read_is_400_with_its_message(env: SimpleNamespace, query: str) -> None:
    resp = search(env, "alice", query)
    assert resp.status_code == 400
    body = resp.json()
    assert set(body) == {"detail", "position"}
    assert isinstance(body["detail"], str)
    assert body["detail"]
    assert body["position"] is None or isinstance(body["position"], int)


@pytest.mark.parametrize("query", ["", "   "])
def test_an_empty_query_is_400_saying_what_to_give(env: SimpleNamespace, query: str) -> None:
    resp = search(env, "alice", query)
    assert resp.status_code == 400
    assert resp.json()["detail"].startswith("the query is empty: type words to search for")
    assert env.client.get("/api/search", headers=as_("alice")).status_code == 400  # no q at all


def test_hit_urls_lead_to_the_run_the_version_cell_or_the_report() -> None:
    from nbreports_ui.search_api import hit_url

    root = "/airflow/nbreports"
    run = {"report": "sales_summary", "run_id": "20240601T060000-r1", "version": "a" * 64, "cell": 3}
    assert hit_url(root, run) == f"{root}/reports/sales_summary/runs/20240601T060000-r1"
    version = {**run, "run_id": None}
    assert hit_url(root, version) == f"{root}/reports/sales_summary/versions/{'a' * 64}?cell=3#cell-3"
    assert hit_url(root, {**version, "cell": None}) == f"{root}/reports/sales_summary/versions/{'a' * 64}"
    report = {"report": "sales_summary", "run_id": None, "version": None}
    assert hit_url(root, report) == f"{root}/reports/sales_summary"


def test_hit_urls_follow_the_apps_root_path(env: SimpleNamespace, versions: dict[str, Any]) -> None:
    from fastapi.testclient import TestClient
    from nbreports_ui import app

    sha, cell = versions["sales_summary"]
    with TestClient(app.app, base_url="http://127.0.0.1", root_path="/nbreports") as client:
        resp = client.get("/nbreports/api/search", params={"q": WORD}, headers=as_("alice"))
    assert resp.status_code == 200, resp.text
    assert resp.json()["hits"][0]["url"] == f"/nbreports/reports/sales_summary/versions/{sha}?cell={cell}#cell-{cell}"


def test_the_version_json_has_its_record_and_cells(env: SimpleNamespace, versions: dict[str, Any]) -> None:
    sha, cell = versions["sales_summary"]
    for version in (sha, sha[:8], sha.upper()[:16]):  # a prefix of 8 hex digits is enough
        resp = env.client.get(f"/api/reports/sales_summary/versions/{version}", headers=as_("carol"))
        assert resp.status_code == 200, resp.text
        body = resp.json()
        record = body["version"]
        assert (body["report"], record["sha256"], record["source"]) == ("sales_summary", sha, "upload")
        cells = body["cells"]
        assert [c["index"] for c in cells] == list(range(len(cells)))
        assert cells[cell] == {"index": cell, "id": "margin-cell", "cell_type": "code",
                               "source": f"{WORD} = revenue / cost  # the margin of sales_summary\n"}  # fmt: skip
        assert cells[0]["cell_type"] == "markdown"
        assert cells[0]["source"].startswith("# Sales summary")


def test_an_unknown_version_is_404_and_a_report_one_may_not_view_is_403(
    env: SimpleNamespace, versions: dict[str, Any]
) -> None:
    sha, _ = versions["sales_summary"]
    hr_sha, _ = versions["hr_headcount"]
    unknown = env.client.get("/api/reports/sales_summary/versions/deadbeefdeadbeef", headers=as_("alice"))
    assert unknown.status_code == 404
    assert "has no version deadbeefdeadbeef" in unknown.json()["detail"]
    other = env.client.get(f"/api/reports/sales_summary/versions/{hr_sha}", headers=as_("root"))
    assert other.status_code == 404  # another report's version is not this one's
    assert env.client.get("/api/reports/sales_summary/versions/abc", headers=as_("alice")).status_code == 422
    for user in ("alice", "carol", "dave"):
        for url in (f"/api/reports/hr_headcount/versions/{hr_sha}", f"/reports/hr_headcount/versions/{hr_sha}"):
            assert env.client.get(url, headers=as_(user)).status_code == 403, (user, url)
    assert env.client.get(f"/api/reports/sales_summary/versions/{sha}", headers=as_("dave")).status_code == 403
    assert env.client.get(f"/api/reports/hr_headcount/versions/{hr_sha}", headers=as_("paula")).status_code == 200


def test_the_page_shells(env: SimpleNamespace, versions: dict[str, Any]) -> None:
    sha, _ = versions["sales_summary"]
    page = env.client.get(f"/reports/sales_summary/versions/{sha}", headers=as_("carol"))
    assert page.status_code == 200
    assert 'data-page="version"' in page.text
    assert f'data-version="{sha}"' in page.text
    assert 'data-report="sales_summary"' in page.text
    shell = env.client.get("/search", params={"q": WORD}, headers=as_("dave"))  # anyone logged in: no data in it
    assert shell.status_code == 200
    assert 'data-page="search"' in shell.text
    assert WORD not in shell.text
