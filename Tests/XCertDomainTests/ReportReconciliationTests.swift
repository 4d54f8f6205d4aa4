import Testing
import XCertDomain

@Suite("Reconciling an organization's yearly report with the system's figures (003's footnotes *1–*4)")
struct ReportReconciliationTests {
    typealias Figures = ReportReconciliation.Figures
    static let auto1 = ReportReconciliation.Line(certificate: "AUTO", level: .elementary)
    static let auto2 = ReportReconciliation.Line(certificate: "AUTO", level: .intermediate)
    static let bim1 = ReportReconciliation.Line(certificate: "BIM", level: .elementary)

    @Test("equal figures: nothing differs, and every figure of every line of a table either side has is counted as checked")
    func agreeing() {
        var side = Figures()
        for (figure, value) in [(ReportReconciliation.Figure.declared, 120), (.approved, 110), (.completed, 100), (.passed, 90)] {
            side.add(Int64(value), figure, of: Self.auto1)
        }
        side.add(3, .sites, of: Self.auto1)
        let result = ReportReconciliation.compare(reported: side, recorded: side)
        #expect(result.differences.isEmpty)
        #expect(result.figuresChecked == 4 + 3, "table 一.1's four figures and 一.3's three, of one line each")
    }

    @Test("each differing figure is listed with both numbers; a line the report lacks is missing where the system's figure is not 0")
    func differing() {
        var reported = Figures()
        reported.add(120, .declared, of: Self.auto1)
        reported.add(100, .completed, of: Self.auto1)
        reported.add(5, .publishedTextbooks, of: Self.bim1)
        var recorded = Figures()
        recorded.add(118, .declared, of: Self.auto1)
        recorded.add(100, .completed, of: Self.auto1)
        recorded.add(4, .publishedTextbooks, of: Self.bim1)
        recorded.add(90_000, .receivable, of: Self.auto2)
        recorded.add(0, .received, of: Self.auto2)
        let result = ReportReconciliation.compare(reported: reported, recorded: recorded)
        #expect(
            result.differences.map { "\($0.figure.rawValue) \($0.line.certificate) \($0.reported) \($0.recorded) \($0.lineMissing)" } == [
                "province.declared AUTO 120 118 false", "receivable AUTO 0 90000 true", "published_textbooks BIM 5 4 false",
            ])
        #expect(result.figuresChecked == 4 + 4 + 1)
        #expect(result.differences[0].description == "AUTO 初级 申报人数: reported 120, 118 in the rosters")
        #expect(result.differences[1].description == "AUTO 中级 应收金额(分): no line in the report, 90000 in the ledger")
    }

    @Test("a line only the report has is compared with 0; tables are reconciled in the report's order")
    func reportedOnly() {
        var reported = Figures()
        reported.add(2, .examSessions, of: Self.bim1)
        reported.add(7, .declared, of: Self.bim1)
        let result = ReportReconciliation.compare(reported: reported, recorded: Figures())
        #expect(result.differences.map(\.figure) == [.declared, .examSessions])
        #expect(result.differences.allSatisfy { $0.recorded == 0 && !$0.lineMissing })
    }

    @Test("absurd figures saturate instead of trapping")
    func saturating() {
        var reported = Figures()
        reported.add(.max, .declared, of: Self.auto1)
        reported.add(.max, .declared, of: Self.auto1)
        #expect(reported.value(.declared, of: Self.auto1) == .max)
        #expect(reported.value(.passed, of: Self.auto1) == 0 && reported.value(.passed, of: Self.bim1) == nil)
    }
}
