/// How the year's results are ordered and graded.
public enum Ranking {
    /// Competition ranks of `totals`, highest first ("1224"): equal totals share a rank,
    /// and the next rank skips as many places. Returned in the order of `totals`.
    public static func competitionRanks(_ totals: [Int]) -> [Int] {
        totals.map { total in 1 + totals.filter { $0 > total }.count }
    }

    /// The highest tier whose minimum `total` reaches; nil below every tier.
    public static func tier(of total: Int, among tiers: [(name: String, minimum: Int)]) -> String? {
        tiers.filter { total >= $0.minimum }.max { $0.minimum < $1.minimum }?.name
    }
}
