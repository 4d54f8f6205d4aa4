import ArgumentParser
import CSV
import Foundation
import SwiftProtobuf
import XCertDomain
import XCertProto
import XCertWire

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
        FileHandle.standardOutput.write(Data(csvText(header, rows).utf8))
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

/// Rows under a header as RFC 4180 CSV, UTF-8 with a BOM so that Excel reads it, lines ending CRLF.
func csvText(_ header: [String], _ rows: [[String]]) -> String {
    var text = "\u{FEFF}"
    for row in [header] + rows {
        text += row.map(csvField).joined(separator: ",") + "\r\n"
    }
    return text
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

/// A CSV file as offices keep them (UTF-8, maybe with a BOM, a header row), its columns
/// found by their English or Chinese header in any order.
struct CSVTable {
    /// A row and the file's line it came from.
    struct Row {
        var line: Int
        private let fields: [String]
        private let positions: [String: Int]

        fileprivate init(line: Int, fields: [String], positions: [String: Int]) {
            self.line = line
            self.fields = fields
            self.positions = positions
        }

        /// The column `key`'s value, trimmed; empty when the row is short.
        func value(_ key: String) -> String {
            guard let index = self.positions[key], index < self.fields.count else { return "" }
            return self.fields[index].trimmingCharacters(in: .whitespaces)
        }
    }

    /// A refusal of a request whose list `list` was made from CSV rows, each `list[i]` named by
    /// the line it came from too, e.g. `line 14 (rows[12]).school_code`.
    /// - Parameter lines: the line of each element of the list.
    static func naming(_ list: String, lines: [Int], in error: RPCError) -> RPCError {
        var error = error
        let prefix = list + "["
        for index in error.fieldViolations.indices {
            let field = error.fieldViolations[index].field
            guard field.hasPrefix(prefix), let close = field.firstIndex(of: "]"),
                let position = Int(field[field.index(field.startIndex, offsetBy: prefix.count)..<close]), lines.indices.contains(position)
            else { continue }
            error.fieldViolations[index].field = "line \(lines[position]) (\(list)[\(position)])" + field[field.index(after: close)...]
        }
        return error
    }

    /// The rows of `file` after its header, blank rows skipped.
    /// - Parameter columns: each column's key and the headers that name it (the key first).
    /// - Throws: ``CLIError`` when the file cannot be read, is not UTF-8, or lacks a column.
    static func read(_ file: String, columns: [(key: String, names: [String])]) throws -> [Row] {
        guard let data = FileManager.default.contents(atPath: file) else { throw CLIError("cannot read \(file)") }
        guard var text = String(data: data, encoding: .utf8) else { throw CLIError("\(file) is not UTF-8 text; save it as CSV UTF-8") }
        if text.hasPrefix("\u{FEFF}") { text.removeFirst() }
        let reader = try CSVReader(string: text, hasHeaderRow: false)
        guard let header = reader.next() else { throw CLIError("\(file) is empty; its first line must be the header row") }
        var positions: [String: Int] = [:]
        for (index, name) in header.enumerated() {
            let name = name.trimmingCharacters(in: .whitespaces).lowercased()
            if let column = columns.first(where: { $0.names.contains(name) }) { positions[column.key] = index }
        }
        let missing = columns.filter { positions[$0.key] == nil }.map { "\($0.names[0]) (\($0.names.dropFirst().joined(separator: ", ")))" }
        guard missing.isEmpty else { throw CLIError("line 1 (the header) lacks the columns \(missing.joined(separator: ", "))") }
        var rows: [Row] = []
        var line = 1
        while let fields = reader.next() {
            line += 1
            if fields.allSatisfy({ $0.trimmingCharacters(in: .whitespaces).isEmpty }) { continue }
            rows.append(Row(line: line, fields: fields, positions: positions))
        }
        return rows
    }
}
