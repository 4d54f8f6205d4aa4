import Foundation
import XCertAPI
import XCertDomain
import XCertProto
import XCertService
import XCertWire

/// What the province and others do about leads beside the open selections: the certificate's
/// organization gives its opinion of each applicant (000 第四条) and the bureau of the first
/// applicant's city recommends it (第十七条); certificates too small for a selection get leads
/// assigned by the province (第五条), and one of them is adjusted (第三条 动态调整).
extension DemoRun {
    func testimonies(
        _ application: Xcert_Registry_V1_LeadApplication, firstApplicant: Bool, schools: [String: DemoSchool], _ parties: DemoParties
    ) async throws {
        var get = Xcert_Registry_V1_GetCertificateRequest()
        get.code = application.certificateCode
        let certificate = try await self.stack.call(
            Xcert_Registry_V1_ReferenceDataService.Method.getCertificate, get, by: self.province, kind: .read)
        if let organization = parties.organizations[certificate.organizationID] {
            var opinion = Xcert_Registry_V1_RecordOrganizationOpinionRequest()
            opinion.applicationID = application.id
            opinion.opinion = firstApplicant ? .supports : .noObjection
            opinion.text = firstApplicant ? "该校为本证书省内骨干试点院校，支持其牵头" : "无异议"
            _ = try await self.stack.call(Xcert_Registry_V1_AllianceService.Method.recordOrganizationOpinion, opinion, by: organization)
            self.count("organization opinions")
        }
        guard firstApplicant, let city = schools[application.schoolCode]?.cityCode, let bureau = parties.unitReviewers[city] else { return }
        var recommend = Xcert_Registry_V1_RecommendLeadApplicantRequest()
        recommend.applicationID = application.id
        recommend.text = "该校专业实力强、试点成效好，推荐牵头（000 第十七条）"
        _ = try await self.stack.call(Xcert_Registry_V1_AllianceService.Method.recommendLeadApplicant, recommend, by: bureau)
        self.count("bureau recommendations")
    }

    /// The first three certificates too small for a selection get two leads each from the
    /// province; in the first, the second lead is then replaced by another school of the alliance.
    func assignedLeads(_ schools: [DemoSchool]) async throws {
        var request = Xcert_Registry_V1_ListAlliancesRequest()
        request.year = self.year
        request.onlyNotOpen = true
        let small = try await self.stack.call(
            Xcert_Registry_V1_AllianceService.Method.listAlliances, request, by: self.province, kind: .read
        ).alliances.sorted { $0.certificateCode < $1.certificateCode }
        let types = Dictionary(uniqueKeysWithValues: schools.map { ($0.code, $0.type) })
        var assigned = 0
        for alliance in small where assigned < 3 {
            var get = Xcert_Registry_V1_GetAllianceRequest()
            get.certificateCode = alliance.certificateCode
            get.year = self.year
            // Higher-vocational and undergraduate schools first, then by code.
            let members = try await self.stack.call(
                Xcert_Registry_V1_AllianceService.Method.getAlliance, get, by: self.province, kind: .read
            ).schoolCodes.sorted { (types[$0] == .secondaryVocational ? 1 : 0, $0) < (types[$1] == .secondaryVocational ? 1 : 0, $1) }
            guard members.count >= 3 else { continue }
            var assign = Xcert_Registry_V1_AssignLeadSchoolsRequest()
            assign.certificateCode = alliance.certificateCode
            assign.year = self.year
            assign.reason = "申报学校数\(alliance.applicantCount)所，未达到10所，由省教育厅指定学校负责（000 第五条）"
            assign.leads = members.prefix(2).enumerated().map { index, school in
                var lead = Xcert_Registry_V1_LeadSchool()
                lead.schoolCode = school
                lead.primary = index == 0
                return lead
            }
            _ = try await self.stack.call(Xcert_Registry_V1_AllianceService.Method.assignLeadSchools, assign, by: self.province)
            assigned += 1
            self.count("small certificates given leads")
            guard assigned == 1 else { continue }
            var adjust = Xcert_Registry_V1_AdjustLeadSchoolsRequest()
            adjust.certificateCode = alliance.certificateCode
            adjust.year = self.year
            adjust.removeSchoolCode = members[1]
            adjust.add.schoolCode = members[2]
            adjust.reason = "\(members[1])牵头工作推进不力，按动态调整机制由\(members[2])接替（000 第三条）"
            _ = try await self.stack.call(Xcert_Registry_V1_AllianceService.Method.adjustLeadSchools, adjust, by: self.province)
            self.count("leads replaced")
            self.progress(
                "alliances", "\(alliance.certificateCode): lead \(members[1]) replaced by \(members[2]) (xctl alliance selection show)")
        }
        self.progress(
            "alliances",
            """
            \(self.counted("small certificates given leads")) small certificates given leads by the province; \
            \(self.counted("organization opinions")) organization opinions, \(self.counted("bureau recommendations")) bureau \
            recommendations recorded with the lead applications
            """)
    }
}
