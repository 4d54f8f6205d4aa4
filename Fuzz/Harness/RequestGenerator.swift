import SwiftProtobuf
import XCertProto
import XCertWire

/// A small seeded random number generator (SplitMix64): the same seed gives the same
/// numbers on every machine and every Swift version, which `SystemRandomNumberGenerator`
/// cannot. Its helpers (``below(_:)``, ``pick(_:)``) are its own, not the standard
/// library's `random(in:using:)`, whose algorithm may change between versions.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) {
        self.state = seed
    }

    /// The generator of item `stream` of a run seeded `seed`: item 17 of seed 1 is the same
    /// whatever ran before it, so one call of a fuzzing run can be made again on its own.
    public init(seed: UInt64, stream: UInt64) {
        var first = SplitMix64(seed: seed)
        var second = SplitMix64(seed: first.next() ^ (stream &* 0xD1B5_4A32_D192_ED03))
        self.state = second.next()
    }

    public mutating func next() -> UInt64 {
        self.state &+= 0x9E37_79B9_7F4A_7C15
        var z = self.state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A number in `0..<bound` (`bound` > 0).
    public mutating func below(_ bound: Int) -> Int {
        precondition(bound > 0, "below(\(bound))")
        return Int(self.next() % UInt64(bound))
    }

    /// A number in `range`.
    public mutating func between(_ range: ClosedRange<Int64>) -> Int64 {
        let width = UInt64(bitPattern: range.upperBound &- range.lowerBound) &+ 1
        return width == 0 ? Int64(bitPattern: self.next()) : range.lowerBound &+ Int64(bitPattern: self.next() % width)
    }

    /// True `percent` times in 100.
    public mutating func chance(_ percent: Int) -> Bool {
        self.below(100) < percent
    }

    /// One element of a non-empty array.
    public mutating func pick<Element>(_ elements: [Element]) -> Element {
        elements[self.below(elements.count)]
    }

    /// `elements` in an order of this generator's.
    public mutating func shuffle<Element>(_ elements: [Element]) -> [Element] {
        var elements = elements
        guard elements.count > 1 else { return elements }
        for index in stride(from: elements.count - 1, to: 0, by: -1) {
            elements.swapAt(index, self.below(index + 1))
        }
        return elements
    }
}

/// The protobuf binary format, written by hand: what ``RequestGenerator`` writes with, so
/// that a payload can hold what no generated type would write (a string that is no UTF-8,
/// an enum number the proto does not declare, a 64-bit value in a 32-bit field).
public struct ProtoWriter: Sendable {
    public private(set) var bytes: [UInt8] = []

    public init() {}

    public enum WireType: UInt64, Sendable {
        case varint = 0, fixed64 = 1, lengthDelimited = 2, fixed32 = 5
    }

    public mutating func tag(_ number: Int, _ wireType: WireType) {
        self.rawVarint(UInt64(number) << 3 | wireType.rawValue)
    }

    /// A varint field: `value` as its 64 bits (a negative int32 or int64 takes ten bytes).
    public mutating func varint(_ number: Int, _ value: UInt64) {
        self.tag(number, .varint)
        self.rawVarint(value)
    }

    /// An int32, int64 or enum field: two's complement, sign-extended to 64 bits.
    public mutating func signed(_ number: Int, _ value: Int64) {
        self.varint(number, UInt64(bitPattern: value))
    }

    /// A sint32 or sint64 field: zigzag.
    public mutating func zigzag(_ number: Int, _ value: Int64) {
        self.varint(number, Self.zigzag(value))
    }

    public mutating func fixed64(_ number: Int, _ value: UInt64) {
        self.tag(number, .fixed64)
        self.rawFixed64(value)
    }

    public mutating func fixed32(_ number: Int, _ value: UInt32) {
        self.tag(number, .fixed32)
        self.rawFixed32(value)
    }

    /// A string, bytes, message or packed field.
    public mutating func lengthDelimited(_ number: Int, _ value: [UInt8]) {
        self.tag(number, .lengthDelimited)
        self.rawVarint(UInt64(value.count))
        self.bytes += value
    }

    public mutating func rawVarint(_ value: UInt64) {
        var value = value
        while value >= 0x80 {
            self.bytes.append(UInt8(value & 0x7F) | 0x80)
            value >>= 7
        }
        self.bytes.append(UInt8(value))
    }

    public mutating func rawFixed64(_ value: UInt64) {
        withUnsafeBytes(of: value.littleEndian) { self.bytes += $0 }
    }

    public mutating func rawFixed32(_ value: UInt32) {
        withUnsafeBytes(of: value.littleEndian) { self.bytes += $0 }
    }

    public static func zigzag(_ value: Int64) -> UInt64 {
        UInt64(bitPattern: (value << 1) ^ (value >> 63))
    }
}

