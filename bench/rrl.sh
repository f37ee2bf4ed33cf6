#!/usr/bin/env bash
# Response rate limiting (UDP, per client /24 or /56 and response): what it costs on the hot path
# and what it does to a flood, with its defaults (RRL_RESPONSES_PER_SECOND=100, slip 2).
#
#   bench/rrl.sh [--duration 10] [--runs 3] [--no-results]
#
# 1. apt-get install dnsperf when missing; compile georoute into bench/out/rrl/build; start two
#    georoutes (demo configuration, bundled database): "on" with the defaults and no exemption
#    (the load comes from 127.0.0.1, so it is limited like any client), "off" with
#    RRL_RESPONSES_PER_SECOND=0.
# 2. Cost: ECS queries spread over 2,048 /24s x {app,cdn} x {A,AAAA} (every response distinct, so
#    each bucket sees ~qps/8,192 a second, far under the limit): --runs alternating runs on "on"
#    and "off"; "on" must limit nothing (its rate-limited counters stay 0).
# 3. Flood: bench/lib/udp-client.mjs sends one question (app.example.com A, no EDNS) to "on" from
#    127.0.0.1 at FLOOD_RATE (default 20,000) a second for --duration s, while a well-behaved
#    resolver on another /24 (127.0.1.2, the same client) asks 50 questions a second for different
#    client subnets. Reported: the flood's full answers per second (should be ~100), truncated
#    (slipped) and unanswered ones, and the resolver's answers.
# Everything is stopped by PID on exit; figures are appended to bench/RESULTS.md.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=lib/common.sh
source "$REPO/bench/lib/common.sh"

DURATION=10
RUNS=3
WRITE_RESULTS=1
COMMAND="bench/rrl.sh $*"
while [ $# -gt 0 ]; do
  case $1 in
    --duration) DURATION=$2; shift 2 ;;
    --runs) RUNS=$2; shift 2 ;;
    --no-results) WRITE_RESULTS=0; shift ;;
    *) die "unknown option $1 (see the header of $0)" ;;
  esac
done
LOAD="-c 1 -q 100"
FLOOD_RATE=${FLOOD_RATE:-20000}

OUT=$REPO/bench/out/rrl
install_traps
rm -rf "$OUT"
mkdir -p "$OUT"

need_apt dnsperf dnsperf
build_georoute "$REPO" "$OUT/build"
# RRL_EXEMPT= (empty) overrides the loopback exemption start_georoute gives the other benchmarks.
start_georoute "$OUT/build" "$OUT/on" RRL_EXEMPT=
ON_PID=$GR_PID ON_DNS=$GR_DNS ON_HTTP=$GR_HTTP
start_georoute "$OUT/build" "$OUT/off" RRL_RESPONSES_PER_SECOND=0
OFF_PID=$GR_PID OFF_DNS=$GR_DNS

limited() { # HTTP -> "slipped dropped"
  curl -sf "$1/metrics" | awk '/^georoute_dns_rate_limited_total\{action="slip"\}/{s=$2} /^georoute_dns_rate_limited_total\{action="drop"\}/{d=$2} END{printf "%d %d\n", s, d}'
}

node "$REPO/bench/lib/pick-subnets.mjs" --continents NA,EU,AS,SA --per-continent 512 >"$OUT/subnets.tsv"
node "$REPO/bench/lib/make-queries.mjs" --out "$OUT/spread.bin" --subnets "$OUT/subnets.tsv" \
  --queries app.example.com:A,cdn.example.com:A,app.example.com:AAAA,cdn.example.com:AAAA >/dev/null

for p in "$ON_DNS" "$OFF_DNS"; do dnsperf -B -d "$OUT/spread.bin" -s 127.0.0.1 -p "$p" -l 3 $LOAD >/dev/null 2>&1; done

# ---- 2. cost on the hot path -----------------------------------------------------------------
for i in $(seq 1 "$RUNS"); do
  for side in on off; do
    pid_var="${side^^}_PID" dns_var="${side^^}_DNS"
    wait_quiet
    # shellcheck disable=SC2086
    run_dnsperf "$OUT/spread-$side-$i.out" "${!pid_var}" -B -d "$OUT/spread.bin" -s 127.0.0.1 -p "${!dns_var}" -l "$DURATION" $LOAD >/dev/null
    log "spread-$side-$i: $(cat "$OUT/spread-$side-$i.out.stats")"
  done
