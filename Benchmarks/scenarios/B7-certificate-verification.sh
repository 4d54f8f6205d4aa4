# shellcheck shell=bash
# B7: certificates verified, in process, as `xctl certificates verify` and any holder's
# verifier do it (the compact JWS parsed, its header's alg and kid checked against the
# issuer's JWK, the Ed25519 signature verified, the payload's issuer checked), for 50,000
# credentials, on 1 task and on every core; against swift-crypto's Ed25519 verification of the
# same bytes alone. Target: XCert >= 50 % of the raw verifications' rate on one task.
# shellcheck source=Benchmarks/scenarios/lib/cert-bench.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/cert-bench.sh"
bench_register B7 "certificates verified vs raw Ed25519 verification" --products "cert-bench"

scenario_B7() {
    cert_bench_scenario B7 verify "certificates verified (verifications/s)" \
        "CertificateCredential.verify(jws, jwk:) vs Curve25519 isValidSignature over the same bytes"
}
