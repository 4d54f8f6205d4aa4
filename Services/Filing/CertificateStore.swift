import Foundation
import Logging
import PostgresNIO
import XCertDomain
import XCertProto
import XCertService
import XCertStore
import XCertWire

/// The SQL of certificates (`filing.certificates`): the passed candidates of a roster as
/// issuance needs them, the numbers' sequences, the certificates issued.
enum CertificateStore {
    /// A candidate who passed, with what their certificate says of them.
    struct Holder {
        var candidateNumber: String
        var name: String
        var schoolCode: String
        var first4: String?
        var last4: String
        var salt: Data?
        var digest: Data?
    }

    static func passedCandidates(roster: Int64, _ connection: PostgresConnection, _ logger: Logger) async throws -> [Holder] {
        let rows = try await connection.query(
            """
            SELECT candidate_number, name, school_code, national_id_first4, national_id_last4, holder_salt, holder_digest
            FROM filing.roster_candidates WHERE roster_id = \(roster) AND passed ORDER BY candidate_number
            """,
            logger: logger)
        var holders: [Holder] = []
        for try await (number, name, school, first4, last4, salt, digest) in rows.decode(
            (String, String, String, String?, String, Data?, Data?).self)
        {
            holders.append(
                Holder(candidateNumber: number, name: name, schoolCode: school, first4: first4, last4: last4, salt: salt, digest: digest))
        }
        return holders
    }

    /// Takes `count` numbers of the sequence of `year`, `certificate` and `level`; returns the first.
    static func allocate(
        _ count: Int, year: Int32, certificate: String, level: Int32, _ connection: PostgresConnection, _ logger: Logger
    ) async throws -> Int32 {
        let rows = try await connection.query(
            """
            INSERT INTO filing.certificate_sequences (year, certificate_code, level, last)
            VALUES (\(year), \(certificate), \(level), \(Int32(count)))
            ON CONFLICT (year, certificate_code, level) DO UPDATE SET last = filing.certificate_sequences.last + excluded.last
            RETURNING last
            """,
            logger: logger)
        for try await last in rows.decode(Int32.self) { return last - Int32(count) + 1 }
        throw RPCError(.internal, "no certificate numbers allocated")
    }

    /// `count` positions in the revocation status lists, in order.
    static func statusIndices(_ count: Int, _ connection: PostgresConnection, _ logger: Logger) async throws -> [Int32] {
        let rows = try await connection.query(
            "SELECT nextval('filing.certificate_status_index')::integer FROM generate_series(1, \(Int32(count)))", logger: logger)
        var indices: [Int32] = []
        for try await index in rows.decode(Int32.self) { indices.append(index) }
        return indices
    }

    static func insert(_ certificates: [Xcert_Filing_V1_Certificate], _ connection: PostgresConnection, _ logger: Logger) async throws {
        guard let first = certificates.first else { return }
        try await connection.query(
            """
            INSERT INTO filing.certificates (number, session_roster_id, roster_id, candidate_number, school_code, holder_name,
                national_id_masked, certificate_code, certificate_name, level, organization_id, organization_name, exam_date, issued_on,
                credential, status_index)
            SELECT number, \(first.sessionRosterID), \(first.rosterID), candidate, school, holder, masked, \(first.certificateCode),
                   \(first.certificateName), \(Int32(first.level.rawValue)), \(first.organizationID), \(first.organizationName),
                   \(LocalDate(wire: first.examDate)?.description ?? "")::date, \(LocalDate(wire: first.issuedOn)?.description ?? "")::date,
                   credential, status
            FROM unnest(\(certificates.map(\.number))::text[], \(certificates.map(\.candidateNumber))::text[],
                        \(certificates.map(\.schoolCode))::text[], \(certificates.map(\.holderName))::text[],
                        \(certificates.map(\.nationalIDMasked))::text[], \(certificates.map(\.credential))::text[],
                        \(certificates.map(\.statusIndex))::integer[])
                 AS x(number, candidate, school, holder, masked, credential, status)
            """,
            logger: logger)
    }

    /// Which certificates to read; nil means any.
    struct Filter {
        var numbers: [String]?
        var year: Int32?
        var certificate: String?
        var school: String?
        var organization: Int64?
        var afterNumber = ""
        var limit = 1000
        var withCredential = false
    }

