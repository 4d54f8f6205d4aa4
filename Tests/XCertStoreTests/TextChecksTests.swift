import Foundation
import Testing
import XCertService

@Suite("Text checks: trimming and digits as Foundation and characters would")
struct TextChecksTests {
    @Test("trimmed removes what trimmingCharacters(in: .whitespacesAndNewlines) removes, for every scalar of the Basic Multilingual Plane")
    func trimmedAgreesWithFoundation() {
        for value in UInt32(0)...0xFFFF {
            guard let scalar = Unicode.Scalar(value) else { continue }
            let text = "\(scalar)a\(scalar)b\(scalar)"
            #expect(text.trimmed == text.trimmingCharacters(in: .whitespacesAndNewlines), "U+\(String(value, radix: 16))")
        }
        for text in ["", " ", " \t\n\r ", "考评员", "  张 三\u{3000}", "\u{85}x\u{2028}", "x\u{301} ", " \u{301}x", "\r\n"] {
            #expect(text.trimmed == text.trimmingCharacters(in: .whitespacesAndNewlines), "\(Array(text.unicodeScalars))")
        }
    }

    @Test("isDigits: exactly that many ASCII digits, by bytes as by characters")
    func digits() {
        #expect("4136010001".isDigits(10))
        #expect(!"413601000".isDigits(10))
        #expect(!"41360100011".isDigits(10))
        #expect(!"41360100０1".isDigits(10), "a full-width digit is not an ASCII digit")
        #expect(!"413601000\u{0661}".isDigits(10), "nor an Arabic-Indic one")
        #expect(!("413601000" + "1\u{301}").isDigits(10))
        #expect("".isDigits(0))
    }
}
