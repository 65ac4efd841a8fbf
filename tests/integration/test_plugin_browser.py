"""The nbreports pages in headless Chromium, inside Airflow's own UI, against real servers.

A data scientist's path: log in, open Reports from Airflow's menu, open a report, run it with
parameters through Airflow's trigger form, watch the run finish on the DAG run's "Report run"
tab, read the HTML report, compare two runs; search for a word of the notebook's code and land on
its cell in the notebook version. Then the safety check: a notebook output with a script cannot
use the reader's session. Screenshots of each page go to ``.screenshots/``.

Needs Debian's Chromium (``scripts/setup-chromium.sh``); skipped when it is missing.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from nbreports.browse.runs import recent_runs
from nbreports.storage.database import PlatformDB
from tests.conftest import REPO
from tests.integration.plugin_data import PROBE, seed_probe_runs
from tests.integration.servers import USERS, AirflowServers

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SHOTS = REPO / ".screenshots"
REPORT = "sales_summary"
SEARCH_WORD = "ascending"  # in one code cell of sales_summary's notebook, in no other example's

pytestmark = [
    pytest.mark.integration,
    pytest.mark.e2e,
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="run scripts/setup-chromium.sh"),
]

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect


@pytest.fixture(scope="module")
def servers(airflow_servers: AirflowServers, tmp_path_factory: pytest.TempPathFactory) -> AirflowServers:
    airflow_servers.wait_for_dags([REPORT])
    airflow_servers.wait_until_idle([REPORT], timeout=150)
    # a finished run with the default parameters, to find in the history and compare against
    baseline = airflow_servers.trigger(REPORT, {"top_n": 3})
    assert baseline.status_code == 200, baseline.text
    assert airflow_servers.wait_for_run(REPORT, baseline.json()["dag_run_id"], timeout=180)["state"] == "success"
    airflow_servers.probe_runs = seed_probe_runs(airflow_servers, tmp_path_factory.mktemp("notebooks"))  # type: ignore[attr-defined]
    return airflow_servers


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with playwright_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Any, servers: AirflowServers) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1440, "height": 1000}, base_url=servers.base_url)
    context.set_default_timeout(30_000)
    page = context.new_page()
    login(page, "admin")
    yield page
    context.close()


def shot(page: Any, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=False)


def login(page: Any, user: str) -> None:
    page.goto("/")
    page.get_by_label("Username").fill(user)
    page.get_by_label("Password").fill(USERS[user][1])
    shot(page, "01-login")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/$"))


def plugin_frame(page: Any) -> Any:
    return page.frame_locator("iframe[src*='/nbreports/']")


def test_reports_trigger_watch_read_and_compare(page: Any, servers: AirflowServers) -> None:
    # Reports, from Airflow's own menu
    page.get_by_role("button", name="Browse").click()
    expect(page.get_by_role("menuitem", name="Search reports")).to_be_visible()  # search has its own entry
    page.get_by_role("menuitem", name="Reports", exact=True).click()
    catalog = plugin_frame(page)
    expect(catalog.get_by_role("link", name="Sales summary")).to_be_visible()
    expect(catalog.get_by_role("link", name="UI probe")).to_be_visible()
    shot(page, "02-reports")

    # a report: description, parameters, history
    catalog.get_by_role("link", name="Sales summary").click()
    report = plugin_frame(page)
    expect(report.get_by_role("heading", name="Sales summary")).to_be_visible()
    expect(report.locator("code", has_text="top_n").first).to_be_visible()
    expect(report.locator("#history a.run-link").first).to_be_visible()
    shot(page, "03-report")

    # "Run with parameters" leads to the DAG in Airflow; its Trigger form takes the parameters
    report.locator("#run-with-parameters").click()
    page.wait_for_url(re.compile(rf"/dags/{REPORT}$"))
    before = {r["dag_run_id"] for r in servers.dag_runs(REPORT)}
    page.get_by_role("button", name="Trigger").first.click()
    dialog = page.get_by_role("dialog")
    dialog.locator("#element_end_date").fill("2024-06-30")
    dialog.get_by_role("spinbutton").first.fill("2")  # top_n
    shot(page, "04-trigger-form")
    dialog.get_by_test_id("trigger-dag-submit").click()

    deadline = time.monotonic() + 30
    while not (new := [r for r in servers.dag_runs(REPORT) if r["dag_run_id"] not in before]):
        assert time.monotonic() < deadline, "the trigger form made no DAG run"
        time.sleep(0.5)
    dag_run = new[0]
    assert dag_run["conf"]["top_n"] == 2
    assert dag_run["conf"]["end_date"] == "2024-06-30"

    # watch it on the DAG run's "Report run" tab: the page refreshes itself until the report is there
    page.goto(f"/dags/{REPORT}/runs/{dag_run['dag_run_id']}/plugin/nbreports-run")
    run_tab = plugin_frame(page)
    expect(run_tab.locator("h1")).to_contain_text(REPORT)
    shot(page, "05-run-tab-while-running")
    servers.wait_for_run(REPORT, dag_run["dag_run_id"], timeout=180)
    expect(run_tab.locator(".badge.success").first).to_be_visible(timeout=60_000)
    expect(run_tab.locator("#run-parameters")).to_contain_text('"top_n": 2')

    # the published HTML report, in its sandboxed frame
    html = run_tab.frame_locator("#report-frame")
    expect(html.locator("body")).to_contain_text("Sales summary", timeout=30_000)
    assert run_tab.locator("#report-frame").get_attribute("sandbox").split() == [
        "allow-scripts",
        "allow-popups",
        "allow-popups-to-escape-sandbox",
        "allow-downloads",
    ]
    run_tab.locator("#report-frame").scroll_into_view_if_needed()
    shot(page, "06-run-report")

    # compare the new run with the one before it, from the report's history
    page.goto(f"/dags/{REPORT}/plugin/nbreports-report")
    history = plugin_frame(page)
    # subscribe from the report page: the toggle says so, and mails go to the directory's address
    subscribe = history.locator("#subscribe")
    expect(subscribe).to_have_attribute("aria-pressed", "false")
    subscribe.click()
    expect(subscribe).to_have_attribute("aria-pressed", "true")
    expect(history.locator("#subscribe-status")).to_contain_text("admin@nbreports.test")
    # the new run (top_n 2) and a run with another top_n: other tests share this platform database
    runs = recent_runs(PlatformDB(servers.platform_db_url), REPORT, limit=50)
    new_run = next(r for r in runs if r["dag_run_id"] == dag_run["dag_run_id"])
    other = next(r for r in runs if r["status"] == "success" and r["parameters"].get("top_n") != 2)
    for run in (new_run, other):
        pick = history.locator(f'#history input.pick[value="{run["run_id"]}"]')
        expect(pick).to_be_visible()
        pick.check()
    shot(page, "07-report-history-selected")
    history.locator("#compare").click()
    compare = plugin_frame(page)
    expect(compare.get_by_role("heading", name=f"Compare runs of {REPORT}")).to_be_visible()
    top_n_row = compare.locator("tr", has=compare.locator("code", has_text=re.compile("^top_n$")))
    expect(top_n_row).to_contain_text("changed")
    expect(compare.locator("#nbdiff")).to_be_visible()
    shot(page, "08-compare")


def test_search_finds_a_code_cell_and_opens_its_version_at_that_cell(page: Any, servers: AirflowServers) -> None:
    """The baseline run saved sales_summary's notebook as a version, and so indexed its cells."""
    word = SEARCH_WORD
    page.goto("/nbreports/")
    box = page.locator("#catalog-search")  # the catalog's header
    box.fill(word)
    box.press("Enter")
    page.wait_for_url(re.compile(rf"/nbreports/search\?q={word}$"))
    expect(page.locator("#search-q")).to_have_value(word)
    expect(page.locator("#search-count")).to_have_text(re.compile(r"^\d+ results?$"))
    code = page.locator(".badge.kind", has_text=re.compile("^code$"))
    hit = page.locator(".search-hit", has=code).filter(has_text="Sales summary").first
    expect(hit.locator(".snippet mark").first).to_have_text(re.compile(word, re.IGNORECASE))
    shot(page, "15-search")

    link = hit.locator("a.hit-link")
    href = link.get_attribute("href")
    found = re.search(r"/reports/sales_summary/versions/([0-9a-f]{64})\?cell=(\d+)&q=\w+#cell-(\d+)$", href or "")
    assert found, href
    assert found.group(2) == found.group(3)
    link.click()
    page.wait_for_url(re.compile(rf"/versions/{found.group(1)}\?cell={found.group(2)}"))
    cell = page.locator(f"#cell-{found.group(2)}")
    expect(cell).to_have_class(re.compile(r"\bcell-highlight\b"))
    expect(cell).to_be_in_viewport()
    expect(cell).to_contain_text(word)
    expect(cell.locator("mark").first).to_have_text(word)
    expect(page.locator(".cell-highlight")).to_have_count(1)
    shot(page, "16-version-at-the-cell")


