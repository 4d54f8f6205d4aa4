import Testing
import XCertDomain

@Suite("Exam results: national ID numbers and scores in tenths")
struct ExamResultTests {
    @Test("GB 11643 check character: a published example, lowercase x, and every wrong check character refused")
    func nationalIDCheckCharacter() throws {
        // The standard's own example number.
        let example = try #require(NationalID("11010519491231002X"))
        #expect(example.lastFour == "002X")
        #expect(NationalID("11010519491231002x")?.value == "11010519491231002X")
        #expect(NationalID.problem("11010519491231002X") == nil)
        for wrong in "0123456789".map(String.init) {
            #expect(NationalID("11010519491231002" + wrong) == nil)
        }
        #expect(NationalID.problem("11010519491231002")?.contains("18 characters") == true)
        #expect(NationalID.problem("1101051949123100AX")?.contains("17 digits") == true)
        #expect(NationalID.problem("110105194912310021")?.contains("check character") == true)
        // Completing 17 digits gives the number with its check character.
        #expect(NationalID(completing: "11010519491231002")?.value == "11010519491231002X")
        #expect(NationalID(completing: "44052418800101001")?.value == "440524188001010014")
        #expect(NationalID(completing: "1101051949123100") == nil)
        #expect(NationalID(completing: "1101051949123100A") == nil)
    }

    @Test("changing any one digit of a valid number is always detected")
    func nationalIDDetectsSingleDigitErrors() throws {
        let valid = Array("440524188001010014")
        #expect(NationalID(String(valid)) != nil)
        for position in 0..<17 {
            for digit in "0123456789" where digit != valid[position] {
                var changed = valid
                changed[position] = digit
                #expect(NationalID(String(changed)) == nil, "\(String(changed))")
            }
        }
    }

    @Test("scores in tenths are weighted exactly: the pass mark is reached at the exact total, not a rounded one")
    func scoresInTenths() {
        let rule = ScoringRule.provinceDefault  // 理论 40 %, 实操 60 %, pass at 60
        #expect(rule.score(tenths: [700, 534]) == (600, true))  // 60.04
        #expect(rule.score(tenths: [700, 533]) == (599, false))  // 59.98
        #expect(rule.score(tenths: [600, 600]) == (600, true))  // exactly 60
        #expect(rule.score(tenths: [0, 0]) == (0, false))
        #expect(rule.score(tenths: [1000, 1000]) == (1000, true))
        let strict = ScoringRule(components: [.init(name: "理论", weightPercent: 30), .init(name: "实操", weightPercent: 70)], passMark: 80)
        #expect(strict.score(tenths: [800, 799]).passed == false)  // 79.93
        for theory in stride(from: 0, through: 1000, by: 7) {
            for practical in stride(from: 0, through: 1000, by: 11) {
                let tenths = rule.score(tenths: [theory, practical])
                let points = rule.score([theory / 10, practical / 10])
                // Whole-point scores agree with the whole-point rule.
                if theory % 10 == 0 && practical % 10 == 0 { #expect(tenths.passed == points.passed) }
                #expect(tenths.passed == (theory * 40 + practical * 60 >= 60_000))
            }
        }
    }
}

@Suite("Points in tenths, written")
struct PointsTextTests {
    @Test("one decimal, the sign kept below one point")
    func text() {
        #expect(Points.text(tenths: 805) == "80.5")
        #expect(Points.text(tenths: 0) == "0.0")
        #expect(Points.text(tenths: 1000) == "100.0")
        #expect(Points.text(tenths: -10) == "-1.0")
        #expect(Points.text(tenths: -5) == "-0.5")
    }
}
