/// How the computed items of an evaluation scheme (考核评价指标) turn a measure into
/// points, exactly: points are in tenths and rounded down.
public enum IndicatorScoring {
    /// Points for a rate: none at or below `low`, all of `maximum` at or above `high`,
    /// linear between; thresholds in basis points (6000 is 60 %). nil for "no data".
    public static func points(rate: Rate, lowBasisPoints low: Int, highBasisPoints high: Int, maximumTenths maximum: Int) -> Int? {
        precondition(0 <= low && low < high && high <= 10_000 && maximum >= 0, "a sound rule")
        guard rate.hasData else { return nil }
        // rate − low, over the span, both scaled by 10,000 × denominator.
        let above = rate.numerator * 10_000 - Int64(low) * rate.denominator
        let span = Int64(high - low) * rate.denominator
        if above <= 0 { return 0 }
        if above >= span { return maximum }
        return Int((Int64(maximum) * above) / span)
    }

    /// Points for a count: `perUnit` tenths each, capped at `maximum`.
    public static func points(count: Int, perUnitTenths perUnit: Int, maximumTenths maximum: Int) -> Int {
        precondition(count >= 0 && perUnit >= 0 && maximum >= 0, "counts and points are not negative")
        return min(maximum, count.multipliedReportingOverflow(by: perUnit).overflow ? maximum : count * perUnit)
    }
}