def _probe(frame: Any) -> dict[str, str]:
    probe = frame.locator("#probe")
    expect(probe).not_to_have_text("pending", timeout=20_000)
    return dict(json.loads(probe.inner_text()))


def test_a_notebook_script_cannot_use_the_readers_session(page: Any, servers: AirflowServers) -> None:
    run_id = servers.probe_runs[0]["run_id"]  # type: ignore[attr-defined]
    token = next(c["value"] for c in page.context.cookies() if c["name"] == "_token")
    page.evaluate("localStorage.setItem('nbr-secret', 'local-storage-secret')")

    page.goto(f"/nbreports/reports/{PROBE}/runs/{run_id}")
    frame = page.frame_locator("#report-frame")
    got = _probe(frame)
    frame.locator("#probe").scroll_into_view_if_needed()
    shot(page, "09-probe-sandboxed")
    assert got["origin"] == "null"
    for key in ("cookie", "storage", "parent", "api", "airflow"):
        assert got[key].startswith("blocked"), (key, got)
    assert token not in json.dumps(got)
    assert "local-storage-secret" not in json.dumps(got)

    # the same page without the protections does leak: the probe would notice a regression
    def unprotected(route: Any) -> None:
        response = route.fetch()
        headers = {k: v for k, v in response.headers.items() if k.lower() != "content-security-policy"}
        route.fulfill(response=response, headers=headers)

    page.route("**/nbreports/content/**", unprotected)
    page.goto(f"/nbreports/content/reports/{PROBE}/runs/{run_id}/report.html")
    leaked = _probe(page)
    shot(page, "10-probe-unprotected-control")
    assert leaked["origin"] == servers.base_url
    assert "local-storage-secret" in leaked["storage"]
    assert leaked["api"].startswith('200 {"reports":')
    assert leaked["airflow"].startswith("200")


