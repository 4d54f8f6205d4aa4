import Foundation
import XCertDomain
import XCertProto
import XCertService
import XCertWire

/// A filing's work plan, checked element by element (rule 1): each missing or invalid
/// element is its own field violation, named as the organization's program sent it
/// (`plan.fees[1].fee.fen`).
struct WorkPlanRecord: Sendable {
    static let schoolLevelNames: [Xcert_Filing_V1_SchoolLevel: String] = [.secondary: "中职", .higherVocational: "高职", .undergraduate: "本科"]

    var schoolLevels: [Int32]
    var specialtyScope: [String]
    var siteArrangement: String
    var teacherRequirements: String
    var teachingConditions: String
    var examArrangement: String
    var fees: [(level: CertificateLevel, fen: Int64, costBasis: String)]
    var attachments: [(name: String, size: Int64, sha256: String)]

    /// The largest fee a filing may state, 100,000 yuan: anything above is a typing error.
    static let maximumFee = Money(fen: 10_000_000)

    init(_ plan: Xcert_Filing_V1_WorkPlan, checks: inout FieldChecks) {
        let levels = plan.schoolLevels.filter { Self.schoolLevelNames[$0] != nil }
        checks.require(
            !plan.schoolLevels.isEmpty && levels.count == plan.schoolLevels.count, "plan.school_levels",
            "must list the school levels it is for: SECONDARY 中职, HIGHER_VOCATIONAL 高职 or UNDERGRADUATE 本科")
        checks.require(Set(levels).count == levels.count, "plan.school_levels", "lists a level twice")
        self.schoolLevels = levels.map { Int32($0.rawValue) }

        self.specialtyScope = plan.specialtyScope.map(\.trimmed)
        checks.require(
            !self.specialtyScope.isEmpty, "plan.specialty_scope", "must name the specialties (or specialty categories) the certificate fits"
        )
        for (index, specialty) in self.specialtyScope.enumerated() where !(1...100).contains(specialty.count) {
            checks.fail("plan.specialty_scope[\(index)]", "must be 1 to 100 characters")
        }

        func text(_ value: String, _ field: String, _ what: String) -> String {
            let value = value.trimmed
            checks.require((1...5000).contains(value.count), "plan.\(field)", "must describe \(what) (1 to 5000 characters)")
            return value
        }
        self.siteArrangement = text(plan.siteArrangement, "site_arrangement", "how assessment sites are set up and managed")
        self.teacherRequirements = text(plan.teacherRequirements, "teacher_requirements", "the requirements on pilot schools' teachers")
        self.teachingConditions = text(plan.teachingConditions, "teaching_conditions", "the teaching conditions pilot schools need")
        self.examArrangement = text(plan.examArrangement, "exam_arrangement", "how the exam is carried out")

        checks.require(!plan.fees.isEmpty, "plan.fees", "must state the fee of each level of the certificate, in fen, with its cost basis")
        var fees: [(CertificateLevel, Int64, String)] = []
        for (index, fee) in plan.fees.enumerated() {
            let level = CertificateLevel(wire: fee.level)
            checks.require(level != nil, "plan.fees[\(index)].level", "must be ELEMENTARY, INTERMEDIATE or ADVANCED")
            if let level, fees.contains(where: { $0.0 == level }) {
                checks.fail("plan.fees[\(index)].level", "\(level.chineseName) has two fees")
            }
            checks.require(
                fee.fee.fen > 0 && fee.fee.fen <= Self.maximumFee.fen, "plan.fees[\(index)].fee.fen",
                "must be the fee per candidate in fen, 1 to \(Self.maximumFee.fen) (100,000 yuan); not \(fee.fee.fen)")
            let basis = fee.costBasis.trimmed
            checks.require(
                (1...2000).contains(basis.count), "plan.fees[\(index)].cost_basis",
                "must say how the fee was costed (成本测算依据), 1 to 2000 characters")
            if let level { fees.append((level, fee.fee.fen, basis)) }
        }
        self.fees = fees.map { (level: $0.0, fen: $0.1, costBasis: $0.2) }

        checks.require(plan.attachments.count <= 50, "plan.attachments", "at most 50 attachments")
        var attachments: [(String, Int64, String)] = []
        for (index, attachment) in plan.attachments.enumerated() {
            checks.requireAttachment(attachment, "plan.attachments[\(index)]")
            attachments.append((attachment.name.trimmed, attachment.sizeBytes, attachment.sha256))
        }
        self.attachments = attachments.map { (name: $0.0, size: $0.1, sha256: $0.2) }
    }
}
