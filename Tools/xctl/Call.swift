import ArgumentParser
import Foundation
import SwiftProtobuf
import XCertAPI
import XCertProto
import XCertService
import XCertWire

/// `xctl call ADDR METHOD JSON`: like grpcurl, for every method in proto/.
struct Call: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Call a method with a JSON request and print the JSON response.",
        discussion: """
            The method's message types come from the server's Reflection; the request is
            read with protobuf's JSON mapping. On an error status it prints the code, the
            message and the field violations, and exits 1.

            Example: xctl call 127.0.0.1:7102 /xcert.reflection.v1.Reflection/ListMethods '{}'
            """
    )

    @Argument(help: "The server, host:port.") var address: String
    @Argument(help: "The full method name, /<package>.<Service>/<Method>.") var method: String
    @Argument(help: "The request as JSON ('-' reads standard input).") var json: String = "{}"
    @OptionGroup var credentials: Credentials
    @Option(name: .customLong("metadata"), help: "Extra metadata, key=value (repeatable).") var metadata: [String] = []
    @Option(help: "An idempotency-key for a mutating method.") var idempotencyKey: String?
    @Option(help: "The call's deadline in milliseconds.") var timeoutMs: Int = 30_000

    func run() async throws {
        let client = try makeClient(self.address, timeoutMs: self.timeoutMs)
        defer { Task { await client.close() } }
        let methods = try await Xcert_Reflection_V1_Reflection.Client(client).listMethods()
        guard let info = methods.methods.first(where: { $0.name == self.method }) else {
            // Let the server say so, in its own words (UNIMPLEMENTED).
            let response = try await client.call(self.method, payload: Data(), metadata: try self.credentials.metadata())
            if response.hasStatus, response.status.code != .ok { printError(RPCError(wireStatus: response.status)) }
            FileHandle.standardError.write(
                Data(("\(self.address) serves:\n  " + methods.methods.map(\.name).joined(separator: "\n  ") + "\n").utf8))
            throw ExitCode(1)
        }
        guard let requestType = XCertMessageTypes.byName[info.requestType],
            let responseType = XCertMessageTypes.byName[info.responseType]
        else {
            throw CLIError(
                """
                this xctl does not know the message types \(info.requestType) and \(info.responseType); use an xctl built from the same \
                proto/
                """
            )
        }
        let text = self.json == "-" ? String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self) : self.json
        let request: any SwiftProtobuf.Message
        do {
            request = try requestType.init(jsonString: text)
        } catch {
            throw CLIError("the JSON is not a valid \(info.requestType): \(error)")
        }
        var metadata = try self.credentials.metadata()
        for pair in self.metadata {
            guard let equals = pair.firstIndex(of: "=") else { throw ValidationError("--metadata takes key=value, not \(pair)") }
            metadata[pair[..<equals].lowercased()] = String(pair[pair.index(after: equals)...])
        }
        if let key = self.idempotencyKey { metadata["idempotency-key"] = key }
        let response = try await client.call(
            self.method, payload: try request.serializedData(), metadata: metadata, timeout: .milliseconds(self.timeoutMs)
        )
        if response.hasStatus, response.status.code != .ok {
            printError(RPCError(wireStatus: response.status))
            throw ExitCode(1)
        }
        let message = try responseType.init(serializedBytes: response.payload)
        var options = JSONEncodingOptions()
        options.alwaysPrintEnumsAsInts = false
        print(try message.jsonString(options: options))
    }
}

/// Where the bearer token comes from.
struct Credentials: ParsableArguments {
    @Option(help: "A bearer token (default: $XCERT_TOKEN, else the file of --token-file).") var token: String?
    @Option(help: "A file holding the bearer token.") var tokenFile: String = ".xcert/admin.token"

    func metadata() throws -> [String: String] {
        let environment = ProcessInfo.processInfo.environment
        if let token = self.token ?? environment["XCERT_TOKEN"] {
            return ["authorization": "Bearer \(token)"]
        }
        if let text = try? String(contentsOfFile: self.tokenFile, encoding: .utf8) {
            let token = text.trimmingCharacters(in: .whitespacesAndNewlines)
            if !token.isEmpty { return ["authorization": "Bearer \(token)"] }
        }
        return [:]
    }
}

/// A failure to report as one line, without the usage text.
struct CLIError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// A client of `address`; over TLS when `XCERT_TLS` says so or `XCERT_TLS_CA` is set
/// (``TLSEnvironment/tool(_:)``).
func makeClient(_ address: String, timeoutMs: Int) throws -> RPCClient {
    guard var configuration = RPCClientConfiguration(address: address) else {
        throw ValidationError("the address must be host:port, not \(address)")
    }
    configuration.defaultTimeout = .milliseconds(timeoutMs)
    configuration.connectTimeout = .milliseconds(min(timeoutMs, 3000))
    do {
        configuration.tls = try TLSEnvironment.tool(ProcessInfo.processInfo.environment)
    } catch {
        throw CLIError("\(error)")
    }
    return RPCClient(configuration: configuration)
}

func printError(_ error: RPCError) {
    var text = "\(error.code): \(error.message)\n"
    for violation in error.fieldViolations {
        text += "  \(violation.field): \(violation.description)\n"
    }
    FileHandle.standardError.write(Data(text.utf8))
}
