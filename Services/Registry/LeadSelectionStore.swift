import Foundation
import Logging
import PostgresNIO
import XCertDomain
import XCertProto
import XCertService
import XCertWire

/// The SQL of lead-school selections (`registry.lead_selections`) as their lifecycle moves on.
enum LeadSelectionStore {
    /// A selection as its lifecycle knows it.
    static func lifecycle(of selection: Xcert_Registry_V1_LeadSelection) throws -> LeadSelection {
        let phase: LeadSelection.Phase
        switch selection.phase {
        case .applications: phase = .applications
        case .expertReview: phase = .expertReview
        case .publicNotice: phase = .publicNotice
        case .final: phase = .final
        default: throw RPCError(.internal, "the selection of \(selection.certificateCode) in \(selection.year) has no known phase")
        }
        let close = selection.applicationsClose
        guard let applicationsClose = LocalDate(year: Int(close.year), month: Int(close.month), day: Int(close.day)) else {
            throw RPCError(.internal, "the selection of \(selection.certificateCode) in \(selection.year) has no closing day")
        }
        return LeadSelection(
            certificate: selection.certificateCode, year: selection.year, phase: phase, applicationsClose: applicationsClose,
            noticeEndsAt: selection.hasNoticeEndsAt ? Date(selection.noticeEndsAt) : nil
        )
    }

    /// Writes what a transition of the selection of `certificate` in `year` changed.
    static func record(_ event: LeadSelection.Event, certificate: String, year: Int32, _ connection: PostgresConnection, _ logger: Logger) async throws {
        switch event {
        case .applicationsClosed:
            try await connection.query(
                "UPDATE registry.lead_selections SET phase = \(LeadSelection.Phase.expertReview.rawValue) WHERE certificate_code = \(certificate) AND year = \(year)",
                logger: logger
            )
        case .leadsNamed(let noticeEndsAt):
            try await connection.query(
                """
                UPDATE registry.lead_selections SET phase = \(LeadSelection.Phase.publicNotice.rawValue), notice_ends_at = \(noticeEndsAt)
                WHERE certificate_code = \(certificate) AND year = \(year)
                """,
                logger: logger
            )
        case .finalized(let at):
            try await connection.query(
                """
                UPDATE registry.lead_selections SET phase = \(LeadSelection.Phase.final.rawValue), finalized_at = \(at)
                WHERE certificate_code = \(certificate) AND year = \(year)
                """,
                logger: logger
            )
        }
    }
}
