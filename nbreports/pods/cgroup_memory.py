"""Peak memory and OOM kills of a running container, read from its cgroup (v1 or v2).

Read while the container runs: its cgroup is removed once it exits. Where nothing can be read
(another runtime, no permission) the figures stay unknown rather than wrong.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

_ROOT = Path("/sys/fs/cgroup")


def _read_int(path: Path, key: str | None = None) -> int | None:
    try:
        text = path.read_text()
    except OSError:
        return None
    if key is None:
        return int(text.split()[0]) if text.split() and text.split()[0].isdigit() else None
    for line in text.splitlines():
        name, _, value = line.partition(" ")
        if name == key and value.strip().isdigit():
            return int(value)
    return None


@dataclass
class MemoryWatch:
    """A container's cgroup memory folder (None when unreadable) and the peak and OOM kills seen there."""

    folder: Path | None
    v2: bool = False
    peak_bytes: int | None = None
    oom_killed: bool = False

    @classmethod
    def of_container(cls, container: str) -> MemoryWatch:
        """The watch of a running podman container, from the cgroup path podman reports."""
        out = subprocess.run(  # noqa: S603 - an argument list built here, podman from PATH as the engine runs it
            ["podman", "container", "inspect", "--format", "{{.State.CgroupPath}}", container],  # noqa: S607
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
        if not out:
            return cls(None)
        relative = out.lstrip("/")
        if (_ROOT / "memory" / relative).is_dir():
            return cls(_ROOT / "memory" / relative)
        if (_ROOT / relative / "memory.current").is_file():
            return cls(_ROOT / relative, v2=True)
        return cls(None)

    def sample(self) -> None:
        """Fold the cgroup's high-water mark and OOM-kill count into what is known."""
        if self.folder is None:
            return
        if self.v2:
            peak = _read_int(self.folder / "memory.peak") or _read_int(self.folder / "memory.current")
            kills = _read_int(self.folder / "memory.events", "oom_kill")
        else:
            peak = _read_int(self.folder / "memory.max_usage_in_bytes")
            kills = _read_int(self.folder / "memory.oom_control", "oom_kill")
        if peak is not None:
            self.peak_bytes = max(peak, self.peak_bytes or 0)
        if kills:
            self.oom_killed = True
