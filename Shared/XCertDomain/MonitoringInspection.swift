import Foundation

/// An inspection by the province at a monitoring point (004 第19条: about 10 pilot schools per
/// certificate watch whether the organization fulfils its agreement): the day, the inspector,
/// one finding per item of the organization's agreement, and what the organization must do
/// when an item is not fulfilled. Follow-up notes then say what it did, until one says the
/// findings are resolved.
public struct MonitoringInspection: Sendable, Hashable {
    /// What the inspector found about one item of the agreement (试点协议).
    public struct Finding: Sendable, Hashable {
        public var agreementItem: String
        public var compliant: Bool
        public var finding: String

        public init(agreementItem: String, compliant: Bool, finding: String) {
            self.agreementItem = agreementItem
            self.compliant = compliant
            self.finding = finding
        }
    }

    public var year: Int32
    public var inspectedOn: LocalDate
    public var inspector: String
    public var findings: [Finding]
    public var followUp: String

    public init(year: Int32, inspectedOn: LocalDate, inspector: String, findings: [Finding], followUp: String) {
        self.year = year
        self.inspectedOn = inspectedOn
        self.inspector = inspector
        self.findings = findings
        self.followUp = followUp
    }

    /// The most findings one inspection records.
    public static let maximumFindings = 50

    /// The findings of an item the organization does not fulfil.
    public var nonCompliant: Int { self.findings.count { !$0.compliant } }

    /// Whether the inspection needs nothing more: every item fulfilled, or the latest
    /// follow-up note (nil: none yet) says the findings are resolved.
    public func isResolved(latestNoteResolved: Bool?) -> Bool { self.nonCompliant == 0 || latestNoteResolved == true }

    /// Every problem of the inspection as written, each about its field (INVALID_ARGUMENT
    /// `inspection.*`): the day in its year and not after today in Asia/Shanghai (`now`), an
    /// inspector, 1 to 50 findings each with its item (1 to 200 characters, once) and what was
    /// found (1 to 1000), and the follow-up demanded when an item is not fulfilled (at most 1000).
    public func problems(now: Date) -> [DomainError] {
        var problems: [DomainError] = []
        func problem(_ field: String, _ message: String) {
            problems.append(DomainError(.invalidArgument, reason: "inspection.\(field)", field: field, message))
        }
        let today = LocalDate(containing: Int64(now.timeIntervalSince1970.rounded(.down)))
        if Int32(self.inspectedOn.year) != self.year {
            problem("inspected_on", "\(self.inspectedOn) is not in \(self.year), the year of the monitoring points")
        } else if self.inspectedOn > today {
            problem("inspected_on", "\(self.inspectedOn) is after today (\(today) in Asia/Shanghai): record an inspection once made")
        }
        let inspector = self.inspector.trimmingCharacters(in: .whitespacesAndNewlines)
        if !(1...100).contains(inspector.count) { problem("inspector", "must name who inspected, 1 to 100 characters") }
        if !(1...Self.maximumFindings).contains(self.findings.count) {
            problem("findings", "must hold 1 to \(Self.maximumFindings) findings, one per item of the agreement inspected")
        }
        var items: Set<String> = []
        for (index, finding) in self.findings.enumerated() {
            let item = finding.agreementItem.trimmingCharacters(in: .whitespacesAndNewlines)
            if !(1...200).contains(item.count) {
                problem("findings[\(index)].agreement_item", "must name the item of the agreement, 1 to 200 characters")
            } else if !items.insert(item).inserted {
                problem("findings[\(index)].agreement_item", "\(item) has a finding already: one finding per item")
            }
            if !(1...1000).contains(finding.finding.trimmingCharacters(in: .whitespacesAndNewlines).count) {
                problem("findings[\(index)].finding", "must say what was found, 1 to 1000 characters")
            }
        }
        let followUp = self.followUp.trimmingCharacters(in: .whitespacesAndNewlines)
        if followUp.count > 1000 {
            problem("follow_up", "must be at most 1000 characters, not \(followUp.count)")
        } else if followUp.isEmpty && self.nonCompliant > 0 {
            problem(
                "follow_up",
                "must say what the organization must do: \(self.nonCompliant) of \(self.findings.count) items are not fulfilled")
        }
        return problems
    }

    /// Refuses a follow-up note dated before the inspection or after today, or without text.
    public func checkNote(_ note: String, notedOn: LocalDate, now: Date) throws(DomainError) {
        let today = LocalDate(containing: Int64(now.timeIntervalSince1970.rounded(.down)))
        guard notedOn >= self.inspectedOn, notedOn <= today else {
            throw DomainError(
                .invalidArgument, reason: "inspection.note-day", field: "note.noted_on",
                "\(notedOn) must be between the inspection (\(self.inspectedOn)) and today (\(today) in Asia/Shanghai)")
        }
        guard (1...1000).contains(note.trimmingCharacters(in: .whitespacesAndNewlines).count) else {
            throw DomainError(
                .invalidArgument, reason: "inspection.note", field: "note.note", "must say what the organization did, 1 to 1000 characters")
        }
    }
}
