"""The fault suite (issue 12): kills, restarts, cut endpoints and a full disk against real parts (see conftest.py)."""
