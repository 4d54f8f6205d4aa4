import Foundation
import Logging
import PostgresNIO
import XCertDomain
import XCertProto
import XCertService
import XCertStore
import XCertWire

/// The filing service's SQL for exam result rosters.
enum RosterStore {
    /// The feed of sealed rosters that assessment follows.
    static let feed = ChangeFeed(table: "filing.roster_changes")

    struct Filter: Sendable {
        var ids: [Int64]?
        var organizationID: Int64?
        /// Only rosters with a candidate of this school.
        var candidateSchool: String?
        var certificateCode: String?
        var year: Int32?
        var state: String?
        var after: Int64 = 0
        var limit = 1000
    }

    /// Rosters with their acknowledged chunks and, once sealed, their tallies (only
    /// `candidateSchool`'s when the filter names one).
    static func rosters(_ filter: Filter, _ connection: PostgresConnection, _ logger: Logger) async throws -> [Xcert_Filing_V1_Roster] {
        let rows = try await connection.query(
            """
            SELECT r.id, r.organization_id, r.certificate_code, r.level, r.site_school_code,
                   extract(year FROM r.exam_date)::integer, extract(month FROM r.exam_date)::integer,
                   extract(day FROM r.exam_date)::integer,
                   r.version, r.state, coalesce(r.supersedes_roster_id, 0), coalesce(r.correction_reason, ''),
                   coalesce((SELECT s.id FROM filing.rosters s WHERE s.supersedes_roster_id = r.id), 0),
                   r.row_count, r.created_at, r.sealed_at, r.created_by
            FROM filing.rosters r
            WHERE r.id > \(filter.after)
              AND (\(filter.ids)::bigint[] IS NULL OR r.id = ANY(\(filter.ids)))
              AND (\(filter.organizationID)::bigint IS NULL OR r.organization_id = \(filter.organizationID))
              AND (\(filter.certificateCode)::text IS NULL OR r.certificate_code = \(filter.certificateCode))
              AND (\(filter.year)::integer IS NULL OR extract(year FROM r.exam_date) = \(filter.year))
              AND (\(filter.state)::text IS NULL OR r.state = \(filter.state))
              AND (\(filter.candidateSchool)::text IS NULL OR EXISTS (
                  SELECT 1 FROM filing.roster_candidates c WHERE c.school_code = \(filter.candidateSchool) AND c.roster_id = r.id))
            ORDER BY r.id LIMIT \(filter.limit)
            """,
            logger: logger
        )
        var rosters: [Xcert_Filing_V1_Roster] = []
        for try await row in rows.decode(
            (Int64, Int64, String, Int32, String, Int32, Int32, Int32, Int32, String, Int64, String, Int64, Int64, Date, Date?, String).self
        ) {
            var roster = Xcert_Filing_V1_Roster()
            roster.id = row.0
            roster.organizationID = row.1
            roster.session.certificateCode = row.2
            roster.session.level = Xcert_Common_V1_CertificateLevel(rawValue: Int(row.3)) ?? .unspecified
            roster.session.siteSchoolCode = row.4
            roster.session.examDate.year = row.5
            roster.session.examDate.month = row.6
            roster.session.examDate.day = row.7
            roster.version = row.8
            roster.state = RosterStates.wire(row.9)
            roster.supersedesRosterID = row.10
            roster.correctionReason = row.11
            roster.supersededByRosterID = row.12
            roster.rowCount = row.13
            roster.createdAt = .init(row.14)
            if let sealed = row.15 { roster.sealedAt = .init(sealed) }
            roster.createdBy = row.16
            rosters.append(roster)
        }
        guard !rosters.isEmpty else { return rosters }
        let ids = rosters.map(\.id)
        let chunks = try await connection.query(
            """
            SELECT roster_id, chunk_index, row_count, encode(sha256, 'hex'), uploaded_at FROM filing.roster_chunks
            WHERE roster_id = ANY(\(ids)) ORDER BY roster_id, chunk_index
            """,
            logger: logger
        )
        var chunksByRoster: [Int64: [Xcert_Filing_V1_UploadedChunk]] = [:]
        for try await (id, index, count, sha256, uploaded) in chunks.decode((Int64, Int32, Int32, String, Date).self) {
            var chunk = Xcert_Filing_V1_UploadedChunk()
            chunk.index = index
            chunk.rowCount = count
            chunk.sha256 = sha256
            chunk.uploadedAt = .init(uploaded)
            chunksByRoster[id, default: []].append(chunk)
        }
        let tallies = try await connection.query(
            """
            SELECT roster_id, school_code, declared, approved, completed, passed FROM filing.roster_tallies
            WHERE roster_id = ANY(\(ids)) AND (\(filter.candidateSchool)::text IS NULL OR school_code = \(filter.candidateSchool))
            ORDER BY roster_id, school_code
            """,
            logger: logger
        )
        var talliesByRoster: [Int64: [Xcert_Filing_V1_SchoolTally]] = [:]
        for try await (id, school, declared, approved, completed, passed) in tallies.decode(
            (Int64, String, Int64, Int64, Int64, Int64).self)
        {
            var tally = Xcert_Filing_V1_SchoolTally()
            tally.schoolCode = school
            tally.declared = declared
            tally.approved = approved
            tally.completed = completed
            tally.passed = passed
            talliesByRoster[id, default: []].append(tally)
        }
        for index in rosters.indices {
            rosters[index].chunks = chunksByRoster[rosters[index].id] ?? []
            rosters[index].tallies = talliesByRoster[rosters[index].id] ?? []
        }
        return rosters
    }

