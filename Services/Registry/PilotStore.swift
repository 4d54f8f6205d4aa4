import Foundation
import Logging
import PostgresNIO
import XCertDomain
import XCertProto
import XCertService
import XCertStore
import XCertWire

/// The registry's SQL for pilot applications, reviews, qualifications and their feed.
enum PilotStore {
    /// Filters of application and qualification lists; nil means any.
    struct Filter: Sendable {
        var ids: [Int64]?
        var schoolCode: String?
        var certificateCode: String?
        var year: Int32?
        var cityCode: String?
        var reviewingUnitCode: String?
        var state: String?
        /// Only applications whose reviewing unit's review was due before this day.
        var reviewDueBefore: LocalDate?
        var includeRevoked = true
        var after: Int64 = 0
        var limit = 10_000

        init(ids: [Int64]? = nil) {
            self.ids = ids
        }

        /// A list request's filters (empty and 0 meaning any) and page.
        init(schoolCode: String, certificateCode: String, year: Int32, cityCode: String, reviewingUnitCode: String, page: Paging) {
            self.schoolCode = schoolCode.nonEmpty
            self.certificateCode = certificateCode.nonEmpty
            self.year = year == 0 ? nil : year
            self.cityCode = cityCode.nonEmpty
            self.reviewingUnitCode = reviewingUnitCode.nonEmpty
            self.after = page.after
            self.limit = page.size + 1
        }
    }

    // MARK: - Applications

    /// Applications as `scope` may see them; a review still awaited past its due day is
    /// flagged overdue at `now`.
    static func applications(
        _ filter: Filter, scope: Scope, now: Date, _ connection: PostgresConnection, _ logger: Logger
    ) async throws -> [Xcert_Registry_V1_PilotApplication] {
        let rows = try await connection.query(
            """
            SELECT a.id, a.school_code, a.certificate_code, a.year, a.levels, a.specialty_codes, a.student_scale,
                   a.state, a.submitted_at, a.submitted_by, coalesce(q.id, 0), coalesce(s.reviewing_bureau_code, s.city_code),
                   coalesce(a.window_number, 0), CASE WHEN s.type = 'secondary_vocational' THEN to_char(w.review_due, 'YYYY-MM-DD') END,
                   a.work_plan_name, a.work_plan_size, a.work_plan_sha256
            FROM registry.pilot_applications a
            JOIN registry.schools s ON s.code = a.school_code
            JOIN registry.certificates c ON c.code = a.certificate_code
            LEFT JOIN registry.qualifications q ON q.application_id = a.id
            LEFT JOIN registry.application_windows w ON w.year = a.year AND w.number = a.window_number
            WHERE a.id > \(filter.after)
              AND (\(filter.ids)::bigint[] IS NULL OR a.id = ANY(\(filter.ids)))
              AND (\(filter.schoolCode)::text IS NULL OR a.school_code = \(filter.schoolCode))
              AND (\(filter.certificateCode)::text IS NULL OR a.certificate_code = \(filter.certificateCode))
              AND (\(filter.year)::integer IS NULL OR a.year = \(filter.year))
              AND (\(filter.cityCode)::text IS NULL OR s.city_code = \(filter.cityCode))
              AND (\(filter.reviewingUnitCode)::text IS NULL
                   OR coalesce(s.reviewing_bureau_code, s.city_code) = \(filter.reviewingUnitCode))
              AND (\(filter.state)::text IS NULL OR a.state = \(filter.state))
              AND (\(filter.reviewDueBefore?.description)::date IS NULL
                   OR (a.state = 'awaiting_city_review' AND w.review_due < \(filter.reviewDueBefore?.description)::date))
              AND (\(scope.schoolCode)::text IS NULL OR a.school_code = \(scope.schoolCode))
              AND (\(scope.reviewingUnitCode)::text IS NULL
                   OR (coalesce(s.reviewing_bureau_code, s.city_code) = \(scope.reviewingUnitCode) AND s.type = 'secondary_vocational'))
              AND (\(scope.organizationID)::bigint IS NULL OR c.organization_id = \(scope.organizationID))
            ORDER BY a.id LIMIT \(filter.limit)
            """,
            logger: logger
        )
        var applications: [Xcert_Registry_V1_PilotApplication] = []
        for try await row in rows.decode(
            (
                Int64, String, String, Int32, [Int32], [String], Int32, String, Date, String, Int64, String, Int32, String?, String?,
                Int64?,
                String?
            ).self)
        {
            var application = Xcert_Registry_V1_PilotApplication()
            application.id = row.0
            application.schoolCode = row.1
            application.certificateCode = row.2
            application.year = row.3
            application.levels = CertificateLevel.wire(stored: row.4)
            application.specialtyCodes = row.5
            application.studentScale = row.6
            application.state = ApplicationStates.wire(row.7)
            application.submittedAt = .init(row.8)
            application.submittedBy = row.9
            application.qualificationID = row.10
            application.reviewingUnitCode = row.11
            application.windowNumber = row.12
            if let name = row.14, let size = row.15, let sha256 = row.16 {
                application.workPlan.name = name
                application.workPlan.sizeBytes = size
                application.workPlan.sha256 = sha256
            }
            if let due = row.13.flatMap(LocalDate.init(iso:)) {
                application.reviewDue = due.wire
                application.reviewOverdue = application.state == .awaitingCityReview && ApplicationWindow.isOverdue(due, at: now)
            }
            applications.append(application)
        }
        guard !applications.isEmpty else { return applications }
        let reviews = try await connection.query(
            """
            SELECT application_id, step, approved, reason, reviewer_id, reviewer_name, reviewed_at
            FROM registry.application_reviews WHERE application_id = ANY(\(applications.map(\.id)))
            ORDER BY reviewed_at, step
            """,
            logger: logger
        )
        var byApplication: [Int64: [Xcert_Registry_V1_Review]] = [:]
        for try await row in reviews.decode((Int64, String, Bool, String, Int64, String, Date).self) {
            var review = Xcert_Registry_V1_Review()
            review.step = row.1 == ReviewStep.city.rawValue ? .city : .province
            review.approved = row.2
            review.reason = row.3
            review.reviewerID = row.4
            review.reviewer = row.5
            review.reviewedAt = .init(row.6)
            byApplication[row.0, default: []].append(review)
        }
        for index in applications.indices {
            applications[index].reviews = byApplication[applications[index].id] ?? []
        }
        return applications
    }

