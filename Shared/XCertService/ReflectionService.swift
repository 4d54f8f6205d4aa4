import XCertProto
import XCertWire

/// `/xcert.reflection.v1.Reflection/ListMethods`: every method this process serves with
/// its message types, and the descriptor set of `proto/`. No authorization needed.
public struct ReflectionService: RPCService {
    public static let listMethods = "/xcert.reflection.v1.Reflection/ListMethods"

    private let response: Xcert_Reflection_V1_ListMethodsResponse

    /// `others` are the methods served beside reflection itself.
    public init(serviceName: String, others: [RPCMethod]) {
        var own = Xcert_Reflection_V1_MethodInfo()
        own.name = Self.listMethods
        own.requestType = Xcert_Reflection_V1_ListMethodsRequest.protoMessageName
        own.responseType = Xcert_Reflection_V1_ListMethodsResponse.protoMessageName
        let infos = others.map { method in
            var info = Xcert_Reflection_V1_MethodInfo()
            info.name = method.name
            info.requestType = method.requestType
            info.responseType = method.responseType
            info.mutating = method.isMutating
            return info
        }
        var response = Xcert_Reflection_V1_ListMethodsResponse()
        response.service = serviceName
        response.fileDescriptorSet = XCertDescriptorSet.serialized
        response.methods = (infos + [own]).sorted { $0.name < $1.name }
        self.response = response
    }

    public var methods: [RPCMethod] {
        let response = self.response
        return [
            .unary(Self.listMethods) { (_: Xcert_Reflection_V1_ListMethodsRequest, _) in response }
        ]
    }
}
