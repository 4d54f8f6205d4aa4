import Crypto
import Foundation
import SwiftProtobuf
import XCertDomain
import XCertProto
import XCertService
import XCertStore

/// Keeps national ID numbers out of the database: a keyed HMAC-SHA256 matches the same
/// person across rosters, and only the last four characters are kept for display. The key
/// comes from `XCERT_NATIONAL_ID_KEY` or the file named by `XCERT_NATIONAL_ID_KEY_FILE`
/// (at least 32 characters); without the key, numbers in a stolen copy of the database
/// cannot be confirmed by hashing guesses. A roster chunk's identity is keyed the same
/// way (``chunkDigest(_:)``): a plain hash of a one-row chunk would confirm its number.
struct NationalIDHasher: Sendable {
    /// An HMAC with the key already absorbed, copied for each number: keying it anew
    /// for each of a chunk's 5,000 numbers was a third of their hashing (B3).
    private let keyed: HMAC<SHA256>

    init(secret: String) throws {
        guard secret.utf8.count >= 32 else {
            throw NationalIDKeyError("the national ID key must be at least 32 characters (bytes), not \(secret.utf8.count)")
        }
        self.keyed = HMAC<SHA256>(key: SymmetricKey(data: Data(secret.utf8)))
    }

    /// The hasher of the environment's key.
    init(environment: [String: String]) throws {
        guard let secret = try EnvironmentSecret.value("XCERT_NATIONAL_ID_KEY", in: environment) else {
            throw NationalIDKeyError(
                "set XCERT_NATIONAL_ID_KEY or XCERT_NATIONAL_ID_KEY_FILE: rosters keep national ID numbers only as a keyed hash")
        }
        try self.init(secret: secret)
    }

    /// The HMAC-SHA256 of the number.
    func digest(_ id: NationalID) -> Data {
        var hmac = self.keyed
        hmac.update(data: Data(id.value.utf8))
        return Data(hmac.finalize())
    }

    /// The HMAC-SHA256 of the number, as 64 lowercase hex digits.
    func hash(_ id: NationalID) -> String { self.digest(id).lowercaseHex }
}

extension NationalIDHasher {
    /// A roster chunk's identity: the HMAC-SHA256, under the national ID key, of its rows as
    /// serialized, each prefixed by its length, after a label that keeps it apart from the
    /// hashes of single numbers. A retry of the chunk with the same rows gets the same
    /// digest; without the key, no one can tell which rows a stored digest stands for.
    func chunkDigest(_ rows: [Xcert_Filing_V1_CandidateRow]) throws -> Data {
        var hmac = self.keyed
        hmac.update(data: Data("xcert roster chunk v1\u{0}".utf8))
        for row in rows {
            let bytes = try row.serializedBytes() as [UInt8]
            withUnsafeBytes(of: UInt32(bytes.count).bigEndian) { hmac.update(data: $0) }
            hmac.update(data: bytes)
        }
        return Data(hmac.finalize())
    }
}

struct NationalIDKeyError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
