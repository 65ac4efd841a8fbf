"""The bad-input corpus of issue 12: data files, the manifest cases.yaml, and how each case reaches the platform."""