/// Requests of extreme values for every message of `proto/`, written from its descriptor
/// (``XCertDescriptorSet``) in the protobuf binary format: the handler fuzzer's input
/// (`Tests/XCertIntegrationTests/HandlerFuzzTests.swift`).
///
/// A request is a function of (seed, index) alone. Each field of the message is set or
/// not, nested messages down to ``maximumDepth``, one member of each oneof; each value is
/// one of:
/// - integers: Int64.min/max, Int32.min/max, 0, -1, UInt64.max (and, in a 32-bit field,
///   now and then a 64-bit value), or a realistic one for the field's name (years
///   2019–2030, small ids, the organization ids of ``Context``);
/// - strings: empty, 5,000 characters (CJK and ASCII), one holding U+0000, odd but valid
///   scalars (U+FEFF, U+202E, combining marks, emoji, U+10FFFF), blanks, SQL and LIKE
///   metacharacters, now and then bytes that are no UTF-8, or a realistic value for the
///   field's name (a 10-digit school code, a 6-digit city code, a certificate code like
///   BIM, those of ``Context`` first);
/// - enums: a declared number, or 0, 99, -1, Int32.max;
/// - repeated fields: 0, 1, a few or 2,000 elements (packed or not), within a budget that
///   keeps a payload under ``payloadBudget`` bytes;
/// - now and then a field number the message does not declare.
/// So that calls get past the first checks and reach deeper code, about half the requests
/// are mostly or almost only realistic values (and no 2,000-element lists).
public struct RequestGenerator: Sendable {
    /// What the services under test hold, so that realistic values name real things.
    public struct Context: Sendable {
        public var schoolCodes: [String]
        public var cityCodes: [String]
        public var certificateCodes: [String]
        public var organizationIDs: [Int64]
        /// The years the services hold data of (e.g. a demo's year): realistic years are
        /// mostly these.
        public var years: [Int32]
        /// Integers never written into fields of these names (e.g. `token_id`: the ids of
        /// the tokens a run needs, which a generated RevokeToken must not hit): such a value
        /// becomes Int64.max.
        public var avoidedIntegers: [String: Set<Int64>]

        public init(
            schoolCodes: [String] = [], cityCodes: [String] = [], certificateCodes: [String] = [],
            organizationIDs: [Int64] = [], years: [Int32] = [], avoidedIntegers: [String: Set<Int64>] = [:]
        ) {
            self.schoolCodes = schoolCodes
            self.cityCodes = cityCodes
            self.certificateCodes = certificateCodes
            self.organizationIDs = organizationIDs
            self.years = years
            self.avoidedIntegers = avoidedIntegers
        }
    }

    /// One generated request.
    public struct Request: Sendable {
        /// The serialized request message.
        public var payload: [UInt8]
        /// What it sets, one line a field (the first element of a list stands for all):
        /// `school.code = 5000 chars (CJK and ASCII)`, `levels = [2000 elements]`.
        public var fields: [String]
        /// Whether a string field holds bytes that are no UTF-8 (the payload does not parse).
        public var hasInvalidUTF8: Bool

        /// ``fields`` on one line.
        public var summary: String {
            self.fields.isEmpty ? "(no field set)" : self.fields.joined(separator: "; ")
        }
    }

    /// The most bytes a payload holds (a frame carries 4 MiB).
    public static let payloadBudget = 3_000_000
    /// How deep messages nest (the request itself is depth 0).
    public static let maximumDepth = 4
    /// The most lines of ``Request/fields``.
    static let maximumFieldLines = 80

    public let context: Context
    private let index = ProtoIndex.shared

    public init(context: Context = Context()) {
        self.context = context
    }

    /// The request of message `typeName` (full name, no leading dot) for call `index` of a
    /// run seeded `seed`.
    public func request(of typeName: String, seed: UInt64, index: UInt64) -> Request {
        var session = Session(random: SplitMix64(seed: seed, stream: index), context: self.context, protoIndex: self.index)
        let payload = session.message(typeName, path: "", depth: 0, inLongList: false, logged: true)
        return Request(payload: payload, fields: session.fields, hasInvalidUTF8: session.hasInvalidUTF8)
    }

    /// Whether `typeName` is a message of ``XCertDescriptorSet``.
    public func knows(_ typeName: String) -> Bool {
        self.index.messages[typeName] != nil
    }
}

// MARK: - One request's making

private struct Session {
    var random: SplitMix64
    let context: RequestGenerator.Context
    let protoIndex: ProtoIndex
    var remaining = RequestGenerator.payloadBudget
    var fields: [String] = []
    var hasInvalidUTF8 = false
    /// How often a value is a realistic one: about half the requests are mostly extremes;
    /// the others mostly or almost only plausible values, with an extreme here and there,
    /// so that they get past the first checks and reach the handlers' deeper code.
    let realisticPercent: Int
    /// Whether one string of this request may be made no UTF-8 (the whole payload then does
    /// not parse: were it allowed in every request, no long list of strings would parse).
    let allowsInvalidUTF8: Bool
    /// A number that choices of one request share now and then, so that they agree: the
    /// n-th declared value of its enums, the n-th kind of CSV (ImportKind's values and the
    /// CSV kinds are in the same order).
    let theme: Int

