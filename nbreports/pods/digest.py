"""Which image a pod run gets: its tag resolved to a digest once, at prepare, then keyed on and run.

A tag such as ``:ga`` moves when the image is rebuilt or another image is promoted to it; a digest
names one image for ever. So prepare resolves the run's image once (``resolve_image``), the run
cache keys on the digest, the run row and ``run.json`` record it, and the pod is started from
``pinned(image, digest)`` — ``<repository>@sha256:…`` — so what ran is what was keyed.

Resolvers form a registry per engine (``register_resolver``), tried in order until one answers:

* any engine: an image already pinned (``name@sha256:<64 hex>``) is its own digest, with no I/O;
* ``podman``: ``podman image inspect`` of the local image (the engine runs local images only);
* ``kubernetes``: the cluster pulls from a registry this worker may not reach, so only an image
  that podman also has locally is resolved (its digest, as podman knows it). Otherwise the digest is
  ``UNRESOLVED``: the run is not cached (the cache never keys on a tag) and its pod runs the tag,
  which ``Resolved.note`` says in the run's log. Pin ``image.digest`` in the spec to cache such runs.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass

UNRESOLVED = "unresolved"  # recorded as the run's image digest when no resolver could answer
DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
PINNED = re.compile(r"^(?P<repository>[^@\s]+)@(?P<digest>sha256:[0-9a-f]{64})$")
INSPECT_TIMEOUT_S = 30

#: an image reference → its digest (``sha256:…``), or None when this resolver does not know it
Resolver = Callable[[str], str | None]


@dataclass(frozen=True)
class Resolved:
    """An image reference and what it resolved to: a ``sha256:`` digest, or ``UNRESOLVED``."""

    image: str
    digest: str
    source: str  # "pinned", the resolver that answered, or "unresolved"

    @property
    def resolved(self) -> bool:
        """True when the digest is known, so the run may be cached and its pod pinned."""
        return self.digest != UNRESOLVED

    @property
    def reference(self) -> str:
        """What the pod runs: ``<repository>@<digest>``, or the tag itself when unresolved."""
        return pinned(self.image, self.digest)

    @property
    def note(self) -> str:
        """One line for the run's log: what the image resolved to, or why it was not."""
        if self.resolved:
            return f"image {self.image} is {self.digest} ({self.source})"
        return f"image {self.image}: digest unresolved (no local image), so the run is not cached"


def repository_of(image: str) -> str:
    """``registry/repo:tag`` or ``registry/repo@sha256:…`` → ``registry/repo`` (a registry port is kept)."""
    name = image.split("@", 1)[0]
    head, _, last = name.rpartition("/")
    return f"{head}/{last.split(':', 1)[0]}" if head else last.split(":", 1)[0]


def pinned(image: str, digest: str | None) -> str:
    """The reference that names exactly ``digest`` in ``image``'s repository; ``image`` when there is none."""
    if not digest or digest == UNRESOLVED:
        return image
    return f"{repository_of(image)}@{digest}"


def podman_local(image: str) -> str | None:
    """The digest podman knows for a local ``image``; None without podman or without such an image."""
    if shutil.which("podman") is None:
        return None
    try:
        proc = subprocess.run(  # noqa: S603 - argv built here, the image reference is one argument
            ["podman", "image", "inspect", "--format", "{{.Digest}}", image],  # noqa: S607 - podman from PATH, as the engine runs it
            capture_output=True,
            text=True,
            timeout=INSPECT_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    found = proc.stdout.strip()
    return found if proc.returncode == 0 and DIGEST.fullmatch(found) else None


_resolvers: dict[str, list[tuple[str, Resolver]]] = {
    "podman": [("podman", podman_local)],
    "kubernetes": [("podman", podman_local)],
}


def register_resolver(engine: str, name: str, resolver: Resolver) -> None:
    """Try ``resolver`` (named ``name`` in ``Resolved.source``) for ``engine``'s images before the others."""
    _resolvers.setdefault(engine, []).insert(0, (name, resolver))


def resolve_image(image: str, engine: str) -> Resolved:
    """The digest of ``image`` for a run on ``engine``: pinned as it is, else from the engine's resolvers."""
    if match := PINNED.match(image):
        return Resolved(image, match["digest"], "pinned")
    for name, resolver in _resolvers.get(engine, []):
        if digest := resolver(image):
            return Resolved(image, digest, name)
    return Resolved(image, UNRESOLVED, UNRESOLVED)
