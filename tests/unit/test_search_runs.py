"""Search over real runs and saves: indexed as they happen, rebuilt from the store alike, never failing a run."""

import contextlib

import nbformat
import sqlalchemy as sa

from nbreports.errors import CellExecutionError
from nbreports.history.versions import save_version
from nbreports.reports.catalog import load_report
from nbreports.runs.runner import run_report
from nbreports.search import ReportFacts, search
from nbreports.search.rebuild import reindex, retry_failed
from nbreports.search.sources import counts
from nbreports.storage.tables import utcnow
from tests.helpers import make_notebook, make_report

PARAMS = "region: str = 'EMEA'"
GLUE = "import scrapbook as sb\nsb.glue('quarterly_bookings', 4242.5)\nprint('bookings loaded from the ledger')"


def facts(*names):
    return {n: ReportFacts(n, n, "analytics", "alice") for n in names}


def hits(db, text, *names):
    page = search(db, text, facts(*names), per_page=100)
    return page.total, sorted((h.kind, h.report, h.version, h.run_id, h.cell) for h in page.hits)


def test_a_run_is_found_by_its_scrap_output_and_parameters_and_its_version_by_its_code(platform, notebooks):
    report = load_report(make_report(notebooks, "ledger", PARAMS, GLUE))
    run_id = run_report(platform, report, {"region": "APAC"})["run_id"]
    assert hits(platform.db, "4242.5 kind:scrap", "ledger")[1] == [("scrap", "ledger", None, run_id, None)]
    assert hits(platform.db, '"from the ledger" kind:output', "ledger")[1][0][3] == run_id
    assert hits(platform.db, "apac kind:parameter", "ledger")[0] == 1
    [code] = hits(platform.db, "quarterly_bookings kind:code", "ledger")[1]
    assert code[2] == report.notebook_sha  # the version the run pinned
    assert code[4] == 2  # at the glue cell


def test_a_failed_run_is_found_by_its_error(platform, notebooks):
    report = load_report(make_report(notebooks, "broken", PARAMS, "raise ValueError('ledger has 3 unbalanced rows')"))
    with contextlib.suppress(CellExecutionError):
        run_report(platform, report, {})
    total, found = hits(platform.db, "unbalanced status:failed kind:error", "broken")
    assert total == 1
    assert found[0][3] is not None


def test_a_reindex_of_a_deleted_index_gives_the_same_results(platform, notebooks):
    report = load_report(make_report(notebooks, "ledger", PARAMS, GLUE))
    run_report(platform, report, {})
    content = nbformat.writes(make_notebook(PARAMS, "print('another cell')", title="Ledger, second edition"))
    save_version(platform.store, platform.db, "ledger", content.encode(), kernel="python3", source="cli")
    queries = ["ledger", "bookings OR edition", "quarterly_bookings", "4242.5", "kind:markdown"]
    before = {q: hits(platform.db, q, "ledger") for q in queries}
    assert all(before[q][0] for q in queries)
    with platform.db.engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM search_documents"))
        conn.execute(sa.text("DELETE FROM search_sources"))
    assert hits(platform.db, "ledger", "ledger")[0] == 0
    outcome = reindex(platform.db, platform.store)
    assert outcome.failed == 0
    assert outcome.indexed >= 3  # two versions, one run, the report
    assert {q: hits(platform.db, q, "ledger") for q in queries} == before
    reindex(platform.db, platform.store)  # idempotent
    assert {q: hits(platform.db, q, "ledger") for q in queries} == before


def test_a_failure_to_index_never_fails_the_run_and_is_retried(platform, notebooks):
    report = load_report(make_report(notebooks, "ledger", PARAMS, GLUE))
    with platform.db.engine.begin() as conn:  # the index's table gone: every write to it fails
        conn.execute(sa.text("ALTER TABLE search_documents RENAME TO search_documents_away"))
    try:
        record = run_report(platform, report, {})
    finally:
        with platform.db.engine.begin() as conn:
            conn.execute(sa.text("ALTER TABLE search_documents_away RENAME TO search_documents"))
    assert record["status"] == "success"
    assert counts(platform.db).get("failed", 0) >= 2  # the version and the run, recorded with their error
    assert hits(platform.db, "4242.5 kind:scrap", "ledger")[0] == 0
    assert retry_failed(platform.db, platform.store).indexed == 0  # not due yet
    outcome = retry_failed(platform.db, platform.store, now=utcnow().replace(year=utcnow().year + 1))
    assert outcome.indexed >= 2
    assert outcome.failed == 0
    assert hits(platform.db, "4242.5 kind:scrap", "ledger")[1][0][3] == record["run_id"]
    assert counts(platform.db).get("failed", 0) == 0