    static func application(
        _ id: Int64, scope: Scope, now: Date, _ connection: PostgresConnection, _ logger: Logger
    ) async throws -> Xcert_Registry_V1_PilotApplication {
        guard let application = try await self.applications(Filter(ids: [id]), scope: scope, now: now, connection, logger).first else {
            throw RPCError(.notFound, "there is no pilot application \(id)")
        }
        return application
    }

    // MARK: - Qualifications

    static func qualifications(
        _ filter: Filter, scope: Scope, _ connection: PostgresConnection, _ logger: Logger
    ) async throws -> [Xcert_Registry_V1_PilotQualification] {
        let rows = try await connection.query(
            """
            SELECT q.id, q.application_id, q.school_code, q.certificate_code, q.year, q.levels, q.specialty_codes,
                   q.student_scale, q.granted_at, q.revoked_at, coalesce(q.revocation_reason, ''), coalesce(q.revoked_by, ''), s.city_code,
                   coalesce(s.reviewing_bureau_code, s.city_code)
            FROM registry.qualifications q
            JOIN registry.schools s ON s.code = q.school_code
            JOIN registry.certificates c ON c.code = q.certificate_code
            WHERE q.id > \(filter.after)
              AND (\(filter.ids)::bigint[] IS NULL OR q.id = ANY(\(filter.ids)))
              AND (\(filter.schoolCode)::text IS NULL OR q.school_code = \(filter.schoolCode))
              AND (\(filter.certificateCode)::text IS NULL OR q.certificate_code = \(filter.certificateCode))
              AND (\(filter.year)::integer IS NULL OR q.year = \(filter.year))
              AND (\(filter.cityCode)::text IS NULL OR s.city_code = \(filter.cityCode))
              AND (\(filter.reviewingUnitCode)::text IS NULL
                   OR coalesce(s.reviewing_bureau_code, s.city_code) = \(filter.reviewingUnitCode))
              AND (\(filter.includeRevoked) OR q.revoked_at IS NULL)
              AND (\(scope.schoolCode)::text IS NULL OR q.school_code = \(scope.schoolCode))
              AND (\(scope.reviewingUnitCode)::text IS NULL
                   OR (coalesce(s.reviewing_bureau_code, s.city_code) = \(scope.reviewingUnitCode) AND s.type = 'secondary_vocational'))
              AND (\(scope.organizationID)::bigint IS NULL OR c.organization_id = \(scope.organizationID))
            ORDER BY q.id LIMIT \(filter.limit)
            """,
            logger: logger
        )
        var qualifications: [Xcert_Registry_V1_PilotQualification] = []
        for try await row in rows.decode(
            (Int64, Int64, String, String, Int32, [Int32], [String], Int32, Date, Date?, String, String, String, String).self)
        {
            var qualification = Xcert_Registry_V1_PilotQualification()
            qualification.id = row.0
            qualification.applicationID = row.1
            qualification.schoolCode = row.2
            qualification.certificateCode = row.3
            qualification.year = row.4
            qualification.levels = CertificateLevel.wire(stored: row.5)
            qualification.specialtyCodes = row.6
            qualification.studentScale = row.7
            qualification.grantedAt = .init(row.8)
            if let revoked = row.9 { qualification.revokedAt = .init(revoked) }
            qualification.revocationReason = row.10
            qualification.revokedBy = row.11
            qualification.cityCode = row.12
            qualification.reviewingUnitCode = row.13
            qualifications.append(qualification)
        }
        return qualifications
    }

