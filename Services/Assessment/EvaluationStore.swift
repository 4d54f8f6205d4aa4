import Foundation
import Logging
import PostgresNIO
import SwiftProtobuf
import XCertDomain
import XCertProto
import XCertService
import XCertWire

/// The SQL of schools' yearly evaluations (`assessment.evaluations`) as their lifecycle
/// changes.
enum EvaluationStore {
    /// Writes what a transition of the evaluation of `school` in `year` changed: a
    /// submission (the first, on `schemeVersion`, or again), or the review that locks it.
    static func record(
        _ event: EvaluationLifecycle.Event, school: String, year: Int32, schemeVersion: Int32,
        _ connection: PostgresConnection, _ logger: Logger
    ) async throws {
        switch event {
        case .selfSubmitted(let submitter, let at):
            try await connection.query(
                """
                INSERT INTO assessment.evaluations (school_code, year, scheme_version, state, submitted_at, submitted_by)
                VALUES (\(school), \(year), \(schemeVersion), \(EvaluationLifecycle.State.selfSubmitted.rawValue), \(at), \(submitter))
                ON CONFLICT (school_code, year) DO UPDATE SET submitted_at = excluded.submitted_at, submitted_by = excluded.submitted_by
                """,
                logger: logger
            )
        case .locked(let reviewer, let at):
            try await connection.query(
                """
                UPDATE assessment.evaluations
                SET state = \(EvaluationLifecycle.State.locked.rawValue), reviewer = \(reviewer), reviewed_at = \(at)
                WHERE school_code = \(school) AND year = \(year)
                """,
                logger: logger
            )
        }
    }

    /// An evaluation's record: the scheme version it is scored on, where it stands and who
    /// reviewed it.
    struct Header {
        var schemeVersion: Int32
        var state: EvaluationLifecycle.State
        var submittedAt: Date
        var reviewer: String
        var reviewedAt: Date?
        /// 自评报告 and its attachments, as last submitted.
        var report: String
        var attachments: [Xcert_Filing_V1_Attachment]
    }

    /// The record of the evaluation of `school` in `year`, its row locked until the
    /// transaction ends; nil when there is none.
    static func header(_ school: String, _ year: Int32, _ connection: PostgresConnection, _ logger: Logger) async throws -> Header? {
        let rows = try await connection.query(
            """
            SELECT scheme_version, state, submitted_at, coalesce(reviewer, ''), reviewed_at, report, attachments::text
            FROM assessment.evaluations
            WHERE school_code = \(school) AND year = \(year) FOR UPDATE
            """,
            logger: logger
        )
        let decoded = rows.decode((Int32, String, Date, String, Date?, String, String).self)
        for try await (version, state, submitted, reviewer, reviewed, report, attachments) in decoded {
            guard let state = EvaluationLifecycle.State(rawValue: state) else {
                throw RPCError(.internal, "the \(year) evaluation of \(school) has the unknown state \(state)")
            }
            return Header(
                schemeVersion: version, state: state, submittedAt: submitted, reviewer: reviewer, reviewedAt: reviewed, report: report,
                attachments: try Xcert_Filing_V1_Attachment.array(fromJSONString: attachments))
        }
        return nil
    }

    /// Keeps the self-evaluation report (自评报告) and its attachments of the evaluation of
    /// `school` in `year` as submitted last.
    static func saveReport(
        _ report: String, attachments: [Xcert_Filing_V1_Attachment], school: String, year: Int32,
        _ connection: PostgresConnection, _ logger: Logger
    ) async throws {
        let json = try Xcert_Filing_V1_Attachment.jsonString(from: attachments, options: .stored)
        try await connection.query(
            """
            UPDATE assessment.evaluations SET report = \(report), attachments = \(json)::jsonb
            WHERE school_code = \(school) AND year = \(year)
            """,
            logger: logger
        )
    }

    /// The schools with an evaluation in `year`, by code.
    static func schools(evaluatedIn year: Int32, _ connection: PostgresConnection, _ logger: Logger) async throws -> [String] {
        let rows = try await connection.query(
            "SELECT school_code FROM assessment.evaluations WHERE year = \(year) ORDER BY school_code", logger: logger
        )
        var codes: [String] = []
        for try await code in rows.decode(String.self) { codes.append(code) }
        return codes
    }

    /// An item of an evaluation as stored: the school's points and evidence, the review's
    /// points and comment once reviewed, and a computed item's measure as the review froze it.
    struct Item {
        var code: String
        var selfPointsTenths: Int32
        var evidence: [Xcert_Assessment_V1_Evidence]
        var reviewedPointsTenths: Int32?
        var reviewComment: String
        var measureNumerator: Int64?
        var measureDenominator: Int64?
    }

