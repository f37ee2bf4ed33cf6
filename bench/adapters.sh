#!/usr/bin/env bash
# The options of issue 22 measured without georoute's own code (bench/lib/nest-adapters.cjs):
# the same minimal Nest application (global guard, global interceptor, body parser; GET /healthz
# and GET /r/* answering a fixed 307) on the Express adapter (georoute's), on the Fastify adapter,
# and with a lean node:http handler in front of Express (src/redirect/fast-path.ts's approach).
#
#   bench/adapters.sh [--duration 5] [--runs 2] [--no-results]
#
# @nestjs/platform-fastify is not a georoute dependency: the script installs @nestjs/core,
# common, platform-express and platform-fastify (the major georoute uses) into
# bench/out/adapters with npm and runs the application from there. wrk -t2 -c50, the variants
# taking turns; medians go to bench/RESULTS.md.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=lib/common.sh
source "$REPO/bench/lib/common.sh"

DURATION=5
RUNS=2
WRITE_RESULTS=1
COMMAND="bench/adapters.sh $*"
while [ $# -gt 0 ]; do
  case $1 in
    --duration) DURATION=$2; shift 2 ;;
    --runs) RUNS=$2; shift 2 ;;
    --no-results) WRITE_RESULTS=0; shift ;;
    *) die "unknown option $1 (see the header of $0)" ;;
  esac
done
OUT=$REPO/bench/out/adapters
install_traps
mkdir -p "$OUT"
need_apt wrk wrk
MAJOR=$(cd "$REPO" && node -p "require('@nestjs/core/package.json').version.split('.')[0]")
if [ ! -d "$OUT/node_modules/@nestjs/platform-fastify" ]; then
  log "installing @nestjs/*@$MAJOR with the Fastify adapter into $OUT (npm)"
  (cd "$OUT" && { [ -f package.json ] || npm init -y >/dev/null; } &&
    npm install --no-audit --no-fund "@nestjs/core@$MAJOR" "@nestjs/common@$MAJOR" "@nestjs/platform-express@$MAJOR" \
      "@nestjs/platform-fastify@$MAJOR" reflect-metadata rxjs >"$OUT/npm.log" 2>&1) || die "npm install failed (see $OUT/npm.log)"
fi
cp "$REPO/bench/lib/nest-adapters.cjs" "$OUT/"

declare -A RPS
for i in $(seq 1 "$RUNS"); do
  for kind in express fastify lean; do
    PORT=$(free_port)
    start_bg "$OUT/$kind.log" node "$OUT/nest-adapters.cjs" "$kind" "$PORT"
    pid=$BG_PID
    for _ in $(seq 1 40); do curl -s -o /dev/null "http://127.0.0.1:$PORT/healthz" && break; sleep 0.25; done
    wrk -t2 -c50 -d2s "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 # warm-up
    for route in r healthz; do
      path=/healthz
      [ "$route" = r ] && path=/r/www.web.test/login
      wrk -t2 -c50 -d "${DURATION}s" --latency "http://127.0.0.1:$PORT$path" >"$OUT/$kind-$route-$i.out" 2>&1
      r=$(awk '/Requests\/sec:/ { printf "%.0f", $2 }' "$OUT/$kind-$route-$i.out")
      RPS[$kind-$route]="${RPS[$kind-$route]:-} $r"
      log "$kind $path run $i: $r req/s (load1 $(cut -d' ' -f1 /proc/loadavg))"
    done
    stop_pid "$pid"
  done
done
# shellcheck disable=SC2086
med() { median ${RPS[$1]}; }
EX=$(med express-r)
SUMMARY="| Nest application (wrk -t2 -c50, ${DURATION} s, median of $RUNS) | GET /r/* (fixed 307) req/s | GET /healthz req/s | /r/ x Express |
|---|---|---|---|
| Express adapter (georoute's) | $EX | $(med express-healthz) | 1 |
| Fastify adapter | $(med fastify-r) | $(med fastify-healthz) | $(awk -v a="$(med fastify-r)" -v b="$EX" 'BEGIN { printf "%.1f", a / b }') |
| lean node:http handler in front of Express | $(med lean-r) | $(med lean-healthz) | $(awk -v a="$(med lean-r)" -v b="$EX" 'BEGIN { printf "%.1f", a / b }') |"
echo "$SUMMARY"
if [ "$WRITE_RESULTS" -eq 1 ]; then
  {
    echo
    echo "## bench/adapters.sh — $(date -u '+%Y-%m-%d %H:%M') UTC"
    echo
    echo "Machine: $(machine_line). Commit: $(commit_line "$REPO"). Command: \`$COMMAND\`. @nestjs/* $MAJOR from npm; load1 at the end $(cut -d' ' -f1 /proc/loadavg) (the machine is shared)."
    echo
    echo "$SUMMARY"
  } >>"$REPO/bench/RESULTS.md"
  log "appended to bench/RESULTS.md"
fi