    /// One roster, if the caller may see it; NOT_FOUND otherwise.
    static func roster(
        _ id: Int64, organization: Int64? = nil, candidateSchool: String? = nil, _ connection: PostgresConnection, _ logger: Logger
    ) async throws -> Xcert_Filing_V1_Roster {
        var filter = Filter(ids: [id])
        filter.organizationID = organization
        filter.candidateSchool = candidateSchool
        guard let roster = try await self.rosters(filter, connection, logger).first else {
            throw RPCError(.notFound, "there is no roster \(id)")
        }
        return roster
    }

    /// The scoring rule a roster was made with.
    static func scoringRule(of rosterID: Int64, _ connection: PostgresConnection, _ logger: Logger) async throws -> ScoringRule {
        let rows = try await connection.query(
            "SELECT component_names, component_weights, pass_mark FROM filing.rosters WHERE id = \(rosterID)",
            logger: logger
        )
        for try await (names, weights, passMark) in rows.decode(([String], [Int32], Int32).self) {
            return ScoringRule(components: zip(names, weights).map { .init(name: $0, weightPercent: Int($1)) }, passMark: Int(passMark))
        }
        throw RPCError(.notFound, "there is no roster \(rosterID)")
    }

    /// Stores a checked chunk: its acknowledgement, its candidates, the roster's count, in
    /// one prepared statement (``ChunkStatement``).
    static func insertChunk(
        roster rosterID: Int64, index: Int32, digest: Data, _ candidates: [CheckedCandidate], _ connection: PostgresConnection,
        _ logger: Logger
    ) async throws {
        let statement = ChunkStatement(roster: rosterID, index: index, digest: digest, candidates: candidates)
        for try await _ in try await connection.execute(statement, logger: logger) {}
    }

    /// ``insertChunk(roster:index:digest:_:_:_:)``'s statement, prepared once per connection:
    /// the chunk's acknowledgement, its candidates (from one array per column) and the
    /// roster's new count.
    struct ChunkStatement: PostgresPreparedStatement {
        static let name = "filing.roster_chunk"
        static let sql = """
            WITH chunk AS (
                INSERT INTO filing.roster_chunks (roster_id, chunk_index, row_count, sha256)
                VALUES ($1::bigint, $2::integer, $3::integer, $4::bytea)
            ), counted AS (
                UPDATE filing.rosters SET row_count = row_count + $3::integer WHERE id = $1::bigint
            )
            INSERT INTO filing.roster_candidates (roster_id, chunk_index, row_index, candidate_number, name, national_id_hmac,
                national_id_last4, school_code, specialty, approved, attended, scores_tenths, total_tenths, passed, national_id_first4,
                holder_salt, holder_digest, national_id_sealed)
            SELECT $1::bigint, $2::integer, r, n, nm, decode(h, 'hex'), l4, sc, sp, ap, at, s::integer[], t, p, f4, decode(hs, 'hex'),
                   decode(hd, 'hex'), decode(ids, 'hex')
            FROM unnest($5::integer[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::boolean[],
                        $13::boolean[], $14::text[], $15::integer[], $16::boolean[], $17::text[], $18::text[], $19::text[], $20::text[])
                 AS x(r, n, nm, h, l4, sc, sp, ap, at, s, t, p, f4, hs, hd, ids)
            """
        typealias Row = Void

        let roster: Int64
        let index: Int32
        let digest: Data
        let candidates: [CheckedCandidate]

