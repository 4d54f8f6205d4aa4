extension Sequence where Element == UInt8 {
    /// The bytes as lowercase hex digits, two per byte: how digests are written
    /// (migration checksums, national ID hashes, chunk and file SHA-256s).
    public var lowercaseHex: String {
        var text: [UInt8] = []
        text.reserveCapacity(self.underestimatedCount * 2)
        for byte in self {
            text.append(lowercaseHexDigits[Int(byte >> 4)])
            text.append(lowercaseHexDigits[Int(byte & 0x0F)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}

/// The digits of ``Swift/Sequence/lowercaseHex``, as UTF-8 bytes: built once, where making
/// them as `Character`s on each use made hashing a roster chunk's national IDs (5,000 HMACs,
/// 64 digits each) cost more than checking its rows (B3).
private let lowercaseHexDigits: [UInt8] = Array("0123456789abcdef".utf8)
