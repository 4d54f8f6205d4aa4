import Foundation
import XCertAPI
import XCertDomain
import XCertProto
import XCertService
import XCertWire

/// The province's oversight of an organization (001 §四.1, 004 第22条): an irregularity found at
/// a site, the organization suspended until it mends it, its next roster refused, then its
/// reinstatement. (An exit is final, so the demo, which a stack may drive again for another
/// year, does not make one: the tests do.)
extension DemoRun {
    func oversight(_ reference: DemoReference, _ sites: [Xcert_Registry_V1_AssessmentSite], _ parties: DemoParties) async throws {
        guard let site = sites.sorted(by: { ($0.certificateCode, $0.schoolCode) < ($1.certificateCode, $1.schoolCode) }).first,
            let certificate = reference.certificate(site.certificateCode), let level = certificate.levels.first,
            let organization = parties.organizations[certificate.organizationID]
        else { return }
        let organizationID = certificate.organizationID
        let name = certificate.organizationName

        var irregularity = Xcert_Registry_V1_RecordOrganizationIrregularityRequest()
        irregularity.organizationID = organizationID
        irregularity.kind = .agents
        irregularity.description_p = "\(certificate.name)：在\(site.schoolCode)考核站点经代理机构组织报名"
        irregularity.year = self.year
        _ = try await self.stack.call(
            Xcert_Registry_V1_OversightService.Method.recordOrganizationIrregularity, irregularity, by: self.province)
        self.count("organization irregularities")

        var suspend = Xcert_Registry_V1_SetOrganizationStandingRequest()
        suspend.organizationID = organizationID
        suspend.standing = .suspended
        suspend.reason = "委托代理机构开展证书试点工作（001 §四.1），暂停在省内开展试点业务，限期整改"
        _ = try await self.stack.call(Xcert_Registry_V1_OversightService.Method.setOrganizationStanding, suspend, by: self.province)
        self.count("organizations suspended")
        self.progress("oversight", "\(name) suspended: \(suspend.reason)")

        var roster = Xcert_Filing_V1_CreateRosterRequest()
        roster.session.certificateCode = certificate.code
        roster.session.level = level
        roster.session.siteSchoolCode = site.schoolCode
        roster.session.examDate = min(self.date(month: 12, day: 1), self.today.adding(days: -1)).wire
        guard
            let refusal = try await self.stack.refusal(Xcert_Filing_V1_RosterService.Method.createRoster, roster, by: organization),
            refusal.code == .failedPrecondition
        else {
            throw CLIError("a suspended organization opened a roster of \(certificate.code)")
        }
        self.count("rosters refused: organization suspended")
        self.progress("oversight", "refused as it should be: \(refusal.message)")

        var reinstate = suspend
        reinstate.standing = .active
        reinstate.reason = "已终止与代理机构合作并完成整改，恢复试点业务"
        _ = try await self.stack.call(Xcert_Registry_V1_OversightService.Method.setOrganizationStanding, reinstate, by: self.province)
        self.count("organizations reinstated")
        self.progress("oversight", "\(name) reinstated: \(reinstate.reason) (xctl registry organization oversight \(organizationID))")
    }
}
