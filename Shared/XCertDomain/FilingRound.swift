import Foundation

/// A filing round (备案批次, 001 §二): organizations file their work plans in it until its
/// closing day has ended (23:59:59 Asia/Shanghai), or until the province closes it early.
public struct FilingRound: Sendable, Hashable {
    public let year: Int32
    public let number: Int32
    /// The last day of filing, in Asia/Shanghai.
    public let closes: LocalDate
    /// When the province closed it before its closing day; nil if it did not.
    public let closedEarlyAt: Date?

    public init(year: Int32, number: Int32, closes: LocalDate, closedEarlyAt: Date? = nil) {
        self.year = year
        self.number = number
        self.closes = closes
        self.closedEarlyAt = closedEarlyAt
    }

    /// Whether filings are accepted at `now`.
    public func isOpen(at now: Date) -> Bool {
        self.closedEarlyAt == nil && self.closes.accepts(instant: now.timeIntervalSince1970)
    }

    /// - Throws: FAILED_PRECONDITION, saying when the round closed, unless it is open at `now`.
    public func requireOpen(at now: Date) throws(DomainError) {
        guard !self.isOpen(at: now) else { return }
        let closed =
            self.closedEarlyAt.map {
                "\(LocalDate.provinceTime(Int64($0.timeIntervalSince1970.rounded(.down)))) (closed early by the province)"
            }
            ?? self.closes.closingInstant
        throw DomainError(
            .failedPrecondition, reason: "filing-round.closed",
            "filing round \(self.number) of \(self.year) closed at \(closed); submissions are no longer accepted"
        )
    }
}
