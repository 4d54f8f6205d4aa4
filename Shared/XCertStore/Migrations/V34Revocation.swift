import Foundation

extension Migration {
    /// Revocation of certificates: each certificate's position in the province's revocation
    /// status lists (W3C Bitstring Status List), and the revocation with its reason; for
    /// analysts, `analytics.certificates` with the revocation.
    static let v34Revocation = Migration(
        version: 34,
        name: "certificate revocation",
        statements: [
            "CREATE SEQUENCE filing.certificate_status_index AS integer MINVALUE 0 START 0",
            """
            ALTER TABLE filing.certificates
                ADD COLUMN status_index integer UNIQUE,
                ADD COLUMN revoked_at timestamptz,
                ADD COLUMN revoked_by text,
                ADD COLUMN revocation_reason text CHECK (revocation_reason IS NULL OR length(revocation_reason) BETWEEN 1 AND 500),
                ADD CONSTRAINT certificates_revocation CHECK ((revoked_at IS NULL) = (revocation_reason IS NULL))
            """,
        ] + AnalyticsViews.certificatesRevoked.replacingStatements
    )
}

extension AnalyticsViews {
    /// `analytics.certificates` since V34: V33's, with the revocation.
    static let certificatesRevoked = AnalyticsView(
        name: certificates.name,
        comment: certificates.comment,
        select: certificates.select.replacingOccurrences(
            of: "c.session_roster_id, c.roster_id\n", with: "c.session_roster_id, c.roster_id, c.revoked_at, c.revocation_reason\n"),
        columns: certificates.columns + [
            ("revoked_at", "when the province revoked it; NULL: in force"), ("revocation_reason", "why it was revoked"),
        ]
    )
}
