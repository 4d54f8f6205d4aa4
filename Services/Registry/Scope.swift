import XCertService
import XCertWire

/// Which schools' pilot records a principal may see (the issue's authorization matrix):
/// province admins and services everything; a city reviewer the secondary schools under
/// its reviewing unit (审核单位: its city, or a bureau the province designates); a school
/// itself; an organization the records of its own certificates.
/// Records outside the scope are NOT_FOUND, as if they did not exist.
struct Scope: Sendable {
    /// Only this school, when set.
    var schoolCode: String?
    /// Only secondary schools under this reviewing unit, when set.
    var reviewingUnitCode: String?
    /// Only certificates of this organization, when set.
    var organizationID: Int64?

    static let everything = Scope()

    init(schoolCode: String? = nil, reviewingUnitCode: String? = nil, organizationID: Int64? = nil) {
        self.schoolCode = schoolCode
        self.reviewingUnitCode = reviewingUnitCode
        self.organizationID = organizationID
    }

    init(_ principal: Principal) throws {
        switch principal.role {
        case .provinceAdmin, .service:
            self = .everything
        case .school:
            self.init(schoolCode: principal.party ?? "-")
        case .cityReviewer:
            self.init(reviewingUnitCode: principal.party ?? "-")
        case .organization:
            self.init(organizationID: try principal.organizationID())
        default:
            throw RPCError(.permissionDenied, "the role \(principal.role) may not see pilot records")
        }
    }

    /// Whether a record of this school (of this type, under this reviewing unit) and
    /// certificate (of this organization) is in scope.
    func covers(school: String, type: String, reviewingUnit: String, certificateOrganization: Int64?) -> Bool {
        if let schoolCode, schoolCode != school { return false }
        if let reviewingUnitCode, reviewingUnitCode != reviewingUnit || type != "secondary_vocational" { return false }
        if let organizationID, organizationID != certificateOrganization { return false }
        return true
    }
}

extension Principal {
    /// A school acts only for itself (applies, records its teams): PERMISSION_DENIED naming
    /// `doing` when a school principal names another school. Other roles the method admits
    /// act for any school.
    func requireActingFor(school: String, _ doing: String) throws {
        guard self.role == .school, self.party != school else { return }
        throw RPCError(.permissionDenied, "a school \(doing) only for itself (\(self.party ?? "none")), not for \(school)")
    }
}
