import Foundation
import Logging
import PostgresNIO
import XCertDomain
import XCertProto
import XCertService
import XCertStore
import XCertWire

/// The registry's SQL for what the province does about leads outside a selection's own naming
/// (000 第三条 动态调整, 第五条) with its history, and what others say of lead applications (the
/// organization's opinion, 第四条; the education bureaus' recommendations, 第十七条).
enum LeadAdjustmentStore {
    /// Opens a selection of `certificate` in `year` that is final at once, its leads assigned by
    /// the province; false when there is a selection already.
    static func openAssigned(
        _ certificate: String, _ year: Int32, now: Date, _ connection: PostgresConnection, _ logger: Logger
    ) async throws -> Bool {
        let today = LocalDate(containing: Int64(now.timeIntervalSince1970))
        let inserted = try await connection.query(
            """
            INSERT INTO registry.lead_selections (certificate_code, year, phase, applications_close, finalized_at, assigned)
            VALUES (\(certificate), \(year), 'final', \(today.description)::date, \(now), true)
            ON CONFLICT DO NOTHING RETURNING year
            """,
            logger: logger
        )
        for try await _ in inserted.decode(Int32.self) { return true }
        return false
    }

    /// Makes `leads` the leads of `certificate` in `year`, in place of those before.
    static func replaceLeads(
        _ leads: [(school: String, primary: Bool)], certificate: String, year: Int32, _ connection: PostgresConnection, _ logger: Logger
    ) async throws {
        try await connection.query(
            "DELETE FROM registry.lead_schools WHERE certificate_code = \(certificate) AND year = \(year)", logger: logger)
        try await connection.query(
            """
            INSERT INTO registry.lead_schools (certificate_code, year, school_code, is_primary)
            SELECT \(certificate), \(year), school, is_primary
            FROM unnest(\(leads.map(\.school)), \(leads.map(\.primary))) AS l (school, is_primary)
            """,
            logger: logger
        )
    }

    /// What kind of change of leads, as stored.
    enum Kind: String {
        case assigned, replaced, removed, added

        var wire: Xcert_Registry_V1_LeadChangeKind {
            switch self {
            case .assigned: .assigned
            case .replaced: .replaced
            case .removed: .removed
            case .added: .added
            }
        }
    }

    static func recordChange(
        _ kind: Kind, certificate: String, year: Int32, removed: String?, added: String?, addedPrimary: Bool, reason: String,
        changedBy: String, _ connection: PostgresConnection, _ logger: Logger
    ) async throws {
        try await connection.query(
            """
            INSERT INTO registry.lead_changes (certificate_code, year, kind, removed_school_code, added_school_code, added_primary, reason,
                changed_by)
            VALUES (\(certificate), \(year), \(kind.rawValue), \(removed), \(added), \(addedPrimary), \(reason), \(changedBy))
            """,
            logger: logger
        )
    }

    /// The changes of the leads of `certificate` in `year`, oldest first.
    static func changes(
        _ certificate: String, _ year: Int32, _ connection: PostgresConnection, _ logger: Logger
    ) async throws -> [Xcert_Registry_V1_LeadChange] {
        let rows = try await connection.query(
            """
            SELECT id, kind, coalesce(removed_school_code, ''), coalesce(added_school_code, ''), added_primary, reason, changed_by,
                   changed_at
            FROM registry.lead_changes WHERE certificate_code = \(certificate) AND year = \(year) ORDER BY id
            """,
            logger: logger
        )
        var changes: [Xcert_Registry_V1_LeadChange] = []
        for try await row in rows.decode((Int64, String, String, String, Bool, String, String, Date).self) {
            var change = Xcert_Registry_V1_LeadChange()
            change.id = row.0
            change.kind = Kind(rawValue: row.1)?.wire ?? .unspecified
            change.removedSchoolCode = row.2
            change.addedSchoolCode = row.3
            change.addedPrimary = row.4
            change.reason = row.5
            change.changedBy = row.6
            change.changedAt = .init(row.7)
            changes.append(change)
        }
        return changes
    }

    // MARK: - Opinions and recommendations

    /// An organization's opinion as stored and on the wire.
    static func storedOpinion(_ opinion: Xcert_Registry_V1_Opinion) -> String? {
        switch opinion {
        case .supports: "supports"
        case .noObjection: "no_objection"
        case .opposes: "opposes"
        default: nil
        }
    }

    /// Records the organization's opinion of `application`; false when it has one already.
    static func addOpinion(
        application: Int64, opinion: String, text: String, recordedBy: String, _ connection: PostgresConnection, _ logger: Logger
    ) async throws -> Bool {
        let inserted = try await connection.query(
            """
            INSERT INTO registry.lead_opinions (application_id, opinion, text, recorded_by)
            VALUES (\(application), \(opinion), \(text), \(recordedBy)) ON CONFLICT DO NOTHING RETURNING application_id
            """,
            logger: logger
        )
        for try await _ in inserted.decode(Int64.self) { return true }
        return false
    }

    /// Records `unit`'s recommendation of `application`; false when it has recommended it already.
    static func addRecommendation(
        application: Int64, unit: String, text: String, recordedBy: String, _ connection: PostgresConnection, _ logger: Logger
    ) async throws -> Bool {
        let inserted = try await connection.query(
            """
            INSERT INTO registry.lead_recommendations (application_id, reviewing_unit_code, text, recorded_by)
            VALUES (\(application), \(unit), \(text), \(recordedBy)) ON CONFLICT DO NOTHING RETURNING application_id
            """,
            logger: logger
        )
        for try await _ in inserted.decode(Int64.self) { return true }
        return false
    }

    /// Fills in `application`'s organization opinion and recommendations.
    static func addTestimonies(
        to application: inout Xcert_Registry_V1_LeadApplication, _ connection: PostgresConnection, _ logger: Logger
    ) async throws {
        let opinions = try await connection.query(
            "SELECT opinion, text, recorded_by, recorded_at FROM registry.lead_opinions WHERE application_id = \(application.id)",
            logger: logger
        )
        for try await (opinion, text, recordedBy, recordedAt) in opinions.decode((String, String, String, Date).self) {
            application.organizationOpinion.opinion =
                switch opinion {
                case "supports": .supports
                case "no_objection": .noObjection
                default: .opposes
                }
            application.organizationOpinion.text = text
            application.organizationOpinion.recordedBy = recordedBy
            application.organizationOpinion.recordedAt = .init(recordedAt)
        }
        let recommendations = try await connection.query(
            """
            SELECT r.reviewing_unit_code, coalesce(c.name, b.name, ''), r.text, r.recorded_by, r.recorded_at
            FROM registry.lead_recommendations r
            LEFT JOIN registry.cities c ON c.code = r.reviewing_unit_code
            LEFT JOIN registry.reviewing_bureaus b ON b.code = r.reviewing_unit_code
            WHERE r.application_id = \(application.id) ORDER BY r.recorded_at, r.reviewing_unit_code
            """,
            logger: logger
        )
        for try await (unit, name, text, recordedBy, recordedAt) in recommendations.decode((String, String, String, String, Date).self) {
            var recommendation = Xcert_Registry_V1_BureauRecommendation()
            recommendation.reviewingUnitCode = unit
            recommendation.reviewingUnitName = name
            recommendation.text = text
            recommendation.recordedBy = recordedBy
            recommendation.recordedAt = .init(recordedAt)
            application.recommendations.append(recommendation)
        }
    }
}
