import Foundation
import Logging
import PostgresNIO
import XCertDomain
import XCertProto
import XCertService
import XCertWire

/// The registry's SQL for teacher trainings (`registry.teacher_trainings`).
enum TrainingStore {
    /// Stores `records` (checked) as recorded by `recordedBy`, each with its certificate's
    /// organization (0: none); returns their ids in order, or the indexes of those already recorded
    /// (the same teacher, certificate, level, training and start day), storing none then.
    static func insert(
        _ records: [Xcert_Registry_V1_TrainingRecord], organizations: [Int64], recordedBy: String,
        _ connection: PostgresConnection, _ logger: Logger
    ) async throws -> Result<[Int64], AlreadyRecorded> {
        let rows = try await connection.query(
            """
            INSERT INTO registry.teacher_trainings (school_code, teacher_name, certificate_code, level, organization_id, training_name,
                start_on, end_on, hours, completion_name, completion_size_bytes, completion_sha256, seed_teacher, recorded_by)
            SELECT school, teacher, certificate, level, nullif(organization, 0), training, start_on::date, end_on::date, hours,
                   nullif(completion_name, ''), CASE WHEN completion_sha256 = '' THEN NULL ELSE completion_size END,
                   nullif(completion_sha256, ''), seed, \(recordedBy)
            FROM unnest(\(records.map(\.schoolCode))::text[], \(records.map { $0.teacherName.trimmed })::text[],
                        \(records.map(\.certificateCode))::text[], \(records.map { Int32($0.level.rawValue) })::integer[],
                        \(organizations)::bigint[], \(records.map { $0.trainingName.trimmed })::text[],
                        \(records.map { LocalDate(wire: $0.startOn)?.description ?? "" })::text[],
                        \(records.map { LocalDate(wire: $0.endOn)?.description ?? "" })::text[], \(records.map(\.hours))::integer[],
                        \(records.map { $0.hasCompletion ? $0.completion.name.trimmed : "" })::text[],
                        \(records.map(\.completion.sizeBytes))::bigint[],
                        \(records.map { $0.hasCompletion ? $0.completion.sha256 : "" })::text[], \(records.map(\.seedTeacher))::boolean[])
                 WITH ORDINALITY AS r (school, teacher, certificate, level, organization, training, start_on, end_on, hours,
                                      completion_name, completion_size, completion_sha256, seed, position)
            ORDER BY position
            ON CONFLICT (school_code, teacher_name, certificate_code, level, training_name, start_on) DO NOTHING
            RETURNING id, school_code, teacher_name, certificate_code, level, training_name, to_char(start_on, 'YYYY-MM-DD')
            """,
            logger: logger
        )
        var stored: [String: Int64] = [:]
        for try await row in rows.decode((Int64, String, String, String, Int32, String, String).self) {
            stored[Xcert_Registry_V1_TrainingRecord.identity(row.1, row.2, row.3, Int(row.4), row.5, row.6)] = row.0
        }
        var ids: [Int64] = []
        var already: [Int] = []
        for (index, record) in records.enumerated() {
            if let id = stored[record.identity] { ids.append(id) } else { already.append(index) }
        }
        return already.isEmpty ? .success(ids) : .failure(AlreadyRecorded(indexes: already))
    }

    /// Records of a request that were recorded before, by their place in the request.
    struct AlreadyRecorded: Error {
        var indexes: [Int]
    }

    /// Which of `codes` are schools of the registry.
    static func schools(among codes: [String], _ connection: PostgresConnection, _ logger: Logger) async throws -> Set<String> {
        var known: Set<String> = []
        let rows = try await connection.query("SELECT code FROM registry.schools WHERE code = ANY(\(codes))", logger: logger)
        for try await code in rows.decode(String.self) { known.insert(code) }
        return known
    }

    /// The certificates among `codes`: each one's organization and levels.
    static func certificates(
        among codes: [String], _ connection: PostgresConnection, _ logger: Logger
    ) async throws -> [String: (organization: Int64?, levels: Set<Int32>)] {
        var found: [String: (organization: Int64?, levels: Set<Int32>)] = [:]
        let rows = try await connection.query(
            "SELECT code, organization_id, levels FROM registry.certificates WHERE code = ANY(\(codes))", logger: logger)
        for try await (code, organization, levels) in rows.decode((String, Int64?, [Int32]).self) {
            found[code] = (organization, Set(levels))
        }
        return found
    }

