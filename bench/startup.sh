#!/usr/bin/env bash
# Build and start-up times, the way an operator meets them: `npm run build` on an empty dist/
# (cold) and with nothing changed (warm), and `npm start` until /readyz answers 200, first on a
# fresh clone (no dist/, no data) and then again with both in place (second start).
#
# Usage: bench/startup.sh [--runs N] [--label TEXT] [--no-write]
#   --runs N     repetitions of each measurement (default 3; the median is reported)
#   --label TEXT names the run in the RESULTS.md heading (e.g. "before the upgrade")
#   --no-write   print the section instead of appending it to bench/RESULTS.md
#
# It measures whatever package.json's `build`, `prestart` and `start` scripts do, so the same
# script compares two dependency sets or two compilers. It removes dist/ (and bench/out/startup):
# run it on a checkout whose dist/ you do not need. Each timed step waits for a quiet machine
# first (bench/lib/common.sh wait_quiet) and records what other processes took meanwhile.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
# shellcheck source=lib/common.sh
source bench/lib/common.sh

RUNS=3
LABEL=""
WRITE=1
while [ $# -gt 0 ]; do
  case $1 in
    --runs) RUNS=$2; shift 2 ;;
    --label) LABEL=$2; shift 2 ;;
    --no-write) WRITE=0; shift ;;
    *) die "unknown argument $1" ;;
  esac
done

OUT=bench/out/startup
rm -rf "$OUT"
mkdir -p "$OUT"

# The npm start process group, so that npm, its shell, node and the embedded database stop together.
APP_PGID=""
stop_app() {
  [ -n "$APP_PGID" ] || return 0
  kill -TERM -- "-$APP_PGID" 2>/dev/null || true
  local i
  for i in $(seq 1 150); do
    kill -0 -- "-$APP_PGID" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL -- "-$APP_PGID" 2>/dev/null || true
  APP_PGID=""
}
trap 'stop_app' EXIT
trap 'log "interrupted"; exit 130' INT TERM

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.2f", b - a}'; }

# others_since B0 T0 SELF_S : cores that processes other than the measured ones used since B0/T0,
# given SELF_S seconds of CPU taken by the measured ones.
others_since() {
  awk -v b0="$1" -v b1="$(busy_ticks)" -v t0="$2" -v t1="$(now)" -v self="$3" -v hz="$CLK_TCK" \
    'BEGIN{o = ((b1 - b0) / hz - self) / (t1 - t0); if (o < 0) o = 0; printf "%.2f", o}'
}