    static func certificates(
        _ filter: Filter, _ connection: PostgresConnection, _ logger: Logger
    ) async throws
        -> [Xcert_Filing_V1_Certificate]
    {
        let rows = try await connection.query(
            """
            SELECT number, holder_name, national_id_masked, certificate_code, certificate_name, level, organization_id, organization_name,
                   to_char(exam_date, 'YYYY-MM-DD'), to_char(issued_on, 'YYYY-MM-DD'), school_code, candidate_number, session_roster_id,
                   roster_id, CASE WHEN \(filter.withCredential) THEN credential ELSE '' END, revoked_at, coalesce(revocation_reason, ''),
                   coalesce(status_index, -1)
            FROM filing.certificates
            WHERE (\(filter.numbers)::text[] IS NULL OR number = ANY(\(filter.numbers)))
              AND (\(filter.year)::integer IS NULL OR extract(year FROM exam_date) = \(filter.year))
              AND (\(filter.certificate)::text IS NULL OR certificate_code = \(filter.certificate))
              AND (\(filter.school)::text IS NULL OR school_code = \(filter.school))
              AND (\(filter.organization)::bigint IS NULL OR organization_id = \(filter.organization))
              AND number > \(filter.afterNumber)
            ORDER BY number LIMIT \(filter.limit)
            """,
            logger: logger)
        var certificates: [Xcert_Filing_V1_Certificate] = []
        for try await row in rows.decode(
            (
                String, String, String, String, String, Int32, Int64, String, String, String, String, String, Int64, Int64, String, Date?,
                String, Int32
            )
            .self)
        {
            var certificate = Xcert_Filing_V1_Certificate()
            certificate.number = row.0
            certificate.holderName = row.1
            certificate.nationalIDMasked = row.2
            certificate.certificateCode = row.3
            certificate.certificateName = row.4
            certificate.level = Xcert_Common_V1_CertificateLevel(rawValue: Int(row.5)) ?? .unspecified
            certificate.organizationID = row.6
            certificate.organizationName = row.7
            if let exam = LocalDate(iso: row.8) { certificate.examDate = exam.wire }
            if let issued = LocalDate(iso: row.9) { certificate.issuedOn = issued.wire }
            certificate.schoolCode = row.10
            certificate.candidateNumber = row.11
            certificate.sessionRosterID = row.12
            certificate.rosterID = row.13
            certificate.credential = row.14
            if let revoked = row.15 {
                certificate.revoked = true
                certificate.revokedAt = .init(revoked)
            }
            certificate.revocationReason = row.16
            certificate.statusIndex = row.17
            certificates.append(certificate)
        }
        return certificates
    }

    /// Revokes certificate `number`; false when there is none, or it is revoked already.
    static func revoke(
        _ number: String, reason: String, by name: String, _ connection: PostgresConnection, _ logger: Logger
    )
        async throws -> Bool
    {
        let rows = try await connection.query(
            """
            UPDATE filing.certificates SET revoked_at = now(), revoked_by = \(name), revocation_reason = \(reason)
            WHERE number = \(number) AND revoked_at IS NULL RETURNING number
            """,
            logger: logger)
        for try await _ in rows.decode(String.self) { return true }
        return false
    }

    /// The positions revoked in status list `list`.
    static func revokedPositions(list: Int32, _ connection: PostgresConnection, _ logger: Logger) async throws -> [Int] {
        let size = Int32(CertificateStatusList.size)
        let rows = try await connection.query(
            """
            SELECT status_index % \(size) FROM filing.certificates
            WHERE revoked_at IS NOT NULL AND status_index / \(size) = \(list) ORDER BY status_index
            """,
            logger: logger)
        var positions: [Int] = []
        for try await position in rows.decode(Int32.self) { positions.append(Int(position)) }
        return positions
    }

    /// Certificate `number` of holder `name`: revoked or not; nil when there is no such certificate of that holder.
    static func isRevoked(_ number: String, holderName: String, _ connection: PostgresConnection, _ logger: Logger) async throws -> Bool? {
        let rows = try await connection.query(
            "SELECT revoked_at IS NOT NULL FROM filing.certificates WHERE number = \(number) AND holder_name = \(holderName)",
            logger: logger)
        for try await revoked in rows.decode(Bool.self) { return revoked }
        return nil
    }
}
