#!/usr/bin/env bash
# Set up what the tests need (PostgreSQL, Chromium, podman and a kernel image), then run them all.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-system.sh
export CONTAINERS_CONF=$PWD/images/containers.conf

.venv/bin/ruff check nbreports operators dags plugins tests bench
.venv/bin/mypy
exec .venv/bin/python -m pytest tests -q -p no:cacheprovider --durations=25 "$@"