    init(random: SplitMix64, context: RequestGenerator.Context, protoIndex: ProtoIndex) {
        var random = random
        let profile = random.below(100)
        self.realisticPercent = profile < 45 ? 35 : profile < 75 ? 85 : 97
        self.allowsInvalidUTF8 = random.chance(10)
        self.theme = random.below(1_000)
        self.random = random
        self.context = context
        self.protoIndex = protoIndex
    }

    mutating func log(_ line: @autoclosure () -> String) {
        guard self.fields.count < RequestGenerator.maximumFieldLines else { return }
        self.fields.append(self.fields.count == RequestGenerator.maximumFieldLines - 1 ? "…" : line())
    }

    mutating func spend(_ bytes: Int) {
        self.remaining -= bytes
    }

    // MARK: Messages

    mutating func message(_ typeName: String, path: String, depth: Int, inLongList: Bool, logged: Bool) -> [UInt8] {
        guard let message = self.protoIndex.messages[typeName] else { return [] }
        var out = ProtoWriter()
        // One member of each (real) oneof, or none.
        var oneofChoice: [Int32: Int32] = [:]
        var oneofs: [Int32: [Int32]] = [:]
        for field in message.field where field.hasOneofIndex && !field.proto3Optional {
            oneofs[field.oneofIndex, default: []].append(field.number)
        }
        for (oneof, members) in oneofs.sorted(by: { $0.key < $1.key }) {
            oneofChoice[oneof] = self.random.chance(20) ? -1 : self.random.pick(members)
        }
        for field in message.field {
            if field.hasOneofIndex, !field.proto3Optional {
                guard oneofChoice[field.oneofIndex] == field.number else { continue }
            } else if !self.random.chance(depth == 0 ? 90 : 80) {
                continue
            }
            guard self.remaining > 64 else { break }
            let fieldPath = path.isEmpty ? field.name : "\(path).\(field.name)"
            if field.label == .repeated {
                self.repeated(field, of: message, path: fieldPath, depth: depth, inLongList: inLongList, logged: logged, into: &out)
            } else {
                self.single(field, of: message, path: fieldPath, depth: depth, inLongList: inLongList, logged: logged, into: &out)
            }
        }
        if self.random.chance(4) {
            // A field number no message of proto/ uses: an old or newer client's field.
            out.varint(1999, 1)
            if logged { self.log("\(path.isEmpty ? "" : path + ".")#1999 = 1 (an undeclared field)") }
        }
        return out.bytes
    }

    private mutating func single(
        _ field: Google_Protobuf_FieldDescriptorProto, of message: Google_Protobuf_DescriptorProto,
        path: String, depth: Int, inLongList: Bool, logged: Bool, into out: inout ProtoWriter
    ) {
        let number = Int(field.number)
        if field.type == .message {
            guard depth < RequestGenerator.maximumDepth else { return }
            let bytes = self.message(
                ProtoIndex.typeName(field.typeName), path: path, depth: depth + 1, inLongList: inLongList, logged: logged)
            out.lengthDelimited(number, bytes)
            if bytes.isEmpty, logged { self.log("\(path) = {} (set, empty)") }
            return
        }
        guard let value = self.scalar(field, of: message) else { return }
        value.write(number, into: &out)
        self.spend(value.size)
        if logged { self.log("\(path) = \(value.label)") }
    }

    private mutating func repeated(
        _ field: Google_Protobuf_FieldDescriptorProto, of message: Google_Protobuf_DescriptorProto,
        path: String, depth: Int, inLongList: Bool, logged: Bool, into out: inout ProtoWriter
    ) {
        let number = Int(field.number)
        if field.type == .message, depth >= RequestGenerator.maximumDepth { return }
        // 2,000 elements once along a path: lists in the elements of a long list stay short.
        let count: Int
        switch self.random.below(100) {
        case 0..<25: count = 0
        case 25..<55: count = 1
        case 55..<(self.realisticPercent > 50 ? 92 : 78): count = 2 + self.random.below(4)
        default: count = inLongList || self.realisticPercent > 90 ? 2 + self.random.below(4) : 2_000
        }
        guard count > 0 else { return }
        let nowLong = inLongList || count >= 100
        var written = 0
        switch field.type {
        case .message:
            let type = ProtoIndex.typeName(field.typeName)
            while written < count, self.remaining > 64 {
                let element = self.message(
                    type, path: "\(path)[\(written)]", depth: depth + 1, inLongList: nowLong, logged: logged && written == 0
                )
                out.lengthDelimited(number, element)
                self.spend(element.count < 128 ? 2 : 4)
                written += 1
            }
        case .string, .bytes:
            while written < count, self.remaining > 64 {
                guard let value = self.scalar(field, of: message) else { break }
                value.write(number, into: &out)
                self.spend(value.size)
                if logged, written == 0 { self.log("\(path)[0] = \(value.label)") }
                written += 1
            }
        default:
            // Numbers, enums, bools: packed (as proto3 writes them) or one by one.
            let packed = self.random.chance(75)
            var body = ProtoWriter()
            var first: String?
            while written < count, self.remaining > 64 {
                guard let value = self.scalar(field, of: message) else { break }
                if packed { value.writeBare(into: &body) } else { value.write(number, into: &out) }
                self.spend(value.size)
                first = first ?? value.label
                written += 1
            }
            if packed, written > 0 { out.lengthDelimited(number, body.bytes) }
            if logged, let first { self.log("\(path)[0] = \(first)\(packed ? " (packed)" : "")") }
        }
        if logged { self.log("\(path) = [\(written) elements]") }
    }