    /// The stored items of the evaluation of `school` in `year`.
    static func items(_ school: String, _ year: Int32, _ connection: PostgresConnection, _ logger: Logger) async throws -> [Item] {
        let rows = try await connection.query(
            """
            SELECT code, self_points_tenths, evidence::text, reviewed_points_tenths, coalesce(review_comment, ''),
                   measure_numerator, measure_denominator
            FROM assessment.evaluation_items WHERE school_code = \(school) AND year = \(year)
            """,
            logger: logger
        )
        var items: [Item] = []
        let decoded = rows.decode((String, Int32, String, Int32?, String, Int64?, Int64?).self)
        for try await (code, points, evidence, reviewed, comment, numerator, denominator) in decoded {
            items.append(
                Item(
                    code: code, selfPointsTenths: points, evidence: try Xcert_Assessment_V1_SelfScore(jsonString: evidence).evidence,
                    reviewedPointsTenths: reviewed, reviewComment: comment, measureNumerator: numerator, measureDenominator: denominator
                ))
        }
        return items
    }

    /// Replaces the items of the evaluation of `school` in `year` by the school's `scores`
    /// (each with its code, points and evidence), not reviewed.
    static func replaceSelfScores(
        _ scores: [Xcert_Assessment_V1_SelfScore], school: String, year: Int32, _ connection: PostgresConnection, _ logger: Logger
    ) async throws {
        try await connection.query(
            "DELETE FROM assessment.evaluation_items WHERE school_code = \(school) AND year = \(year)", logger: logger
        )
        let codes = scores.map(\.code)
        let points = scores.map(\.pointsTenths)
        let evidence = try scores.map { score -> String in
            var holder = Xcert_Assessment_V1_SelfScore()
            holder.evidence = score.evidence
            return try holder.jsonString(options: .stored)
        }
        try await connection.query(
            """
            INSERT INTO assessment.evaluation_items (school_code, year, code, self_points_tenths, evidence)
            SELECT \(school), \(year), c, p, e::jsonb FROM unnest(\(codes)::text[], \(points)::integer[], \(evidence)::text[]) AS x(c, p, e)
            """,
            logger: logger
        )
    }

    /// Writes the review's points and comments of the manual items of the evaluation of
    /// `school` in `year`.
    static func recordReview(
        _ scores: [Xcert_Assessment_V1_ReviewScore], school: String, year: Int32, _ connection: PostgresConnection, _ logger: Logger
    ) async throws {
        try await connection.query(
            """
            UPDATE assessment.evaluation_items i SET reviewed_points_tenths = x.p, review_comment = x.m
            FROM unnest(\(scores.map(\.code))::text[], \(scores.map(\.pointsTenths))::integer[],
                        \(scores.map(\.comment))::text[]) AS x(c, p, m)
            WHERE i.school_code = \(school) AND i.year = \(year) AND i.code = x.c
            """,
            logger: logger
        )
    }

    /// Adds the computed `items` to the evaluation of `school` in `year` as the review
    /// locks them: their points, reviewed, and their measures frozen.
    static func freezeComputed(
        _ items: [Xcert_Assessment_V1_ItemScore], school: String, year: Int32, _ connection: PostgresConnection, _ logger: Logger
    ) async throws {
        try await connection.query(
            """
            INSERT INTO assessment.evaluation_items (school_code, year, code, self_points_tenths, evidence, reviewed_points_tenths,
                review_comment, measure_numerator, measure_denominator)
            SELECT \(school), \(year), c, 0, '{}'::jsonb, p, 'computed', nullif(n, -1), nullif(d, -1)
            FROM unnest(\(items.map(\.code))::text[], \(items.map(\.finalPointsTenths))::integer[],
                        \(items.map(Self.frozenMeasure).map(\.numerator))::bigint[],
                        \(items.map(Self.frozenMeasure).map(\.denominator))::bigint[]) AS x(c, p, n, d)
            """,
            logger: logger
        )
    }

    /// What the review freezes of a computed item's measure: a rate as it is, a count as
    /// count / 1, no data as -1 / -1 (stored as NULL).
    private static func frozenMeasure(_ item: Xcert_Assessment_V1_ItemScore) -> (numerator: Int64, denominator: Int64) {
        if item.hasMeasure { return (item.measure.numerator, item.measure.denominator) }
        if item.count > 0 { return (item.count, 1) }
        return (-1, -1)
    }
}
