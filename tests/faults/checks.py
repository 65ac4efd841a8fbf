"""The three checks every fault ends with: nothing stored lost or overwritten, every run recorded, ``latest`` sound.

(a) :func:`snapshot` the store's objects (key → sha256) before the fault and
    :func:`assert_nothing_lost` after it: every earlier object is still there with the same bytes.
    A pointer meant to move (``reports/<report>/latest.json``) is checked by (c) instead, and a
    retried run's file may be replaced only when the earlier attempt's copy is under
    ``attempts/<n>/``. No temporary file of a write is left behind (:func:`assert_no_partial_files`).
(b) :func:`assert_recorded`: every run ends ``success`` or ``failed``, a failure with its kind and
    error text, never ``running``.
(c) :func:`assert_latest_intact`: ``latest.json`` is the record of a successful run, the same as
    that run's ``run.json``, and every file it lists exists and is whole.
"""

from __future__ import annotations

import hashlib
import json
import posixpath
import re
from collections.abc import Iterable, Mapping
from typing import Any

import nbformat

from nbreports.runs.states import RunStatus
from nbreports.storage.database import PlatformDB
from nbreports.storage.store import Store

POINTERS = re.compile(r"^reports/[^/]+/latest\.json$")  # meant to move: checked by assert_latest_intact
RUN_FILE = re.compile(r"^runs/(?P<report>[^/]+)/(?P<run>[^/]+)/(?P<name>[^/]+)$")


def snapshot(store: Store) -> dict[str, str]:
    """Every object in the store, key → sha256 of its bytes (read afresh, no listing cache)."""
    store.fs.invalidate_cache()
    objects = {}
    for path in store.fs.find(store.root):
        key = posixpath.relpath(str(path), store.root)  # both absolute (a folder) or both bucket/prefix (S3)
        objects[key] = hashlib.sha256(bytes(store.fs.cat_file(path))).hexdigest()
    return objects


def assert_nothing_lost(before: Mapping[str, str], after: Mapping[str, str], *, retried: Iterable[str] = ()) -> None:
    """(a) Every object of ``before`` is in ``after`` with the same bytes.

    ``retried``: run ids whose files an execute retry may replace, when the earlier bytes are kept
    under that run's ``attempts/<n>/``.
    """
    retried = set(retried)
    problems = []
    for key, digest in sorted(before.items()):
        if after.get(key) == digest or POINTERS.match(key):
            continue
        match = RUN_FILE.match(key)
        if match and match["run"] in retried:
            prefix = f"runs/{match['report']}/{match['run']}/attempts/"
            kept = [k for k, d in after.items() if k.startswith(prefix) and k.endswith("/" + match["name"])]
            if any(after[k] == digest for k in kept):
                continue
        problems.append(f"{key}: {'lost' if key not in after else 'overwritten'}")
    assert not problems, "stored objects lost or overwritten by the fault:\n  " + "\n  ".join(problems)


def assert_no_partial_files(objects: Mapping[str, str]) -> None:
    """No temporary file of an interrupted write (``.tmp-*``, see ``storage/files.py``) is left in the store."""
    partial = [key for key in objects if posixpath.basename(key).startswith(".tmp-")]
    assert not partial, f"half-written files left in the store: {partial}"


def assert_recorded(db: PlatformDB, run_ids: Iterable[str]) -> dict[str, Any]:
    """(b) Every run ended ``success`` or ``failed``; a failure has its kind and its error text. Rows by id."""
    rows = {}
    for run_id in run_ids:
        row = db.run_row(run_id)
        assert row is not None, f"run {run_id} has no row in the platform database"
        assert row.status in RunStatus.finished(), f"run {run_id} is still {row.status!r}: not recorded"
        assert row.ended_at is not None, f"run {run_id} is {row.status} but has no end time"
        if row.status == RunStatus.FAILED:
            assert row.failure_kind, f"failed run {run_id} has no failure kind"
            assert row.error, f"failed run {run_id} ({row.failure_kind}) has no error text"
        rows[run_id] = row
    return rows


def key_of(store: Store, uri: str) -> str:
    """The store key of a URI the store handed out."""
    assert uri.startswith(store.url_prefix + "/"), f"{uri} is not in {store}"
    return uri[len(store.url_prefix) + 1 :]


def assert_whole(store: Store, key: str) -> None:
    """The object exists and is complete: a notebook reads, HTML is closed, JSON parses."""
    assert store.exists(key), f"{key} is missing"
    data = store.read_bytes(key)
    if key.endswith(".ipynb"):
        nbformat.validate(nbformat.reads(data.decode(), as_version=4))
    elif key.endswith(".html"):
        assert data.rstrip().endswith(b"</html>"), f"{key} is cut short"
    elif key.endswith(".json"):
        json.loads(data)


def assert_latest_intact(store: Store, report: str, *, required: bool = True) -> dict[str, Any] | None:
    """(c) ``latest.json`` is the record of a successful run, equal to its ``run.json``, every file it lists whole."""
    if not store.exists(Store.latest_key(report)):
        assert not required, f"{report} has no latest.json"
        return None
    latest = store.read_json(Store.latest_key(report))
    assert latest["status"] == RunStatus.SUCCESS, f"latest.json points at a {latest['status']} run"
    record = store.read_json(Store.run_key(report, latest["run_id"], "run.json"))
    assert record == latest, f"latest.json is not the record of run {latest['run_id']}"
    for field in ("output_uri", "html_uri"):
        assert latest.get(field), f"latest.json lists no {field}"
        assert_whole(store, key_of(store, latest[field]))
    for name in ("input.ipynb", "scraps.json"):
        assert_whole(store, Store.run_key(report, latest.get("cache_hit_of") or latest["run_id"], name))
    return dict(latest)
