import XCertProto
import XCertWire

/// Keyset paging of a list by a growing id: the page token is the last id of the
/// previous page. Lists ask for `size + 1` rows; ``cut(_:id:)`` keeps `size` and says
/// whether there is more.
public struct Paging: Sendable {
    public static let defaultSize = 100
    public static let maximumSize = 1000

    /// How many to return.
    public let size: Int
    /// Return ids above this.
    public let after: Int64

    public init(_ request: Xcert_Common_V1_PageRequest, field: String) throws {
        var violations: [RPCError.FieldViolation] = []
        if request.pageSize < 0 || request.pageSize > Int32(Self.maximumSize) {
            violations.append(.init(field: "\(field).page_size", description: "must be 0 (the default, \(Self.defaultSize)) to \(Self.maximumSize)"))
        }
        var after: Int64 = 0
        if !request.pageToken.isEmpty {
            if let value = Int64(request.pageToken), value >= 0 {
                after = value
            } else {
                violations.append(.init(field: "\(field).page_token", description: "must be the next_page_token of a previous page"))
            }
        }
        guard violations.isEmpty else { throw RPCError.invalidArgument(violations) }
        self.size = request.pageSize == 0 ? Self.defaultSize : Int(request.pageSize)
        self.after = after
    }

    /// The first `size` items and the paging answer (`next_page_token` empty on the last page).
    public func cut<Item>(_ items: [Item], id: (Item) -> Int64) -> ([Item], Xcert_Common_V1_PageResponse) {
        var page = Xcert_Common_V1_PageResponse()
        guard items.count > self.size else { return (items, page) }
        let kept = Array(items.prefix(self.size))
        page.nextPageToken = String(id(kept[kept.count - 1]))
        return (kept, page)
    }
}
