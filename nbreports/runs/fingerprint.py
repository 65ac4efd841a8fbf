"""What a run's result depends on besides its notebook, parameters and inputs: where it runs.

For a pod run that is the image, by digest (``nbreports.pods.digest``): a tag is never part of a
cache key. For a local run the environment is the kernel: its name, the Python its kernelspec
starts, and the installed distributions of that Python (the ``*.dist-info`` / ``*.egg-info`` names
on its ``sys.path``, which carry name and version). Listing those folders costs milliseconds, where
``importlib.metadata`` would parse every distribution's metadata (about 0.5 s for this platform's
330); the result is kept per interpreter for the process and recomputed when a folder on its path
changes (installing or removing a package changes the folder's mtime). Editable installs are
fingerprinted by their version, not their code.

A local kernel whose kernelspec cannot be found gives no fingerprint: the run is not cached (it will
fail at execute with the engine's own error).
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

from nbreports.pods.digest import Resolved

PYTHON_NAMES = {"python", f"python{sys.version_info[0]}", f"python{sys.version_info[0]}.{sys.version_info[1]}"}
PROBE = "import json, sys; print(json.dumps([sys.version, sys.path]))"
_lock = threading.Lock()
_memo: dict[str, tuple[tuple[tuple[str, int], ...], str]] = {}  # python -> (path folders' mtimes, fingerprint)


def kernel_python(kernel: str) -> str | None:
    """The interpreter ``kernel``'s kernelspec starts, as jupyter_client would launch it; None if unknown."""
    from jupyter_core.paths import jupyter_path

    for folder in jupyter_path("kernels"):
        spec = Path(folder) / kernel / "kernel.json"
        if spec.is_file():
            try:
                argv = json.loads(spec.read_text(encoding="utf-8"))["argv"]
            except (OSError, ValueError, KeyError, TypeError):
                return None
            first = str(argv[0]) if argv else ""
            return sys.executable if first in PYTHON_NAMES else first or None  # as jupyter_client substitutes
    return sys.executable if kernel == "python3" else None  # ipykernel's native kernel needs no kernelspec


def _is_this_python(python: str) -> bool:
    return os.path.realpath(python) == os.path.realpath(sys.executable)


def _version_and_path(python: str) -> tuple[str, list[str]] | None:
    if _is_this_python(python):
        return sys.version, list(sys.path)
    try:
        proc = subprocess.run(  # noqa: S603 - the kernelspec's interpreter with a fixed probe
            [python, "-c", PROBE], capture_output=True, text=True, timeout=30, check=False
        )
        version, path = json.loads(proc.stdout)
    except (OSError, ValueError, subprocess.TimeoutExpired):
        return None
    return str(version), [str(p) for p in path]


def _folders(path: list[str]) -> list[str]:
    return [p for p in path if p and os.path.isdir(p)]


def _mtimes(folders: list[str]) -> tuple[tuple[str, int], ...]:
    stamps = []
    for folder in folders:
        try:
            stamps.append((folder, os.stat(folder).st_mtime_ns))
        except OSError:
            stamps.append((folder, -1))
    return tuple(stamps)


def packages_fingerprint(python: str) -> str | None:
    """The sha256 of ``python``'s version and the distributions on its path; None if it cannot be asked."""
    with _lock:
        known = _memo.get(python)
    if known:  # still true while the same folders are on the path, none of them changed
        folders = _folders(sys.path) if _is_this_python(python) else [f for f, _ in known[0]]
        if _mtimes(folders) == known[0]:
            return known[1]
    found = _version_and_path(python)
    if found is None:
        return None
    version, path = found
    folders = _folders(path)
    stamps = _mtimes(folders)
    names = [version]
    for folder in folders:
        with os.scandir(folder) as entries:
            names += sorted(f"{folder}:{e.name}" for e in entries if e.name.endswith((".dist-info", ".egg-info")))
    fingerprint = hashlib.sha256("\n".join(names).encode()).hexdigest()
    with _lock:
        _memo[python] = (stamps, fingerprint)
    return fingerprint


def environment_key(kernel: str, image: Resolved | None) -> str | None:
    """The environment part of a run's cache key; None when it cannot be known, so the run is not cached.

    A pod run (``image``, resolved once by prepare): ``kernel:<name> image:sha256:…``. A local run:
    ``kernel:<name> python:<interpreter> packages:<sha256>``.
    """
    if image is not None:
        return f"kernel:{kernel} image:{image.digest}" if image.resolved else None
    python = kernel_python(kernel)
    packages = packages_fingerprint(python) if python else None
    return f"kernel:{kernel} python:{python} packages:{packages}" if packages else None
