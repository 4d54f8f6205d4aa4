/// An amount of money in fen (分, 1/100 yuan). Integer arithmetic only; an operation
/// that would overflow is refused, never wrapped.
public struct Money: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    public var fen: Int64

    public init(fen: Int64) { self.fen = fen }

    public static let zero = Money(fen: 0)

    /// The sum, or nil when it does not fit in `Int64` fen.
    public func adding(_ other: Money) -> Money? {
        let (sum, overflow) = self.fen.addingReportingOverflow(other.fen)
        return overflow ? nil : Money(fen: sum)
    }

    /// The difference, or nil when it does not fit.
    public func subtracting(_ other: Money) -> Money? {
        let (difference, overflow) = self.fen.subtractingReportingOverflow(other.fen)
        return overflow ? nil : Money(fen: difference)
    }

    /// `self` times a count (e.g. candidates × fee), or nil when it does not fit.
    public func multiplied(by count: Int64) -> Money? {
        let (product, overflow) = self.fen.multipliedReportingOverflow(by: count)
        return overflow ? nil : Money(fen: product)
    }

    public static func < (lhs: Money, rhs: Money) -> Bool { lhs.fen < rhs.fen }

    /// Yuan with two decimals, e.g. `-12.05`.
    public var description: String {
        let sign = self.fen < 0 ? "-" : ""
        let magnitude = self.fen.magnitude
        let cents = magnitude % 100
        return "\(sign)\(magnitude / 100).\(cents < 10 ? "0" : "")\(cents)"
    }
}