        func makeBindings() throws -> PostgresBindings {
            let candidates = self.candidates
            var bindings = PostgresBindings(capacity: 20)
            bindings.append(self.roster)
            bindings.append(self.index)
            bindings.append(Int32(candidates.count))
            try bindings.append(self.digest)
            bindings.append(candidates.map(\.rowIndex))
            bindings.append(candidates.map(\.candidateNumber))
            bindings.append(candidates.map(\.name))
            bindings.append(candidates.map(\.nationalIDHash))
            bindings.append(candidates.map(\.nationalIDLastFour))
            bindings.append(candidates.map(\.schoolCode))
            bindings.append(candidates.map(\.specialty))
            bindings.append(candidates.map(\.approved))
            bindings.append(candidates.map(\.attended))
            bindings.append(candidates.map { "{" + $0.scoresTenths.map(String.init).joined(separator: ",") + "}" })
            bindings.append(candidates.map { Int32($0.totalTenths) })
            bindings.append(candidates.map(\.passed))
            bindings.append(candidates.map(\.nationalIDFirstFour))
            bindings.append(candidates.map(\.holderSalt))
            bindings.append(candidates.map(\.holderDigest))
            bindings.append(candidates.map(\.nationalIDSealed))
            return bindings
        }

        func decodeRow(_ row: PostgresRow) throws {}
    }

    /// Candidates of `candidates` whose number or person is already in another chunk of
    /// the roster (each looked up through its unique index).
    static func clashes(
        roster rosterID: Int64, _ candidates: [CheckedCandidate], _ connection: PostgresConnection, _ logger: Logger
    ) async throws -> [RPCError.FieldViolation] {
        let byNumber = Dictionary(candidates.map { ($0.candidateNumber, $0.rowIndex) }, uniquingKeysWith: { first, _ in first })
        let byPerson = Dictionary(candidates.map { ($0.nationalIDHash, $0.rowIndex) }, uniquingKeysWith: { first, _ in first })
        var violations: [(Int32, RPCError.FieldViolation)] = []
        let numbers = try await connection.query(
            """
            SELECT candidate_number, chunk_index, row_index FROM filing.roster_candidates
            WHERE roster_id = \(rosterID) AND candidate_number = ANY(\(Array(byNumber.keys))::text[])
            """,
            logger: logger
        )
        for try await (number, chunk, row) in numbers.decode((String, Int32, Int32).self) {
            guard let index = byNumber[number] else { continue }
            violations.append(
                (index, .init(field: "rows[\(index)].candidate_number", description: "is already chunk \(chunk) row \(row) of this roster"))
            )
        }
        let people = try await connection.query(
            """
            SELECT encode(national_id_hmac, 'hex'), chunk_index, row_index FROM filing.roster_candidates
            WHERE roster_id = \(rosterID)
              AND national_id_hmac = ANY(ARRAY(SELECT decode(h, 'hex') FROM unnest(\(Array(byPerson.keys))::text[]) AS h))
            """,
            logger: logger
        )
        for try await (person, chunk, row) in people.decode((String, Int32, Int32).self) {
            guard let index = byPerson[person] else { continue }
            violations.append(
                (
                    index,
                    .init(
                        field: "rows[\(index)].national_id",
                        description: "the same person is already chunk \(chunk) row \(row) of this roster")
                ))
        }
        return violations.sorted { $0.0 < $1.0 }.map(\.1)
    }

    /// A roster's candidates in upload order, after position `after` (chunk × 10,000 + row).
    static func candidates(
        roster rosterID: Int64, school: String?, after: Int64, limit: Int, _ connection: PostgresConnection, _ logger: Logger
    ) async throws -> [Xcert_Filing_V1_StoredCandidate] {
        let rows = try await connection.query(
            """
            SELECT chunk_index, row_index, candidate_number, name, national_id_last4, school_code, specialty, approved, attended,
                   scores_tenths, total_tenths, passed
            FROM filing.roster_candidates
            WHERE roster_id = \(rosterID) AND (chunk_index::bigint * 10000 + row_index) > \(after)
              AND (\(school)::text IS NULL OR school_code = \(school))
            ORDER BY chunk_index, row_index LIMIT \(limit)
            """,
            logger: logger
        )
        var candidates: [Xcert_Filing_V1_StoredCandidate] = []
        for try await row in rows.decode((Int32, Int32, String, String, String, String, String, Bool, Bool, [Int32], Int32, Bool).self) {
            var candidate = Xcert_Filing_V1_StoredCandidate()
            candidate.chunkIndex = row.0
            candidate.rowIndex = row.1
            candidate.candidateNumber = row.2
            candidate.name = row.3
            candidate.nationalIDLast4 = row.4
            candidate.schoolCode = row.5
            candidate.specialty = row.6
            candidate.registration = row.7 ? .approved : .declared
            candidate.attended = row.8
            candidate.componentScoresTenths = row.9
            candidate.totalScoreTenths = row.10
            candidate.passed = row.11
            candidates.append(candidate)
        }
        return candidates
    }

