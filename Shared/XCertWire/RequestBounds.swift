import Foundation
import SwiftProtobuf

/// The bounds every request is held to before its handler runs (docs/protocol.md,
/// "Admission order and bounds"): no string holds U+0000, and no repeated or map field
/// holds more elements than `proto/` declares for it (`xcert.options.v1.max_items`).
///
/// Invalid UTF-8 never gets this far: decoding a `string` field refuses it. The table is
/// generated from `proto/` by `scripts/gen-proto` (`XCertAPI`); the check walks any
/// message with SwiftProtobuf's `Visitor`, so a new field is checked without new code.
public struct RequestBounds: Sendable {
    /// What the table knows of one message type.
    public struct MessageBounds: Sendable {
        /// Field number → the field's name in `proto/`, for the violations' paths.
        public var fieldNames: [Int: String]
        /// Field number → the most elements the repeated or map field may hold.
        public var maximumItems: [Int: Int]

        public init(fieldNames: [Int: String], maximumItems: [Int: Int]) {
            self.fieldNames = fieldNames
            self.maximumItems = maximumItems
        }
    }

    /// By full protobuf message name.
    public let messages: [String: MessageBounds]

    public init(messages: [String: MessageBounds]) {
        self.messages = messages
    }

    /// No list maxima (text is still checked): for test methods of no `proto/` rpc.
    public static let textOnly = RequestBounds(messages: [:])

    /// Every violation of `message`, each naming its field's path
    /// (`content.fees[1].received`), at most ``RPCError/maximumFieldViolations``; the count
    /// of the rest in `omitted`.
    public func violations(of message: some SwiftProtobuf.Message) -> (violations: [RPCError.FieldViolation], omitted: Int) {
        var visitor = BoundsVisitor(bounds: self, messageName: type(of: message).protoMessageName)
        // The visitor itself never throws; the protocol's methods may.
        try? message.traverse(visitor: &visitor)
        return (visitor.violations, visitor.omitted)
    }

    /// INVALID_ARGUMENT naming every violation of `message`, or nothing when there is none.
    public func check(_ message: some SwiftProtobuf.Message) throws(RPCError) {
        let (violations, omitted) = self.violations(of: message)
        guard !violations.isEmpty else { return }
        throw RPCError.invalidArgument(violations, omitted: omitted)
    }
}

/// Walks a message, keeping the path to where it is, and records what breaks the bounds.
private struct BoundsVisitor: SwiftProtobuf.Visitor {
    /// One step of the path: a field, and the element of it when it is a list.
    private struct Step {
        var messageName: String
        var fieldNumber: Int
        var index: Int?
    }

    let bounds: RequestBounds
    /// The message being visited.
    private var messageName: String
    private var path: [Step] = []
    private(set) var violations: [RPCError.FieldViolation] = []
    private(set) var omitted = 0

    init(bounds: RequestBounds, messageName: String) {
        self.bounds = bounds
        self.messageName = messageName
    }

    // MARK: What is checked

    private mutating func text(_ value: String, _ fieldNumber: Int, index: Int? = nil) {
        // U+0000 is the byte 0 in UTF-8 and in no other scalar's encoding.
        if value.utf8.contains(0) {
            self.fail(fieldNumber, index: index, "must not contain the character U+0000 (NUL)")
        }
    }

    private mutating func count(_ count: Int, _ fieldNumber: Int) {
        guard let maximum = self.bounds.messages[self.messageName]?.maximumItems[fieldNumber], count > maximum else { return }
        self.fail(fieldNumber, "has \(count) elements; at most \(maximum) are accepted")
    }

    private mutating func nested<M: SwiftProtobuf.Message>(_ message: M, _ fieldNumber: Int, index: Int? = nil) throws {
        let outer = self.messageName
        self.path.append(Step(messageName: outer, fieldNumber: fieldNumber, index: index))
        self.messageName = M.protoMessageName
        defer {
            self.messageName = outer
            self.path.removeLast()
        }
        try message.traverse(visitor: &self)
    }

    private mutating func fail(_ fieldNumber: Int, index: Int? = nil, _ description: String) {
        guard self.violations.count < RPCError.maximumFieldViolations else {
            self.omitted += 1
            return
        }
        let steps = self.path + [Step(messageName: self.messageName, fieldNumber: fieldNumber, index: index)]
        let field = steps.map { step in
            let name = self.bounds.messages[step.messageName]?.fieldNames[step.fieldNumber] ?? "#\(step.fieldNumber)"
            return step.index.map { "\(name)[\($0)]" } ?? name
        }.joined(separator: ".")
        self.violations.append(.init(field: field, description: description))
    }

    // MARK: Text and nested messages

    mutating func visitSingularStringField(value: String, fieldNumber: Int) throws {
        self.text(value, fieldNumber)
    }

    mutating func visitRepeatedStringField(value: [String], fieldNumber: Int) throws {
        self.count(value.count, fieldNumber)
        for (index, element) in value.enumerated() { self.text(element, fieldNumber, index: index) }
    }

