#!/usr/bin/env bash
# Lint, set up what the tests need (PostgreSQL, Chromium, podman and a kernel image), then run them all.
set -euo pipefail
cd "$(dirname "$0")/.."
# lint first: a lint error fails in seconds, before the slow system set-up (ruff, ruff format, mypy)
make --no-print-directory lint
scripts/setup-system.sh
export CONTAINERS_CONF=$PWD/images/containers.conf

exec .venv/bin/python -m pytest tests -q -p no:cacheprovider --durations=25 "$@"
