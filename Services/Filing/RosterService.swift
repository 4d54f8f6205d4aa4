import Crypto
import Foundation
import PostgresNIO
import SwiftProtobuf
import XCertAPI
import XCertDomain
import XCertProto
import XCertService
import XCertStore
import XCertWire

/// `xcert.filing.v1.RosterService`: exam result rosters, uploaded in idempotent chunks
/// by the organization that owns the certificate, checked row by row against the
/// registry, sealed, corrected by superseding versions, and published to assessment
/// through their feed.
struct RosterService: Xcert_Filing_V1_RosterService.Handler {
    let context: ServiceContext
    let hasher: NationalIDHasher
    let sealer: NationalIDSealer
    /// What the registry said of certificates lately.
    let certificates: CertificateCache

    /// The most candidates one chunk may carry.
    static let maximumChunkRows = 5000

    // MARK: - Writing

    @Sendable
    func createRoster(_ request: Xcert_Filing_V1_CreateRosterRequest, _ call: RequestContext) async throws -> Xcert_Filing_V1_Roster {
        let organization = try call.caller()
        let organizationID = try organization.organizationID()
        let session = request.session
        var checks = FieldChecks()
        checks.require(
            session.certificateCode.isCertificateCode, "session.certificate_code",
            "must be a certificate's code as the registry has it, e.g. BIM")
        let level = CertificateLevel(wire: session.level)
        checks.require(level != nil, "session.level", "must be ELEMENTARY, INTERMEDIATE or ADVANCED")
        checks.require(
            session.siteSchoolCode.isDigits(10), "session.site_school_code", "must be the 10-digit code of the school that hosted the exam")
        let examDate = LocalDate(year: Int(session.examDate.year), month: Int(session.examDate.month), day: Int(session.examDate.day))
        if let examDate {
            checks.requireYear(examDate.year, "session.exam_date", "in a pilot year")
            checks.require(
                examDate.endInstant - 86_400 <= Int64(Date().timeIntervalSince1970), "session.exam_date",
                "\(examDate) is after today in Asia/Shanghai: upload results after the exam")
        } else {
            checks.fail("session.exam_date", "must be a real date (year, month, day), the exam's day in Asia/Shanghai")
        }
        let reason = request.correctionReason.trimmed
        if request.supersedesRosterID != 0 {
            checks.require(request.supersedesRosterID > 0, "supersedes_roster_id", "must be a sealed roster's id, or 0 for a first version")
            checks.require(
                (1...1000).contains(reason.count), "correction_reason",
                "is required to correct a sealed roster: say what was wrong (1 to 1000 characters)")
        } else {
            checks.require(reason.isEmpty, "correction_reason", "is only for a correction: set supersedes_roster_id too")
        }
        try checks.check()
        guard let level, let examDate else { throw RPCError(.internal, "the session's level and date were not checked") }

        let certificate = try await Callers.ownedCertificate(
            session.certificateCode, organization: organizationID, field: "session.certificate_code", certificates: self.certificates,
            self.context, call)
        guard certificate.levels.contains(session.level) else {
            throw RPCError.invalidArgument([
                .init(field: "session.level", description: "certificate \(certificate.code) has no level \(level.chineseName)")
            ])
        }
        _ = try await self.context.referenceData(for: call).school(session.siteSchoolCode, field: "session.site_school_code")
        try await Callers.requireWorking(organization: organizationID, for: "no exam roster can be opened", self.context, call)
        let rule = ScoringRule(wire: certificate.scoring)

        return try await self.context.idempotency.perform(call) { connection in
            var version: Int32 = 1
            if request.supersedesRosterID != 0 {
                let previous = try await RosterStore.roster(
                    request.supersedesRosterID, organization: organizationID, connection, call.logger)
                version = try RosterStore.lifecycle(of: previous).correctionVersion()
                guard previous.session == session else {
                    throw RPCError.invalidArgument([
                        .init(field: "session", description: "must be the exam session of roster \(previous.id), which it corrects")
                    ])
                }
            }
            let new = RosterStore.NewRoster(
                organization: organizationID, certificate: certificate.code, level: level, siteSchool: session.siteSchoolCode,
                examDate: examDate,
                version: version, supersedes: request.supersedesRosterID == 0 ? nil : request.supersedesRosterID,
                correctionReason: reason.nonEmpty,
                rule: rule, createdBy: organization.name
            )
            guard let id = try await RosterStore.insert(new, connection, call.logger) else {
                throw RPCError(
                    .alreadyExists,
                    try await RosterStore.sessionTakenMessage(session, level: level, date: examDate, connection, call.logger))
            }
            return try await RosterStore.roster(id, connection, call.logger)
        }
    }

