/// The caps of rule 3 (001 §三.2) on one school's pilot in one year: its distinct pilot
/// certificates may not exceed 40 % of its specialty count, and its total pilot student
/// scale may not exceed 30 % of its enrolled students. Exactly 40 % and 30 % are allowed.
public struct PilotCaps: Sendable, Hashable {
    /// The share of the specialty count that bounds the distinct certificates.
    public static let certificatePercent = 40
    /// The share of enrolled students that bounds the pilot scale.
    public static let studentPercent = 30

    public let specialtyCount: Int
    public let enrolledStudents: Int

    public init(specialtyCount: Int, enrolledStudents: Int) {
        self.specialtyCount = specialtyCount
        self.enrolledStudents = enrolledStudents
    }

    /// 004 item 14, every pilot student sits an exam: how many of a school's qualified scale
    /// for a certificate were not examined (0 when as many or more were).
    public static func examShortfall(qualifiedScale: Int64, examined: Int64) -> Int64 {
        qualifiedScale > examined ? qualifiedScale - examined : 0
    }

    /// The most distinct certificates a school may pilot in a year (rounded down).
    public var maximumCertificates: Int { self.specialtyCount * Self.certificatePercent / 100 }

    /// The largest total pilot scale a school may have in a year (rounded down).
    public var maximumStudents: Int { self.enrolledStudents * Self.studentPercent / 100 }

    /// A cap the school would exceed.
    public enum Breach: Sendable, Hashable, CustomStringConvertible {
        case certificates(wouldHave: Int, maximum: Int, specialtyCount: Int)
        case students(wouldHave: Int, maximum: Int, enrolledStudents: Int)

        public var description: String {
            switch self {
            case let .certificates(wouldHave, maximum, specialtyCount):
                """
                it would pilot \(wouldHave) distinct certificates, more than \(PilotCaps.certificatePercent) % of its \(specialtyCount) \
                specialties (at most \(maximum))
                """
            case let .students(wouldHave, maximum, enrolledStudents):
                """
                its pilot scale would be \(wouldHave) students, more than \(PilotCaps.studentPercent) % of its \(enrolledStudents) \
                enrolled students (at most \(maximum))
                """
            }
        }
    }

    /// The caps breached if the school, counting the application in question, had
    /// `certificates` distinct certificates and `students` pilot students in the year.
    public func breaches(certificates: Int, students: Int) -> [Breach] {
        var breaches: [Breach] = []
        if certificates > self.maximumCertificates {
            breaches.append(.certificates(wouldHave: certificates, maximum: self.maximumCertificates, specialtyCount: self.specialtyCount))
        }
        if students > self.maximumStudents {
            breaches.append(.students(wouldHave: students, maximum: self.maximumStudents, enrolledStudents: self.enrolledStudents))
        }
        return breaches
    }
}

/// The review route of rule 4 (001 §三.3).
public enum ReviewStep: String, Sendable, Hashable, CaseIterable {
    /// 设区市教育局: secondary schools only, before the province.
    case city
    /// 省教育厅: every application, last.
    case province

    /// The first step of an application by a school of `type`.
    public static func first(for type: SchoolType) -> ReviewStep {
        type.isReviewedByCityFirst ? .city : .province
    }

    /// The step after this one is approved; nil when approval is final.
    public var next: ReviewStep? {
        switch self {
        case .city: .province
        case .province: nil
        }
    }
}

/// The rules for an alliance's lead schools (000 §三, §五).
public enum AllianceRules {
    /// At most this many lead schools per certificate.
    public static let maximumLeads = 3
    /// Certificates with fewer schools that applied for them (申报学校数, 000 appendix 3) are
    /// not put to lead-school selection.
    public static let minimumSchoolsForSelection = 10

    /// What is wrong with naming these leads (school code, primary?), in plain words;
    /// empty when they may be named.
    public static func problems(naming leads: [(school: String, primary: Bool)]) -> [String] {
        var problems: [String] = []
        if leads.isEmpty {
            problems.append("name at least one lead school")
        }
        if leads.count > Self.maximumLeads {
            problems.append("at most \(Self.maximumLeads) lead schools per certificate, not \(leads.count)")
        }
        let primaries = leads.filter(\.primary).count
        if !leads.isEmpty && primaries != 1 {
            problems.append("exactly one lead school must be primary, not \(primaries)")
        }
        if Set(leads.map(\.school)).count != leads.count {
            problems.append("a school is named twice")
        }
        return problems
    }

