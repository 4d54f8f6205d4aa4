import Testing
import XCertService
import XCertStore
import XCertWire

@Suite("Database failures as wire statuses")
struct StoreErrorStatusTests {
    @Test("each kind of database failure has one status, and none carries the database's text")
    func statuses() {
        let expected: [(StoreError.Code, RPCError.Code)] = [
            (.unavailable, .unavailable), (.conflict, .aborted), (.deadlineExceeded, .deadlineExceeded),
            (.cancelled, .cancelled), (.internal, .internal),
        ]
        for (store, wire) in expected {
            struct Underlying: Error { let text = "relation \"filing.secret\" does not exist" }
            let status = RPCError(mapping: StoreError(store, underlying: Underlying()))
            #expect(status.code == wire, "\(store)")
            #expect(!status.message.contains("filing.secret"), "\(store): \(status.message)")
        }
    }
}
