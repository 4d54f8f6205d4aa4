import Crypto
import Foundation
import XCertAPI
import XCertDomain
import XCertProto
import XCertService
import XCertStore
import XCertWire

/// The first half of the year: fee ceilings, the organizations' filings in two rounds,
/// the schools' applications and their reviews, alliances and their lead schools,
/// assessment sites.
extension DemoRun {
    // MARK: - Fee ceilings

    /// The national cost ceiling of each level, in fen: the province keeps fees under them (rule 10).
    static let ceilings: [Xcert_Common_V1_CertificateLevel: Int64] = [.elementary: 30_000, .intermediate: 45_000, .advanced: 60_000]

    func feeCeilings(_ reference: DemoReference) async throws {
        var request = Xcert_Settlement_V1_SetFeeCeilingsRequest()
        for certificate in reference.certificates {
            for level in certificate.levels {
                var ceiling = Xcert_Settlement_V1_FeeCeiling()
                ceiling.certificateCode = certificate.code
                ceiling.level = level
                ceiling.ceiling.fen = Self.ceilings[level] ?? 60_000
                request.ceilings.append(ceiling)
            }
        }
        _ = try await self.stack.call(Xcert_Settlement_V1_FeeCeilingService.Method.setFeeCeilings, request, by: self.province)
        var policy = Xcert_Settlement_V1_SetDuePolicyRequest()
        policy.policy.year = self.year
        policy.policy.basis = .afterExam
        policy.policy.days = 30
        _ = try await self.stack.call(Xcert_Settlement_V1_LedgerService.Method.setDuePolicy, policy, by: self.province)
        self.progress(
            "settlement",
            "fee ceilings set for \(request.ceilings.count) certificate levels (300 / 450 / 600 yuan); fees fall due 30 days after the exam"
        )
    }

    // MARK: - Filings

