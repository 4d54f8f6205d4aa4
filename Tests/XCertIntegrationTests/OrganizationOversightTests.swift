import Foundation
import PostgresNIO
import SwiftProtobuf
import Testing
import XCertAPI
import XCertDomain
import XCertProto
import XCertStore
import XCertTestSupport
import XCertWire

/// 001 §四.1 and 004 第22条 through the real services: irregularities recorded against an
/// organization, its suspension and exit with their history; a suspended organization's
/// filing is not approved and it opens no roster; an exit cancels the receivables of exams
/// held after it by a correcting entry and leaves those before.
@Suite(
    "Oversight of organizations: irregularities, suspension, exit",
    .enabled(if: TestCluster.isConfigured, "needs the PostgreSQL that scripts/test starts"), .serialized, .timeLimit(.minutes(3)))
struct OrganizationOversightTests {
    static func irregularity(
        _ organization: Int64, _ kind: Xcert_Registry_V1_OrganizationIrregularityKind = .agents, description: String = "委托代理机构招生",
        year: Int32 = 2026
    ) -> Xcert_Registry_V1_RecordOrganizationIrregularityRequest {
        var request = Xcert_Registry_V1_RecordOrganizationIrregularityRequest()
        request.organizationID = organization
        request.kind = kind
        request.description_p = description
        request.year = year
        return request
    }

    static func decision(
        _ organization: Int64, _ standing: Xcert_Registry_V1_OrganizationStanding, reason: String = "违规开展试点",
        effectiveOn: (Int32, Int32, Int32)? = nil
    ) -> Xcert_Registry_V1_SetOrganizationStandingRequest {
        var request = Xcert_Registry_V1_SetOrganizationStandingRequest()
        request.organizationID = organization
        request.standing = standing
        request.reason = reason
        if let (year, month, day) = effectiveOn {
            request.effectiveOn.year = year
            request.effectiveOn.month = month
            request.effectiveOn.day = day
        }
        return request
    }

    @Test(
        """
        irregularities and standing are the province's to record, refused field by field; a suspended organization's filing is not \
        approved and it opens no roster, quoting the decision; reinstated, it works again; everyone reads the history
        """
    )
    func suspension() async throws {
        try await withFilingStack { h in
            let world = try await h.rosterWorld()
            let car = world.carOrganization
            let school = try await h.token(role: "school", party: "4136010001")
            let method = Xcert_Registry_V1_OversightService.Method.self

            // Refused: a school recording, a kind of 0, a blank description, a year outside the pilot, an organization that is not.
            #expect(
                await h.refusal(method.recordOrganizationIrregularity, Self.irregularity(car), token: school)?.code == .permissionDenied)
            #expect(
                await h.refusal(
                    method.recordOrganizationIrregularity, Self.irregularity(car, .unspecified, description: " ", year: 2018),
                    token: h.admin)?
                    .fieldViolations.map(\.field).sorted() == ["description", "kind", "year"])
            #expect(await h.refusal(method.recordOrganizationIrregularity, Self.irregularity(999_999), token: h.admin)?.code == .notFound)
            var oversight = try await h.call(method.recordOrganizationIrregularity, Self.irregularity(car), token: h.admin)
            oversight = try await h.call(
                method.recordOrganizationIrregularity, Self.irregularity(car, .forcedPurchase, description: "要求购置指定品牌实训设备"),
                token: h.admin, idempotencyKey: "irregularity-2")
            let again = try await h.call(
                method.recordOrganizationIrregularity, Self.irregularity(car, .forcedPurchase, description: "要求购置指定品牌实训设备"),
                token: h.admin, idempotencyKey: "irregularity-2")
            #expect(again == oversight, "a retry with the same key records nothing twice")
            #expect(oversight.irregularities.map(\.kind) == [.agents, .forcedPurchase] && oversight.standing == .active)

