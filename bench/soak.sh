#!/usr/bin/env bash
# Soak: georoute as a real process under dnsperf at half of the maximum measured first, for
# SOAK_SECONDS (default 300), with health flapping through signed webhooks and API writes every
# second. Builds with the repo's TypeScript, then runs dist/bench/soak.js. Needs dnsperf
# (apt-get install dnsperf). Prints a Markdown section for bench/RESULTS.md; raw outputs (dnsperf,
# server log, RSS series) go to bench/out/soak-<time>/. Exit status 0 when every check passed.
# Environment: SOAK_SECONDS, SOAK_MAX_SECONDS (10), SOAK_RATE_FRACTION (0.5), SOAK_FLAP_SECONDS (3),
#              SOAK_WARMUP_SECONDS (min(60, 20 % of the soak)), SOAK_QUERIES (20000).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v dnsperf >/dev/null || { echo "soak.sh: dnsperf is not installed (apt-get install dnsperf)" >&2; exit 2; }

if ! npx tsc -p tsconfig.build.json; then
  # A type error elsewhere must not block the soak: tsc still emitted dist/ (noEmitOnError is off);
  # build this benchmark's own import graph as well, in case it was the one that failed.
  echo "soak.sh: the project build reported errors; building bench/soak.ts and its imports only" >&2
  npx tsc --outDir dist --rootDir . --module commonjs --target ES2022 --lib ES2022 --strict --skipLibCheck \
    --esModuleInterop --resolveJsonModule --experimentalDecorators --emitDecoratorMetadata --sourceMap --types node bench/soak.ts || true
fi
test -f dist/src/main.js && test -f dist/bench/soak.js || { echo "soak.sh: build failed" >&2; exit 2; }
echo "soak.sh: $(nproc) x $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(date -u +%Y-%m-%dT%H:%MZ), $(git rev-parse --short HEAD 2>/dev/null || echo '?'), SOAK_SECONDS=${SOAK_SECONDS:-300}" >&2
exec node dist/bench/soak.js
