/// Points are kept in tenths (87.5 points is 875): exam scores, indicator maxima and
/// scores, totals.
public enum Points {
    /// Tenths written as points with one decimal, e.g. 805 → `80.5`, -5 → `-0.5`.
    public static func text(tenths: Int) -> String {
        let magnitude = tenths.magnitude
        return "\(tenths < 0 ? "-" : "")\(magnitude / 10).\(magnitude % 10)"
    }
}
