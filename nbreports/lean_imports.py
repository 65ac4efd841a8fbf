"""Leaner imports for the short-lived processes nbreports owns: ``nbr`` and the papermill child.

Two libraries import optional extras that nbreports never uses, and those dominate start-up
(measured here: ``import papermill`` takes 1.9 s with them, 0.3 s without):

* papermill's I/O module imports every cloud SDK it finds (gcsfs, azure, pyarrow, PyGithub,
  boto3) to offer ``gs://``, ``abs://``, ``hdfs://``… paths; nbreports gives papermill local
  paths only (the store is its own).
* jsonschema, imported by nbformat, imports ``rfc3987_syntax`` when it is installed, which builds
  an Earley parser at import time to check the "iri" format; the notebook schema does not use it.

Inside ``optional_imports_skipped()`` those modules count as missing (``sys.modules[name] = None``
makes Python raise ImportError, which both libraries handle by leaving the feature out). The
marks are removed on exit, so a later ``import boto3`` works as usual. Never used in Airflow's
processes or in a kernel, where other code may want those features; and it fails safe: a
library that stops importing one of these is simply not affected.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

OPTIONAL_EXTRAS = (
    "rfc3987_syntax",  # jsonschema's "iri" format
    "gcsfs",
    "azure.storage.blob",
    "azure.datalake.store",
    "azure.identity",  # papermill gs://, abs://, adl://
    "pyarrow",
    "github",
    "boto3",  # papermill hdfs://, github://, s3://
)


@contextmanager
def optional_imports_skipped(names: tuple[str, ...] = OPTIONAL_EXTRAS) -> Iterator[None]:
    """Import inside this block without the optional extras above (those already imported stay)."""
    marked = [name for name in names if name not in sys.modules]
    for name in marked:
        sys.modules[name] = None  # type: ignore[assignment]
    try:
        yield
    finally:
        for name in marked:
            if sys.modules.get(name, ...) is None:
                del sys.modules[name]
