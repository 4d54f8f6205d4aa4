/// Whether a school's specialty may pilot a certificate (001 §二.3, 002 §二.1 and §二.3): its
/// teaching team has at least 50 % 双师型 teachers and at least 20 % industry experts
/// (行业企业专家), and it has enrolled students three years in a row (近3年连续招生).
public struct SpecialtyEligibility: Sendable, Hashable {
    /// The least share of 双师型 teachers, in percent.
    public static let dualQualifiedPercent = 50
    /// The least share of industry experts, in percent.
    public static let industryExpertPercent = 20
    /// The fewest years of continuous enrolment.
    public static let enrolmentYears = 3

    public let specialtyCode: String
    public let teachers: Int
    public let dualQualifiedTeachers: Int
    public let industryExperts: Int
    public let continuousEnrolmentYears: Int

    /// Counts beyond 0…1,000,000 are clamped to it (the services check them to 10,000), so
    /// that no product below can overflow.
    public init(specialtyCode: String, teachers: Int, dualQualifiedTeachers: Int, industryExperts: Int, continuousEnrolmentYears: Int) {
        let clamp = { (value: Int) in max(0, min(value, 1_000_000)) }
        self.specialtyCode = specialtyCode
        self.teachers = clamp(teachers)
        self.dualQualifiedTeachers = clamp(dualQualifiedTeachers)
        self.industryExperts = clamp(industryExperts)
        self.continuousEnrolmentYears = clamp(continuousEnrolmentYears)
    }

    /// What falls short, with the numbers; empty when the specialty is eligible. Exactly 50 %
    /// and 20 % are enough.
    public var shortfalls: [String] {
        var shortfalls: [String] = []
        if self.teachers <= 0 || self.dualQualifiedTeachers * 100 < self.teachers * Self.dualQualifiedPercent {
            let share = Self.share(self.dualQualifiedTeachers, self.teachers)
            shortfalls.append(
                "双师型 teachers \(self.dualQualifiedTeachers) of \(self.teachers) (\(share)), below \(Self.dualQualifiedPercent) %")
        }
        if self.teachers <= 0 || self.industryExperts * 100 < self.teachers * Self.industryExpertPercent {
            let share = Self.share(self.industryExperts, self.teachers)
            shortfalls.append(
                "industry experts \(self.industryExperts) of \(self.teachers) (\(share)), below \(Self.industryExpertPercent) %")
        }
        if self.continuousEnrolmentYears < Self.enrolmentYears {
            shortfalls.append(
                "enrolled \(self.continuousEnrolmentYears) years in a row, fewer than \(Self.enrolmentYears)")
        }
        return shortfalls
    }

    public var isEligible: Bool { self.shortfalls.isEmpty }

    /// `part` of `whole` in percent with one decimal, rounded down: `33.3 %`.
    static func share(_ part: Int, _ whole: Int) -> String {
        guard whole > 0 else { return "no teachers" }
        let tenths = part * 1000 / whole
        return "\(tenths / 10).\(tenths % 10) %"
    }

    /// Checks the specialties an application names against their recorded teams.
    ///
    /// - Throws: FAILED_PRECONDITION on `specialty_codes`: `application.no-teaching-team`
    ///   naming the specialties without a recorded team, or `application.ineligible-specialty`
    ///   with every shortfall and its numbers.
    public static func check(school: String, specialties: [String], teams: [String: SpecialtyEligibility]) throws(DomainError) {
        let unrecorded = specialties.filter { teams[$0] == nil }
        guard unrecorded.isEmpty else {
            throw DomainError(
                .failedPrecondition, reason: "application.no-teaching-team", field: "specialty_codes",
                """
                school \(school) has recorded no teaching team for specialty \(unrecorded.joined(separator: ", ")): record its teachers, \
                双师型 teachers, industry experts and years of continuous enrolment first (SetTeachingTeams)
                """
            )
        }
        let short = specialties.compactMap { code -> String? in
            guard let team = teams[code], !team.isEligible else { return nil }
            return "specialty \(code): " + team.shortfalls.joined(separator: "; ")
        }
        guard short.isEmpty else {
            throw DomainError(
                .failedPrecondition, reason: "application.ineligible-specialty", field: "specialty_codes",
                "school \(school) may not pilot with " + short.joined(separator: " | "))
        }
    }
}
