extension Migration {
    /// The filing service's exam result rosters (chunks, candidates with their national ID
    /// only as a keyed hash, tallies, the feed of sealed rosters) and organizations'
    /// yearly reports.
    static let v6RostersAndReports = Migration(
        version: 6,
        name: "exam result rosters and yearly reports",
        statements: [
            """
            CREATE TABLE filing.rosters (
                id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                organization_id bigint NOT NULL,
                certificate_code text NOT NULL,
                level integer NOT NULL CHECK (level BETWEEN 1 AND 3),
                site_school_code text NOT NULL,
                exam_date date NOT NULL,
                version integer NOT NULL CHECK (version >= 1),
                state text NOT NULL CHECK (state IN ('uploading', 'sealed', 'superseded')),
                supersedes_roster_id bigint UNIQUE REFERENCES filing.rosters (id),
                correction_reason text,
                -- The certificate's scoring rule when the roster was made: rows are checked against it.
                component_names text[] NOT NULL,
                component_weights integer[] NOT NULL,
                pass_mark integer NOT NULL CHECK (pass_mark BETWEEN 1 AND 100),
                row_count bigint NOT NULL DEFAULT 0,
                created_at timestamptz NOT NULL DEFAULT now(),
                created_by text NOT NULL,
                sealed_at timestamptz,
                CHECK ((supersedes_roster_id IS NULL) = (version = 1)),
                CHECK ((state = 'uploading') = (sealed_at IS NULL))
            )
            """,
            // One first version per exam session; corrections chain from it one by one.
            """
            CREATE UNIQUE INDEX rosters_session ON filing.rosters (certificate_code, level, site_school_code, exam_date)
            WHERE supersedes_roster_id IS NULL
            """,
            "CREATE INDEX rosters_organization ON filing.rosters (organization_id, id)",
            """
            CREATE TABLE filing.roster_chunks (
                roster_id bigint NOT NULL REFERENCES filing.rosters (id),
                chunk_index integer NOT NULL CHECK (chunk_index >= 0),
                row_count integer NOT NULL CHECK (row_count BETWEEN 1 AND 5000),
                sha256 bytea NOT NULL,
                uploaded_at timestamptz NOT NULL DEFAULT now(),
                PRIMARY KEY (roster_id, chunk_index)
            )
            """,
            """
            CREATE TABLE filing.roster_candidates (
                roster_id bigint NOT NULL,
                chunk_index integer NOT NULL,
                row_index integer NOT NULL,
                candidate_number text NOT NULL,
                name text NOT NULL,
                national_id_hmac bytea NOT NULL,
                national_id_last4 text NOT NULL,
                school_code text NOT NULL,
                specialty text NOT NULL,
                approved boolean NOT NULL,
                attended boolean NOT NULL,
                scores_tenths integer[] NOT NULL,
                total_tenths integer NOT NULL,
                passed boolean NOT NULL,
                PRIMARY KEY (roster_id, chunk_index, row_index),
                FOREIGN KEY (roster_id, chunk_index) REFERENCES filing.roster_chunks (roster_id, chunk_index),
                UNIQUE (roster_id, candidate_number),
                UNIQUE (roster_id, national_id_hmac)
            )
            """,
            "CREATE INDEX roster_candidates_school ON filing.roster_candidates (school_code, roster_id)",
            "CREATE INDEX roster_candidates_person ON filing.roster_candidates (national_id_hmac)",
            """
            CREATE TABLE filing.roster_tallies (
                roster_id bigint NOT NULL REFERENCES filing.rosters (id),
                school_code text NOT NULL,
                declared bigint NOT NULL,
                approved bigint NOT NULL,
                completed bigint NOT NULL,
                passed bigint NOT NULL,
                PRIMARY KEY (roster_id, school_code)
            )
            """,
            // Writers take an advisory lock before inserting, so cursors follow commit order.
            """
            CREATE TABLE filing.roster_changes (
                cursor bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                roster_id bigint NOT NULL REFERENCES filing.rosters (id),
                changed_at timestamptz NOT NULL DEFAULT now()
            )
            """,
            """
            CREATE TABLE filing.reports (
                id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                organization_id bigint NOT NULL,
                year integer NOT NULL CHECK (year BETWEEN 2019 AND 2100),
                version integer NOT NULL CHECK (version >= 1),
                state text NOT NULL CHECK (state IN ('submitted', 'accepted', 'returned', 'withdrawn')),
                -- The report as protobuf JSON (xcert.filing.v1.YearlyReportContent), for analysts too.
                content jsonb NOT NULL,
                submitted_at timestamptz NOT NULL DEFAULT now(),
                submitted_by text NOT NULL,
                review_reason text,
                reviewer text,
                reviewed_at timestamptz,
                withdrawal_reason text,
                UNIQUE (organization_id, year, version)
            )
            """,
            // One live report (submitted or accepted) per organization and year.
            "CREATE UNIQUE INDEX reports_live ON filing.reports (organization_id, year) WHERE state IN ('submitted', 'accepted')",
        ]
    )
}
