import Crypto
import Foundation
import XCertStore

/// The province as the issuer of certificates: its Ed25519 signing key and its identifier.
/// Certificates are W3C Verifiable Credentials 2.0 secured as a JWS (VC-JOSE-COSE: compact
/// serialization, header `alg` EdDSA, `typ` vc+jwt, `kid` the key's id), so that any JOSE
/// library can check them with the province's public key, published as a JWK.
public struct CertificateIssuer: Sendable {
    /// The province's 2-digit code (GB/T 2260).
    public let provinceCode: String
    /// `urn:xcert:issuer:<province code>`.
    public let id: String
    /// e.g. 江西省教育厅.
    public let name: String
    /// The key's id: the issuer's id and the first 16 hex digits of the public key's SHA-256.
    public let keyID: String
    private let key: Curve25519.Signing.PrivateKey
    /// The JWS header every credential of this issuer carries, base64url: made once, not per signature.
    private let encodedHeader: String

    /// - Parameter privateKey: the key's 32 bytes, base64.
    public init(provinceCode: String, provinceName: String, privateKey: String) throws {
        guard let raw = Data(base64Encoded: privateKey.trimmingCharacters(in: .whitespacesAndNewlines)), raw.count == 32 else {
            throw CredentialError("the issuer key must be an Ed25519 private key: 32 bytes, base64")
        }
        self.key = try Curve25519.Signing.PrivateKey(rawRepresentation: raw)
        self.provinceCode = provinceCode
        self.id = "urn:xcert:issuer:\(provinceCode)"
        self.name = provinceName.hasSuffix("教育厅") ? provinceName : provinceName + "教育厅"
        self.keyID = "\(self.id)#\(SHA256.hash(data: self.key.publicKey.rawRepresentation).lowercaseHex.prefix(16))"
        self.encodedHeader = Base64URL.encode(Data(CredentialJSON.text(["alg": "EdDSA", "typ": "vc+jwt", "kid": self.keyID]).utf8))
    }

    /// The issuer key of a service's environment: `XCERT_ISSUER_KEY` (base64) or the file
    /// named by `XCERT_ISSUER_KEY_FILE`; nil when neither is set.
    public static func privateKey(environment: [String: String]) throws -> String? {
        try EnvironmentSecret.value("XCERT_ISSUER_KEY", in: environment)
    }

    /// The public key as a JWK (RFC 8037), what verifiers are given.
    public var publicJWK: String {
        CredentialJSON.text([
            "kty": "OKP", "crv": "Ed25519", "kid": self.keyID, "x": Base64URL.encode(self.key.publicKey.rawRepresentation),
            "use": "sig", "alg": "EdDSA",
        ])
    }

    /// The credential `payload` (a JSON object) signed: a compact JWS.
    public func sign(_ payload: [String: any Sendable]) throws -> String {
        let input = self.encodedHeader + "." + Base64URL.encode(Data(CredentialJSON.text(payload).utf8))
        let signature = try self.key.signature(for: Data(input.utf8))
        return input + "." + Base64URL.encode(signature)
    }
}

/// What a credential says of its holder and certificate, and how it is checked.
public enum CertificateCredential {
    /// The VC 2.0 document of one certificate.
    public static func payload(
        issuer: CertificateIssuer, number: String, holderName: String, nationalIDMasked: String, holderSalt: Data?,
        holderDigest: Data?, certificateCode: String, certificateName: String, level: String, organization: String,
        examDate: String, issuedOn: String, status: [String: any Sendable]? = nil
    ) -> [String: any Sendable] {
        var subject: [String: any Sendable] = [
            "type": "VocationalSkillCertificateHolder", "name": holderName, "nationalIdMasked": nationalIDMasked,
            "certificateNumber": number, "certificateCode": certificateCode, "certificateName": certificateName, "level": level,
            "awardedBy": organization, "examDate": examDate,
        ]
        if let holderSalt, let holderDigest {
            // Holder binding: whoever is shown the ID checks SHA-256(salt ‖ ID) against it.
            subject["nationalIdSalt"] = Base64URL.encode(holderSalt)
            subject["nationalIdSha256"] = holderDigest.lowercaseHex
        }
        var credential: [String: any Sendable] = [
            "@context": ["https://www.w3.org/ns/credentials/v2"],
            "id": "urn:xcert:certificate:\(number)",
            "type": ["VerifiableCredential", "VocationalSkillLevelCertificate"],
            "issuer": ["id": issuer.id, "name": issuer.name] as [String: any Sendable],
            "validFrom": "\(issuedOn)T00:00:00+08:00",
            "name": "1+X职业技能等级证书",
            "credentialSubject": subject,
        ]
        if let status { credential["credentialStatus"] = status }
        return credential
    }

