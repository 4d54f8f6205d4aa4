import Testing
import XCertProto

@testable import XCertService

@Suite("Audit targets")
struct AuditTargetsTests {
    static func chunk(rows: Int) -> Xcert_Filing_V1_UploadChunkRequest {
        var request = Xcert_Filing_V1_UploadChunkRequest()
        request.rosterID = 7
        request.chunkIndex = 2
        request.rows = (0..<rows).map { index in
            var row = Xcert_Filing_V1_CandidateRow()
            row.candidateNumber = "C\(index)"
            row.schoolCode = "4136010001"
            return row
        }
        return request
    }

    @Test("the lists of a call are left out before it is described, and nothing else: the same targets for one row as for many")
    func listsLeftOut() {
        let many = Self.chunk(rows: 3)
        let trimmed = AuditTargets.withoutLists(many)
        #expect(trimmed.rows.isEmpty)
        #expect(trimmed.rosterID == 7 && trimmed.chunkIndex == 2)
        // A list of one occurs once: kept, and skipped by the description as every list is.
        #expect(AuditTargets.withoutLists(Self.chunk(rows: 1)) == Self.chunk(rows: 1))
        let none: Xcert_Filing_V1_Roster? = nil
        #expect(AuditTargets.describe(many, none) == "roster_id=7")
        #expect(AuditTargets.describe(Self.chunk(rows: 1), none) == AuditTargets.describe(many, none))
    }
}
