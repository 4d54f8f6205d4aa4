import Crypto
import Foundation
import XCertDomain
import XCertService
import XCertStore

/// Keeps a candidate's full national ID number encrypted at rest, for the one export that
/// needs it (the credit bank's learning-outcome records): AES-256-GCM under the key the
/// province configures in `XCERT_ID_ENCRYPTION_KEY` or the file named by
/// `XCERT_ID_ENCRYPTION_KEY_FILE` (32 bytes, base64). The keyed HMAC
/// (``NationalIDHasher``) still does all matching; this key only opens numbers for export.
///
/// A sealed number is `01 ‖ key id (4 bytes) ‖ nonce (12) ‖ ciphertext ‖ tag (16)`: the key id
/// (the first four bytes of the key's SHA-256) names the key it needs, and the roster row's
/// HMAC is the authenticated data, so a sealed number moved to another person's row does
/// not open.
struct NationalIDSealer: Sendable {
    private static let format: UInt8 = 1
    private let key: SymmetricKey
    /// The first four bytes of the key's SHA-256: which key a sealed number needs.
    let keyID: Data

    /// - Parameter base64: the key's 32 bytes, base64.
    init(base64: String) throws {
        guard let raw = Data(base64Encoded: base64.trimmingCharacters(in: .whitespacesAndNewlines)), raw.count == 32 else {
            throw NationalIDKeyError("the ID encryption key must be 32 bytes (AES-256), base64: e.g. head -c 32 /dev/urandom | base64")
        }
        self.key = SymmetricKey(data: raw)
        self.keyID = Data(SHA256.hash(data: raw).prefix(4))
    }

    /// The sealer of the environment's key.
    init(environment: [String: String]) throws {
        guard let key = try EnvironmentSecret.value("XCERT_ID_ENCRYPTION_KEY", in: environment) else {
            throw NationalIDKeyError(
                """
                set XCERT_ID_ENCRYPTION_KEY or XCERT_ID_ENCRYPTION_KEY_FILE (32 bytes, base64): rosters keep full national ID \
                numbers only encrypted, for the credit bank's export
                """)
        }
        try self.init(base64: key)
    }

    /// `id` sealed for the row whose HMAC is `hmac`.
    func seal(_ id: NationalID, boundTo hmac: Data) throws -> Data {
        let box = try AES.GCM.seal(Data(id.value.utf8), using: self.key, authenticating: hmac)
        guard let combined = box.combined else { throw NationalIDKeyError("AES-GCM gave no combined box") }
        return Data([Self.format]) + self.keyID + combined
    }

    /// The number sealed in `sealed` for the row whose HMAC is `hmac`.
    /// - Throws: ``SealedIDError`` when it was sealed under another key, or does not open.
    func open(_ sealed: Data, boundTo hmac: Data) throws -> String {
        let bytes = [UInt8](sealed)
        guard bytes.count > 5 + 12 + 16, bytes[0] == Self.format else { throw SealedIDError(.malformed) }
        let keyID = Data(bytes[1..<5])
        guard keyID == self.keyID else { throw SealedIDError(.otherKey(keyID.lowercaseHex)) }
        do {
            let box = try AES.GCM.SealedBox(combined: Data(bytes[5...]))
            let plain = try AES.GCM.open(box, using: self.key, authenticating: hmac)
            guard let text = String(data: plain, encoding: .utf8) else { throw SealedIDError(.malformed) }
            return text
        } catch let error as SealedIDError {
            throw error
        } catch {
            throw SealedIDError(.doesNotOpen)
        }
    }
}

/// A sealed national ID that the configured key cannot open.
struct SealedIDError: Error, Equatable, CustomStringConvertible {
    enum Reason: Equatable {
        case malformed
        /// Sealed under the key with this id (hex), not the configured one.
        case otherKey(String)
        /// The key is right, but the box or the row it is bound to was changed.
        case doesNotOpen
    }

    let reason: Reason
    init(_ reason: Reason) { self.reason = reason }

    var description: String {
        switch self.reason {
        case .malformed: "the sealed ID is not in XCert's format"
        case .otherKey(let id): "the ID was sealed under the key with id \(id), not the configured XCERT_ID_ENCRYPTION_KEY"
        case .doesNotOpen: "the sealed ID does not open: it, or the roster row it belongs to, was changed"
        }
    }
}
