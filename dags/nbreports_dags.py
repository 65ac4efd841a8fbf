"""One Airflow DAG per report in the notebooks folder (``$NBREPORTS_NOTEBOOKS_DIR``, see ``nbreports.settings``).

The word "DAG" here lets Airflow's safe-mode scan pick this file up.
"""

from nbreports.settings import get_settings
from operators.factory import build_dags

globals().update(build_dags(get_settings()))
