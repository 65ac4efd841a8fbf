"""nbreports: notebooks as scheduled, parameterized, versioned and published reports.

This package is the Airflow-free core. It never imports Airflow, so it can be tested alone
and installed into kernel images.
"""

__version__ = "0.1.0"
