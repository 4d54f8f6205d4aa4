import Foundation
import PostgresNIO
import XCertAPI
import XCertDomain
import XCertProto
import XCertService
import XCertStore
import XCertWire

/// `xcert.filing.v1.PeriodicReportService`: the province's calendars of periodic reports
/// (weekly reports, 双周报) per year and kind of party, the reports parties submit, and per
/// period who is on time, late or missing.
struct PeriodicReportService: Xcert_Filing_V1_PeriodicReportService.Handler {
    let context: ServiceContext

    @Sendable
    func setReportingCalendar(
        _ request: Xcert_Filing_V1_SetReportingCalendarRequest, _ call: RequestContext
    ) async throws -> Xcert_Filing_V1_ReportingCalendar {
        let admin = try call.caller()
        let calendar = request.calendar
        var checks = FieldChecks()
        checks.requireYear(calendar.year, "calendar.year", "a pilot year")
        checks.require(PeriodicReportStore.stored(calendar.party) != nil, "calendar.party", "must be SCHOOL, LEAD_SCHOOL or ORGANIZATION")
        let first = LocalDate(wire: calendar.firstPeriodStarts)
        checks.require(calendar.hasFirstPeriodStarts && first != nil, "calendar.first_period_starts", "must be a date, e.g. 2026-01-05")
        var codes: Set<String> = []
        for (index, figure) in calendar.figures.enumerated() {
            let field = "calendar.figures[\(index)]"
            checks.require(
                (1...32).contains(figure.code.count)
                    && figure.code.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") }),
                "\(field).code", "must be 1 to 32 letters, digits, _ or -")
            checks.require(
                (1...50).contains(figure.label.trimmed.count), "\(field).label", "must be the figure's heading, 1 to 50 characters")
            if !codes.insert(figure.code).inserted { checks.fail("\(field).code", "\(figure.code) is defined twice") }
        }
        if let first {
            // The rule's own ranges, named as the request's fields.
            do {
                _ = try ReportingCalendar(
                    year: calendar.year, firstPeriodStarts: first, periodDays: Int(calendar.periodDays),
                    dueDaysAfter: Int(calendar.dueDaysAfter), dueMinute: Int(calendar.dueMinute))
            } catch {
                checks.fail("calendar.\(error.field ?? "")", error.message)
            }
        }
        try checks.check()
        return try await self.context.idempotency.perform(call) { connection in
            if try await PeriodicReportStore.hasReports(year: calendar.year, party: calendar.party, connection, call.logger) {
                throw RPCError(
                    .failedPrecondition,
                    "reports of the \(calendar.year) \(calendar.party) calendar are in already; its periods and figures no longer change")
            }
            try await PeriodicReportStore.save(calendar, setBy: admin.name, connection, call.logger)
            guard let stored = try await PeriodicReportStore.calendar(year: calendar.year, party: calendar.party, connection, call.logger)
            else { throw RPCError(.internal, "a calendar saved and not read back") }
            return stored.message
        }
    }

    @Sendable
    func getReportingCalendar(
        _ request: Xcert_Filing_V1_GetReportingCalendarRequest, _ call: RequestContext
    ) async throws -> Xcert_Filing_V1_ReportingCalendar {
        _ = try call.caller()
        return try await self.context.database.read(call) { connection in
            try await Self.stored(request.year, request.party, connection, call).message
        }
    }