free_port() {
  node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

# timed_build NAME : one `npm run build`; prints "seconds others_cpu cpu_seconds" (cpu_seconds: user +
# system time of the build's processes, which moves much less with the machine's load than the wall time).
timed_build() {
  local b0 t0 t1 c0 cpu
  wait_quiet
  children_cpu
  c0=$CHILDREN_CPU_S
  b0=$(busy_ticks)
  t0=$(now)
  npm run --silent build >"$OUT/$1.log" 2>&1 || {
    cat "$OUT/$1.log" >&2
    die "build failed"
  }
  t1=$(now)
  children_cpu
  cpu=$(awk -v a="$c0" -v b="$CHILDREN_CPU_S" 'BEGIN{printf "%.2f", b - a}')
  echo "$(elapsed "$t0" "$t1") $(others_since "$b0" "$t0" "$cpu") $cpu"
}

# timed_start NAME DATA_DIR : `npm start` until /readyz is 200 (max 120 s); prints "seconds others_cpu".
# The start's own CPU is not separated out here: others_cpu counts every process but npm start's
# group only approximately (the machine's busy time minus the wall time the start had).
timed_start() {
  local name=$1 data=$2 http dns b0 t0 t1 pid code
  http=$(free_port)
  dns=$(free_port)
  trap 'stop_app' EXIT # this runs in a $(...) subshell, which does not inherit the trap
  wait_quiet
  b0=$(busy_ticks)
  t0=$(now)
  setsid env HTTP_PORT="$http" DNS_PORT="$dns" DATA_DIR="$data" LOG_LEVEL=warn npm start >"$OUT/$name.log" 2>&1 &
  pid=$!
  APP_PGID=$pid
  while :; do
    code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$http/readyz" || true)
    [ "$code" = 200 ] && break
    kill -0 "$pid" 2>/dev/null || {
      cat "$OUT/$name.log" >&2
      die "npm start exited before it was ready"
    }
    [ "$(elapsed "$t0" "$(now)" | cut -d. -f1)" -ge 120 ] && die "not ready after 120 s (see $OUT/$name.log)"
    sleep 0.05
  done
  t1=$(now)
  # The demo answer, so a start that is "ready" but answers nothing is not counted.
  dig @127.0.0.1 -p "$dns" +short +time=2 +tries=1 app.example.com +subnet=81.2.69.0/24 | grep -q '^198\.51\.100\.10$' ||
    die "ready, but DNS did not give the demo answer"
  # Busy time of the whole machine over the wall time, minus at most the two cores' worth npm start
  # could use: a rough "was anything else running" figure.
  local busy
  busy=$(awk -v b0="$b0" -v b1="$(busy_ticks)" -v t0="$t0" -v t1="$t1" -v hz="$CLK_TCK" 'BEGIN{printf "%.2f", (b1 - b0) / hz / (t1 - t0)}')
  stop_app
  echo "$(elapsed "$t0" "$t1") $busy -"
}

# The version of the compiler the build script runs (node_modules/<package>/bin/tsc, else typescript).
tsc_version() {
  node -e 'const m=/node_modules\/([^ ]+)\/bin\/tsc/.exec(require("./package.json").scripts.build||"");const p=m?m[1]:"typescript";try{console.log(require(`${p}/package.json`).version+(p==="typescript"?"":` (package ${p})`))}catch{console.log("?")}'
}

declare -A SECS OTHERS CPU
measure() {
  local key=$1 i r s=() o=() c=() f
  shift
  for i in $(seq 1 "$RUNS"); do
    r=$("$@" "$key-$i")
    log "$key run $i: $r"
    read -r -a f <<<"$r"
    s+=("${f[0]}")
    o+=("${f[1]}")
    c+=("${f[2]}")
  done
  SECS[$key]="$(median "${s[@]}") (runs: ${s[*]})"
  OTHERS[$key]="$(median "${o[@]}")"
  if [ "${c[0]}" = - ]; then CPU[$key]="-"; else CPU[$key]="$(median "${c[@]}")"; fi
}

cold_build() {
  rm -rf dist
  timed_build "$1"
}
warm_build() { timed_build "$1"; }
first_start() {
  rm -rf dist "$OUT/data-$1"
  timed_start "$1" "$ROOT/$OUT/data-$1"
}
second_start() {
  # dist/ is current and the data directory exists from the previous run.
  rm -rf "$OUT/data-second"
  [ -d "$OUT/data-first-1" ] && cp -a "$OUT/data-first-1" "$OUT/data-second"
  timed_start "$1" "$ROOT/$OUT/data-second"
}

log "cold builds"
measure cold cold_build
log "warm builds (nothing changed)"
measure warm warm_build
log "first starts (no dist/, no data)"
measure first first_start
log "second starts (dist/ current, data in place)"
measure second second_start

machine="$(nproc) CPUs ($(awk -F': ' '/^model name/{print $2; exit}' /proc/cpuinfo)), $(awk '/^MemTotal:/{printf "%.1f GiB", $2 / 1048576}' /proc/meminfo) RAM, $(uname -sr), node $(node --version), npm $(npm --version)"
section=$(
  cat <<EOF

## bench/startup.sh — $(date -u '+%Y-%m-%d %H:%M') UTC${LABEL:+ ($LABEL)}

- Machine: $machine
- Commit: $(commit_line "$ROOT"); command: \`bench/startup.sh --runs $RUNS${LABEL:+ --label '$LABEL'}\`
- Compiler: \`npm run build\` = \`$(node -p 'require("./package.json").scripts.build')\`, TypeScript $(tsc_version); \`prestart\` = \`$(node -p 'require("./package.json").scripts.prestart || ""')\`
- Start: \`npm start\` with a fresh DATA_DIR and the demo configuration, timed from the command to \`/readyz\` 200 (then a \`dig\` checks the demo answer); medians of $RUNS runs.

| step | seconds (median) | CPU seconds (median) | busy cores on the machine meanwhile (median) |
|---|---|---|---|
| \`npm run build\`, empty dist/ (cold) | ${SECS[cold]} | ${CPU[cold]} | ${OTHERS[cold]} (other processes) |
| \`npm run build\`, nothing changed (warm) | ${SECS[warm]} | ${CPU[warm]} | ${OTHERS[warm]} (other processes) |
| first start: \`npm start\` on a fresh clone (no dist/, no data) to ready | ${SECS[first]} | ${CPU[first]} | ${OTHERS[first]} (all processes) |
| second start: \`npm start\`, dist/ current, data in place, to ready | ${SECS[second]} | ${CPU[second]} | ${OTHERS[second]} (all processes) |
EOF
)
if [ "$WRITE" = 1 ]; then
  printf '%s\n' "$section" >>bench/RESULTS.md
  log "appended to bench/RESULTS.md"
fi
printf '%s\n' "$section"
