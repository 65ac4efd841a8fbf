"""Benchmarks of nbreports against its peers (``make bench``); see ``bench/run.py``."""
