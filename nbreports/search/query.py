"""The search box's language, read into a ``Query`` the backends compile; every mistake is a clear error.

    revenue "net margin" churn* -draft OR forecast report:sales_summary kind:code after:2026-01-01

* words match anywhere in a document; ``"a phrase"`` matches words in that order; ``word*`` is a prefix;
* ``-word`` / ``NOT word`` leaves out documents that have it; ``a OR b`` matches either; terms side by
  side (or with ``AND``) must all match;
* ``name:value`` filters, combinable: ``report:``, ``team:``, ``owner:``, ``tag:``, ``status:``,
  ``kind:``, ``after:``/``before:`` (``YYYY-MM-DD`` or an ISO time, UTC). The same filter twice
  means either value (``kind:code kind:markdown``); different filters must all hold.

A word the tokenizer splits (``revenue_total``, ``df.revenue``) is a phrase of its parts, as the
text it should find was indexed (``tokens``). A query may be filters alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import StrEnum

from nbreports.errors import SearchQueryError
from nbreports.identifiers import REPORT_NAME
from nbreports.runs.states import RunStatus
from nbreports.search.tokens import words

MAX_QUERY_CHARS = 500
MAX_TERMS = 20
MIN_PREFIX = 2  # a one-letter prefix would match most of the index


class Kind(StrEnum):
    """What a document is: a cell of a notebook version, a part of a run, or a report's description."""

    CODE = "code"
    MARKDOWN = "markdown"
    RAW = "raw"
    OUTPUT = "output"  # a run's text output of one cell (streams, plain-text results)
    SCRAP = "scrap"
    PARAMETER = "parameter"  # a run's parameter values
    ERROR = "error"  # a failed run's error
    REPORT = "report"  # title, description, owner, tags


@dataclass(frozen=True)
class Term:
    """Words that must appear in this order (one word, or a phrase); ``prefix``: the last one is a prefix."""

    words: tuple[str, ...]
    prefix: bool = False


@dataclass(frozen=True)
class Filters:
    """The ``name:value`` parts of a query; an empty set means no restriction."""

    reports: frozenset[str] = frozenset()
    teams: frozenset[str] = frozenset()
    owners: frozenset[str] = frozenset()
    tags: frozenset[str] = frozenset()
    statuses: frozenset[str] = frozenset()
    kinds: frozenset[str] = frozenset()
    after: datetime | None = None
    before: datetime | None = None


@dataclass(frozen=True)
class Query:
    """All of ``groups`` must match (each group: any of its terms), none of ``excluded``, and ``filters``."""

    groups: tuple[tuple[Term, ...], ...] = ()
    excluded: tuple[Term, ...] = ()
    filters: Filters = field(default_factory=Filters)
    text: str = ""

    def positive_terms(self) -> list[Term]:
        """The terms a hit may contain (what a snippet marks)."""
        return [term for group in self.groups for term in group]


_FILTERS = ("report", "team", "owner", "tag", "status", "kind", "after", "before")
_OPERATORS = {"AND", "OR", "NOT"}
_FILTER_NAME = re.compile(r"([A-Za-z]+):")


@dataclass
class _Token:
    kind: str  # word, phrase, op, filter
    text: str
    position: int
    negated: bool = False
    name: str = ""  # a filter's name


