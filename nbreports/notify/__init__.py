"""Notifications declared in ``report.yaml``: the rules, which of them a finished run fires (no Airflow here)."""
