/// Checks an organization's yearly report (003 appendix 2) against what the system holds
/// (003's footnotes *1–*4: the starred figures must agree with the detail tables): every
/// figure of every line of the report's tables, and every line the system has that the
/// report lacks.
public enum ReportReconciliation {
    /// The tables of the report's part 一.
    public enum Table: Int, Sendable, Hashable, CaseIterable, Comparable {
        /// 1 证书申报与考核情况, the province's counts.
        case exams = 1
        /// 2 师资培训情况.
        case trainings = 2
        /// 3 考核站点设置情况, the province's sites.
        case sites = 3
        /// 4 考核费用结算情况.
        case fees = 4
        /// 5 证书资源开发情况.
        case resources = 5

        public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
    }

    /// A figure the reconciliation compares: its table, its field in the report, its Chinese
    /// heading and where the system's own value comes from.
    public enum Figure: String, Sendable, Hashable, CaseIterable, Comparable {
        case declared = "province.declared"
        case approved = "province.approved"
        case completed = "province.completed"
        case passed = "province.passed"
        case sites = "sites_province"
        case candidatesAssessed = "candidates_assessed"
        case examSessions = "exam_sessions"
        case feeCompleted = "completed"
        case receivable = "receivable"
        case received = "received"
        case outstanding = "outstanding"
        case publishedTextbooks = "published_textbooks"
        case trainingDays = "days"
        case participants = "participants_province"

        public var table: Table {
            switch self {
            case .declared, .approved, .completed, .passed: .exams
            case .trainingDays, .participants: .trainings
            case .sites, .candidatesAssessed, .examSessions: .sites
            case .feeCompleted, .receivable, .received, .outstanding: .fees
            case .publishedTextbooks: .resources
            }
        }

        /// The report's heading (money in fen, as the wire carries it).
        public var label: String {
            switch self {
            case .declared: "申报人数"
            case .approved: "获批人数"
            case .completed: "完成考核人数"
            case .passed: "通过人数"
            case .sites: "考核站点数"
            case .candidatesAssessed: "开展考核人数"
            case .examSessions: "开展考核次数"
            case .feeCompleted: "完成考核人数"
            case .receivable: "应收金额(分)"
            case .received: "实收金额(分)"
            case .outstanding: "未结金额(分)"
            case .publishedTextbooks: "公开出版教材(部)"
            case .trainingDays: "培训天数"
            case .participants: "培训人数(江西省)"
            }
        }

        /// Where the system's figure comes from.
        public var source: String {
            switch self {
            case .declared, .approved, .completed, .passed, .candidatesAssessed, .examSessions: "rosters"
            case .sites: "registry sites"
            case .feeCompleted, .receivable, .received, .outstanding: "ledger"
            case .publishedTextbooks: "textbook list"
            case .trainingDays, .participants: "training records"
            }
        }

        /// The figures of `table`, in the report's order.
        public static func of(_ table: Table) -> [Figure] { Self.allCases.filter { $0.table == table } }

        private var position: Int { Self.allCases.firstIndex(of: self) ?? 0 }
        public static func < (lhs: Self, rhs: Self) -> Bool { lhs.position < rhs.position }
    }

    /// A line of a table: a certificate level, or (table 一.2) a training by its name and
    /// start day.
    public struct Line: Sendable, Hashable, Comparable {
        /// The certificate's code; empty for a training.
        public let certificate: String
        public let level: CertificateLevel?
        /// The training's name and start day, e.g. `汽车运用与维修师资培训 2026-07-10`; empty for a certificate level.
        public let training: String

        public init(certificate: String, level: CertificateLevel) {
            self.certificate = certificate
            self.level = level
            self.training = ""
        }

        public init(training name: String, startingOn day: LocalDate) {
            self.certificate = ""
            self.level = nil
            self.training = "\(name) \(day)"
        }

        public static func < (lhs: Self, rhs: Self) -> Bool {
            (lhs.certificate, lhs.level?.rawValue ?? 0, lhs.training) < (rhs.certificate, rhs.level?.rawValue ?? 0, rhs.training)
        }

        /// `AUTO 初级`, or the training.
        public var description: String {
            self.training.isEmpty ? "\(self.certificate) \(self.level?.chineseName ?? "")" : self.training
        }
    }

    /// The figures of one side (the report's, or the system's), line by line.
    public struct Figures: Sendable, Hashable {
        private(set) var lines: [Table: [Line: [Figure: Int64]]] = [:]

        public init() {}

        /// Adds `value` to `figure` of `line`, which is then present (with 0, too). A report with
        /// two lines of one level counts both. Saturates rather than trap on absurd values.
        public mutating func add(_ value: Int64, _ figure: Figure, of line: Line) {
            let current = self.lines[figure.table, default: [:]][line, default: [:]][figure, default: 0]
            let (sum, overflow) = current.addingReportingOverflow(value)
            self.lines[figure.table, default: [:]][line, default: [:]][figure] = overflow ? (value < 0 ? .min : .max) : sum
        }

        public func value(_ figure: Figure, of line: Line) -> Int64? {
            guard let values = self.lines[figure.table]?[line] else { return nil }
            return values[figure] ?? 0
        }
    }

    /// One figure the system's records do not back.
    public struct Difference: Sendable, Hashable {
        public let figure: Figure
        public let line: Line
        public let reported: Int64
        public let recorded: Int64
        /// The report has no line for a certificate level the system has figures for.
        public let lineMissing: Bool

        public init(figure: Figure, line: Line, reported: Int64, recorded: Int64, lineMissing: Bool) {
            self.figure = figure
            self.line = line
            self.reported = reported
            self.recorded = recorded
            self.lineMissing = lineMissing
        }

        /// `AUTO 初级 完成考核人数: reported 120, recorded 118`.
        public var description: String {
            let what = "\(self.line.description) \(self.figure.label)"
            return self.lineMissing
                ? "\(what): no line in the report, \(self.recorded) in the \(self.figure.source)"
                : "\(what): reported \(self.reported), \(self.recorded) in the \(self.figure.source)"
        }
    }

    /// The outcome: how many figures were compared, and those that differ, by table,
    /// certificate, level and figure.
    public struct Result: Sendable, Hashable {
        public let figuresChecked: Int
        public let differences: [Difference]
    }

    /// Compares the report's figures with the system's over `tables`: for each line either
    /// side has, each figure of its table. A line only the report has is compared with 0; a
    /// line only the system has is missing from the report wherever its figure is not 0.
    public static func compare(reported: Figures, recorded: Figures, tables: [Table] = Table.allCases) -> Result {
        var checked = 0
        var differences: [Difference] = []
        for table in tables.sorted() {
            let reportedLines = reported.lines[table] ?? [:]
            let recordedLines = recorded.lines[table] ?? [:]
            for line in Set(reportedLines.keys).union(recordedLines.keys).sorted() {
                let missing = reportedLines[line] == nil
                for figure in Figure.of(table) {
                    checked += 1
                    let ours = reported.value(figure, of: line) ?? 0
                    let theirs = recorded.value(figure, of: line) ?? 0
                    if ours != theirs {
                        differences.append(Difference(figure: figure, line: line, reported: ours, recorded: theirs, lineMissing: missing))
                    }
                }
            }
        }
        return Result(figuresChecked: checked, differences: differences)
    }
}
