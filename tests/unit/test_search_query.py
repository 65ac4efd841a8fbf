"""The search box's language: what a query means, and a clear error (with where) for what it cannot mean."""

from datetime import UTC, datetime

import pytest

from nbreports.errors import BadQuery, SearchQueryError
from nbreports.search.query import Term, parse_query
from nbreports.search.snippets import snippet


def test_words_phrases_prefixes_or_and_exclusions_are_read_as_typed():
    q = parse_query('revenue "net margin" churn* OR forecast -draft NOT "old total"')
    assert q.groups == (
        (Term(("revenue",)),),
        (Term(("net", "margin")),),
        (Term(("churn",), prefix=True), Term(("forecast",))),
    )
    assert q.excluded == (Term(("draft",)), Term(("old", "total")))


def test_a_word_the_tokenizer_splits_is_a_phrase_of_its_parts():
    assert parse_query("df.revenue_total").groups == ((Term(("df", "revenue", "total")),),)
    assert parse_query("revenue_to*").groups == ((Term(("revenue", "to"), prefix=True),),)


def test_filters_combine_and_the_same_filter_twice_means_either():
    q = parse_query("kind:code kind:Markdown team:Analytics status:failed after:2026-01-02 before:2026-02-01T12:00")
    f = q.filters
    assert f.kinds == {"code", "markdown"}
    assert f.teams == {"analytics"}
    assert f.statuses == {"failed"}
    assert f.after == datetime(2026, 1, 2, tzinfo=UTC)
    assert f.before == datetime(2026, 2, 1, 12, tzinfo=UTC)
    assert q.groups == ()  # filters alone are a query


@pytest.mark.parametrize(
    ("text", "message", "position"),
    [
        ('net "margin', "never closed", 5),
        ("revenue -", "'-' must be followed", 9),
        ("OR revenue", "OR needs a word or phrase on its left", 1),
        ("revenue OR", "ends with OR", None),
        ("revenue AND OR x", "two operators in a row", 13),
        ("a OR -b", "OR cannot be followed by a left-out term", 6),
        ("*", "no letters or digits", 1),
        ("+++ revenue", "no letters or digits", 1),
        ("c*", "a prefix needs at least 2", 1),
        ("re*venue", "'*' may only end a word", 1),
        ("-draft", "cannot only leave words out", None),
        ("colour:red", "unknown filter 'colour'", 1),
        ("status:broken", "status is one of running, success, failed", 1),
        ("kind:cell", "kind is one of code, markdown", 1),
        ("after:yesterday", "is not a date", 1),
        ("after:2026-02-01 before:2026-01-01", "after: must be earlier than before:", None),
        ("after:2026-01-01 after:2026-01-02", "after: is given twice", 18),
        ("report:../etc", "not a report name", 1),
        ("team:", "team: needs a value", 1),
        ("   ", "the query is empty", None),
        ("x" * 10_240, "10240 characters long", None),
        (" ".join(f"w{i}" for i in range(21)), "more than 20 words", None),
    ],
)
def test_bad_queries_are_clear_errors_naming_where(text, message, position):
    with pytest.raises(SearchQueryError, match=message) as info:
        parse_query(text)
    assert isinstance(info.value, BadQuery)  # the API answers 400
    if position is not None:
        assert info.value.position == position - 1
        assert f"(at character {position})" in str(info.value)


def test_a_query_error_pickles_with_its_position():
    import pickle

    blob = pickle.dumps(SearchQueryError("bad", 4))
    err = pickle.loads(blob)  # noqa: S301 - our own bytes
    assert (err.message, err.position, str(err)) == ("bad", 4, "bad (at character 5)")


def test_a_snippet_marks_the_matched_words_around_the_first_match_as_plain_text():
    body = ("filler " * 60) + "the <b>Churn</b>_rate fell; churning stopped " + ("tail " * 60)
    segments = snippet(body, parse_query("churn*"))
    hits = [s["text"] for s in segments if s["hit"]]
    assert hits == ["Churn", "churning"]
    text = "".join(str(s["text"]) for s in segments)
    assert text.startswith("…")
    assert text.endswith("…")
    assert "<b>" in text  # kept as text; the page escapes it
    assert len(text) < 260
