import ArgumentParser
import Foundation
import SwiftProtobuf
import XCertAPI
import XCertProto
import XCertService
import XCertWire

/// Options of the commands that call one service: where it is, the credentials, the
/// deadline. ``call(_:_:idempotencyKey:explaining:)`` is the one way such a command calls.
protocol ServiceOptions: ParsableArguments {
    /// The service's `host:port`.
    var address: String { get }
    var credentials: Credentials { get }
    var timeoutMs: Int { get }
}

extension ServiceOptions {
    /// Calls `method` (a generated descriptor of `XCertAPI`) of the service; an error status
    /// is printed (code, message, field violations, after `explaining` rewrites them for the
    /// reader) and exits 1.
    func call<Request: SwiftProtobuf.Message, Response: SwiftProtobuf.Message>(
        _ method: MethodDescriptor<Request, Response>, _ request: Request, idempotencyKey: String? = nil,
        explaining: (RPCError) -> RPCError = { $0 }
    ) async throws -> Response {
        try await callService(
            address: self.address, method, request, credentials: self.credentials, timeoutMs: self.timeoutMs,
            idempotencyKey: idempotencyKey, explaining: explaining
        )
    }
}

/// Calls `method` of the service at `address`; an error status is printed (code, message,
/// field violations, after `explaining` rewrites them for the reader) and exits 1.
func callService<Request: SwiftProtobuf.Message, Response: SwiftProtobuf.Message>(
    address: String, _ method: MethodDescriptor<Request, Response>, _ request: Request, credentials: Credentials, timeoutMs: Int,
    idempotencyKey: String? = nil, explaining: (RPCError) -> RPCError = { $0 }
) async throws -> Response {
    let client = try makeClient(address, timeoutMs: timeoutMs)
    defer { Task { await client.close() } }
    let options = CallOptions(idempotencyKey: idempotencyKey, metadata: try credentials.metadata())
    do {
        return try await client.unary(method, request, options: options)
    } catch let error as RPCError {
        printError(explaining(error))
        throw ExitCode(1)
    }
}

/// Options shared by the commands that call the registry.
struct RegistryOptions: ServiceOptions {
    @Option(help: "The registry, host:port.") var registry: String = "127.0.0.1:7101"
    @OptionGroup var credentials: Credentials
    @Option(help: "The call's deadline in milliseconds.") var timeoutMs: Int = 30_000

    var address: String { self.registry }
}

extension Admin {
    struct PrincipalCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "principal",
            abstract: "Who may call: create and list principals.",
            subcommands: [Create.self, List.self]
        )

        struct Create: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Create a principal; prints its id.")
            @Option(help: "province_admin, city_reviewer, school, organization or service.") var role: String
            @Option(help: "Its name, e.g. the school's or the officer's.") var name: String
            @Option(help: "Whom it acts for: city code, school code, organization id or service name.") var party: String = ""
            @Option(help: "An idempotency-key, so that a retry creates nothing twice.") var idempotencyKey: String?
            @OptionGroup var options: RegistryOptions

            func run() async throws {
                var request = Xcert_Registry_V1_CreatePrincipalRequest()
                request.name = self.name
                request.role = try wireRole(self.role)
                request.party = self.party
                let principal = try await self.options.call(
                    Xcert_Registry_V1_PrincipalService.Method.createPrincipal, request, idempotencyKey: self.idempotencyKey)
                print(
                    """
                    created principal \(principal.id): \(principal.name) \
                    (\(roleName(principal.role))\(principal.party.isEmpty ? "" : " of \(principal.party)"))
                    """
                )
            }
        }

        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "List principals, every page.")
            @Option(help: "Only this role.") var role: String?
            @OptionGroup var options: RegistryOptions

            func run() async throws {
                var request = Xcert_Registry_V1_ListPrincipalsRequest()
                if let role = self.role { request.role = try wireRole(role) }
                print("id\trole\tparty\tname")
                repeat {
                    let page = try await self.options.call(Xcert_Registry_V1_PrincipalService.Method.listPrincipals, request)
                    for principal in page.principals {
                        print("\(principal.id)\t\(roleName(principal.role))\t\(principal.party)\t\(principal.name)")
                    }
                    request.page.pageToken = page.page.nextPageToken
                } while !request.page.pageToken.isEmpty
            }
        }
    }

    struct TokenCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "token",
            abstract: "Bearer tokens: create (shown once), revoke, list.",
            subcommands: [Create.self, Revoke.self, List.self]
        )

        struct Create: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Create a token for a principal and print it once; only its SHA-256 is kept.")
            @Option(help: "The principal's id.") var principal: Int64
            @Option(help: "What it is for.") var label: String = ""
            @Option(help: "Days until it expires (0: never).") var validDays: Int32 = 0
            @OptionGroup var options: RegistryOptions

            func run() async throws {
                var request = Xcert_Registry_V1_CreateTokenRequest()
                request.principalID = self.principal
                request.label = self.label
                request.validDays = self.validDays
                let response = try await self.options.call(Xcert_Registry_V1_PrincipalService.Method.createToken, request)
                print(response.token)
                FileHandle.standardError.write(
                    Data("token \(response.info.id) for principal \(response.info.principalID); shown this once, store it safely\n".utf8))
            }
        }

        struct Revoke: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Revoke a token; every service refuses it within 5 seconds.")
            @Argument(help: "The token's id.") var id: Int64
            @Option(help: "Why (kept in the registry's log).") var reason: String = ""
            @OptionGroup var options: RegistryOptions

            func run() async throws {
                var request = Xcert_Registry_V1_RevokeTokenRequest()
                request.tokenID = self.id
                request.reason = self.reason
                let token = try await self.options.call(Xcert_Registry_V1_PrincipalService.Method.revokeToken, request)
                print("revoked token \(token.id) of principal \(token.principalID)")
            }
        }

        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "List tokens (never the tokens themselves), every page.")
            @Option(help: "Only this principal's.") var principal: Int64 = 0
            @Flag(help: "Include revoked tokens.") var includeRevoked = false
            @OptionGroup var options: RegistryOptions

            func run() async throws {
                var request = Xcert_Registry_V1_ListTokensRequest()
                request.principalID = self.principal
                request.includeRevoked = self.includeRevoked
                print("id\tprincipal\tcreated\texpires\trevoked\tlabel")
                repeat {
                    let page = try await self.options.call(Xcert_Registry_V1_PrincipalService.Method.listTokens, request)
                    for token in page.tokens {
                        let expires = token.hasExpiresAt ? shanghaiTime(token.expiresAt) : "never"
                        let revoked = token.hasRevokedAt ? shanghaiTime(token.revokedAt) : "-"
                        print("\(token.id)\t\(token.principalID)\t\(shanghaiTime(token.createdAt))\t\(expires)\t\(revoked)\t\(token.label)")
                    }
                    request.page.pageToken = page.page.nextPageToken
                } while !request.page.pageToken.isEmpty
            }
        }
    }
}

private func wireRole(_ text: String) throws -> Xcert_Registry_V1_Role {
    guard let role = Principal.Role(rawValue: text.lowercased()) else {
        throw CLIError("--role must be province_admin, city_reviewer, school, organization or service, not \(text)")
    }
    return role.wire
}

private func roleName(_ role: Xcert_Registry_V1_Role) -> String {
    Principal.Role(wire: role)?.rawValue ?? "unspecified"
}