    /// How a credential failed, or what it says when it holds.
    public enum Verification: Sendable, Equatable {
        case valid(payload: String)
        case invalid(String)
    }

    /// Checks a compact JWS against the issuer's JWK: its form, header (EdDSA, vc+jwt, the
    /// key's id), signature, and that the issuer named inside is the key's.
    public static func verify(_ jws: String, jwk: String) -> Verification {
        // Trimmed and split on the UTF-8 view: Foundation's trimming took a seventh of a verification (B7).
        var text = Substring(jws)
        while text.first?.isWhitespace == true { text.removeFirst() }
        while text.last?.isWhitespace == true { text.removeLast() }
        let parts = text.utf8.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false).map { Substring($0) }
        guard parts.count == 3, let headerData = Base64URL.decode(String(parts[0])), let payloadData = Base64URL.decode(String(parts[1])),
            let signature = Base64URL.decode(String(parts[2]))
        else { return .invalid("not a compact JWS (three base64url parts)") }
        guard let key = CredentialJSON.parse(Data(jwk.utf8), as: CredentialJSON.Key.self), key.kty == "OKP", key.crv == "Ed25519",
            let x = key.x.flatMap(Base64URL.decode), let publicKey = try? Curve25519.Signing.PublicKey(rawRepresentation: x),
            let keyID = key.kid
        else { return .invalid("the issuer key is not an Ed25519 JWK") }
        guard let header = CredentialJSON.parse(headerData, as: CredentialJSON.Header.self), header.alg == "EdDSA", header.typ == "vc+jwt"
        else { return .invalid("the header is not alg EdDSA, typ vc+jwt") }
        guard header.kid == keyID else { return .invalid("signed with key \(header.kid ?? "none"), not \(keyID)") }
        guard publicKey.isValidSignature(signature, for: Data("\(parts[0]).\(parts[1])".utf8)) else {
            return .invalid("the signature does not match: the credential was changed or not signed by this issuer")
        }
        guard let issuerID = CredentialJSON.parse(payloadData, as: CredentialJSON.Credential.self)?.issuer?.id,
            keyID.hasPrefix(issuerID + "#")
        else { return .invalid("the credential names another issuer than the key's") }
        return .valid(payload: String(decoding: payloadData, as: UTF8.self))
    }

    /// The credential subject's text fields of a verified payload.
    public static func subject(of payload: String) -> [String: String] {
        let credential = CredentialJSON.parse(Data(payload.utf8), as: CredentialJSON.Credential.self)
        return credential?.credentialSubject?.compactMapValues(\.value) ?? [:]
    }

    /// Whether `nationalID` is the holder's, by the salted digest the payload carries.
    public static func holds(_ payload: String, nationalID: String) -> Bool {
        let subject = self.subject(of: payload)
        guard let salt = subject["nationalIdSalt"].flatMap(Base64URL.decode), let digest = subject["nationalIdSha256"] else { return false }
        return holderDigest(salt: salt, nationalID: nationalID).lowercaseHex == digest
    }

    /// SHA-256 of the salt and the ID's characters (UTF-8, a lowercase x made uppercase).
    public static func holderDigest(salt: Data, nationalID: String) -> Data {
        Data(SHA256.hash(data: salt + Data(nationalID.uppercased().utf8)))
    }

    /// The ID as the national platform shows it: its first and last four characters.
    public static func masked(first4: String, last4: String, length: Int = 18) -> String {
        first4 + String(repeating: "*", count: max(0, length - 8)) + last4
    }
}

public struct CredentialError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Base64url without padding (RFC 7515 §2).
public enum Base64URL {
    /// `data` in base64url without padding (RFC 4648 §5), byte by byte: Foundation's
    /// `replacingOccurrences` over the base64 text took most of a credential's signing (B6).
    public static func encode(_ data: Data) -> String {
        var bytes = Array(data.base64EncodedString().utf8)
        while bytes.last == UInt8(ascii: "=") { bytes.removeLast() }
        for index in bytes.indices {
            switch bytes[index] {
            case UInt8(ascii: "+"): bytes[index] = UInt8(ascii: "-")
            case UInt8(ascii: "/"): bytes[index] = UInt8(ascii: "_")
            default: break
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The bytes of base64url text without padding; nil when it is not that.
    public static func decode(_ text: String) -> Data? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count + 3)
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                bytes.append(byte)
            case UInt8(ascii: "-"): bytes.append(UInt8(ascii: "+"))
            case UInt8(ascii: "_"): bytes.append(UInt8(ascii: "/"))
            default: return nil
            }
        }
        bytes += Array(repeating: UInt8(ascii: "="), count: (4 - bytes.count % 4) % 4)
        return Data(base64Encoded: Data(bytes))
    }
}

