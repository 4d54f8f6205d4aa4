import NIOCore

/// A chunk's candidates as the data of `COPY filing.roster_candidates FROM STDIN` in
/// PostgreSQL's text format: one line a row, columns separated by tabs. COPY data is never
/// parsed as SQL; what a client sent (names, numbers, specialties) is only escaped so that
/// it stays within its own column: backslash, tab, newline and carriage return become
/// `\\`, `\t`, `\n` and `\r`. Everything else is written as it is (numbers, booleans, the
/// HMAC's hex digits, which we made). COPY is one statement for the whole chunk, where an
/// insert from `unnest` of twelve bound arrays costs the database more to decode (B3).
enum CandidateCopy {
    /// The columns, in the order of each line.
    static let columns = [
        "roster_id", "chunk_index", "row_index", "candidate_number", "name", "national_id_hmac", "national_id_last4",
        "school_code", "specialty", "approved", "attended", "scores_tenths", "total_tenths", "passed",
    ]

    /// The lines of `candidates`, of chunk `chunk` of roster `roster`.
    static func rows(roster: Int64, chunk: Int32, _ candidates: [CheckedCandidate]) -> ByteBuffer {
        var buffer = ByteBufferAllocator().buffer(capacity: candidates.count * 200)
        let prefix = "\(roster)\t\(chunk)\t"
        for candidate in candidates {
            buffer.writeString(prefix)
            buffer.writeString(String(candidate.rowIndex))
            buffer.writeInteger(UInt8(ascii: "\t"))
            self.writeText(candidate.candidateNumber, to: &buffer)
            self.writeText(candidate.name, to: &buffer)
            // bytea's hex input, `\x…`, with its backslash escaped.
            buffer.writeString("\\\\x")
            self.writeText(candidate.nationalIDHash, to: &buffer)
            self.writeText(candidate.nationalIDLastFour, to: &buffer)
            self.writeText(candidate.schoolCode, to: &buffer)
            self.writeText(candidate.specialty, to: &buffer)
            buffer.writeString(candidate.approved ? "t\t" : "f\t")
            buffer.writeString(candidate.attended ? "t\t" : "f\t")
            buffer.writeString("{" + candidate.scoresTenths.map(String.init).joined(separator: ",") + "}\t")
            buffer.writeString(String(candidate.totalTenths))
            buffer.writeString(candidate.passed ? "\tt\n" : "\tf\n")
        }
        return buffer
    }

    /// `text`, escaped for COPY's text format, then a tab.
    static func writeText(_ text: String, to buffer: inout ByteBuffer) {
        var text = text
        text.withUTF8 { bytes in
            var start = 0
            for (position, byte) in bytes.enumerated() {
                let escape: UInt8
                switch byte {
                case UInt8(ascii: "\\"): escape = UInt8(ascii: "\\")
                case UInt8(ascii: "\t"): escape = UInt8(ascii: "t")
                case UInt8(ascii: "\n"): escape = UInt8(ascii: "n")
                case UInt8(ascii: "\r"): escape = UInt8(ascii: "r")
                default: continue
                }
                buffer.writeBytes(bytes[start..<position])
                buffer.writeInteger(UInt8(ascii: "\\"))
                buffer.writeInteger(escape)
                start = position + 1
            }
            buffer.writeBytes(bytes[start...])
        }
        buffer.writeInteger(UInt8(ascii: "\t"))
    }
}
