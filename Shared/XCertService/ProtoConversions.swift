import Foundation
import SwiftProtobuf
import XCertDomain
import XCertProto
import XCertWire

extension Xcert_Common_V1_Timestamp {
    /// The instant of `date`, to the nanosecond below.
    public init(_ date: Date) {
        self.init()
        let seconds = date.timeIntervalSince1970.rounded(.down)
        self.seconds = Int64(seconds)
        self.nanos = Int32(((date.timeIntervalSince1970 - seconds) * 1_000_000_000).rounded(.down))
    }
}

extension Principal.Role {
    /// The role of `xcert.registry.v1.Role`; nil for ROLE_UNSPECIFIED.
    public init?(wire role: Xcert_Registry_V1_Role) {
        switch role {
        case .provinceAdmin: self = .provinceAdmin
        case .cityReviewer: self = .cityReviewer
        case .school: self = .school
        case .organization: self = .organization
        case .service: self = .service
        default: return nil
        }
    }

    /// The same role as `xcert.registry.v1.Role`.
    public var wire: Xcert_Registry_V1_Role {
        switch self {
        case .provinceAdmin: .provinceAdmin
        case .cityReviewer: .cityReviewer
        case .school: .school
        case .organization: .organization
        case .service: .service
        default: .unspecified
        }
    }
}

extension SchoolType {
    /// The type of `xcert.common.v1.SchoolType`; nil for SCHOOL_TYPE_UNSPECIFIED.
    public init?(wire type: Xcert_Common_V1_SchoolType) {
        switch type {
        case .secondaryVocational: self = .secondaryVocational
        case .higherVocational: self = .higherVocational
        case .vocationalUndergraduate: self = .vocationalUndergraduate
        case .appliedUndergraduate: self = .appliedUndergraduate
        case .openUniversity: self = .openUniversity
        case .technicalSchool: self = .technicalSchool
        default: return nil
        }
    }

    /// The same type as `xcert.common.v1.SchoolType`.
    public var wire: Xcert_Common_V1_SchoolType {
        switch self {
        case .secondaryVocational: .secondaryVocational
        case .higherVocational: .higherVocational
        case .vocationalUndergraduate: .vocationalUndergraduate
        case .appliedUndergraduate: .appliedUndergraduate
        case .openUniversity: .openUniversity
        case .technicalSchool: .technicalSchool
        }
    }
}

extension CertificateLevel {
    /// The level of `xcert.common.v1.CertificateLevel`; nil for UNSPECIFIED or unknown.
    public init?(wire level: Xcert_Common_V1_CertificateLevel) {
        self.init(rawValue: level.rawValue)
    }

    /// The same level as `xcert.common.v1.CertificateLevel`.
    public var wire: Xcert_Common_V1_CertificateLevel {
        Xcert_Common_V1_CertificateLevel(rawValue: self.rawValue) ?? .unspecified
    }

    /// Levels as the database keeps them (`integer[]`, ascending, no repeats).
    public static func stored(_ levels: some Sequence<CertificateLevel>) -> [Int32] {
        Set(levels).sorted().map { Int32($0.rawValue) }
    }

    /// Stored levels as wire levels.
    public static func wire(stored: [Int32]) -> [Xcert_Common_V1_CertificateLevel] {
        stored.map { Xcert_Common_V1_CertificateLevel(rawValue: Int($0)) ?? .unspecified }
    }
}

extension ScoringRule {
    /// The rule of `xcert.registry.v1.ScoringRule`; the province's default when it has no
    /// components (the registry stores every certificate with a rule).
    public init(wire rule: Xcert_Registry_V1_ScoringRule) {
        guard !rule.components.isEmpty else {
            self = .provinceDefault
            return
        }
        self.init(
            components: rule.components.map { .init(name: $0.name, weightPercent: Int($0.weightPercent)) }, passMark: Int(rule.passMark))
    }
}

extension Date {
    /// The instant of a wire timestamp.
    public init(_ timestamp: Xcert_Common_V1_Timestamp) {
        self.init(timeIntervalSince1970: TimeInterval(timestamp.seconds) + TimeInterval(timestamp.nanos) / 1e9)
    }
}

