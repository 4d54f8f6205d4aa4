/// Type of a school (院校类型). Mirrors `xcert.common.v1.SchoolType`.
public enum SchoolType: String, Sendable, Hashable, CaseIterable, Codable {
    /// 中职: reviewed by its city bureau first, then by the province.
    case secondaryVocational = "secondary_vocational"
    /// 高职
    case higherVocational = "higher_vocational"
    /// 本科层次职业教育试点
    case vocationalUndergraduate = "vocational_undergraduate"
    /// 应用型本科
    case appliedUndergraduate = "applied_undergraduate"
    /// 国家开放大学
    case openUniversity = "open_university"
    /// 技工学校: recorded, but never eligible for the pilot (docs/domain.md rule 5).
    case technicalSchool = "technical_school"

    /// Whether schools of this type may join the pilot (rule 5: technical schools may not).
    public var isEligibleForPilot: Bool { self != .technicalSchool }

    /// Whether applications go to the city bureau before the province (rule 4).
    public var isReviewedByCityFirst: Bool { self == .secondaryVocational }

    /// The Chinese term used in provincial documents.
    public var chineseName: String {
        switch self {
        case .secondaryVocational: "中职"
        case .higherVocational: "高职"
        case .vocationalUndergraduate: "本科层次职业教育试点"
        case .appliedUndergraduate: "应用型本科"
        case .openUniversity: "国家开放大学"
        case .technicalSchool: "技工学校"
        }
    }
}

/// Level of a vocational skill level certificate (职业技能等级).
public enum CertificateLevel: Int, Sendable, Hashable, CaseIterable, Codable, Comparable {
    /// 初级
    case elementary = 1
    /// 中级
    case intermediate = 2
    /// 高级
    case advanced = 3

    public var chineseName: String {
        switch self {
        case .elementary: "初级"
        case .intermediate: "中级"
        case .advanced: "高级"
        }
    }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
}

extension SchoolType {
    /// The type a province's spreadsheet or an operator names (trimmed): the English raw value
    /// (`higher_vocational`) or a Chinese name (中职, 高职, 职业本科, …).
    public init?(name: String) {
        switch name {
        case "中职", "中等职业学校", "中职学校": self = .secondaryVocational
        case "高职", "高职院校", "高等职业院校", "高职（专科）": self = .higherVocational
        case "职业本科", "本科层次职业教育试点", "本科层次职业学校": self = .vocationalUndergraduate
        case "应用型本科", "应用型本科高校": self = .appliedUndergraduate
        case "国家开放大学", "开放大学": self = .openUniversity
        case "技工学校", "技工院校": self = .technicalSchool
        case let other: self.init(rawValue: other.lowercased())
        }
    }
}

extension CertificateLevel {
    /// The level named in English (`elementary`) or Chinese (初级).
    public init?(name: String) {
        switch name.lowercased() {
        case "初级", "elementary": self = .elementary
        case "中级", "intermediate": self = .intermediate
        case "高级", "advanced": self = .advanced
        default: return nil
        }
    }

    /// The English name, as `init(name:)` reads it.
    public var name: String {
        switch self {
        case .elementary: "elementary"
        case .intermediate: "intermediate"
        case .advanced: "advanced"
        }
    }
}
