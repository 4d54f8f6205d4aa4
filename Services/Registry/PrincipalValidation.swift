import Foundation
import XCertProto
import XCertService
import XCertWire

/// The checks of principal input, each failure its own field violation.
enum PrincipalValidation {
    static let serviceNames: Set<String> = ["registry", "filing", "assessment", "settlement"]

    /// The trimmed name, the role and the party of a new principal.
    static func validate(_ request: Xcert_Registry_V1_CreatePrincipalRequest) throws -> (String, Principal.Role, String?) {
        var violations: [RPCError.FieldViolation] = []
        let name = request.name.trimmingCharacters(in: .whitespacesAndNewlines)
        if name.isEmpty || name.count > 200 {
            violations.append(.init(field: "name", description: "must be 1 to 200 characters"))
        }
        var role: Principal.Role?
        do {
            role = try self.role(request.role, field: "role")
        } catch let error as RPCError {
            violations += error.fieldViolations
        }
        let party = request.party.trimmingCharacters(in: .whitespacesAndNewlines)
        if let role, let problem = self.partyProblem(party, for: role) {
            violations.append(.init(field: "party", description: problem))
        }
        guard violations.isEmpty, let role else { throw RPCError.invalidArgument(violations) }
        return (name, role, party.isEmpty ? nil : party)
    }

    /// What is wrong with `party` for `role`, or nil.
    static func partyProblem(_ party: String, for role: Principal.Role) -> String? {
        let digits = !party.isEmpty && party.allSatisfy { $0.isASCII && $0.isNumber }
        switch role {
        case .provinceAdmin:
            return party.isEmpty ? nil : "must be empty for a province admin"
        case .cityReviewer:
            return digits && party.count == 6
                ? nil : "must be the 6-digit code of the reviewing unit it acts for: a city's, e.g. 360100, or a designated bureau's"
        case .school:
            return digits && party.count == 10 ? nil : "must be the school's 10-digit national code, e.g. 4136010001"
        case .organization:
            return Int64(party).map { $0 > 0 } == true ? nil : "must be the organization's id, a positive number"
        case .service:
            return self.serviceNames.contains(party) ? nil : "must be one of registry, filing, assessment, settlement"
        default:
            return "unknown role"
        }
    }

    static func role(_ role: Xcert_Registry_V1_Role, field: String) throws -> Principal.Role {
        guard let role = Principal.Role(wire: role) else {
            throw RPCError.invalidArgument([
                .init(
                    field: field,
                    description: "must be a role: ROLE_PROVINCE_ADMIN, ROLE_CITY_REVIEWER, ROLE_SCHOOL, ROLE_ORGANIZATION or ROLE_SERVICE")
            ])
        }
        return role
    }
}