extension LocalDate {
    /// The date of `xcert.common.v1.Date`; nil unless it exists.
    public init?(wire date: Xcert_Common_V1_Date) {
        self.init(year: Int(date.year), month: Int(date.month), day: Int(date.day))
    }

    /// The same date as `xcert.common.v1.Date`.
    public var wire: Xcert_Common_V1_Date {
        var date = Xcert_Common_V1_Date()
        date.year = Int32(self.year)
        date.month = Int32(self.month)
        date.day = Int32(self.day)
        return date
    }
}

/// A wire date as `YYYY-MM-DD` (as sent, when it is no date), for messages and tables.
public func dateText(_ date: Xcert_Common_V1_Date) -> String {
    LocalDate(wire: date)?.description ?? "\(date.year)-\(date.month)-\(date.day)"
}

extension FieldChecks {
    /// Checks a document recorded by name, size and digest (a filing's attachment, a school's
    /// work plan): a name of 1 to 200 characters, 0 to 4 GiB, the SHA-256 as 64 lowercase hex
    /// digits; each bad part named under `field`. Returns whether it was all right.
    @discardableResult
    public mutating func requireAttachment(_ attachment: Xcert_Filing_V1_Attachment, _ field: String) -> Bool {
        let ok = [
            self.require(
                (1...200).contains(attachment.name.trimmed.count), "\(field).name", "must be the file's name, 1 to 200 characters"),
            self.require(
                (0...(1 << 32)).contains(attachment.sizeBytes), "\(field).size_bytes", "must be the file's size in bytes, 0 to 4 GiB"),
            self.require(attachment.sha256.isSHA256Hex, "\(field).sha256", "must be the file's SHA-256 as 64 lowercase hex digits"),
        ]
        return !ok.contains(false)
    }

    /// Checks a span of days given as `from` and `to` (both included): two dates, `to` not
    /// before `from`, at most `maximumDays` apart. Returns the span when it is all right.
    public mutating func requireDays(
        from: Xcert_Common_V1_Date, to: Xcert_Common_V1_Date, fields: (from: String, to: String) = ("from", "to"), maximumDays: Int = 366
    ) -> ClosedRange<LocalDate>? {
        let first = LocalDate(wire: from)
        let last = LocalDate(wire: to)
        self.require(first != nil, fields.from, "must be a date, e.g. 2026-05-01")
        self.require(last != nil, fields.to, "must be a date, e.g. 2026-05-31")
        guard let first, let last else { return nil }
        let days = first.days(until: last)
        guard self.require((0...maximumDays).contains(days), fields.to, "must be \(first) to \(maximumDays) days after it; not \(last)")
        else { return nil }
        return first...last
    }

    /// The span of days of a request with nothing else to check: ``requireDays(from:to:fields:maximumDays:)``
    /// that throws INVALID_ARGUMENT naming the fields.
    public static func checkDays(from: Xcert_Common_V1_Date, to: Xcert_Common_V1_Date) throws -> ClosedRange<LocalDate> {
        var checks = FieldChecks()
        let days = checks.requireDays(from: from, to: to)
        try checks.check()
        guard let days else { throw RPCError(.internal, "a span of days checked and not kept") }
        return days
    }
}

extension OrganizationStanding {
    /// The standing of `xcert.registry.v1.OrganizationStanding`; nil for UNSPECIFIED.
    public init?(wire standing: Xcert_Registry_V1_OrganizationStanding) {
        switch standing {
        case .active: self = .active
        case .suspended: self = .suspended
        case .exited: self = .exited
        default: return nil
        }
    }

    /// The same standing as `xcert.registry.v1.OrganizationStanding`.
    public var wire: Xcert_Registry_V1_OrganizationStanding {
        switch self {
        case .active: .active
        case .suspended: .suspended
        case .exited: .exited
        }
    }
}

extension JSONEncodingOptions {
    /// Protobuf JSON as the services store it in `jsonb` columns and analysts read it there:
    /// the .proto field names (`certificate_code`), not the JSON names.
    public static var stored: JSONEncodingOptions {
        var options = JSONEncodingOptions()
        options.preserveProtoFieldNames = true
        return options
    }
}
