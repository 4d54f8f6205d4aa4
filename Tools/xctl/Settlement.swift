import ArgumentParser
import Foundation
import XCertAPI
import XCertDomain
import XCertProto
import XCertService
import XCertWire

/// Options shared by the commands that call the settlement service.
struct SettlementOptions: ServiceOptions {
    @Option(help: "The settlement service, host:port.") var settlement: String = "127.0.0.1:7104"
    @OptionGroup var credentials: Credentials
    @Option(help: "The call's deadline in milliseconds.") var timeoutMs: Int = 30_000

    var address: String { self.settlement }
}

/// `xctl settlement …`: fee ceilings and standards, receivables, payments, reports, subsidies.
struct Settlement: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Fee ceilings and standards, receivables, payments, outstanding fees, subsidies.",
        subcommands: [
            Ceilings.self, Standards.self, DuePolicy.self, Receivables.self, Pay.self, Reverse.self, Refund.self, Account.self, Report.self,
            Subsidy.self,
        ]
    )

    struct Ceilings: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The province's fee ceilings per certificate level.", subcommands: [Set.self, List.self])

        struct Set: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Set a certificate's ceilings, e.g. --ceiling 初级=380 --ceiling 中级=480.")
            @Option(help: "The certificate's code.") var certificate: String
            @Option(help: "LEVEL=YUAN, once per level.") var ceiling: [String]
            @OptionGroup var change: ChangeOptions
            @OptionGroup var options: SettlementOptions
            func run() async throws {
                var request = Xcert_Settlement_V1_SetFeeCeilingsRequest()
                request.ceilings = try self.ceiling.map { text in
                    let parts = text.split(separator: "=", maxSplits: 1).map(String.init)
                    guard parts.count == 2, let level = CertificateLevel(name: parts[0]), let money = Money(yuan: parts[1]) else {
                        throw ValidationError("--ceiling takes LEVEL=YUAN, e.g. 初级=380; not \(text)")
                    }
                    var ceiling = Xcert_Settlement_V1_FeeCeiling()
                    ceiling.certificateCode = self.certificate
                    ceiling.level = level.wire
                    ceiling.ceiling.fen = money.fen
                    return ceiling
                }
                let response = try await self.options.call(
                    Xcert_Settlement_V1_FeeCeilingService.Method.setFeeCeilings, request, idempotencyKey: self.change.idempotencyKey)
                emitCeilings(response.ceilings, format: .table)
            }
        }

        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "The ceilings, by certificate and level.")
            @Option(help: "Only this certificate's.") var certificate: String = ""
            @Option(help: "table or csv.") var format: OutputFormat = .table
            @OptionGroup var options: SettlementOptions
            func run() async throws {
                var request = Xcert_Settlement_V1_ListFeeCeilingsRequest()
                request.certificateCode = self.certificate
                emitCeilings(
                    try await self.options.call(Xcert_Settlement_V1_FeeCeilingService.Method.listFeeCeilings, request).ceilings,
                    format: self.format)
            }
        }
    }

    struct Standards: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The fee standards, from the approved filings.")
        @Option(help: "Only this year's.") var year: Int32 = 0
        @Option(help: "Only this certificate's.") var certificate: String = ""
        @Option(help: "table or csv.") var format: OutputFormat = .table
        @OptionGroup var options: SettlementOptions
        func run() async throws {
            var request = Xcert_Settlement_V1_ListFeeStandardsRequest()
            request.year = self.year
            request.certificateCode = self.certificate
            let response = try await self.options.call(Xcert_Settlement_V1_LedgerService.Method.listFeeStandards, request)
            emit(
                ["year", "certificate", "level", "fee", "organization", "filing", "version", "approved_at"],
                response.standards.map {
                    [
                        String($0.year), $0.certificateCode, levelNames([$0.level]), yuan($0.fee), String($0.organizationID),
                        String($0.filingID), String($0.filingVersion), shanghaiTime($0.approvedAt),
                    ]
                },
                format: self.format
            )
        }
    }

    struct DuePolicy: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "due-policy",
            abstract: "When a year's receivables fall due: --before or --after the exam by --days; without --days, show it.")
        @Option(help: "The exam year.") var year: Int32
        @Option(help: "Days from the exam date.") var days: Int32?
        @Flag(help: "Due before the exam (default: after it).") var before = false
        @OptionGroup var change: ChangeOptions
        @OptionGroup var options: SettlementOptions
        func run() async throws {
            let policy: Xcert_Settlement_V1_DuePolicy
            if let days = self.days {
                var request = Xcert_Settlement_V1_SetDuePolicyRequest()
                request.policy.year = self.year
                request.policy.basis = self.before ? .beforeExam : .afterExam
                request.policy.days = days
                policy = try await self.options.call(
                    Xcert_Settlement_V1_LedgerService.Method.setDuePolicy, request, idempotencyKey: self.change.idempotencyKey)
            } else {
                var request = Xcert_Settlement_V1_GetDuePolicyRequest()
                request.year = self.year
                policy = try await self.options.call(Xcert_Settlement_V1_LedgerService.Method.getDuePolicy, request)
            }
            print("\(policy.year): due \(policy.days) days \(policy.basis == .beforeExam ? "before" : "after") the exam")
        }
    }

    struct Receivables: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Receivables per exam session and school, with what is settled and outstanding.")
        @Option(help: "Only this exam year's.") var year: Int32 = 0
        @Option(help: "Only this school's.") var school: String = ""
        @Option(help: "Only this certificate's.") var certificate: String = ""
        @Flag(help: "Only those not settled in full.") var open = false
        @Option(help: "table or csv.") var format: OutputFormat = .table
        @OptionGroup var options: SettlementOptions
        func run() async throws {
            var request = Xcert_Settlement_V1_ListReceivablesRequest()
            request.year = self.year
            request.schoolCode = self.school
            request.certificateCode = self.certificate
            request.onlyOpen = self.open
            request.page.pageSize = 1000
            var receivables: [Xcert_Settlement_V1_Receivable] = []
            repeat {
                let page = try await self.options.call(Xcert_Settlement_V1_LedgerService.Method.listReceivables, request)
                receivables += page.receivables
                request.page.pageToken = page.page.nextPageToken
            } while !request.page.pageToken.isEmpty
            emitReceivables(receivables, format: self.format)
        }
    }

    struct Pay: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Record a school's payment; it settles the oldest open receivables first, or --receivable.")
        @Option(help: "The school's code.") var school: String
        @Option(help: "The amount in yuan, e.g. 1500.50.") var amount: String
        @Option(help: "The day paid, YYYY-MM-DD.") var date: String
        @Option(help: "The bank's or the school's reference.") var reference: String
        @Option(help: "Settle only this receivable (the rest is credit).") var receivable: Int64 = 0
        @OptionGroup var change: ChangeOptions
        @OptionGroup var options: SettlementOptions
        func run() async throws {
            var request = Xcert_Settlement_V1_RecordPaymentRequest()
            request.schoolCode = self.school
            request.amount.fen = try fen(self.amount, option: "--amount")
            request.paidOn = try wireDate(self.date, option: "--date")
            request.reference = self.reference
            request.receivableID = self.receivable
            let payment = try await self.options.call(
                Xcert_Settlement_V1_LedgerService.Method.recordPayment, request, idempotencyKey: self.change.idempotencyKey)
            print(
                """
                payment \(payment.id) of \(payment.schoolCode): \(yuan(payment.amount)) on \(dateText(payment.paidOn)); settled \
                \(payment.allocations.map { "receivable \($0.receivableID) \(yuan($0.amount))" }.joined(separator: ", ")); credit \
                \(yuan(payment.unallocated))
                """
            )
        }
    }

    struct Reverse: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Reverse a payment (e.g. returned by the bank): what it settled opens again.")
        @Option(help: "The payment's id.") var payment: Int64
        @Option(help: "Why.") var reason: String
        @OptionGroup var change: ChangeOptions
        @OptionGroup var options: SettlementOptions
        func run() async throws {
            var request = Xcert_Settlement_V1_ReversePaymentRequest()
            request.paymentID = self.payment
            request.reason = self.reason
            let payment = try await self.options.call(
                Xcert_Settlement_V1_LedgerService.Method.reversePayment, request, idempotencyKey: self.change.idempotencyKey)
            print("payment \(payment.id) of \(payment.schoolCode) reversed: \(payment.reversalReason)")
        }
    }

    struct Refund: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Pay a school's credit back.")
        @Option(help: "The school's code.") var school: String
        @Option(help: "The amount in yuan.") var amount: String
        @Option(help: "The day refunded, YYYY-MM-DD.") var date: String
        @Option(help: "The refund's reference.") var reference: String
        @OptionGroup var change: ChangeOptions
        @OptionGroup var options: SettlementOptions
        func run() async throws {
            var request = Xcert_Settlement_V1_RefundCreditRequest()
            request.schoolCode = self.school
            request.amount.fen = try fen(self.amount, option: "--amount")
            request.refundedOn = try wireDate(self.date, option: "--date")
            request.reference = self.reference
            let refund = try await self.options.call(
                Xcert_Settlement_V1_LedgerService.Method.refundCredit, request, idempotencyKey: self.change.idempotencyKey)
            print("refund \(refund.id) to \(refund.schoolCode): \(yuan(refund.amount)) on \(dateText(refund.refundedOn))")
        }
    }

    struct Account: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "A school's account: its receivables, then its totals (receivable = received + outstanding − credit).")
        @Option(help: "The school's code.") var school: String
        @Option(help: "Only this exam year's receivables.") var year: Int32 = 0
        @Option(help: "table or csv.") var format: OutputFormat = .table
        @OptionGroup var options: SettlementOptions
        func run() async throws {
            var request = Xcert_Settlement_V1_GetAccountRequest()
            request.schoolCode = self.school
            request.year = self.year
            let account = try await self.options.call(Xcert_Settlement_V1_LedgerService.Method.getAccount, request)
            emitReceivables(account.receivables, format: self.format)
            if self.format == .table {
                print(
                    """
                    \nreceivable \(yuan(account.receivable))  received \(yuan(account.received))  outstanding \
                    \(yuan(account.outstanding))  credit \(yuan(account.credit))
                    """
                )
            }
        }
    }

    struct Report: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Settlement's reports.", subcommands: [Outstanding.self, Fees.self, Timeliness.self])

        struct Outstanding: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Appendix table 3: outstanding fees per school (江西省试点院校未结清明细统计表).")
            @Option(help: "The exam year.") var year: Int32
            @Option(help: "Only this certificate's.") var certificate: String = ""
            @Option(help: "table or csv.") var format: OutputFormat = .table
            @OptionGroup var options: SettlementOptions
            func run() async throws {
                var request = Xcert_Settlement_V1_GetOutstandingTableRequest()
                request.year = self.year
                request.certificateCode = self.certificate
                let response = try await self.options.call(Xcert_Settlement_V1_SettlementReportService.Method.getOutstandingTable, request)
                ReportTables.outstanding(response).write(chineseHeaders: true, format: self.format)
            }
        }

        struct Fees: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "The organization report's fee table: receivable, received, outstanding per certificate level (考核费用结算情况).")
            @Option(help: "The exam year.") var year: Int32
            @Option(help: "Only this organization's (an organization sees only its own).") var organization: Int64 = 0
            @Option(help: "table or csv.") var format: OutputFormat = .table
            @OptionGroup var options: SettlementOptions
            func run() async throws {
                var request = Xcert_Settlement_V1_GetOrganizationFeeTableRequest()
                request.year = self.year
                request.organizationID = self.organization
                let response = try await self.options.call(
                    Xcert_Settlement_V1_SettlementReportService.Method.getOrganizationFeeTable, request)
                ReportTables.fees(response).write(chineseHeaders: true, format: self.format)
            }
        }

        struct Timeliness: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Per school: receivables paid by their due dates and the share of the amount paid (indicators 1-4-1 and 1-4-2).")
            @Option(help: "The exam year.") var year: Int32
            @Option(help: "Only this school's.") var school: String = ""
            @Option(help: "table or csv.") var format: OutputFormat = .table
            @OptionGroup var options: SettlementOptions
            func run() async throws {
                var request = Xcert_Settlement_V1_GetPaymentTimelinessRequest()
                request.year = self.year
                request.schoolCode = self.school
                let response = try await self.options.call(Xcert_Settlement_V1_SettlementReportService.Method.getPaymentTimeliness, request)
                emit(
                    ["school", "due", "paid_by_due_date", "on_time_share", "receivable", "received", "paid_share"],
                    response.schools.map { school in
                        [
                            school.schoolCode, String(school.receivablesDue), String(school.paidByDueDate),
                            Rate(Int64(school.paidByDueDate), over: Int64(school.receivablesDue)).percentage(), yuan(school.receivable),
                            yuan(school.received),
                            Rate(school.received.fen, over: school.receivable.fen).percentage(),
                        ]
                    },
                    format: self.format
                )
            }
        }
    }

    struct Subsidy: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Subsidy allocations (002 §三.4), exact to the fen.", subcommands: [Allocate.self, Show.self, List.self])

        struct Allocate: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Allocate a budget across schools by completed assessments, or by --weight SCHOOL=N.")
            @Option(help: "The year.") var year: Int32
            @Option(help: "The budget in yuan.") var budget: String
            @Option(help: "What it is, e.g. 2026年1+X证书试点补助资金.") var title: String
            @Option(help: "SCHOOL=WEIGHT, once per school; none: by completed assessments.") var weight: [String] = []
            @Option(help: "table or csv.") var format: OutputFormat = .table
            @OptionGroup var change: ChangeOptions
            @OptionGroup var options: SettlementOptions
            func run() async throws {
                var request = Xcert_Settlement_V1_AllocateSubsidyRequest()
                request.year = self.year
                request.budget.fen = try fen(self.budget, option: "--budget")
                request.title = self.title
                request.weights = try self.weight.map { text in
                    let parts = text.split(separator: "=", maxSplits: 1).map(String.init)
                    guard parts.count == 2, let weight = Int64(parts[1]) else {
                        throw ValidationError("--weight takes SCHOOL=WEIGHT; not \(text)")
                    }
                    var share = Xcert_Settlement_V1_SubsidyWeight()
                    share.schoolCode = parts[0]
                    share.weight = weight
                    return share
                }
                let allocation = try await self.options.call(
                    Xcert_Settlement_V1_SubsidyService.Method.allocateSubsidy, request, idempotencyKey: self.change.idempotencyKey)
                emitShares(allocation, format: self.format)
            }
        }

        struct Show: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "One allocation's shares.")
            @Option(help: "The allocation's id.") var id: Int64
            @Option(help: "table or csv.") var format: OutputFormat = .table
            @OptionGroup var options: SettlementOptions
            func run() async throws {
                var request = Xcert_Settlement_V1_GetSubsidyAllocationRequest()
                request.id = self.id
                emitShares(
                    try await self.options.call(Xcert_Settlement_V1_SubsidyService.Method.getSubsidyAllocation, request),
                    format: self.format)
            }
        }

        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "The allocations made.")
            @Option(help: "Only this year's.") var year: Int32 = 0
            @Option(help: "table or csv.") var format: OutputFormat = .table
            @OptionGroup var options: SettlementOptions
            func run() async throws {
                var request = Xcert_Settlement_V1_ListSubsidyAllocationsRequest()
                request.year = self.year
                let response = try await self.options.call(Xcert_Settlement_V1_SubsidyService.Method.listSubsidyAllocations, request)
                emit(
                    ["id", "year", "title", "budget", "basis", "allocated_by", "allocated_at"],
                    response.allocations.map {
                        [
                            String($0.id), String($0.year), $0.title, yuan($0.budget), $0.byCompleted ? "completed assessments" : "weights",
                            $0.allocatedBy, shanghaiTime($0.allocatedAt),
                        ]
                    },
                    format: self.format
                )
            }
        }
    }
}