    /// Every organization files each of its certificates: most in round 1 and approved;
    /// some rejected (a fee above its ceiling, a vague site plan) and filed again; one
    /// organization late, refused by the closed round 1 and filing in round 2.
    func filings(_ reference: DemoReference, _ parties: DemoParties) async throws {
        var random = self.random("filings")
        let certificates = reference.certificates.filter { $0.organizationID != 0 }
        let organizations = Array(Set(certificates.map(\.organizationID))).sorted()
        let late = organizations.randomElement(using: &random)!
        let onTime = certificates.filter { $0.organizationID != late }.shuffled(using: &random)
        let aboveCeiling = Set(onTime.prefix(2).map(\.code))
        let vague = Set(onTime.dropFirst(2).prefix(2).map(\.code))
        var chosenFees: [String: [Xcert_Common_V1_CertificateLevel: Int64]] = [:]
        for certificate in certificates {
            for level in certificate.levels {
                let ceiling = Self.ceilings[level] ?? 60_000
                // 60 % to 95 % of the ceiling, in whole tens of yuan.
                chosenFees[certificate.code, default: [:]][level] =
                    Int64.random(in: ceiling * 6 / 10...ceiling * 95 / 100, using: &random) / 1000 * 1000
            }
        }
        let fees = chosenFees

        try await self.openRound(1)
        // Round 1: everyone but the late organization.
        let submitted = try await mapConcurrently(onTime) { certificate in
            var plan = self.workPlan(certificate, fees: fees[certificate.code] ?? [:])
            if aboveCeiling.contains(certificate.code) { plan.fees[0].fee.fen = (Self.ceilings[plan.fees[0].level] ?? 60_000) + 8_000 }
            if vague.contains(certificate.code) { plan.siteArrangement = "另行通知" }
            return (certificate, try await self.submitFiling(certificate, round: 1, plan: plan, parties))
        }
        self.count("filings submitted", submitted.count)
        self.progress("filings", "round 1 opened; \(submitted.count) filings submitted by \(organizations.count - 1) organizations")

        try await forEachConcurrently(submitted) { certificate, filing in
            if aboveCeiling.contains(certificate.code) {
                // The approval is refused with the excess; the officer sends it back.
                let refusal = try await self.stack.refusal(
                    Xcert_Filing_V1_FilingService.Method.reviewFiling, Self.review(filing.id, approve: true), by: self.province)
                guard let refusal else {
                    throw CLIError("filing \(filing.id) of \(certificate.code) was approved with a fee above its ceiling")
                }
                self.count("approvals refused: fee above the ceiling")
                try await self.reviewFiling(filing.id, approve: false, reason: "收费标准超出国家成本上限（\(refusal.message)），请调整后重新备案")
            } else if vague.contains(certificate.code) {
                try await self.reviewFiling(filing.id, approve: false, reason: "考核站点设置与管理方案不具体，请补充各设区市站点安排后重新备案")
            } else {
                try await self.reviewFiling(filing.id, approve: true)
            }
        }
        // The rejected ones file again, corrected, and are approved.
        let corrected = submitted.filter { aboveCeiling.contains($0.0.code) || vague.contains($0.0.code) }
        try await forEachConcurrently(corrected) { certificate, _ in
            let filing = try await self.submitFiling(
                certificate, round: 1, plan: self.workPlan(certificate, fees: fees[certificate.code] ?? [:]), parties)
            try await self.reviewFiling(filing.id, approve: true)
        }
        self.count("filings rejected and filed again", corrected.count)
        var close = Xcert_Filing_V1_CloseRoundRequest()
        close.year = self.year
        close.number = 1
        _ = try await self.stack.call(Xcert_Filing_V1_FilingService.Method.closeRound, close, by: self.province)
        self.progress(
            "filings",
            """
            round 1: \(submitted.count - corrected.count) approved at once, \(aboveCeiling.count) refused for a fee above its ceiling and \
            \(vague.count) for a vague site plan, then filed again and approved; round 1 closed
            """
        )

        // The late organization: round 1 refuses it; round 2 takes it.
        let lateCertificates = certificates.filter { $0.organizationID == late }
        var request = Xcert_Filing_V1_SubmitFilingRequest()
        request.certificateCode = lateCertificates[0].code
        request.year = self.year
        request.roundNumber = 1
        request.plan = self.workPlan(lateCertificates[0], fees: fees[lateCertificates[0].code] ?? [:])
        guard
            let closed = try await self.stack.refusal(
                Xcert_Filing_V1_FilingService.Method.submitFiling, request, by: parties.organizations[late]!)
        else {
            throw CLIError("a filing was accepted by the closed round 1")
        }
        self.count("late filings refused by the closed round 1")
        try await self.openRound(2)
        try await forEachConcurrently(lateCertificates) { certificate in
            let filing = try await self.submitFiling(
                certificate, round: 2, plan: self.workPlan(certificate, fees: fees[certificate.code] ?? [:]), parties)
            try await self.reviewFiling(filing.id, approve: true)
        }
        self.count("filings submitted", lateCertificates.count + corrected.count)
        self.count("filings in round 2", lateCertificates.count)
        close.number = 2
        _ = try await self.stack.call(Xcert_Filing_V1_FilingService.Method.closeRound, close, by: self.province)
        self.progress(
            "filings",
            """
            a late organization was refused by round 1 (\(closed.code): \(closed.message)); it filed its \(lateCertificates.count) \
            certificates in round 2, approved; \(certificates.count) certificates approved for \(self.year)
            """
        )
    }

    private func openRound(_ number: Int32) async throws {
        var round = Xcert_Filing_V1_OpenRoundRequest()
        round.year = self.year
        round.number = number
        round.closes = self.today.adding(days: 30).wire
        _ = try await self.stack.call(Xcert_Filing_V1_FilingService.Method.openRound, round, by: self.province)
    }

    private func workPlan(
        _ certificate: Xcert_Registry_V1_Certificate, fees: [Xcert_Common_V1_CertificateLevel: Int64]
    ) -> Xcert_Filing_V1_WorkPlan {
        var plan = Xcert_Filing_V1_WorkPlan()
        plan.schoolLevels = [.secondary, .higherVocational, .undergraduate]
        plan.specialtyScope = DemoSchools.specialtyCategories
        plan.siteArrangement = "每个有试点院校的设区市至少设一个考核站点，站点由试点院校申报、组织审核、省厅备案"
        plan.teacherRequirements = "每个试点专业至少2名持证培训教师，考评员须经组织培训考核"
        plan.teachingConditions = "具备满足考核要求的实训室和设备"
        plan.examArrangement = "理论机考与实操考核，每年春秋两季，考后10个工作日内报送成绩"
        plan.fees = certificate.levels.map { level in
            var fee = Xcert_Filing_V1_LevelFee()
            fee.level = level
            fee.fee.fen = fees[level] ?? 20_000
            fee.costBasis = "考评员劳务、场地设备、耗材及命题阅卷成本测算"
            return fee
        }
        return plan
    }