    struct Filter: Sendable {
        var ids: [Int64]?
        var year: Int32?
        var schoolCode: String?
        var organizationID: Int64?
        var certificateCode: String?
        var after: Int64 = 0
        var limit = 1000
    }

    static func records(
        _ filter: Filter, scope: Scope, _ connection: PostgresConnection, _ logger: Logger
    ) async throws -> [Xcert_Registry_V1_TrainingRecord] {
        let rows = try await connection.query(
            """
            SELECT t.id, t.school_code, t.teacher_name, t.certificate_code, t.level, t.training_name, to_char(t.start_on, 'YYYY-MM-DD'),
                   to_char(t.end_on, 'YYYY-MM-DD'), t.hours, coalesce(t.completion_name, ''), coalesce(t.completion_size_bytes, 0),
                   coalesce(t.completion_sha256, ''), t.seed_teacher, coalesce(t.organization_id, 0), t.recorded_by, t.recorded_at
            FROM registry.teacher_trainings t
            JOIN registry.schools s ON s.code = t.school_code
            WHERE t.id > \(filter.after)
              AND (\(filter.ids)::bigint[] IS NULL OR t.id = ANY(\(filter.ids)))
              AND (\(filter.year)::integer IS NULL OR extract(year FROM t.start_on) = \(filter.year))
              AND (\(filter.schoolCode)::text IS NULL OR t.school_code = \(filter.schoolCode))
              AND (\(filter.organizationID)::bigint IS NULL OR t.organization_id = \(filter.organizationID))
              AND (\(filter.certificateCode)::text IS NULL OR t.certificate_code = \(filter.certificateCode))
              AND (\(scope.schoolCode)::text IS NULL OR t.school_code = \(scope.schoolCode))
              AND (\(scope.reviewingUnitCode)::text IS NULL
                   OR (coalesce(s.reviewing_bureau_code, s.city_code) = \(scope.reviewingUnitCode) AND s.type = 'secondary_vocational'))
              AND (\(scope.organizationID)::bigint IS NULL OR t.organization_id = \(scope.organizationID))
            ORDER BY t.id LIMIT \(filter.limit)
            """,
            logger: logger
        )
        var records: [Xcert_Registry_V1_TrainingRecord] = []
        for try await row in rows.decode(
            (Int64, String, String, String, Int32, String, String, String, Int32, String, Int64, String, Bool, Int64, String, Date).self)
        {
            var record = Xcert_Registry_V1_TrainingRecord()
            record.id = row.0
            record.schoolCode = row.1
            record.teacherName = row.2
            record.certificateCode = row.3
            record.level = Xcert_Common_V1_CertificateLevel(rawValue: Int(row.4)) ?? .unspecified
            record.trainingName = row.5
            if let start = LocalDate(iso: row.6) { record.startOn = start.wire }
            if let end = LocalDate(iso: row.7) { record.endOn = end.wire }
            record.hours = row.8
            if !row.11.isEmpty {
                record.completion.name = row.9
                record.completion.sizeBytes = row.10
                record.completion.sha256 = row.11
            }
            record.seedTeacher = row.12
            record.organizationID = row.13
            record.recordedBy = row.14
            record.recordedAt = .init(row.15)
            records.append(record)
        }
        return records
    }

