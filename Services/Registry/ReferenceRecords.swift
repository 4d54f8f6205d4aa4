import Foundation
import SwiftProtobuf
import XCertDomain
import XCertProto
import XCertService
import XCertWire

/// Reference data as checked input, ready for the database. Each `init` checks a
/// message field by field into `checks`, naming fields through `field`, so that the
/// same checks serve the RPCs (`school.code`) and CSV imports (`line 3, column 学校标识码`).
/// It returns nil when anything was wrong.
protocol CheckedRecord: Sendable, Hashable {
    associatedtype Message: SwiftProtobuf.Message
    init?(_ message: Message, checks: inout FieldChecks, field: (String) -> String)
}

extension CheckedRecord {
    /// The record of a request's `message`, or INVALID_ARGUMENT naming each bad field
    /// as `prefix.field`.
    static func checked(_ message: Message, prefix: String) throws -> Self {
        var checks = FieldChecks()
        let record = Self(message, checks: &checks, field: { "\(prefix).\($0)" })
        try checks.check()
        guard let record else { throw RPCError(.internal, "\(prefix) failed its checks without saying why") }
        return record
    }

    /// The record of a stored message, to tell whether an import changes it.
    static func stored(_ message: Message) -> Self? {
        var checks = FieldChecks()
        return Self(message, checks: &checks, field: { $0 })
    }
}

struct CityRecord: CheckedRecord {
    var code: String
    var name: String

    init?(_ city: Xcert_Registry_V1_City, checks: inout FieldChecks, field: (String) -> String) {
        let code = city.code.trimmed
        let name = city.name.trimmed
        let ok = [
            checks.require(
                code.isDigits(6) && code.hasSuffix("00") && !code.hasSuffix("0000"), field("code"),
                "must be the city's 6-digit administrative code, ending in 00, e.g. 360100; not \"\(code)\""),
            checks.require((1...50).contains(name.count), field("name"), "must be 1 to 50 characters"),
        ]
        guard !ok.contains(false) else { return nil }
        self.code = code
        self.name = name
    }
}

/// A reviewing unit the province designates beside its cities (审核单位, e.g. 赣江新区社会发展局).
struct ReviewingBureauRecord: CheckedRecord {
    var code: String
    var name: String

    init?(_ bureau: Xcert_Registry_V1_ReviewingUnit, checks: inout FieldChecks, field: (String) -> String) {
        let code = bureau.code.trimmed
        let name = bureau.name.trimmed
        let ok = [
            checks.require(
                code.isDigits(6), field("code"),
                "must be the bureau's 6-digit code (its own administrative code where it has one, e.g. 610581); not \"\(code)\""),
            checks.require((1...50).contains(name.count), field("name"), "must be 1 to 50 characters"),
        ]
        guard !ok.contains(false) else { return nil }
        self.code = code
        self.name = name
    }
}

struct SchoolRecord: CheckedRecord {
    struct SpecialtyRecord: Sendable, Hashable {
        var code: String
        var name: String
    }

    var code: String
    var name: String
    var type: SchoolType
    var cityCode: String
    /// Who reviews its applications first as a secondary school: its city, or a designated bureau.
    var reviewingUnitCode: String
    var specialtyCount: Int32
    var enrolledStudents: Int32
    var specialties: [SpecialtyRecord]
    var honours: [String]

    init?(_ school: Xcert_Registry_V1_School, checks: inout FieldChecks, field: (String) -> String) {
        let before = checks.violations.count
        let code = school.code.trimmed
        checks.require(
            code.isDigits(10), field("code"), "must be the school's 10-digit national school code (学校标识码), e.g. 4136010403; not \"\(code)\""
        )
        let name = school.name.trimmed
        checks.require((1...100).contains(name.count), field("name"), "must be 1 to 100 characters")
        let type = SchoolType(wire: school.type)
        checks.require(
            type != nil, field("type"),
            """
            must be a school type: secondary_vocational 中职, higher_vocational 高职, vocational_undergraduate, \
            applied_undergraduate, open_university or technical_school
            """
        )
        let city = school.cityCode.trimmed
        checks.require(city.isDigits(6), field("city_code"), "must be a city's 6-digit code, e.g. 360100; not \"\(city)\"")
        // Empty: its city reviews it (a bad city is reported once, as city_code).
        let unit = school.reviewingUnitCode.trimmed.nonEmpty ?? city
        checks.require(
            school.reviewingUnitCode.trimmed.isEmpty || unit.isDigits(6), field("reviewing_unit_code"),
            "must be empty (its city reviews) or a designated bureau's 6-digit code; not \"\(unit)\"")
        checks.require(
            (1...10_000).contains(school.specialtyCount), field("specialty_count"), "must be 1 to 10000, not \(school.specialtyCount)")
        checks.require(
            (1...1_000_000).contains(school.enrolledStudents), field("enrolled_students"),
            "must be 1 to 1000000, not \(school.enrolledStudents)")
        var specialties: [SpecialtyRecord] = []
        for (index, specialty) in school.specialties.enumerated() {
            let code = specialty.code.trimmed
            let name = specialty.name.trimmed
            checks.require(
                (4...10).contains(code.count) && code.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) },
                field("specialties[\(index)].code"), "must be the specialty's catalogue code, 4 to 10 letters or digits; not \"\(code)\"")
            checks.require((1...100).contains(name.count), field("specialties[\(index)].name"), "must be 1 to 100 characters")
            if specialties.contains(where: { $0.code == code }) {
                checks.fail(field("specialties[\(index)].code"), "\(code) is listed twice")
            }
            specialties.append(.init(code: code, name: name))
        }
        checks.require(
            specialties.count <= Int(max(0, school.specialtyCount)), field("specialties"),
            "lists \(specialties.count) specialties, more than the school's specialty_count \(school.specialtyCount)")
        let honours = school.honours.map(\.trimmed).filter { !$0.isEmpty }
        checks.require(
            honours.count <= 20 && honours.allSatisfy { $0.count <= 100 }, field("honours"), "at most 20, each at most 100 characters")
        guard checks.violations.count == before, let type else { return nil }
        self.code = code
        self.name = name
        self.type = type
        self.cityCode = city
        self.reviewingUnitCode = unit
        self.specialtyCount = school.specialtyCount
        self.enrolledStudents = school.enrolledStudents
        self.specialties = specialties
        self.honours = honours
    }
}