    @Sendable
    func uploadChunk(
        _ request: Xcert_Filing_V1_UploadChunkRequest, _ call: RequestContext
    ) async throws -> Xcert_Filing_V1_UploadChunkResponse {
        let organization = try call.caller()
        let organizationID = try organization.organizationID()
        var checks = FieldChecks()
        checks.require(request.rosterID > 0, "roster_id", "must name a roster")
        checks.require((0...9999).contains(request.chunkIndex), "chunk_index", "must be 0 to 9999")
        checks.require(
            (1...Self.maximumChunkRows).contains(request.rows.count), "rows",
            "must hold 1 to \(Self.maximumChunkRows) candidates; not \(request.rows.count)")
        try checks.check()
        let digest = try self.hasher.chunkDigest(request.rows)

        // Before any work: the roster must be the caller's and open, and a repeated chunk answers as before.
        let (roster, rule) = try await self.context.database.read(call) { connection in
            (
                try await RosterStore.roster(request.rosterID, organization: organizationID, connection, call.logger),
                try await RosterStore.scoringRule(of: request.rosterID, connection, call.logger)
            )
        }
        if try RosterStore.lifecycle(of: roster).accept(chunk: request.chunkIndex, digest: digest.lowercaseHex) == .repeated {
            // A retry with the call's idempotency key gets the first answer, not "already
            // uploaded", even once the roster is sealed: the key's record holds it.
            let repeated = Self.repeatedChunk(roster, request.chunkIndex)
            guard call.idempotencyKey != nil else { return repeated }
            return try await self.context.idempotency.perform(call) { _ in repeated }
        }

        var rowChecks = FieldChecks()
        let candidates = try CandidateRowChecks(rule: rule, hasher: self.hasher, sealer: self.sealer).check(request.rows, &rowChecks)
        try rowChecks.check()
        try await self.checkQualifications(candidates, roster: roster, call)

        return try await self.context.idempotency.perform(call) { connection in
            try await RosterStore.lock(roster.id, connection, call.logger)
            let current = try await RosterStore.roster(roster.id, connection, call.logger)
            if try RosterStore.lifecycle(of: current).accept(chunk: request.chunkIndex, digest: digest.lowercaseHex) == .repeated {
                return Self.repeatedChunk(current, request.chunkIndex)
            }
            let clashes = try await RosterStore.clashes(roster: roster.id, candidates, connection, call.logger)
            guard clashes.isEmpty else { throw RPCError.invalidArgument(clashes) }
            try await RosterStore.insertChunk(
                roster: roster.id, index: request.chunkIndex, digest: digest, candidates, connection, call.logger)
            let stored = try await RosterStore.roster(roster.id, connection, call.logger)
            var response = Xcert_Filing_V1_UploadChunkResponse()
            response.rosterID = stored.id
            response.chunk = stored.chunks.first { $0.index == request.chunkIndex } ?? Xcert_Filing_V1_UploadedChunk()
            response.rosterRowCount = stored.rowCount
            return response
        }
    }

    @Sendable
    func sealRoster(_ request: Xcert_Filing_V1_SealRosterRequest, _ call: RequestContext) async throws -> Xcert_Filing_V1_Roster {
        let organization = try call.caller()
        let organizationID = try organization.organizationID()
        var checks = FieldChecks()
        checks.require(request.rosterID > 0, "roster_id", "must name a roster")
        checks.require(request.expectedRowCount >= 0, "expected_row_count", "must be 0 (not checked) or the number of candidates uploaded")
        try checks.check()
        return try await self.context.idempotency.perform(call) { connection in
            try await RosterStore.lock(request.rosterID, organization: organizationID, connection, call.logger)
            let roster = try await RosterStore.roster(request.rosterID, organization: organizationID, connection, call.logger)
            var lifecycle = try RosterStore.lifecycle(of: roster)
            // Sealing again answers the same (no events): the roster is in the feed once.
            let events = try lifecycle.seal(expectedRowCount: request.expectedRowCount, now: Date())
            for event in events {
                try await RosterStore.record(event, connection, call.logger)
            }
            return events.isEmpty ? roster : try await RosterStore.roster(roster.id, connection, call.logger)
        }
    }

