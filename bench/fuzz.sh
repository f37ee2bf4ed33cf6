#!/usr/bin/env bash
# DNS fuzzing of georoute as a real process: builds the server (dist/src/main.js) with the
# project's tsc, compiles the harness test/fuzz/dns-fuzz.ts on its own (tsconfig.build.json leaves
# test/ out; the harness imports nothing from src/), then sends 1,000,000 mutated and random
# packets over UDP and TCP to 127.0.0.1. Embedded database under bench/out/. Prints a Markdown
# section for bench/RESULTS.md; the JSON report and the server log go to bench/out/.
# Exit status 0 when every check passed, 1 when one failed.
# Usage: bench/fuzz.sh [--packets 1000000] [--seconds 600] [--seed 1] [--udp-workers 32]
#                      [--tcp-workers 16] [--tcp-share 0.2] [--port P (fuzz a running server)]
set -euo pipefail
cd "$(dirname "$0")/.."

if ! npx tsc -p tsconfig.build.json; then
  # A type error elsewhere must not block the fuzzer: tsc still emits dist/ (noEmitOnError is off).
  echo "fuzz.sh: the project build reported errors; continuing with the emitted dist/" >&2
fi
test -f dist/src/main.js || { echo "fuzz.sh: dist/src/main.js was not built" >&2; exit 2; }
npx tsc --outDir dist --rootDir . --module commonjs --target ES2022 --lib ES2022 --strict --skipLibCheck \
  --esModuleInterop --sourceMap --types node test/fuzz/dns-fuzz.ts
mkdir -p bench/out
echo "fuzz.sh: $(nproc) x $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(date -u +%Y-%m-%dT%H:%MZ), $(git rev-parse --short HEAD 2>/dev/null || echo '?')" >&2
exec node dist/test/fuzz/dns-fuzz.js "$@"
