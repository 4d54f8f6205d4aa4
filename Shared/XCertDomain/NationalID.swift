/// A resident identity card number (居民身份证号码, GB 11643-1999): 17 digits and a
/// check character, a digit or X. Rosters keep it only as a keyed hash and its last four
/// characters.
public struct NationalID: Sendable, Hashable {
    /// The number, with a lowercase x made uppercase.
    public let value: String

    /// nil unless `text` has 18 characters, 17 digits then a digit or X, whose check
    /// character agrees with the other 17.
    public init?(_ text: String) {
        let characters = Array(text.uppercased().utf8)
        guard characters.count == 18, characters[0..<17].allSatisfy({ (48...57).contains($0) }) else { return nil }
        let sum = zip(characters[0..<17], Self.weights).reduce(0) { $0 + Int($1.0 - 48) * $1.1 }
        guard characters[17] == Self.checkCharacters[sum % 11] else { return nil }
        self.value = String(decoding: characters, as: UTF8.self)
    }

    /// The number made of 17 digits and the check character they call for; nil unless
    /// `body` is 17 digits.
    public init?(completing body: String) {
        let digits = Array(body.utf8)
        guard digits.count == 17, digits.allSatisfy({ (48...57).contains($0) }) else { return nil }
        let sum = zip(digits, Self.weights).reduce(0) { $0 + Int($1.0 - 48) * $1.1 }
        self.value = body + String(decoding: [Self.checkCharacters[sum % 11]], as: UTF8.self)
    }

    /// Why `text` is not a national ID number, in plain words; nil when it is one.
    public static func problem(_ text: String) -> String? {
        let characters = Array(text.uppercased().utf8)
        guard characters.count == 18 else { return "must have 18 characters, not \(text.count)" }
        guard characters[0..<17].allSatisfy({ (48...57).contains($0) }),
            (48...57).contains(characters[17]) || characters[17] == UInt8(ascii: "X")
        else {
            return "must be 17 digits then a digit or X"
        }
        return NationalID(text) == nil ? "its check character does not agree with the other 17 (GB 11643)" : nil
    }

    /// The last four characters, which is all that is ever shown.
    public var lastFour: String { String(self.value.suffix(4)) }

    private static let weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    private static let checkCharacters = Array("10X98765432".utf8)
}
