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
