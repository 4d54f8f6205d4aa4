import Foundation
import Logging
import PostgresNIO
import SwiftProtobuf
import XCertDomain
import XCertProto
import XCertService
import XCertWire

/// The SQL of organizations' yearly reports (`filing.reports`): typed rows in, messages out.
enum ReportStore {
    struct Filter: Sendable {
        var ids: [Int64]?
        var organizationID: Int64?
        var year: Int32?
        var state: String?
        /// Only the live version (submitted or accepted) of each organization and year.
        var liveOnly = false
        var latestOnly = false
        var after: Int64 = 0
        var limit = 1000
    }

    static func reports(_ filter: Filter, _ connection: PostgresConnection, _ logger: Logger) async throws -> [Xcert_Filing_V1_YearlyReport]
    {
        let rows = try await connection.query(
            """
            SELECT r.id, r.organization_id, r.year, r.version, r.state, r.content::text, r.submitted_at, r.submitted_by,
                   coalesce(r.review_reason, ''), coalesce(r.reviewer, ''), r.reviewed_at, coalesce(r.withdrawal_reason, ''),
                   r.returned_with::text
            FROM filing.reports r
            WHERE r.id > \(filter.after)
              AND (\(filter.ids)::bigint[] IS NULL OR r.id = ANY(\(filter.ids)))
              AND (\(filter.organizationID)::bigint IS NULL OR r.organization_id = \(filter.organizationID))
              AND (\(filter.year)::integer IS NULL OR r.year = \(filter.year))
              AND (\(filter.state)::text IS NULL OR r.state = \(filter.state))
              AND (NOT \(filter.liveOnly) OR r.state IN ('submitted', 'accepted'))
              AND (NOT \(filter.latestOnly) OR r.version = (
                  SELECT max(version) FROM filing.reports l WHERE l.organization_id = r.organization_id AND l.year = r.year))
            ORDER BY r.id LIMIT \(filter.limit)
            """,
            logger: logger
        )
        var reports: [Xcert_Filing_V1_YearlyReport] = []
        for try await row in rows.decode(
            (Int64, Int64, Int32, Int32, String, String, Date, String, String, String, Date?, String, String).self)
        {
            var report = Xcert_Filing_V1_YearlyReport()
            report.id = row.0
            report.organizationID = row.1
            report.year = row.2
            report.version = row.3
            report.state = ReportStates.wire(row.4)
            report.content = ReportContentChecks.withRates(try Xcert_Filing_V1_YearlyReportContent(jsonString: row.5))
            report.submittedAt = .init(row.6)
            report.submittedBy = row.7
            report.reviewReason = row.8
            report.reviewer = row.9
            if let reviewed = row.10 { report.reviewedAt = .init(reviewed) }
            report.withdrawalReason = row.11
            report.returnedWith = try Xcert_Filing_V1_ReportDifference.array(fromJSONString: row.12)
            reports.append(report)
        }
        return reports
    }

    static func report(
        _ id: Int64, organization: Int64?, _ connection: PostgresConnection, _ logger: Logger
    ) async throws -> Xcert_Filing_V1_YearlyReport {
        var filter = Filter(ids: [id])
        filter.organizationID = organization
        guard let report = try await self.reports(filter, connection, logger).first else {
            throw RPCError(.notFound, "there is no report \(id)")
        }
        return report
    }

    /// The versions of an organization's report for `year` that stand in the way of a new one.
    static func liveVersions(
        organization: Int64, year: Int32, _ connection: PostgresConnection, _ logger: Logger
    ) async throws -> [(id: Int64, version: Int32, state: ReviewedSubmission.State)] {
        let rows = try await connection.query(
            """
            SELECT id, version, state FROM filing.reports
            WHERE organization_id = \(organization) AND year = \(year) AND state IN ('submitted', 'accepted')
            """,
            logger: logger
        )
        var versions: [(id: Int64, version: Int32, state: ReviewedSubmission.State)] = []
        for try await (id, version, state) in rows.decode((Int64, Int32, String).self) {
            versions.append((id, version, ReviewedSubmission.Kind.report.state(named: state) ?? .submitted))
        }
        return versions
    }