def _person(browser: Any, servers: AirflowServers, user: str) -> Any:
    context = browser.new_context(viewport={"width": 1440, "height": 1000}, base_url=servers.base_url)
    context.set_default_timeout(30_000)
    page = context.new_page()
    login(page, user)
    return page


def test_a_restricted_report_is_its_teams_alone_and_a_change_lands_in_the_audit_log(
    browser: Any, servers: AirflowServers
) -> None:
    alice = _person(browser, servers, "alice")  # analytics
    paula = _person(browser, servers, "paula")  # people: the restricted team
    try:
        # the catalog: alice sees her team's reports and what is shared with her, never the restricted one
        alice.goto("/nbreports/")
        expect(alice.get_by_role("link", name="Sales summary")).to_be_visible()
        expect(alice.get_by_role("link", name="Orders data quality")).to_be_visible()  # data-eng lets her run it
        expect(alice.get_by_role("link", name="Headcount and pay")).to_have_count(0)
        shot(alice, "11-catalog-alice")
        paula.goto("/nbreports/")
        expect(paula.get_by_role("link", name="Headcount and pay")).to_be_visible()
        expect(paula.get_by_role("link", name="Sales summary")).to_have_count(0)
        shot(paula, "12-catalog-paula")

        # its direct URL: 403, and the page says nothing about it
        resp = alice.goto("/nbreports/reports/hr_headcount")
        assert resp is not None
        assert resp.status == 403
        assert alice.locator("#detail").text_content() == "you may not view report 'hr_headcount'"
        assert "Headcount" not in alice.content()
        shot(alice, "13-restricted-403")

        # alice may change her team's report: she shares it for execute with carol, through the page
        assert alice.goto("/nbreports/reports/sales_summary").status == 200
        alice.locator("#access-execute-users").fill("carol")
        alice.locator("#save-access").click()
        expect(alice.locator("#access-status")).to_contain_text("Saved to report.yaml")
        entry = alice.locator("#audit-entries tr", has_text="edit-access").first
        expect(entry).to_contain_text("alice")
        expect(entry).to_contain_text("done")
        shot(alice, "14-audit-after-access-edit")
        spec = Path(servers.env["NBREPORTS_NOTEBOOKS_DIR"]) / "sales_summary" / "report.yaml"
        assert "execute:" in spec.read_text()
        assert "carol" in spec.read_text().split("execute:")[1]

        # Airflow enforces the new grant too once the dag-processor re-parses the DAGs (access_control)
        deadline = time.monotonic() + 150
        with servers.client("carol") as carol:
            bad_date = {"logical_date": "not-a-date", "conf": {}}  # refused after the permission check
            while (code := carol.post(f"/api/v2/dags/{REPORT}/dagRuns", json=bad_date).status_code) == 403:
                assert time.monotonic() < deadline, "carol still may not trigger sales_summary in Airflow"
                time.sleep(2)
        assert code == 422

        # paula may view the restricted report but not change alice's: no access editor there
        paula.goto("/nbreports/reports/hr_headcount")
        expect(paula.get_by_role("heading", name="Headcount and pay")).to_be_visible()
        assert paula.goto("/nbreports/reports/sales_summary").status == 403
    finally:
        alice.context.close()
        paula.context.close()
