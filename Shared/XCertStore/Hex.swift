extension Sequence where Element == UInt8 {
    /// The bytes as lowercase hex digits, two per byte: how digests are written
    /// (migration checksums, national ID hashes, chunk and file SHA-256s).
    public var lowercaseHex: String {
        var text = ""
        for byte in self {
            text.append(Self.digits[Int(byte >> 4)])
            text.append(Self.digits[Int(byte & 0x0F)])
        }
        return text
    }

    private static var digits: [Character] { Array("0123456789abcdef") }
}
