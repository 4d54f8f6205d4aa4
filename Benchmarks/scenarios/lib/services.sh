# shellcheck shell=bash
# What B2–B5 share: the four release services on 7301–7304 (beside, not instead of, a
# scripts/up stack on 7101–7104) against the run's throwaway PostgreSQL (bench_pg), and the
# benchmark world, made once per run through the services by `xcert-load setup`. The
# database lives for the whole run, so B5 finds B3's roster; the services are started by
# each scenario with bench_start (scripts/bench stops them after it).
#
# services_up sets BENCH_ADMIN_TOKEN, BENCH_ORG_TOKEN, BENCH_WORLD (schools.txt,
# qualified.txt) and exports libpq's PG* variables for psql. scripts/soak uses it too.

services_up() {
    bench_pg
    export PGHOST=127.0.0.1 PGPORT=$BENCH_PGPORT PGUSER=xcert_owner PGPASSWORD=$BENCH_PGPASSWORD PGDATABASE=xcert
    local state=$BENCH_WORK/services name
    if [ ! -f "$state/admin.token" ]; then
        mkdir -p "$state/logs"
        psql -X -q -d postgres -c "CREATE DATABASE xcert" >/dev/null
        "$XCERT_BIN/xctl" db migrate >/dev/null
        "$XCERT_BIN/xctl" admin bootstrap-token --out "$state/admin.token" >/dev/null
        for name in registry filing assessment settlement; do
            "$XCERT_BIN/xctl" admin bootstrap-token --service "$name" --out "$state/$name.service-token" >/dev/null
            # Each service logs in as its own role, as deployed (scripts/up, compose).
            "$XCERT_BIN/xctl" admin service-login --service "$name" --out "$state/$name.pgpass" >/dev/null
        done
        (umask 077 && echo "$(random_secret)$(random_secret)" >"$state/national-id.key")
    fi
    [ -s "$state/id-encryption.key" ] || (umask 077 && head -c 32 /dev/urandom | base64 >"$state/id-encryption.key")
    [ -s "$state/issuer.key" ] || (umask 077 && head -c 32 /dev/urandom | base64 >"$state/issuer.key")
    BENCH_ADMIN_TOKEN=$(cat "$state/admin.token")

    local -A ports=([registry]=7301 [filing]=7302 [assessment]=7303 [settlement]=7304)
    local peers=() hosts=()
    for name in registry filing assessment settlement; do
        peers+=("XCERT_${name^^}_ADDRESS=127.0.0.1:${ports[$name]}")
        hosts+=(--address "127.0.0.1:${ports[$name]}")
    done
    for name in registry filing assessment settlement; do
        # No limit per principal: one organization stands in for the many of a filing deadline.
        bench_start "svc-$name" env "${peers[@]}" XCERT_PORT="${ports[$name]}" XCERT_METRICS_PORT=$((ports[$name] + 1000)) \
            XCERT_MIGRATE=false XCERT_LOG_LEVEL=warning XCERT_LIMIT_READS_PER_SECOND=0 XCERT_LIMIT_WRITES_PER_SECOND=0 \
            XCERT_SERVICE_TOKEN="$(cat "$state/$name.service-token")" XCERT_NATIONAL_ID_KEY_FILE="$state/national-id.key" \
            PGUSER="xcert_$name" PGPASSWORD= PGPASSFILE="$state/$name.pgpass" \
            XCERT_ID_ENCRYPTION_KEY_FILE="$state/id-encryption.key" XCERT_ISSUER_KEY_FILE="$state/issuer.key" \
            "$XCERT_BIN/$name"
    done
    local tries=0
    until "$XCERT_BIN/xctl" health "${hosts[@]}" --timeout-ms 1000 >/dev/null 2>&1; do
        tries=$((tries + 1))
        [ "$tries" -lt 120 ] || { tail -5 "$BENCH_WORK"/svc-*.err >&2; die "the benchmark services did not start"; }
        sleep 0.5
    done

    BENCH_WORLD=$BENCH_WORK/world
    if [ ! -f "$BENCH_WORLD/organization.token" ]; then
        # SERVICES_SETUP_ARGS: more options for setup, split on spaces (scripts/soak: --certificates N).
        # shellcheck disable=SC2086
        "$BENCH_BIN/xcert-load" setup --registry 127.0.0.1:7301 --filing 127.0.0.1:7302 --settlement 127.0.0.1:7304 \
            --token "$BENCH_ADMIN_TOKEN" --out "$BENCH_WORLD" ${SERVICES_SETUP_ARGS:-}
    fi
    BENCH_ORG_TOKEN=$(cat "$BENCH_WORLD/organization.token")
}

# peer_cell TARGET CONNECTIONS IN_FLIGHT SECONDS COMPLETED FAILED P50_US P99_US NOTE: a CELL
# line for a peer measured outside the Swift load generators (pgbench, psql).
peer_cell() {
    python3 -c '
import json, sys
target, connections, in_flight, seconds, completed, failed, p50, p99, note = sys.argv[1:]
seconds, completed = float(seconds), float(completed)
print("CELL " + json.dumps({"target": target, "connections": int(connections), "in_flight": int(in_flight),
    "seconds": seconds, "completed": completed, "failed": int(failed), "rps": completed / seconds,
    "p50_us": float(p50), "p99_us": float(p99), "p999_us": None, "max_us": None, "client_cores": None,
    "server_cores": None, "server_peak_rss_mib": None, "server_rss_mib": None, "note": note}, sort_keys=True))
' "$@"
}

# pgbench_cell SCRIPT SECONDS NOTE [PROTOCOL]: runs SCRIPT with 16 clients (2 threads) for
# SECONDS on the benchmark database and prints its CELL line, latencies from pgbench's
# per-transaction log. PROTOCOL is pgbench's -M: simple (the default), extended or prepared.
pgbench_cell() {
    local script=$1 seconds=$2 note=$3 protocol=${4:-simple} logs
    logs=$(mktemp -d "$BENCH_WORK/pgbench.XXXXXX")
    (cd "$logs" && "$PG_BIN/pgbench" -n -M "$protocol" -c 16 -j 2 -T "$seconds" -l --log-prefix="$logs/tx" -f "$script" \
        >"$logs/summary" 2>&1) \
        || { cat "$logs/summary" >&2; die "pgbench failed"; }
    local figures
    figures=$(python3 - "$logs" <<'PY'
import glob, sys
folder = sys.argv[1]
latencies = sorted(int(line.split()[2]) for name in glob.glob(folder + "/tx*") for line in open(name))
failed = 0
for line in open(folder + "/summary"):
    if line.startswith("number of failed transactions"):
        failed = int(line.split(":")[1].split()[0])
pick = lambda p: latencies[min(len(latencies) - 1, int(len(latencies) * p))] if latencies else 0
print(len(latencies), failed, pick(0.50), pick(0.99))
PY
)
    # shellcheck disable=SC2086
    peer_cell pgbench 16 1 "$seconds" $figures "$note"
}
