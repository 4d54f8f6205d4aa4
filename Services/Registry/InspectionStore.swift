import Foundation
import Logging
import PostgresNIO
import XCertDomain
import XCertProto
import XCertService
import XCertStore
import XCertWire

/// The registry's SQL for the province's inspections at monitoring points (004 第19条), their
/// findings and follow-up notes, and each organization's year of them.
enum InspectionStore {
    /// Whether `school` is a monitoring point of `certificate` in `year`.
    static func isMonitoringPoint(
        _ school: String, certificate: String, year: Int32, _ connection: PostgresConnection, _ logger: Logger
    ) async throws -> Bool {
        let rows = try await connection.query(
            """
            SELECT 1 FROM registry.monitoring_points
            WHERE certificate_code = \(certificate) AND year = \(year) AND school_code = \(school)
            """,
            logger: logger
        )
        for try await _ in rows.decode(Int32.self) { return true }
        return false
    }

    /// Stores `inspection` of `organization`'s agreement; returns its id.
    static func insert(
        _ inspection: Xcert_Registry_V1_Inspection, checked: MonitoringInspection, organization: Int64, recordedBy: String,
        _ connection: PostgresConnection, _ logger: Logger
    ) async throws -> Int64 {
        let rows = try await connection.query(
            """
            INSERT INTO registry.inspections (certificate_code, year, school_code, organization_id, inspected_on, inspector, follow_up,
                recorded_by)
            VALUES (\(inspection.certificateCode), \(inspection.year), \(inspection.schoolCode), \(organization),
                    \(checked.inspectedOn.description)::date, \(checked.inspector.trimmed), \(checked.followUp.trimmed), \(recordedBy))
            RETURNING id
            """,
            logger: logger
        )
        var id: Int64 = 0
        for try await value in rows.decode(Int64.self) { id = value }
        let findings = checked.findings
        try await connection.query(
            """
            INSERT INTO registry.inspection_findings (inspection_id, position, agreement_item, compliant, finding)
            SELECT \(id), position - 1, item, compliant, finding
            FROM unnest(\(findings.map { $0.agreementItem.trimmed }), \(findings.map(\.compliant)), \(findings.map { $0.finding.trimmed }))
                WITH ORDINALITY AS f (item, compliant, finding, position)
            """,
            logger: logger
        )
        return id
    }

    static func addNote(
        inspection: Int64, notedOn: LocalDate, note: String, resolved: Bool, recordedBy: String, _ connection: PostgresConnection,
        _ logger: Logger
    ) async throws {
        try await connection.query(
            """
            INSERT INTO registry.inspection_notes (inspection_id, noted_on, note, resolved, recorded_by)
            VALUES (\(inspection), \(notedOn.description)::date, \(note), \(resolved), \(recordedBy))
            """,
            logger: logger
        )
    }

    /// Per inspection: its findings, those not fulfilled, and whether its latest follow-up note
    /// says resolved. The one definition the list's filter and the table count by.
    private static let tallies = """
        SELECT i.id,
               (SELECT count(*) FROM registry.inspection_findings f WHERE f.inspection_id = i.id) AS findings,
               (SELECT count(*) FROM registry.inspection_findings f WHERE f.inspection_id = i.id AND NOT f.compliant) AS non_compliant,
               coalesce((SELECT n.resolved FROM registry.inspection_notes n WHERE n.inspection_id = i.id ORDER BY n.id DESC LIMIT 1), false)
                   AS noted_resolved
        FROM registry.inspections i
        """

    /// Which inspections to read.
    struct Filter {
        var ids: [Int64]?
        var year: Int32?
        var certificate: String?
        var organization: Int64?
        var school: String?
        var unresolvedOnly = false
        var after: Int64 = 0
        var limit = 1000
        /// Locks the inspections read until the end of the transaction (a note is added).
        var forUpdate = false
    }