    // MARK: - Reading

    @Sendable
    func getRoster(_ request: Xcert_Filing_V1_GetRosterRequest, _ call: RequestContext) async throws -> Xcert_Filing_V1_Roster {
        let reader = try await self.reader(call)
        return try await self.context.database.read(call) { connection in
            try await RosterStore.roster(
                request.id, organization: reader.organization, candidateSchool: reader.school, connection, call.logger)
        }
    }

    @Sendable
    func listRosters(
        _ request: Xcert_Filing_V1_ListRostersRequest, _ call: RequestContext
    ) async throws -> Xcert_Filing_V1_ListRostersResponse {
        let reader = try await self.reader(call)
        let page = try Paging(request.page, field: "page")
        if let organization = reader.organization, request.organizationID != 0, request.organizationID != organization {
            return Xcert_Filing_V1_ListRostersResponse()
        }
        var filter = RosterStore.Filter()
        filter.organizationID = reader.organization ?? (request.organizationID == 0 ? nil : request.organizationID)
        filter.candidateSchool = reader.school
        filter.certificateCode = request.certificateCode.nonEmpty
        filter.year = request.year == 0 ? nil : request.year
        filter.state = RosterStates.stored(request.state)
        filter.after = page.after
        filter.limit = page.size + 1
        return try await self.context.database.read(call) { connection in
            var response = Xcert_Filing_V1_ListRostersResponse()
            (response.rosters, response.page) = page.cut(try await RosterStore.rosters(filter, connection, call.logger), id: \.id)
            return response
        }
    }

    @Sendable
    func listCandidates(
        _ request: Xcert_Filing_V1_ListCandidatesRequest, _ call: RequestContext
    ) async throws -> Xcert_Filing_V1_ListCandidatesResponse {
        let reader = try await self.reader(call)
        var checks = FieldChecks()
        checks.require(request.rosterID > 0, "roster_id", "must name a roster")
        checks.require(
            (0...Int32(Self.maximumChunkRows)).contains(request.page.pageSize), "page.page_size",
            "must be 0 (the default, 1000) to \(Self.maximumChunkRows)")
        checks.require(
            request.page.pageToken.isEmpty || Int64(request.page.pageToken) != nil, "page.page_token",
            "must be the next_page_token of a previous page")
        try checks.check()
        if let school = reader.school, !request.schoolCode.isEmpty, request.schoolCode != school {
            throw RPCError.notFound("school \(request.schoolCode)'s candidates")
        }
        let school = reader.school ?? request.schoolCode.nonEmpty
        let size = request.page.pageSize == 0 ? 1000 : Int(request.page.pageSize)
        let after = Int64(request.page.pageToken) ?? -1
        return try await self.context.database.read(call) { connection in
            _ = try await RosterStore.roster(
                request.rosterID, organization: reader.organization, candidateSchool: reader.school, connection, call.logger)
            var candidates = try await RosterStore.candidates(
                roster: request.rosterID, school: school, after: after, limit: size + 1, connection, call.logger)
            var response = Xcert_Filing_V1_ListCandidatesResponse()
            if candidates.count > size {
                candidates.removeLast()
                response.page.nextPageToken = String(RosterStore.position(candidates[candidates.count - 1]))
            }
            response.candidates = candidates
            return response
        }
    }

    @Sendable
    func listRosterChanges(
        _ request: Xcert_Filing_V1_ListRosterChangesRequest, _ call: RequestContext
    ) async throws -> Xcert_Filing_V1_ListRosterChangesResponse {
        let page = try await FeedPaging.changes(after: request.after, limit: request.limit, cursor: { $0.cursor }, self.context, call) {
            after, limit, connection, logger in
            try await RosterStore.changes(after: after, limit: limit, connection, logger)
        }
        var response = Xcert_Filing_V1_ListRosterChangesResponse()
        (response.changes, response.nextCursor) = page
        return response
    }