/// JSON text with sorted keys and unescaped slashes: the same object always gives the same bytes.
enum CredentialJSON {
    /// `object` as JSON text: keys sorted, non-ASCII characters and slashes as they are.
    /// Written here rather than by JSONSerialization, which took about 0.9 ms of each
    /// credential, 30 times its signature (B6); what a payload is built from: strings,
    /// integers, booleans, arrays and string-keyed dictionaries of them.
    static func text(_ object: [String: any Sendable]) -> String {
        var text = ""
        text.reserveCapacity(1024)
        self.write(object, into: &text)
        return text
    }

    private static func write(_ value: any Sendable, into text: inout String) {
        switch value {
        case let string as String:
            self.write(string: string, into: &text)
        case let flag as Bool:
            text += flag ? "true" : "false"
        case let number as Int:
            text += String(number)
        case let object as [String: any Sendable]:
            text += "{"
            for (offset, member) in object.sorted(by: { $0.key < $1.key }).enumerated() {
                if offset > 0 { text += "," }
                self.write(string: member.key, into: &text)
                text += ":"
                self.write(member.value, into: &text)
            }
            text += "}"
        case let array as [any Sendable]:
            text += "["
            for (offset, element) in array.enumerated() {
                if offset > 0 { text += "," }
                self.write(element, into: &text)
            }
            text += "]"
        default:
            text += "null"
        }
    }

    /// A JSON string (RFC 8259 §7): `"` and `\` escaped, control characters as `\u00XX`.
    private static func write(string: String, into text: inout String) {
        guard string.utf8.contains(where: { $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") || $0 < 0x20 }) else {
            text += "\""
            text += string
            text += "\""
            return
        }
        text += "\""
        for scalar in string.unicodeScalars {
            switch scalar {
            case "\"": text += "\\\""
            case "\\": text += "\\\\"
            case "\n": text += "\\n"
            case "\r": text += "\\r"
            case "\t": text += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                text += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: text.unicodeScalars.append(scalar)
            }
        }
        text += "\""
    }

    /// The fields of `data` as `Fields`; nil when it is not such JSON. Decoded by
    /// JSONDecoder into the few fields a check reads (JSONSerialization took most of a
    /// verification's time, B7).
    static func parse<Fields: Decodable>(_ data: Data, as _: Fields.Type = Fields.self) -> Fields? {
        try? JSONDecoder().decode(Fields.self, from: data)
    }

    /// A JWK's fields that a verifier reads.
    struct Key: Decodable {
        var kty: String?
        var crv: String?
        var x: String?
        var kid: String?
    }

    /// A JWS header's fields.
    struct Header: Decodable {
        var alg: String?
        var typ: String?
        var kid: String?
    }

    /// A credential's fields that its checks read: its issuer, its subject's text fields,
    /// its status entry, its id.
    struct Credential: Decodable {
        struct Issuer: Decodable {
            var id: String?
        }
        var id: String?
        var issuer: Issuer?
        var credentialSubject: [String: Text]?
        var credentialStatus: [String: Text]?
    }

    /// A member's value when it is a string; nil when it is anything else.
    struct Text: Decodable {
        var value: String?
        init(from decoder: any Decoder) throws {
            self.value = try? decoder.singleValueContainer().decode(String.self)
        }
    }
}

/// A W3C Bitstring Status List (revocation): one bit per certificate's status index, set
/// when revoked, GZIP-compressed and multibase base64url-encoded (`u…`) in a credential the
/// issuer signs like the certificates.
public enum CertificateStatusList {
    /// Entries per list: the specification's minimum, 16 KiB of bits.
    public static let size = 131_072

    /// The list's id: `urn:xcert:status:<province code>:<list number>`.
    public static func id(issuer: CertificateIssuer, list: Int) -> String {
        "urn:xcert:status:\(issuer.provinceCode):\(list)"
    }

    /// What a certificate's credential says of its status.
    public static func entry(issuer: CertificateIssuer, index: Int) -> [String: any Sendable] {
        let list = self.id(issuer: issuer, list: index / self.size)
        return [
            "id": "\(list)#\(index % self.size)", "type": "BitstringStatusListEntry", "statusPurpose": "revocation",
            "statusListIndex": String(index % self.size), "statusListCredential": list,
        ]
    }

