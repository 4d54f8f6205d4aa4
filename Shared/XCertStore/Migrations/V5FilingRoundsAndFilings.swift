extension Migration {
    /// The filing service's rounds, organizations' filings with their versions, fees and
    /// attachments, and the feed of approvals.
    static let v5FilingRoundsAndFilings = Migration(
        version: 5,
        name: "filing rounds and filings",
        statements: [
            """
            CREATE TABLE filing.rounds (
                year integer NOT NULL CHECK (year BETWEEN 2019 AND 2100),
                number integer NOT NULL CHECK (number BETWEEN 1 AND 99),
                closes date NOT NULL,
                closed_at timestamptz,
                opened_by text NOT NULL,
                PRIMARY KEY (year, number)
            )
            """,
            """
            CREATE TABLE filing.filings (
                id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                organization_id bigint NOT NULL,
                certificate_code text NOT NULL,
                year integer NOT NULL,
                round_number integer NOT NULL,
                version integer NOT NULL CHECK (version >= 1),
                state text NOT NULL CHECK (state IN ('submitted', 'approved', 'rejected', 'withdrawn')),
                school_levels integer[] NOT NULL,
                specialty_scope text[] NOT NULL,
                site_arrangement text NOT NULL,
                teacher_requirements text NOT NULL,
                teaching_conditions text NOT NULL,
                exam_arrangement text NOT NULL,
                submitted_at timestamptz NOT NULL DEFAULT now(),
                submitted_by text NOT NULL,
                review_approved boolean,
                review_reason text,
                reviewer text,
                reviewed_at timestamptz,
                withdrawal_reason text,
                FOREIGN KEY (year, round_number) REFERENCES filing.rounds (year, number),
                UNIQUE (organization_id, certificate_code, year, version)
            )
            """,
            // One live filing (submitted or approved) per organization, certificate and year.
            """
            CREATE UNIQUE INDEX filings_live ON filing.filings (organization_id, certificate_code, year)
            WHERE state IN ('submitted', 'approved')
            """,
            "CREATE INDEX filings_certificate_year ON filing.filings (certificate_code, year)",
            """
            CREATE TABLE filing.filing_fees (
                filing_id bigint NOT NULL REFERENCES filing.filings (id),
                level integer NOT NULL CHECK (level BETWEEN 1 AND 3),
                fee_fen bigint NOT NULL CHECK (fee_fen > 0),
                cost_basis text NOT NULL,
                PRIMARY KEY (filing_id, level)
            )
            """,
            """
            CREATE TABLE filing.filing_attachments (
                filing_id bigint NOT NULL REFERENCES filing.filings (id),
                position integer NOT NULL,
                name text NOT NULL,
                size_bytes bigint NOT NULL CHECK (size_bytes >= 0),
                sha256 text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
                PRIMARY KEY (filing_id, position)
            )
            """,
            // Writers take an advisory lock before inserting, so cursors follow commit order.
            """
            CREATE TABLE filing.approval_changes (
                cursor bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                filing_id bigint NOT NULL REFERENCES filing.filings (id),
                changed_at timestamptz NOT NULL DEFAULT now()
            )
            """,
        ]
    )
}