    @Sendable
    func submitPeriodicReport(
        _ request: Xcert_Filing_V1_SubmitPeriodicReportRequest, _ call: RequestContext
    ) async throws -> Xcert_Filing_V1_PeriodicReport {
        let principal = try call.caller()
        var checks = FieldChecks()
        let content = Content(
            year: request.year, party: request.party, period: request.period, figures: request.figures, text: request.text,
            attachments: request.attachments)
        content.check(&checks)
        // Who reports: a school (as a school or a lead school) names itself; an organization is itself.
        let partyCode: String
        switch (principal.role, request.party) {
        case (.school, .school), (.school, .leadSchool):
            checks.require(
                request.schoolCode == principal.party, "school_code", "a school reports as itself (\(principal.party ?? "none"))")
            partyCode = request.schoolCode
        case (.organization, .organization):
            partyCode = String(try principal.organizationID())
        default:
            throw RPCError(.permissionDenied, "a \(principal.role) does not report on the \(request.party) calendar")
        }
        try checks.check()
        if request.party == .leadSchool, !(try await self.leadSchools(request.year, call).contains(partyCode)) {
            throw RPCError(.failedPrecondition, "school \(partyCode) leads no alliance of \(request.year); it reports as a school")
        }
        return try await self.store(content, of: partyCode, receivedAt: Date(), by: principal.name, recordedReason: nil, call)
    }

    /// 补录: the province records a report that reached it outside the system, as of when it
    /// came; whether it was on time follows from that instant.
    @Sendable
    func recordPeriodicReport(
        _ request: Xcert_Filing_V1_RecordPeriodicReportRequest, _ call: RequestContext
    ) async throws -> Xcert_Filing_V1_PeriodicReport {
        let admin = try call.caller()
        var checks = FieldChecks()
        let content = Content(
            year: request.year, party: request.party, period: request.period, figures: request.figures, text: request.text,
            attachments: request.attachments)
        content.check(&checks)
        checks.require(
            !request.partyCode.trimmed.isEmpty && request.partyCode.count <= 20, "party_code",
            "must be the school's code, or the organization's id")
        let received = Date(request.receivedAt)
        checks.require(
            request.hasReceivedAt && received <= Date(), "received_at", "must be when the report was received, not later than now")
        checks.require((1...500).contains(request.reason.trimmed.count), "reason", "must say how the report came, 1 to 500 characters")
        try checks.check()
        let expected: Bool
        switch request.party {
        case .school: expected = try await self.pilotSchools(request.year, only: request.partyCode, call).contains(request.partyCode)
        case .leadSchool: expected = try await self.leadSchools(request.year, call).contains(request.partyCode)
        default:
            expected = try await self.context.database.read(call) { connection in
                try await PeriodicReportStore.approvedOrganizations(year: request.year, connection, call.logger)
            }.contains(request.partyCode)
        }
        guard expected else {
            throw RPCError.invalidArgument([
                .init(
                    field: "party_code",
                    description: "\(request.partyCode) is not expected on the \(request.year) \(request.party) calendar")
            ])
        }
        return try await self.store(
            content, of: request.partyCode, receivedAt: received, by: admin.name, recordedReason: request.reason.trimmed, call)
    }

    /// What a periodic report says, however it came.
    private struct Content {
        var year: Int32
        var party: Xcert_Filing_V1_ReportingParty
        var period: Int32
        var figures: [Xcert_Filing_V1_FigureValue]
        var text: String
        var attachments: [Xcert_Filing_V1_Attachment]

        func check(_ checks: inout FieldChecks) {
            checks.require(PeriodicReportStore.stored(self.party) != nil, "party", "must be SCHOOL, LEAD_SCHOOL or ORGANIZATION")
            checks.require(self.period >= 1, "period", "must be a period of the calendar, from 1")
            checks.require(self.text.count <= 20_000, "text", "must be at most 20,000 characters")
            for (index, figure) in self.figures.enumerated() {
                checks.require(
                    (0...1_000_000_000_000).contains(figure.value), "figures[\(index)].value", "must be 0 to 10^12; not \(figure.value)")
            }
            for (index, attachment) in self.attachments.enumerated() { checks.requireAttachment(attachment, "attachments[\(index)]") }
        }
    }

