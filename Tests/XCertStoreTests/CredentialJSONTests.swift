import Foundation
import Testing

@testable import XCertService

@Suite("Credentials' JSON: written with sorted keys and escaped as RFC 8259 says; read field by field")
struct CredentialJSONTests {
    @Test("a payload with quotes, backslashes, control characters and Chinese reads back the same through JSONSerialization")
    func writtenAndRead() throws {
        let payload: [String: any Sendable] = [
            "name": "王\"小\\明\n\t\u{1}", "type": ["VerifiableCredential", "X"], "n": 7, "yes": true,
            "issuer": ["id": "urn:xcert:issuer:36", "name": "江西省教育厅"] as [String: any Sendable], "url": "https://a/b",
        ]
        let text = CredentialJSON.text(payload)
        #expect(text.hasPrefix(#"{"issuer":{"id":"urn:xcert:issuer:36","name":"江西省教育厅"},"n":7,"name":"王\"小\\明\n\t\u0001""#))
        #expect(text.contains(#""url":"https://a/b""#) && text.hasSuffix(#""yes":true}"#))
        let read = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        #expect(read["name"] as? String == "王\"小\\明\n\t\u{1}" && read["type"] as? [String] == ["VerifiableCredential", "X"])
        let fields = try #require(CredentialJSON.parse(Data(text.utf8), as: CredentialJSON.Credential.self))
        #expect(fields.issuer?.id == "urn:xcert:issuer:36")
        #expect(CredentialJSON.parse(Data("not json".utf8), as: CredentialJSON.Header.self) == nil)
    }
}
