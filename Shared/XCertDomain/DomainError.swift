/// A rule of the pilot refusing something: what kind of refusal (``Code``), a stable
/// ``reason`` that tests and logs can match on, the field of the request it concerns (if
/// any), and a message in the province's words, with the numbers or states that decide it.
///
/// The service kit maps it to a wire status in one place; rules never know the wire.
public struct DomainError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of refusal, as a caller must act on it.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }

        /// A value the caller sent is wrong in itself (a missing reason, an amount of 0).
        public static let invalidArgument = Code("invalid argument")
        /// The state of things does not allow it now (a reviewed filing, a sealed roster).
        public static let failedPrecondition = Code("failed precondition")
        /// Something of the kind already exists and stands in the way (a live filing).
        public static let alreadyExists = Code("already exists")
        /// The caller's role may call the method but may not take this step (a city
        /// reviewer deciding the province's step).
        public static let permissionDenied = Code("permission denied")

        public var description: String { self.name }
    }

    public let code: Code
    /// Stable and short, e.g. `review.not-awaiting-review`: what tests assert and logs count.
    public let reason: String
    /// The request's field, as a path (`reason`, `plan.fees[2].level`); nil for a refusal of
    /// the request as a whole.
    public let field: String?
    public let message: String

    public init(_ code: Code, reason: String, field: String? = nil, _ message: String) {
        self.code = code
        self.reason = reason
        self.field = field
        self.message = message
    }

    public var description: String { "\(self.code) (\(self.reason)): \(self.message)" }

    /// The same refusal, about the request's `field`: a rule that knows nothing of requests
    /// (the ledger, say) refuses, and the handler says which field it concerns.
    public func at(field: String) -> DomainError {
        DomainError(self.code, reason: self.reason, field: field, self.message)
    }
}