    private func submitFiling(
        _ certificate: Xcert_Registry_V1_Certificate, round: Int32, plan: Xcert_Filing_V1_WorkPlan, _ parties: DemoParties
    ) async throws -> Xcert_Filing_V1_Filing {
        var request = Xcert_Filing_V1_SubmitFilingRequest()
        request.certificateCode = certificate.code
        request.year = self.year
        request.roundNumber = round
        request.plan = plan
        return try await self.stack.call(
            Xcert_Filing_V1_FilingService.Method.submitFiling, request, by: parties.organizations[certificate.organizationID]!)
    }

    private static func review(_ id: Int64, approve: Bool, reason: String = "") -> Xcert_Filing_V1_ReviewFilingRequest {
        var request = Xcert_Filing_V1_ReviewFilingRequest()
        request.id = id
        request.approve = approve
        request.reason = reason
        return request
    }

    private func reviewFiling(_ id: Int64, approve: Bool, reason: String = "") async throws {
        _ = try await self.stack.call(
            Xcert_Filing_V1_FilingService.Method.reviewFiling, Self.review(id, approve: approve, reason: reason), by: self.province)
    }

    // MARK: - Applications

    /// Each eligible school applies for a few approved certificates within its caps
    /// (some try one too many and are refused by the 40 % / 30 % caps); technical schools
    /// are refused. Secondary schools' applications go to their city bureau first.
    /// Returns the year's qualifications.
    func applications(
        _ reference: DemoReference, _ schools: [DemoSchool], _ parties: DemoParties
    ) async throws -> [Xcert_Registry_V1_PilotQualification] {
        var random = self.random("applications")
        let certificates = reference.certificates.filter { $0.organizationID != 0 }
        // The first batch is what most schools pilot; the small certificates get a few each.
        let weighted = certificates.flatMap { Array(repeating: $0, count: $0.batch == 1 ? 14 : 1) }
        struct Plan: Sendable {
            var school: DemoSchool
            var applications: [Xcert_Registry_V1_SubmitApplicationRequest]
            var overCap: Xcert_Registry_V1_SubmitApplicationRequest?
        }
        var plans: [Plan] = []
        for school in schools {
            let caps = PilotCaps(specialtyCount: school.specialtyCount, enrolledStudents: school.enrolled)
            var chosen: [Xcert_Registry_V1_Certificate] = []
            let wanted = school.type.isEligibleForPilot ? Int.random(in: 1...max(1, min(caps.maximumCertificates, 6)), using: &random) : 1
            while chosen.count < wanted {
                let certificate = weighted.randomElement(using: &random)!
                if !chosen.contains(where: { $0.code == certificate.code }) { chosen.append(certificate) }
            }
            let budget = caps.maximumStudents * Int.random(in: 55...90, using: &random) / 100
            let requests = chosen.enumerated().map { index, certificate in
                var request = Xcert_Registry_V1_SubmitApplicationRequest()
                request.schoolCode = school.code
                request.certificateCode = certificate.code
                request.year = self.year
                var levels: [Xcert_Common_V1_CertificateLevel] = [.elementary]
                if school.type != .secondaryVocational, random.chance(50), certificate.levels.contains(.intermediate) {
                    levels.append(.intermediate)
                }
                if school.type == .appliedUndergraduate || school.type == .vocationalUndergraduate, random.chance(40),
                    certificate.levels.contains(.advanced)
                {
                    levels.append(.advanced)
                }
                request.levels = levels
                request.specialtyCodes = Array(
                    school.eligibleSpecialties.shuffled(using: &random).prefix(Int.random(in: 1...2, using: &random)).map(\.code))
                request.workPlan = Self.workPlan(school, certificate)
                request.studentScale = Int32(max(20, min(400, budget / wanted + (index == 0 ? budget % wanted : 0))))
                return request
            }
            var overCap: Xcert_Registry_V1_SubmitApplicationRequest?
            if school.type.isEligibleForPilot, random.chance(8),
                let extra = certificates.first(where: { candidate in !chosen.contains { $0.code == candidate.code } })
            {
                var request = requests[0]
                request.certificateCode = extra.code
                if chosen.count < caps.maximumCertificates {
                    // Within the 40 % cap: breach the 30 % one instead.
                    request.studentScale = Int32(min(100_000, caps.maximumStudents + 1))
                }
                overCap = request
            }
            plans.append(Plan(school: school, applications: requests, overCap: overCap))
        }

        // Scales that the year's candidates fill: about nine in ten planned students declared.
        let planned = plans.filter { $0.school.type.isEligibleForPilot }.flatMap(\.applications).reduce(0) { $0 + Int($1.studentScale) }
        let factor = min(1.0, Double(self.candidateTarget) * 1.1 / Double(max(1, planned)))
        for index in plans.indices where plans[index].school.type.isEligibleForPilot {
            for application in plans[index].applications.indices {
                plans[index].applications[application].studentScale = Int32(
                    max(10, (Double(plans[index].applications[application].studentScale) * factor).rounded()))
            }
        }
        // The province opens the year's application window (001 §三.3) for the week ahead.
        var window = Xcert_Registry_V1_SetApplicationWindowRequest()
        window.year = self.year
        window.number = 1
        window.opens = self.today.adding(days: -1).wire
        window.closes = self.today.adding(days: 7).wire
        _ = try await self.stack.call(Xcert_Registry_V1_PilotService.Method.setApplicationWindow, window, by: self.province)
        // A school applying for next year, for which no window is open, is refused.
        if let early = plans.first(where: { $0.school.type.isEligibleForPilot })?.applications.first {
            var nextYear = early
            nextYear.year = self.year + 1
            guard
                let refusal = try await self.stack.refusal(
                    Xcert_Registry_V1_PilotService.Method.submitApplication, nextYear, by: parties.schools[early.schoolCode]!),
                refusal.message.contains("no application window")
            else {
                throw CLIError("an application for \(self.year + 1), outside any window, was not refused for it")
            }
            self.count("applications refused: no open window")
        }
        let submitted = try await mapConcurrently(plans) { plan -> [Xcert_Registry_V1_PilotApplication] in
            let party = parties.schools[plan.school.code]!
            guard plan.school.type.isEligibleForPilot else {
                guard
                    try await self.stack.refusal(Xcert_Registry_V1_PilotService.Method.submitApplication, plan.applications[0], by: party)
                        != nil
                else {
                    throw CLIError("the application of technical school \(plan.school.code) was accepted")
                }
                self.count("applications refused: technical school")
                return []
            }
            var applications: [Xcert_Registry_V1_PilotApplication] = []
            for request in plan.applications {
                applications.append(try await self.stack.call(Xcert_Registry_V1_PilotService.Method.submitApplication, request, by: party))
            }
            if let overCap = plan.overCap {
                guard
                    let refusal = try await self.stack.refusal(Xcert_Registry_V1_PilotService.Method.submitApplication, overCap, by: party),
                    refusal.code == .failedPrecondition
                else {
                    throw CLIError("school \(plan.school.code)'s application beyond its caps was not refused by them")
                }
                self.count("applications refused by the 40 % / 30 % caps")
            }
            if let ineligible = plan.school.ineligibleSpecialty, var attempt = plan.applications.first {
                attempt.specialtyCodes = [ineligible]
                guard
                    let refusal = try await self.stack.refusal(Xcert_Registry_V1_PilotService.Method.submitApplication, attempt, by: party),
                    refusal.message.contains("below 50 %")
                else {
                    throw CLIError("school \(plan.school.code)'s application with an ineligible specialty was not refused for it")
                }
                self.count("applications refused: ineligible specialty")
            }
            return applications
        }.flatMap { $0 }
        self.count("applications", submitted.count)
        self.progress(
            "applications",
            """
            \(submitted.count) applications from \(plans.filter { $0.school.type.isEligibleForPilot }.count) schools; \
            \(self.counted("applications refused by the 40 % / 30 % caps")) refused by the 40 % / 30 % caps, \
            \(self.counted("applications refused: technical school")) from technical schools refused
            """
        )

        // Reviews: the reviewing unit (a city's bureau or a designated one) first for secondary
        // schools, then the province.
        let types = Dictionary(uniqueKeysWithValues: schools.map { ($0.code, $0) })
        let decisions = submitted.map { application in
            (application, random.chance(7), random.chance(4))
        }
        // About one secondary school's application in fifteen its reviewing unit leaves pending.
        let awaitingUnits = decisions.map(\.0).filter { $0.state == .awaitingCityReview }
        let leftPending = Set(awaitingUnits.enumerated().filter { $0.offset % 15 == 7 }.map(\.element.id))
        try await forEachConcurrently(decisions) { application, cityRejects, provinceRejects in
            var current = application
            if leftPending.contains(application.id) {
                self.count("reviews left pending by a reviewing unit")
                return
            }
            if current.state == .awaitingCityReview {
                let school = types[application.schoolCode]!
                current = try await self.reviewApplication(
                    application.id, approve: !cityRejects, reason: "申报专业与证书对应性不足，师资条件未达要求",
                    by: parties.unitReviewers[school.reviewingUnitCode]!)
                self.count(cityRejects ? "applications rejected by a city bureau" : "applications passed by a city bureau")
                if school.reviewingUnitCode != school.cityCode { self.count("applications reviewed by a designated bureau") }
            }
            guard current.state == .awaitingProvinceReview else { return }
            _ = try await self.reviewApplication(
                application.id, approve: !provinceRejects, reason: "试点规模与实训条件不匹配，建议下年度再申报", by: self.province)
            self.count(provinceRejects ? "applications rejected by the province" : "applications approved")
        }
        // The year is a past one: the province records its window as it was (round 1 of 001, closing
        // 12 June), and the reviews left pending are overdue 5 working days after it.
        window.opens = LocalDate(year: Int(self.year), month: 5, day: 15)!.wire
        window.closes = LocalDate(year: Int(self.year), month: 6, day: 12)!.wire
        _ = try await self.stack.call(Xcert_Registry_V1_PilotService.Method.setApplicationWindow, window, by: self.province)
        var overdue = Xcert_Registry_V1_ListApplicationsRequest()
        overdue.year = self.year
        overdue.overdueOnly = true
        let flagged = try await self.stack.call(
            Xcert_Registry_V1_PilotService.Method.listApplications, overdue, by: self.province, kind: .read
        ).applications
        self.count("reviews overdue", flagged.count)
        let qualifications = try await allPages { token in
            var request = Xcert_Registry_V1_ListQualificationsRequest()
            request.year = self.year
            request.page.pageToken = token
            request.page.pageSize = 1000
            let response = try await self.stack.call(
                Xcert_Registry_V1_PilotService.Method.listQualifications, request, by: self.province, kind: .read)
            return (response.qualifications, response.page.nextPageToken)
        }
        self.progress(
            "applications",
            """
            reviewed: \(self.counted("applications passed by a city bureau")) passed and \
            \(self.counted("applications rejected by a city bureau")) rejected by city bureaus; the province approved \
            \(self.counted("applications approved")) and rejected \(self.counted("applications rejected by the province")); \
            \(qualifications.count) pilot qualifications; \(flagged.count) reviews overdue (window 1 recorded as closing \
            \(dateText(window.closes)), reviews due \(flagged.first.map { dateText($0.reviewDue) } ?? "-"))
            """
        )
        return qualifications
    }

