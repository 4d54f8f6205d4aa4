import Foundation
import Logging
import PostgresNIO
import XCertDomain
import XCertProto
import XCertService
import XCertWire

/// The SQL of lead-school selections (`registry.lead_selections`) as their lifecycle moves on.
enum LeadSelectionStore {
    /// A selection as its lifecycle knows it.
    static func lifecycle(of selection: Xcert_Registry_V1_LeadSelection) throws -> LeadSelection {
        let phase: LeadSelection.Phase
        switch selection.phase {
        case .applications: phase = .applications
        case .expertReview: phase = .expertReview
        case .publicNotice: phase = .publicNotice
        case .final: phase = .final
        default: throw RPCError(.internal, "the selection of \(selection.certificateCode) in \(selection.year) has no known phase")
        }
        let close = selection.applicationsClose
        guard let applicationsClose = LocalDate(year: Int(close.year), month: Int(close.month), day: Int(close.day)) else {
            throw RPCError(.internal, "the selection of \(selection.certificateCode) in \(selection.year) has no closing day")
        }
        return LeadSelection(
            certificate: selection.certificateCode, year: selection.year, phase: phase, applicationsClose: applicationsClose,
            noticeEndsAt: selection.hasNoticeEndsAt ? Date(selection.noticeEndsAt) : nil
        )
    }

    /// Writes what a transition of the selection of `certificate` in `year` changed.
    static func record(
        _ event: LeadSelection.Event, certificate: String, year: Int32, _ connection: PostgresConnection, _ logger: Logger
    ) async throws {
        switch event {
        case .applicationsClosed:
            try await connection.query(
                """
                UPDATE registry.lead_selections SET phase = \(LeadSelection.Phase.expertReview.rawValue)
                WHERE certificate_code = \(certificate) AND year = \(year)
                """,
                logger: logger
            )
        case .leadsNamed(let noticeEndsAt):
            try await connection.query(
                """
                UPDATE registry.lead_selections SET phase = \(LeadSelection.Phase.publicNotice.rawValue), notice_ends_at = \(noticeEndsAt)
                WHERE certificate_code = \(certificate) AND year = \(year)
                """,
                logger: logger
            )
        case .finalized(let at):
            try await connection.query(
                """
                UPDATE registry.lead_selections SET phase = \(LeadSelection.Phase.final.rawValue), finalized_at = \(at)
                WHERE certificate_code = \(certificate) AND year = \(year)
                """,
                logger: logger
            )
        }
    }
}

// MARK: - Reading

extension LeadSelectionStore {
    /// The selection of `certificate` in `year` with its applications and lead schools; nil
    /// when there is none.
    static func selection(
        _ certificate: String, _ year: Int32, _ connection: PostgresConnection, _ logger: Logger
    ) async throws -> Xcert_Registry_V1_LeadSelection? {
        let rows = try await connection.query(
            """
            SELECT phase, extract(year FROM applications_close)::integer, extract(month FROM applications_close)::integer,
                   extract(day FROM applications_close)::integer, notice_ends_at, finalized_at, assigned, coalesce(specialty_category, ''),
                   ARRAY(SELECT m.certificate_code FROM registry.merged_selections m
                         WHERE m.into_certificate_code = \(certificate) AND m.year = \(year) ORDER BY m.certificate_code)
            FROM registry.lead_selections WHERE certificate_code = \(certificate) AND year = \(year)
            """,
            logger: logger
        )
        var found: Xcert_Registry_V1_LeadSelection?
        for try await row in rows.decode((String, Int32, Int32, Int32, Date?, Date?, Bool, String, [String]).self) {
            var selection = Xcert_Registry_V1_LeadSelection()
            selection.certificateCode = certificate
            selection.year = year
            selection.phase = SelectionPhases.wire(row.0)
            selection.applicationsClose.year = row.1
            selection.applicationsClose.month = row.2
            selection.applicationsClose.day = row.3
            if let ends = row.4 { selection.noticeEndsAt = .init(ends) }
            if let finalized = row.5 { selection.finalizedAt = .init(finalized) }
            selection.assigned = row.6
            selection.specialtyCategory = row.7
            selection.mergedCertificateCodes = row.8
            found = selection
        }
        guard var selection = found else { return nil }
        let ids = try await connection.query(
            "SELECT id FROM registry.lead_applications WHERE certificate_code = \(certificate) AND year = \(year) ORDER BY id",
            logger: logger
        )
        var applicationIDs: [Int64] = []
        for try await id in ids.decode(Int64.self) { applicationIDs.append(id) }
        for id in applicationIDs { selection.applications.append(try await self.application(id, connection, logger)) }
        let leads = try await connection.query(
            """
            SELECT l.school_code, s.name, l.is_primary FROM registry.lead_schools l JOIN registry.schools s ON s.code = l.school_code
            WHERE l.certificate_code = \(certificate) AND l.year = \(year) ORDER BY l.is_primary DESC, l.school_code
            """,
            logger: logger
        )
        for try await (code, name, primary) in leads.decode((String, String, Bool).self) {
            var lead = Xcert_Registry_V1_LeadSchool()
            lead.schoolCode = code
            lead.schoolName = name
            lead.primary = primary
            selection.leads.append(lead)
        }
        selection.changes = try await LeadAdjustmentStore.changes(certificate, year, connection, logger)
        return selection
    }