    /// Each school's measures of `year` (items 4-1 and 4-2): the certificates it pilots, those
    /// with a teacher of it trained and certified in the year, and its teachers given the
    /// 种子师资 title in the year for the first time.
    static func measures(
        year: Int32, school: String?, _ connection: PostgresConnection, _ logger: Logger
    ) async throws -> [Xcert_Registry_V1_SchoolTrainingMeasures] {
        let rows = try await connection.query(
            """
            WITH piloted AS (
                SELECT DISTINCT school_code, certificate_code FROM registry.qualifications WHERE year = \(year) AND revoked_at IS NULL
            ),
            trained AS (
                SELECT * FROM registry.teacher_trainings
                WHERE start_on >= make_date(\(year), 1, 1) AND start_on < make_date(\(year) + 1, 1, 1)
            ),
            schools AS (SELECT school_code FROM piloted UNION SELECT school_code FROM trained)
            SELECT s.school_code,
                   (SELECT count(*) FROM piloted p WHERE p.school_code = s.school_code)::integer,
                   (SELECT count(*) FROM piloted p WHERE p.school_code = s.school_code AND EXISTS (
                        SELECT 1 FROM trained t WHERE t.school_code = p.school_code AND t.certificate_code = p.certificate_code
                          AND t.completion_sha256 IS NOT NULL))::integer,
                   (SELECT count(DISTINCT t.teacher_name) FROM trained t WHERE t.school_code = s.school_code AND t.seed_teacher
                      AND NOT EXISTS (SELECT 1 FROM registry.teacher_trainings e
                                      WHERE e.school_code = t.school_code AND e.teacher_name = t.teacher_name AND e.seed_teacher
                                        AND e.start_on < make_date(\(year), 1, 1)))::integer
            FROM schools s
            WHERE \(school)::text IS NULL OR s.school_code = \(school)
            ORDER BY s.school_code
            """,
            logger: logger
        )
        var measures: [Xcert_Registry_V1_SchoolTrainingMeasures] = []
        for try await (code, piloted, certified, seeds) in rows.decode((String, Int32, Int32, Int32).self) {
            var measure = Xcert_Registry_V1_SchoolTrainingMeasures()
            measure.schoolCode = code
            measure.certificatesPiloted = piloted
            measure.certificatesCertified = certified
            measure.newSeedTeachers = seeds
            measures.append(measure)
        }
        return measures
    }

    /// The trainings organizations gave in `year` (of one, or all): per name and start day,
    /// the longest record's days and the distinct teachers, certified or not.
    static func sessions(
        year: Int32, organization: Int64?, _ connection: PostgresConnection, _ logger: Logger
    ) async throws -> [Xcert_Registry_V1_TrainingSession] {
        let rows = try await connection.query(
            """
            SELECT organization_id, training_name, to_char(start_on, 'YYYY-MM-DD'), max(end_on - start_on + 1)::integer,
                   count(DISTINCT (school_code, teacher_name))::bigint,
                   count(DISTINCT (school_code, teacher_name)) FILTER (WHERE completion_sha256 IS NOT NULL)::bigint
            FROM registry.teacher_trainings
            WHERE organization_id IS NOT NULL AND (\(organization)::bigint IS NULL OR organization_id = \(organization))
              AND start_on >= make_date(\(year), 1, 1) AND start_on < make_date(\(year) + 1, 1, 1)
            GROUP BY organization_id, training_name, start_on
            ORDER BY organization_id, start_on, training_name
            """,
            logger: logger
        )
        var sessions: [Xcert_Registry_V1_TrainingSession] = []
        for try await (organization, name, start, days, participants, certified) in rows.decode(
            (Int64, String, String, Int32, Int64, Int64).self)
        {
            var session = Xcert_Registry_V1_TrainingSession()
            session.organizationID = organization
            session.trainingName = name
            if let start = LocalDate(iso: start) { session.startOn = start.wire }
            session.days = days
            session.participantsProvince = participants
            session.certified = certified
            sessions.append(session)
        }
        return sessions
    }
}

extension Xcert_Registry_V1_TrainingRecord {
    /// What makes a record one: the teacher (school and name), certificate, level, training and
    /// start day (the table's unique key), as one string.
    var identity: String {
        let start = LocalDate(wire: self.startOn)?.description ?? "\(self.startOn.year)-\(self.startOn.month)-\(self.startOn.day)"
        return Self.identity(
            self.schoolCode, self.teacherName.trimmed, self.certificateCode, self.level.rawValue, self.trainingName.trimmed, start)
    }

    static func identity(
        _ school: String, _ teacher: String, _ certificate: String, _ level: Int, _ training: String, _ start: String
    ) -> String {
        [school, teacher, certificate, String(level), training, start].joined(separator: "\u{1F}")
    }
}
