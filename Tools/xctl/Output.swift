import ArgumentParser
import Foundation
import SwiftProtobuf
import XCertDomain
import XCertProto

/// How a command prints what it lists.
enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    /// Aligned columns for a terminal (CJK characters count two columns).
    case table
    /// RFC 4180 CSV with a header row, UTF-8 with a BOM so that Excel reads it.
    case csv
}

/// Prints rows under a header in `format`.
func emit(_ header: [String], _ rows: [[String]], format: OutputFormat) {
    switch format {
    case .csv:
        var text = "\u{FEFF}"
        for row in [header] + rows {
            text += row.map(csvField).joined(separator: ",") + "\r\n"
        }
        FileHandle.standardOutput.write(Data(text.utf8))
    case .table:
        let all = [header] + rows
        var widths = [Int](repeating: 0, count: header.count)
        for row in all {
            for (index, cell) in row.enumerated() where index < widths.count {
                widths[index] = max(widths[index], displayWidth(cell))
            }
        }
        for row in all {
            let line = row.enumerated().map { index, cell in
                index == row.count - 1 ? cell : cell + String(repeating: " ", count: widths[index] - displayWidth(cell))
            }.joined(separator: "  ")
            print(line)
        }
    }
}

/// Prints a message as protobuf JSON.
func emit(_ message: some SwiftProtobuf.Message) throws {
    var options = JSONEncodingOptions()
    options.preserveProtoFieldNames = true
    let json = try message.jsonString(options: options)
    // Re-indent through Foundation for reading; keep Chinese as it is.
    if let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)),
        let pretty = try? JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
    {
        print(String(decoding: pretty, as: UTF8.self))
    } else {
        print(json)
    }
}

private func csvField(_ text: String) -> String {
    guard text.contains(where: { ",\"\r\n".contains($0) }) else { return text }
    return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
}

private func displayWidth(_ text: String) -> Int {
    text.unicodeScalars.reduce(0) { width, scalar in
        // East Asian wide characters (CJK, fullwidth forms) take two columns.
        let wide =
            (0x1100...0x115F).contains(scalar.value) || (0x2E80...0xA4CF).contains(scalar.value)
            || (0xAC00...0xD7A3).contains(scalar.value) || (0xF900...0xFAFF).contains(scalar.value)
            || (0xFE30...0xFE4F).contains(scalar.value) || (0xFF00...0xFF60).contains(scalar.value)
            || (0xFFE0...0xFFE6).contains(scalar.value)
        return width + (wide ? 2 : 1)
    }
}

/// Reads every page of a list: `fetch` gets the page token and returns the items and
/// the next token (empty on the last page).
func allPages<Item>(_ fetch: (String) async throws -> ([Item], String)) async throws -> [Item] {
    var items: [Item] = []
    var token = ""
    repeat {
        let (page, next) = try await fetch(token)
        items += page
        token = next
    } while !token.isEmpty
    return items
}

/// An instant in the province's time, e.g. `2026-11-25 15:04:05 +08:00`.
func shanghaiTime(_ timestamp: Xcert_Common_V1_Timestamp) -> String {
    LocalDate.provinceTime(timestamp.seconds)
}

/// Options of a command that changes something.
struct ChangeOptions: ParsableArguments {
    @Option(help: "An idempotency-key, so that a retry does the work once.") var idempotencyKey: String?
}

/// A message read from a protobuf JSON file (proto field names or JSON names); a file
/// that is missing or not such a message is a CLIError naming it.
func readJSON<Message: SwiftProtobuf.Message>(_ file: String, as: Message.Type) throws -> Message {
    guard let data = FileManager.default.contents(atPath: file) else { throw CLIError("cannot read \(file)") }
    do {
        return try Message(jsonString: String(decoding: data, as: UTF8.self))
    } catch {
        throw CLIError("\(file) is not a \(Message.protoMessageName) in protobuf JSON: \(error)")
    }
}
