#!/usr/bin/env bash
# Start the web server and a Celery worker (with beat) on the embedded defaults, print
# where to go, and stop both on Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
PORT="${PORT:-8000}"

if ! command -v bwrap >/dev/null 2>&1; then
  cat <<'WARN'

  Evaluations need bubblewrap, the sandbox models run in: apt-get install bubblewrap
  (until then every evaluation fails with "sandbox_unavailable"; EVAL_ALLOW_WEAK_SANDBOX=true
  runs them with resource limits only, and every result then says so).
  Check the sandbox with: .venv/bin/python manage.py check_sandbox

WARN
fi

pids=()
stop() {
  # One Ctrl-C stops both within seconds: a warm Celery shutdown on the filesystem broker
  # can wait minutes for its polling loop, so whatever is left after 5 s is killed (a job
  # it was running is re-queued by the sweep: acks_late and the attempt counter).
  trap - INT TERM EXIT
  echo "Stopping..."
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for _ in $(seq 1 50); do
    alive=0
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ "$alive" = 0 ] && break
    sleep 0.1
  done
  for pid in "${pids[@]}"; do pkill -KILL -P "$pid" 2>/dev/null || true; kill -KILL "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  echo "Stopped."
  exit 0
}
trap stop INT TERM EXIT

.venv/bin/celery -A registry_site worker --beat -Q celery,evaluations --loglevel=WARNING --concurrency=2 \
  --schedule=var/celerybeat-schedule >var/worker.log 2>&1 &
pids+=($!)
$PY manage.py runserver --noreload "127.0.0.1:${PORT}" >var/web.log 2>&1 &
pids+=($!)

for _ in $(seq 1 50); do
  if $PY - "$PORT" <<'PYEOF' 2>/dev/null; then break; fi
import sys, urllib.request
urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/", timeout=1)
PYEOF
  sleep 0.2
done

cat <<MSG

  Model Registry is running at http://127.0.0.1:${PORT}/
  API docs: http://127.0.0.1:${PORT}/api/docs/   Admin: http://127.0.0.1:${PORT}/admin/
  MLflow clients: MLFLOW_TRACKING_URI=http://127.0.0.1:${PORT}/mlflow MLFLOW_TRACKING_TOKEN=<a token>

  Demo logins (username / password):
    alice  / demo-alice-pass   (owns models)
    bob    / demo-bob-pass     (owns models)
    rita   / demo-rita-pass    (reviewer)
    admin  / demo-admin-pass   (staff, admin site)

  Logs: var/web.log, var/worker.log.  Press Ctrl-C to stop.

MSG
wait -n "${pids[@]}" || true
echo "A process exited; see var/web.log and var/worker.log."
