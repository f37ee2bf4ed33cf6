#!/usr/bin/env bash
# Failover latency benchmark: builds with the repo's TypeScript, then runs the compiled benchmark,
# which starts georoute (node dist/src/main.js) as a separate process on 127.0.0.1 with a fresh
# embedded database under bench/out/failover-<pid>, and measures the time from the deciding
# health observation (accepted webhook, failed probe) to the first changed DNS answer.
# Prints a Markdown section for bench/RESULTS.md on stdout (progress on stderr); raw samples go
# to bench/out/failover-results.json.
# Usage: bench/failover.sh [--webhook-trials 200] [--probe-trials 60] [--poll-gap-ms 0]
# FAILOVER_NODE_ARGS adds node options for the georoute process (e.g. --cpu-prof).
set -euo pipefail
cd "$(dirname "$0")/.."

SCRATCH="$PWD/bench/out/failover-$$"
export FAILOVER_SCRATCH="$SCRATCH"

cleanup() {
  # The benchmark stops georoute itself; this covers a benchmark that died without doing so.
  local pidfile="$SCRATCH/georoute.pid" pid kids
  if [[ -f "$pidfile" ]]; then
    pid=$(cat "$pidfile")
    if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null && grep -qa 'dist/src/main.js' "/proc/$pid/cmdline" 2>/dev/null; then
      kids=$(pgrep -P "$pid" || true)   # its embedded database server
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -KILL "$pid" 2>/dev/null || true
      for k in $kids; do kill -KILL "$k" 2>/dev/null || true; done
    fi
  fi
  rm -rf "$SCRATCH"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if ! npx tsc -p tsconfig.build.json >&2; then
  # A type error elsewhere in the project must not block this benchmark: build only the server and
  # the benchmark (same compiler options) into the same place.
  echo "failover.sh: project build failed; building src/main.ts and bench/failover.bench.ts only" >&2
  npx tsc --outDir dist --rootDir . --module commonjs --target ES2022 --strict --skipLibCheck \
    --esModuleInterop --resolveJsonModule --sourceMap --experimentalDecorators --emitDecoratorMetadata \
    --types node src/main.ts src/database/pglite-server.ts bench/failover.bench.ts >&2
fi
node dist/bench/failover.bench.js "$@"
