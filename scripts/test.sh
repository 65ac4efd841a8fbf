#!/usr/bin/env bash
# Lint, set up what the tests need (PostgreSQL, Chromium, podman and a kernel image), then run them all.
set -euo pipefail
cd "$(dirname "$0")/.."
# lint first: a lint error fails in seconds, before the slow system set-up (ruff, ruff format, mypy)
make --no-print-directory lint
scripts/setup-system.sh
export CONTAINERS_CONF=$PWD/images/containers.conf

pytest=(.venv/bin/python -m pytest tests -q -p no:cacheprovider --durations=25)
if [ $# -gt 0 ]; then exec "${pytest[@]}" "$@"; fi
# The tests that need no service run on both cores (pytest-xdist): they share no server, and take
# ~5 minutes instead of their ~8 minutes of CPU. The service tests run after them in one process,
# because they share the Airflow servers, slapd, the S3 endpoint and the kernel image it starts once.
no_services=$(make --no-print-directory -s no-services-expr)
"${pytest[@]}" -m "$no_services" -n 2
exec "${pytest[@]}" -m "not ($no_services)"
