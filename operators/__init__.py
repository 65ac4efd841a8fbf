"""Airflow operators, hooks and helpers built on the nbreports core."""

from operators.hooks import NbreportsHook
from operators.report import (
    ExecuteReportOperator,
    NotebookReportOperator,
    PrepareReportOperator,
    PublishReportOperator,
    report_asset,
)

__all__ = [
    "ExecuteReportOperator",
    "NbreportsHook",
    "NotebookReportOperator",
    "PrepareReportOperator",
    "PublishReportOperator",
    "report_asset",
]
