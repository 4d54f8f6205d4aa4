import Foundation
import Testing
import XCertDomain

@Suite("An exam roster's lifecycle: uploading → sealed → superseded")
struct RosterLifecycleTests {
    static let now = Date(timeIntervalSince1970: 1_750_000_000)

    @Test(
        """
        chunks: a new one while uploading; the same rows again are a repeat, even once sealed; other rows under an acknowledged number, or \
        a new chunk once sealed, are refused
        """
    )
    func chunks() throws {
        let uploading = RosterLifecycle(id: 5, state: .uploading, chunks: [0: "aa"], rowCount: 3)
        #expect(try uploading.accept(chunk: 1, digest: "bb") == .new)
        #expect(try uploading.accept(chunk: 0, digest: "aa") == .repeated)
        let changed = #expect(throws: DomainError.self) { try uploading.accept(chunk: 0, digest: "cc") }
        #expect(changed?.code == .failedPrecondition && changed?.field == "chunk_index" && changed?.reason == "roster.chunk-changed")

        let sealed = RosterLifecycle(id: 5, state: .sealed, chunks: [0: "aa"], rowCount: 3)
        #expect(try sealed.accept(chunk: 0, digest: "aa") == .repeated)
        let late = #expect(throws: DomainError.self) { try sealed.accept(chunk: 1, digest: "bb") }
        #expect(late?.reason == "roster.sealed")
        #expect(
            late?.message
                == """
                roster 5 is sealed and never changes; to correct it, \
                create a roster with supersedes_roster_id 5 and a correction_reason
                """
        )
    }

    @Test(
        "sealing: chunks 0 … n without gaps and the expected count; a correction supersedes what it corrects; sealing again changes nothing"
    )
    func seal() throws {
        var first = RosterLifecycle(id: 5, state: .uploading, chunks: [0: "a", 1: "b"], rowCount: 7)
        #expect(try first.seal(expectedRowCount: 7, now: Self.now) == [.sealed(rosterID: 5, at: Self.now)])
        #expect(first.state == .sealed)
        #expect(try first.seal(expectedRowCount: 7, now: Self.now) == [], "sealed again: the same answer, published once")

        var correction = RosterLifecycle(id: 6, state: .uploading, version: 2, chunks: [0: "a"], rowCount: 1, supersedes: 5)
        #expect(try correction.seal(expectedRowCount: 0, now: Self.now) == [.superseded(rosterID: 5), .sealed(rosterID: 6, at: Self.now)])

        var empty = RosterLifecycle(id: 7, state: .uploading)
        #expect((#expect(throws: DomainError.self) { try empty.seal(expectedRowCount: 0, now: Self.now) })?.reason == "roster.no-chunks")
        var gaps = RosterLifecycle(
            id: 8, state: .uploading, chunks: [0: "a", 1: "b", 2: "c", 3: "d", 5: "e", 7: "f", 8: "g", 9: "h"], rowCount: 8)
        let gap = #expect(throws: DomainError.self) { try gaps.seal(expectedRowCount: 0, now: Self.now) }
        #expect(gap?.message == "roster 8 lacks chunk 4: chunks are numbered from 0 without gaps (uploaded: 0-3, 5, 7-9)")
        var short = RosterLifecycle(id: 9, state: .uploading, chunks: [0: "a"], rowCount: 4_999)
        let count = #expect(throws: DomainError.self) { try short.seal(expectedRowCount: 5_000, now: Self.now) }
        #expect(
            count?.reason == "roster.row-count-differs"
                && count?.message.contains("holds 4999 candidates in 1 chunks, not the 5000 expected") == true)
        #expect(short.state == .uploading && gaps.state == .uploading, "a refused seal changes nothing")
    }

    @Test("a correction: only of a sealed version not yet corrected, as the next version")
    func correction() throws {
        #expect(try RosterLifecycle(id: 5, state: .sealed, version: 2).correctionVersion() == 3)
        let unsealed = #expect(throws: DomainError.self) { try RosterLifecycle(id: 5, state: .uploading).correctionVersion() }
        #expect(unsealed?.code == .failedPrecondition && unsealed?.reason == "roster.correcting-unsealed")
        let superseded = #expect(throws: DomainError.self) {
            try RosterLifecycle(id: 5, state: .superseded, correctedBy: 6).correctionVersion()
        }
        #expect(superseded?.message == "roster 5 is already superseded by roster 6; correct that one")
        let pending = #expect(throws: DomainError.self) { try RosterLifecycle(id: 5, state: .sealed, correctedBy: 6).correctionVersion() }
        #expect(pending?.code == .alreadyExists && pending?.message == "roster 6 already corrects roster 5; upload into it and seal it")
    }
}
