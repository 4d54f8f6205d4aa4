import ArgumentParser
import Foundation
import XCertAPI
import XCertDomain
import XCertProto
import XCertService
import XCertWire

/// `xctl results …`: exam results on public notice (成绩公示), the schools' objections and
/// the organizations' answers, and the close that makes results final.
struct Results: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Results on public notice (成绩公示): the window, each session's notice, objections and answers, final results.",
        subcommands: [Policy.self, Notice.self, Objections.self]
    )

    struct Policy: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The notice window of an exam year (the province sets it).", subcommands: [Set.self, Show.self])

        struct Set: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Sets the window: days, counted in working days where the province's working-day calendar is loaded.")
            @Option(help: "The exam year.") var year: Int32
            @Option(help: "The window's length, 1 to 30 days.") var days: Int32
            @OptionGroup var change: ChangeOptions
            @OptionGroup var options: FilingOptions
            func run() async throws {
                var request = Xcert_Filing_V1_SetNoticePolicyRequest()
                request.policy.year = self.year
                request.policy.days = self.days
                let policy = try await self.options.call(
                    Xcert_Filing_V1_ResultNoticeService.Method.setNoticePolicy, request, idempotencyKey: self.change.idempotencyKey)
                print("\(policy.year): results are on notice for \(policy.days) days")
            }
        }

        struct Show: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "The window of an exam year.")
            @Option(help: "The exam year.") var year: Int32
            @OptionGroup var options: FilingOptions
            func run() async throws {
                var request = Xcert_Filing_V1_GetNoticePolicyRequest()
                request.year = self.year
                let policy = try await self.options.call(Xcert_Filing_V1_ResultNoticeService.Method.getNoticePolicy, request)
                print("\(policy.year): \(policy.days) days (set by \(policy.setBy))")
            }
        }
    }

    struct Notice: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Each exam session's notice: start, show, list, close.", subcommands: [Start.self, Show.self, List.self, Close.self])

        struct Start: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Puts a sealed session's results on notice (from today; the province may record an earlier start).")
            @Option(help: "A roster of the session.") var rosterId: Int64
            @Option(help: "The first day, YYYY-MM-DD, when the notice began earlier (province only).") var startsOn: String?
            @Option(help: "Why the notice is recorded as started on that day.") var reason: String = ""
            @OptionGroup var change: ChangeOptions
            @OptionGroup var options: FilingOptions
            func run() async throws {
                var request = Xcert_Filing_V1_StartNoticeRequest()
                request.rosterID = self.rosterId
                if let startsOn = self.startsOn { request.startsOn = try wireDate(startsOn, option: "--starts-on") }
                request.reason = self.reason
                let notice = try await self.options.call(
                    Xcert_Filing_V1_ResultNoticeService.Method.startNotice, request, idempotencyKey: self.change.idempotencyKey)
                print(noticeLine(notice))
            }
        }

        struct Show: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "A session's results: registered, on notice or final.")
            @Option(help: "A roster of the session.") var rosterId: Int64
            @OptionGroup var options: FilingOptions
            func run() async throws {
                var request = Xcert_Filing_V1_GetNoticeRequest()
                request.rosterID = self.rosterId
                try emit(try await self.options.call(Xcert_Filing_V1_ResultNoticeService.Method.getNotice, request))
            }
        }

        enum StateName: String, ExpressibleByArgument, CaseIterable {
            case registered, onNotice = "on-notice", final
            var wire: Xcert_Filing_V1_ResultState {
                switch self {
                case .registered: .registered
                case .onNotice: .onNotice
                case .final: .final
                }
            }
        }

        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "The year's sessions and their results' state.")
            @Option(help: "The exam year.") var year: Int32
            @Option(help: "registered, on-notice or final.") var state: StateName?
            @Option(help: "Only this certificate.") var certificate: String = ""
            @Option(help: "table or csv.") var format: OutputFormat = .table
            @Flag(help: "Chinese column headers.") var chineseHeaders = false
            @OptionGroup var options: FilingOptions
            func run() async throws {
                var request = Xcert_Filing_V1_ListNoticesRequest()
                request.year = self.year
                request.state = self.state?.wire ?? .unspecified
                request.certificateCode = self.certificate
                request.page.pageSize = Int32(Paging.maximumSize)
                var rows: [[String]] = []
                repeat {
                    let page = try await self.options.call(Xcert_Filing_V1_ResultNoticeService.Method.listNotices, request)
                    rows += page.notices.map { notice in
                        [
                            String(notice.sessionRosterID), String(notice.rosterID), notice.certificateCode,
                            CertificateLevel(wire: notice.level)?.chineseName ?? "", notice.siteSchoolCode, dateText(notice.examDate),
                            stateName(notice.state), notice.hasStartsOn ? dateText(notice.startsOn) : "",
                            notice.hasEndsOn ? dateText(notice.endsOn) : "", String(notice.objections), String(notice.openObjections),
                        ]
                    }
                    request.page.pageToken = page.page.nextPageToken
                } while !request.page.pageToken.isEmpty
                emit(
                    self.chineseHeaders
                        ? ["批次", "名册", "证书", "级别", "考核站点", "考核日期", "状态", "公示开始", "公示截止", "异议", "未答复异议"]
                        : [
                            "session", "roster", "certificate", "level", "site", "exam_date", "state", "starts_on", "ends_on", "objections",
                            "open",
                        ],
                    rows, format: self.format)
            }
        }

        struct Close: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Closes a session's notice once its window has ended and no objection is open: the results are final.")
            @Option(help: "A roster of the session.") var rosterId: Int64
            @OptionGroup var change: ChangeOptions
            @OptionGroup var options: FilingOptions
            func run() async throws {
                var request = Xcert_Filing_V1_CloseNoticeRequest()
                request.rosterID = self.rosterId
                let notice = try await self.options.call(
                    Xcert_Filing_V1_ResultNoticeService.Method.closeNotice, request, idempotencyKey: self.change.idempotencyKey)
                print(noticeLine(notice))
            }
        }
    }

    struct Objections: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Schools' objections during a notice, and the organizations' answers.",
            subcommands: [Lodge.self, Answer.self, List.self])

        struct Lodge: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "A school objects for its candidate while the results are on notice.")
            @Option(help: "A roster of the session.") var rosterId: Int64
            @Option(help: "The candidate's 准考证号.") var candidateNumber: String
            @Option(help: "What is wrong.") var reason: String
            @Option(name: .customLong("evidence"), help: "A file of evidence (repeatable): name, size and SHA-256 are sent.")
            var evidence: [String] = []
            @OptionGroup var change: ChangeOptions
            @OptionGroup var options: FilingOptions
            func run() async throws {
                var request = Xcert_Filing_V1_LodgeObjectionRequest()
                request.rosterID = self.rosterId
                request.candidateNumber = self.candidateNumber
                request.reason = self.reason
                request.evidence = try self.evidence.map { try attachment($0) }
                let objection = try await self.options.call(
                    Xcert_Filing_V1_ResultNoticeService.Method.lodgeObjection, request, idempotencyKey: self.change.idempotencyKey)
                print("objection \(objection.id): \(objection.candidateNumber) \(objection.candidateName), open")
            }
        }

        struct Answer: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "The organization answers an objection: by a correcting roster sealed since, or a rejection with its reason.")
            @Option(help: "The objection.") var id: Int64
            @Option(help: "The correcting roster (sealed after the objection).") var correctedBy: Int64 = 0
            @Option(help: "Why the objection is rejected.") var reject: String = ""
            @OptionGroup var change: ChangeOptions
            @OptionGroup var options: FilingOptions
            func run() async throws {
                var request = Xcert_Filing_V1_AnswerObjectionRequest()
                request.objectionID = self.id
                request.correctingRosterID = self.correctedBy
                request.rejectionReason = self.reject
                let objection = try await self.options.call(
                    Xcert_Filing_V1_ResultNoticeService.Method.answerObjection, request, idempotencyKey: self.change.idempotencyKey)
                print("objection \(objection.id): \(objection.state == .corrected ? "corrected" : "rejected") — \(objection.answer)")
            }
        }

        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Objections of a year or of one session.")
            @Option(help: "The exam year.") var year: Int32 = 0
            @Option(help: "A roster of the session.") var rosterId: Int64 = 0
            @Flag(help: "Only those not answered.") var openOnly = false
            @Option(help: "table or csv.") var format: OutputFormat = .table
            @OptionGroup var options: FilingOptions
            func run() async throws {
                var request = Xcert_Filing_V1_ListObjectionsRequest()
                request.year = self.year
                request.rosterID = self.rosterId
                request.openOnly = self.openOnly
                request.page.pageSize = Int32(Paging.maximumSize)
                var rows: [[String]] = []
                repeat {
                    let page = try await self.options.call(Xcert_Filing_V1_ResultNoticeService.Method.listObjections, request)
                    rows += page.objections.map { objection in
                        [
                            String(objection.id), String(objection.sessionRosterID), objection.schoolCode, objection.candidateNumber,
                            objection.candidateName, objection.reason, objectionStateName(objection.state), objection.answer,
                        ]
                    }
                    request.page.pageToken = page.page.nextPageToken
                } while !request.page.pageToken.isEmpty
                emit(["id", "session", "school", "candidate", "name", "reason", "state", "answer"], rows, format: self.format)
            }
        }
    }
}

private func stateName(_ state: Xcert_Filing_V1_ResultState) -> String {
    switch state {
    case .registered: "成绩登记"
    case .onNotice: "成绩公示中"
    case .final: "考试已结束"
    default: ""
    }
}

private func objectionStateName(_ state: Xcert_Filing_V1_ObjectionState) -> String {
    switch state {
    case .open: "open"
    case .corrected: "corrected"
    case .rejected: "rejected"
    default: ""
    }
}

private func noticeLine(_ notice: Xcert_Filing_V1_ResultNotice) -> String {
    """
    session \(notice.sessionRosterID) (roster \(notice.rosterID), \(notice.certificateCode), \(dateText(notice.examDate))): \
    \(stateName(notice.state)), \(dateText(notice.startsOn)) – \(dateText(notice.endsOn)) \
    (\(notice.days) \(notice.workingDays ? "working " : "")days), \(notice.objections) objection(s), \(notice.openObjections) open
    """
}
