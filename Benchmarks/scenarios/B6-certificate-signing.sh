# shellcheck shell=bash
# B6: a year's certificates signed, in process: for each of a 50,000-candidate year's passed
# candidates, the filing service's work per certificate (the W3C VC 2.0 document made with the
# holder's salted digest and status entry, serialized, signed by the province's Ed25519 key as
# a compact JWS), on 1 task and on every core; against swift-crypto's Ed25519 signature of the
# same signing inputs alone, the floor of any signed credential. Target: XCert >= 50 % of the
# raw signatures' rate on one task.
# shellcheck source=Benchmarks/scenarios/lib/cert-bench.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/cert-bench.sh"
bench_register B6 "certificates signed for a 50,000-candidate year vs raw Ed25519" --products "cert-bench"

scenario_B6() {
    cert_bench_scenario B6 sign "certificates signed (certificates/s)" \
        "CertificateCredential.payload + CertificateIssuer.sign per holder vs Curve25519 signature(for:) of the same input"
}
