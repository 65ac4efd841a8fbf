"""Secrets never published: what counts as a secret of a run, and its redaction from outputs and logs."""