    /// Stores one party's report of a period as received at `receivedAt`: refused before the
    /// period begins, with a figure the calendar does not define, or when the party's report
    /// of the period is in already.
    private func store(
        _ content: Content, of partyCode: String, receivedAt: Date, by name: String, recordedReason: String?, _ call: RequestContext
    ) async throws -> Xcert_Filing_V1_PeriodicReport {
        let received = Int64(receivedAt.timeIntervalSince1970.rounded(.down))
        return try await self.context.idempotency.perform(call) { connection in
            guard let stored = try await PeriodicReportStore.calendar(year: content.year, party: content.party, connection, call.logger),
                let period = stored.calendar.period(Int(content.period)), let due = stored.calendar.lateFrom(Int(content.period))
            else {
                throw RPCError.invalidArgument([
                    .init(field: "period", description: "the \(content.year) \(content.party) calendar has no period \(content.period)")
                ])
            }
            guard !(LocalDate(containing: received) < period.starts) else {
                throw RPCError(
                    .failedPrecondition,
                    "period \(content.period) begins on \(period.starts); its report comes after, not on \(LocalDate(containing: received))"
                )
            }
            let defined = Set(stored.message.figures.map(\.code))
            var unknown = FieldChecks()
            for (index, figure) in content.figures.enumerated() where !defined.contains(figure.code) {
                unknown.fail(
                    "figures[\(index)].code", "\(figure.code) is not a figure of the calendar (\(defined.sorted().joined(separator: ", ")))"
                )
            }
            try unknown.check()
            let complete = defined.isSubset(of: Set(content.figures.map(\.code))) && !content.text.trimmed.isEmpty
            let row = PeriodicReportStore.Row(
                year: content.year, party: content.party, partyCode: partyCode, period: content.period, figures: content.figures,
                text: content.text, attachments: content.attachments, submittedAt: receivedAt, submittedBy: name, onTime: received < due,
                complete: complete, recordedReason: recordedReason)
            guard let id = try await PeriodicReportStore.insert(row, connection, call.logger) else {
                throw RPCError(.alreadyExists, "\(partyCode)'s report of period \(content.period) of \(content.year) is in already")
            }
            guard
                var report = try await PeriodicReportStore.reports(
                    year: content.year, party: content.party, period: content.period, ids: [id], connection, call.logger
                ).first
            else { throw RPCError(.internal, "a report stored and not read back") }
            report.periodStarts = period.starts.wire
            report.periodEnds = period.ends.wire
            report.dueInstant = stored.calendar.dueInstant(Int(content.period)) ?? ""
            return report
        }
    }

    @Sendable
    func getReportingStatus(
        _ request: Xcert_Filing_V1_GetReportingStatusRequest, _ call: RequestContext
    ) async throws -> Xcert_Filing_V1_GetReportingStatusResponse {
        _ = try call.caller()
        let (rule, reports, organizations) = try await self.context.database.read(call) { connection in
            let rule = try await Self.stored(request.year, request.party, connection, call).calendar
            let reports = try await PeriodicReportStore.reports(
                year: request.year, party: request.party, period: request.period, connection, call.logger)
            return (rule, reports, try await PeriodicReportStore.approvedOrganizations(year: request.year, connection, call.logger))
        }
        guard let period = rule.period(Int(request.period)) else {
            throw RPCError.invalidArgument([
                .init(field: "period", description: "the calendar has periods 1 to \(rule.periods); not \(request.period)")
            ])
        }
        let expected: [String]
        switch request.party {
        case .school: expected = try await self.pilotSchools(request.year, call)
        case .leadSchool: expected = try await self.leadSchools(request.year, call).sorted()
        default: expected = organizations.sorted()
        }
        let received: [String: Xcert_Filing_V1_PeriodicReport] = Dictionary(
            reports.map { ($0.partyCode, $0) }, uniquingKeysWith: { first, _ in first })
        let now = Int64(Date().timeIntervalSince1970)
        var response = Xcert_Filing_V1_GetReportingStatusResponse()
        response.period = request.period
        response.periodStarts = period.starts.wire
        response.periodEnds = period.ends.wire
        response.dueInstant = rule.dueInstant(Int(request.period)) ?? ""
        response.expected = Int32(expected.count)
        for party in expected {
            let report = received[party]
            // A report in was on time or late as it came; one not in is missing once due.
            let status: Xcert_Filing_V1_ReportingStatus =
                if let report { report.onTime ? .onTime : .late } else {
                    rule.status(of: Int(request.period), submitted: nil, now: now) == .missing ? .missing : .notDue
                }
            switch status {
            case .onTime: response.onTime += 1
            case .late: response.late += 1
            case .missing: response.missing += 1
            default: break
            }
            guard !request.lateOnly || status == .late || status == .missing else { continue }
            var line = Xcert_Filing_V1_ReportingStatusLine()
            line.partyCode = party
            line.status = status
            if let report {
                line.submittedAt = report.submittedAt
                line.complete = report.complete
            }
            response.lines.append(line)
        }
        return response
    }

