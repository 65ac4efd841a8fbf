"""One Airflow DAG per report in ``notebooks/`` (or ``$NBREPORTS_NOTEBOOKS_DIR``).

The word "DAG" here lets Airflow's safe-mode scan pick this file up.
"""

import os
from pathlib import Path

from nbreports.settings import Settings
from operators.factory import build_dags

_NOTEBOOKS = os.environ.get("NBREPORTS_NOTEBOOKS_DIR") or str(Path(__file__).resolve().parent.parent / "notebooks")

globals().update(build_dags(Settings(notebooks_dir=Path(_NOTEBOOKS))))