    /// The school's pilot work plan (实施方案) for the certificate, as its application attaches it.
    static func workPlan(_ school: DemoSchool, _ certificate: Xcert_Registry_V1_Certificate) -> Xcert_Filing_V1_Attachment {
        demoDocument("\(school.name)\(certificate.name)证书试点实施方案.pdf")
    }

    private func reviewApplication(
        _ id: Int64, approve: Bool, reason: String, by party: Party
    ) async throws -> Xcert_Registry_V1_PilotApplication {
        var request = Xcert_Registry_V1_ReviewApplicationRequest()
        request.applicationID = id
        request.approve = approve
        request.reason = approve ? "" : reason
        return try await self.stack.call(Xcert_Registry_V1_PilotService.Method.reviewApplication, request, by: party)
    }

    // MARK: - Alliances

    /// The alliances of certificates with 10 or more schools select their lead schools:
    /// notice, applications, expert scores, leads named and put to public notice (which
    /// runs 7 days; `xctl alliance finalize` ends it afterwards).
    func alliances(_ schools: [DemoSchool], _ parties: DemoParties) async throws {
        var random = self.random("alliances")
        var request = Xcert_Registry_V1_ListAlliancesRequest()
        request.year = self.year
        let alliances = try await self.stack.call(
            Xcert_Registry_V1_AllianceService.Method.listAlliances, request, by: self.province, kind: .read
        ).alliances
        let open = alliances.filter(\.openToLeadSelection)
        let types = Dictionary(uniqueKeysWithValues: schools.map { ($0.code, $0) })
        var plans: [(alliance: String, applicants: [String], scores: [[Int32]])] = []
        for alliance in open {
            var get = Xcert_Registry_V1_GetAllianceRequest()
            get.certificateCode = alliance.certificateCode
            get.year = self.year
            let members = try await self.stack.call(
                Xcert_Registry_V1_AllianceService.Method.getAlliance, get, by: self.province, kind: .read
            ).schoolCodes
            // Higher-vocational and undergraduate schools apply to lead.
            let eligible = members.filter { types[$0]?.type != .secondaryVocational }.sorted()
            let pool = eligible.count >= 3 ? eligible : members.sorted()
            let applicants = Array(pool.shuffled(using: &random).prefix(Int.random(in: 3...5, using: &random)))
            plans.append(
                (
                    alliance.certificateCode, applicants,
                    applicants.map { _ in (0..<3).map { _ in Int32.random(in: 62...96, using: &random) } }
                ))
        }
        try await forEachConcurrently(plans, limit: 4) { plan in
            var selection = Xcert_Registry_V1_OpenLeadSelectionRequest()
            selection.certificateCode = plan.alliance
            selection.year = self.year
            selection.applicationsClose = self.today.adding(days: 14).wire
            _ = try await self.stack.call(Xcert_Registry_V1_AllianceService.Method.openLeadSelection, selection, by: self.province)
            var averages: [(school: String, total: Int32)] = []
            for (school, scores) in zip(plan.applicants, plan.scores) {
                var apply = Xcert_Registry_V1_SubmitLeadApplicationRequest()
                apply.certificateCode = plan.alliance
                apply.year = self.year
                apply.schoolCode = school
                apply.form.contactPerson = "1+X试点办公室"
                apply.form.contactPhone = "0791-8888" + school.suffix(4)
                apply.form.address = "\(types[school]?.name ?? school)"
                apply.form.schoolProfile = "\(types[school]?.name ?? school)开设相关专业，具备完善的实训条件。"
                apply.form.implementation = "已完成\(self.year - 1)年度试点，考核通过率高于全省平均。"
                apply.form.advantages = ["牵头或参与省级专业教学资源库建设", "拥有省级以上实训基地"]
                apply.form.workPlan = "组织联盟院校开展师资培训、教学资源共建和考核站点共享。"
                apply.form.commitmentSigned = true
                let submitted = try await self.stack.call(
                    Xcert_Registry_V1_AllianceService.Method.submitLeadApplication, apply, by: parties.schools[school]!)
                averages.append((school, scores.reduce(0, +)))
                try await self.testimonies(submitted, firstApplicant: school == plan.applicants.first, schools: types, parties)
            }
            var close = Xcert_Registry_V1_CloseLeadApplicationsRequest()
            close.certificateCode = plan.alliance
            close.year = self.year
            _ = try await self.stack.call(Xcert_Registry_V1_AllianceService.Method.closeLeadApplications, close, by: self.province)
            var get = Xcert_Registry_V1_GetLeadSelectionRequest()
            get.certificateCode = plan.alliance
            get.year = self.year
            let applications = try await self.stack.call(
                Xcert_Registry_V1_AllianceService.Method.getLeadSelection, get, by: self.province, kind: .read
            ).applications
            // The experts score once the applications have closed.
            for application in applications {
                guard let index = plan.applicants.firstIndex(of: application.schoolCode) else { continue }
                for (expert, score) in plan.scores[index].enumerated() {
                    var record = Xcert_Registry_V1_RecordExpertScoreRequest()
                    record.applicationID = application.id
                    record.expert = "评审专家\(["甲", "乙", "丙"][expert])"
                    record.score = score
                    record.comment = score >= 85 ? "基础扎实，方案可行" : "方案尚需细化"
                    _ = try await self.stack.call(Xcert_Registry_V1_AllianceService.Method.recordExpertScore, record, by: self.province)
                }
            }
            let ranked = averages.sorted { ($0.total, $1.school) > ($1.total, $0.school) }.prefix(3)
            var name = Xcert_Registry_V1_NameLeadSchoolsRequest()
            name.certificateCode = plan.alliance
            name.year = self.year
            name.noticeDays = 7
            name.leads = ranked.enumerated().map { index, entry in
                var lead = Xcert_Registry_V1_LeadSchool()
                lead.schoolCode = entry.school
                lead.primary = index == 0
                return lead
            }
            _ = try await self.stack.call(Xcert_Registry_V1_AllianceService.Method.nameLeadSchools, name, by: self.province)
            self.count("lead schools named", name.leads.count)
        }
        self.count("alliances", alliances.count)
        self.count("alliances selecting leads", open.count)
        self.progress(
            "alliances",
            """
            \(alliances.count) alliances; \(open.count) have 10 or more schools and selected lead schools \
            (\(self.counted("lead schools named")) named, under 7 days of public notice); \(alliances.count - open.count) are too small \
            (merged or assigned by the province)
            """
        )
    }

