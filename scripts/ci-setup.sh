#!/usr/bin/env bash
# System packages and services the test suite needs on a bare machine (idempotent).
set -euo pipefail
need=()
command -v pg_isready >/dev/null || need+=(postgresql postgresql-client)
command -v make >/dev/null || need+=(make)
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}"
fi
if ! command -v python3.11 >/dev/null; then
  echo "python3.11 is required" >&2
  exit 1
fi