/// Money as yuan with two decimals.
private func yuan(_ money: Xcert_Common_V1_Money) -> String {
    Money(fen: money.fen).description
}

/// Yuan as written on the command line, in fen.
private func fen(_ text: String, option: String) throws -> Int64 {
    guard let money = Money(yuan: text) else { throw ValidationError("\(option) takes yuan, e.g. 1500 or 1500.50; not \(text)") }
    return money.fen
}

private func emitCeilings(_ ceilings: [Xcert_Settlement_V1_FeeCeiling], format: OutputFormat) {
    emit(
        ["certificate", "level", "ceiling", "set_by", "set_at"],
        ceilings.map { [$0.certificateCode, levelNames([$0.level]), yuan($0.ceiling), $0.setBy, shanghaiTime($0.setAt)] }, format: format)
}

private func emitReceivables(_ receivables: [Xcert_Settlement_V1_Receivable], format: OutputFormat) {
    emit(
        [
            "id", "school", "certificate", "level", "exam_date", "due_date", "completed", "fee", "amount", "settled", "outstanding",
            "settled_on", "on_time",
        ],
        receivables.map { receivable in
            [
                String(receivable.id), receivable.schoolCode, receivable.certificateCode, levelNames([receivable.level]),
                dateText(receivable.examDate), dateText(receivable.dueDate),
                String(receivable.completed), yuan(receivable.feeStandard), yuan(receivable.amount), yuan(receivable.settled),
                yuan(receivable.outstanding),
                receivable.hasSettledOn ? dateText(receivable.settledOn) : "",
                receivable.hasSettledOn ? (receivable.paidByDueDate ? "yes" : "late") : "",
            ]
        },
        format: format
    )
}

private func emitShares(_ allocation: Xcert_Settlement_V1_SubsidyAllocation, format: OutputFormat) {
    emit(
        ["school", "weight", "amount"],
        allocation.shares.map { [$0.schoolCode, String($0.weight), yuan($0.amount)] } + [["合计", "", yuan(allocation.budget)]],
        format: format)
}
