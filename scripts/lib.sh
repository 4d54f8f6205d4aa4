# Shared by scripts/up, scripts/down and scripts/test: installing what is missing, and an
# embedded PostgreSQL cluster in a folder of ours, run as the `postgres` system user
# (PostgreSQL refuses to run as root).
# shellcheck shell=bash

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}

log() { printf '\033[1m[xcert]\033[0m %s\n' "$*" >&2; }
die() { printf '\033[31m[xcert] %s\033[0m\n' "$*" >&2; exit 1; }

# apt-get install the Debian packages that are missing (PostgreSQL 15, tools the tests use).
ensure_packages() {
    local missing=()
    [ -x "$PG_BIN/initdb" ] || missing+=(postgresql-15)
    command -v psql >/dev/null || missing+=(postgresql-client-15)
    command -v runuser >/dev/null || missing+=(util-linux)
    command -v curl >/dev/null || missing+=(curl)
    for package in "$@"; do
        dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    [ "$(id -u)" -eq 0 ] || die "missing packages: ${missing[*]}; run as root or install them"
    log "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${missing[@]}" >/dev/null
    id postgres >/dev/null 2>&1 || die "the postgres system user is missing after installing postgresql-15"
}

command -v swift >/dev/null || die "swift is not on PATH (this machine kind ships it at /opt/swift)"

# Runs a PostgreSQL binary as the postgres user when we are root.
as_postgres() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

# pg_init DIR PORT PASSWORD [MAX_CONNECTIONS]: a new cluster in DIR/data, superuser
# xcert_owner with PASSWORD, password (scram) authentication on 127.0.0.1 only, socket in
# DIR/run, at most MAX_CONNECTIONS clients (default 400).
pg_init() {
    local dir=$1 port=$2 password=$3 max_connections=${4:-400}
    mkdir -p "$dir/run"
    local pwfile
    pwfile=$(mktemp)
    printf '%s\n' "$password" > "$pwfile"
    if [ "$(id -u)" -eq 0 ]; then chown postgres: "$dir" "$dir/run" "$pwfile"; fi
    as_postgres "$PG_BIN/initdb" -D "$dir/data" -U xcert_owner --pwfile="$pwfile" \
        --auth-local=scram-sha-256 --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >/dev/null
    rm -f "$pwfile"
    cat >> "$dir/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir/run'
max_connections = $max_connections
shared_buffers = 128MB
fsync = on
synchronous_commit = on
log_min_messages = warning
CONF
}

pg_start() {
    local dir=$1
    as_postgres "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 start >/dev/null \
        || { tail -20 "$dir/postgres.log" >&2; die "PostgreSQL did not start (log: $dir/postgres.log)"; }
}

pg_stop() {
    local dir=$1
    [ -f "$dir/data/postmaster.pid" ] || return 0
    as_postgres "$PG_BIN/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null 2>&1 || true
}

# pg_create_database PORT PASSWORD NAME
pg_create_database() {
    local port=$1 password=$2 name=$3
    PGPASSWORD=$password psql -h 127.0.0.1 -p "$port" -U xcert_owner -d postgres -v ON_ERROR_STOP=1 -qtA \
        -c "SELECT 1 FROM pg_database WHERE datname = '$name'" | grep -q 1 \
        || PGPASSWORD=$password psql -h 127.0.0.1 -p "$port" -U xcert_owner -d postgres -v ON_ERROR_STOP=1 -q \
            -c "CREATE DATABASE \"$name\""
}

# Makes SwiftPM plan the package in $1 (Benchmarks/, Fuzz/) anew. It does so by itself only
# when that package's own files change, not when a file is added to the main package it
# depends on by path (a new Shared/XCertWire/TLS.swift was left out of Benchmarks' build).
replan_package() { touch "$1/Package.swift"; }

random_secret() { head -c 24 /dev/urandom | base64 | tr -d '/+=' ; }

# pid_running FILE [PATTERN]: prints the pid that FILE holds if that process is alive (and
# its command line contains PATTERN); fails for a missing file or a stale pid.
pid_running() {
    local file=$1 pattern=${2:-} pid command
    [ -f "$file" ] || return 1
    pid=$(cat "$file" 2>/dev/null) || return 1
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    kill -0 "$pid" 2>/dev/null || return 1
    if [ -n "$pattern" ]; then
        command=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
        [[ $command == *"$pattern"* ]] || return 1
    fi
    echo "$pid"
}

# wait_gone SECONDS [PID...]: waits until none of the processes is alive any more; fails
# if some still are after SECONDS.
wait_gone() {
    local deadline=$((SECONDS + $1)) pid alive
    shift
    while true; do
        alive=0
        for pid in "$@"; do kill -0 "$pid" 2>/dev/null && alive=1; done
        [ $alive -eq 0 ] && return 0
        [ $SECONDS -lt "$deadline" ] || return 1
        sleep 0.1
    done
}
