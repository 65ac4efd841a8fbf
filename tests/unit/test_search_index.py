"""The index on both backends (SQLite FTS5, PostgreSQL tsvector): the same query finds the same documents."""

from datetime import UTC, datetime, timedelta

import nbformat
import pytest

from nbreports.search import ReportFacts, index_report, index_run, index_version, search

T0 = datetime(2026, 3, 1, 9, tzinfo=UTC)
MAX = 20_000


def notebook(*cells):
    nb = nbformat.v4.new_notebook()
    for cell in cells:
        nb.cells.append(
            nbformat.v4.new_markdown_cell(cell[3:]) if cell.startswith("md:") else nbformat.v4.new_code_cell(cell)
        )
    return nbformat.writes(nb).encode()


FACTS = {
    "sales": ReportFacts("sales", "Sales summary", "analytics", "alice", ("finance", "daily")),
    "hr": ReportFacts("hr", "Headcount", "people", "bob", ("private",)),
}


def found(db, text, facts=FACTS, **kw):
    page = search(db, text, facts, **kw)
    return page.total, [(h.report, h.kind, h.version and h.version[:1], h.cell, h.run_id) for h in page.hits]


@pytest.fixture
def indexed(db):
    v1 = notebook(
        "import pandas as pd", "df = load('orders')\nrevenue_total = df.amount.sum()", "md:# Net margin by region"
    )
    v2 = notebook(
        "import pandas as pd", "df = load('orders')\ngross_total = df.gross.sum()", "md:# Net margin by region"
    )
    index_version(db, "sales", "1" * 64, v1, at=T0, max_chars=MAX)
    index_version(db, "sales", "2" * 64, v2, at=T0 + timedelta(days=2), max_chars=MAX)
    index_version(
        db, "hr", "3" * 64, notebook("salaries = read('payroll')  # revenue_total is not here"), at=T0, max_chars=MAX
    )
    ok = {"report": "sales", "run_id": "run-ok", "status": "success", "parameters": {"region": "EMEA"}}
    index_run(db, {**ok, "started_at": T0 + timedelta(days=3)}, None, {"total_revenue": 98765.25}, max_chars=MAX)
    failed = {
        **ok,
        "run_id": "run-bad",
        "status": "failed",
        "started_at": T0 + timedelta(days=4),
        "error": "KeyError: 'amount_eur' not in columns",
        "failure_kind": "cell_error",
        "failed_cell": 2,
    }
    output = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell(
                "print(x)",
                outputs=[nbformat.v4.new_output("stream", name="stdout", text="loaded 1204 orders from warehouse\n")],
            )
        ]
    )
    index_run(db, failed, output, {}, max_chars=MAX)
    index_report(
        db,
        {
            "name": "sales",
            "title": "Sales summary",
            "owner": "alice",
            "team": "analytics",
            "spec": {"description": "Daily orders and revenue per region", "tags": ["finance"]},
        },
        max_chars=MAX,
    )
    return db


def test_a_word_from_a_code_cell_of_an_old_version_finds_that_version_and_cell(indexed):
    assert found(indexed, "revenue_total", {"sales": FACTS["sales"]}) == (1, [("sales", "code", "1", 1, None)])


def test_a_cell_unchanged_across_versions_is_one_hit_linking_the_newest(indexed):
    page = search(indexed, '"net margin"', FACTS)
    [hit] = page.hits
    assert (hit.kind, hit.version, hit.versions, hit.cell) == ("markdown", "2" * 64, 2, 2)


def test_a_scrap_value_finds_the_run(indexed):
    assert found(indexed, "98765.25") == (1, [("sales", "scrap", None, None, "run-ok")])


def test_a_failed_run_is_found_by_its_error_and_its_output(indexed):
    assert found(indexed, "amount_eur")[1] == [("sales", "error", None, 2, "run-bad")]
    assert found(indexed, "warehouse status:failed")[1] == [("sales", "output", None, 0, "run-bad")]
    assert found(indexed, "warehouse status:success")[0] == 0


def test_the_kind_and_status_in_the_index_are_not_words_of_the_documents(indexed):
    assert found(indexed, "kind OR status OR code OR failed")[0] == 0
    assert found(indexed, "warehouse kind:output status:failed")[0] == 1


