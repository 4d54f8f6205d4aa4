# shellcheck shell=bash
# B4: school look-ups by code (GetSchool) by 16 clients, one connection each; against two
# pgbench peers of 16 clients: the shape GetSchool had before it became one statement (two
# SELECTs in one transaction, simple protocol), and the one prepared statement it runs now,
# the best a round trip per look-up can do.
# shellcheck source=Benchmarks/scenarios/lib/services.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/services.sh"
bench_register B4 "school look-ups vs pgbench" --products "xcert-load" --main --pg

scenario_B4() {
    services_up
    local dir=$BENCH_WORK/B4 seconds
    seconds=$(bench_duration 15 5)
    mkdir -p "$dir"
    "$BENCH_BIN/xcert-load" schools --address 127.0.0.1:7301 --token "$BENCH_ADMIN_TOKEN" --clients 16 --seconds "$seconds" \
        --codes "$BENCH_WORLD/schools.txt" --server-pid "$(bench_pid svc-registry)" | tee "$dir/xcert.cells" | grep -v '^CELL '
    pgbench_cell "$BENCH_DIR/scenarios/sql/B4-schools.sql" "$seconds" "GetSchool's two SELECTs, one transaction" \
        | tee "$dir/pgbench.cells" | sed 's/^CELL /pgbench: /'
    pgbench_cell "$BENCH_DIR/scenarios/sql/B4-school-one-statement.sql" "$seconds" "GetSchool's one statement, prepared" prepared \
        | tee "$dir/pgbench-prepared.cells" | sed 's/^CELL /pgbench -M prepared: /'
    python3 "$BENCH_TOOL" fragment --id B4 --name "school look-ups, 16 clients" \
        --description "GetSchool over the wire vs pgbench running its SQL" \
        --xcert "$dir/xcert.cells" --peer "pgbench=$dir/pgbench.cells" --peer "pgbench prepared=$dir/pgbench-prepared.cells" \
        --headline 16x1 \
        --target 'XCert at least 0.7 of pgbench=f["ratio"] >= 0.7' \
        --target 'XCert at least 0.5 of the one prepared statement=f["ratio_by_peer"]["pgbench prepared"] >= 0.5' \
        --target 'registry < 150 MiB peak RSS=(f["peak_rss_mib"]["xcert"] or 0) < 150' \
        --out "$BENCH_RESULTS/B4.json"
}