    /// Lead application `id` with its experts' scores and their average.
    static func application(
        _ id: Int64, _ connection: PostgresConnection, _ logger: Logger
    ) async throws -> Xcert_Registry_V1_LeadApplication {
        let rows = try await connection.query(
            """
            SELECT a.id, a.certificate_code, a.year, a.school_code, s.name, a.contact_person, a.contact_phone, a.address,
                   a.school_profile, a.implementation, a.advantages, a.work_plan, a.commitment_signed, a.submitted_at
            FROM registry.lead_applications a JOIN registry.schools s ON s.code = a.school_code WHERE a.id = \(id)
            """,
            logger: logger
        )
        var found: Xcert_Registry_V1_LeadApplication?
        for try await row in rows.decode(
            (Int64, String, Int32, String, String, String, String, String, String, String, [String], String, Bool, Date).self)
        {
            var application = Xcert_Registry_V1_LeadApplication()
            application.id = row.0
            application.certificateCode = row.1
            application.year = row.2
            application.schoolCode = row.3
            application.schoolName = row.4
            application.form.contactPerson = row.5
            application.form.contactPhone = row.6
            application.form.address = row.7
            application.form.schoolProfile = row.8
            application.form.implementation = row.9
            application.form.advantages = row.10
            application.form.workPlan = row.11
            application.form.commitmentSigned = row.12
            application.submittedAt = .init(row.13)
            found = application
        }
        guard var application = found else { throw RPCError(.notFound, "there is no lead application \(id)") }
        let scores = try await connection.query(
            "SELECT expert, score, comment, scored_at FROM registry.expert_scores WHERE application_id = \(id) ORDER BY scored_at, expert",
            logger: logger
        )
        for try await (expert, score, comment, scoredAt) in scores.decode((String, Int32, String, Date).self) {
            var entry = Xcert_Registry_V1_ExpertScore()
            entry.expert = expert
            entry.score = score
            entry.comment = comment
            entry.scoredAt = .init(scoredAt)
            application.scores.append(entry)
        }
        application.averageScore.numerator = application.scores.reduce(0) { $0 + Int64($1.score) }
        application.averageScore.denominator = Int64(application.scores.count)
        try await LeadAdjustmentStore.addTestimonies(to: &application, connection, logger)
        return application
    }
}

// MARK: - Writing