def _scan(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char.isspace():
            i += 1
            continue
        start = i
        negated = char == "-"
        if negated:
            i += 1
            if i >= len(text) or text[i].isspace():
                raise SearchQueryError("'-' must be followed by the word or phrase to leave out", start)
        name_match = _FILTER_NAME.match(text, i)
        if name_match and not negated:
            name = name_match.group(1).lower()
            if name not in _FILTERS:
                raise SearchQueryError(
                    f"unknown filter {name_match.group(1)!r}: the filters are "
                    + ", ".join(f"{f}:" for f in _FILTERS)
                    + '; to search for text with a colon, put it in "quotes"',
                    start,
                )
            value, i = _value(text, name_match.end(), start, name)
            tokens.append(_Token("filter", value, start, name=name))
            continue
        if text[i] == '"':
            end = text.find('"', i + 1)
            if end < 0:
                raise SearchQueryError('this quote is never closed: end the phrase with another "', i)
            tokens.append(_Token("phrase", text[i + 1 : end], start, negated))
            i = end + 1
            if i < len(text) and text[i] == "*":
                tokens[-1].kind = "prefix-phrase"
                i += 1
            continue
        end = i
        while end < len(text) and not text[end].isspace() and text[end] != '"':
            end += 1
        word = text[i:end]
        kind = "op" if word in _OPERATORS and not negated else "word"
        tokens.append(_Token(kind, word, start, negated))
        i = end
    return tokens


def _value(text: str, i: int, start: int, name: str) -> tuple[str, int]:
    """A filter's value (quoted or up to the next space) and where the scan goes on."""
    if i < len(text) and text[i] == '"':
        end = text.find('"', i + 1)
        if end < 0:
            raise SearchQueryError(f"the value of {name}: starts a quote that is never closed", i)
        value, after = text[i + 1 : end], end + 1
    else:
        end = i
        while end < len(text) and not text[end].isspace():
            end += 1
        value, after = text[i:end], end
    if not value.strip():
        raise SearchQueryError(f"{name}: needs a value, e.g. {_EXAMPLES[name]}", start)
    return value.strip(), after


_EXAMPLES = {
    "report": "report:sales_summary",
    "team": "team:analytics",
    "owner": "owner:alice",
    "tag": "tag:finance",
    "status": "status:failed",
    "kind": "kind:code",
    "after": "after:2026-01-31",
    "before": "before:2026-12-01",
}


def _term(token: _Token) -> Term:
    raw = token.text
    prefix = token.kind == "prefix-phrase" or (token.kind == "word" and raw.endswith("*"))
    if token.kind == "word":
        raw = raw.rstrip("*")
        if "*" in raw:
            raise SearchQueryError(f"{token.text!r}: '*' may only end a word (a prefix, as in churn*)", token.position)
    found = tuple(words(raw))
    if not found:
        what = "phrase" if token.kind != "word" else "word"
        raise SearchQueryError(f"the {what} {token.text!r} has no letters or digits to search for", token.position)
    if prefix and len(found[-1]) < MIN_PREFIX:
        raise SearchQueryError(
            f"{token.text!r}: a prefix needs at least {MIN_PREFIX} letters or digits before '*'", token.position
        )
    return Term(found, prefix)


def _when(value: str, name: str, position: int) -> datetime:
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            return datetime(day.year, day.month, day.day, tzinfo=UTC)
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise SearchQueryError(
            f"{name}:{value} is not a date: give YYYY-MM-DD or an ISO time, e.g. {_EXAMPLES[name]}", position
        ) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _filters(tokens: list[_Token]) -> Filters:
    values: dict[str, set[str]] = {name: set() for name in _FILTERS}
    moments: dict[str, datetime] = {}
    for token in tokens:
        name, value = token.name, token.text
        if name in ("after", "before"):
            if name in moments:
                raise SearchQueryError(f"{name}: is given twice; give it once", token.position)
            moments[name] = _when(value, name, token.position)
            continue
        if name in ("report", "status", "kind"):
            value = value.lower()
        allowed = {"status": [str(s) for s in RunStatus], "kind": [str(k) for k in Kind]}.get(name)
        if allowed is not None and value not in allowed:
            raise SearchQueryError(
                f"{name}:{value} is not known: {name} is one of {', '.join(allowed)}", token.position
            )
        if name == "report" and not REPORT_NAME.fullmatch(value):
            raise SearchQueryError(f"report:{value} is not a report name", token.position)
        values[name].add(value)
    after, before = moments.get("after"), moments.get("before")
    if after and before and after >= before:
        raise SearchQueryError("after: must be earlier than before:, or nothing can match")
    return Filters(
        reports=frozenset(values["report"]),
        teams=frozenset(v.lower() for v in values["team"]),
        owners=frozenset(v.lower() for v in values["owner"]),
        tags=frozenset(v.lower() for v in values["tag"]),
        statuses=frozenset(values["status"]),
        kinds=frozenset(values["kind"]),
        after=after,
        before=before,
    )


def _terms(tokens: list[_Token], text: str) -> tuple[list[list[Term]], list[Term]]:
    """The groups (each any of its terms) and the left-out terms, in the order typed."""
    groups: list[list[Term]] = []
    excluded: list[Term] = []
    pending: str | None = None  # the operator waiting for its right-hand term
    for index, token in enumerate(tokens):
        if token.kind == "filter":
            if pending:
                raise SearchQueryError(f"{pending} must be followed by a word or phrase, not a filter", token.position)
            continue
        if token.kind == "op":
            if pending:
                raise SearchQueryError(f"{pending} {token.text}: two operators in a row", token.position)
            if token.text != "NOT" and (not groups or tokens[index - 1].kind == "filter"):
                raise SearchQueryError(f"{token.text} needs a word or phrase on its left", token.position)
            pending = token.text
            continue
        term = _term(token)
        if token.negated or pending == "NOT":
            if pending == "OR":
                raise SearchQueryError("OR cannot be followed by a left-out term: write a OR b -c", token.position)
            excluded.append(term)
        elif pending == "OR":
            groups[-1].append(term)
        else:
            groups.append([term])
        pending = None
    if pending:
        raise SearchQueryError(f"the query ends with {pending}: it needs a word or phrase after it", len(text))
    return groups, excluded


def parse_query(text: str) -> Query:
    """Read what a user typed; ``SearchQueryError`` names the position and what was expected."""
    if len(text) > MAX_QUERY_CHARS:
        raise SearchQueryError(f"the query is {len(text)} characters long; at most {MAX_QUERY_CHARS} are read")
    tokens = _scan(text)
    if not tokens:
        raise SearchQueryError("the query is empty: type words to search for, or filters such as kind:code")
    groups, excluded = _terms(tokens, text)
    filters = [t for t in tokens if t.kind == "filter"]
    if excluded and not groups and not filters:
        raise SearchQueryError("a query cannot only leave words out: add a word to search for or a filter")
    if sum(len(g) for g in groups) + len(excluded) > MAX_TERMS:
        raise SearchQueryError(f"the query has more than {MAX_TERMS} words and phrases")
    return Query(
        groups=tuple(tuple(g) for g in groups),
        excluded=tuple(excluded),
        filters=_filters(filters),
        text=" ".join(text.split()),
    )