    /// Item 6-3's measure per school: the schools' calendar's periods due by now, and each
    /// school's reports of them on time and complete.
    @Sendable
    func getReportingMeasures(
        _ request: Xcert_Filing_V1_GetReportingMeasuresRequest, _ call: RequestContext
    ) async throws -> Xcert_Filing_V1_GetReportingMeasuresResponse {
        let principal = try call.caller()
        var checks = FieldChecks()
        checks.requireYear(request.year)
        try checks.check()
        var school = request.schoolCode.nonEmpty
        if principal.role == .school {
            guard school == nil || school == principal.party else { return .init() }
            school = principal.party ?? "-"
        }
        let only = school
        let now = Int64(Date().timeIntervalSince1970)
        return try await self.context.database.read(call) { connection in
            var response = Xcert_Filing_V1_GetReportingMeasuresResponse()
            guard let stored = try await PeriodicReportStore.calendar(year: request.year, party: .school, connection, call.logger) else {
                return response
            }
            let due = (1...stored.calendar.periods).filter { (stored.calendar.lateFrom($0) ?? .max) <= now }.count
            response.periodsDue = Int32(due)
            response.schools = try await PeriodicReportStore.onTimeAndComplete(
                year: request.year, periods: Int32(due), school: only, connection, call.logger
            ).map { school, count in
                var measure = Xcert_Filing_V1_SchoolReportingMeasure()
                measure.schoolCode = school
                measure.periodsDue = Int32(due)
                measure.onTimeAndComplete = count
                return measure
            }
            return response
        }
    }

    /// The calendar of `year` and `party`; NOT_FOUND while the province has set none.
    private static func stored(
        _ year: Int32, _ party: Xcert_Filing_V1_ReportingParty, _ connection: PostgresConnection, _ call: RequestContext
    ) async throws -> PeriodicReportStore.Stored {
        guard let stored = try await PeriodicReportStore.calendar(year: year, party: party, connection, call.logger) else {
            throw RPCError(.notFound, "the province has set no \(year) reporting calendar for \(party)")
        }
        return stored
    }

    /// The schools with a qualification of `year` in force, by code (of school `only` when given).
    private func pilotSchools(_ year: Int32, only: String? = nil, _ call: RequestContext) async throws -> [String] {
        let registry = Xcert_Registry_V1_PilotService.Client(self.context.peers.caller("registry", for: call))
        var request = Xcert_Registry_V1_ListQualificationsRequest()
        request.year = year
        request.schoolCode = only ?? ""
        request.page.pageSize = Int32(Paging.maximumSize)
        var schools: Set<String> = []
        repeat {
            let page = try await registry.listQualifications(request)
            schools.formUnion(page.qualifications.map(\.schoolCode))
            request.page.pageToken = page.page.nextPageToken
        } while !request.page.pageToken.isEmpty
        return schools.sorted()
    }

    /// The final lead schools of `year`.
    private func leadSchools(_ year: Int32, _ call: RequestContext) async throws -> Set<String> {
        var request = Xcert_Registry_V1_ListAlliancesRequest()
        request.year = year
        let response = try await self.context.peers.call(
            "registry", Xcert_Registry_V1_AllianceService.Method.listAlliances, request, context: call)
        return Set(response.alliances.flatMap { $0.leads.map(\.schoolCode) })
    }
}
