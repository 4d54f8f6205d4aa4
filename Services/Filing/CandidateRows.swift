import Foundation
import XCertDomain
import XCertProto
import XCertService
import XCertStore
import XCertWire

/// A roster row that passed every check, ready to store: the national ID as its keyed hash
/// (for matching), sealed (for the credit bank's export) and its first and last four
/// characters (for display), never in clear.
struct CheckedCandidate: Sendable {
    var rowIndex: Int32
    var candidateNumber: String
    var name: String
    var nationalIDHash: String
    var nationalIDFirstFour: String
    var nationalIDLastFour: String
    /// The full number sealed by ``NationalIDSealer``, bound to the hash; hex.
    var nationalIDSealed: String
    /// Holder binding for a certificate: a random salt and SHA-256(salt ‖ ID), both hex.
    var holderSalt: String
    var holderDigest: String
    var schoolCode: String
    var specialty: String
    var approved: Bool
    var attended: Bool
    var scoresTenths: [Int]
    var totalTenths: Int
    var passed: Bool
}

/// The checks of one chunk's rows that need nothing but the rows and the roster's
/// scoring rule. Each problem is a field violation named `rows[i].field`, as the
/// organization's program sent it.
struct CandidateRowChecks {
    /// At most this many violations are listed; the rest are counted in one more.
    static let maximumViolations = 2000

    let rule: ScoringRule
    let hasher: NationalIDHasher
    let sealer: NationalIDSealer

    func check(_ rows: [Xcert_Filing_V1_CandidateRow], _ checks: inout FieldChecks) throws -> [CheckedCandidate] {
        var candidates: [CheckedCandidate] = []
        candidates.reserveCapacity(rows.count)
        var numbers: [String: Int] = [:]
        var people: [String: Int] = [:]
        let components = self.rule.components.map { "\($0.name) \($0.weightPercent) %" }.joined(separator: ", ")
        for (index, row) in rows.enumerated() {
            let field = "rows[\(index)]"
            let number = row.candidateNumber.trimmed
            checks.require(
                (1...40).contains(number.count) && number.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }),
                "\(field).candidate_number",
                "must be the candidate number (准考证号), 1 to 40 letters, digits or -; not \"\(row.candidateNumber)\""
            )
            if let first = numbers[number] {
                checks.fail("\(field).candidate_number", "\(number) is also rows[\(first)] of this chunk")
            } else {
                numbers[number] = index
            }
            let name = row.name.trimmed
            checks.require((1...50).contains(name.count), "\(field).name", "must be the candidate's name, 1 to 50 characters")
            let nationalID = NationalID(row.nationalID)
            if let problem = NationalID.problem(row.nationalID) {
                checks.fail("\(field).national_id", problem)
            }
            if let nationalID {
                if let first = people[nationalID.value] {
                    checks.fail("\(field).national_id", "the same person is also rows[\(first)] of this chunk")
                } else {
                    people[nationalID.value] = index
                }
            }
            checks.require(
                row.schoolCode.isDigits(10), "\(field).school_code",
                "must be the candidate's school's 10-digit national code; not \"\(row.schoolCode)\"")
            let specialty = row.specialty.trimmed
            checks.require(
                (1...100).contains(specialty.count), "\(field).specialty",
                "must be the candidate's specialty, its code or name (1 to 100 characters)")
            checks.require(
                row.registration == .declared || row.registration == .approved,
                "\(field).registration", "must be REGISTRATION_DECLARED (申报) or REGISTRATION_APPROVED (获批)"
            )
            let approved = row.registration == .approved
            if row.attended && row.registration == .declared {
                checks.fail(
                    "\(field).attended", "a candidate who was declared but not approved (REGISTRATION_DECLARED) cannot have sat the exam")
            }

            let scores = row.componentScoresTenths.map(Int.init)
            var result: (totalTenths: Int, passed: Bool)?
            if row.attended {
                if scores.count != self.rule.components.count {
                    checks.fail(
                        "\(field).component_scores_tenths",
                        """
                        must hold one score per component of the certificate's rule (\(components)), \
                        \(self.rule.components.count) in all; not \(scores.count)
                        """
                    )
                } else {
                    var inScale = true
                    for (position, score) in scores.enumerated() where !(0...1000).contains(score) {
                        checks.fail(
                            "\(field).component_scores_tenths[\(position)]",
                            "\(score) is outside the certificate's scale: 0 to 1000 tenths of a point (0 to 100 points)")
                        inScale = false
                    }
                    if inScale { result = self.rule.score(tenths: scores) }
                }
            } else {
                checks.require(scores.isEmpty, "\(field).component_scores_tenths", "must be empty: the candidate did not sit the exam")
                checks.require(!row.passed, "\(field).passed", "must be false: the candidate did not sit the exam")
            }
            if let result, result.passed != row.passed {
                let total = Points.text(tenths: result.totalTenths)
                checks.fail(
                    "\(field).passed",
                    row.passed
                        ? """
                        contradicts the certificate's scoring rule: the weighted total \(total) \
                        is below the pass mark \(self.rule.passMark)
                        """
                        : """
                        contradicts the certificate's scoring rule: the weighted total \(total) \
                        reaches the pass mark \(self.rule.passMark)
                        """
                )
            }
            guard checks.violations.count < Self.maximumViolations else {
                checks.fail("rows", "stopped checking at rows[\(index)]: fix the problems above and send the chunk again")
                return []
            }
            guard checks.isEmpty, let nationalID else { continue }
            var generator = SystemRandomNumberGenerator()
            let salt = Data((0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) })
            let hash = self.hasher.digest(nationalID)
            candidates.append(
                CheckedCandidate(
                    rowIndex: Int32(index), candidateNumber: number, name: name,
                    nationalIDHash: hash.lowercaseHex, nationalIDFirstFour: String(nationalID.value.prefix(4)),
                    nationalIDLastFour: nationalID.lastFour,
                    nationalIDSealed: try self.sealer.seal(nationalID, boundTo: hash).lowercaseHex, holderSalt: salt.lowercaseHex,
                    holderDigest: CertificateCredential.holderDigest(salt: salt, nationalID: nationalID.value).lowercaseHex,
                    schoolCode: row.schoolCode, specialty: specialty, approved: approved, attended: row.attended,
                    scoresTenths: row.attended ? scores : [], totalTenths: result?.totalTenths ?? 0, passed: row.passed
                ))
        }
        return candidates
    }
}
