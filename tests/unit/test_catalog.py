from pathlib import Path

import pytest

from nbreports.errors import ReportNotFound, SpecError, UnsafePathError
from nbreports.reports import catalog
from nbreports.reports.catalog import find_report, load_report, load_reports
from tests.helpers import make_report


def test_example_reports_load():
    reports, errors = load_reports(Path("notebooks"))
    assert not errors
    assert {r.name for r in reports} >= {"sales_summary", "data_quality", "sales_digest"}
    sales = next(r for r in reports if r.name == "sales_summary")
    assert sales.doc_md.startswith("# Sales summary")
    assert {p.name: p.type for p in sales.parameters}["start_date"] == "date"


def test_malformed_notebook_json_names_the_file(notebooks):
    folder = make_report(notebooks, "broken", "x = 1")
    (folder / "broken.ipynb").write_text('{"cells": [ this is not json')
    with pytest.raises(SpecError, match=r"broken\.ipynb: not a valid Jupyter notebook"):
        load_report(folder)


def test_missing_spec_and_ambiguous_notebooks(notebooks):
    folder = make_report(notebooks, "two", "x = 1")
    (folder / "other.ipynb").write_text((folder / "two.ipynb").read_text())
    with pytest.raises(SpecError, match=r"expected exactly one \.ipynb") as info:
        load_report(folder)
    assert info.value.field == "notebook"
    (folder / "report.yaml").unlink()
    with pytest.raises(SpecError, match=r"missing report\.yaml"):
        load_report(folder)


def test_one_bad_report_does_not_hide_the_others(notebooks):
    make_report(notebooks, "good", "x = 1")
    make_report(notebooks, "bad", "x = 1", spec={"schedule": "whenever"})
    reports, errors = load_reports(notebooks)
    assert [r.name for r in reports] == ["good"]
    [error] = errors.values()
    assert "report.yaml: schedule:" in str(error)
    assert "whenever" in str(error)


def test_folder_name_that_is_not_a_report_name(notebooks):
    folder = make_report(notebooks, "Bad Name", "x = 1")
    with pytest.raises(SpecError, match="invalid report name"):
        load_report(folder)


def test_find_report_by_name_or_folder(notebooks):
    make_report(notebooks, "alpha", "x = 1")
    assert find_report(notebooks, "alpha").name == "alpha"
    assert find_report(notebooks, str(notebooks / "alpha")).name == "alpha"
    with pytest.raises(ReportNotFound):
        find_report(notebooks, "beta")
    with pytest.raises(UnsafePathError):
        find_report(notebooks, "../alpha")


def test_derived_facts_are_cached_by_content(notebooks, tmp_path, monkeypatch):
    folder = make_report(notebooks, "cached", "x: int = 1  # help")
    cache = tmp_path / "cache"
    calls = []
    real = catalog._derive
    monkeypatch.setattr(catalog, "_derive", lambda *a: calls.append(a) or real(*a))
    first = load_report(folder, cache)
    second = load_report(folder, cache)
    assert len(calls) == 1
    assert first.parameters == second.parameters
    make_report(notebooks, "cached", "x: int = 2  # changed")
    assert load_report(folder, cache).parameters[0].default == 2
    assert len(calls) == 2