    @Sendable
    func getSiteSessionTable(
        _ request: Xcert_Filing_V1_GetSiteSessionTableRequest, _ call: RequestContext
    ) async throws -> Xcert_Filing_V1_GetSiteSessionTableResponse {
        let organization = try await Callers.readerOrganization(self.context, call)
        try FieldChecks.checkYear(request.year, "year", "an exam year")
        async let schools = self.context.referenceData(for: call).allSchools()
        async let certificates = self.context.referenceData(for: call).allCertificates(of: organization)
        var response = try await self.context.database.read(call) { connection in
            var response = Xcert_Filing_V1_GetSiteSessionTableResponse()
            response.lines = try await RosterStore.siteSessionLines(
                year: request.year, certificate: request.certificateCode.nonEmpty, organization: organization, connection, call.logger
            )
            for line in response.lines {
                response.total.sessions += line.sessions
                response.total.candidates += line.candidates
            }
            return response
        }
        let schoolNames = try await schools.mapValues(\.name)
        let certificateNames = Dictionary(try await certificates.map { ($0.code, $0.name) }, uniquingKeysWith: { first, _ in first })
        for index in response.lines.indices {
            response.lines[index].certificateName = certificateNames[response.lines[index].certificateCode] ?? ""
            response.lines[index].siteSchoolName = schoolNames[response.lines[index].siteSchoolCode] ?? ""
        }
        return response
    }

    // MARK: - Helpers

    /// Who reads: an organization its own rosters, a school the rosters of its candidates,
    /// the province and services everything.
    private func reader(_ call: RequestContext) async throws -> ReadScope {
        try call.readScope()
    }

    /// Every candidate's school must be known and hold a qualification in force for the
    /// roster's certificate and level in the exam's year: asked of the registry once per chunk.
    private func checkQualifications(_ candidates: [CheckedCandidate], roster: Xcert_Filing_V1_Roster, _ call: RequestContext) async throws
    {
        let session = roster.session
        var qualified: [String: Set<Xcert_Common_V1_CertificateLevel>] = [:]
        var request = Xcert_Registry_V1_ListQualificationsRequest()
        request.certificateCode = session.certificateCode
        request.year = session.examDate.year
        request.page.pageSize = Int32(Paging.maximumSize)
        repeat {
            let page = try await self.context.peers.call(
                "registry", Xcert_Registry_V1_PilotService.Method.listQualifications, request, context: call
            )
            for qualification in page.qualifications where !qualification.hasRevokedAt {
                qualified[qualification.schoolCode, default: []].formUnion(qualification.levels)
            }
            request.page.pageToken = page.page.nextPageToken
        } while !request.page.pageToken.isEmpty

        let unqualified = candidates.filter { qualified[$0.schoolCode]?.contains(session.level) != true }
        guard !unqualified.isEmpty else { return }
        var known: [String: Bool] = [:]
        for code in Set(unqualified.map(\.schoolCode)).sorted() {
            do {
                _ = try await self.context.referenceData(for: call).school(code, field: "")
                known[code] = true
            } catch let error as RPCError where error.code == .invalidArgument {
                known[code] = false
            }
        }
        let level = CertificateLevel(wire: session.level)?.chineseName ?? "?"
        var violations = unqualified.prefix(CandidateRowChecks.maximumViolations).map { candidate in
            RPCError.FieldViolation(
                field: "rows[\(candidate.rowIndex)].school_code",
                description: known[candidate.schoolCode] == true
                    ? """
                    school \(candidate.schoolCode) holds no pilot qualification for \(session.certificateCode) \(level) \
                    in \(session.examDate.year)
                    """
                    : "the registry has no school \(candidate.schoolCode)"
            )
        }
        if unqualified.count > violations.count {
            violations.append(
                .init(field: "rows", description: "and \(unqualified.count - violations.count) more rows with the same problem"))
        }
        throw RPCError.invalidArgument(violations)
    }

    /// The answer to a chunk acknowledged before with the same rows.
    private static func repeatedChunk(_ roster: Xcert_Filing_V1_Roster, _ index: Int32) -> Xcert_Filing_V1_UploadChunkResponse {
        var response = Xcert_Filing_V1_UploadChunkResponse()
        response.rosterID = roster.id
        response.chunk = roster.chunks.first { $0.index == index } ?? Xcert_Filing_V1_UploadedChunk()
        response.alreadyUploaded = true
        response.rosterRowCount = roster.rowCount
        return response
    }
}