            // A decision: refused for tomorrow, without a reason, without a standing, by a school.
            let tomorrow = RegistryHarness.shanghaiDate(daysFromToday: 1)
            #expect(
                await h.refusal(
                    method.setOrganizationStanding,
                    Self.decision(car, .suspended, effectiveOn: (tomorrow.year, tomorrow.month, tomorrow.day)),
                    token: h.admin)?.fieldViolations.map(\.field) == ["effective_on"])
            #expect(
                await h.refusal(method.setOrganizationStanding, Self.decision(car, .suspended, reason: "  "), token: h.admin)?
                    .fieldViolations.map(\.field) == ["reason"])
            #expect(
                await h.refusal(method.setOrganizationStanding, Self.decision(car, .unspecified), token: h.admin)?.fieldViolations.map(
                    \.field) == ["standing"])
            #expect(
                await h.refusal(method.setOrganizationStanding, Self.decision(car, .suspended), token: school)?.code == .permissionDenied)
            #expect(
                await h.refusal(method.setOrganizationStanding, Self.decision(car, .active), token: h.admin)?.code == .failedPrecondition,
                "it is active already")
            #expect(
                try await h.scalar("SELECT count(*) FROM registry.standing_changes", as: Int64.self) == 0,
                "nothing recorded by the refusals")

            // Suspended today: the version moves, a stale expected version is ABORTED.
            let before = try await h.call(
                Xcert_Registry_V1_ReferenceDataService.Method.getOrganization,
                {
                    var r = Xcert_Registry_V1_GetOrganizationRequest()
                    r.id = car
                    return r
                }(),
                token: h.admin)
            var stale = Self.decision(car, .suspended)
            stale.expectedVersion = before.version + 1
            #expect(await h.refusal(method.setOrganizationStanding, stale, token: h.admin)?.code == .aborted)
            oversight = try await h.call(
                method.setOrganizationStanding, Self.decision(car, .suspended, reason: "委托代理机构招生，限期整改"), token: h.admin)
            #expect(oversight.standing == .suspended && oversight.history.map(\.previous) == [.active])
            #expect(
                await h.refusal(method.setOrganizationStanding, Self.decision(car, .suspended), token: h.admin)?.code == .failedPrecondition
            )

            // Every principal sees it: the organization's standing and its latest decision, the school the whole history.
            let organization = try await h.call(
                Xcert_Registry_V1_ReferenceDataService.Method.getOrganization,
                {
                    var r = Xcert_Registry_V1_GetOrganizationRequest()
                    r.id = car
                    return r
                }(),
                token: school)
            #expect(organization.standing == .suspended && organization.standingChange.reason == "委托代理机构招生，限期整改")
            #expect(organization.version == before.version + 1)
            var get = Xcert_Registry_V1_GetOrganizationOversightRequest()
            get.organizationID = car
            #expect(try await h.call(method.getOrganizationOversight, get, token: school) == oversight)

            // No roster: refused quoting the decision, nothing stored.
            let rosters = try await h.scalar("SELECT count(*) FROM filing.rosters", as: Int64.self)
            let refusedRoster = await h.refusal(
                Xcert_Filing_V1_RosterService.Method.createRoster, RegistryHarness.rosterRequest(), token: world.car)
            #expect(refusedRoster?.code == .failedPrecondition)
            #expect(refusedRoster?.message.contains("no exam roster can be opened") == true)
            #expect(
                refusedRoster?.message.contains("is suspended (暂停) since \(Self.today()) by the province's decision: 委托代理机构招生，限期整改") == true
            )
            #expect(try await h.scalar("SELECT count(*) FROM filing.rosters", as: Int64.self) == rosters)

            // Its new filing is not approved while suspended; it stays in review and is approved once reinstated.
            try await h.openRound(year: 2027)
            let filing = try await h.submitFiling("AUTO", year: 2027, token: world.car)
            var approve = Xcert_Filing_V1_ReviewFilingRequest()
            approve.id = filing.id
            approve.approve = true
            let refusedApproval = await h.refusal(Xcert_Filing_V1_FilingService.Method.reviewFiling, approve, token: h.admin)
            #expect(
                refusedApproval?.code == .failedPrecondition
                    && refusedApproval?.message.contains("filing \(filing.id) cannot be approved") == true)
            #expect(try await h.getFiling(filing.id).state == filing.state, "still awaiting review")
            oversight = try await h.call(method.setOrganizationStanding, Self.decision(car, .active, reason: "整改完成"), token: h.admin)
            #expect(oversight.history.map(\.standing) == [.suspended, .active])
            #expect(try await h.reviewFiling(filing.id, approve: true).state == .approved)
            #expect(try await h.createRoster(token: world.car).state == .uploading)

            // The analysts' views say the same.
            #expect(
                try await h.scalar(
                    "SELECT standing || ':' || irregularities FROM analytics.organization_standings WHERE organization_id = \(car)",
                    as: String.self)
                    == "active:2")
            #expect(
                try await h.scalar(
                    """
                    SELECT string_agg(previous || '>' || standing, ',' ORDER BY change_id) FROM analytics.standing_changes
                    WHERE organization_id = \(car)
                    """,
                    as: String.self) == "active>suspended,suspended>active")
            #expect(
                try await h.scalar(
                    "SELECT count(*) FROM analytics.organization_irregularities WHERE organization_id = \(car)", as: Int64.self) == 2)
        }
    }

    @Test(
        """
        an exit cancels the receivables of exams held after it took effect (paid money becomes credit), also of a roster sealed \
        after the exit; those before stay; the exit is final and the organization opens no roster
        """
    )
    func exit() async throws {
        try await withFilingStack { h in
            let world = try await h.rosterWorld()
            let car = world.carOrganization
            let assessment = try await Assessment.start(h)
            let settlement = try await Settlement.start(h, assessment: assessment)
            _ = try await settlement.waitFor(standards: 3, token: h.admin)

            // Exams on 15 and 20 June, each with 4 candidates of 4136010001; a third session, on 25 June, opened but not sealed.
            for day: Int32 in [15, 20] {
                let roster = try await h.createRoster(day: day, token: world.car)
                _ = try await h.upload(roster.id, chunk: 0, (0..<4).map { Candidates.row(Int(day) * 10 + $0) }, token: world.car)
                _ = try await h.seal(roster.id, token: world.car)
            }
            let late = try await h.createRoster(day: 25, token: world.car)
            _ = try await h.upload(late.id, chunk: 0, (0..<2).map { Candidates.row(250 + $0) }, token: world.car)
            _ = try await settlement.waitFor(receivables: 2, token: h.admin)
            // The school pays both in full: 2 × 4 × 300 yuan.
            let school = try await h.token(role: "school", party: "4136010001")
            _ = try await settlement.pay("4136010001", fen: 240_000, on: (2026, 7, 1), token: school, key: "pay-all")

            // The exit takes effect on 17 June: the 20 June exam's receivable is cancelled, its payment becomes credit.
            let exit = try await h.call(
                Xcert_Registry_V1_OversightService.Method.setOrganizationStanding,
                Self.decision(car, .exited, reason: "强制院校购置指定设备，拒不整改", effectiveOn: (2026, 6, 17)), token: h.admin)
            #expect(exit.standing == .exited && exit.history.last?.effectiveOn.day == 17)
            var account = try await settlement.account("4136010001", token: school)
            for _ in 0..<300 where account.credit.fen != 120_000 {
                try await Task.sleep(for: .milliseconds(100))
                account = try await settlement.account("4136010001", token: school)
            }
            #expect(
                [account.receivable.fen, account.received.fen, account.outstanding.fen, account.credit.fen] == [
                    120_000, 240_000, 0, 120_000,
                ])
            let byDay = Dictionary(uniqueKeysWithValues: account.receivables.map { ($0.examDate.day, $0) })
            #expect(byDay[15]?.entries.map(\.kind) == [.charge] && byDay[15]?.amount.fen == 120_000, "examined before the exit: owed")
            #expect(
                byDay[20]?.entries.map { "\($0.kind):\($0.completed):\($0.amount.fen)" } == ["charge:4:120000", "cancellation:4:-120000"])
            #expect(byDay[20]?.entries.last?.reason.contains("exited the pilot on 2026-06-17, before this exam: 强制院校购置指定设备，拒不整改") == true)
            #expect(byDay[20]?.entries.last?.rosterID == 0)

            // The roster opened before the exit is sealed after it: charged and cancelled at once.
            _ = try await h.seal(late.id, token: world.car)
            for _ in 0..<300 where account.receivables.count < 3 {
                try await Task.sleep(for: .milliseconds(100))
                account = try await settlement.account("4136010001", token: school)
            }
            let cancelled = account.receivables.first { $0.examDate.day == 25 }
            #expect(cancelled?.entries.map { "\($0.kind):\($0.amount.fen)" } == ["charge:60000", "cancellation:-60000"])
            #expect(account.outstanding.fen == 0 && account.credit.fen == 120_000)

            // Final: no roster, no change of standing; the feed was applied once.
            #expect(
                await h.refusal(
                    Xcert_Filing_V1_RosterService.Method.createRoster, RegistryHarness.rosterRequest(day: 26), token: world.car)?
                    .message.contains("is exited (退出) since 2026-06-17") == true)
            #expect(
                await h.refusal(
                    Xcert_Registry_V1_OversightService.Method.setOrganizationStanding, Self.decision(car, .active), token: h.admin)?.code
                    == .failedPrecondition)
            #expect(try await h.scalar("SELECT count(*) FROM settlement.organization_exits", as: Int64.self) == 1)
            #expect(
                try await h.scalar("SELECT count(*) FROM settlement.receivable_entries WHERE kind = 'cancellation'", as: Int64.self) == 2)
            #expect(
                try await h.scalar(
                    "SELECT standing || ' ' || standing_since FROM analytics.organization_standings WHERE organization_id = \(car)",
                    as: String.self)
                    == "exited 2026-06-17")
            await settlement.stop()
            await assessment.stop()
        }
    }

    static func inspection(
        _ school: String, year: Int32, on day: LocalDate, findings: [(String, Bool, String)], followUp: String = ""
    ) -> Xcert_Registry_V1_RecordInspectionRequest {
        var request = Xcert_Registry_V1_RecordInspectionRequest()
        request.inspection.certificateCode = "AUTO"
        request.inspection.year = year
        request.inspection.schoolCode = school
        request.inspection.inspectedOn = day.wire
        request.inspection.inspector = "省1+X试点办 王敏"
        request.inspection.findings = findings.map { item, compliant, text in
            var finding = Xcert_Registry_V1_InspectionFinding()
            finding.agreementItem = item
            finding.compliant = compliant
            finding.finding = text
            return finding
        }
        request.inspection.followUp = followUp
        return request
    }

    @Test(
        """
        inspections at monitoring points only, a finding per agreement item, a follow-up demanded for an unmet item and noted until \
        resolved; who sees which; the per-organization table equals analytics.inspection_summary
        """
    )
    func inspections() async throws {
        try await withRegistry { registry in
            let seeded = try await registry.seedReference()
            let today = LocalDate(containing: Int64(Date().timeIntervalSince1970))
            let year = Int32(today.year)
            let newYear = LocalDate(year: today.year, month: 1, day: 1)!
            registry.filing.approve("AUTO", year: year)
            for code in ["4136010001", "4136010002", "4136010003"] {
                try await registry.createSchool(code)
                try await registry.qualify(code, "AUTO", year: year)
            }
            var select = Xcert_Registry_V1_SelectMonitoringPointsRequest()
            select.certificateCode = "AUTO"
            select.year = year
            select.schoolCodes = ["4136010001", "4136010002"]
            _ = try await registry.call(Xcert_Registry_V1_SiteService.Method.selectMonitoringPoints, select, token: registry.admin)
            let method = Xcert_Registry_V1_OversightService.Method.self
            let car = try await registry.token(role: "organization", party: String(seeded.carOrganization))
            let bim = try await registry.token(role: "organization", party: String(seeded.bimOrganization))
            let point = try await registry.token(role: "school", party: "4136010001")

            // Refused: not a monitoring point; a day in another year or after today; an unmet item without the follow-up demanded.
            let notAPoint = await registry.refusal(
                method.recordInspection, Self.inspection("4136010003", year: year, on: today, findings: [("收费", true, "按标准")]),
                token: registry.admin)
            #expect(notAPoint?.code == .failedPrecondition)
            #expect(notAPoint?.message.contains("its points: 4136010001, 4136010002") == true, "\(String(describing: notAPoint))")
            #expect(
                await registry.refusal(
                    method.recordInspection,
                    Self.inspection("4136010001", year: year, on: today.adding(days: 1), findings: [("培训资源", false, "缺资源包")]),
                    token: registry.admin)?.fieldViolations.map(\.field) == ["inspection.inspected_on", "inspection.follow_up"])
            #expect(
                await registry.refusal(
                    method.recordInspection, Self.inspection("4136010001", year: year, on: today, findings: [("收费", true, "按标准")]),
                    token: car)?.code == .permissionDenied)
            #expect(try await registry.scalar("SELECT count(*) FROM registry.inspections", as: Int64.self) == 0)

            // Two inspections at 4136010001, one at 4136010002: one item unmet, followed up until resolved.
            let clean = try await registry.call(
                method.recordInspection,
                Self.inspection("4136010001", year: year, on: newYear, findings: [("考核组织实施", true, "考务规范"), ("收费", true, "按标准收费")]),
                token: registry.admin)
            #expect(clean.resolved && clean.organizationID == seeded.carOrganization && clean.findings.count == 2)
            var unmet = try await registry.call(
                method.recordInspection,
                Self.inspection(
                    "4136010001", year: year, on: today, findings: [("培训资源", false, "未按协议提供资源包"), ("收费", true, "按标准收费")],
                    followUp: "30日内补齐资源包"), token: registry.admin)
            #expect(!unmet.resolved)
            _ = try await registry.call(
                method.recordInspection, Self.inspection("4136010002", year: year, on: today, findings: [("师资培训", true, "已开展")]),
                token: registry.admin)
            var note = Xcert_Registry_V1_RecordFollowUpRequest()
            note.inspectionID = unmet.id
            note.note.notedOn = today.adding(days: -1).wire
            note.note.note = "提交补齐计划"
            #expect(
                await registry.refusal(method.recordFollowUp, note, token: registry.admin)?.fieldViolations.map(\.field) == [
                    "note.noted_on"
                ],
                "a note before the inspection")
            note.note.notedOn = today.wire
            unmet = try await registry.call(method.recordFollowUp, note, token: registry.admin)
            #expect(!unmet.resolved && unmet.notes.count == 1)

            // The table, before and after the resolution; an organization sees its own line, the view says the same.
            var table = Xcert_Registry_V1_GetInspectionTableRequest()
            table.year = year
            var lines = try await registry.call(method.getInspectionTable, table, token: registry.admin)
            let line = { (l: Xcert_Registry_V1_InspectionLine) in
                "\(l.organizationID):\(l.monitoringPoints)/\(l.pointsInspected)/\(l.inspections)/"
                    + "\(l.findings)/\(l.nonCompliant)/\(l.unresolved)"
            }
            #expect(lines.lines.map(line) == ["\(seeded.carOrganization):2/2/3/5/1/1"])
            let view = try await registry.scalar(
                """
                SELECT organization_id || ':' || monitoring_points || '/' || points_inspected || '/' || inspections || '/'
                       || findings || '/' || non_compliant || '/' || unresolved
                FROM analytics.inspection_summary WHERE year = \(year)
                """, as: String.self)
            #expect(view == line(lines.lines[0]), "the view = the table")
            note.note.note = "资源包已补齐，经复查符合协议"
            note.note.resolved = true
            unmet = try await registry.call(method.recordFollowUp, note, token: registry.admin)
            #expect(unmet.resolved && unmet.notes.map(\.resolved) == [false, true])
            lines = try await registry.call(method.getInspectionTable, table, token: car)
            #expect(lines.lines.map(line) == ["\(seeded.carOrganization):2/2/3/5/1/0"] && lines.total.inspections == 3)
            #expect(try await registry.call(method.getInspectionTable, table, token: bim).lines.isEmpty, "bim has no line of its own")

            // Who sees which inspections: the province all, the organization its own, the school those made at it.
            var list = Xcert_Registry_V1_ListInspectionsRequest()
            list.year = year
            #expect(try await registry.call(method.listInspections, list, token: registry.admin).inspections.count == 3)
            #expect(try await registry.call(method.listInspections, list, token: car).inspections.count == 3)
            #expect(try await registry.call(method.listInspections, list, token: bim).inspections.isEmpty)
            #expect(try await registry.call(method.listInspections, list, token: point).inspections.map(\.id) == [clean.id, unmet.id])
            list.schoolCode = "4136010002"
            #expect(try await registry.call(method.listInspections, list, token: point).inspections.isEmpty)
            list.schoolCode = ""
            list.unresolvedOnly = true
            #expect(try await registry.call(method.listInspections, list, token: registry.admin).inspections.isEmpty)
        }
    }

    /// Today in Asia/Shanghai, as `YYYY-MM-DD`.
    static func today() -> String {
        let date = RegistryHarness.shanghaiDate()
        return String(format: "%04d-%02d-%02d", date.year, date.month, date.day)
    }
}