    /// A new submitted version of the organization's report for `year`; returns its id.
    static func insert(
        organization: Int64, year: Int32, contentJSON: String, submittedBy: String, _ connection: PostgresConnection, _ logger: Logger
    ) async throws -> Int64 {
        let inserted = try await connection.query(
            """
            INSERT INTO filing.reports (organization_id, year, version, state, content, submitted_by)
            SELECT \(organization), \(year), coalesce(max(version), 0) + 1, 'submitted', \(contentJSON)::jsonb, \(submittedBy)
            FROM filing.reports WHERE organization_id = \(organization) AND year = \(year)
            RETURNING id
            """,
            logger: logger
        )
        for try await id in inserted.decode(Int64.self) { return id }
        throw RPCError(.internal, "the new report's id was not returned")
    }

    /// Keeps the differences report `id` was returned with.
    static func saveReturnedWith(
        _ differences: [Xcert_Filing_V1_ReportDifference], report id: Int64, _ connection: PostgresConnection, _ logger: Logger
    ) async throws {
        let json = try Xcert_Filing_V1_ReportDifference.jsonString(from: differences, options: .stored)
        try await connection.query("UPDATE filing.reports SET returned_with = \(json)::jsonb WHERE id = \(id)", logger: logger)
    }

    /// What the sealed rosters in force of `organization`'s exams in `year` count, per
    /// certificate level: the candidates (申报/获批/完成考核/通过) and the exam sessions.
    struct RosterFigures {
        var certificate: String
        var level: CertificateLevel
        var sessions: Int64
        var declared: Int64
        var approved: Int64
        var completed: Int64
        var passed: Int64
    }

    static func rosterFigures(
        organization: Int64, year: Int32, _ connection: PostgresConnection, _ logger: Logger
    ) async throws -> [RosterFigures] {
        let rows = try await connection.query(
            """
            SELECT ro.certificate_code, ro.level, count(DISTINCT ro.id)::bigint,
                   coalesce(sum(t.declared), 0)::bigint, coalesce(sum(t.approved), 0)::bigint,
                   coalesce(sum(t.completed), 0)::bigint, coalesce(sum(t.passed), 0)::bigint
            FROM filing.rosters ro
            LEFT JOIN filing.roster_tallies t ON t.roster_id = ro.id
            WHERE ro.organization_id = \(organization) AND ro.state = 'sealed'
              AND ro.exam_date >= make_date(\(year), 1, 1) AND ro.exam_date < make_date(\(year) + 1, 1, 1)
            GROUP BY ro.certificate_code, ro.level
            """,
            logger: logger
        )
        var figures: [RosterFigures] = []
        for try await (certificate, level, sessions, declared, approved, completed, passed) in rows.decode(
            (String, Int32, Int64, Int64, Int64, Int64, Int64).self)
        {
            guard let level = CertificateLevel(rawValue: Int(level)) else {
                throw RPCError(.internal, "a roster of \(certificate) has the level \(level)")
            }
            figures.append(
                RosterFigures(
                    certificate: certificate, level: level, sessions: sessions, declared: declared, approved: approved,
                    completed: completed, passed: passed))
        }
        return figures
    }
}

/// `ReportState` as the review lifecycle and the database know it: a report's approval is
/// named accepted, its rejection returned (``ReviewedSubmission/Kind/name(of:)``).
enum ReportStates {
    static func lifecycle(_ state: Xcert_Filing_V1_ReportState) -> ReviewedSubmission.State? {
        switch state {
        case .submitted: .submitted
        case .accepted: .approved
        case .returned: .rejected
        case .withdrawn: .withdrawn
        default: nil
        }
    }

    static func stored(_ state: Xcert_Filing_V1_ReportState) -> String? {
        self.lifecycle(state).map(ReviewedSubmission.Kind.report.name(of:))
    }

    static func wire(_ stored: String) -> Xcert_Filing_V1_ReportState {
        switch ReviewedSubmission.Kind.report.state(named: stored) {
        case .submitted: .submitted
        case .approved: .accepted
        case .rejected: .returned
        case .withdrawn: .withdrawn
        case nil: .unspecified
        }
    }
}
