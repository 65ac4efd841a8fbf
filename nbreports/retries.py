"""When a background write that failed is tried again: one schedule for notifications and the search index.

Both are tried first where they happen (a publish, a save) and then by the ``nbreports_reconcile``
DAG: 1, 5 and 15 minutes after the first, second and third failed try, then every hour.
"""

from __future__ import annotations

from datetime import datetime, timedelta

RETRY_AFTER_S = (60, 300, 900, 3600)  # after the 1st, 2nd, 3rd and every later failed try


def next_try_at(failed_tries: int, now: datetime) -> datetime:
    """When to try again after ``failed_tries`` (at least 1) tries have failed."""
    return now + timedelta(seconds=RETRY_AFTER_S[min(failed_tries, len(RETRY_AFTER_S)) - 1])
