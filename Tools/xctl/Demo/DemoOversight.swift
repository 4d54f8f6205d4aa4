import Foundation
import XCertAPI
import XCertDomain
import XCertProto
import XCertService
import XCertWire

/// The province's oversight of organizations: inspections at the monitoring points (004 第19条),
/// a finding per item of the agreement and the follow-up of those not fulfilled; and an
/// organization (001 §四.1, 004 第22条) suspended for an irregularity until it mends it, its
/// next roster refused, then reinstated. (An exit is final, so the demo, which a stack may
/// drive again for another year, does not make one: the tests do.)
extension DemoRun {
    /// The items of an organization's agreement (试点协议) the inspectors look at.
    static let agreementItems = ["考核组织实施", "收费标准执行", "培训资源提供", "师资培训"]

    /// Inspects up to two monitoring points of each of the first eight certificates that have them.
    func inspections(_ reference: DemoReference) async throws {
        var random = self.random("inspections")
        var inspected = 0
        for certificate in reference.certificates.sorted(by: { $0.code < $1.code }) where inspected < 8 {
            var get = Xcert_Registry_V1_GetMonitoringPointsRequest()
            get.certificateCode = certificate.code
            get.year = self.year
            let points: [Xcert_Registry_V1_MonitoringPoint]
            do {
                points = try await self.stack.call(
                    Xcert_Registry_V1_SiteService.Method.getMonitoringPoints, get, by: self.province, kind: .read
                ).points
            } catch let error as RPCError where error.code == .notFound {
                continue  // none selected for this certificate
            }
            guard !points.isEmpty else { continue }
            inspected += 1
            for point in points.prefix(2) {
                let day = min(
                    self.date(month: Int.random(in: 5...11, using: &random), day: Int.random(in: 1...28, using: &random)), self.today)
                var request = Xcert_Registry_V1_RecordInspectionRequest()
                request.inspection.certificateCode = certificate.code
                request.inspection.year = self.year
                request.inspection.schoolCode = point.schoolCode
                request.inspection.inspectedOn = day.wire
                request.inspection.inspector = ["省1+X试点办 王敏", "省1+X试点办 刘洋", "监测专家 陈静"][Int.random(in: 0...2, using: &random)]
                request.inspection.findings = Self.agreementItems.map { item in
                    var finding = Xcert_Registry_V1_InspectionFinding()
                    finding.agreementItem = item
                    finding.compliant = !random.chance(12)
                    finding.finding = finding.compliant ? "符合协议约定" : "\(item)未按协议落实"
                    return finding
                }
                let unmet = request.inspection.findings.filter { !$0.compliant }
                if !unmet.isEmpty {
                    request.inspection.followUp = "限30日内整改：" + unmet.map(\.agreementItem).joined(separator: "、")
                }
                let inspection = try await self.stack.call(
                    Xcert_Registry_V1_OversightService.Method.recordInspection, request, by: self.province)
                self.count("inspections")
                self.count("inspection items not fulfilled", unmet.count)
                guard !unmet.isEmpty, random.chance(50) else { continue }
                var note = Xcert_Registry_V1_RecordFollowUpRequest()
                note.inspectionID = inspection.id
                note.note.notedOn = min(day.adding(days: 20), self.today).wire
                note.note.note = "整改完成，经复查符合协议约定"
                note.note.resolved = true
                _ = try await self.stack.call(Xcert_Registry_V1_OversightService.Method.recordFollowUp, note, by: self.province)
                self.count("inspections resolved after follow-up")
            }
        }
        self.progress("oversight", "\(self.counted("inspections")) inspections at monitoring points (xctl report inspections)")
    }

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
