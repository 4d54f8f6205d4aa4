import Foundation

extension Migration {
    /// The credit bank (学分银行): each roster row's full national ID, sealed (AES-256-GCM under
    /// the province's key) for the learning-outcome export alone; the province's mapping from
    /// certificate and level to the national credit bank's learning outcome and credits; for
    /// analysts, the mapping and each certificate as a learning outcome, without the ID.
    static let v35CreditBank = Migration(
        version: 35,
        name: "credit bank",
        statements: [
            "ALTER TABLE filing.roster_candidates ADD COLUMN national_id_sealed bytea",
            """
            CREATE TABLE filing.credit_mappings (
                certificate_code text NOT NULL,
                level integer NOT NULL CHECK (level BETWEEN 1 AND 3),
                learning_outcome_code text NOT NULL CHECK (length(learning_outcome_code) BETWEEN 1 AND 40),
                learning_outcome_name text NOT NULL CHECK (length(learning_outcome_name) BETWEEN 1 AND 100),
                credits_tenths integer NOT NULL CHECK (credits_tenths BETWEEN 1 AND 1000),
                set_by text NOT NULL,
                set_at timestamptz NOT NULL DEFAULT now(),
                PRIMARY KEY (certificate_code, level)
            )
            """,
        ] + AnalyticsViews.creditMappings.statements + AnalyticsViews.learningOutcomes.statements + [
            "GRANT SELECT ON analytics.credit_mappings, analytics.learning_outcomes TO xcert_analyst"
        ]
    )
}

extension AnalyticsViews {
    /// `analytics.credit_mappings` since V35.
    static let creditMappings = AnalyticsView(
        name: "credit_mappings",
        comment: "学分银行: the province's mapping from certificate and level to the national credit bank's learning outcome and credits.",
        select: """
            SELECT m.certificate_code, m.level, \(levelName("m.level")) AS level_name, m.learning_outcome_code, m.learning_outcome_name,
                   (m.credits_tenths / 10.0)::numeric(5, 1) AS credits, m.set_by, m.set_at
            FROM filing.credit_mappings m
            """,
        columns: [
            ("certificate_code", "certificate code"), ("level", "level: 1 初级, 2 中级, 3 高级"), ("level_name", "级别"),
            ("learning_outcome_code", "the national credit bank's learning outcome (学习成果) code"),
            ("learning_outcome_name", "the learning outcome's name"), ("credits", "学分: the credits it is worth"),
            ("set_by", "who loaded it"), ("set_at", "when"),
        ]
    )

    /// `analytics.learning_outcomes` since V35.
    static let learningOutcomes = AnalyticsView(
        name: "learning_outcomes",
        comment:
            """
            学习成果: every certificate issued, as the credit bank's learning outcome of its holder. exported says whether the year's \
            export (CreditBankService/ExportLearningOutcomes) holds it: mapped, not revoked, and the holder's full ID on record. The full \
            ID stays out of the view.
            """,
        select: """
            SELECT extract(year FROM c.exam_date)::integer AS year, c.number AS certificate_number, c.certificate_code, c.certificate_name,
                   c.level, \(levelName("c.level")) AS level_name, m.learning_outcome_code, m.learning_outcome_name,
                   (m.credits_tenths / 10.0)::numeric(5, 1) AS credits, c.school_code, c.candidate_number, c.holder_name,
                   c.national_id_masked, c.organization_name, c.exam_date, c.issued_on, c.revoked_at IS NOT NULL AS revoked,
                   r.national_id_sealed IS NOT NULL AS national_id_on_record,
                   (m.certificate_code IS NOT NULL AND c.revoked_at IS NULL AND r.national_id_sealed IS NOT NULL) AS exported
            FROM filing.certificates c
            LEFT JOIN filing.credit_mappings m ON m.certificate_code = c.certificate_code AND m.level = c.level
            LEFT JOIN filing.roster_candidates r ON r.roster_id = c.roster_id AND r.candidate_number = c.candidate_number
            """,
        columns: [
            ("year", "the exam year"), ("certificate_number", "证书编号"), ("certificate_code", "certificate code"),
            ("certificate_name", "证书名称"), ("level", "level: 1 初级, 2 中级, 3 高级"), ("level_name", "级别"),
            ("learning_outcome_code", "the credit bank's learning outcome code; NULL: the certificate and level are not mapped"),
            ("learning_outcome_name", "the learning outcome's name"), ("credits", "学分"), ("school_code", "the holder's school"),
            ("candidate_number", "准考证号"), ("holder_name", "the holder's name"),
            ("national_id_masked", "the ID's first and last four characters"), ("organization_name", "the organization that examined"),
            ("exam_date", "the exam's date"), ("issued_on", "the certificate's issue date"), ("revoked", "the certificate was revoked"),
            ("national_id_on_record", "the holder's full ID is kept (encrypted): false for rosters uploaded before V35"),
            ("exported", "the year's credit bank export holds it"),
        ]
    )
}