struct OrganizationRecord: CheckedRecord {
    var name: String
    var contacts: [Xcert_Registry_V1_Contact]
    var fax: String
    var address: String
    var postcode: String

    init?(_ organization: Xcert_Registry_V1_Organization, checks: inout FieldChecks, field: (String) -> String) {
        let before = checks.violations.count
        let name = organization.name.trimmed
        checks.require((1...100).contains(name.count), field("name"), "must be 1 to 100 characters")
        checks.require(organization.contacts.count <= 20, field("contacts"), "at most 20 contacts")
        var contacts: [Xcert_Registry_V1_Contact] = []
        for (index, contact) in organization.contacts.enumerated() {
            var clean = Xcert_Registry_V1_Contact()
            clean.name = contact.name.trimmed
            clean.officePhone = contact.officePhone.trimmed
            clean.mobile = contact.mobile.trimmed
            clean.email = contact.email.trimmed
            checks.require((1...50).contains(clean.name.count), field("contacts[\(index)].name"), "must be 1 to 50 characters")
            checks.require(
                clean.officePhone.isPhone, field("contacts[\(index)].office_phone"),
                "must be a phone number (digits, -, +, spaces), not \"\(clean.officePhone)\"")
            checks.require(
                clean.mobile.isPhone, field("contacts[\(index)].mobile"),
                "must be a phone number (digits, -, +, spaces), not \"\(clean.mobile)\"")
            checks.require(
                clean.email.isEmpty || clean.email.isEmail, field("contacts[\(index)].email"),
                "must be an e-mail address, not \"\(clean.email)\"")
            contacts.append(clean)
        }
        let fax = organization.fax.trimmed
        checks.require(fax.isPhone, field("fax"), "must be a phone number, not \"\(fax)\"")
        let address = organization.address.trimmed
        checks.require(address.count <= 200, field("address"), "must be at most 200 characters")
        let postcode = organization.postcode.trimmed
        checks.require(postcode.isEmpty || postcode.isDigits(6), field("postcode"), "must be a 6-digit postcode, not \"\(postcode)\"")
        guard checks.violations.count == before else { return nil }
        self.name = name
        self.contacts = contacts
        self.fax = fax
        self.address = address
        self.postcode = postcode
    }
}

struct CertificateRecord: CheckedRecord {
    var code: String
    var name: String
    var batch: Int32
    var levels: [Int32]
    var organizationID: Int64?
    var scoring: ScoringRule

    init?(_ certificate: Xcert_Registry_V1_Certificate, checks: inout FieldChecks, field: (String) -> String) {
        let before = checks.violations.count
        let code = certificate.code.trimmed
        checks.require(
            code.isCertificateCode, field("code"),
            "must be 2 to 32 of A-Z, 0-9 and -, starting with a letter or digit, e.g. BIM; not \"\(code)\"")
        let name = certificate.name.trimmed
        checks.require((1...100).contains(name.count), field("name"), "must be 1 to 100 characters")
        checks.require(
            (0...4).contains(certificate.batch), field("batch"),
            "must be 1 (首批) to 4 (第四批), or 0 when not recorded; not \(certificate.batch)")
        let levels = certificate.levels.compactMap(CertificateLevel.init(wire:))
        checks.require(
            !certificate.levels.isEmpty && levels.count == certificate.levels.count, field("levels"),
            "must list at least one level, each ELEMENTARY 初级, INTERMEDIATE 中级 or ADVANCED 高级")
        checks.require(certificate.organizationID >= 0, field("organization_id"), "must be an organization's id, or 0 when not recorded")
        var scoring = ScoringRule.provinceDefault
        if certificate.hasScoring {
            scoring = ScoringRule(
                components: certificate.scoring.components.map { .init(name: $0.name.trimmed, weightPercent: Int($0.weightPercent)) },
                passMark: Int(certificate.scoring.passMark)
            )
            for problem in scoring.problems { checks.fail(field("scoring"), problem) }
        }
        guard checks.violations.count == before else { return nil }
        self.code = code
        self.name = name
        self.batch = certificate.batch
        self.levels = CertificateLevel.stored(levels)
        self.organizationID = certificate.organizationID == 0 ? nil : certificate.organizationID
        self.scoring = scoring
    }
}
