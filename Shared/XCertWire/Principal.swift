/// Who is calling, as the token check established it.
public struct Principal: Sendable, Hashable {
    /// What a principal may do; `party` says for whom.
    public struct Role: Sendable, Hashable, CustomStringConvertible {
        public let rawValue: String

        public init?(rawValue: String) {
            guard Self.all.contains(where: { $0.rawValue == rawValue }) else { return nil }
            self.rawValue = rawValue
        }

        private init(_ rawValue: String) { self.rawValue = rawValue }

        /// The province's officers (省级管理员): everything.
        public static let provinceAdmin = Role("province_admin")
        /// A city education bureau's reviewer (设区市审核), bound to one city.
        public static let cityReviewer = Role("city_reviewer")
        /// A pilot school (试点院校), bound to one school.
        public static let school = Role("school")
        /// A training & evaluation organization (培训评价组织), bound to one organization.
        public static let organization = Role("organization")
        /// Another XCert service calling over the wire.
        public static let service = Role("service")

        public static let all: [Role] = [.provinceAdmin, .cityReviewer, .school, .organization, .service]

        public var description: String { self.rawValue }
    }

    public var id: Int64
    public var name: String
    public var role: Role
    /// The city code, school code, organization id or service name the principal is
    /// bound to; nil for province admins.
    public var party: String?

    public init(id: Int64, name: String, role: Role, party: String?) {
        self.id = id
        self.name = name
        self.role = role
        self.party = party
    }

    /// The key under which this principal's idempotency keys are kept.
    public var idempotencyScope: String { "principal:\(self.id)" }

    /// The organization id a principal of role `organization` acts for; PERMISSION_DENIED
    /// when its party is not one.
    public func organizationID() throws -> Int64 {
        guard let party = self.party, let id = Int64(party), id > 0 else {
            throw RPCError(.permissionDenied, "this principal names no organization")
        }
        return id
    }

    /// The school code a principal of role `school` acts for; PERMISSION_DENIED when it names none.
    public func schoolCode() throws -> String {
        guard let party = self.party, !party.isEmpty else {
            throw RPCError(.permissionDenied, "this principal names no school")
        }
        return party
    }
}
