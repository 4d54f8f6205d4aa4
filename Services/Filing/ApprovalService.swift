import Foundation
import PostgresNIO
import XCertAPI
import XCertProto
import XCertService
import XCertStore
import XCertWire

/// `xcert.filing.v1.ApprovalService`: the approved certificates, asked by the registry
/// (rule 2), published per round, and followed by settlement through their feed.
struct ApprovalService: Xcert_Filing_V1_ApprovalService.Handler {
    let context: ServiceContext

    @Sendable
    func checkCertificateApproval(
        _ request: Xcert_Filing_V1_CheckCertificateApprovalRequest, _ call: RequestContext
    ) async throws -> Xcert_Filing_V1_CheckCertificateApprovalResponse {
        return try await self.context.database.read(call) { connection in
            var response = Xcert_Filing_V1_CheckCertificateApprovalResponse()
            if let approval = try await FilingStore.approvals(
                certificateCode: request.certificateCode, year: request.year, limit: 1, connection, call.logger
            ).first?.approval {
                response.approved = true
                response.filingID = approval.filingID
                response.roundNumber = approval.roundNumber
                response.approvedAt = approval.approvedAt
                response.schoolLevels = approval.schoolLevels
                response.specialtyScope = approval.specialtyScope
            }
            return response
        }
    }

    @Sendable
    func listApprovedCertificates(
        _ request: Xcert_Filing_V1_ListApprovedCertificatesRequest, _ call: RequestContext
    ) async throws -> Xcert_Filing_V1_ListApprovedCertificatesResponse {
        try FieldChecks.checkYear(request.year)
        return try await self.context.database.read(call) { connection in
            var response = Xcert_Filing_V1_ListApprovedCertificatesResponse()
            response.certificates = try await FilingStore.approvals(
                year: request.year, roundNumber: request.roundNumber == 0 ? nil : request.roundNumber, connection, call.logger
            ).map(\.approval).sorted { ($0.roundNumber, $0.certificateCode) < ($1.roundNumber, $1.certificateCode) }
            return response
        }
    }

    @Sendable
    func listApprovalChanges(
        _ request: Xcert_Filing_V1_ListApprovalChangesRequest, _ call: RequestContext
    ) async throws -> Xcert_Filing_V1_ListApprovalChangesResponse {
        let page = try await FeedPaging.changes(after: request.after, limit: request.limit, cursor: { $0.cursor }, self.context, call) {
            after, limit, connection, logger in
            try await FilingStore.approvals(year: nil, afterCursor: after, limit: limit, connection, logger).map { cursor, approval in
                var change = Xcert_Filing_V1_ApprovalChange()
                change.cursor = cursor
                change.approval = approval
                return change
            }
        }
        var response = Xcert_Filing_V1_ListApprovalChangesResponse()
        (response.changes, response.nextCursor) = page
        return response
    }
}
