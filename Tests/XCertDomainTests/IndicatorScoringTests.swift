import Testing
import XCertDomain

@Suite("Indicator scoring: rates between thresholds, counts capped")
struct IndicatorScoringTests {
    @Test("a rate rule at and around its thresholds: 60 % → 0, 90 % → all, linear between, rounded down; no data stays no data")
    func rateThresholds() {
        func points(_ numerator: Int64, _ denominator: Int64) -> Int? {
            IndicatorScoring.points(
                rate: Rate(numerator, over: denominator), lowBasisPoints: 6000, highBasisPoints: 9000, maximumTenths: 100)
        }
        #expect(points(60, 100) == 0)
        #expect(points(59, 100) == 0)
        #expect(points(0, 100) == 0)
        #expect(points(90, 100) == 100)
        #expect(points(100, 100) == 100)
        #expect(points(75, 100) == 50)
        #expect(points(601, 1000) == 0)  // 0.33 tenths, rounded down
        #expect(points(6030, 10000) == 1)  // exactly 1 tenth
        #expect(points(6029, 10000) == 0)  // 0.97 tenths, rounded down
        #expect(points(8999, 10000) == 99)  // 99.97 tenths, rounded down
        #expect(points(2, 3) == 22)  // 66.67 %: 22.2 tenths
        #expect(points(0, 0) == nil)
    }

    @Test("for every rate n/97 the points never fall as the rate rises, and stay within 0 and the maximum")
    func monotone() {
        var previous = 0
        for numerator in Int64(0)...97 {
            let points = IndicatorScoring.points(
                rate: Rate(numerator, over: 97), lowBasisPoints: 5000, highBasisPoints: 9500, maximumTenths: 60)!
            #expect(points >= previous && (0...60).contains(points))
            previous = points
        }
        #expect(previous == 60)
    }

    @Test("a count rule gives so much per unit up to its cap")
    func counts() {
        #expect(IndicatorScoring.points(count: 0, perUnitTenths: 20, maximumTenths: 40) == 0)
        #expect(IndicatorScoring.points(count: 1, perUnitTenths: 20, maximumTenths: 40) == 20)
        #expect(IndicatorScoring.points(count: 2, perUnitTenths: 20, maximumTenths: 40) == 40)
        #expect(IndicatorScoring.points(count: 3, perUnitTenths: 20, maximumTenths: 40) == 40)
        #expect(IndicatorScoring.points(count: Int.max, perUnitTenths: 20, maximumTenths: 40) == 40)
    }
}