    // MARK: Values

    private mutating func scalar(_ field: Google_Protobuf_FieldDescriptorProto, of message: Google_Protobuf_DescriptorProto) -> Scalar? {
        let name = field.name.lowercased()
        switch field.type {
        case .int64, .sint64, .sfixed64:
            let (value, label) = self.integer64(name, message: message)
            switch field.type {
            case .sint64: return Scalar(.varint(ProtoWriter.zigzag(value)), label)
            case .sfixed64: return Scalar(.fixed64(UInt64(bitPattern: value)), label)
            default: return Scalar(.varint(UInt64(bitPattern: value)), label)
            }
        case .int32, .sint32, .sfixed32:
            let (value, label) = self.integer32(name, message: message)
            switch field.type {
            case .sint32: return Scalar(.varint(ProtoWriter.zigzag(value)), label)
            case .sfixed32: return Scalar(.fixed32(UInt32(truncatingIfNeeded: value)), label)
            default: return Scalar(.varint(UInt64(bitPattern: value)), label)
            }
        case .uint64, .fixed64:
            let (value, label): (UInt64, String) =
                self.random.chance(self.realisticPercent)
                ? self.realistic(name, message: message).map { (UInt64(bitPattern: $0), "\($0)") } ?? (1, "1")
                : self.random.pick([(.max, "UInt64.max"), (0, "0"), (UInt64(Int64.max), "Int64.max")])
            return Scalar(field.type == .fixed64 ? .fixed64(value) : .varint(value), label)
        case .uint32, .fixed32:
            let (value, label): (UInt32, String) =
                self.random.chance(self.realisticPercent)
                ? self.realistic(name, message: message).map { (UInt32(truncatingIfNeeded: $0), "\(UInt32(truncatingIfNeeded: $0))") } ?? (
                    1, "1"
                )
                : self.random.pick([(.max, "UInt32.max"), (0, "0")])
            return Scalar(field.type == .fixed32 ? .fixed32(value) : .varint(UInt64(value)), label)
        case .bool:
            return self.random.chance(50) ? Scalar(.varint(1), "true") : Scalar(.varint(0), "false")
        case .enum:
            return self.enumValue(field)
        case .double:
            let value = self.random.pick([Double.nan, .infinity, -.infinity, -0.0, .greatestFiniteMagnitude, 0.5, 1e-300])
            return Scalar(.fixed64(value.bitPattern), "\(value)")
        case .float:
            let value = self.random.pick([Float.nan, .infinity, -.infinity, -0.0, .greatestFiniteMagnitude, 0.5])
            return Scalar(.fixed32(value.bitPattern), "\(value)")
        case .string:
            return self.string(name, message: message)
        case .bytes:
            return self.bytes(name)
        case .message, .group:
            return nil
        }
    }

    private mutating func integer64(_ name: String, message: Google_Protobuf_DescriptorProto) -> (Int64, String) {
        var choice: (Int64, String) =
            self.random.chance(self.realisticPercent)
            ? self.realistic(name, message: message).map { ($0, "\($0)") } ?? (1, "1")
            : self.random.pick([
                (.min, "Int64.min"), (.max, "Int64.max"), (0, "0"), (-1, "-1"),
                (Int64(Int32.max) + 1, "Int32.max + 1"), (Int64(Int32.min), "Int32.min"),
            ])
        if let avoided = self.context.avoidedIntegers[name], avoided.contains(choice.0) {
            choice = (.max, "Int64.max (instead of a value the run keeps)")
        }
        return choice
    }

    private mutating func integer32(_ name: String, message: Google_Protobuf_DescriptorProto) -> (Int64, String) {
        guard !self.random.chance(self.realisticPercent) else {
            let value = self.realistic(name, message: message).map { Int64(Int32(truncatingIfNeeded: $0)) } ?? 1
            return (value, "\(value)")
        }
        return self.random.pick([
            (Int64(Int32.min), "Int32.min"), (Int64(Int32.max), "Int32.max"), (0, "0"), (-1, "-1"),
            // A 64-bit value in a 32-bit field: parsers keep the low 32 bits.
            (Int64.max, "Int64.max (in a 32-bit field)"),
        ])
    }

