# shellcheck shell=bash
# B2: filing submissions end to end (token check, validation, the registry asked who owns the
# certificate, idempotency key, insert) by 16 clients, one connection each; against pgbench,
# 16 clients, writing the same rows (idempotency record, filing, three fees) after the same
# reads, in one transaction, same database, same synchronous_commit (on); and against
# pgbench -M prepared writing only the filing's own rows, as SubmitFiling writes them, in
# one transaction.
# shellcheck source=Benchmarks/scenarios/lib/services.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/services.sh"
bench_register B2 "filing submission end to end vs pgbench" --products "xcert-load" --main --pg

scenario_B2() {
    services_up
    local dir=$BENCH_WORK/B2 seconds
    seconds=$(bench_duration 15 5)
    mkdir -p "$dir"
    "$BENCH_BIN/xcert-load" filings --address 127.0.0.1:7302 --token "$BENCH_ORG_TOKEN" --clients 16 --seconds "$seconds" \
        --server-pid "$(bench_pid svc-filing)" | tee "$dir/xcert.cells" | grep -v '^CELL '
    pgbench_cell "$BENCH_DIR/scenarios/sql/B2-filing.sql" "$seconds" "the same reads and rows as SubmitFiling, one transaction" \
        | tee "$dir/pgbench.cells" | sed 's/^CELL /pgbench: /'
    pgbench_cell "$BENCH_DIR/scenarios/sql/B2-filing-inserts.sql" "$seconds" "SubmitFiling's own writes, one transaction, prepared" \
        prepared | tee "$dir/pgbench-prepared.cells" | sed 's/^CELL /pgbench -M prepared: /'
    python3 "$BENCH_TOOL" fragment --id B2 --name "filing submission, 16 clients" \
        --description "SubmitFiling over the wire (token, validation, registry ownership call, idempotency key, inserts) vs pgbench doing its SQL" \
        --xcert "$dir/xcert.cells" --peer "pgbench=$dir/pgbench.cells" --peer "pgbench prepared=$dir/pgbench-prepared.cells" \
        --headline 16x1 \
        --target 'XCert at least 0.8 of pgbench=f["ratio"] >= 0.8' \
        --target 'XCert at least 0.6 of the prepared writes=f["ratio_by_peer"]["pgbench prepared"] >= 0.6' \
        --target 'filing < 150 MiB peak RSS=(f["peak_rss_mib"]["xcert"] or 0) < 150' \
        --note "registry (asked who owns each certificate) peak RSS $(bench_peak_rss_mib "$(bench_pid svc-registry)") MiB" \
        --out "$BENCH_RESULTS/B2.json"
}
