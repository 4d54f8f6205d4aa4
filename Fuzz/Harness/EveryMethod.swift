import SwiftProtobuf
import XCertProto
import XCertWire

/// Every rpc of `proto/`, read from the service definitions in ``XCertDescriptorSet`` and
/// typed by ``XCertMessageTypes``: the method table the wire fuzzer dispatches through.
///
/// The services' own tables live in their executables, which cannot be imported; this one
/// holds every method any of them may serve, each with its real request type, so a new rpc
/// is fuzzed as soon as `scripts/gen-proto` has run. Its handlers are never called.
public enum EveryMethod {
    /// One rpc as `proto/` declares it.
    public struct Declaration: Sendable, Hashable {
        /// `/<proto package>.<Service>/<Method>`.
        public let name: String
        /// Fully qualified request message name, without the leading dot.
        public let requestType: String
        /// Fully qualified response message name, without the leading dot.
        public let responseType: String
    }

    /// Every rpc, sorted by name.
    public static let declarations: [Declaration] = {
        var declarations: [Declaration] = []
        for file in ProtoIndex.shared.files {
            for service in file.service {
                for method in service.method {
                    declarations.append(
                        Declaration(
                            name: "/\(file.package).\(service.name)/\(method.name)",
                            requestType: ProtoIndex.typeName(method.inputType),
                            responseType: ProtoIndex.typeName(method.outputType)
                        ))
                }
            }
        }
        return declarations.sorted { $0.name < $1.name }
    }()

    /// Every rpc as an ``RPCMethod`` of its generated request and response types.
    public static let table: MethodTable = {
        var table = MethodTable()
        table.register(EveryMethod.declarations.map(EveryMethod.method))
        return table
    }()

    private static func method(_ declaration: Declaration) -> RPCMethod {
        guard let request = XCertMessageTypes.byName[declaration.requestType],
            let response = XCertMessageTypes.byName[declaration.responseType]
        else {
            preconditionFailure(
                "\(declaration.name): no generated type for \(declaration.requestType) or "
                    + "\(declaration.responseType); run scripts/gen-proto"
            )
        }
        return unanswered(declaration.name, request: request, response: response)
    }

    /// A method of these types whose handler only refuses: the fuzzer stops at the parse.
    private static func unanswered<Request: SwiftProtobuf.Message>(
        _ name: String,
        request _: Request.Type,
        response: any SwiftProtobuf.Message.Type
    ) -> RPCMethod {
        func typed<Response: SwiftProtobuf.Message>(_: Response.Type) -> RPCMethod {
            .unary(name) { (_: Request, _: RequestContext) async throws -> Response in
                throw RPCError(.unimplemented, "\(name) has no handler in the fuzzing table")
            }
        }
        return typed(response)
    }
}

/// The messages, enums and services of ``XCertDescriptorSet``, by full name.
struct ProtoIndex: Sendable {
    static let shared = ProtoIndex()

    let files: [Google_Protobuf_FileDescriptorProto]
    /// Keyed by full name without the leading dot, nested types included.
    let messages: [String: Google_Protobuf_DescriptorProto]
    let enums: [String: Google_Protobuf_EnumDescriptorProto]

    private init() {
        let set: Google_Protobuf_FileDescriptorSet
        do {
            set = try Google_Protobuf_FileDescriptorSet(serializedBytes: XCertDescriptorSet.serialized)
        } catch {
            preconditionFailure("XCertDescriptorSet does not parse: \(error)")
        }
        var messages: [String: Google_Protobuf_DescriptorProto] = [:]
        var enums: [String: Google_Protobuf_EnumDescriptorProto] = [:]
        func add(_ message: Google_Protobuf_DescriptorProto, scope: String) {
            let name = "\(scope).\(message.name)"
            messages[name] = message
            for nested in message.nestedType { add(nested, scope: name) }
            for nested in message.enumType { enums["\(name).\(nested.name)"] = nested }
        }
        for file in set.file {
            for message in file.messageType { add(message, scope: file.package) }
            for nested in file.enumType { enums["\(file.package).\(nested.name)"] = nested }
        }
        self.files = set.file
        self.messages = messages
        self.enums = enums
    }

    /// `.xcert.health.v1.HealthCheckRequest` → `xcert.health.v1.HealthCheckRequest`.
    static func typeName(_ reference: String) -> String {
        reference.hasPrefix(".") ? String(reference.dropFirst()) : reference
    }
}
