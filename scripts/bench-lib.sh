# shellcheck shell=bash
# What scripts/bench and scripts/soak share (moved out of scripts/bench unchanged): a private
# work folder for the run, helpers that start and stop processes in it, a throwaway
# PostgreSQL, and the clean-up at exit (every process started with bench_start stopped, the
# PostgreSQL stopped, the folder removed unless BENCH_KEEP=1).
#
# Source it from the repository root after scripts/lib.sh, at the top level (not in a
# function). It sets and exports BENCH_BIN (Benchmarks/.build/release), XCERT_BIN
# (.build/release), BENCH_TOOL (Benchmarks/tools/bench.py) and BENCH_WORK (a new folder,
# /tmp/${BENCH_WORK_PREFIX:-xcert-bench}.XXXXXX), and BENCH_ROOT and BENCH_DIR, and installs
# the EXIT, INT and TERM traps.
#
# Helpers: bench_start, bench_pid, bench_wait_listening, bench_wait_port, bench_stop,
# bench_peak_rss_mib, bench_free_port, bench_pg, bench_stop_all.

BENCH_ROOT=$PWD
BENCH_DIR=$BENCH_ROOT/Benchmarks
export BENCH_BIN=$BENCH_DIR/.build/release
export XCERT_BIN=$BENCH_ROOT/.build/release
export BENCH_TOOL=$BENCH_DIR/tools/bench.py
BENCH_WORK=$(mktemp -d "/tmp/${BENCH_WORK_PREFIX:-xcert-bench}.XXXXXX")
chmod 755 "$BENCH_WORK"
export BENCH_WORK

declare -A BENCH_PIDS=()

# bench_start NAME COMMAND...: runs COMMAND in the background, its output in
# $BENCH_WORK/NAME.out and NAME.err; stopped at exit if still running.
bench_start() {
    local name=$1
    shift
    "$@" >"$BENCH_WORK/$name.out" 2>"$BENCH_WORK/$name.err" &
    BENCH_PIDS[$name]=$!
    echo "$!" >>"$BENCH_WORK/pids"
}

bench_pid() { echo "${BENCH_PIDS[$1]:?no process named $1}"; }

# bench_wait_listening NAME [SECONDS]: waits for `LISTENING <port>` on NAME's output; prints the port.
bench_wait_listening() {
    local name=$1 limit=${2:-30} waited=0 port
    while :; do
        port=$(awk '$1 == "LISTENING" { print $2; exit }' "$BENCH_WORK/$name.out" 2>/dev/null || true)
        if [ -n "$port" ]; then echo "$port"; return 0; fi
        kill -0 "${BENCH_PIDS[$name]}" 2>/dev/null || { tail -20 "$BENCH_WORK/$name.err" >&2; die "$name exited before listening"; }
        [ "$waited" -lt $((limit * 10)) ] || die "$name did not listen within $limit s"
        sleep 0.1
        waited=$((waited + 1))
    done
}

# bench_wait_port PORT [SECONDS]: waits until 127.0.0.1:PORT accepts connections.
bench_wait_port() {
    local port=$1 limit=${2:-60} waited=0
    until (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
        [ "$waited" -lt $((limit * 10)) ] || die "nothing listens on 127.0.0.1:$port after $limit s"
        sleep 0.1
        waited=$((waited + 1))
    done
}

# bench_stop NAME: SIGTERM, then SIGKILL after 15 s.
bench_stop() {
    local name=$1 pid waited=0
    pid=${BENCH_PIDS[$name]:-}
    [ -n "$pid" ] || return 0
    kill -TERM "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null; do
        if [ "$waited" -ge 150 ]; then kill -KILL "$pid" 2>/dev/null || true; break; fi
        sleep 0.1
        waited=$((waited + 1))
    done
    wait "$pid" 2>/dev/null || true
    unset "BENCH_PIDS[$name]"
}

# bench_peak_rss_mib PID: the process's peak resident set (VmHWM), MiB.
bench_peak_rss_mib() {
    awk '/^VmHWM:/ { printf "%.1f\n", $2 / 1024 }' "/proc/$1/status"
}

bench_free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# bench_pg: a throwaway PostgreSQL 15 cluster for this run, started on the first call (by
# any scenario) and stopped and removed at exit. Exports BENCH_PGHOST, BENCH_PGPORT,
# BENCH_PGUSER (superuser xcert_owner), BENCH_PGPASSWORD and BENCH_PG_DIR.
bench_pg() {
    if [ ! -f "$BENCH_WORK/pg.env" ]; then
        ensure_packages
        local dir=$BENCH_WORK/pg port password
        mkdir -p "$dir"
        port=$(bench_free_port)
        password=$(random_secret)
        log "starting a throwaway PostgreSQL on 127.0.0.1:$port"
        pg_init "$dir" "$port" "$password" 400
        echo "$dir" >"$BENCH_WORK/pg.dir"
        pg_start "$dir"
        printf 'BENCH_PG_DIR=%q\nBENCH_PGPORT=%q\nBENCH_PGPASSWORD=%q\n' "$dir" "$port" "$password" >"$BENCH_WORK/pg.env"
    fi
    # shellcheck source=/dev/null
    source "$BENCH_WORK/pg.env"
    export BENCH_PG_DIR BENCH_PGPORT BENCH_PGPASSWORD
    export BENCH_PGHOST=127.0.0.1 BENCH_PGUSER=xcert_owner
}

# Stops every process bench_start started that still runs.
bench_stop_all() {
    local pid
    [ -f "$BENCH_WORK/pids" ] || return 0
    while read -r pid; do
        kill -TERM "$pid" 2>/dev/null || true
    done <"$BENCH_WORK/pids"
    sleep 0.5
    while read -r pid; do
        kill -KILL "$pid" 2>/dev/null || true
    done <"$BENCH_WORK/pids"
    : >"$BENCH_WORK/pids"
}

cleanup() {
    local status=$?
    bench_stop_all
    [ ! -f "$BENCH_WORK/pg.dir" ] || pg_stop "$(cat "$BENCH_WORK/pg.dir")"
    if [ "${BENCH_KEEP:-0}" = 1 ]; then
        log "kept the work folder $BENCH_WORK"
    else
        rm -rf "$BENCH_WORK"
    fi
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