    mutating func visitSingularMessageField<M: SwiftProtobuf.Message>(value: M, fieldNumber: Int) throws {
        try self.nested(value, fieldNumber)
    }

    mutating func visitRepeatedMessageField<M: SwiftProtobuf.Message>(value: [M], fieldNumber: Int) throws {
        self.count(value.count, fieldNumber)
        for (index, element) in value.enumerated() { try self.nested(element, fieldNumber, index: index) }
    }

    mutating func visitSingularGroupField<G: SwiftProtobuf.Message>(value: G, fieldNumber: Int) throws {
        try self.nested(value, fieldNumber)
    }

    mutating func visitRepeatedGroupField<G: SwiftProtobuf.Message>(value: [G], fieldNumber: Int) throws {
        self.count(value.count, fieldNumber)
        for (index, element) in value.enumerated() { try self.nested(element, fieldNumber, index: index) }
    }

    mutating func visitMapField<KeyType, ValueType: MapValueType>(
        fieldType: _ProtobufMap<KeyType, ValueType>.Type,
        value: _ProtobufMap<KeyType, ValueType>.BaseType,
        fieldNumber: Int
    ) throws {
        self.count(value.count, fieldNumber)
        for (key, element) in value {
            if let key = key as? String { self.text(key, fieldNumber) }
            if let element = element as? String { self.text(element, fieldNumber) }
        }
    }

    mutating func visitMapField<KeyType, ValueType>(
        fieldType: _ProtobufEnumMap<KeyType, ValueType>.Type,
        value: _ProtobufEnumMap<KeyType, ValueType>.BaseType,
        fieldNumber: Int
    ) throws where ValueType.RawValue == Int {
        self.count(value.count, fieldNumber)
        for key in value.keys {
            if let key = key as? String { self.text(key, fieldNumber) }
        }
    }

    mutating func visitMapField<KeyType, ValueType>(
        fieldType: _ProtobufMessageMap<KeyType, ValueType>.Type,
        value: _ProtobufMessageMap<KeyType, ValueType>.BaseType,
        fieldNumber: Int
    ) throws {
        self.count(value.count, fieldNumber)
        for (key, element) in value {
            if let key = key as? String { self.text(key, fieldNumber) }
            try self.nested(element, fieldNumber)
        }
    }

    // MARK: Lists of scalars: only their length (packed lists arrive here too)

    mutating func visitRepeatedFloatField(value: [Float], fieldNumber: Int) throws { self.count(value.count, fieldNumber) }
    mutating func visitRepeatedDoubleField(value: [Double], fieldNumber: Int) throws { self.count(value.count, fieldNumber) }
    mutating func visitRepeatedInt32Field(value: [Int32], fieldNumber: Int) throws { self.count(value.count, fieldNumber) }
    mutating func visitRepeatedInt64Field(value: [Int64], fieldNumber: Int) throws { self.count(value.count, fieldNumber) }
    mutating func visitRepeatedUInt32Field(value: [UInt32], fieldNumber: Int) throws { self.count(value.count, fieldNumber) }
    mutating func visitRepeatedUInt64Field(value: [UInt64], fieldNumber: Int) throws { self.count(value.count, fieldNumber) }
    mutating func visitRepeatedSInt32Field(value: [Int32], fieldNumber: Int) throws { self.count(value.count, fieldNumber) }
    mutating func visitRepeatedSInt64Field(value: [Int64], fieldNumber: Int) throws { self.count(value.count, fieldNumber) }
    mutating func visitRepeatedFixed32Field(value: [UInt32], fieldNumber: Int) throws { self.count(value.count, fieldNumber) }
    mutating func visitRepeatedFixed64Field(value: [UInt64], fieldNumber: Int) throws { self.count(value.count, fieldNumber) }
    mutating func visitRepeatedSFixed32Field(value: [Int32], fieldNumber: Int) throws { self.count(value.count, fieldNumber) }
    mutating func visitRepeatedSFixed64Field(value: [Int64], fieldNumber: Int) throws { self.count(value.count, fieldNumber) }
    mutating func visitRepeatedBoolField(value: [Bool], fieldNumber: Int) throws { self.count(value.count, fieldNumber) }
    mutating func visitRepeatedBytesField(value: [Data], fieldNumber: Int) throws { self.count(value.count, fieldNumber) }
    mutating func visitRepeatedEnumField<E: SwiftProtobuf.Enum>(value: [E], fieldNumber: Int) throws {
        self.count(value.count, fieldNumber)
    }

    // MARK: Nothing to check

    mutating func visitSingularDoubleField(value: Double, fieldNumber: Int) throws {}
    mutating func visitSingularInt64Field(value: Int64, fieldNumber: Int) throws {}
    mutating func visitSingularUInt64Field(value: UInt64, fieldNumber: Int) throws {}
    mutating func visitSingularBoolField(value: Bool, fieldNumber: Int) throws {}
    mutating func visitSingularBytesField(value: Data, fieldNumber: Int) throws {}
    mutating func visitSingularEnumField<E: SwiftProtobuf.Enum>(value: E, fieldNumber: Int) throws {}
    mutating func visitUnknown(bytes: Data) throws {}
}