    private mutating func enumValue(_ field: Google_Protobuf_FieldDescriptorProto) -> Scalar {
        let declared = self.protoIndex.enums[ProtoIndex.typeName(field.typeName)]?.value.map(\.number).filter { $0 != 0 } ?? []
        if !declared.isEmpty, self.random.chance(max(55, self.realisticPercent)) {
            let value = self.random.chance(50) ? declared[self.theme % declared.count] : self.random.pick(declared)
            return Scalar(.varint(UInt64(bitPattern: Int64(value))), "\(value)")
        }
        let (value, label): (Int32, String) = self.random.pick([
            (0, "0 (unspecified)"), (99, "99 (undeclared)"), (-1, "-1 (undeclared)"), (.max, "Int32.max (undeclared)"),
        ])
        return Scalar(.varint(UInt64(bitPattern: Int64(value))), label)
    }

    /// A plausible value for a number field called `name`: what gets a call past the first
    /// checks. nil: no idea (the caller picks 1).
    private mutating func realistic(_ name: String, message: Google_Protobuf_DescriptorProto) -> Int64? {
        switch name {
        case "year", "year_opened", "first_year", "last_year", "from_year", "to_year":
            if !self.context.years.isEmpty, self.random.chance(60) { return Int64(self.random.pick(self.context.years)) }
            return self.random.between(2019...2030)
        case "month": return self.random.between(1...12)
        case "day": return self.random.between(1...31)
        case "days", "valid_days": return self.random.between(1...400)
        case "organization_id":
            if !self.context.organizationIDs.isEmpty, self.random.chance(70) { return self.random.pick(self.context.organizationIDs) }
            return self.random.between(1...5)
        case "page_size", "limit": return self.random.pick([1, 2, 10, 100, 1_000, 10_000])
        case "seconds": return self.random.between(1_546_300_800...1_924_992_000)  // 2019 to 2031
        case "nanos": return self.random.between(0...999_999_999)
        case "fen": return self.random.pick([1, 100, 12_345, 9_999_999, 10_000_000_000])
        case "numerator", "denominator": return self.random.between(0...100)
        case "after", "cursor": return self.random.between(0...50)
        case "version", "expected_version", "filing_version", "round_number", "batch", "number", "chunk_index", "session", "revision":
            return self.random.between(0...3)
        default:
            // 0 often means "any" or "none" in a filter.
            if name == "id" || name.hasSuffix("_id") { return self.random.chance(15) ? 0 : self.random.between(1...20) }
            if name.hasSuffix("_tenths") || name.hasSuffix("percent") { return self.random.between(0...1_000) }
            return self.random.between(0...100)
        }
    }

    // MARK: Strings and bytes

    private mutating func string(_ name: String, message: Google_Protobuf_DescriptorProto) -> Scalar {
        if self.random.chance(self.realisticPercent) {
            let value = self.realisticString(name, message: message)
            return Scalar(.bytes(Array(value.utf8)), Self.quoted(value))
        }
        let choice: (String, String)
        switch self.random.below(100) {
        case 0..<14: choice = ("", "\"\" (empty)")
        case 14..<32:
            choice =
                self.random.chance(70)
                ? (Self.longMixed, "5000 chars (CJK and ASCII)")
                : (Self.longASCII, "5000 chars (ASCII)")
        case 32..<48:
            let base = self.realisticString(name, message: message)
            let value = self.random.pick(["\(base)\u{0}", "\u{0}\(base)", "\u{0}", "a\u{0}b"])
            choice = (value, Self.quoted(value) + " (holds U+0000)")
        case 48..<66:
            let base = self.realisticString(name, message: message)
            let value = self.random.pick([
                "\u{FEFF}\(base)", "\u{202E}\(base)", "\(base)\u{301}\u{302}\u{303}", "👩‍👩‍👧‍👦\(base)",
                "\u{200B}", "\u{10FFFF}", "\u{FFFD}", "Ω\u{2028}\(base)", "𠜎𠜱𠝹",
            ])
            choice = (value, Self.quoted(value) + " (odd scalars)")
        case 66..<76:
            let value = self.random.pick(["   ", "\t\n\r", " \(self.realisticString(name, message: message)) "])
            choice = (value, Self.quoted(value) + " (blanks)")
        case 76..<86:
            let value = self.random.pick(["%", "_", "\\", "%_\\%", "' OR '1'='1", "'); DROP TABLE x; --", "$1", "E'\\x00'"])
            choice = (value, Self.quoted(value) + " (SQL/LIKE)")
        case 86..<94:
            let value = self.random.pick(["0", "-1", "9223372036854775808", "1e309", "NaN", "０１２３"])
            choice = (value, Self.quoted(value))
        case _ where !self.allowsInvalidUTF8 || self.hasInvalidUTF8:
            let value = self.random.pick(["\u{FEFF}", "\u{202E}", "e\u{301}"]) + self.realisticString(name, message: message)
            choice = (value, Self.quoted(value) + " (odd scalars)")
        default:
            // Not UTF-8: a lone continuation, an overlong "/", a surrogate, 0xFF.
            let base = Array(self.realisticString(name, message: message).utf8)
            let bad: [UInt8] = self.random.pick([
                [0x80], [0xC0, 0xAF], [0xED, 0xA0, 0x80], [0xFF], [0xC3, 0x28], [0xF4, 0x90, 0x80, 0x80],
            ])
            let hex = bad.map { String($0, radix: 16, uppercase: true) }.joined(separator: " ")
            self.hasInvalidUTF8 = true
            return Scalar(.bytes(base + bad), "not UTF-8 (\(Self.quoted(String(decoding: base, as: UTF8.self))) + bytes \(hex))")
        }
        var bytes = Array(choice.0.utf8)
        var label = choice.1
        if bytes.count > self.remaining - 64 {
            bytes = []
            label = "\"\" (payload budget spent)"
        }
        return Scalar(.bytes(bytes), label)
    }

