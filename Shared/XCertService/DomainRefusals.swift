import XCertDomain
import XCertWire

/// The one mapping of a rule's refusal to the status a client sees: INVALID_ARGUMENT,
/// FAILED_PRECONDITION, ALREADY_EXISTS or PERMISSION_DENIED, naming the field when the rule names one.
extension DomainError: RPCErrorConvertible {
    public var rpcError: RPCError {
        let violations = self.field.map { [RPCError.FieldViolation(field: $0, description: self.message)] } ?? []
        switch self.code {
        case .invalidArgument where !violations.isEmpty:
            return RPCError.invalidArgument(violations)
        case .invalidArgument:
            return RPCError(.invalidArgument, self.message)
        case .alreadyExists:
            return RPCError(.alreadyExists, self.message, fieldViolations: violations)
        case .permissionDenied:
            return RPCError(.permissionDenied, self.message, fieldViolations: violations)
        default:
            return RPCError(.failedPrecondition, self.message, fieldViolations: violations)
        }
    }
}