    /// The status list credential of list `list` with the positions `revoked` set.
    public static func payload(issuer: CertificateIssuer, list: Int, revoked: [Int], validFrom: String) -> [String: any Sendable] {
        var bits = [UInt8](repeating: 0, count: self.size / 8)
        for position in revoked where (0..<self.size).contains(position) {
            bits[position / 8] |= 0x80 >> UInt8(position % 8)
        }
        let id = self.id(issuer: issuer, list: list)
        return [
            "@context": ["https://www.w3.org/ns/credentials/v2"], "id": id,
            "type": ["VerifiableCredential", "BitstringStatusListCredential"],
            "issuer": ["id": issuer.id, "name": issuer.name] as [String: any Sendable], "validFrom": validFrom,
            "credentialSubject": [
                "id": "\(id)#list", "type": "BitstringStatusList", "statusPurpose": "revocation",
                "encodedList": "u" + Base64URL.encode(GZip.stored(Data(bits))),
            ] as [String: any Sendable],
        ]
    }

    /// Whether the certificate whose verified payload is `certificate` is revoked by the
    /// verified status list payload `list`; nil when the list is not the one it names.
    public static func isRevoked(certificate: String, list: String) -> Bool? {
        let status = CredentialJSON.parse(Data(certificate.utf8), as: CredentialJSON.Credential.self)?.credentialStatus
        let listCredential = CredentialJSON.parse(Data(list.utf8), as: CredentialJSON.Credential.self)
        guard let listID = status?["statusListCredential"]?.value, let index = status?["statusListIndex"]?.value.flatMap(Int.init),
            listCredential?.id == listID, let encoded = listCredential?.credentialSubject?["encodedList"]?.value,
            encoded.hasPrefix("u"), let compressed = Base64URL.decode(String(encoded.dropFirst())), let bits = GZip.unstored(compressed),
            index >= 0, index / 8 < bits.count
        else { return nil }
        return bits[bits.startIndex + index / 8] & (0x80 >> UInt8(index % 8)) != 0
    }
}

/// GZIP (RFC 1952) with stored deflate blocks (RFC 1951 §3.2.4): any gunzip reads it. A
/// status list is mostly zeros; stored, it is 16 KiB, which is small enough to send as is.
enum GZip {
    static func stored(_ data: Data) -> Data {
        var out = Data([0x1F, 0x8B, 0x08, 0x00, 0, 0, 0, 0, 0x00, 0xFF])
        var offset = 0
        repeat {
            let length = min(65_535, data.count - offset)
            let last: UInt8 = offset + length >= data.count ? 1 : 0
            out.append(last)
            out.append(contentsOf: [UInt8(length & 0xFF), UInt8(length >> 8), UInt8(~length & 0xFF), UInt8((~length >> 8) & 0xFF)])
            out.append(data[data.startIndex + offset..<data.startIndex + offset + length])
            offset += length
        } while offset < data.count
        for value in [CRC32.checksum(data), UInt32(truncatingIfNeeded: data.count)] {
            out.append(contentsOf: (0..<4).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) })
        }
        return out
    }

    /// The data of a GZIP member made of stored blocks (what ``stored(_:)`` writes); nil for
    /// anything else, or when its checksum does not match.
    static func unstored(_ gzip: Data) -> Data? {
        let bytes = [UInt8](gzip)
        guard bytes.count >= 18, bytes[0] == 0x1F, bytes[1] == 0x8B, bytes[2] == 0x08, bytes[3] == 0 else { return nil }
        var position = 10
        var out = Data()
        while true {
            guard position + 5 <= bytes.count, bytes[position] & 0x06 == 0 else { return nil }
            let last = bytes[position] & 1 == 1
            let length = Int(bytes[position + 1]) | Int(bytes[position + 2]) << 8
            let complement = Int(bytes[position + 3]) | Int(bytes[position + 4]) << 8
            guard length == ~complement & 0xFFFF, position + 5 + length <= bytes.count else { return nil }
            out.append(contentsOf: bytes[(position + 5)..<(position + 5 + length)])
            position += 5 + length
            if last { break }
        }
        guard position + 8 <= bytes.count else { return nil }
        let crc = (0..<4).reduce(UInt32(0)) { $0 | UInt32(bytes[position + $1]) << (8 * UInt32($1)) }
        return crc == CRC32.checksum(out) ? out : nil
    }
}

/// CRC-32 (ISO 3309, as GZIP uses it).
enum CRC32 {
    private static let table: [UInt32] = (0..<256).map { byte in
        (0..<8).reduce(UInt32(byte)) { crc, _ in crc & 1 == 1 ? 0xEDB8_8320 ^ (crc >> 1) : crc >> 1 }
    }

    static func checksum(_ data: Data) -> UInt32 {
        ~data.reduce(~UInt32(0)) { crc, byte in self.table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
    }
}
