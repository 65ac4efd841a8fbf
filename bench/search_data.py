"""Synthetic, reproducible text for ``bench/search.py``: reports whose versions share most cells, and their runs.

A fixed-seed vocabulary drawn Zipf-like (a few words in most documents, most words rare), the
domain's common words at its head. A report's notebook has 25 cells (markdown, code with five
``sb.glue`` scraps, a parameters cell); each new version edits one or two cells, as real edits do.
A run of it has parameters, five scraps, text outputs on about half of its code cells (the same
sentences with other numbers each run) and, one in twelve, a failure. The documents are cut by
the core (``search.documents``) and written as the core writes them (``search.index.document_row``), in
bulk: ``fill`` is how 100,000 runs are loaded in minutes, not hours of one transaction per run.
"""

from __future__ import annotations

import copy
import hashlib
import json
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import accumulate
from typing import Any

import sqlalchemy as sa

from nbreports.search.documents import run_documents, version_documents
from nbreports.search.index import DOCUMENTS, VERSION_SCOPE, document_row
from nbreports.storage.database import PlatformDB

MAX_CHARS = 20_000  # the default of NBREPORTS_SEARCH_MAX_CHARS
T0 = datetime(2025, 1, 1, tzinfo=UTC)
COMMON = (
    "revenue", "orders", "region", "total", "customers", "month", "df", "sales", "margin", "net", "daily",
    "forecast", "bookings", "quarterly", "quarter", "churn", "pipeline", "warehouse", "ledger", "invoice",
)  # fmt: skip
SYLLABLES = (
    "ka", "lo", "mi", "nu", "re", "sa", "ti", "vo", "ze", "bar", "den", "fol", "gar",
    "hin", "jup", "kel", "mor", "nis", "pel", "quo", "rut", "sim", "tav", "wex", "yor",
)  # fmt: skip
STATUSES = ("success",) * 11 + ("failed",)


class Words:
    """A vocabulary of ``size`` words and a Zipf-like draw from it, reproducible from ``seed``."""

    def __init__(self, seed: int = 14, size: int = 6000) -> None:
        self.rng = random.Random(seed)  # noqa: S311 -- reproducible synthetic text, nothing secret
        made: set[str] = set(COMMON)
        while len(made) < size:
            made.add("".join(self.rng.choice(SYLLABLES) for _ in range(self.rng.randint(2, 4))))
        tail = sorted(made - set(COMMON))
        self.rng.shuffle(tail)
        self.vocab = [*COMMON, *tail]
        self._cum = list(accumulate(1 / (rank + 1) for rank in range(len(self.vocab))))

    def pick(self, k: int) -> list[str]:
        return self.rng.choices(self.vocab, cum_weights=self._cum, k=k)

    def text(self, k: int) -> str:
        return " ".join(self.pick(k))

    @property
    def rare(self) -> str:
        return self.vocab[-1]

    def code_line(self) -> str:
        a, b, c, d = self.pick(4)
        return self.rng.choice(
            (
                f"{a}_{b} = df.groupby('{c}').{d}.sum()",
                f"df = load('{a}_{b}', region=region)",
                f"print(f'{a} {b}: {{len(df)}} rows')",
                f"{a} = {b}[{b}.{c} > top_n]  # {d}",
                f"chart({a}, title='{b} by {c}')",
            )
        )


def _cell(kind: str, source: str, index: int, **extra: Any) -> dict[str, Any]:
    cell: dict[str, Any] = {"cell_type": kind, "id": f"c{index}", "metadata": {}, "source": source, **extra}
    if kind == "code":
        cell.update(execution_count=None, outputs=[])
    return cell


def _notebook(cells: list[dict[str, Any]]) -> dict[str, Any]:
    kernelspec = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return {"cells": cells, "metadata": {"kernelspec": kernelspec}, "nbformat": 4, "nbformat_minor": 5}


@dataclass
class Report:
    """One synthetic report: its versions (oldest first), its scraps and the sentences its cells print."""

    name: str
    versions: list[dict[str, Any]] = field(default_factory=list)
    scraps: list[str] = field(default_factory=list)
    prints: dict[int, str] = field(default_factory=dict)  # code cell index -> a sentence with {n} and {w}


