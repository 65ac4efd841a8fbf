#!/usr/bin/env bash
# Start what the tests need (PostgreSQL), then run the whole suite.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  echo "starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start
  for _ in $(seq 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
fi

.venv/bin/ruff check nbreports operators dags plugins tests
.venv/bin/mypy
exec .venv/bin/python -m pytest tests -q -p no:cacheprovider --durations=15 "$@"