extension LeadSelectionStore {
    /// Opens the selection of `certificate` in `year`, taking applications until
    /// `applicationsClose`; false when it is open already.
    static func open(
        _ certificate: String, _ year: Int32, applicationsClose: LocalDate?, merging merged: [String] = [],
        specialtyCategory: String? = nil,
        _ connection: PostgresConnection, _ logger: Logger
    ) async throws -> Bool {
        let inserted = try await connection.query(
            """
            INSERT INTO registry.lead_selections (certificate_code, year, phase, applications_close, specialty_category)
            VALUES (\(certificate), \(year), 'applications', \(applicationsClose?.description)::date, \(specialtyCategory))
            ON CONFLICT DO NOTHING RETURNING year
            """,
            logger: logger
        )
        var created = false
        for try await _ in inserted.decode(Int32.self) { created = true }
        guard created, !merged.isEmpty else { return created }
        try await connection.query(
            """
            INSERT INTO registry.merged_selections (certificate_code, year, into_certificate_code)
            SELECT code, \(year), \(certificate) FROM unnest(\(merged)) AS code
            """,
            logger: logger
        )
        return true
    }

    /// The certificate whose selection `certificate` was merged into in `year`, if it was.
    static func mergedInto(_ certificate: String, _ year: Int32, _ connection: PostgresConnection, _ logger: Logger) async throws -> String?
    {
        let rows = try await connection.query(
            "SELECT into_certificate_code FROM registry.merged_selections WHERE certificate_code = \(certificate) AND year = \(year)",
            logger: logger
        )
        for try await into in rows.decode(String.self) { return into }
        return nil
    }

    /// Adds `school`'s application to lead `certificate` in `year`, its form's texts trimmed;
    /// its id, or nil when the school has applied already.
    static func addApplication(
        _ certificate: String, _ year: Int32, school: String, form: Xcert_Registry_V1_LeadApplicationForm,
        _ connection: PostgresConnection, _ logger: Logger
    ) async throws -> Int64? {
        let inserted = try await connection.query(
            """
            INSERT INTO registry.lead_applications (certificate_code, year, school_code, contact_person, contact_phone, address,
                school_profile, implementation, advantages, work_plan, commitment_signed)
            VALUES (\(certificate), \(year), \(school), \(form.contactPerson.trimmed), \(form.contactPhone.trimmed),
                \(form.address.trimmed), \(form.schoolProfile.trimmed), \(form.implementation.trimmed), \(form.advantages.map(\.trimmed)),
                \(form.workPlan.trimmed), \(form.commitmentSigned))
            ON CONFLICT DO NOTHING RETURNING id
            """,
            logger: logger
        )
        var id: Int64?
        for try await value in inserted.decode(Int64.self) { id = value }
        return id
    }

    /// Records `expert`'s score of lead application `application`; false when the expert
    /// has scored it already.
    static func addScore(
        application: Int64, expert: String, score: Int32, comment: String, _ connection: PostgresConnection, _ logger: Logger
    ) async throws -> Bool {
        let inserted = try await connection.query(
            """
            INSERT INTO registry.expert_scores (application_id, expert, score, comment)
            VALUES (\(application), \(expert), \(score), \(comment))
            ON CONFLICT DO NOTHING RETURNING score
            """,
            logger: logger
        )
        var recorded = false
        for try await _ in inserted.decode(Int32.self) { recorded = true }
        return recorded
    }

    /// Names the lead schools of `certificate` in `year`, one row each, in the given order.
    static func addLeads(
        _ leads: [Xcert_Registry_V1_LeadSchool], certificate: String, year: Int32, _ connection: PostgresConnection, _ logger: Logger
    ) async throws {
        for lead in leads {
            try await connection.query(
                """
                INSERT INTO registry.lead_schools (certificate_code, year, school_code, is_primary)
                VALUES (\(certificate), \(year), \(lead.schoolCode), \(lead.primary))
                """,
                logger: logger
            )
        }
    }
}

/// `SelectionPhase` as the database keeps it.
enum SelectionPhases {
    static func wire(_ stored: String) -> Xcert_Registry_V1_SelectionPhase {
        switch stored {
        case "applications": .applications
        case "expert_review": .expertReview
        case "public_notice": .publicNotice
        case "final": .final
        default: .unspecified
        }
    }
}