done
SPREAD_LIMITED=$(limited "$ON_HTTP")
log "rate-limited responses during the spread runs (slipped dropped): $SPREAD_LIMITED"

# ---- 3. flood beside a well-behaved resolver -------------------------------------------------
wait_quiet
before=$(limited "$ON_HTTP")
node "$REPO/bench/lib/udp-client.mjs" --port "$ON_DNS" --local 127.0.1.2 --rate 50 --seconds "$DURATION" >"$OUT/steady.json" &
STEADY=$!
BENCH_PIDS+=("$STEADY")
node "$REPO/bench/lib/udp-client.mjs" --port "$ON_DNS" --local 127.0.0.1 --rate "$FLOOD_RATE" --seconds "$DURATION" --ecs none >"$OUT/flood.json"
wait "$STEADY"
after=$(limited "$ON_HTTP")
FLOOD_SLIPPED=$(($(echo "$after" | cut -d' ' -f1) - $(echo "$before" | cut -d' ' -f1)))
FLOOD_DROPPED=$(($(echo "$after" | cut -d' ' -f2) - $(echo "$before" | cut -d' ' -f2)))
log "flood from 127.0.0.1: $(cat "$OUT/flood.json"); server: $FLOOD_SLIPPED slipped, $FLOOD_DROPPED dropped; resolver on 127.0.1.0/24: $(cat "$OUT/steady.json")"

# ---- results ---------------------------------------------------------------------------------
values() { local k=$1 f; shift; for f in "$@"; do stat_of "$f" "$k"; done; }
files_of() { local side=$1 i; for i in $(seq 1 "$RUNS"); do echo "$OUT/spread-$side-$i.out.stats"; done; }
ON_QPS=$(median $(values qps $(files_of on)))
OFF_QPS=$(median $(values qps $(files_of off)))
json_of() { node -e 'const o = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")); console.log(o[process.argv[2]])' "$1" "$2"; }
REPORT=$OUT/report.md
{
  echo
  echo "## bench/rrl.sh — $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo
  echo "- Machine: $(machine_line)"
  echo "- Commit: $(commit_line "$REPO"); command: \`$COMMAND\`; georoute demo configuration, bundled database, rate limiting defaults (100 identical answers/s per /24, errors 100/s, slip 2), no exemption; dnsperf $LOAD, ${DURATION} s runs."
  echo
  echo "| case | queries/s (median) | runs |"
  echo "|---|---|---|"
  echo "| rate limiting on, ECS spread (nothing over the limit) | $ON_QPS | $(values qps $(files_of on) | paste -sd/) |"
  echo "| rate limiting off | $OFF_QPS | $(values qps $(files_of off) | paste -sd/) |"
  echo
  echo "- Cost of the check on the hot path: on/off = $(awk -v a="$ON_QPS" -v b="$OFF_QPS" 'BEGIN{printf "%.3f", a / b}'); responses limited during the spread runs (slipped, dropped): $SPREAD_LIMITED."
  echo "- Flood of one question (no EDNS) from 127.0.0.1 at $FLOOD_RATE a second for ${DURATION} s (bench/lib/udp-client.mjs): sent $(json_of "$OUT/flood.json" sent); full answers $(json_of "$OUT/flood.json" answered) ($(json_of "$OUT/flood.json" answeredPerSecond) a second: the bucket holds 100 and refills 100/s), truncated $(json_of "$OUT/flood.json" truncated), no reply $(json_of "$OUT/flood.json" lost); the server counted $FLOOD_SLIPPED slipped and $FLOOD_DROPPED dropped."
  echo "- Meanwhile a resolver on 127.0.1.0/24 asking 50 questions a second for different client subnets: $(cat "$OUT/steady.json") (nothing truncated or lost: another /24 is not limited by the flood)."
} >"$REPORT"
cat "$REPORT" >&2
if [ "$WRITE_RESULTS" -eq 1 ]; then
  cat "$REPORT" >>"$REPO/bench/RESULTS.md"
  log "appended to bench/RESULTS.md"
fi
