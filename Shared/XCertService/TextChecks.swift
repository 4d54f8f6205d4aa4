import Foundation

/// The shapes of text that requests carry, checked the same way by every service.
extension String {
    /// Without leading and trailing white space: exactly what Foundation's
    /// `.whitespacesAndNewlines` removes, which is Unicode's White_Space property (tab to
    /// carriage return, space, U+0085, the Z* categories) and U+200B ZERO WIDTH SPACE. In
    /// Swift rather than through `trimmingCharacters(in:)`, whose bridge to NSString cost
    /// an eighth of a roster chunk's checks (B3).
    public var trimmed: String {
        let scalars = self.unicodeScalars
        let isSpace = { (scalar: Unicode.Scalar) in scalar.properties.isWhitespace || scalar == "\u{200B}" }
        guard let first = scalars.firstIndex(where: { !isSpace($0) }),
            let last = scalars.lastIndex(where: { !isSpace($0) })
        else { return "" }
        if first == scalars.startIndex, last == scalars.index(before: scalars.endIndex) { return self }
        return String(scalars[first...last])
    }

    /// nil for the empty string: how an unset filter reads.
    public var nonEmpty: String? { self.isEmpty ? nil : self }

    /// Exactly `count` ASCII digits (a school's 10-digit code, a city's 6). Read as UTF-8
    /// bytes, the same answer as by characters (a digit with a combining mark is not one
    /// byte) without grapheme breaking: every roster row is checked with it.
    public func isDigits(_ count: Int) -> Bool {
        self.utf8.count == count && self.utf8.allSatisfy { (48...57).contains($0) }
    }

    /// A certificate's code: 2 to 32 of A-Z, 0-9 and `-`, not starting with `-`.
    /// A SHA-256 as 64 lowercase hex digits, as documents are recorded.
    public var isSHA256Hex: Bool {
        self.utf8.count == 64 && self.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) }
    }

    public var isCertificateCode: Bool {
        (2...32).contains(self.count) && self.first != "-"
            && self.allSatisfy { $0.isASCII && ($0.isUppercase || $0.isNumber || $0 == "-") }
    }

    /// A phone or fax number as people write them: digits, `-`, `+`, parentheses, spaces.
    public var isPhone: Bool {
        self.count <= 30 && self.allSatisfy { $0.isASCII && ($0.isNumber || "-+() ".contains($0)) }
    }

    /// An e-mail address, loosely: one `@`, a dot in the domain, no spaces.
    public var isEmail: Bool {
        let parts = self.split(separator: "@", omittingEmptySubsequences: false)
        return self.count <= 100 && parts.count == 2 && !parts[0].isEmpty && parts[1].contains(".") && !self.contains(" ")
    }
}