    private mutating func realisticString(_ name: String, message: Google_Protobuf_DescriptorProto) -> String {
        // Known ones, and new ones of the right shape (for creates).
        let schools = self.context.schoolCodes + ["4136010001", "4136000000", "1136010001", "4136\(100_000 + self.random.below(900_000))"]
        let cities = self.context.cityCodes + ["360100", "360400", "999900", "360101", "36\(10 + self.random.below(90))00"]
        let certificates = self.context.certificateCodes + ["BIM", "AUTO", "NEV", "LIVE-WORK-10KV", "bim"]
        func fromContext(_ known: [String], _ made: [String]) -> String {
            self.random.chance(70) && !known.isEmpty ? self.random.pick(known) : self.random.pick(made)
        }
        if name.contains("school_code") || name == "school_codes" || name == "leads" {
            return fromContext(self.context.schoolCodes, schools)
        }
        if name.contains("city") { return fromContext(self.context.cityCodes, cities) }
        if name.contains("certificate_code") { return fromContext(self.context.certificateCodes, certificates) }
        switch name {
        case "code":
            // By the message it is in: City, GetCityRequest, School, GetSchoolRequest, …
            let owner = message.name
            if owner.contains("City") { return fromContext(self.context.cityCodes, cities) }
            if owner.contains("School") { return fromContext(self.context.schoolCodes, schools) }
            if owner.contains("Certificate") { return fromContext(self.context.certificateCodes, certificates) }
            if owner.contains("Province") { return self.random.pick(["36", "11", "3"]) }
            if owner.contains("Specialty") { return self.random.pick(["S001", "S002", "510201"]) }
            return self.random.pick(cities + certificates + ["1-1-1", "A1"])
        case "party":
            return self.random.pick(cities + schools + ["1", "registry", "filing"] + self.context.organizationIDs.map { "\($0)" })
        case "service":
            return self.random.pick(["", "registry", "filing", "assessment", "settlement"])
        case "sha256":
            return String(repeating: self.random.pick(["0", "a", "f"]), count: 64)
        case "mobile": return "13800138000"
        case "email": return "fuzz@example.cn"
        case "office_phone": return "0791-88888888"
        case "page_token", "cursor", "next_page_token":
            return self.random.pick(["", "1", "100", "abc", "MTAw", "-1"])
        case "specialty_codes", "specialty": return self.random.pick(["S001", "S002", "510201"])
        case "name_contains": return self.random.pick(["江西", "学院", "a", ""])
        case "label", "reason", "comment", "note", "description", "title", "withdrawal_reason", "correction_reason":
            return self.random.pick(["测试", "handler fuzz", "退回修改"])
        case "date", "exam_date", "paid_on", "refunded_on":
            return self.random.pick(["2025-06-01", "2025-02-30", "0000-00-00"])
        default:
            return self.random.pick(["江西职业技术学院", "南昌市", "测试", "a", "BIM"])
        }
    }

    private mutating func bytes(_ name: String) -> Scalar {
        let value: [UInt8]
        let label: String
        switch self.random.below(10) {
        case 0:
            value = []
            label = "empty"
        case 1:
            let count = min(5_000, max(0, self.remaining - 64))
            value = (0..<count).map { _ in UInt8(truncatingIfNeeded: self.random.next()) }
            label = "\(count) random bytes"
        case 2:
            value = Array("代码,名称\n360200,".utf8) + self.random.pick([[0xC3, 0x28], [0xFF], [0xED, 0xA0, 0x80]]) + [0x0A]
            label = "a CSV that is no UTF-8"
        case 3:
            value = Array(
                self.random.pick([
                    "\"unterminated,名称\n\"a\"\"b\",\n,,,,,,,,,,,,,,,,\n", "代码,代码,名称\n360200,360300,x\n", "\n\n\n", "代码\n", ",\n,\n",
                ]).utf8)
            label = "a CSV of odd shape"
        default:
            (value, label) = self.csv()
        }
        return Scalar(.bytes(value), label)
    }

