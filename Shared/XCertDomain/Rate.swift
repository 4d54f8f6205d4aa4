/// An exact rate such as a pass rate (通过率): a numerator over a denominator, kept as
/// integers until it is displayed. A zero denominator means "no data", which is
/// neither 0 % nor 100 %.
public struct Rate: Sendable, Hashable, Codable, CustomStringConvertible {
    public var numerator: Int64
    public var denominator: Int64

    public init(_ numerator: Int64, over denominator: Int64) {
        precondition(numerator >= 0 && denominator >= 0, "rates count things: no negative parts")
        self.numerator = numerator
        self.denominator = denominator
    }

    /// False when the denominator is zero.
    public var hasData: Bool { self.denominator != 0 }

    /// The value as a fraction of one, or nil for "no data".
    public var value: Double? {
        self.hasData ? Double(self.numerator) / Double(self.denominator) : nil
    }

    /// Compares exactly (cross-multiplied in 128 bits); "no data" compares as nothing.
    public func isAtLeast(_ other: Rate) -> Bool? {
        guard self.hasData, other.hasData else { return nil }
        let left = self.numerator.multipliedFullWidth(by: other.denominator)
        let right = other.numerator.multipliedFullWidth(by: self.denominator)
        return (left.high, left.low) >= (right.high, right.low)
    }

    /// A percentage with `decimals` places, rounded half up, e.g. `83.33%`; `no data` for
    /// a zero denominator.
    public func percentage(decimals: Int = 2) -> String {
        guard self.hasData else { return "no data" }
        var scale: Int64 = 1
        for _ in 0..<decimals { scale *= 10 }
        // numerator * 100 * scale / denominator, rounded half up, in integers; counts beyond
        // 10^14 (never seen: candidates number in the millions) fall back to a double.
        let (doubled, overflow) = self.numerator.multipliedReportingOverflow(by: 100 * scale * 2)
        let scaled: Int64
        if overflow || doubled > Int64.max - self.denominator {
            scaled = Int64((Double(self.numerator) * 100 * Double(scale) / Double(self.denominator)).rounded())
        } else {
            scaled = (doubled + self.denominator) / (self.denominator * 2)
        }
        let whole = scaled / scale
        let fraction = scaled % scale
        if decimals == 0 { return "\(whole)%" }
        let digits = String(fraction)
        return "\(whole).\(String(repeating: "0", count: decimals - digits.count))\(digits)%"
    }

    public var description: String { self.percentage() }
}