    static func qualification(
        _ id: Int64, scope: Scope, _ connection: PostgresConnection, _ logger: Logger
    ) async throws -> Xcert_Registry_V1_PilotQualification {
        guard let qualification = try await self.qualifications(Filter(ids: [id]), scope: scope, connection, logger).first else {
            throw RPCError(.notFound, "there is no pilot qualification \(id)")
        }
        return qualification
    }

    /// Whether `school` holds a qualification for `certificate` that is not revoked (any year).
    static func holdsQualification(
        _ school: String, _ certificate: String, _ connection: PostgresConnection, _ logger: Logger
    ) async throws -> Bool {
        let rows = try await connection.query(
            """
            SELECT EXISTS (SELECT 1 FROM registry.qualifications
                           WHERE school_code = \(school) AND certificate_code = \(certificate) AND revoked_at IS NULL)
            """,
            logger: logger
        )
        for try await held in rows.decode(Bool.self) { return held }
        return false
    }

    /// The qualification feed.
    static let feed = ChangeFeed(table: "registry.qualification_changes")

    /// Appends a change to the feed, in commit order (see ``ChangeFeed``).
    static func recordChange(qualification: Int64, kind: String, _ connection: PostgresConnection, _ logger: Logger) async throws {
        try await Self.feed.lockForAppend(connection, logger: logger)
        try await connection.query(
            "INSERT INTO registry.qualification_changes (qualification_id, kind) VALUES (\(qualification), \(kind))",
            logger: logger
        )
    }

    static func changes(
        after: Int64, limit: Int, _ connection: PostgresConnection, _ logger: Logger
    ) async throws -> [Xcert_Registry_V1_QualificationChange] {
        let rows = try await connection.query(
            """
            SELECT cursor, qualification_id, kind, changed_at FROM registry.qualification_changes
            WHERE cursor > \(after) ORDER BY cursor LIMIT \(limit)
            """,
            logger: logger
        )
        var changes: [(Int64, Int64, String, Date)] = []
        for try await row in rows.decode((Int64, Int64, String, Date).self) { changes.append(row) }
        guard !changes.isEmpty else { return [] }
        let qualifications = try await self.qualifications(
            Filter(ids: Array(Set(changes.map(\.1)))), scope: .everything, connection, logger)
        let byID = Dictionary(uniqueKeysWithValues: qualifications.map { ($0.id, $0) })
        return changes.map { cursor, id, kind, changedAt in
            var change = Xcert_Registry_V1_QualificationChange()
            change.cursor = cursor
            change.kind = kind == "created" ? .created : .revoked
            change.changedAt = .init(changedAt)
            var qualification = byID[id] ?? Xcert_Registry_V1_PilotQualification()
            if kind == "created" {
                // As it was when created: the revocation came later.
                qualification.clearRevokedAt()
                qualification.revocationReason = ""
                qualification.revokedBy = ""
            }
            change.qualification = qualification
            return change
        }
    }
}

extension PilotStore {
    /// Whose application it is, for the reviewer's scope.
    struct ApplicationSubject: Sendable {
        var school: String
        var type: String
        /// The school's reviewing unit (审核单位): its city or a designated bureau.
        var reviewingUnit: String
        var organization: Int64?
    }