    /// A candidate's position, the key of candidate pages.
    static func position(_ candidate: Xcert_Filing_V1_StoredCandidate) -> Int64 {
        Int64(candidate.chunkIndex) * 10_000 + Int64(candidate.rowIndex)
    }

    /// Sealed rosters after `cursor`, oldest first.
    static func changes(
        after cursor: Int64, limit: Int, _ connection: PostgresConnection, _ logger: Logger
    ) async throws -> [Xcert_Filing_V1_RosterChange] {
        let rows = try await connection.query(
            "SELECT cursor, roster_id FROM filing.roster_changes WHERE cursor > \(cursor) ORDER BY cursor LIMIT \(limit)",
            logger: logger
        )
        var cursors: [(Int64, Int64)] = []
        for try await row in rows.decode((Int64, Int64).self) { cursors.append(row) }
        guard !cursors.isEmpty else { return [] }
        let rosters = Dictionary(
            uniqueKeysWithValues: try await self.rosters(Filter(ids: cursors.map(\.1)), connection, logger).map { ($0.id, $0) })
        return cursors.compactMap { cursor, id in
            guard var roster = rosters[id] else { return nil }
            // A follower counts the version the change announced, even if a correction superseded it since.
            roster.state = .sealed
            roster.supersededByRosterID = 0
            var change = Xcert_Filing_V1_RosterChange()
            change.cursor = cursor
            change.roster = roster
            return change
        }
    }
}

/// `RosterState` as the database keeps it.
extension RosterStore {
    /// A roster as its lifecycle knows it.
    static func lifecycle(of roster: Xcert_Filing_V1_Roster) throws -> RosterLifecycle {
        guard let stored = RosterStates.stored(roster.state), let state = RosterLifecycle.State(rawValue: stored) else {
            throw RPCError(.internal, "roster \(roster.id) has no known state")
        }
        return RosterLifecycle(
            id: roster.id, state: state, version: roster.version,
            chunks: Dictionary(roster.chunks.map { ($0.index, $0.sha256) }, uniquingKeysWith: { first, _ in first }),
            rowCount: roster.rowCount,
            supersedes: roster.supersedesRosterID == 0 ? nil : roster.supersedesRosterID,
            correctedBy: roster.supersededByRosterID == 0 ? nil : roster.supersededByRosterID
        )
    }

    /// Writes what sealing changed: a sealed roster gets its tallies per school and joins the
    /// feed that assessment follows; the roster it corrects is superseded.
    static func record(_ event: RosterLifecycle.Event, _ connection: PostgresConnection, _ logger: Logger) async throws {
        switch event {
        case .superseded(let id):
            try await connection.query(
                "UPDATE filing.rosters SET state = 'superseded' WHERE id = \(id) AND state = 'sealed'", logger: logger)
        case .sealed(let id, let at):
            try await connection.query(
                """
                INSERT INTO filing.roster_tallies (roster_id, school_code, declared, approved, completed, passed)
                SELECT roster_id, school_code, count(*), count(*) FILTER (WHERE approved), count(*) FILTER (WHERE attended),
                       count(*) FILTER (WHERE passed)
                FROM filing.roster_candidates WHERE roster_id = \(id) GROUP BY roster_id, school_code
                """,
                logger: logger
            )
            try await connection.query("UPDATE filing.rosters SET state = 'sealed', sealed_at = \(at) WHERE id = \(id)", logger: logger)
            try await Self.feed.lockForAppend(connection, logger: logger)
            try await connection.query("INSERT INTO filing.roster_changes (roster_id) VALUES (\(id))", logger: logger)
        }
    }
}

extension RosterStore {
    /// A roster to create: its exam session, version and scoring rule.
    struct NewRoster: Sendable {
        var organization: Int64
        var certificate: String
        var level: CertificateLevel
        var siteSchool: String
        var examDate: LocalDate
        var version: Int32
        var supersedes: Int64?
        var correctionReason: String?
        var rule: ScoringRule
        var createdBy: String
    }