    /// A CSV file of one of the registry's imports (cities, schools, organizations,
    /// certificates: headers as `data/reference` has them, or the English keys), rows of
    /// plausible values, and now and then one extreme cell (U+0000, 5,000 characters, odd
    /// scalars, quotes, huge numbers). From 1 row to 2,000, within the payload budget.
    private mutating func csv() -> ([UInt8], String) {
        let kinds: [(name: String, chinese: [String], english: [String])] = [
            ("cities", ["代码", "名称"], ["code", "name"]),
            (
                "schools", ["学校标识码", "学校名称", "学校类型", "所在城市", "专业数", "在校生数", "专业", "荣誉"],
                ["code", "name", "type", "city", "specialty_count", "enrolled_students", "specialties", "honours"]
            ),
            (
                "organizations", ["名称", "联系人", "办公电话", "手机", "电子邮箱", "传真", "通讯地址", "邮政编码"],
                ["name", "contacts", "office_phones", "mobiles", "emails", "fax", "address", "postcode"]
            ),
            (
                "certificates", ["证书代码", "证书名称", "批次", "等级", "培训评价组织", "评分规则", "合格分"],
                ["code", "name", "batch", "levels", "organization", "scoring", "pass_mark"]
            ),
        ]
        let kind = self.random.chance(70) ? self.theme % kinds.count : self.random.below(kinds.count)
        let newline = self.random.chance(20) ? "\r\n" : "\n"
        var text = self.random.chance(20) ? "\u{FEFF}" : ""
        text += (self.random.chance(20) ? kinds[kind].english : kinds[kind].chinese).joined(separator: ",") + newline
        let rows: Int =
            switch self.random.below(10) {
            case 0..<4: 1
            case 4..<8: 2 + self.random.below(4)
            default: self.realisticPercent > 90 ? 3 : 2_000
            }
        // One extreme cell, somewhere.
        let oddRow = self.random.chance(self.realisticPercent > 90 ? 30 : 60) ? self.random.below(rows) : -1
        let oddColumn = self.random.below(kinds[kind].chinese.count)
        var oddLabel = ""
        var written = 0
        while written < rows, text.utf8.count < self.remaining - 1_024 {
            var cells = self.csvRow(kind: kind, number: written)
            if written == oddRow {
                let (cell, label) = self.random.pick([
                    ("\(cells[oddColumn])\u{0}", "U+0000 at its end"), ("\u{0}", "U+0000"), (Self.longMixed, "5000 chars"),
                    ("\u{FEFF}\(cells[oddColumn])", "U+FEFF first"), ("\u{202E}\(cells[oddColumn])", "U+202E first"),
                    ("\(cells[oddColumn])\u{301}", "a combining mark"), ("   ", "blanks"), ("\"", "a quote"),
                    ("9223372036854775808", "2^63"), ("-1", "-1"), ("2147483648", "2^31"), (";;;", "only separators"),
                    ("\(cells[oddColumn])\r\(cells[oddColumn])", "a CR inside"), ("%_\\'", "LIKE and SQL metacharacters"),
                ])
                cells[oddColumn] = cell
                oddLabel = ", \(label) in row \(written + 1) column \(kinds[kind].english[oddColumn])"
            }
            text += cells.map(Self.csvCell).joined(separator: ",") + newline
            written += 1
        }
        return (Array(text.utf8), "a CSV of \(kinds[kind].name), \(written) row(s)\(oddLabel)")
    }

    private mutating func csvRow(kind: Int, number: Int) -> [String] {
        let tag = self.random.below(1_000_000)
        switch kind {
        case 0:
            return [
                self.random.chance(30) && !self.context.cityCodes.isEmpty
                    ? self.random.pick(self.context.cityCodes) : "36\(10 + self.random.below(90))00", "城市\(tag)",
            ]
        case 1:
            let city =
                self.random.chance(50) && !self.context.cityCodes.isEmpty
                ? self.random.pick(self.context.cityCodes) : self.random.pick(["南昌市", "九江", "360100"])
            return [
                self.random.chance(20) && !self.context.schoolCodes.isEmpty
                    ? self.random.pick(self.context.schoolCodes) : "4136\(100_000 + self.random.below(900_000))",
                "测试学校\(tag)", self.random.pick(["高职", "中职", "higher_vocational", "技工学校", "应用型本科"]), city,
                "\(1 + self.random.below(40))", "\(100 + self.random.below(20_000))", "S001 会计;S002 电子商务",
                self.random.pick(["", "国家示范（骨干）院校"]),
            ]
        case 2:
            return [
                "测试组织\(tag)", "张三;李四", "0791-88888888;0791-66666666", "13800138000;13900139000", "a@b.cn;c@d.cn", "", "江西省南昌市红谷滩区",
                "330000",
            ]
        default:
            return [
                "FUZZ-\(tag)", "测试证书\(tag)", self.random.pick(["首批", "第二批", "1", ""]), self.random.pick(["初级;中级;高级", "初级", "特级"]),
                self.random.pick(["廊坊市中科建筑产业化创新研究中心", "", "无此组织"]), "", self.random.pick(["", "60", "100"]),
            ]
        }
    }

