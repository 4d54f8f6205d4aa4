import XCertAPI
import XCertProto
import XCertWire

/// `/xcert.reflection.v1.Reflection/ListMethods`: every method this process serves with
/// its message types and declared contract, and the descriptor set of `proto/`. Public.
public struct ReflectionService: Xcert_Reflection_V1_Reflection.Handler {
    private var response: Xcert_Reflection_V1_ListMethodsResponse

    /// `others` are the methods served beside reflection itself.
    public init(serviceName: String, others: [RPCMethod]) {
        var response = Xcert_Reflection_V1_ListMethodsResponse()
        response.service = serviceName
        response.fileDescriptorSet = XCertDescriptorSet.serialized
        self.response = response
        // Its own method as the protocol serves it, beside the others.
        let infos = (others + self.methods).map { method in
            var info = Xcert_Reflection_V1_MethodInfo()
            info.name = method.name
            info.requestType = method.requestType
            info.responseType = method.responseType
            info.mutating = method.isMutating
            info.public = method.contract.isPublic
            info.roles = method.contract.roles.map(\.rawValue).sorted()
            info.limitClass = method.contract.limitClass.rawValue
            return info
        }
        self.response.methods = infos.sorted { $0.name < $1.name }
    }

    public func listMethods(
        _ request: Xcert_Reflection_V1_ListMethodsRequest,
        _ call: RequestContext
    ) async throws -> Xcert_Reflection_V1_ListMethodsResponse {
        self.response
    }
}
