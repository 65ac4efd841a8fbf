"""The environment part of the run cache key: image digests (never tags) and a local kernel's packages."""

from __future__ import annotations

import sys
import time

import pytest

from nbreports.browse.runs import recent_runs
from nbreports.errors import ConfigError
from nbreports.pods import digest
from nbreports.pods.digest import UNRESOLVED, pinned, repository_of, resolve_image
from nbreports.reports.catalog import load_report
from nbreports.runs import fingerprint
from nbreports.runs.fingerprint import environment_key, kernel_python, packages_fingerprint
from nbreports.runs.prepare import prepare
from nbreports.runs.runner import run_report
from tests.conftest import REPO
from tests.helpers import make_report

DIGEST = "sha256:" + "ab" * 32


def test_a_pinned_image_is_its_own_digest_without_asking_anyone(monkeypatch):
    monkeypatch.setattr(digest, "_resolvers", {"podman": [("boom", lambda image: pytest.fail(image))]})
    resolved = resolve_image(f"localhost/team/env@{DIGEST}", "podman")
    assert (resolved.digest, resolved.source, resolved.reference) == (DIGEST, "pinned", f"localhost/team/env@{DIGEST}")


@pytest.mark.parametrize(
    ("image", "repository"),
    [
        ("localhost/nbreports-kernel/analytics:ga", "localhost/nbreports-kernel/analytics"),
        ("registry:5000/team/env:beta", "registry:5000/team/env"),
        (f"registry:5000/team/env@{DIGEST}", "registry:5000/team/env"),
        ("env", "env"),
    ],
)
def test_the_pinned_reference_keeps_the_repository_and_drops_the_tag(image, repository):
    assert repository_of(image) == repository
    assert pinned(image, DIGEST) == f"{repository}@{DIGEST}"
    assert pinned(image, UNRESOLVED) == pinned(image, None) == image


def test_a_tag_no_resolver_knows_is_unresolved_never_keyed(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")  # no podman: a cluster's worker, say
    resolved = resolve_image("registry.example/team/env:ga", "kubernetes")
    assert not resolved.resolved
    assert resolved.digest == UNRESOLVED
    assert "not cached" in resolved.note
    assert environment_key("python3", resolved) is None
    digest.register_resolver("kubernetes", "test", lambda image: DIGEST if image.endswith(":ga") else None)
    try:
        found = resolve_image("registry.example/team/env:ga", "kubernetes")
    finally:
        digest._resolvers["kubernetes"].pop(0)
    assert (found.digest, found.source) == (DIGEST, "test")
    assert environment_key("python3", found) == f"kernel:python3 image:{DIGEST}"


def test_an_unresolved_kubernetes_run_is_recorded_so_and_not_cached(platform, notebooks, monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.setenv("NBREPORTS_PROFILES_FILE", str(REPO / "config" / "profiles.yaml"))
    folder = make_report(
        notebooks, "k8s_tagged", None, "x = 1", spec={"executor": "kubernetes", "cache": {"ttl": 3600}}
    )
    if platform.store.url_prefix.startswith("file://"):  # a cluster's pod cannot reach a local store
        with pytest.raises(ConfigError, match="executor: 'kubernetes' needs object storage"):
            prepare(platform, load_report(folder), {})
        assert recent_runs(platform.db, "k8s_tagged") == []  # refused before anything is written
        return
    plan = prepare(platform, load_report(folder), {})
    assert plan.image == "localhost/nbreports-kernel/analytics:ga"  # what was asked ...
    assert plan.image_digest == UNRESOLVED  # ... and that it could not be pinned
    assert plan.cache_key is None
    [row] = recent_runs(platform.db, "k8s_tagged")
    assert row["image_digest"] == UNRESOLVED


def test_the_local_kernel_fingerprint_follows_installed_packages(tmp_path, monkeypatch):
    assert kernel_python("python3") == sys.executable
    assert kernel_python("no-such-kernel") is None
    assert environment_key("no-such-kernel", None) is None
    site = tmp_path / "site"
    site.mkdir()
    monkeypatch.setattr(sys, "path", [*sys.path, str(site)])
    fingerprint._memo.clear()
    started = time.perf_counter()
    first = packages_fingerprint(sys.executable)
    cold = time.perf_counter() - started
    started = time.perf_counter()
    assert packages_fingerprint(sys.executable) == first
    warm = time.perf_counter() - started
    print(f"packages fingerprint: {cold * 1000:.1f} ms cold, {warm * 1000:.2f} ms from the memo")
    assert cold < 1.0  # folder listings, not importlib.metadata
    (site / "newpkg-1.0.dist-info").mkdir()  # a package installed meanwhile
    second = packages_fingerprint(sys.executable)
    assert second != first
    assert environment_key("python3", None) == f"kernel:python3 python:{sys.executable} packages:{second}"


def test_a_local_run_is_not_served_after_the_kernel_packages_change(platform, notebooks, tmp_path, monkeypatch):
    site = tmp_path / "site"
    site.mkdir()
    monkeypatch.setattr(sys, "path", [*sys.path, str(site)])
    folder = make_report(
        notebooks, "pkgs", None, "import scrapbook as sb\nsb.glue('x', 1)", spec={"cache": {"ttl": 3600}}
    )
    rep = load_report(folder)
    first = run_report(platform, rep, {})
    assert run_report(platform, rep, {})["cache_hit_of"] == first["run_id"]
    (site / "pandas-99.0.dist-info").mkdir()  # pandas upgraded in the kernel's environment
    again = run_report(platform, rep, {})
    assert "cache_hit_of" not in again
    assert again["cache_key"] != first["cache_key"]
    assert first["image_digest"] is None  # a local run has no image
