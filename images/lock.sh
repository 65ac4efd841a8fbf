#!/usr/bin/env bash
# Regenerate images/constraints.txt: the team environments resolved together, pinned from
# ../requirements.lock where the base's Python (3.11.2 on bookworm) allows it.
# Run with PYTHON=/usr/bin/python3 (the base image's Python version).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-/usr/bin/python3}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$PYTHON" -m venv "$tmp/venv"
cp requirements.lock "$tmp/constraints.txt"
reqs=(-r images/core-requirements.txt)
for team in images/teams/*/; do reqs+=(-r "$team/requirements.txt"); done
for _ in $(seq 10); do  # drop the lock's pins this Python cannot install, one by one
  if "$tmp/venv/bin/pip" install -q --dry-run --report "$tmp/report.json" -c "$tmp/constraints.txt" \
       "${reqs[@]}" 2>"$tmp/err"; then break; fi
  bad=$(sed -n 's/.*The user requested (constraint) \([^=]*\)==.*/\1/p' "$tmp/err" | head -1)
  [ -n "$bad" ] || { cat "$tmp/err" >&2; exit 1; }
  echo "not pinned from requirements.lock: $bad" >&2
  grep -v "^$bad==" "$tmp/constraints.txt" > "$tmp/c" && mv "$tmp/c" "$tmp/constraints.txt"
done
{
  echo "# The kernel images' lock: every package of every team environment, pinned. Resolved from"
  echo "# ../requirements.lock for Python 3.11.2 (Debian bookworm, the oldest base supported); a few"
  echo "# pins differ where that Python needs older releases. Regenerate with images/lock.sh."
  "$tmp/venv/bin/python" -c "import json,sys; r=json.load(open(sys.argv[1])); print('\n'.join(sorted(
    f\"{i['metadata']['name']}=={i['metadata']['version']}\" for i in r['install'])))" "$tmp/report.json"
} > images/constraints.txt
