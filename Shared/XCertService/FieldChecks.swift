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
