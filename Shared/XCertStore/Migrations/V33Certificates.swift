import Foundation

extension Migration {
    /// Certificates (职业技能等级证书) issued when a session's results are final: what a roster
    /// row keeps for them from its upload on (the ID's first four characters, a salt and the
    /// salted SHA-256 of the ID for holder binding), the sequence per year, certificate and
    /// level, and each certificate with its signed credential; for analysts, the certificates
    /// without the credential and the salt.
    static let v33Certificates = Migration(
        version: 33,
        name: "certificates",
        statements: [
            """
            ALTER TABLE filing.roster_candidates
                ADD COLUMN national_id_first4 text,
                ADD COLUMN holder_salt bytea,
                ADD COLUMN holder_digest bytea
            """,
            """
            CREATE TABLE filing.certificate_sequences (
                year integer NOT NULL,
                certificate_code text NOT NULL,
                level integer NOT NULL,
                last integer NOT NULL CHECK (last >= 0),
                PRIMARY KEY (year, certificate_code, level)
            )
            """,
            """
            CREATE TABLE filing.certificates (
                number text PRIMARY KEY,
                session_roster_id bigint NOT NULL REFERENCES filing.result_notices (session_roster_id),
                roster_id bigint NOT NULL REFERENCES filing.rosters (id),
                candidate_number text NOT NULL,
                school_code text NOT NULL,
                holder_name text NOT NULL,
                national_id_masked text NOT NULL,
                certificate_code text NOT NULL,
                certificate_name text NOT NULL,
                level integer NOT NULL CHECK (level BETWEEN 1 AND 3),
                organization_id bigint NOT NULL,
                organization_name text NOT NULL,
                exam_date date NOT NULL,
                issued_on date NOT NULL,
                credential text NOT NULL,
                issued_at timestamptz NOT NULL DEFAULT now(),
                UNIQUE (session_roster_id, candidate_number)
            )
            """,
            "CREATE INDEX certificates_school ON filing.certificates (school_code, number)",
            "CREATE INDEX certificates_year ON filing.certificates (extract(year FROM exam_date), number)",
        ] + AnalyticsViews.certificates.statements + ["GRANT SELECT ON analytics.certificates TO xcert_analyst"]
    )
}

extension AnalyticsViews {
    /// `analytics.certificates` since V33.
    static let certificates = AnalyticsView(
        name: "certificates",
        comment:
            """
            职业技能等级证书: every certificate issued when a session's results became final, one per candidate who passed in the roster \
            in force. The signed credential and the holder's salted digest stay out of the view.
            """,
        select: """
            SELECT extract(year FROM c.exam_date)::integer AS year, c.number, c.certificate_code, c.certificate_name, c.level,
                   \(levelName("c.level")) AS level_name, c.organization_id, c.organization_name, c.school_code, c.candidate_number,
                   c.holder_name, c.national_id_masked, c.exam_date, c.issued_on, c.session_roster_id, c.roster_id
            FROM filing.certificates c
            """,
        columns: [
            ("year", "the exam year"), ("number", "证书编号: <province>-<year>-<certificate>-<level>-<sequence>"),
            ("certificate_code", "certificate code"), ("certificate_name", "证书名称"), ("level", "level: 1 初级, 2 中级, 3 高级"),
            ("level_name", "级别"), ("organization_id", "the organization that examined (培训评价组织)"),
            ("organization_name", "its name"), ("school_code", "the holder's school"), ("candidate_number", "准考证号"),
            ("holder_name", "the holder's name"), ("national_id_masked", "the ID's first and last four characters"),
            ("exam_date", "the exam's date"), ("issued_on", "the day the results became final and the certificate was issued"),
            ("session_roster_id", "the session (its first roster version)"), ("roster_id", "the roster version in force when issued"),
        ]
    )
}
