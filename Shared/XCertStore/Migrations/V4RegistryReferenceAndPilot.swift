extension Migration {
    /// The registry's own data: the province and its cities, schools, organizations,
    /// certificates; pilot applications, their reviews and the qualifications they
    /// create, with the qualification change feed; alliances' lead-school selection;
    /// assessment sites and monitoring points.
    ///
    /// Nothing here has ON DELETE CASCADE: a row something refers to cannot be deleted.
    static let v4RegistryReferenceAndPilot = Migration(
        version: 4,
        name: "registry reference data and pilot",
        statements: [
            """
            CREATE TABLE registry.province (
                singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
                code text NOT NULL CHECK (code ~ '^[0-9]{2}$'),
                name text NOT NULL CHECK (length(name) BETWEEN 1 AND 50)
            )
            """,
            """
            CREATE TABLE registry.cities (
                code text PRIMARY KEY CHECK (code ~ '^[0-9]{4}00$'),
                name text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 50)
            )
            """,
            """
            CREATE TABLE registry.schools (
                code text PRIMARY KEY CHECK (code ~ '^[0-9]{10}$'),
                name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
                type text NOT NULL CHECK (type IN ('secondary_vocational', 'higher_vocational', 'vocational_undergraduate', \
            'applied_undergraduate', 'open_university', 'technical_school')),
                city_code text NOT NULL REFERENCES registry.cities (code),
                specialty_count integer NOT NULL CHECK (specialty_count >= 0),
                enrolled_students integer NOT NULL CHECK (enrolled_students >= 0),
                honours text[] NOT NULL DEFAULT '{}',
                version bigint NOT NULL DEFAULT 1,
                created_at timestamptz NOT NULL DEFAULT now(),
                updated_at timestamptz NOT NULL DEFAULT now()
            )
            """,
            "CREATE INDEX schools_city ON registry.schools (city_code)",
            """
            CREATE TABLE registry.school_specialties (
                school_code text NOT NULL REFERENCES registry.schools (code),
                code text NOT NULL,
                name text NOT NULL,
                position integer NOT NULL,
                PRIMARY KEY (school_code, code)
            )
            """,
            """
            CREATE TABLE registry.irregularities (
                id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                school_code text NOT NULL REFERENCES registry.schools (code),
                kind text NOT NULL CHECK (kind IN ('training_or_facilities', 'funds_misused', 'reform_defects', 'other')),
                description text NOT NULL,
                year integer NOT NULL,
                recorded_at timestamptz NOT NULL DEFAULT now(),
                recorded_by text NOT NULL
            )
            """,
            "CREATE INDEX irregularities_school ON registry.irregularities (school_code)",
            """
            CREATE TABLE registry.organizations (
                id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                name text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 100),
                fax text NOT NULL DEFAULT '',
                address text NOT NULL DEFAULT '',
                postcode text NOT NULL DEFAULT '',
                version bigint NOT NULL DEFAULT 1
            )
            """,
            """
            CREATE TABLE registry.organization_contacts (
                organization_id bigint NOT NULL REFERENCES registry.organizations (id),
                position integer NOT NULL,
                name text NOT NULL,
                office_phone text NOT NULL DEFAULT '',
                mobile text NOT NULL DEFAULT '',
                email text NOT NULL DEFAULT '',
                PRIMARY KEY (organization_id, position)
            )
            """,
            """
            CREATE TABLE registry.certificates (
                code text PRIMARY KEY CHECK (code ~ '^[A-Z0-9][A-Z0-9-]{1,31}$'),
                name text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 100),
                batch integer NOT NULL CHECK (batch BETWEEN 0 AND 4),
                levels integer[] NOT NULL CHECK (cardinality(levels) >= 1),
                organization_id bigint REFERENCES registry.organizations (id),
                component_names text[] NOT NULL,
                component_weights integer[] NOT NULL,
                pass_mark integer NOT NULL CHECK (pass_mark BETWEEN 1 AND 100),
                version bigint NOT NULL DEFAULT 1
            )
            """,
            "CREATE INDEX certificates_organization ON registry.certificates (organization_id)",
            """
            CREATE TABLE registry.pilot_applications (
                id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                school_code text NOT NULL REFERENCES registry.schools (code),
                certificate_code text NOT NULL REFERENCES registry.certificates (code),
                year integer NOT NULL CHECK (year BETWEEN 2019 AND 2100),
                levels integer[] NOT NULL,
                specialty_codes text[] NOT NULL,
                student_scale integer NOT NULL CHECK (student_scale > 0),
                state text NOT NULL CHECK (state IN ('awaiting_city_review', 'awaiting_province_review', 'approved', 'rejected')),
                submitted_at timestamptz NOT NULL DEFAULT now(),
                submitted_by text NOT NULL
            )
            """,
            // One live application (or approval) per school, certificate and year.
            """
            CREATE UNIQUE INDEX pilot_applications_live ON registry.pilot_applications (school_code, certificate_code, year)
            WHERE state <> 'rejected'
            """,
            "CREATE INDEX pilot_applications_school_year ON registry.pilot_applications (school_code, year)",
            """
            CREATE TABLE registry.application_reviews (
                application_id bigint NOT NULL REFERENCES registry.pilot_applications (id),
                step text NOT NULL CHECK (step IN ('city', 'province')),
                approved boolean NOT NULL,
                reason text NOT NULL,
                reviewer_id bigint NOT NULL,
                reviewer_name text NOT NULL,
                reviewed_at timestamptz NOT NULL DEFAULT now(),
                PRIMARY KEY (application_id, step),
                CHECK (approved OR length(reason) > 0)
            )
            """,
            """
            CREATE TABLE registry.qualifications (
                id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                application_id bigint NOT NULL UNIQUE REFERENCES registry.pilot_applications (id),
                school_code text NOT NULL REFERENCES registry.schools (code),
                certificate_code text NOT NULL REFERENCES registry.certificates (code),
                year integer NOT NULL,
                levels integer[] NOT NULL,
                specialty_codes text[] NOT NULL,
                student_scale integer NOT NULL,
                granted_at timestamptz NOT NULL DEFAULT now(),
                revoked_at timestamptz,
                revocation_reason text,
                revoked_by text,
                CHECK ((revoked_at IS NULL) = (revocation_reason IS NULL))
            )
            """,
            "CREATE INDEX qualifications_certificate_year ON registry.qualifications (certificate_code, year)",
            "CREATE INDEX qualifications_school_year ON registry.qualifications (school_code, year)",
            // The change feed. Writers take an advisory lock before inserting, so cursors
            // are assigned in commit order and a follower never skips a late commit.
            """
            CREATE TABLE registry.qualification_changes (
                cursor bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                qualification_id bigint NOT NULL REFERENCES registry.qualifications (id),
                kind text NOT NULL CHECK (kind IN ('created', 'revoked')),
                changed_at timestamptz NOT NULL DEFAULT now()
            )
            """,
            """
            CREATE TABLE registry.lead_selections (
                certificate_code text NOT NULL REFERENCES registry.certificates (code),
                year integer NOT NULL,
                phase text NOT NULL CHECK (phase IN ('applications', 'expert_review', 'public_notice', 'final')),
                applications_close date NOT NULL,
                notice_ends_at timestamptz,
                finalized_at timestamptz,
                PRIMARY KEY (certificate_code, year)
            )
            """,
            """
            CREATE TABLE registry.lead_applications (
                id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                certificate_code text NOT NULL,
                year integer NOT NULL,
                school_code text NOT NULL REFERENCES registry.schools (code),
                contact_person text NOT NULL,
                contact_phone text NOT NULL,
                address text NOT NULL,
                school_profile text NOT NULL,
                implementation text NOT NULL,
                advantages text[] NOT NULL,
                work_plan text NOT NULL,
                commitment_signed boolean NOT NULL,
                submitted_at timestamptz NOT NULL DEFAULT now(),
                FOREIGN KEY (certificate_code, year) REFERENCES registry.lead_selections (certificate_code, year),
                UNIQUE (certificate_code, year, school_code)
            )
            """,
            """
            CREATE TABLE registry.expert_scores (
                application_id bigint NOT NULL REFERENCES registry.lead_applications (id),
                expert text NOT NULL,
                score integer NOT NULL CHECK (score BETWEEN 0 AND 100),
                comment text NOT NULL DEFAULT '',
                scored_at timestamptz NOT NULL DEFAULT now(),
                PRIMARY KEY (application_id, expert)
            )
            """,
            """
            CREATE TABLE registry.lead_schools (
                certificate_code text NOT NULL,
                year integer NOT NULL,
                school_code text NOT NULL REFERENCES registry.schools (code),
                is_primary boolean NOT NULL,
                PRIMARY KEY (certificate_code, year, school_code),
                FOREIGN KEY (certificate_code, year) REFERENCES registry.lead_selections (certificate_code, year)
            )
            """,
            "CREATE UNIQUE INDEX lead_schools_one_primary ON registry.lead_schools (certificate_code, year) WHERE is_primary",
            """
            CREATE TABLE registry.assessment_sites (
                id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                school_code text NOT NULL REFERENCES registry.schools (code),
                certificate_code text NOT NULL REFERENCES registry.certificates (code),
                levels integer[] NOT NULL,
                capacity integer NOT NULL CHECK (capacity > 0),
                year_opened integer NOT NULL,
                registered_at timestamptz NOT NULL DEFAULT now(),
                registered_by text NOT NULL,
                UNIQUE (school_code, certificate_code)
            )
            """,
            "CREATE INDEX assessment_sites_certificate ON registry.assessment_sites (certificate_code)",
            """
            CREATE TABLE registry.monitoring_selections (
                certificate_code text NOT NULL REFERENCES registry.certificates (code),
                year integer NOT NULL,
                target integer NOT NULL,
                selected_at timestamptz NOT NULL DEFAULT now(),
                selected_by text NOT NULL,
                PRIMARY KEY (certificate_code, year)
            )
            """,
            """
            CREATE TABLE registry.monitoring_points (
                certificate_code text NOT NULL,
                year integer NOT NULL,
                school_code text NOT NULL REFERENCES registry.schools (code),
                PRIMARY KEY (certificate_code, year, school_code),
                FOREIGN KEY (certificate_code, year) REFERENCES registry.monitoring_selections (certificate_code, year)
            )
            """,
        ]
    )
}