    /// Application `id` on its review route, its row locked until the transaction ends, and
    /// whose it is; nil when there is none.
    static func lockForReview(
        _ id: Int64, _ connection: PostgresConnection, _ logger: Logger
    ) async throws -> (ApplicationReview, ApplicationSubject)? {
        let rows = try await connection.query(
            """
            SELECT a.state, a.school_code, s.type, coalesce(s.reviewing_bureau_code, s.city_code), c.organization_id
            FROM registry.pilot_applications a
            JOIN registry.schools s ON s.code = a.school_code
            JOIN registry.certificates c ON c.code = a.certificate_code
            WHERE a.id = \(id) FOR UPDATE OF a
            """,
            logger: logger
        )
        for try await (stored, school, type, unit, organization) in rows.decode((String, String, String, String, Int64?).self) {
            guard let state = ApplicationReview.State(rawValue: stored) else {
                throw RPCError(.internal, "application \(id) has the unknown state \(stored)")
            }
            return (
                ApplicationReview(id: id, state: state, reviewingUnit: unit),
                ApplicationSubject(school: school, type: type, reviewingUnit: unit, organization: organization)
            )
        }
        return nil
    }

    /// Writes a decided step of application `id`: the review with its reviewer, the new
    /// state, and, when the application is approved, its qualification and the change feed's
    /// entry for it.
    static func record(
        _ event: ApplicationReview.Event, application id: Int64, reviewer: Principal, _ connection: PostgresConnection, _ logger: Logger
    ) async throws {
        try await connection.query(
            """
            INSERT INTO registry.application_reviews (application_id, step, approved, reason, reviewer_id, reviewer_name)
            VALUES (\(id), \(event.step.rawValue), \(event.approved), \(event.reason), \(reviewer.id), \(reviewer.name))
            """,
            logger: logger
        )
        try await connection.query("UPDATE registry.pilot_applications SET state = \(event.next.rawValue) WHERE id = \(id)", logger: logger)
        guard event.next == .approved else { return }
        let granted = try await connection.query(
            """
            INSERT INTO registry.qualifications (application_id, school_code, certificate_code, year, levels, specialty_codes,
                student_scale)
            SELECT id, school_code, certificate_code, year, levels, specialty_codes, student_scale
            FROM registry.pilot_applications WHERE id = \(id)
            RETURNING id
            """,
            logger: logger
        )
        for try await qualification in granted.decode(Int64.self) {
            try await Self.recordChange(qualification: qualification, kind: "created", connection, logger)
        }
    }
}

// MARK: - Submitting and revoking

extension PilotStore {
    /// What the caps on a school's applications are computed from.
    struct SchoolForApplication: Sendable {
        var type: String
        var specialtyCount: Int32
        var enrolledStudents: Int32
    }

    /// School `code`, its row locked until the transaction ends so that its applications for
    /// a year are counted against the caps one at a time; nil when there is none.
    static func lockSchool(_ code: String, _ connection: PostgresConnection, _ logger: Logger) async throws -> SchoolForApplication? {
        let locked = try await connection.query(
            "SELECT type, specialty_count, enrolled_students FROM registry.schools WHERE code = \(code) FOR UPDATE",
            logger: logger
        )
        var found: SchoolForApplication?
        for try await (type, specialtyCount, enrolled) in locked.decode((String, Int32, Int32).self) {
            found = SchoolForApplication(type: type, specialtyCount: specialtyCount, enrolledStudents: enrolled)
        }
        return found
    }

    /// `school`'s application for `certificate` in `year` that is not rejected, its id and
    /// stored state; nil when there is none.
    static func liveApplication(
        school: String, certificate: String, year: Int32, _ connection: PostgresConnection, _ logger: Logger
    ) async throws -> (id: Int64, state: String)? {
        let live = try await connection.query(
            """
            SELECT id, state FROM registry.pilot_applications
            WHERE school_code = \(school) AND certificate_code = \(certificate) AND year = \(year) AND state <> 'rejected'
            """,
            logger: logger
        )
        for try await (id, state) in live.decode((Int64, String).self) {
            return (id, state)
        }
        return nil
    }

    /// The count of certificates and the sum of students of `school`'s approved and pending
    /// applications in `year` (a revoked qualification's left out).
    static func yearTotals(
        school: String, year: Int32, _ connection: PostgresConnection, _ logger: Logger
    ) async throws -> (certificates: Int, students: Int) {
        let totals = try await connection.query(
            """
            SELECT count(DISTINCT a.certificate_code), coalesce(sum(a.student_scale), 0)
            FROM registry.pilot_applications a
            LEFT JOIN registry.qualifications q ON q.application_id = a.id
            WHERE a.school_code = \(school) AND a.year = \(year)
              AND a.state <> 'rejected' AND q.revoked_at IS NULL
            """,
            logger: logger
        )
        var (certificates, students) = (0, 0)
        for try await (count, sum) in totals.decode((Int64, Int64).self) { (certificates, students) = (Int(count), Int(sum)) }
        return (certificates, students)
    }

