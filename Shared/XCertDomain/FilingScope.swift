/// What an organization's approved filing lets schools apply for (001 §三.1): the school
/// levels (面向的院校层次) and the specialty scope (适用专业范围) it filed and the province
/// approved. A school applies for a certificate only inside the scope of its filing.
public struct FilingScope: Sendable, Hashable {
    /// The school levels a filing covers. Mirrors `xcert.filing.v1.SchoolLevel`.
    public enum SchoolLevel: Int, Sendable, Hashable, CaseIterable, Comparable {
        /// 中职
        case secondary = 1
        /// 高职
        case higherVocational = 2
        /// 本科
        case undergraduate = 3

        public var chineseName: String {
            switch self {
            case .secondary: "中职"
            case .higherVocational: "高职"
            case .undergraduate: "本科"
            }
        }

        public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
    }

    /// A specialty of the school's application: its national catalogue code and its name.
    public struct Specialty: Sendable, Hashable {
        public let code: String
        public let name: String

        public init(code: String, name: String) {
            self.code = code
            self.name = name
        }
    }

    /// Entries of a specialty scope that admit every specialty.
    public static let anySpecialty: Set<String> = ["不限", "所有专业", "全部专业", "*"]

    /// The filing, to quote in a refusal.
    public let filingID: Int64
    public let certificateCode: String
    public let schoolLevels: Set<SchoolLevel>
    public let specialtyScope: [String]

    public init(filingID: Int64, certificateCode: String, schoolLevels: Set<SchoolLevel>, specialtyScope: [String]) {
        self.filingID = filingID
        self.certificateCode = certificateCode
        self.schoolLevels = schoolLevels
        self.specialtyScope = specialtyScope
    }

    /// Whether the scope entry `entry` admits `specialty`: the entry is the specialty's code or
    /// name, a category code its code starts with (catalogue codes nest: the category 5002
    /// 道路运输类 holds 500211), such a code followed by a name ("5002 道路运输类"), or one of
    /// ``anySpecialty``.
    public static func admits(_ entry: String, _ specialty: Specialty) -> Bool {
        if Self.anySpecialty.contains(entry) || entry == specialty.code || entry == specialty.name { return true }
        let code = entry.split(separator: " ", maxSplits: 1).first.map(String.init) ?? entry
        guard code.count >= 2, code.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }) else { return false }
        return specialty.code == code || (specialty.code.count > code.count && specialty.code.hasPrefix(code))
    }

    /// Checks an application of a school of `type` with `specialties` against the filing.
    ///
    /// - Throws: FAILED_PRECONDITION `application.outside-filing-levels` (field `school_code`)
    ///   when the school's level is not one the filing covers, and
    ///   `application.outside-filing-specialties` (field `specialty_codes`) naming every
    ///   specialty outside the filing's scope; both quote the filing.
    public func check(schoolType: SchoolType, specialties: [Specialty]) throws(DomainError) {
        let levels = self.schoolLevels.sorted().map(\.chineseName).joined(separator: "、")
        guard let level = schoolType.schoolLevel, self.schoolLevels.contains(level) else {
            throw DomainError(
                .failedPrecondition, reason: "application.outside-filing-levels", field: "school_code",
                """
                filing \(self.filingID) of \(self.certificateCode) covers \(levels) schools; \
                a \(schoolType.chineseName) school may not apply for it
                """
            )
        }
        let outside = specialties.filter { specialty in !self.specialtyScope.contains { Self.admits($0, specialty) } }
        guard outside.isEmpty else {
            throw DomainError(
                .failedPrecondition, reason: "application.outside-filing-specialties", field: "specialty_codes",
                """
                \(outside.map { "\($0.code) \($0.name)" }.joined(separator: ", ")) \(outside.count == 1 ? "is" : "are") outside \
                the specialty scope of filing \(self.filingID) of \(self.certificateCode): \(self.specialtyScope.joined(separator: "; "))
                """
            )
        }
    }
}

extension SchoolType {
    /// The school level a filing names for schools of this type; nil for technical schools,
    /// which never join the pilot. The open university teaches at 专科 level: 高职.
    public var schoolLevel: FilingScope.SchoolLevel? {
        switch self {
        case .secondaryVocational: .secondary
        case .higherVocational, .openUniversity: .higherVocational
        case .vocationalUndergraduate, .appliedUndergraduate: .undergraduate
        case .technicalSchool: nil
        }
    }
}
