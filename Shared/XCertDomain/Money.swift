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

    /// Yuan as written, e.g. `1500`, `1500.5` or `-12.05`, exactly; nil for anything else
    /// (more than two decimals, no digits, an amount that overflows).
    public init?(yuan text: String) {
        var digits = Substring(text)
        let negative = digits.first == "-"
        if negative { digits = digits.dropFirst() }
        let parts = digits.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), let whole = parts.first, !whole.isEmpty, whole.allSatisfy(\.isASCII),
            whole.allSatisfy(\.isNumber)
        else { return nil }
        let fraction = parts.count == 2 ? parts[1] : ""
        guard fraction.count <= 2, fraction.allSatisfy(\.isASCII), fraction.allSatisfy(\.isNumber), parts.count == 1 || !fraction.isEmpty
        else { return nil }
        guard let yuan = Int64(whole), let cents = Int64(fraction.count == 1 ? fraction + "0" : fraction.isEmpty ? "0" : fraction) else {
            return nil
        }
        let (scaled, overflow) = yuan.multipliedReportingOverflow(by: 100)
        guard !overflow, let total = Money(fen: scaled).adding(Money(fen: cents)) else { return nil }
        self.fen = negative ? -total.fen : total.fen
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