    /// Adds an application in `state` (stored); its id.
    static func addApplication(
        school: String, certificate: String, year: Int32, window: Int32, levels: [CertificateLevel], specialtyCodes: [String],
        studentScale: Int32, workPlan: Xcert_Filing_V1_Attachment, state: String, submittedBy: String,
        _ connection: PostgresConnection, _ logger: Logger
    ) async throws -> Int64 {
        let inserted = try await connection.query(
            """
            INSERT INTO registry.pilot_applications (school_code, certificate_code, year, window_number, levels, specialty_codes,
                student_scale, work_plan_name, work_plan_size, work_plan_sha256, state, submitted_by)
            VALUES (\(school), \(certificate), \(year), \(window), \(CertificateLevel.stored(levels)),
                    \(specialtyCodes), \(studentScale), \(workPlan.name.trimmed), \(workPlan.sizeBytes), \(workPlan.sha256), \(state),
                    \(submittedBy))
            RETURNING id
            """,
            logger: logger
        )
        var id: Int64 = 0
        for try await value in inserted.decode(Int64.self) { id = value }
        return id
    }

    /// What a revocation needs of a locked qualification.
    struct LockedQualification: Sendable {
        /// When it was revoked; nil while it is in force.
        var revokedAt: Date?
    }

    /// Qualification `id`, its row locked until the transaction ends; nil when there is none.
    static func lockQualification(_ id: Int64, _ connection: PostgresConnection, _ logger: Logger) async throws -> LockedQualification? {
        let rows = try await connection.query(
            "SELECT revoked_at FROM registry.qualifications WHERE id = \(id) FOR UPDATE",
            logger: logger
        )
        var found: LockedQualification?
        for try await revoked in rows.decode(Date?.self) { found = LockedQualification(revokedAt: revoked) }
        return found
    }

    /// Marks qualification `id` revoked now, for `reason`, by `revokedBy`.
    static func revoke(_ id: Int64, reason: String, revokedBy: String, _ connection: PostgresConnection, _ logger: Logger) async throws {
        try await connection.query(
            """
            UPDATE registry.qualifications SET revoked_at = now(), revocation_reason = \(reason), revoked_by = \(revokedBy)
            WHERE id = \(id)
            """,
            logger: logger
        )
    }
}

/// `ApplicationState` as the database keeps it.
enum ApplicationStates {
    static let awaitingCity = "awaiting_city_review"
    static let awaitingProvince = "awaiting_province_review"
    static let approved = "approved"
    static let rejected = "rejected"

    static func stored(_ state: Xcert_Registry_V1_ApplicationState) -> String? {
        switch state {
        case .awaitingCityReview: awaitingCity
        case .awaitingProvinceReview: awaitingProvince
        case .approved: approved
        case .rejected: rejected
        default: nil
        }
    }

    static func wire(_ stored: String) -> Xcert_Registry_V1_ApplicationState {
        switch stored {
        case awaitingCity: .awaitingCityReview
        case awaitingProvince: .awaitingProvinceReview
        case approved: .approved
        case rejected: .rejected
        default: .unspecified
        }
    }
}

extension PilotStore {
    /// Applications submitted and qualifications granted on the days of `days` (Asia/Shanghai),
    /// as one statement.
    static func activity(
        _ days: ClosedRange<LocalDate>, _ connection: PostgresConnection, _ logger: Logger
    ) async throws -> Xcert_Registry_V1_GetApplicationActivityResponse {
        let first = days.lowerBound.description
        let last = days.upperBound.description
        let rows = try await connection.query(
            """
            SELECT (SELECT count(*)::integer FROM registry.pilot_applications
                    WHERE (submitted_at AT TIME ZONE 'Asia/Shanghai')::date BETWEEN \(first)::date AND \(last)::date),
                   (SELECT count(*)::integer FROM registry.qualifications
                    WHERE (granted_at AT TIME ZONE 'Asia/Shanghai')::date BETWEEN \(first)::date AND \(last)::date)
            """,
            logger: logger
        )
        var response = Xcert_Registry_V1_GetApplicationActivityResponse()
        for try await (submitted, approved) in rows.decode((Int32, Int32).self) {
            response.submitted = submitted
            response.approved = approved
        }
        return response
    }
}
