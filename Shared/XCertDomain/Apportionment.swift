/// Splitting an amount of whole fen in proportion to weights (the province's subsidy
/// budget across schools, 002 §三.4) by the largest-remainder method: each part is its
/// exact share rounded down, and the fen left over go one each to the largest remainders
/// (ties to the earlier entry), so the parts always add up to the total exactly.
public enum Apportionment {
    /// What the apportionment refuses: its input, as a ``DomainError``.
    public typealias Refusal = DomainError

    /// The parts of `total` fen in proportion to `weights` (not negative, not all 0).
    public static func largestRemainder(total: Int64, weights: [Int64]) throws -> [Int64] {
        guard total >= 0 else { throw Refusal(.invalidArgument, reason: "apportionment.invalid", "the total is not negative") }
        guard weights.allSatisfy({ $0 >= 0 }) else {
            throw Refusal(.invalidArgument, reason: "apportionment.invalid", "weights are not negative")
        }
        var sum: Int64 = 0
        for weight in weights {
            let (next, overflow) = sum.addingReportingOverflow(weight)
            guard !overflow else { throw Refusal(.invalidArgument, reason: "apportionment.invalid", "the weights' sum overflows") }
            sum = next
        }
        guard sum > 0 else { throw Refusal(.invalidArgument, reason: "apportionment.invalid", "at least one weight is more than 0") }
        // total × weight fits in 128 bits; its quotient by sum is at most total.
        var parts: [Int64] = []
        var remainders: [(remainder: UInt64, index: Int)] = []
        for (index, weight) in weights.enumerated() {
            let product = UInt64(total).multipliedFullWidth(by: UInt64(weight))
            let (quotient, remainder) = UInt64(sum).dividingFullWidth(product)
            parts.append(Int64(quotient))
            remainders.append((remainder, index))
        }
        var left = total - parts.reduce(0, +)
        for (_, index) in remainders.sorted(by: { ($0.remainder, -$0.index) > ($1.remainder, -$1.index) }) where left > 0 {
            parts[index] += 1
            left -= 1
        }
        return parts
    }
}