    /// Creates `roster`, uploading; its id, or nil when its exam session already has a
    /// roster of that version.
    static func insert(_ roster: NewRoster, _ connection: PostgresConnection, _ logger: Logger) async throws -> Int64? {
        let rule = roster.rule
        let inserted = try await connection.query(
            """
            INSERT INTO filing.rosters (organization_id, certificate_code, level, site_school_code, exam_date, version, state,
                supersedes_roster_id, correction_reason, component_names, component_weights, pass_mark, created_by)
            VALUES (\(roster.organization), \(roster.certificate), \(Int32(roster.level.rawValue)), \(roster.siteSchool),
                \(roster.examDate.description)::date, \(roster.version), \(RosterLifecycle.State.uploading.rawValue),
                \(roster.supersedes), \(roster.correctionReason), \(rule.components.map(\.name)),
                \(rule.components.map { Int32($0.weightPercent) }), \(Int32(rule.passMark)), \(roster.createdBy))
            ON CONFLICT DO NOTHING RETURNING id
            """,
            logger: logger
        )
        for try await id in inserted.decode(Int64.self) { return id }
        return nil
    }

    /// Why a new roster of `session` clashes: the roster that already holds the session.
    static func sessionTakenMessage(
        _ session: Xcert_Filing_V1_ExamSession, level: CertificateLevel, date: LocalDate, _ connection: PostgresConnection, _ logger: Logger
    ) async throws -> String {
        let rows = try await connection.query(
            """
            SELECT id, state FROM filing.rosters
            WHERE certificate_code = \(session.certificateCode) AND level = \(Int32(level.rawValue))
              AND site_school_code = \(session.siteSchoolCode)
              AND exam_date = \(date.description)::date AND supersedes_roster_id IS NULL
            """,
            logger: logger
        )
        for try await (id, state) in rows.decode((Int64, String).self) {
            return """
                roster \(id) (\(state)) is already the roster of this exam session; upload into it, \
                or, once sealed, correct it with a roster that supersedes it
                """
        }
        return "a roster of this exam session is being corrected already"
    }

    /// Locks roster `id` (of `organization`, when given) until the transaction ends: its
    /// chunks and its seal are decided one call at a time.
    static func lock(_ id: Int64, organization: Int64? = nil, _ connection: PostgresConnection, _ logger: Logger) async throws {
        try await connection.query(
            """
            SELECT 1 FROM filing.rosters
            WHERE id = \(id) AND (\(organization)::bigint IS NULL OR organization_id = \(organization)) FOR UPDATE
            """,
            logger: logger
        )
    }

    /// 003 appendix table 2's lines: per certificate, level and site, the year's sealed
    /// sessions, their exam dates and the candidates examined there (考核人数: those who sat,
    /// not those only declared or absent), of one organization when given.
    static func siteSessionLines(
        year: Int32, certificate: String?, organization: Int64?, _ connection: PostgresConnection, _ logger: Logger
    ) async throws -> [Xcert_Filing_V1_SiteSessionLine] {
        let rows = try await connection.query(
            """
            SELECT r.certificate_code, r.level, r.site_school_code, count(*)::integer,
                   array_agg(to_char(r.exam_date, 'YYYY-MM-DD') ORDER BY r.exam_date), sum(sat.completed)::bigint
            FROM filing.rosters r
            CROSS JOIN LATERAL (
                SELECT coalesce(sum(t.completed), 0) AS completed FROM filing.roster_tallies t WHERE t.roster_id = r.id
            ) sat
            WHERE r.state = \(RosterStates.sealed) AND extract(year FROM r.exam_date) = \(year)
              AND (\(certificate)::text IS NULL OR r.certificate_code = \(certificate))
              AND (\(organization)::bigint IS NULL OR r.organization_id = \(organization))
            GROUP BY r.certificate_code, r.level, r.site_school_code
            ORDER BY r.certificate_code, r.level, r.site_school_code
            """,
            logger: logger
        )
        var lines: [Xcert_Filing_V1_SiteSessionLine] = []
        for try await (certificate, level, site, sessions, dates, candidates) in rows.decode(
            (String, Int32, String, Int32, [String], Int64).self)
        {
            var line = Xcert_Filing_V1_SiteSessionLine()
            line.certificateCode = certificate
            line.level = Xcert_Common_V1_CertificateLevel(rawValue: Int(level)) ?? .unspecified
            line.siteSchoolCode = site
            line.sessions = sessions
            line.examDates = dates.compactMap { LocalDate(iso: $0)?.wire }
            line.candidates = candidates
            lines.append(line)
        }
        return lines
    }
}

enum RosterStates {
    static let uploading = "uploading"
    static let sealed = "sealed"
    static let superseded = "superseded"

    static func stored(_ state: Xcert_Filing_V1_RosterState) -> String? {
        switch state {
        case .uploading: uploading
        case .sealed: sealed
        case .superseded: superseded
        default: nil
        }
    }

    static func wire(_ stored: String) -> Xcert_Filing_V1_RosterState {
        switch stored {
        case uploading: .uploading
        case sealed: .sealed
        case superseded: .superseded
        default: .unspecified
        }
    }
}
