import Foundation
import Testing
import XCertDomain

@Suite("Inspections at monitoring points (004 第19条)")
struct MonitoringInspectionTests {
    static func day(_ text: String) -> LocalDate { LocalDate(iso: text)! }
    /// 2026-12-03 00:00:00 +08:00.
    static let now = Date(timeIntervalSince1970: 1_796_227_200)

    static func inspection(
        on day: String = "2026-11-20", findings: [MonitoringInspection.Finding]? = nil, followUp: String = ""
    ) -> MonitoringInspection {
        MonitoringInspection(
            year: 2026, inspectedOn: Self.day(day), inspector: "省1+X试点办 王敏",
            findings: findings ?? [.init(agreementItem: "考核组织实施", compliant: true, finding: "考务规范")], followUp: followUp)
    }

    @Test("the day is in the year of the points and not after today in Asia/Shanghai")
    func days() {
        #expect(Self.inspection(on: "2026-12-03").problems(now: Self.now).isEmpty)
        #expect(Self.inspection(on: "2026-12-04").problems(now: Self.now).map(\.field) == ["inspected_on"])
        #expect(Self.inspection(on: "2025-12-31").problems(now: Self.now).first?.message.contains("is not in 2026") == true)
        #expect(Self.inspection(on: "2026-01-01").problems(now: Self.now).isEmpty)
    }

    @Test("1 to 50 findings, each item once and said; an item not fulfilled needs the follow-up demanded")
    func findings() {
        let fifty = (0..<50).map { MonitoringInspection.Finding(agreementItem: "第\($0)条", compliant: true, finding: "符合") }
        #expect(Self.inspection(findings: fifty).problems(now: Self.now).isEmpty)
        #expect(
            Self.inspection(findings: fifty + [.init(agreementItem: "另", compliant: true, finding: "x")]).problems(now: Self.now).map(
                \.field)
                == ["findings"])
        #expect(Self.inspection(findings: []).problems(now: Self.now).map(\.field) == ["findings"])
        let twice = [
            MonitoringInspection.Finding(agreementItem: "收费", compliant: true, finding: "按标准收费"),
            .init(agreementItem: " 收费 ", compliant: true, finding: "同上"), .init(agreementItem: "", compliant: true, finding: " "),
        ]
        #expect(
            Self.inspection(findings: twice).problems(now: Self.now).map(\.field) == [
                "findings[1].agreement_item", "findings[2].agreement_item", "findings[2].finding",
            ])
        let unmet = [
            MonitoringInspection.Finding(agreementItem: "培训资源", compliant: false, finding: "未按协议提供资源包"),
            .init(agreementItem: "收费", compliant: true, finding: "按标准收费"),
        ]
        let missing = Self.inspection(findings: unmet).problems(now: Self.now)
        #expect(missing.map(\.field) == ["follow_up"] && missing[0].message.contains("1 of 2 items are not fulfilled"))
        #expect(Self.inspection(findings: unmet, followUp: "30日内补齐资源包").problems(now: Self.now).isEmpty)
        #expect(
            Self.inspection(findings: unmet, followUp: String(repeating: "改", count: 1001)).problems(now: Self.now).map(\.field) == [
                "follow_up"
            ])
    }

    @Test("resolved: nothing unmet, or the latest note says so; notes fall between the inspection and today")
    func resolution() throws {
        let clean = Self.inspection()
        #expect(clean.isResolved(latestNoteResolved: nil))
        let unmet = Self.inspection(findings: [.init(agreementItem: "培训资源", compliant: false, finding: "缺")], followUp: "补齐")
        #expect(unmet.nonCompliant == 1 && !unmet.isResolved(latestNoteResolved: nil) && !unmet.isResolved(latestNoteResolved: false))
        #expect(unmet.isResolved(latestNoteResolved: true))
        try unmet.checkNote("已补齐", notedOn: Self.day("2026-11-20"), now: Self.now)
        try unmet.checkNote("已补齐", notedOn: Self.day("2026-12-03"), now: Self.now)
        #expect(throws: DomainError.self) { try unmet.checkNote("已补齐", notedOn: Self.day("2026-11-19"), now: Self.now) }
        #expect(throws: DomainError.self) { try unmet.checkNote("已补齐", notedOn: Self.day("2026-12-04"), now: Self.now) }
        let blank = #expect(throws: DomainError.self) { try unmet.checkNote("  ", notedOn: Self.day("2026-11-30"), now: Self.now) }
        #expect(blank?.field == "note.note")
    }
}