    static func inspections(
        _ filter: Filter, _ connection: PostgresConnection, _ logger: Logger
    ) async throws -> [Xcert_Registry_V1_Inspection] {
        let rows = try await connection.query(
            """
            SELECT i.id, i.certificate_code, i.year, i.school_code, to_char(i.inspected_on, 'YYYY-MM-DD'), i.inspector, i.follow_up,
                   i.organization_id, o.name, s.name, i.recorded_by, i.recorded_at
            FROM registry.inspections i
            JOIN registry.organizations o ON o.id = i.organization_id
            JOIN registry.schools s ON s.code = i.school_code
            JOIN (\(unescaped: Self.tallies)) t ON t.id = i.id
            WHERE i.id > \(filter.after)
              AND (\(filter.ids)::bigint[] IS NULL OR i.id = ANY(\(filter.ids)))
              AND (\(filter.year)::integer IS NULL OR i.year = \(filter.year))
              AND (\(filter.certificate)::text IS NULL OR i.certificate_code = \(filter.certificate))
              AND (\(filter.organization)::bigint IS NULL OR i.organization_id = \(filter.organization))
              AND (\(filter.school)::text IS NULL OR i.school_code = \(filter.school))
              AND (NOT \(filter.unresolvedOnly) OR (t.non_compliant > 0 AND NOT t.noted_resolved))
            ORDER BY i.id LIMIT \(filter.limit)
            \(unescaped: filter.forUpdate ? "FOR UPDATE OF i" : "")
            """,
            logger: logger
        )
        var inspections: [Xcert_Registry_V1_Inspection] = []
        for try await row in rows.decode((Int64, String, Int32, String, String, String, String, Int64, String, String, String, Date).self) {
            var inspection = Xcert_Registry_V1_Inspection()
            inspection.id = row.0
            inspection.certificateCode = row.1
            inspection.year = row.2
            inspection.schoolCode = row.3
            guard let inspectedOn = LocalDate(iso: row.4) else { throw RPCError(.internal, "inspection \(row.0) has no day") }
            inspection.inspectedOn = inspectedOn.wire
            inspection.inspector = row.5
            inspection.followUp = row.6
            inspection.organizationID = row.7
            inspection.organizationName = row.8
            inspection.schoolName = row.9
            inspection.recordedBy = row.10
            inspection.recordedAt = .init(row.11)
            inspections.append(inspection)
        }
        guard !inspections.isEmpty else { return [] }
        let ids = inspections.map(\.id)
        var findings: [Int64: [Xcert_Registry_V1_InspectionFinding]] = [:]
        let findingRows = try await connection.query(
            """
            SELECT inspection_id, agreement_item, compliant, finding FROM registry.inspection_findings
            WHERE inspection_id = ANY(\(ids)) ORDER BY inspection_id, position
            """,
            logger: logger
        )
        for try await (id, item, compliant, text) in findingRows.decode((Int64, String, Bool, String).self) {
            var finding = Xcert_Registry_V1_InspectionFinding()
            finding.agreementItem = item
            finding.compliant = compliant
            finding.finding = text
            findings[id, default: []].append(finding)
        }
        var notes: [Int64: [Xcert_Registry_V1_FollowUpNote]] = [:]
        let noteRows = try await connection.query(
            """
            SELECT inspection_id, to_char(noted_on, 'YYYY-MM-DD'), note, resolved, recorded_by, recorded_at FROM registry.inspection_notes
            WHERE inspection_id = ANY(\(ids)) ORDER BY inspection_id, id
            """,
            logger: logger
        )
        for try await (id, day, text, resolved, recordedBy, recordedAt) in noteRows.decode((Int64, String, String, Bool, String, Date).self)
        {
            var note = Xcert_Registry_V1_FollowUpNote()
            if let notedOn = LocalDate(iso: day) { note.notedOn = notedOn.wire }
            note.note = text
            note.resolved = resolved
            note.recordedBy = recordedBy
            note.recordedAt = .init(recordedAt)
            notes[id, default: []].append(note)
        }
        for index in inspections.indices {
            let id = inspections[index].id
            inspections[index].findings = findings[id] ?? []
            inspections[index].notes = notes[id] ?? []
            inspections[index].resolved =
                Self.domain(inspections[index])?.isResolved(latestNoteResolved: inspections[index].notes.last?.resolved) ?? false
        }
        return inspections
    }

    /// The inspection as the domain rules see it; nil when its day is no date.
    static func domain(_ inspection: Xcert_Registry_V1_Inspection) -> MonitoringInspection? {
        guard let inspectedOn = LocalDate(wire: inspection.inspectedOn) else { return nil }
        return MonitoringInspection(
            year: inspection.year, inspectedOn: inspectedOn, inspector: inspection.inspector,
            findings: inspection.findings.map { .init(agreementItem: $0.agreementItem, compliant: $0.compliant, finding: $0.finding) },
            followUp: inspection.followUp)
    }

    /// Each organization's monitoring in `year` (of one organization, or all), by id.
    static func table(
        year: Int32, organization: Int64?, _ connection: PostgresConnection, _ logger: Logger
    ) async throws -> [Xcert_Registry_V1_InspectionLine] {
        let rows = try await connection.query(
            """
            WITH points AS (
                SELECT m.certificate_code, m.school_code, c.organization_id
                FROM registry.monitoring_points m JOIN registry.certificates c ON c.code = m.certificate_code
                WHERE m.year = \(year) AND c.organization_id IS NOT NULL
            ), inspected AS (
                SELECT i.certificate_code, i.school_code, i.organization_id, t.findings, t.non_compliant, t.noted_resolved
                FROM registry.inspections i JOIN (\(unescaped: Self.tallies)) t ON t.id = i.id
                WHERE i.year = \(year)
            ), keys AS (
                SELECT organization_id FROM points UNION SELECT organization_id FROM inspected
            )
            SELECT k.organization_id, o.name,
                   (SELECT count(*) FROM points p WHERE p.organization_id = k.organization_id),
                   (SELECT count(*) FROM points p WHERE p.organization_id = k.organization_id
                       AND EXISTS (SELECT 1 FROM inspected x
                                   WHERE x.certificate_code = p.certificate_code AND x.school_code = p.school_code)),
                   (SELECT count(*) FROM inspected x WHERE x.organization_id = k.organization_id),
                   (SELECT coalesce(sum(x.findings), 0) FROM inspected x WHERE x.organization_id = k.organization_id)::bigint,
                   (SELECT coalesce(sum(x.non_compliant), 0) FROM inspected x WHERE x.organization_id = k.organization_id)::bigint,
                   (SELECT count(*) FROM inspected x WHERE x.organization_id = k.organization_id AND x.non_compliant > 0
                       AND NOT x.noted_resolved)
            FROM keys k JOIN registry.organizations o ON o.id = k.organization_id
            WHERE \(organization)::bigint IS NULL OR k.organization_id = \(organization)
            ORDER BY k.organization_id
            """,
            logger: logger
        )
        var lines: [Xcert_Registry_V1_InspectionLine] = []
        for try await row in rows.decode((Int64, String, Int64, Int64, Int64, Int64, Int64, Int64).self) {
            var line = Xcert_Registry_V1_InspectionLine()
            line.organizationID = row.0
            line.organizationName = row.1
            line.monitoringPoints = Int32(clamping: row.2)
            line.pointsInspected = Int32(clamping: row.3)
            line.inspections = Int32(clamping: row.4)
            line.findings = Int32(clamping: row.5)
            line.nonCompliant = Int32(clamping: row.6)
            line.unresolved = Int32(clamping: row.7)
            lines.append(line)
        }
        return lines
    }
}
