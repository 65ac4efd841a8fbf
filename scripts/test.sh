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
# ~5 minutes instead of their ~8 minutes of CPU. So do the ones that need only PostgreSQL or the S3
# endpoint: each makes its own database and bucket prefix, and each worker starts its own endpoint.
# The rest run last in one process, because they share the Airflow servers, slapd and the kernel
# image it starts once, and the fault suite restarts PostgreSQL under everyone.
no_services=$(make --no-print-directory -s no-services-expr)
servers_of_our_own="airflow or e2e or pods or browser or faults or celery"
"${pytest[@]}" -m "$no_services" -n 2
"${pytest[@]}" -m "(postgres or s3) and not ($servers_of_our_own)" -n 2
exec "${pytest[@]}" -m "$servers_of_our_own"
