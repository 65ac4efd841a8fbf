"""Airflow on the CeleryExecutor with two real Celery workers, each like a machine of its own.

``celery_env`` turns the environment of ``tests/integration/servers.py`` into a CeleryExecutor
one: Redis on 127.0.0.1 as the broker (queue names unique to the module, so nothing else on the
server is read), the Airflow metadata database as Celery's result backend, and a short task
heartbeat timeout so a worker that dies is noticed in seconds. ``CeleryWorker`` starts
``airflow celery worker`` in a UTS namespace of its own (``unshare --uts``: its own hostname,
which Airflow's task instances and the platform's run rows record), with its own home folder and
working directory, and its own copy of the DAG bundle — the ``dags/`` folder and the notebooks —,
so a run that reached for a path of the worker that prepared it would fail.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.conftest import REPO, free_port
from tests.integration.servers import VENV_BIN, ServersError

WORKER_CONCURRENCY = 2  # task slots per worker: the machine has two cores for both workers and the servers
READY_TIMEOUT = 90.0


def celery_env(base_env: dict[str, str], broker_url: str, default_queue: str) -> dict[str, str]:
    """The servers' environment with the CeleryExecutor, the broker, the result backend and ``default_queue``."""
    meta = base_env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
    return {
        **base_env,
        "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
        "AIRFLOW__CELERY__BROKER_URL": broker_url,
        "AIRFLOW__CELERY__RESULT_BACKEND": "db+" + meta.replace("postgresql+psycopg2://", "postgresql://"),
        "AIRFLOW__OPERATORS__DEFAULT_QUEUE": default_queue,
        # a worker killed with its tasks sends no more heartbeats: their tries fail after this long
        "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": "20",
        "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL": "5",
        # the hostname a task instance records: the worker's own (no DNS lookup of a name nobody serves)
        "AIRFLOW__CORE__HOSTNAME_CALLABLE": "socket.gethostname",
    }


def copy_bundle(notebooks: Path, dest: Path) -> tuple[Path, Path]:
    """A worker's own copy of the DAG bundle: this repo's ``dags/`` and ``notebooks``; (dags, notebooks)."""
    dags = dest / "dags"
    shutil.copytree(REPO / "dags", dags, ignore=shutil.ignore_patterns("__pycache__"))
    copied = dest / "notebooks"
    shutil.copytree(notebooks, copied, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    return dags, copied


@dataclass
class CeleryWorker:
    """One ``airflow celery worker``: a hostname, home, DAG bundle and queues of its own."""

    name: str  # also its hostname
    queues: tuple[str, ...]
    folder: Path
    env: dict[str, str]
    process: subprocess.Popen[bytes] | None = None
    log_path: Path = field(init=False)

    def __post_init__(self) -> None:
        self.log_path = self.folder / "worker.log"

    def start(self, notebooks: Path) -> None:
        """Copy the DAG bundle into the worker's folder and start it (in its own session and UTS namespace)."""
        home = self.folder / "home"
        home.mkdir(parents=True)
        dags, copied = copy_bundle(notebooks, self.folder)
        env = {
            **self.env,
            "HOME": str(home),
            "NBREPORTS_HOME": str(home / ".nbreports"),
            "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
            "NBREPORTS_NOTEBOOKS_DIR": str(copied),
            "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
        }
        worker = [str(VENV_BIN / "airflow"), "celery", "worker", "--queues", ",".join(self.queues)]
        worker += ["--concurrency", str(WORKER_CONCURRENCY), "--celery-hostname", f"{self.name}@%h"]
        worker += ["--without-gossip", "--without-mingle"]
        script = f'hostname {self.name} && exec "$@"'
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(  # noqa: S603 - argv fixed by the test, no untrusted input
                ["unshare", "--uts", "sh", "-c", script, "sh", *worker],  # noqa: S607 - util-linux's unshare
                env=env,
                cwd=self.folder,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )

    def wait_ready(self, timeout: float = READY_TIMEOUT) -> None:
        """Wait for Celery's ``ready.`` line in the worker's log."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise ServersError(f"celery worker {self.name} exited with {self.process.returncode}\n{self.tail()}")
            if self.log_path.exists() and " ready." in self.log_path.read_text(errors="replace"):
                return
            time.sleep(0.5)
        raise ServersError(f"celery worker {self.name} not ready after {timeout:.0f} s\n{self.tail()}")

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL the worker and everything in its session: its pool, task supervisors and tasks."""
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=10)

    def stop(self) -> None:
        """SIGTERM (Celery's warm shutdown), then SIGKILL what is left."""
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=10)
        self.kill()

    def tail(self, chars: int = 6000) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else "(no log)"
        return f"===== celery worker {self.name} =====\n{text[-chars:]}"
