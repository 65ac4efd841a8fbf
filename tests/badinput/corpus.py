"""The bad-input corpus: ``cases.yaml`` read into one ``Case`` per input and surface.

The inputs are data files beside this module (one file or folder per case); the few that would be
too big to keep (a 50 MB parameters cell) are small files whose placeholder is padded at test time
(``generate: {replace: ..., size: 50MB}``). An entry with one ``surface`` and ``expect`` is one case;
an entry with ``surfaces: {name: expect, ...}`` sends the same input through each surface, as the
cases ``<id>@<surface>``. ``pending: issue N`` entries are features that do not exist yet: they are
reported as skipped and not counted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
MANIFEST = HERE / "cases.yaml"
_UNITS = {"KB": 1000, "MB": 1000 * 1000}


@dataclass(frozen=True)
class Expect:
    """What a case must get: an error class (or ``HTTP``), the status, and substrings of the message."""

    error: str
    names: tuple[str, ...]
    status: int | None = None


@dataclass(frozen=True)
class Case:
    """One bad input sent through one surface."""

    id: str
    surface: str
    input: str | None
    expect: Expect | None
    options: dict[str, Any] = field(default_factory=dict)
    pending: str | None = None
    xfail: str | None = None

    def path(self) -> Path:
        """The case's input file or folder."""
        assert self.input is not None, f"{self.id} has no input"
        return HERE / self.input

    def data(self) -> bytes:
        """The input's bytes, padded when the case says ``generate``."""
        return generated(self.path().read_bytes(), self.options.get("generate"))


def size_of(text: str) -> int:
    """``"50MB"`` as bytes (decimal units, as the data files say them)."""
    text = str(text).strip().upper()
    for unit, factor in _UNITS.items():
        if text.endswith(unit):
            return int(float(text[: -len(unit)]) * factor)
    return int(text)


def generated(data: bytes, spec: dict[str, Any] | None) -> bytes:
    """``data`` with ``spec["replace"]`` padded so the whole is ``spec["size"]`` bytes."""
    if not spec:
        return data
    marker = spec["replace"].encode()
    assert marker in data, f"placeholder {spec['replace']!r} not in the template"
    pad = max(size_of(spec["size"]) - len(data) + len(marker), 0)
    return data.replace(marker, b"x" * pad, 1)


def _expect(raw: dict[str, Any]) -> Expect:
    return Expect(str(raw["error"]), tuple(str(n) for n in raw.get("names", ())), raw.get("status"))


def load_cases(manifest: Path = MANIFEST) -> list[Case]:
    """Every case of the manifest, in its order; ids unique, inputs present."""
    entries = yaml.safe_load(manifest.read_text(encoding="utf-8"))["cases"]
    cases: list[Case] = []
    for entry in entries:
        common = {k: v for k, v in entry.items() if k not in ("id", "surface", "surfaces", "expect", "input")}
        pending, xfail = common.pop("pending", None), common.pop("xfail", None)
        if pending:
            cases.append(Case(entry["id"], "pending", entry.get("input"), None, common, pending=str(pending)))
            continue
        surfaces = entry.get("surfaces") or {entry["surface"]: entry["expect"]}
        for surface, expect in surfaces.items():
            case_id = entry["id"] if "surface" in entry else f"{entry['id']}@{surface}"
            own_xfail = expect.pop("xfail", None) if isinstance(expect, dict) else None
            case = Case(case_id, surface, entry.get("input"), _expect(expect), common, xfail=own_xfail or xfail)
            cases.append(case)
    ids = [c.id for c in cases]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    assert not duplicates, f"duplicate case ids in {manifest.name}: {duplicates}"
    missing = [c.id for c in cases if c.input and not (HERE / c.input).exists()]
    assert not missing, f"cases whose input is missing: {missing}"
    return cases
