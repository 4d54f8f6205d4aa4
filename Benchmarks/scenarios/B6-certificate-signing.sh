# shellcheck shell=bash
# B6: a year's certificates signed, in process: for each of a 50,000-candidate year's passed
# candidates, the filing service's work per certificate (the W3C VC 2.0 document made with the
# holder's salted digest and status entry, serialized, signed by the province's Ed25519 key as
# a compact JWS), on 1 task and on every core; against swift-crypto's Ed25519 signature of the
# same signing inputs alone, the floor of any signed credential. Target: XCert >= 50 % of the
# raw signatures' rate on one task (the document costs less than the signature).
bench_register B6 "certificates signed for a 50,000-candidate year vs raw Ed25519" --products "cert-bench"

scenario_B6() {
    local dir=$BENCH_WORK/B6 candidates
    candidates=$(bench_duration 50000 10000)
    mkdir -p "$dir"
    "$BENCH_BIN/cert-bench" sign --candidates "$candidates" | tee "$dir/out" | grep -v '^CELL '
    grep '^CELL .*"target":"xcert-sign"' "$dir/out" >"$dir/xcert.cells"
    grep '^CELL .*"target":"ed25519-sign"' "$dir/out" >"$dir/raw.cells"
    python3 "$BENCH_TOOL" fragment --id B6 --name "certificates signed, $candidates-candidate year (certificates/s)" \
        --description "CertificateCredential.payload + CertificateIssuer.sign per holder vs Curve25519 signature(for:) of the same input" \
        --xcert "$dir/xcert.cells" --peer "ed25519-raw=$dir/raw.cells" --headline 1x1 \
        --target 'XCert >= 50 % of raw Ed25519 on one task=f["ratio"] >= 0.5' \
        --note "cells: tasks x 1; req/s = certificates a second; the year's seconds = candidates / req/s" \
        --out "$BENCH_RESULTS/B6.json"
}
