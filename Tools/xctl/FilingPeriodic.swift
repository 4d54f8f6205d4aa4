import ArgumentParser
import Foundation
import XCertAPI
import XCertDomain
import XCertProto
import XCertService
import XCertWire

extension Filing {
    /// `xctl filing periodic …`: calendars of periodic reports (weekly reports, 双周报), the
    /// reports, and per period who is late or missing.
    struct Periodic: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Periodic reports (周报, 双周报): the province's calendars, parties' reports, who is late or missing per period.",
            subcommands: [SetCalendar.self, ShowCalendar.self, Submit.self, Record.self, Status.self]
        )

        /// school, lead-school or organization.
        enum PartyKind: String, ExpressibleByArgument, CaseIterable {
            case school, leadSchool = "lead-school", organization
            var wire: Xcert_Filing_V1_ReportingParty {
                switch self {
                case .school: .school
                case .leadSchool: .leadSchool
                case .organization: .organization
                }
            }
        }

        struct SetCalendar: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "set-calendar",
                abstract: "The province sets a year's calendar for a kind of party, with the figures each report gives.")
            @Option(help: "The year.") var year: Int32
            @Option(help: "school, lead-school or organization.") var party: PartyKind
            @Option(help: "Period 1's first day, YYYY-MM-DD.") var firstDay: String
            @Option(help: "Days per period: 7 weekly, 14 for 双周报.") var periodDays: Int32
            @Option(help: "Days after a period's last day its report is due.") var dueDaysAfter: Int32 = 0
            @Option(help: "The due time on that day, HH:MM (Asia/Shanghai).") var dueTime: String = "18:00"
            @Option(name: .customLong("figure"), help: "A figure every report gives, CODE=标签 (repeatable).") var figures: [String] = []
            @OptionGroup var change: ChangeOptions
            @OptionGroup var options: FilingOptions
            func run() async throws {
                var calendar = Xcert_Filing_V1_ReportingCalendar()
                calendar.year = self.year
                calendar.party = self.party.wire
                calendar.firstPeriodStarts = try wireDate(self.firstDay, option: "--first-day")
                calendar.periodDays = self.periodDays
                calendar.dueDaysAfter = self.dueDaysAfter
                let time = self.dueTime.split(separator: ":").compactMap { Int32($0) }
                guard time.count == 2 else { throw ValidationError("--due-time is HH:MM; not \(self.dueTime)") }
                calendar.dueMinute = time[0] * 60 + time[1]
                calendar.figures = try self.figures.map { text in
                    let parts = text.split(separator: "=", maxSplits: 1).map(String.init)
                    guard parts.count == 2 else { throw ValidationError("--figure is CODE=标签; not \(text)") }
                    var figure = Xcert_Filing_V1_ReportFigure()
                    figure.code = parts[0]
                    figure.label = parts[1]
                    return figure
                }
                var request = Xcert_Filing_V1_SetReportingCalendarRequest()
                request.calendar = calendar
                let set = try await self.options.call(
                    Xcert_Filing_V1_PeriodicReportService.Method.setReportingCalendar, request, idempotencyKey: self.change.idempotencyKey)
                print(
                    "\(set.year) \(self.party.rawValue): \(set.periods) periods of \(set.periodDays) days"
                        + " from \(dateText(set.firstPeriodStarts))"
                )
            }
        }

        struct ShowCalendar: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "calendar", abstract: "A year's calendar: its periods and due instants.")
            @Option(help: "The year.") var year: Int32
            @Option(help: "school, lead-school or organization.") var party: PartyKind
            @Option(help: "table or csv.") var format: OutputFormat = .table
            @OptionGroup var options: FilingOptions
            func run() async throws {
                var request = Xcert_Filing_V1_GetReportingCalendarRequest()
                request.year = self.year
                request.party = self.party.wire
                let calendar = try await self.options.call(Xcert_Filing_V1_PeriodicReportService.Method.getReportingCalendar, request)
                guard let first = LocalDate(wire: calendar.firstPeriodStarts) else { throw CLIError("the calendar has no first day") }
                let rule = try ReportingCalendar(
                    year: calendar.year, firstPeriodStarts: first, periodDays: Int(calendar.periodDays),
                    dueDaysAfter: Int(calendar.dueDaysAfter), dueMinute: Int(calendar.dueMinute))
                emit(
                    ["period", "starts", "ends", "due"],
                    (1...rule.periods).map { number in
                        let period = rule.period(number)
                        return [
                            String(number), period.map { "\($0.starts)" } ?? "", period.map { "\($0.ends)" } ?? "",
                            rule.dueInstant(number) ?? "",
                        ]
                    }, format: self.format)
            }
        }

        struct Submit: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "A school or an organization submits its report of a period.")
            @Option(help: "The year.") var year: Int32
            @Option(help: "school, lead-school or organization.") var party: PartyKind
            @Option(help: "The period, from 1.") var period: Int32
            @Option(help: "The school's own code (schools and lead schools).") var school: String = ""
            @OptionGroup var content: ReportContent
            @OptionGroup var change: ChangeOptions
            @OptionGroup var options: FilingOptions
            func run() async throws {
                var request = Xcert_Filing_V1_SubmitPeriodicReportRequest()
                request.year = self.year
                request.party = self.party.wire
                request.period = self.period
                request.schoolCode = self.school
                (request.figures, request.text, request.attachments) = try self.content.values()
                let report = try await self.options.call(
                    Xcert_Filing_V1_PeriodicReportService.Method.submitPeriodicReport, request, idempotencyKey: self.change.idempotencyKey)
                print(
                    "report \(report.id) of period \(report.period) (due \(report.dueInstant)): \(report.onTime ? "on time" : "late")"
                        + (report.complete ? "" : ", incomplete"))
            }
        }

        struct Record: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "The province records (补录) a report that reached it outside the system, as of when it came.")
            @Option(help: "The year.") var year: Int32
            @Option(help: "school, lead-school or organization.") var party: PartyKind
            @Option(help: "The period, from 1.") var period: Int32
            @Option(help: "The school's code, or the organization's id.") var partyCode: String
            @Option(help: "When the report came, \"YYYY-MM-DD HH:MM\" (Asia/Shanghai).") var receivedAt: String
            @Option(help: "How it came, e.g. 纸质报送，按收件日期补录.") var reason: String
            @OptionGroup var content: ReportContent
            @OptionGroup var change: ChangeOptions
            @OptionGroup var options: FilingOptions
            func run() async throws {
                var request = Xcert_Filing_V1_RecordPeriodicReportRequest()
                request.year = self.year
                request.party = self.party.wire
                request.period = self.period
                request.partyCode = self.partyCode
                request.receivedAt.seconds = try provinceInstant(self.receivedAt, option: "--received-at")
                request.reason = self.reason
                (request.figures, request.text, request.attachments) = try self.content.values()
                let report = try await self.options.call(
                    Xcert_Filing_V1_PeriodicReportService.Method.recordPeriodicReport, request, idempotencyKey: self.change.idempotencyKey)
                print(
                    "report \(report.id) of \(report.partyCode), period \(report.period) (due \(report.dueInstant)), recorded as received "
                        + "\(LocalDate.provinceTime(report.submittedAt.seconds)): \(report.onTime ? "on time" : "late")"
                        + (report.complete ? "" : ", incomplete"))
            }
        }

        struct Status: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Who reported a period, on time or late, and who is missing (the province's late table).")
            @Option(help: "The year.") var year: Int32
            @Option(help: "school, lead-school or organization.") var party: PartyKind
            @Option(help: "The period, from 1.") var period: Int32
            @Flag(help: "Only the late and the missing.") var lateOnly = false
            @Option(help: "table or csv.") var format: OutputFormat = .table
            @Flag(help: "Chinese column headers.") var chineseHeaders = false
            @OptionGroup var options: FilingOptions
            func run() async throws {
                var request = Xcert_Filing_V1_GetReportingStatusRequest()
                request.year = self.year
                request.party = self.party.wire
                request.period = self.period
                request.lateOnly = self.lateOnly
                let response = try await self.options.call(Xcert_Filing_V1_PeriodicReportService.Method.getReportingStatus, request)
                let names: [Xcert_Filing_V1_ReportingStatus: String] = [.onTime: "按时", .late: "迟报", .missing: "未报", .notDue: "未到期"]
                emit(
                    self.chineseHeaders ? ["报送单位", "报送情况", "报送时间", "内容完整"] : ["party", "status", "submitted_at", "complete"],
                    response.lines.map { line in
                        [
                            line.partyCode, names[line.status] ?? "",
                            line.hasSubmittedAt ? LocalDate.provinceTime(line.submittedAt.seconds) : "", line.complete ? "是" : "",
                        ]
                    }, format: self.format)
                if self.format == .table {
                    print(
                        "period \(response.period) (\(dateText(response.periodStarts)) – \(dateText(response.periodEnds)), "
                            + "due \(response.dueInstant)): \(response.expected) expected, \(response.onTime) on time, "
                            + "\(response.late) late, \(response.missing) missing")
                }
            }
        }
    }
}

/// What a periodic report says, as options: its figures, text and attachments.
struct ReportContent: ParsableArguments {
    @Option(name: .customLong("figure"), help: "A figure, CODE=VALUE (repeatable).") var figures: [String] = []
    @Option(help: "A UTF-8 text file: the report's text.") var textFile: String?
    @Option(name: .customLong("attachment"), help: "A file attached (repeatable): name, size and SHA-256 are sent.")
    var attachments: [String] = []

    func values() throws -> ([Xcert_Filing_V1_FigureValue], String, [Xcert_Filing_V1_Attachment]) {
        let figures = try self.figures.map { text in
            let parts = text.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, let value = Int64(parts[1]) else { throw ValidationError("--figure is CODE=VALUE; not \(text)") }
            var figure = Xcert_Filing_V1_FigureValue()
            figure.code = parts[0]
            figure.value = value
            return figure
        }
        let text = try self.textFile.map { try String(contentsOfFile: $0, encoding: .utf8) } ?? ""
        return (figures, text, try self.attachments.map { try attachment($0) })
    }
}
