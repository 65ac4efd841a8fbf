"""A Jupyter Server post-save hook: every save of a report notebook becomes a version of its report.

Enable it with one line in ``jupyter_server_config.py``::

    c.FileContentsManager.post_save_hook = "nbreports.jupyter_hook.post_save"

The server's environment says where versions go (``NBREPORTS_STORE_URL``, ``NBREPORTS_DATABASE_URL``,
as for ``nbr``) and who saves: ``NBREPORTS_AUTHOR``, else ``JUPYTERHUB_USER`` (set by JupyterHub in
each user's server), else the account the server runs as. A failure to keep the version is raised,
so Jupyter tells the user the save was not versioned (the file itself is saved already).
"""

from __future__ import annotations

import logging
import socket
from pathlib import Path
from typing import Any

from nbreports.errors import NbreportsError, SpecError
from nbreports.history.versions import notebook_kernel, save_version
from nbreports.identifiers import REPORT_NAME
from nbreports.reports.folder import is_report_notebook
from nbreports.reports.spec import SPEC_FILE, load_spec
from nbreports.settings import get_settings
from nbreports.storage.database import PlatformDB
from nbreports.storage.store import open_store

logger = logging.getLogger(__name__)


def report_of(os_path: Path) -> str | None:
    """The report whose notebook ``os_path`` is, or None (not a notebook, not in a report folder)."""
    folder = os_path.parent
    if not (folder / SPEC_FILE).is_file() or not REPORT_NAME.fullmatch(folder.name):
        return None
    try:
        spec = load_spec(folder / SPEC_FILE)
    except SpecError:  # a broken spec does not stop the notebook from being versioned
        spec = None
    return folder.name if is_report_notebook(os_path, spec) else None


def post_save(model: dict[str, Any], os_path: str, contents_manager: Any = None, **_: Any) -> str | None:
    """Store the saved notebook as a version of its report (source ``jupyter``); its sha256, or None."""
    path = Path(os_path)
    report = report_of(path)
    if report is None:
        return None
    nb_bytes = path.read_bytes()  # what is on disk is what was saved
    settings = get_settings()
    try:
        store = open_store(settings.resolved_store_url, settings.store_options)
        db = PlatformDB(settings.resolved_database_url)
        sha = save_version(
            store,
            db,
            report,
            nb_bytes,
            kernel=notebook_kernel(nb_bytes),
            source="jupyter",
            author=settings.resolved_author,
            origin=f"jupyter://{socket.gethostname()}/{model.get('path') or path}",
            image=settings.image,
        )
    except NbreportsError as exc:
        logger.error("notebook %s was saved but not versioned: %s", os_path, exc)
        raise
    logger.info("saved %s as version %s of report %s", os_path, sha[:12], report)
    return sha
