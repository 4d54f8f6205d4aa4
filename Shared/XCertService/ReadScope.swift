import XCertWire

/// Whose records a reader may see: a school only its own, an organization only its own,
/// the province and services everything (both nil). Each service decides what "its own"
/// means for its records; this says only who the reader is.
public struct ReadScope: Sendable, Equatable {
    /// Only this school's, when set.
    public var school: String?
    /// Only this organization's, when set.
    public var organization: Int64?

    public static let everything = ReadScope()

    public init(school: String? = nil, organization: Int64? = nil) {
        self.school = school
        self.organization = organization
    }

    /// The scope of `principal`: its school or its organization; everything for other roles.
    public init(_ principal: Principal) throws {
        switch principal.role {
        case .school: self.init(school: try principal.schoolCode())
        case .organization: self.init(organization: try principal.organizationID())
        default: self.init()
        }
    }
}

extension RequestContext {
    /// Whose records the caller may read (its role was checked against the method's
    /// declared roles before the handler ran).
    public func readScope() throws -> ReadScope {
        try ReadScope(try self.caller())
    }
}

extension RequestContext {
    /// The caller, provided it may act on `school`'s records: a school acts only for itself,
    /// and another school's records (`record`, e.g. "the account of school 4136010001") are
    /// NOT_FOUND to it, as if they did not exist. The method's declared roles say who else.
    public func caller(actingForSchool school: String, record: @autoclosure () -> String) throws -> Principal {
        let principal = try self.caller()
        if principal.role == .school, principal.party != school {
            throw RPCError.notFound(record())
        }
        return principal
    }
}
