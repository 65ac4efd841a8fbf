"""Pod runs keyed on the image digest: an image rebuilt under the same tag is a new environment.

Real podman and the analytics kernel image, under a repository of this module's own
(``localhost/nbr-digest-test``), so moving its ``:ga`` tag never disturbs other tests' images.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from nbreports.browse.runs import recent_runs
from nbreports.pods.digest import pinned, podman_local, resolve_image
from nbreports.reports.catalog import load_report
from nbreports.runs.execute import execute
from nbreports.runs.model import Platform
from nbreports.runs.prepare import prepare
from nbreports.runs.publish import publish
from nbreports.runs.runner import run_report
from nbreports.storage.store import Store
from tests.conftest import REPO
from tests.helpers import make_report
from tests.integration.test_pods import kernel_image  # noqa: F401 - the session fixture building the image

pytestmark = [pytest.mark.pods, pytest.mark.integration]
REPOSITORY = "localhost/nbr-digest-test"
TAG = f"{REPOSITORY}/analytics:ga"


def podman(*args: str) -> str:
    return subprocess.run(  # noqa: S603 - argv fixed by the test
        ["podman", *args],  # noqa: S607 - podman from PATH, as the engine runs it
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    ).stdout.strip()


@pytest.fixture(scope="module")
def images(kernel_image: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:  # noqa: F811 - the imported fixture
    """Two images ids: the kernel image and a rebuild of it (one more label), neither tagged ``TAG`` yet."""
    original = podman("image", "inspect", "--format", "{{.Id}}", kernel_image)
    podman("tag", original, f"{REPOSITORY}/analytics:original")
    context = tmp_path_factory.mktemp("rebuild")
    (context / "Containerfile").write_text(f"FROM {REPOSITORY}/analytics:original\nLABEL nbreports.test=rebuilt\n")
    podman("build", "-q", "-t", f"{REPOSITORY}/analytics:rebuilt", str(context))
    rebuilt = podman("image", "inspect", "--format", "{{.Id}}", f"{REPOSITORY}/analytics:rebuilt")
    yield original, rebuilt
    for tag in ("ga", "original", "rebuilt"):
        subprocess.run(["podman", "untag", f"{REPOSITORY}/analytics:{tag}"], capture_output=True, check=False)  # noqa: S603, S607 - podman from PATH


@pytest.fixture
def digest_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The shipped compute config on this module's repository; every team on the analytics image."""
    config = yaml.safe_load((REPO / "config" / "profiles.yaml").read_text())
    config["images"]["repository"] = REPOSITORY
    teams = yaml.safe_load((REPO / "config" / "teams.yaml").read_text())
    teams["teams"]["analytics"]["folders"].append("digest_*")
    for team in teams["teams"].values():
        team["environment"] = "analytics"
    (tmp_path / "profiles.yaml").write_text(yaml.safe_dump(config))
    (tmp_path / "teams.yaml").write_text(yaml.safe_dump(teams))
    monkeypatch.setenv("NBREPORTS_PROFILES_FILE", str(tmp_path / "profiles.yaml"))
    monkeypatch.setenv("NBREPORTS_TEAMS_FILE", str(tmp_path / "teams.yaml"))


def retag(image_id: str) -> str:
    """Point ``TAG`` at ``image_id`` (a rebuild or a promotion); its digest as podman knows it."""
    podman("tag", image_id, TAG)
    return podman("image", "inspect", "--format", "{{.Digest}}", image_id)


def cached_pod_report(notebooks: Path):
    folder = make_report(
        notebooks,
        "digest_report",
        None,
        "import scrapbook as sb\nsb.glue('x', 1)",
        spec={"executor": "podman", "team": "analytics", "cache": {"ttl": 3600}},
    )
    return load_report(folder)


def test_the_podman_resolver_follows_the_tag_and_finds_the_pinned_image(images):
    original, rebuilt = images
    first = retag(original)
    resolved = resolve_image(TAG, "podman")
    assert (resolved.digest, resolved.source) == (first, "podman")
    assert resolved.reference == f"{REPOSITORY}/analytics@{first}"
    assert podman_local(resolved.reference) == first  # podman finds the local image by its digest
    second = retag(rebuilt)
    assert second != first
    assert resolve_image(TAG, "podman").digest == second
    assert podman_local(f"{REPOSITORY}/analytics:no-such-tag") is None


def test_a_rebuilt_image_under_the_same_tag_is_not_a_cache_hit(home, images, digest_config, notebooks):
    original, rebuilt = images
    platform = Platform.from_settings()
    report = cached_pod_report(notebooks)
    first_digest = retag(original)
    first = run_report(platform, report, {})
    assert first["image"] == TAG
    assert first["image_digest"] == first_digest
    assert first["pod"]["image_digest"] == first_digest
    assert run_report(platform, report, {})["cache_hit_of"] == first["run_id"]  # same digest: served

    second_digest = retag(rebuilt)  # rebuilt and tagged :ga again
    again = run_report(platform, report, {})
    assert "cache_hit_of" not in again
    assert again["cache_key"] != first["cache_key"]
    assert again["image_digest"] == second_digest
    stored = platform.store.read_json(Store.run_key("digest_report", again["run_id"], "run.json"))
    assert stored["image_digest"] == second_digest
    rows = {r["run_id"]: r for r in recent_runs(platform.db, "digest_report")}
    assert rows[again["run_id"]]["image_digest"] == second_digest
    assert rows[first["run_id"]]["image_digest"] == first_digest


def test_the_pod_runs_the_digest_prepare_resolved_even_if_the_tag_moves(home, images, digest_config, notebooks):
    original, rebuilt = images
    platform = Platform.from_settings()
    report = cached_pod_report(notebooks)
    prepared_digest = retag(original)
    plan = prepare(platform, report, {}, force=True)
    assert plan.image_digest == prepared_digest
    retag(rebuilt)  # the tag moves between prepare and execute
    result = execute(platform, plan, print)
    record = publish(platform, plan, result)
    assert record["status"] == "success", record["error"]
    assert record["pod"]["image_digest"] == prepared_digest  # what was keyed is what ran
    assert pinned(plan.image, plan.image_digest) == f"{REPOSITORY}/analytics@{prepared_digest}"