def test_filters_combine(indexed):
    assert found(indexed, "load kind:code team:analytics")[0] == 2  # the two versions of the load cell
    assert found(indexed, "load kind:code after:2026-03-02")[1] == [("sales", "code", "2", 1, None)]
    assert found(indexed, "load kind:code before:2026-03-02")[1] == [("sales", "code", "1", 1, None)]
    assert found(indexed, "load kind:markdown")[0] == 0
    assert found(indexed, "emea kind:parameter owner:ALICE tag:finance status:success")[1] == [
        ("sales", "parameter", None, None, "run-ok")
    ]
    assert found(indexed, "emea tag:private")[0] == 0
    assert found(indexed, "revenue OR salaries kind:code")[0] == 2  # sales v1 and hr
    assert found(indexed, "pandas -gross")[0] == 1


def test_reports_the_caller_may_not_view_give_no_hit_and_no_count(indexed):
    assert found(indexed, "revenue_total")[0] == 2
    assert found(indexed, "revenue_total", {"sales": FACTS["sales"]})[0] == 1
    assert found(indexed, "salaries", {"sales": FACTS["sales"]}) == (0, [])
    assert found(indexed, "salaries report:hr", {"sales": FACTS["sales"]}) == (0, [])


def test_report_descriptions_are_found(indexed):
    assert found(indexed, "region kind:report")[1] == [("sales", "report", None, None, None)]


def test_indexing_a_version_twice_counts_it_once(indexed):
    v1 = notebook(
        "import pandas as pd", "df = load('orders')\nrevenue_total = df.amount.sum()", "md:# Net margin by region"
    )
    assert index_version(indexed, "sales", "1" * 64, v1, at=T0, max_chars=MAX) == 0
    [hit] = search(indexed, '"net margin"', FACTS).hits
    assert hit.versions == 2


def test_indexing_a_run_again_replaces_its_documents(indexed):
    again = {"report": "sales", "run_id": "run-ok", "status": "success", "parameters": {}, "started_at": T0}
    index_run(indexed, again, None, {"total_revenue": 1.5}, max_chars=MAX)
    assert found(indexed, "98765.25")[0] == 0
    assert found(indexed, "total_revenue")[0] == 1


def test_pages_are_ranked_counted_and_bounded(indexed):
    first = search(indexed, "pandas OR load OR orders", FACTS, per_page=2)
    second = search(indexed, "pandas OR load OR orders", FACTS, page=2, per_page=2)
    assert first.total == second.total >= 4
    every = search(indexed, "pandas OR load OR orders", FACTS, per_page=100)
    assert len(every.hits) == every.total
    place = [(h.report, h.kind, h.version, h.run_id, h.cell) for h in every.hits]
    assert len(set(place)) == len(place)  # each hit is one document
    paged = [(h.report, h.kind, h.version, h.run_id, h.cell) for h in first.hits + second.hits]
    assert paged == place[:4]  # pages are slices of one ranking
    past = search(indexed, "pandas OR load OR orders", FACTS, page=50, per_page=2)
    assert (past.hits, past.total) == ([], every.total)  # past the last hit: none, and still the count
    from nbreports.errors import BadQuery

    with pytest.raises(BadQuery, match="per_page must be between 1 and 100"):
        search(indexed, "pandas", FACTS, per_page=500)


def test_a_large_output_is_indexed_up_to_the_bound(db):
    body = "start " + "filler " * 5000 + "needle"
    output = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell("x", outputs=[nbformat.v4.new_output("stream", name="stdout", text=body)])]
    )
    run = {"report": "sales", "run_id": "big", "status": "success", "parameters": {}, "started_at": T0}
    index_run(db, run, output, {}, max_chars=1000)
    assert found(db, "start")[0] == 1
    assert found(db, "needle")[0] == 0


def test_a_word_in_more_documents_than_are_ranked_counts_them_as_a_lower_bound(db, monkeypatch):
    from nbreports.errors import BadQuery
    from nbreports.search import find

    monkeypatch.setattr(find, "MAX_CANDIDATES", 5)  # 1,000 in use: the same path, with fewer rows to write
    for n in range(8):
        run = {"report": "sales", "run_id": f"r{n}", "status": "success", "parameters": {}, "started_at": T0}
        index_run(db, run, None, {"common": f"widget {n}"}, max_chars=MAX)
    page = search(db, "widget", FACTS, per_page=3)
    assert (page.total, page.total_exact) == (5, False)
    assert page.to_dict()["total_exact"] is False
    ranked = {h.run_id for h in page.hits + search(db, "widget", FACTS, page=2, per_page=3).hits}
    assert ranked == {"r3", "r4", "r5", "r6", "r7"}  # the newest five
    assert search(db, "widget 2", FACTS).total_exact is True  # a narrower query is counted exactly
    with pytest.raises(BadQuery, match="within the first 5 hits"):
        search(db, "widget", FACTS, page=3, per_page=3)
