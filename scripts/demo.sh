#!/usr/bin/env bash
# The demo: Airflow's four components (api-server, scheduler, dag-processor, triggerer) with the
# nbreports DAGs and plugin, on SQLite with the LocalExecutor, and the FAB auth manager with FAB's
# own user database (AUTH_DB) holding demo people of two teams, a restricted team, a cross-team
# viewer and an admin. `airflow standalone` cannot do this: it forces the SimpleAuthManager, which
# ignores per-report permissions. Ctrl-C stops every component.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
DEMO=${NBREPORTS_DEMO_DIR:-$ROOT/.demo}
PORT=${NBREPORTS_DEMO_PORT:-8080}
EXECUTION_PORT=${NBREPORTS_DEMO_EXECUTION_PORT:-8081}
mkdir -p "$DEMO/airflow" "$DEMO/logs"
# secrets shared by the components, made once per demo folder
[ -f "$DEMO/secrets.env" ] || {
  umask 077
  printf 'AIRFLOW__API_AUTH__JWT_SECRET=%s\nAIRFLOW__API__SECRET_KEY=%s\n' \
    "$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')" "$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')" \
    >"$DEMO/secrets.env"
}
set -a
# shellcheck disable=SC1091
. "$DEMO/secrets.env"
set +a

export PATH=$ROOT/.venv/bin:$PATH
export AIRFLOW_HOME=$DEMO/airflow
export AIRFLOW__CORE__DAGS_FOLDER=$ROOT/dags
export AIRFLOW__CORE__PLUGINS_FOLDER=$ROOT/plugins
export AIRFLOW__CORE__LOAD_EXAMPLES=False
export AIRFLOW__CORE__EXECUTOR=LocalExecutor
export AIRFLOW__CORE__PARALLELISM=${AIRFLOW__CORE__PARALLELISM:-4}
export AIRFLOW__CORE__AUTH_MANAGER=airflow.providers.fab.auth_manager.fab_auth_manager.FabAuthManager
export AIRFLOW__FAB__CONFIG_FILE=$ROOT/config/webserver_config.py
export AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION=False
export AIRFLOW__API__PORT=$PORT
export AIRFLOW__API__HOST=127.0.0.1
export AIRFLOW__API__BASE_URL=http://127.0.0.1:$PORT
# the tasks talk to their own api-server (--apps execution), so their calls never queue behind a page
export AIRFLOW__CORE__EXECUTION_API_SERVER_URL=http://127.0.0.1:$EXECUTION_PORT/execution/
# the scheduler may start the first runs (DAGs are unpaused) before the API server answers: let
# tasks wait for it instead of failing
export AIRFLOW__WORKERS__EXECUTION_API_RETRIES=${AIRFLOW__WORKERS__EXECUTION_API_RETRIES:-10}
export AIRFLOW__WORKERS__EXECUTION_API_TIMEOUT=${AIRFLOW__WORKERS__EXECUTION_API_TIMEOUT:-30}
export NBREPORTS_HOME=$DEMO/nbreports
export NBREPORTS_NOTEBOOKS_DIR=$ROOT/notebooks
export NBREPORTS_BASE_URL=http://127.0.0.1:$PORT  # where the links in notifications point
unset NBREPORTS_LDAP_URL  # the demo logs people in from FAB's user table
# Notifications (report.yaml's notify:) go through Airflow connections; in the demo the email one
# reaches a local SMTP server that keeps every message in the maildir $DEMO/mail (nothing leaves).
SMTP_PORT=${NBREPORTS_DEMO_SMTP_PORT:-8025}
export AIRFLOW_CONN_NBREPORTS_SMTP="{\"conn_type\": \"smtp\", \"host\": \"127.0.0.1\", \"port\": $SMTP_PORT, \"extra\": {\"disable_ssl\": true, \"disable_tls\": true, \"from_email\": \"nbreports@nbreports.demo\"}}"

echo "preparing the metadata database, roles and demo people (logs in $DEMO/logs)"
airflow db migrate >"$DEMO/logs/db-migrate.log" 2>&1 || { tail -30 "$DEMO/logs/db-migrate.log"; exit 1; }
python -m operators.fab_roles >"$DEMO/logs/fab-roles.log" 2>&1 || { tail -30 "$DEMO/logs/fab-roles.log"; exit 1; }
python scripts/demo_users.py "$DEMO/logins.txt" >"$DEMO/logs/demo-users.log" 2>&1 || { tail -30 "$DEMO/logs/demo-users.log"; exit 1; }
LOGINS=$(cat "$DEMO/logins.txt")

pids=()
stop() {
  trap - INT TERM EXIT
  [ ${#pids[@]} -gt 0 ] || return 0
  echo "stopping the demo"
  for pid in "${pids[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || true; done
  sleep 3
  for pid in "${pids[@]}"; do kill -KILL -- "-$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  [ -z "${1:-}" ] || exit "$1"
}
trap 'stop 130' INT TERM
trap stop EXIT
# The deployment bench/load.py measures: the UI and REST API (--apps core) apart from the task
# execution API, and the components that run reports (the scheduler's workers, their tasks and
# kernels) at a lower priority, so the UI stays responsive while many reports run.
# Each component in its own process group (setsid), so stop() also ends the tasks it started.
setsid python -m aiosmtpd -n -l "127.0.0.1:$SMTP_PORT" -c aiosmtpd.handlers.Mailbox "$DEMO/mail" >"$DEMO/logs/smtp.log" 2>&1 &
pids+=($!)
setsid airflow api-server --apps core --port "$PORT" >"$DEMO/logs/api-server.log" 2>&1 &
pids+=($!)
setsid airflow api-server --apps execution --port "$EXECUTION_PORT" >"$DEMO/logs/execution-api.log" 2>&1 &
pids+=($!)
for component in scheduler dag-processor triggerer; do
  setsid nice -n 10 airflow "$component" >"$DEMO/logs/$component.log" 2>&1 &
  pids+=($!)
done

for _ in $(seq 120); do
  curl -fsS "http://127.0.0.1:$PORT/api/v2/monitor/health" >/dev/null 2>&1 && break
  sleep 1
done

cat <<MSG

  nbreports demo
  ──────────────
  Airflow UI:  http://127.0.0.1:$PORT
  Logins (FAB user database; each sees only the reports the teams file and report.yaml allow):
$LOGINS
  Reports:     $ROOT/notebooks (one DAG each; "Trigger" shows the typed parameter form)
  Teams:       $ROOT/config/teams.yaml
  Store:       $NBREPORTS_HOME/store      Platform DB: $NBREPORTS_HOME/platform.db
  Logs:        $DEMO/logs/<component>.log
  Mail:        $DEMO/mail/new/ (what notify rules send through the connection nbreports_smtp)
  CLI:         NBREPORTS_HOME=$NBREPORTS_HOME .venv/bin/nbr history sales_summary
  Stop with Ctrl-C.

MSG
# until Ctrl-C, or until a component dies (then its log's tail, and everything stops)
set +e
wait -n "${pids[@]}"
echo "an Airflow component exited; the last lines of its log:"
for component in smtp api-server execution-api scheduler dag-processor triggerer; do tail -5 "$DEMO/logs/$component.log"; done
exit 1
