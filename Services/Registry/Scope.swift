import XCertService
import XCertWire

/// Which schools' pilot records a principal may see (the authorization matrix):
/// province admins and services everything; a city reviewer its own city's secondary
/// schools; a school itself; an organization the records of its own certificates.
/// Records outside the scope are NOT_FOUND, as if they did not exist.
struct Scope: Sendable {
    /// Only this school, when set.
    var schoolCode: String?
    /// Only secondary schools of this city, when set.
    var cityCode: String?
    /// Only certificates of this organization, when set.
    var organizationID: Int64?

    static let everything = Scope()

    init(schoolCode: String? = nil, cityCode: String? = nil, organizationID: Int64? = nil) {
        self.schoolCode = schoolCode
        self.cityCode = cityCode
        self.organizationID = organizationID
    }

    init(_ principal: Principal) throws {
        switch principal.role {
        case .provinceAdmin, .service:
            self = .everything
        case .school:
            self.init(schoolCode: principal.party ?? "-")
        case .cityReviewer:
            self.init(cityCode: principal.party ?? "-")
        case .organization:
            self.init(organizationID: try principal.organizationID())
        default:
            throw RPCError(.permissionDenied, "the role \(principal.role) may not see pilot records")
        }
    }

    /// Whether a record of this school (of this type and city) and certificate
    /// (of this organization) is in scope.
    func covers(school: String, type: String, city: String, certificateOrganization: Int64?) -> Bool {
        if let schoolCode, schoolCode != school { return false }
        if let cityCode, cityCode != city || type != "secondary_vocational" { return false }
        if let organizationID, organizationID != certificateOrganization { return false }
        return true
    }
}