    /// RFC 4180: quoted when it holds a comma, a quote, a semicolon or a line break.
    private static func csvCell(_ cell: String) -> String {
        let special: Set<Unicode.Scalar> = [",", "\"", ";", "\r", "\n"]
        guard cell.unicodeScalars.contains(where: special.contains) else { return cell }
        return "\"" + cell.split(separator: "\"", omittingEmptySubsequences: false).joined(separator: "\"\"") + "\""
    }

    /// 5,000 characters, CJK and ASCII mixed.
    static let longMixed: String = {
        let pattern = Array("江西省职业技术学院BIM证书𠜎a1-")
        return String((0..<5_000).map { pattern[$0 % pattern.count] })
    }()

    static let longASCII = String(repeating: "A", count: 5_000)

    /// A short, printable rendering of a string for a report.
    static func quoted(_ value: String) -> String {
        let escaped = value.unicodeScalars.map { scalar -> String in
            switch scalar.value {
            case 0x20..<0x7F where scalar != "\"" && scalar != "\\": return String(scalar)
            case 0x4E00...0x9FFF: return String(scalar)
            default: return "\\u{\(String(scalar.value, radix: 16, uppercase: true))}"
            }
        }.joined()
        return escaped.count > 60 ? "\"\(escaped.prefix(60))…\" (\(value.count) chars)" : "\"\(escaped)\""
    }
}

/// One value and how a report names it.
private struct Scalar {
    enum Wire {
        case varint(UInt64)
        case fixed64(UInt64)
        case fixed32(UInt32)
        case bytes([UInt8])
    }

    let wire: Wire
    let label: String

    init(_ wire: Wire, _ label: String) {
        self.wire = wire
        self.label = label
    }

    /// About the bytes it takes.
    var size: Int {
        switch self.wire {
        case .varint: 11
        case .fixed64: 9
        case .fixed32: 5
        case .bytes(let bytes): bytes.count + 4
        }
    }

    func write(_ number: Int, into out: inout ProtoWriter) {
        switch self.wire {
        case .varint(let value): out.varint(number, value)
        case .fixed64(let value): out.fixed64(number, value)
        case .fixed32(let value): out.fixed32(number, value)
        case .bytes(let value): out.lengthDelimited(number, value)
        }
    }

    /// Without a tag: an element of a packed field.
    func writeBare(into out: inout ProtoWriter) {
        switch self.wire {
        case .varint(let value): out.rawVarint(value)
        case .fixed64(let value): out.rawFixed64(value)
        case .fixed32(let value): out.rawFixed32(value)
        case .bytes: break
        }
    }
}

// MARK: - The declared contracts

extension EveryMethod {
    /// Every rpc's contract as `proto/` declares it (the `xcert.options.v1.contract` option),
    /// read from ``XCertDescriptorSet``: the same that the generated `MethodDescriptor`s of
    /// `XCertAPI` carry, by method name.
    public static let contracts: [String: MethodContract] = {
        var contracts: [String: MethodContract] = [:]
        for file in ProtoIndex.shared.files {
            for service in file.service {
                for method in service.method {
                    let name = "/\(file.package).\(service.name)/\(method.name)"
                    let options: Google_Protobuf_MethodOptions
                    do {
                        // Parsed without the extension, the contract is an unknown field: again, with it.
                        options = try Google_Protobuf_MethodOptions(
                            serializedBytes: try method.options.serializedBytes() as [UInt8],
                            extensions: Xcert_Options_V1_Options_Extensions
                        )
                    } catch {
                        preconditionFailure("the options of \(name) do not parse: \(error)")
                    }
                    let contract = options.Xcert_Options_V1_contract
                    let roles: [Principal.Role] = contract.roles.compactMap { role in
                        switch role {
                        case .provinceAdmin: .provinceAdmin
                        case .cityReviewer: .cityReviewer
                        case .school: .school
                        case .organization: .organization
                        case .service: .service
                        default: nil
                        }
                    }
                    contracts[name] =
                        contract.public
                        ? .public
                        : MethodContract(
                            roles: Set(roles), isMutating: contract.mutating,
                            limitClass: contract.limit == .write ? .write : .read
                        )
                }
            }
        }
        return contracts
    }()
}
