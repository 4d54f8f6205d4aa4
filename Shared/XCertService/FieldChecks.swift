import XCertDomain
import XCertWire

/// Collects every problem with a request's fields, so that one INVALID_ARGUMENT names
/// them all (docs/protocol.md: each bad field its own violation), then throws once.
public struct FieldChecks: Sendable {
    public private(set) var violations: [RPCError.FieldViolation] = []

    public init() {}

    /// Records a violation of `field` unless `condition` holds; returns `condition`.
    @discardableResult
    public mutating func require(_ condition: Bool, _ field: String, _ description: @autoclosure () -> String) -> Bool {
        if !condition { self.violations.append(.init(field: field, description: description())) }
        return condition
    }

    /// The years the pilot's records may name.
    public static let pilotYears = 2019...2100

    /// Records a violation of `field` unless `year` is one the pilot's records may name;
    /// `what` says which year it is ("a pilot year", "the evaluated year"). Returns whether it is.
    @discardableResult
    public mutating func requireYear(_ year: some BinaryInteger, _ field: String = "year", _ what: String = "a pilot year") -> Bool {
        self.require(
            Self.pilotYears.contains(Int(clamping: year)), field,
            "must be \(what), \(Self.pilotYears.lowerBound) to \(Self.pilotYears.upperBound); not \(year)")
    }

    /// Throws INVALID_ARGUMENT naming `field` unless `year` is one the pilot's records may
    /// name: ``requireYear(_:_:_:)`` for a request with no other field to check.
    public static func checkYear(_ year: some BinaryInteger, _ field: String = "year", _ what: String = "a pilot year") throws {
        var checks = FieldChecks()
        checks.requireYear(year, field, what)
        try checks.check()
    }

    /// Records a violation of `field`.
    public mutating func fail(_ field: String, _ description: String) {
        self.violations.append(.init(field: field, description: description))
    }

    public var isEmpty: Bool { self.violations.isEmpty }

    /// Throws INVALID_ARGUMENT with every violation, if there is any.
    public func check() throws {
        guard self.violations.isEmpty else { throw RPCError.invalidArgument(self.violations) }
    }

    /// Runs `body`, keeping the violations of an INVALID_ARGUMENT it throws (an ``RPCError``,
    /// or a rule's ``DomainError``); nil then.
    public mutating func collect<Value>(_ body: () throws -> Value) rethrows -> Value? {
        do {
            return try body()
        } catch let error as RPCError where error.code == .invalidArgument {
            self.violations += error.fieldViolations
            return nil
        } catch let error as DomainError where error.code == .invalidArgument {
            self.violations.append(.init(field: error.field ?? "", description: error.message))
            return nil
        }
    }
}
