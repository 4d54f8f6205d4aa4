import XCertProto
import XCertWire

/// Keyset paging of a list ordered by a growing key: the page token is the key of the
/// last item of the previous page, an id (``after``) or a code (``afterCode``). Lists
/// ask for `size + 1` rows; ``cut(_:key:)`` keeps `size` and says whether there is more.
public struct Paging: Sendable {
    public static let defaultSize = 100
    public static let maximumSize = 1000

    /// What a list is ordered by, which decides what its page tokens look like.
    public enum Key: Sendable {
        /// A positive integer id.
        case id
        /// A code such as a school's or a certificate's (letters, digits, `-`).
        case code
    }

    /// How many to return.
    public let size: Int
    /// Return ids above this (lists keyed by id).
    public let after: Int64
    /// Return codes above this; empty for the first page (lists keyed by code).
    public let afterCode: String

    public init(_ request: Xcert_Common_V1_PageRequest, field: String, key: Key = .id) throws {
        var checks = FieldChecks()
        checks.require(
            (0...Int32(Self.maximumSize)).contains(request.pageSize),
            "\(field).page_size", "must be 0 (the default, \(Self.defaultSize)) to \(Self.maximumSize)"
        )
        var after: Int64 = 0
        var afterCode = ""
        if !request.pageToken.isEmpty {
            switch key {
            case .id:
                if let value = Int64(request.pageToken), value >= 0 {
                    after = value
                } else {
                    checks.fail("\(field).page_token", "must be the next_page_token of a previous page")
                }
            case .code:
                if request.pageToken.count <= 64, request.pageToken.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") })
                {
                    afterCode = request.pageToken
                } else {
                    checks.fail("\(field).page_token", "must be the next_page_token of a previous page")
                }
            }
        }
        try checks.check()
        self.size = request.pageSize == 0 ? Self.defaultSize : Int(request.pageSize)
        self.after = after
        self.afterCode = afterCode
    }

    /// The first `size` items and the paging answer (`next_page_token` empty on the last page).
    public func cut<Item>(_ items: [Item], id: (Item) -> Int64) -> ([Item], Xcert_Common_V1_PageResponse) {
        self.cut(items, key: { String(id($0)) })
    }

    /// The first `size` items and the paging answer, for lists keyed by code.
    public func cut<Item>(_ items: [Item], key: (Item) -> String) -> ([Item], Xcert_Common_V1_PageResponse) {
        var page = Xcert_Common_V1_PageResponse()
        guard items.count > self.size else { return (items, page) }
        let kept = Array(items.prefix(self.size))
        page.nextPageToken = key(kept[kept.count - 1])
        return (kept, page)
    }
}

/// A page of a change feed (`List…Changes`): the changes after a cursor, at most `limit`.
public struct FeedPaging: Sendable {
    public static let defaultLimit = 100
    public static let maximumLimit = 1000

    /// Changes after this cursor; 0 from the beginning.
    public let after: Int64
    /// How many at the most.
    public let limit: Int

    /// INVALID_ARGUMENT names `after` or `limit` when they are out of range.
    public init(after: Int64, limit: Int32) throws {
        var checks = FieldChecks()
        checks.require(after >= 0, "after", "must be 0 or a cursor of an earlier answer")
        checks.require((0...Int32(Self.maximumLimit)).contains(limit), "limit", "must be 0 (\(Self.defaultLimit)) to \(Self.maximumLimit)")
        try checks.check()
        self.after = after
        self.limit = limit == 0 ? Self.defaultLimit : Int(limit)
    }
}