    /// The leads after the province's dynamic adjustment (动态调整, 000 第三条): `removing` a
    /// current lead, `adding` a school, or both (a replacement). A new primary lead takes the
    /// place of the old one; the result must still be 1 to 3 leads with exactly one primary.
    ///
    /// - Throws: INVALID_ARGUMENT `leads.nothing-to-change`; FAILED_PRECONDITION
    ///   `leads.not-a-lead` (removing a school that does not lead), `leads.already-a-lead`,
    ///   `leads.invalid` with the problems of the result (e.g. the primary removed and none added).
    public static func adjusted(
        _ leads: [(school: String, primary: Bool)], removing: String?, adding: (school: String, primary: Bool)?
    ) throws(DomainError) -> [(school: String, primary: Bool)] {
        guard removing != nil || adding != nil else {
            throw DomainError(
                .invalidArgument, reason: "leads.nothing-to-change", field: "remove_school_code",
                "name a lead to remove, a school to add, or both")
        }
        var result = leads
        if let removing {
            guard let index = result.firstIndex(where: { $0.school == removing }) else {
                throw DomainError(
                    .failedPrecondition, reason: "leads.not-a-lead",
                    "\(removing) is not a lead school (the leads: \(leads.map(\.school).joined(separator: ", ")))")
            }
            result.remove(at: index)
        }
        if let adding {
            guard !result.contains(where: { $0.school == adding.school }) else {
                throw DomainError(.failedPrecondition, reason: "leads.already-a-lead", "\(adding.school) is a lead school already")
            }
            if adding.primary { result = result.map { ($0.school, false) } }
            result.append(adding)
        }
        let problems = Self.problems(naming: result)
        guard problems.isEmpty else {
            throw DomainError(
                .failedPrecondition, reason: "leads.invalid", "after this change: \(problems.joined(separator: "; "))")
        }
        return result
    }
}

/// How the registry proposes monitoring points (004 item 19): about ten qualified
/// schools per certificate, spread over the cities, largest pilot scale first.
public enum MonitoringPointPicker {
    public static let defaultTarget = 10

    public struct Candidate: Sendable, Hashable {
        public let school: String
        public let city: String
        public let scale: Int

        public init(school: String, city: String, scale: Int) {
            self.school = school
            self.city = city
            self.scale = scale
        }
    }

    /// Up to `target` candidates: one per city in turn (cities by their largest school),
    /// each city's schools by scale, then code. Deterministic for the same input.
    public static func pick(from candidates: [Candidate], target: Int) -> [Candidate] {
        let byCity = Dictionary(grouping: candidates, by: \.city).mapValues { schools in
            schools.sorted { ($0.scale, $1.school) > ($1.scale, $0.school) }
        }
        let cities = byCity.keys.sorted { lhs, rhs in
            let (a, b) = (byCity[lhs]![0], byCity[rhs]![0])
            return (a.scale, rhs) > (b.scale, lhs)
        }
        var picked: [Candidate] = []
        var round = 0
        while picked.count < target {
            var any = false
            for city in cities where picked.count < target {
                let schools = byCity[city]!
                if round < schools.count {
                    picked.append(schools[round])
                    any = true
                }
            }
            if !any { break }
            round += 1
        }
        return picked
    }
}

/// How a certificate exam is scored (评分规则): weighted components adding up to 100 %
/// and a pass mark out of 100.
public struct ScoringRule: Sendable, Hashable {
    public struct Component: Sendable, Hashable {
        public var name: String
        public var weightPercent: Int

        public init(name: String, weightPercent: Int) {
            self.name = name
            self.weightPercent = weightPercent
        }
    }

    public var components: [Component]
    public var passMark: Int

    public init(components: [Component], passMark: Int) {
        self.components = components
        self.passMark = passMark
    }

    /// The rule a certificate gets when none is stated: theory 40 % and practical 60 %,
    /// pass at 60, the most common rule of the pilot's certificates.
    public static let provinceDefault = ScoringRule(
        components: [.init(name: "理论", weightPercent: 40), .init(name: "实操", weightPercent: 60)],
        passMark: 60
    )

    /// What is wrong with the rule, in plain words; empty when it is sound.
    public var problems: [String] {
        var problems: [String] = []
        if !(1...6).contains(self.components.count) { problems.append("must have 1 to 6 components") }
        if self.components.contains(where: { $0.name.isEmpty || $0.name.count > 20 }) {
            problems.append("component names must be 1 to 20 characters")
        }
        if Set(self.components.map(\.name)).count != self.components.count { problems.append("component names must differ") }
        if self.components.contains(where: { !(1...100).contains($0.weightPercent) }) { problems.append("each weight must be 1 to 100 %") }
        let total = self.components.reduce(0) { $0 + max(0, min($1.weightPercent, 1000)) }
        if total != 100 { problems.append("weights must add up to 100 %, not \(total) %") }
        if !(1...100).contains(self.passMark) { problems.append("the pass mark must be 1 to 100, not \(self.passMark)") }
        return problems
    }

    /// The weighted score of component scores (each out of 100, in component order),
    /// exactly as a fraction, and whether it reaches the pass mark.
    public func score(_ scores: [Int]) -> (score: Rate, passed: Bool) {
        precondition(scores.count == self.components.count, "one score per component")
        let weighted = zip(scores, self.components).reduce(0) { $0 + Int64($1.0) * Int64($1.1.weightPercent) }
        return (Rate(weighted, over: 100), weighted >= Int64(self.passMark) * 100)
    }

    /// Scores of a roster, each in tenths of a point out of 100 (87.5 is 875): the
    /// weighted total in tenths, rounded down, and whether the exact total reaches the
    /// pass mark.
    public func score(tenths: [Int]) -> (totalTenths: Int, passed: Bool) {
        precondition(tenths.count == self.components.count, "one score per component")
        let weighted = zip(tenths, self.components).reduce(0) { $0 + $1.0 * $1.1.weightPercent }
        return (weighted / 100, weighted >= self.passMark * 1000)
    }
}
