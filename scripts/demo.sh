#!/usr/bin/env bash
# Run Airflow standalone on its embedded defaults with the nbreports DAGs and plugin loaded.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
DEMO=${NBREPORTS_DEMO_DIR:-$ROOT/.demo}
PORT=${NBREPORTS_DEMO_PORT:-8080}
mkdir -p "$DEMO/airflow"
[ -f "$DEMO/passwords.json" ] || echo '{"admin": "admin"}' > "$DEMO/passwords.json"

# airflow standalone starts its parts as `airflow <command>` found on the PATH
export PATH=$ROOT/.venv/bin:$PATH
export AIRFLOW_HOME=$DEMO/airflow
export AIRFLOW__CORE__DAGS_FOLDER=$ROOT/dags
export AIRFLOW__CORE__PLUGINS_FOLDER=$ROOT/plugins
export AIRFLOW__CORE__LOAD_EXAMPLES=False
export AIRFLOW__CORE__AUTH_MANAGER=airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager
export AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS=admin:admin
export AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE=$DEMO/passwords.json
export AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION=False
export AIRFLOW__API__PORT=$PORT
export AIRFLOW__API__BASE_URL=http://127.0.0.1:$PORT
# standalone starts everything at once, and the scheduler may start the first runs (DAGs are
# unpaused) before the API server answers: let tasks wait for it instead of failing
export AIRFLOW__WORKERS__EXECUTION_API_RETRIES=${AIRFLOW__WORKERS__EXECUTION_API_RETRIES:-10}
export AIRFLOW__WORKERS__EXECUTION_API_TIMEOUT=${AIRFLOW__WORKERS__EXECUTION_API_TIMEOUT:-30}
export NBREPORTS_HOME=$DEMO/nbreports
export NBREPORTS_NOTEBOOKS_DIR=$ROOT/notebooks

cat <<MSG

  nbreports demo
  ──────────────
  Airflow UI:  http://127.0.0.1:$PORT     login: admin / admin
  Reports:     $ROOT/notebooks (one DAG each; "Trigger" shows the typed parameter form)
  Store:       $NBREPORTS_HOME/store      Platform DB: $NBREPORTS_HOME/platform.db
  CLI:         NBREPORTS_HOME=$NBREPORTS_HOME .venv/bin/nbr history sales_summary
  Stop with Ctrl-C.

MSG
exec "$ROOT/.venv/bin/airflow" standalone