    // MARK: - Sites

    /// Each organization registers an assessment site in most cities that have pilot
    /// schools of its certificate, leaving a few gaps for the coverage check to find.
    /// Returns the sites.
    func sites(
        _ reference: DemoReference, _ schools: [DemoSchool], _ qualifications: [Xcert_Registry_V1_PilotQualification],
        _ parties: DemoParties
    ) async throws -> [Xcert_Registry_V1_AssessmentSite] {
        var random = self.random("sites")
        let byCode = Dictionary(uniqueKeysWithValues: schools.map { ($0.code, $0) })
        var requests: [(Int64, Xcert_Registry_V1_RegisterSiteRequest)] = []
        for (code, held) in Dictionary(grouping: qualifications, by: \.certificateCode).sorted(by: { $0.key < $1.key }) {
            guard let certificate = reference.certificate(code) else { continue }
            let cities = Dictionary(grouping: held, by: \.cityCode).sorted { $0.key < $1.key }
            for (index, (_, inCity)) in cities.enumerated() {
                // About one city in eight is left without a site (a gap), never the first.
                if index > 0, random.chance(12) { continue }
                let hosts = inCity.map(\.schoolCode).sorted {
                    (byCode[$0]?.type == .secondaryVocational ? 1 : 0, $0) < (byCode[$1]?.type == .secondaryVocational ? 1 : 0, $1)
                }
                var request = Xcert_Registry_V1_RegisterSiteRequest()
                request.schoolCode = hosts[0]
                request.certificateCode = code
                request.levels = certificate.levels
                request.capacity = Int32.random(in: 4...15, using: &random) * 10
                request.yearOpened = random.chance(75) ? self.year : self.year - 1
                requests.append((certificate.organizationID, request))
            }
        }
        let sites = try await mapConcurrently(requests) { organization, request in
            let party = parties.organizations[organization]!
            do {
                return try await self.stack.call(Xcert_Registry_V1_SiteService.Method.registerSite, request, by: party)
            } catch let error as RPCError where error.code == .alreadyExists {
                // A site of an earlier year (a demo of another year on this stack) serves on.
                var list = Xcert_Registry_V1_ListSitesRequest()
                list.certificateCode = request.certificateCode
                list.schoolCode = request.schoolCode
                guard
                    let site = try await self.stack.call(Xcert_Registry_V1_SiteService.Method.listSites, list, by: party, kind: .read).sites
                        .first
                else { throw error }
                return site
            }
        }
        var coverage = Xcert_Registry_V1_GetSiteCoverageRequest()
        coverage.year = self.year
        let gaps = try await self.stack.call(Xcert_Registry_V1_SiteService.Method.getSiteCoverage, coverage, by: self.province, kind: .read)
            .gaps

        // Monitoring points: about 10 pilot schools of each first-batch certificate.
        let firstBatch = reference.certificates.filter { $0.batch == 1 }.map(\.code)
        var points = 0
        for code in firstBatch {
            let held = qualifications.filter { $0.certificateCode == code }.map(\.schoolCode).sorted()
            guard !held.isEmpty else { continue }
            var select = Xcert_Registry_V1_SelectMonitoringPointsRequest()
            select.certificateCode = code
            select.year = self.year
            select.schoolCodes = Array(held.shuffled(using: &random).prefix(10))
            _ = try await self.stack.call(Xcert_Registry_V1_SiteService.Method.selectMonitoringPoints, select, by: self.province)
            points += select.schoolCodes.count
        }
        self.count("sites", sites.count)
        self.count("coverage gaps", gaps.count)
        self.progress(
            "sites",
            """
            \(sites.count) assessment sites registered by the organizations (\(sites.filter { $0.yearOpened == self.year }.count) new this \
            year); \(gaps.count) city × certificate gaps left for the coverage check (rule 7); \(points) monitoring points of \
            \(firstBatch.count) first-batch certificates
            """
        )
        return sites
    }
}
