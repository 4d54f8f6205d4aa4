# shellcheck shell=bash
# B7: certificates verified, in process, as `xctl certificates verify` and any holder's
# verifier do it (the compact JWS parsed, its header's alg and kid checked against the
# issuer's JWK, the Ed25519 signature verified, the payload decoded), for 50,000 credentials,
# on 1 task and on every core; against swift-crypto's Ed25519 verification of the same bytes
# alone. Target: XCert >= 50 % of the raw verifications' rate on one task.
bench_register B7 "certificates verified vs raw Ed25519 verification" --products "cert-bench"

scenario_B7() {
    local dir=$BENCH_WORK/B7 candidates
    candidates=$(bench_duration 50000 10000)
    mkdir -p "$dir"
    "$BENCH_BIN/cert-bench" verify --candidates "$candidates" | tee "$dir/out" | grep -v '^CELL '
    grep '^CELL .*"target":"xcert-verify"' "$dir/out" >"$dir/xcert.cells"
    grep '^CELL .*"target":"ed25519-verify"' "$dir/out" >"$dir/raw.cells"
    python3 "$BENCH_TOOL" fragment --id B7 --name "certificates verified (verifications/s)" \
        --description "CertificateCredential.verify(jws, jwk:) vs Curve25519 isValidSignature over the same bytes" \
        --xcert "$dir/xcert.cells" --peer "ed25519-raw=$dir/raw.cells" --headline 1x1 \
        --target 'XCert >= 50 % of raw Ed25519 on one task=f["ratio"] >= 0.5' \
        --note "cells: tasks x 1; req/s = verifications a second" \
        --out "$BENCH_RESULTS/B7.json"
}
