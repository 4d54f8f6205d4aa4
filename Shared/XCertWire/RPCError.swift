import XCertProto

/// An error a handler throws to answer with a status other than OK.
///
/// Handlers throw `RPCError` directly, or their own domain errors conforming to
/// ``RPCErrorConvertible``; ``RPCError/init(mapping:)`` is the one place any other
/// error becomes a wire status.
public struct RPCError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A canonical status code (the gRPC numbers). A struct with static members so that
    /// codes can be added without breaking anyone's exhaustive switch.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        public let rawValue: Int

        public init?(rawValue: Int) {
            guard (0...16).contains(rawValue) else { return nil }
            self.rawValue = rawValue
        }

        private init(_ rawValue: Int) { self.rawValue = rawValue }

        public static let ok = Code(0)
        public static let cancelled = Code(1)
        public static let unknown = Code(2)
        public static let invalidArgument = Code(3)
        public static let deadlineExceeded = Code(4)
        public static let notFound = Code(5)
        public static let alreadyExists = Code(6)
        public static let permissionDenied = Code(7)
        public static let resourceExhausted = Code(8)
        public static let failedPrecondition = Code(9)
        public static let aborted = Code(10)
        public static let outOfRange = Code(11)
        public static let unimplemented = Code(12)
        public static let `internal` = Code(13)
        public static let unavailable = Code(14)
        public static let dataLoss = Code(15)
        public static let unauthenticated = Code(16)

        static let names = [
            "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
            "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
            "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS",
            "UNAUTHENTICATED",
        ]

        /// The name used on the wire and in logs, e.g. `INVALID_ARGUMENT`.
        public var description: String { Self.names[self.rawValue] }

        /// Every code, in number order.
        public static let all: [Code] = (0...16).map(Code.init)
    }

    /// Which input field is wrong, and why.
    public struct FieldViolation: Sendable, Hashable {
        /// A path in the request message, e.g. `fees[1].amount_fen`.
        public var field: String
        public var description: String

        public init(field: String, description: String) {
            self.field = field
            self.description = description
        }
    }

    public var code: Code
    /// Says what is wrong, in words a user can act on. Never database error text.
    public var message: String
    public var fieldViolations: [FieldViolation]
    /// Violations found but not kept in ``fieldViolations`` (past the cap of a status).
    public var omittedViolations: Int
    /// Added to the response's metadata (e.g. `retry-after-ms`).
    public var metadata: [String: String]

    /// The most field violations a status carries (docs/protocol.md): when there are more,
    /// the last one says how many were left out.
    public static let maximumFieldViolations = 100

    public init(
        _ code: Code,
        _ message: String,
        fieldViolations: [FieldViolation] = [],
        omittedViolations: Int = 0,
        metadata: [String: String] = [:]
    ) {
        self.code = code
        self.message = message
        self.fieldViolations = fieldViolations
        self.omittedViolations = omittedViolations
        self.metadata = metadata
    }

    /// INVALID_ARGUMENT with one violation per entry; `omitted` more were found and not kept.
    public static func invalidArgument(_ violations: [FieldViolation], omitted: Int = 0) -> RPCError {
        var fields = violations.prefix(5).map(\.field).joined(separator: ", ")
        let more = violations.count - 5 + omitted
        if more > 0 { fields += " and \(more) more" }
        return RPCError(.invalidArgument, "invalid request: check \(fields)", fieldViolations: violations, omittedViolations: omitted)
    }

    /// NOT_FOUND for a record of another party, in the words used for one that does not
    /// exist, so its existence is not disclosed (docs/protocol.md, `authorization`).
    public static func notFound(_ what: String) -> RPCError {
        RPCError(.notFound, "\(what) is not among the records this caller may see")
    }

    public var description: String {
        var text = "\(self.code): \(self.message)"
        for violation in self.fieldViolations {
            text += "\n  \(violation.field): \(violation.description)"
        }
        return text
    }
}

/// A domain error that knows which wire status it is.
public protocol RPCErrorConvertible: Error {
    var rpcError: RPCError { get }
}

extension RPCError: RPCErrorConvertible {
    public var rpcError: RPCError { self }
}

extension RPCError {
    /// The one mapping from any thrown error to a status a client sees.
    ///
    /// Errors that do not say what they are become INTERNAL with a generic message: their
    /// text may hold internals (SQL, paths) and is logged, never sent.
    public init(mapping error: any Error) {
        switch error {
        case let convertible as any RPCErrorConvertible:
            self = convertible.rpcError
        case is CancellationError:
            self = RPCError(.cancelled, "the request was cancelled")
        default:
            self = RPCError(.internal, "internal error; the server logged the details under this request-id")
        }
    }

    /// The status message of the envelope.
    public var wireStatus: Xcert_Wire_V1_Status {
        var status = Xcert_Wire_V1_Status()
        status.code = Xcert_Wire_V1_Code(rawValue: self.code.rawValue) ?? .unknown
        status.message = self.message
        status.fieldViolations = self.cappedFieldViolations.map {
            var violation = Xcert_Wire_V1_FieldViolation()
            violation.field = $0.field
            violation.description_p = $0.description
            return violation
        }
        return status
    }

    /// At most ``maximumFieldViolations``; when there are more, the last says how many
    /// were left out.
    var cappedFieldViolations: [FieldViolation] {
        let total = self.fieldViolations.count + self.omittedViolations
        guard total > Self.maximumFieldViolations else { return self.fieldViolations }
        let kept = Self.maximumFieldViolations - 1
        return Array(self.fieldViolations.prefix(kept)) + [
            FieldViolation(field: "(more)", description: "\(total - kept) more violations were left out; fix these and send again")
        ]
    }

    /// The error a client raises for a non-OK status it received.
    public init(wireStatus status: Xcert_Wire_V1_Status, metadata: [String: String] = [:]) {
        self.init(
            Code(rawValue: status.code.rawValue) ?? .unknown,
            status.message,
            fieldViolations: status.fieldViolations.map { FieldViolation(field: $0.field, description: $0.description_p) },
            metadata: metadata
        )
    }
}