def make_report(words: Words, name: str, versions: int) -> Report:
    """A 25-cell notebook and ``versions - 1`` edits of it (one or two cells each)."""
    rng = words.rng
    report = Report(name, scraps=[f"{w}_total" for w in words.pick(5)])
    cells = [_cell("markdown", f"# {words.text(3).title()}\n\nNet margin by region. {words.text(25)}", 0)]
    params = "region = 'EU'\nstart_date = '2026-01-01'\ntop_n = 10"
    cells.append(_cell("code", params, 1, metadata={"tags": ["parameters"]}))
    glue = iter(report.scraps)
    for i in range(2, 25):
        if i % 4 == 2:
            cells.append(_cell("markdown", f"## {words.text(4)}\n\n{words.text(rng.randint(10, 40))}", i))
        elif i % 4 == 0 and (scrap := next(glue, None)):
            cells.append(_cell("code", f"import scrapbook as sb\nsb.glue('{scrap}', {words.pick(1)[0]}_value)", i))
        else:
            cells.append(_cell("code", "\n".join(words.code_line() for _ in range(rng.randint(3, 8))), i))
            if rng.random() < 0.5:
                report.prints[i] = f"loaded {{n}} {words.text(3)} from {{w}}\n{words.text(5)}: {{x}}\n"
    report.versions.append(_notebook(cells))
    for _ in range(versions - 1):
        nb = copy.deepcopy(report.versions[-1])
        for cell in rng.sample(nb["cells"][2:], rng.randint(1, 2)):
            extra = words.code_line() if cell["cell_type"] == "code" else words.text(8)
            cell["source"] = cell["source"] + "\n" + extra
        report.versions.append(nb)
    return report


def content(nb: dict[str, Any]) -> tuple[str, bytes]:
    """A version's sha256 and bytes, as the store keeps it."""
    data = json.dumps(nb, indent=1).encode()
    return hashlib.sha256(data).hexdigest(), data


def make_run(words: Words, report: Report, index: int, version: int) -> tuple[dict[str, Any], dict[str, Any], Any]:
    """A run's row fields, its output notebook (a valid nbformat 4 dict) and its scraps."""
    rng = words.rng
    status = rng.choice(STATUSES)
    started = T0 + timedelta(hours=7 * index, minutes=rng.randint(0, 400))
    nb = copy.deepcopy(report.versions[version])
    failed_cell = rng.choice(sorted(report.prints)) if status == "failed" and report.prints else None
    for i, sentence in report.prints.items():
        if failed_cell is not None and i > failed_cell:
            break
        text = sentence.format(n=rng.randint(10, 99_999), w=words.pick(1)[0], x=round(rng.uniform(0, 1e6), 2))
        nb["cells"][i]["outputs"] = [{"output_type": "stream", "name": "stdout", "text": text}]
    record: dict[str, Any] = {
        "report": report.name,
        "run_id": f"{started:%Y%m%dT%H%M%S}Z-{index:06d}-{report.name}",
        "status": status,
        "parameters": {"region": rng.choice(["EU", "US", "APAC"]), "start_date": f"2026-{rng.randint(1, 12):02d}-01"},
        "started_at": started,
    }
    if failed_cell is not None:
        record.update(error=f"KeyError: '{words.pick(1)[0]}' not in columns", failure_kind="cell_error")
        record["failed_cell"] = failed_cell
    scraps = {name: round(rng.uniform(0, 1e6), 2) for name in report.scraps}
    return record, _notebook(nb["cells"]), scraps


def version_rows(report: Report) -> list[dict[str, Any]]:
    """The index's rows of a report's versions, a cell once per content with its first and newest version."""
    rows: dict[str, dict[str, Any]] = {}
    for i, nb in enumerate(report.versions):
        sha, _ = content(nb)
        at = T0 + timedelta(days=3 * i)
        for doc in version_documents(nb, MAX_CHARS):
            if doc.key in rows:
                rows[doc.key].update(version=sha, at=at, cell=doc.cell, cell_id=doc.cell_id)
                rows[doc.key]["versions"] += 1
            else:
                rows[doc.key] = document_row(
                    report.name, VERSION_SCOPE, doc, at, version=sha, first_version=sha, versions=1
                )
    return list(rows.values())


def _batches(rows: Iterator[dict[str, Any]], size: int = 5000) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def fill(
    db: PlatformDB, words: Words, reports: int, versions: int, runs: int, say: Callable[[str], None]
) -> dict[str, int]:
    """Bulk-write the documents of ``reports`` reports with ``versions`` versions and ``runs`` runs each."""

    def rows() -> Iterator[dict[str, Any]]:
        for r in range(reports):
            report = make_report(words, f"report_{r:03d}", versions)
            yield from version_rows(report)
            for j in range(runs):
                record, nb, scraps = make_run(words, report, j, j * versions // runs)
                extra = {"run_id": record["run_id"], "status": record["status"]}
                for doc in run_documents(record, nb, scraps, MAX_CHARS):
                    yield document_row(report.name, record["run_id"], doc, record["started_at"], **extra)
            if (r + 1) % max(1, reports // 10) == 0:
                say(f"  {r + 1}/{reports} reports ({(r + 1) * versions:,} versions, {(r + 1) * runs:,} runs) written")

    written = 0
    for batch in _batches(rows()):
        with db.engine.begin() as conn:
            conn.execute(sa.insert(DOCUMENTS), batch)
        written += len(batch)
    with db.engine.begin() as conn:
        conn.execute(sa.text("ANALYZE search_documents" if db.engine.dialect.name == "postgresql" else "ANALYZE"))
    return {"documents": written, "versions": reports * versions, "runs": reports * runs}
