# Shared by bench/dns.sh and bench/compare.sh (sourced, not run). Bash, set -euo pipefail in the
# caller. Provides: logging, a process runner that stops what it started by PID on exit,
# tool installation through apt, georoute start-up, dnsperf runs with CPU accounting, latency
# percentiles, medians and machine facts.

BENCH_PIDS=()

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() {
  log "error: $*"
  exit 1
}

# ---- processes -------------------------------------------------------------------------------

# start_bg LOGFILE CMD... : runs CMD in the background (no subshell: $! is CMD itself), remembers
# its PID for the exit trap and sets BG_PID. Call it directly, never inside $(...): the PID must
# be recorded in this shell.
start_bg() {
  local logfile=$1
  shift
  "$@" >"$logfile" 2>&1 &
  BG_PID=$!
  BENCH_PIDS+=("$BG_PID")
}

# stop_pid PID : SIGTERM, up to 15 s to exit, then SIGKILL. Only PIDs this script started.
stop_pid() {
  local pid=$1 i
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 1 150); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  log "pid $pid did not stop on SIGTERM; SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
}

# Stops every process started with start_bg, newest first. Installed as the EXIT trap.
stop_all() {
  local i
  for ((i = ${#BENCH_PIDS[@]} - 1; i >= 0; i--)); do stop_pid "${BENCH_PIDS[i]}"; done
  BENCH_PIDS=()
}

install_traps() {
  trap stop_all EXIT
  trap 'log "interrupted"; exit 130' INT TERM
}

# ---- tools -----------------------------------------------------------------------------------

# need_apt COMMAND PACKAGE... : installs the packages with apt-get when COMMAND is missing.
need_apt() {
  local cmd=$1
  shift
  command -v "$cmd" >/dev/null 2>&1 && return 0
  [ -x "/usr/sbin/$cmd" ] && return 0
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  log "installing $* (apt) for $cmd"
  $sudo apt-get install -y "$@" >/dev/null 2>&1 || {
    $sudo apt-get update >/dev/null 2>&1
    $sudo apt-get install -y "$@" >/dev/null
  }
  command -v "$cmd" >/dev/null 2>&1 || [ -x "/usr/sbin/$cmd" ] || die "$cmd still missing after apt-get install $*"
}

# ---- georoute --------------------------------------------------------------------------------

# build_georoute REPO OUTDIR : compiles src/ with the project's tsconfig.build.json into OUTDIR
# (a private copy of dist/, so concurrent work in the checkout's dist/ is not disturbed).
build_georoute() {
  local repo=$1 out=$2
  log "building georoute (tsc -p tsconfig.build.json --outDir $out)"
  (cd "$repo" && npx --no-install tsc -p tsconfig.build.json --outDir "$out" --tsBuildInfoFile "$out/.tsbuildinfo") >&2 ||
    die "tsc failed"
  [ -f "$out/src/main.js" ] || die "no $out/src/main.js after the build"
  # The native UDP addon (DNS_UDP_IO=auto uses it when built; the line says why not otherwise).
  node "$repo/bin/build-native.js" >&2
}

# start_georoute BUILD_DIR WORK_DIR [ENV=VALUE...] : starts georoute with a fresh DATA_DIR under
# WORK_DIR, HTTP and DNS on free ports (port 0), and waits for its "ready" line. Sets GR_PID,
# GR_HTTP (base URL), GR_DNS (port), GR_TOKEN_FILE. Extra NODE_ARGS (e.g. --cpu-prof) are passed
# to node. georoute runs as one process (DNS_WORKERS=0) unless the arguments say otherwise: the
# scripts and the figures they recorded measure one process where they do not name DNS_WORKERS
# (its default, auto, adds a DNS worker on two CPUs or more).
start_georoute() {
  local build=$1 work=$2
  shift 2
  rm -rf "$work"
  mkdir -p "$work"
  # shellcheck disable=SC2086 # NODE_ARGS is a list of node options
  start_bg "$work/georoute.log" env DATA_DIR="$work/data" HTTP_PORT=0 DNS_PORT=0 LOG_LEVEL=info RRL_EXEMPT=127.0.0.0/8,::1 DNS_WORKERS=0 "$@" \
    node ${NODE_ARGS:-} "$build/src/main.js"
  GR_PID=$BG_PID
  local i line
  for i in $(seq 1 240); do
    line=$(grep -m1 'ready in' "$work/georoute.log" 2>/dev/null || true)
    [ -n "$line" ] && break
    kill -0 "$GR_PID" 2>/dev/null || {
      tail -20 "$work/georoute.log" >&2
      die "georoute exited during start-up"
    }
    sleep 0.5
  done
  [ -n "$line" ] || die "georoute not ready after 120 s (see $work/georoute.log)"
  GR_HTTP=$(echo "$line" | grep -o 'HTTP http://[0-9.:]*' | cut -d' ' -f2)
  GR_DNS=$(echo "$line" | grep -o 'DNS [0-9.]*:[0-9]*' | cut -d: -f2)
  GR_TOKEN_FILE="$work/data/admin-token"
  log "georoute pid $GR_PID: $GR_HTTP, DNS 127.0.0.1:$GR_DNS"
}

# ---- servers under test ----

# A port free for both UDP and TCP on 127.0.0.1.
free_port() {
  node -e '
    const net = require("net"), dgram = require("dgram");
    (function attempt(n) {
      if (n === 0) process.exit(1);
      const s = net.createServer().listen(0, "127.0.0.1", () => {
        const port = s.address().port;
        const u = dgram.createSocket("udp4");
        u.once("error", () => s.close(() => attempt(n - 1)));
        u.bind(port, "127.0.0.1", () => u.close(() => s.close(() => console.log(port))));
      });
    })(20);'
}

# wait_dns PORT PID NAME : until PORT answers app.example.test (60 s), the process still alive.
wait_dns() {
  local port=$1 pid=$2 name=$3 i
  for i in $(seq 1 120); do
    kill -0 "$pid" 2>/dev/null || die "$name exited during start-up (see its log under $OUT)"
    [ -n "$(dig +short +time=1 +tries=1 @127.0.0.1 -p "$port" app.example.test A 2>/dev/null)" ] && return 0
    sleep 0.5
  done
  die "$name does not answer on port $port"
}

# worker_pids MAIN_PID : MAIN_PID and its DNS worker processes, comma-separated (CPU and RSS of all).
worker_pids() {
  local list=$1 p
  for p in $(pgrep -P "$1" -f dns-worker.js || true); do list="$list,$p"; done
  echo "$list"
}

# ---- measuring -------------------------------------------------------------------------------

# CPU time (user + system, in clock ticks) of a process and its threads; several PIDs may be
# given as one comma-separated argument (their sum).
cpu_ticks() {
  local p t=0 v
  for p in ${1//,/ }; do
    v=$(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0)
    t=$((t + v))
  done
  echo "$t"
}
# All CPUs' busy ticks (everything but idle and iowait) from /proc/stat.
busy_ticks() { awk '/^cpu /{print $2 + $3 + $4 + $7 + $8 + $9}' /proc/stat; }
# Resident set (VmRSS, kB) of a process, or the sum over comma-separated PIDs.
rss_kb() {
  local p t=0 v
  for p in ${1//,/ }; do
    v=$(awk '/^VmRSS:/{print $2}' "/proc/$p/status" 2>/dev/null || echo 0)
    t=$((t + ${v:-0}))
  done
  echo "$t"
}
# CPU seconds (user + system) of this shell's waited-for children, from bash's `times`; run in
# the main shell (a command substitution would be a fresh child with no children of its own).
# Sets CHILDREN_CPU_S.
children_cpu() {
  local f
  f=$(mktemp)
  times >"$f"
  CHILDREN_CPU_S=$(tail -1 "$f" | awk '{
    n = 0
    for (i = 1; i <= 2; i++) { split($i, p, "m"); sub("s", "", p[2]); n += p[1] * 60 + p[2] }
    print n
  }')
  rm -f "$f"
}

CLK_TCK=$(getconf CLK_TCK)

# run_dnsperf OUTFILE SERVER_PID[,PID...] DNSPERF_ARGS... : runs dnsperf in the foreground of a polling
# loop and writes OUTFILE (dnsperf's output) and OUTFILE.stats, one line of key=value:
# qps sent completed lost avg_ms sd_ms server_cpu (cores, e.g. 0.95) dnsperf_cpu others_cpu
# rss_max_kb load1. server_cpu is the server's CPU time over the run divided by the wall time;
# others_cpu is what every other process on the machine took meanwhile.
run_dnsperf() {
  local out=$1 spid=$2
  shift 2
  local load1 c0 b0 t0 d0 rss=0 r
  load1=$(cut -d' ' -f1 /proc/loadavg)
  children_cpu
  d0=$CHILDREN_CPU_S
  c0=$(cpu_ticks "$spid")
  b0=$(busy_ticks)
  t0=$(date +%s.%N)
  dnsperf "$@" >"$out" 2>&1 &
  local dp=$!
  while kill -0 "$dp" 2>/dev/null; do
    r=$(rss_kb "$spid")
    [ "${r:-0}" -gt "$rss" ] && rss=$r
    sleep 0.5
  done
  wait "$dp" || {
    tail -5 "$out" >&2
    die "dnsperf failed (see $out)"
  }
  local c1 b1 t1 d1
  c1=$(cpu_ticks "$spid")
  b1=$(busy_ticks)
  t1=$(date +%s.%N)
  children_cpu
  d1=$CHILDREN_CPU_S
  awk -v out="$out" -v c0="$c0" -v c1="$c1" -v b0="$b0" -v b1="$b1" -v t0="$t0" -v t1="$t1" -v d0="$d0" -v d1="$d1" \
    -v hz="$CLK_TCK" -v rss="$rss" -v load1="$load1" '
    /Queries sent:/ { sent = $3 }
    /Queries completed:/ { completed = $3 }
    /Queries lost:/ { lost = $3 }
    /Queries per second:/ { qps = $4 }
    /Average Latency/ && !avg_seen { avg = $4 * 1000; avg_seen = 1 }  # not the TCP connection stats
    /Latency StdDev/ && !sd_seen { sd = $4 * 1000; sd_seen = 1 }
    END {
      wall = t1 - t0
      server = (c1 - c0) / hz / wall
      perf = (d1 - d0) / wall
      others = (b1 - b0) / hz / wall - server - perf
      if (others < 0) others = 0
      printf "qps=%.0f sent=%d completed=%d lost=%d avg_ms=%.3f sd_ms=%.3f server_cpu=%.2f dnsperf_cpu=%.2f others_cpu=%.2f rss_max_kb=%d load1=%s\n", \
        qps, sent, completed, lost, avg, sd, server, perf, others, rss, load1
    }' "$out" >"$out.stats"
  cat "$out.stats"
}

# wait_quiet : waits (at most QUIET_WAIT seconds, default 20) until the CPU busy on the whole
# machine, sampled over 2 s, is under QUIET_CPU cores (default 0.5), so that a run does not start
# in the middle of someone else's build or test run. Measures anyway after the wait; every run
# records what other processes took (others_cpu) either way.
wait_quiet() {
  local max=${QUIET_WAIT:-20} limit=${QUIET_CPU:-0.5} waited=0 b0 b1 busy
  while :; do
    b0=$(busy_ticks)
    sleep 2
    b1=$(busy_ticks)
    busy=$(awk -v a="$b0" -v b="$b1" -v hz="$CLK_TCK" 'BEGIN{printf "%.2f", (b - a) / hz / 2}')
    awk -v x="$busy" -v l="$limit" 'BEGIN{exit !(x < l)}' && return 0
    waited=$((waited + 2))
    if [ "$waited" -ge "$max" ]; then
      log "machine busy ($busy cores in use before the run); measuring anyway"
      return 0
    fi
  done
}

# stat_of FILE.stats KEY : one value from a run_dnsperf stats line.
stat_of() { tr ' ' '\n' <"$1" | awk -F= -v k="$2" '$1 == k {print $2}'; }

# round_ratios RUNS A B SUFFIX KEY : for each round i, KEY of $A-$i$SUFFIX over KEY of $B-$i$SUFFIX
# (stat files of one round are close in time; the machine's speed drifts between rounds), three
# decimals, space-separated. The median of them is the comparison the benchmarks report.
round_ratios() {
  local runs=$1 a=$2 b=$3 suffix=$4 key=$5 v=() i
  for i in $(seq 1 "$runs"); do
    v+=("$(awk -v x="$(stat_of "$a-$i$suffix" "$key")" -v y="$(stat_of "$b-$i$suffix" "$key")" 'BEGIN { printf "%.3f", x / y }')")
  done
  echo "${v[*]}"
}

# median N... : the median (mean of the middle two for an even count).
median() {
  printf '%s\n' "$@" | sort -g | awk '{a[NR] = $1} END {
    if (NR == 0) { print "nan"; exit }
    if (NR % 2) printf "%s\n", a[(NR + 1) / 2]; else printf "%.3f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

# latency_percentiles DNSPERF_V_OUTPUT : p50 p90 p99 p99.9 max (ms) and timeouts, from the
# per-query lines dnsperf -v prints ("> NOERROR ... 0.000123"; "T" for a timeout).
latency_percentiles() {
  awk '/^> / { if ($2 == "T") t++; else print $NF * 1000 }
       END { if (t > 0) printf "timeouts %d\n", t > "/dev/stderr" }' "$1" | sort -g | awk '
    { a[NR] = $1 }
    END {
      if (NR == 0) { print "p50=nan p90=nan p99=nan p999=nan max=nan n=0"; exit }
      printf "p50=%.3f p90=%.3f p99=%.3f p999=%.3f max=%.3f n=%d\n", \
        a[int(NR * 0.50) + 1], a[int(NR * 0.90) + 1], a[int(NR * 0.99) + 1], a[int(NR * 0.999) + 1], a[NR], NR
    }'
}

# ---- facts for RESULTS.md --------------------------------------------------------------------

machine_line() {
  local cpu mem
  cpu=$(awk -F': ' '/^model name/{print $2; exit}' /proc/cpuinfo)
  mem=$(awk '/^MemTotal:/{printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)
  echo "$(nproc) CPUs ($cpu), $mem RAM, $(uname -sr), node $(node --version), dnsperf $(dnsperf -h 2>&1 | awk '/^Version/{print $2}')"
}

commit_line() {
  local repo=$1 head dirty=""
  head=$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)
  [ -n "$(git -C "$repo" status --porcelain -- src 2>/dev/null)" ] && dirty=" + uncommitted changes in src/"
  echo "$head$dirty"
}
