extension Migration {
    /// Settlement: fee ceilings and standards, the due policy, and the school ledger. The
    /// ledger's tables are append-only: the service's role may insert and read them, never
    /// update or delete, so balances can only be derived from the entries.
    static let v12Settlement = Migration(
        version: 12,
        name: "settlement",
        statements: [
            """
            CREATE TABLE settlement.feed_cursors (
                feed text PRIMARY KEY,
                cursor bigint NOT NULL,
                updated_at timestamptz NOT NULL DEFAULT now()
            )
            """,
            """
            CREATE TABLE settlement.fee_ceilings (
                certificate_code text NOT NULL,
                level smallint NOT NULL CHECK (level BETWEEN 1 AND 3),
                ceiling_fen bigint NOT NULL CHECK (ceiling_fen > 0),
                set_by text NOT NULL,
                set_at timestamptz NOT NULL DEFAULT now(),
                PRIMARY KEY (certificate_code, level)
            )
            """,
            """
            CREATE TABLE settlement.fee_standards (
                certificate_code text NOT NULL,
                level smallint NOT NULL CHECK (level BETWEEN 1 AND 3),
                year integer NOT NULL,
                fee_fen bigint NOT NULL CHECK (fee_fen >= 0),
                organization_id bigint NOT NULL,
                filing_id bigint NOT NULL,
                filing_version integer NOT NULL,
                approved_at timestamptz NOT NULL,
                PRIMARY KEY (certificate_code, level, year)
            )
            """,
            """
            CREATE TABLE settlement.due_policies (
                year integer PRIMARY KEY,
                basis text NOT NULL CHECK (basis IN ('before_exam', 'after_exam')),
                days integer NOT NULL CHECK (days BETWEEN 0 AND 366),
                set_by text NOT NULL,
                set_at timestamptz NOT NULL DEFAULT now()
            )
            """,
            // The row a school's ledger changes lock, one writer at a time.
            """
            CREATE TABLE settlement.accounts (
                school_code text PRIMARY KEY
            )
            """,
            // The roster versions seen, and the session (first version) each belongs to.
            """
            CREATE TABLE settlement.roster_sessions (
                roster_id bigint PRIMARY KEY,
                session_roster_id bigint NOT NULL
            )
            """,
            """
            CREATE TABLE settlement.receivables (
                id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                school_code text NOT NULL REFERENCES settlement.accounts (school_code),
                organization_id bigint NOT NULL,
                certificate_code text NOT NULL,
                level smallint NOT NULL,
                year integer NOT NULL,
                session_roster_id bigint NOT NULL,
                exam_date date NOT NULL,
                due_date date NOT NULL,
                fee_fen bigint NOT NULL CHECK (fee_fen >= 0),
                created_at timestamptz NOT NULL DEFAULT now(),
                UNIQUE (session_roster_id, school_code)
            )
            """,
            "CREATE INDEX receivables_by_school ON settlement.receivables (school_code, year)",
            """
            CREATE TABLE settlement.receivable_entries (
                id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                receivable_id bigint NOT NULL REFERENCES settlement.receivables (id),
                kind text NOT NULL CHECK (kind IN ('charge', 'correction')),
                roster_id bigint NOT NULL,
                completed bigint NOT NULL CHECK (completed >= 0),
                amount_fen bigint NOT NULL,
                recorded_at timestamptz NOT NULL DEFAULT now(),
                UNIQUE (receivable_id, roster_id)
            )
            """,
            """
            CREATE TABLE settlement.payments (
                id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                school_code text NOT NULL REFERENCES settlement.accounts (school_code),
                amount_fen bigint NOT NULL CHECK (amount_fen > 0),
                paid_on date NOT NULL,
                reference text NOT NULL,
                named_receivable_id bigint REFERENCES settlement.receivables (id),
                recorded_by text NOT NULL,
                recorded_at timestamptz NOT NULL DEFAULT now()
            )
            """,
            "CREATE INDEX payments_by_school ON settlement.payments (school_code)",
            """
            CREATE TABLE settlement.reversals (
                payment_id bigint PRIMARY KEY REFERENCES settlement.payments (id),
                reason text NOT NULL,
                recorded_by text NOT NULL,
                recorded_at timestamptz NOT NULL DEFAULT now()
            )
            """,
            """
            CREATE TABLE settlement.refunds (
                id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                school_code text NOT NULL REFERENCES settlement.accounts (school_code),
                amount_fen bigint NOT NULL CHECK (amount_fen > 0),
                refunded_on date NOT NULL,
                reference text NOT NULL,
                recorded_by text NOT NULL,
                recorded_at timestamptz NOT NULL DEFAULT now()
            )
            """,
            // Money of a payment put to a receivable or a refund; negative releases it.
            """
            CREATE TABLE settlement.allocations (
                id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                school_code text NOT NULL REFERENCES settlement.accounts (school_code),
                payment_id bigint NOT NULL REFERENCES settlement.payments (id),
                receivable_id bigint REFERENCES settlement.receivables (id),
                refund_id bigint REFERENCES settlement.refunds (id),
                amount_fen bigint NOT NULL CHECK (amount_fen <> 0),
                recorded_at timestamptz NOT NULL DEFAULT now(),
                CHECK ((receivable_id IS NULL) <> (refund_id IS NULL))
            )
            """,
            "CREATE INDEX allocations_by_school ON settlement.allocations (school_code, id)",
            // Each receivable with what is derived from its entries: the candidates of its latest
            // version, its amount (corrections included) and what payments settled of it. The
            // service and the analysts' views read balances from here, the one definition.
            """
            CREATE VIEW settlement.receivable_balances AS
            SELECT r.*,
                   (SELECT e.completed FROM settlement.receivable_entries e WHERE e.receivable_id = r.id ORDER BY e.id DESC LIMIT 1) AS \
            completed,
                   coalesce((SELECT sum(e.amount_fen) FROM settlement.receivable_entries e WHERE e.receivable_id = r.id), 0)::bigint AS \
            amount_fen,
                   coalesce((SELECT sum(a.amount_fen) FROM settlement.allocations a WHERE a.receivable_id = r.id), 0)::bigint AS settled_fen
            FROM settlement.receivables r
            """,
            """
            CREATE TABLE settlement.subsidy_allocations (
                id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                year integer NOT NULL,
                title text NOT NULL,
                budget_fen bigint NOT NULL CHECK (budget_fen > 0),
                by_completed boolean NOT NULL,
                allocated_by text NOT NULL,
                allocated_at timestamptz NOT NULL DEFAULT now()
            )
            """,
            """
            CREATE TABLE settlement.subsidy_shares (
                allocation_id bigint NOT NULL REFERENCES settlement.subsidy_allocations (id),
                school_code text NOT NULL,
                weight bigint NOT NULL CHECK (weight >= 0),
                amount_fen bigint NOT NULL CHECK (amount_fen >= 0),
                PRIMARY KEY (allocation_id, school_code)
            )
            """,
            """
            REVOKE UPDATE, DELETE, TRUNCATE ON settlement.receivables, settlement.receivable_entries, settlement.payments,
                settlement.reversals, settlement.refunds, settlement.allocations, settlement.subsidy_allocations, settlement.subsidy_shares
            FROM xcert_settlement
            """,
        ]
    )
}
