import Foundation
import Logging
import PostgresNIO
import XCertDomain
import XCertProto
import XCertService
import XCertStore
import XCertWire

/// The registry's SQL for the province's oversight of organizations: their irregularities,
/// their standing and its history, which is also the standing feed.
enum OversightStore {
    /// The standing feed, which settlement follows.
    static let feed = ChangeFeed(table: "registry.standing_changes")

    /// Organization `id` as the province oversees it; NOT_FOUND when there is none.
    static func oversight(
        _ id: Int64, _ connection: PostgresConnection, _ logger: Logger
    ) async throws -> Xcert_Registry_V1_OrganizationOversight {
        let rows = try await connection.query("SELECT name, standing FROM registry.organizations WHERE id = \(id)", logger: logger)
        var oversight: Xcert_Registry_V1_OrganizationOversight?
        for try await (name, standing) in rows.decode((String, String).self) {
            var found = Xcert_Registry_V1_OrganizationOversight()
            found.organizationID = id
            found.organizationName = name
            found.standing = OrganizationStanding(rawValue: standing)?.wire ?? .unspecified
            oversight = found
        }
        guard var oversight else { throw RPCError(.notFound, "there is no organization \(id)") }
        oversight.history = try await self.changes(where: .organization(id), connection, logger)
        oversight.irregularities = try await self.irregularities(of: id, connection, logger)
        return oversight
    }

    /// The organization's standing and version, locked until the end of the transaction, so
    /// that two decisions about it are taken one after the other.
    static func lockStanding(
        _ id: Int64, _ connection: PostgresConnection, _ logger: Logger
    ) async throws -> (standing: OrganizationStanding, version: Int64) {
        let rows = try await connection.query(
            "SELECT standing, version FROM registry.organizations WHERE id = \(id) FOR UPDATE", logger: logger)
        for try await (standing, version) in rows.decode((String, Int64).self) {
            guard let standing = OrganizationStanding(rawValue: standing) else {
                throw RPCError(.internal, "organization \(id) has the standing \(standing), which is none")
            }
            return (standing, version)
        }
        throw RPCError(.notFound, "there is no organization \(id)")
    }

    /// A decision about the organization's standing, as the domain let it through.
    struct Decision {
        var organization: Int64
        var previous: OrganizationStanding
        var standing: OrganizationStanding
        var reason: String
        var effectiveOn: LocalDate
        var decidedBy: String
    }

    /// Records `decision`: the organization's standing (a new version of it) and the change on
    /// the feed, in commit order (see ``ChangeFeed``).
    static func record(_ decision: Decision, _ connection: PostgresConnection, _ logger: Logger) async throws {
        try await connection.query(
            """
            UPDATE registry.organizations SET standing = \(decision.standing.rawValue), version = version + 1
            WHERE id = \(decision.organization)
            """,
            logger: logger
        )
        try await Self.feed.lockForAppend(connection, logger: logger)
        try await connection.query(
            """
            INSERT INTO registry.standing_changes (organization_id, standing, previous, reason, effective_on, changed_by)
            VALUES (\(decision.organization), \(decision.standing.rawValue), \(decision.previous.rawValue), \(decision.reason),
                    \(decision.effectiveOn.description)::date, \(decision.decidedBy))
            """,
            logger: logger
        )
    }

    /// Which standing changes to read.
    enum Selection {
        /// One organization's, oldest first.
        case organization(Int64)
        /// The latest of each of these organizations.
        case latest(of: [Int64])
        /// The feed's page: after a cursor, at most so many.
        case feed(after: Int64, limit: Int)
    }

    static func changes(
        where selection: Selection, _ connection: PostgresConnection, _ logger: Logger
    ) async throws -> [Xcert_Registry_V1_StandingChange] {
        let columns = "cursor, organization_id, standing, previous, reason, to_char(effective_on, 'YYYY-MM-DD'), changed_at, changed_by"
        let rows: PostgresRowSequence
        switch selection {
        case .organization(let id):
            rows = try await connection.query(
                "SELECT \(unescaped: columns) FROM registry.standing_changes WHERE organization_id = \(id) ORDER BY cursor",
                logger: logger)
        case .latest(let ids):
            rows = try await connection.query(
                """
                SELECT DISTINCT ON (organization_id) \(unescaped: columns) FROM registry.standing_changes
                WHERE organization_id = ANY(\(ids)) ORDER BY organization_id, cursor DESC
                """,
                logger: logger)
        case .feed(let after, let limit):
            rows = try await connection.query(
                "SELECT \(unescaped: columns) FROM registry.standing_changes WHERE cursor > \(after) ORDER BY cursor LIMIT \(limit)",
                logger: logger)
        }
        var changes: [Xcert_Registry_V1_StandingChange] = []
        for try await row in rows.decode((Int64, Int64, String, String, String, String, Date, String).self) {
            var change = Xcert_Registry_V1_StandingChange()
            change.cursor = row.0
            change.organizationID = row.1
            change.standing = OrganizationStanding(rawValue: row.2)?.wire ?? .unspecified
            change.previous = OrganizationStanding(rawValue: row.3)?.wire ?? .unspecified
            change.reason = row.4
            guard let effectiveOn = LocalDate(iso: row.5) else { throw RPCError(.internal, "standing change \(row.0) has no day") }
            change.effectiveOn = effectiveOn.wire
            change.changedAt = .init(row.6)
            change.changedBy = row.7
            changes.append(change)
        }
        return changes
    }

    static func addIrregularity(
        organization: Int64, kind: String, description: String, year: Int32, recordedBy: String,
        _ connection: PostgresConnection, _ logger: Logger
    ) async throws {
        try await connection.query(
            """
            INSERT INTO registry.organization_irregularities (organization_id, kind, description, year, recorded_by)
            VALUES (\(organization), \(kind), \(description), \(year), \(recordedBy))
            """,
            logger: logger
        )
    }

    static func irregularities(
        of organization: Int64, _ connection: PostgresConnection, _ logger: Logger
    ) async throws -> [Xcert_Registry_V1_OrganizationIrregularity] {
        let rows = try await connection.query(
            """
            SELECT id, kind, description, year, recorded_at, recorded_by FROM registry.organization_irregularities
            WHERE organization_id = \(organization) ORDER BY id
            """,
            logger: logger
        )
        var irregularities: [Xcert_Registry_V1_OrganizationIrregularity] = []
        for try await (id, kind, description, year, recordedAt, recordedBy) in rows.decode(
            (Int64, String, String, Int32, Date, String).self)
        {
            var irregularity = Xcert_Registry_V1_OrganizationIrregularity()
            irregularity.id = id
            irregularity.kind = OrganizationIrregularityKinds.wire(kind)
            irregularity.description_p = description
            irregularity.year = year
            irregularity.recordedAt = .init(recordedAt)
            irregularity.recordedBy = recordedBy
            irregularities.append(irregularity)
        }
        return irregularities
    }
}

/// An organization's irregularity kind as stored and on the wire.
enum OrganizationIrregularityKinds {
    static func stored(_ kind: Xcert_Registry_V1_OrganizationIrregularityKind) -> String? {
        switch kind {
        case .agents: "agents"
        case .forcedPurchase: "forced_purchase"
        case .fees: "fees"
        case .agreement: "agreement"
        case .other: "other"
        default: nil
        }
    }

    static func wire(_ stored: String) -> Xcert_Registry_V1_OrganizationIrregularityKind {
        switch stored {
        case "agents": .agents
        case "forced_purchase": .forcedPurchase
        case "fees": .fees
        case "agreement": .agreement
        default: .other
        }
    }
}
