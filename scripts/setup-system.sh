#!/usr/bin/env bash
# What the test suite needs from the machine, on a bare one too (idempotent, quick when done):
# PostgreSQL running on 127.0.0.1:5432, Debian's slapd and ldap-utils (the tests start their own
# slapd: tests/integration/ldap_server.py), Redis on 127.0.0.1:6379 (the Celery workers' broker),
# util-linux's unshare (each Celery worker gets a hostname of its own), Debian's Chromium for the
# browser tests, podman with the debootstrap base image and the analytics kernel image for the pod tests.
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive

need=()
command -v pg_isready >/dev/null || need+=(postgresql postgresql-client)
command -v make >/dev/null || need+=(make)
[ -x /usr/sbin/slapd ] || need+=(slapd)
command -v ldapsearch >/dev/null || need+=(ldap-utils)
command -v redis-server >/dev/null || need+=(redis-server)
command -v unshare >/dev/null || need+=(util-linux)
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -qq
  apt-get install -y -qq "${need[@]}" >/dev/null
fi
if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  echo "starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start
  for _ in $(seq 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
fi
if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  echo "starting Redis"
  redis-server --bind 127.0.0.1 --port 6379 --daemonize yes --save "" --appendonly no >/dev/null
  for _ in $(seq 30); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break; sleep 1; done
fi

scripts/setup-chromium.sh >/dev/null
TEAMS=${TEAMS:-analytics} scripts/setup-podman.sh
