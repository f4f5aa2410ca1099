#!/usr/bin/env bash
# `make test`: lint, then the whole suite on the embedded default (SQLite + in-process broker),
# and, side by side with it, every test that touches a backend again on PostgreSQL and Redis
# when they are reachable; then the browser tests,
# then the fault tests (marker `faults`: real processes killed and restarted, with a private
# redis-server) on PostgreSQL.
# TEST_DATABASE_URL / TEST_REDIS_URL choose the servers; PRISM_REQUIRE_SERVICES=1 (set by CI)
# makes unreachable servers a failure instead of a note.
set -uo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
PG_URL="${TEST_DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/test}"
REDIS="${TEST_REDIS_URL:-redis://127.0.0.1:6379/15}"
status=0

echo "== lint (ruff, mypy, import rules)"
$BIN/ruff check . || status=1
$BIN/mypy libs services || status=1
$BIN/lint-imports --no-cache || status=1

# The embedded-default run and the real-services run share nothing (temporary SQLite files
# and loopback ports chosen per test, against PostgreSQL and Redis), so they run side by
# side, each into its own log, printed in order once both have ended (PRISM_TEST_SERIAL=1:
# one after the other). The browser and fault tests run alone afterwards.
logs="$(mktemp -d)"
trap 'rm -rf "$logs"' EXIT

read -r pg_state redis_state < <($BIN/python scripts/probe_backends.py "$PG_URL" "$REDIS")
extra_env=()
[ "$pg_state" = "postgres=yes" ] && extra_env+=("DATABASE_URL=$PG_URL")
[ "$redis_state" = "redis=yes" ] && extra_env+=("REDIS_URL=$REDIS")

embedded() {
  env -u DATABASE_URL -u REDIS_URL $BIN/pytest -q -m "not browser and not faults"
}
real_services() {
  env "${extra_env[@]}" $BIN/pytest -q -m "backend and not faults"
}

if [ "${PRISM_TEST_SERIAL:-0}" = "1" ]; then
  embedded >"$logs/embedded" 2>&1; embedded_rc=$?
  if [ ${#extra_env[@]} -gt 0 ]; then real_services >"$logs/real" 2>&1; real_rc=$?; fi
else
  embedded >"$logs/embedded" 2>&1 &
  embedded_pid=$!
  if [ ${#extra_env[@]} -gt 0 ]; then real_services >"$logs/real" 2>&1; real_rc=$?; fi
  wait "$embedded_pid"; embedded_rc=$?
fi

echo "== tests on the embedded default: SQLite + in-process broker"
cat "$logs/embedded"
[ "$embedded_rc" -eq 0 ] || status=1
covered="SQLite + in-process broker"
if [ ${#extra_env[@]} -gt 0 ]; then
  names="$(printf '%s\n' "${extra_env[@]}" | cut -d= -f1 | tr '\n' ' ')"
  echo "== backend tests again on the real services ($names)"
  cat "$logs/real"
  [ "$real_rc" -eq 0 ] || status=1
  [ "$pg_state" = "postgres=yes" ] && covered="$covered; PostgreSQL"
  [ "$redis_state" = "redis=yes" ] && covered="$covered; Redis"
fi

echo "== browser tests: headless Chromium against \`prism dev\`, no internet"
if ! command -v chromium >/dev/null 2>&1 && [ "${PRISM_REQUIRE_BROWSER:-0}" != "1" ]; then
  echo "note: Chromium is missing (apt-get install -y chromium): the browser tests are skipped"
fi
env -u DATABASE_URL -u REDIS_URL PRISM_REQUIRE_BROWSER="${PRISM_REQUIRE_BROWSER:-0}" \
  $BIN/pytest -q -m browser || status=1
if [ "$pg_state" = "postgres=yes" ] && [ "$redis_state" = "redis=yes" ]; then
  echo "== fault tests: the production processes killed and restarted (PostgreSQL, redis-server)"
  # They start a redis-server of their own, so that restarting it disturbs nobody.
  env DATABASE_URL="$PG_URL" PRISM_REQUIRE_SERVICES="${PRISM_REQUIRE_SERVICES:-0}" \
    $BIN/pytest -q -m faults || status=1
  covered="$covered; crashes and restarts"
fi
if [ "$pg_state" != "postgres=yes" ] || [ "$redis_state" != "redis=yes" ]; then
  msg="not covered: $pg_state $redis_state (servers: $PG_URL, $REDIS)"
  if [ "${PRISM_REQUIRE_SERVICES:-0}" = "1" ]; then
    echo "ERROR: PostgreSQL and Redis are required here; $msg" >&2
    status=1
  else
    echo "note: $msg"
  fi
fi

echo "== backends covered: $covered"
exit $status
