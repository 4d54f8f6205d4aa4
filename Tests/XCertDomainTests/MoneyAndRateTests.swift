import Testing
import XCertDomain

@Suite("Money in fen")
struct MoneyTests {
    @Test("sums, differences and products that fit are exact")
    func exactArithmetic() {
        #expect(Money(fen: 12_345).adding(Money(fen: 55)) == Money(fen: 12_400))
        #expect(Money(fen: 100).subtracting(Money(fen: 250)) == Money(fen: -150))
        #expect(Money(fen: 38_000).multiplied(by: 1_000) == Money(fen: 38_000_000))
    }

    @Test("yuan as written become exact fen; anything else is refused")
    func parsesYuan() {
        #expect(Money(yuan: "1500") == Money(fen: 150_000))
        #expect(Money(yuan: "1500.5") == Money(fen: 150_050))
        #expect(Money(yuan: "0.05") == Money(fen: 5))
        #expect(Money(yuan: "-12.05") == Money(fen: -1_205))
        for bad in ["", "1.", ".5", "1.005", "1,500", "¥5", "1e3", "92233720368547758.08", "一百"] {
            #expect(Money(yuan: bad) == nil, "\(bad)")
        }
    }

    @Test("an overflow is refused, never wrapped")
    func overflowRefused() {
        #expect(Money(fen: .max).adding(Money(fen: 1)) == nil)
        #expect(Money(fen: .min).subtracting(Money(fen: 1)) == nil)
        #expect(Money(fen: .max / 2 + 1).multiplied(by: 2) == nil)
    }

    @Test(
        "shown as yuan with two decimals",
        arguments: [
            (Int64(0), "0.00"), (5, "0.05"), (12_345, "123.45"), (-1_205, "-12.05"), (100, "1.00"),
        ])
    func description(fen: Int64, text: String) {
        #expect(Money(fen: fen).description == text)
    }
}

@Suite("Exact rates")
struct RateTests {
    @Test("a zero denominator is 'no data', neither 0 % nor 100 %")
    func noData() {
        let rate = Rate(0, over: 0)
        #expect(!rate.hasData)
        #expect(rate.value == nil)
        #expect(rate.percentage() == "no data")
        #expect(rate.isAtLeast(Rate(0, over: 1)) == nil)
    }

    @Test(
        "percentages round half up",
        arguments: [
            (Int64(1), Int64(3), "33.33%"), (2, 3, "66.67%"), (1, 8, "12.50%"), (0, 5, "0.00%"), (5, 5, "100.00%"), (1, 200, "0.50%"),
        ])
    func percentage(numerator: Int64, denominator: Int64, text: String) {
        #expect(Rate(numerator, over: denominator).percentage() == text)
    }

    @Test("comparison is exact, without floating point")
    func exactComparison() {
        // 1/3 vs 333_333_333/1_000_000_000: a double would call them nearly equal.
        #expect(Rate(1, over: 3).isAtLeast(Rate(333_333_333, over: 1_000_000_000)) == true)
        #expect(Rate(333_333_333, over: 1_000_000_000).isAtLeast(Rate(1, over: 3)) == false)
        #expect(Rate(3, over: 6).isAtLeast(Rate(1, over: 2)) == true)
    }
}

@Suite("School types and levels")
struct SchoolTypeTests {
    @Test("technical schools are never eligible (rule 5); every other type is")
    func eligibility() {
        for type in SchoolType.allCases {
            #expect(type.isEligibleForPilot == (type != .technicalSchool))
        }
    }

    @Test("only secondary schools go to their city bureau first (rule 4)")
    func cityReview() {
        #expect(SchoolType.allCases.filter(\.isReviewedByCityFirst) == [.secondaryVocational])
    }

    @Test("levels order elementary < intermediate < advanced")
    func levels() {
        #expect(CertificateLevel.allCases.sorted() == [.elementary, .intermediate, .advanced])
        #expect(CertificateLevel.advanced.chineseName == "高级")
    }
}
