import Foundation
import Testing
import XCertAPI
import XCertProto
import XCertTestSupport
import XCertWire

/// The filing service against a real registry and a real database, with a settlement
/// fake for the fee ceilings (`withFilingStack`).
@Suite(
    "Filing: rounds, work-plan filings, their versions and review, approvals",
    .enabled(if: TestCluster.isConfigured, "needs the PostgreSQL that scripts/test starts"), .serialized, .timeLimit(.minutes(3)))
struct FilingTests {
    // MARK: - Rounds

    @Test(
        """
        rounds: the province opens them (each bad field named, a duplicate refused), lists them, closes one early, and a closed round \
        takes no filing
        """
    )
    func rounds() async throws {
        try await withFilingStack { h in
            let seeded = try await h.seedReference()
            let car = try await h.token(role: "organization", party: String(seeded.carOrganization))
            let school = try await h.token(role: "school", party: "4136010001")

            var bad = Xcert_Filing_V1_OpenRoundRequest()
            bad.year = 1999
            bad.number = 0
            bad.closes.year = 2021
            bad.closes.month = 2
            bad.closes.day = 29
            let invalid = try #require(await h.refusal(Xcert_Filing_V1_FilingService.Method.openRound, bad, token: h.admin))
            #expect(invalid.code == .invalidArgument)
            #expect(Set(invalid.fieldViolations.map(\.field)) == ["year", "number", "closes"], "\(invalid.fieldViolations)")
            bad.year = 2020
            bad.number = 1
            let badDate = try #require(await h.refusal(Xcert_Filing_V1_FilingService.Method.openRound, bad, token: h.admin))
            #expect(badDate.fieldViolations.map(\.field) == ["closes"], "2021-02-29 does not exist")

            for token in [car, school] {
                var request = Xcert_Filing_V1_OpenRoundRequest()
                request.year = 2020
                request.number = 1
                request.closes = RegistryHarness.shanghaiDate(daysFromToday: 30)
                let denied = try #require(await h.refusal(Xcert_Filing_V1_FilingService.Method.openRound, request, token: token))
                #expect(denied.code == .permissionDenied)
            }

            let first = try await h.openRound(year: 2020, number: 1)
            #expect(first.closingInstant == "2099-12-31 23:59:59 +08:00")
            #expect(first.open && !first.hasClosedAt)
            let duplicate = try #require(await rpcRefusal { _ = try await h.openRound(year: 2020, number: 1) })
            #expect(duplicate.code == .alreadyExists)
            try await h.openRound(year: 2020, number: 2)
            try await h.openRound(year: 2021, number: 1)

            var list = Xcert_Filing_V1_ListRoundsRequest()
            list.year = 2020
            // Anyone authenticated reads the rounds.
            let rounds2020 = try await h.call(Xcert_Filing_V1_FilingService.Method.listRounds, list, token: car).rounds
            #expect(rounds2020.map { [$0.year, $0.number] } == [[2020, 1], [2020, 2]])
            let all = try await h.call(Xcert_Filing_V1_FilingService.Method.listRounds, Xcert_Filing_V1_ListRoundsRequest(), token: h.admin)
                .rounds
            #expect(all.count == 3)

            var close = Xcert_Filing_V1_CloseRoundRequest()
            close.year = 2020
            close.number = 2
            let deniedClose = try #require(await h.refusal(Xcert_Filing_V1_FilingService.Method.closeRound, close, token: car))
            #expect(deniedClose.code == .permissionDenied)
            let closed = try await h.call(Xcert_Filing_V1_FilingService.Method.closeRound, close, token: h.admin)
            #expect(!closed.open && closed.hasClosedAt)
            close.number = 9
            let missing = try #require(await h.refusal(Xcert_Filing_V1_FilingService.Method.closeRound, close, token: h.admin))
            #expect(missing.code == .notFound)

            let late = try #require(await rpcRefusal { _ = try await h.submitFiling("AUTO", round: 2, token: car) })
            #expect(late.code == .failedPrecondition)
            #expect(late.message.contains("filing round 2 of 2020") && late.message.contains("closed early"), "\(late.message)")
            let noRound = try #require(await rpcRefusal { _ = try await h.submitFiling("AUTO", round: 3, token: car) })
            #expect(noRound.code == .failedPrecondition)
            #expect(noRound.message.contains("no filing round 3 of 2020"), "\(noRound.message)")
            #expect(try await h.filingCount == 0)
            // Round 1 is still open.
            #expect(try await h.submitFiling("AUTO", round: 1, token: car).version == 1)
        }
    }

    @Test("a round that closed yesterday in Asia/Shanghai refuses with its closing instant; one closing today accepts")
    func deadline() async throws {
        // The service reads the real clock, so this pins the day, not the second: the
        // exact boundary (23:59:59 +08:00 accepted, 00:00:00 refused) is pinned by
        // LocalDateTests, whose `accepts(instant:)` is what the service asks.
        try await withFilingStack { h in
            let seeded = try await h.seedReference()
            let car = try await h.token(role: "organization", party: String(seeded.carOrganization))
            let yesterday = RegistryHarness.shanghaiDate(daysFromToday: -1)
            let today = RegistryHarness.shanghaiDate()
            let closedRound = try await h.openRound(year: 2020, number: 1, closes: yesterday)
            let expectedInstant = String(format: "%04d-%02d-%02d 23:59:59 +08:00", yesterday.year, yesterday.month, yesterday.day)
            #expect(closedRound.closingInstant == expectedInstant)
            #expect(!closedRound.open && !closedRound.hasClosedAt)
            let todayRound = try await h.openRound(year: 2020, number: 2, closes: today)
            #expect(todayRound.open)

            let refused = try #require(await rpcRefusal { _ = try await h.submitFiling("AUTO", round: 1, token: car) })
            #expect(refused.code == .failedPrecondition)
            #expect(refused.message.contains("filing round 1 of 2020"), "\(refused.message)")
            #expect(refused.message.contains(expectedInstant), "\(refused.message)")
            #expect(try await h.filingCount == 0)

            let accepted = try await h.submitFiling("AUTO", round: 2, token: car)
            #expect(accepted.roundNumber == 2 && accepted.state == .submitted)
        }
    }

    @Test(
        """
        a certificate given to another organization in the registry is filed for only by the new one, within the 5 s the filing service \
        trusts the registry's answer
        """
    )
    func ownershipChange() async throws {
        try await withFilingStack { h in
            let seeded = try await h.seedReference()
            let car = try await h.token(role: "organization", party: String(seeded.carOrganization))
            let bim = try await h.token(role: "organization", party: String(seeded.bimOrganization))
            try await h.openRound(year: 2020)
            try await h.openRound(year: 2022)
            // The filing service now holds the registry's answer: NEV is car's.
            #expect(try await h.submitFiling("NEV", year: 2020, token: car).version == 1)
            let denied = try #require(await rpcRefusal { _ = try await h.submitFiling("NEV", year: 2020, token: bim) })
            #expect(denied.code == .permissionDenied)

            var get = Xcert_Registry_V1_GetCertificateRequest()
            get.code = "NEV"
            var update = Xcert_Registry_V1_UpdateCertificateRequest()
            update.certificate = try await h.call(Xcert_Registry_V1_ReferenceDataService.Method.getCertificate, get, token: h.admin)
            update.certificate.organizationID = seeded.bimOrganization
            _ = try await h.call(Xcert_Registry_V1_ReferenceDataService.Method.updateCertificate, update, token: h.admin)
            let given = ContinuousClock.now
            // The filing service may answer from what the registry said for 5 s after it
            // asked (it asked before the change), never longer.
            try await Task.sleep(until: given + .milliseconds(5200))
            let refused = try #require(await rpcRefusal { _ = try await h.submitFiling("NEV", year: 2022, token: car) })
            #expect(refused.code == .permissionDenied, "\(refused)")
            #expect(try await h.submitFiling("NEV", year: 2022, token: bim).organizationID == seeded.bimOrganization)
        }
    }

    // MARK: - The work plan

    @Test("every missing or invalid element of the work plan is its own field violation, and nothing is stored")
    func workPlanViolations() async throws {
        try await withFilingStack { h in
            let seeded = try await h.seedReference()
            let car = try await h.token(role: "organization", party: String(seeded.carOrganization))
            try await h.openRound()

            let empty = try #require(
                await h.refusal(
                    Xcert_Filing_V1_FilingService.Method.submitFiling, RegistryHarness.submission("AUTO", plan: .init()), token: car
                ))
            #expect(empty.code == .invalidArgument)
            #expect(
                Set(empty.fieldViolations.map(\.field)) == [
                    "plan.school_levels", "plan.specialty_scope", "plan.site_arrangement", "plan.teacher_requirements",
                    "plan.teaching_conditions", "plan.exam_arrangement", "plan.fees",
                ], "\(empty.fieldViolations)")

            var plan = RegistryHarness.workPlan()
            plan.fees[0].fee.fen = 0
            plan.fees[0].costBasis = "  "
            plan.attachments[0].sha256 = String(repeating: "AB", count: 32)
            plan.attachments[0].name = ""
            let fields = try #require(
                await h.refusal(
                    Xcert_Filing_V1_FilingService.Method.submitFiling, RegistryHarness.submission("AUTO", plan: plan), token: car
                ))
            #expect(fields.code == .invalidArgument)
            #expect(
                Set(fields.fieldViolations.map(\.field)) == [
                    "plan.fees[0].fee.fen", "plan.fees[0].cost_basis", "plan.attachments[0].sha256", "plan.attachments[0].name",
                ], "\(fields.fieldViolations)")

            var blank = RegistryHarness.workPlan()
            blank.schoolLevels = [.unspecified]
            blank.specialtyScope = [""]
            blank.examArrangement = " "
            blank.fees[1].fee.fen = 10_000_001
            let blanks = try #require(
                await h.refusal(
                    Xcert_Filing_V1_FilingService.Method.submitFiling, RegistryHarness.submission("AUTO", plan: blank), token: car
                ))
            #expect(
                Set(blanks.fieldViolations.map(\.field)) == [
                    "plan.school_levels", "plan.specialty_scope[0]", "plan.exam_arrangement", "plan.fees[1].fee.fen",
                ], "\(blanks.fieldViolations)")

            // The fees must be exactly the certificate's levels.
            let lacking = try #require(
                await h.refusal(
                    Xcert_Filing_V1_FilingService.Method.submitFiling,
                    RegistryHarness.submission("AUTO", plan: RegistryHarness.workPlan(levels: [.elementary, .intermediate])), token: car
                ))
            #expect(lacking.code == .invalidArgument)
            #expect(lacking.fieldViolations.map(\.field) == ["plan.fees"], "\(lacking.fieldViolations)")
            #expect(lacking.fieldViolations.first?.description.contains("高级") == true, "\(lacking.fieldViolations)")

            var twice = RegistryHarness.workPlan()
            twice.fees[1].level = .elementary
            let doubled = try #require(
                await h.refusal(
                    Xcert_Filing_V1_FilingService.Method.submitFiling, RegistryHarness.submission("AUTO", plan: twice), token: car
                ))
            #expect(Set(doubled.fieldViolations.map(\.field)) == ["plan.fees[1].level"], "\(doubled.fieldViolations)")

            // A certificate with one level: fees for the other two name their positions.
            var certificate = Xcert_Registry_V1_CreateCertificateRequest()
            certificate.certificate.code = "ELEC"
            certificate.certificate.name = "汽车电工"
            certificate.certificate.batch = 2
            certificate.certificate.levels = [.elementary]
            certificate.certificate.organizationID = seeded.carOrganization
            _ = try await h.call(Xcert_Registry_V1_ReferenceDataService.Method.createCertificate, certificate, token: h.admin)
            let extra = try #require(
                await h.refusal(
                    Xcert_Filing_V1_FilingService.Method.submitFiling, RegistryHarness.submission("ELEC"), token: car
                ))
            #expect(extra.code == .invalidArgument)
            #expect(extra.fieldViolations.map(\.field) == ["plan.fees[1].level", "plan.fees[2].level"], "\(extra.fieldViolations)")

            let unknown = try #require(
                await h.refusal(
                    Xcert_Filing_V1_FilingService.Method.submitFiling, RegistryHarness.submission("NOPE"), token: car
                ))
            #expect(unknown.code == .invalidArgument)
            #expect(unknown.fieldViolations.map(\.field) == ["certificate_code"], "\(unknown.fieldViolations)")

            var request = RegistryHarness.submission("AUTO")
            request.year = 2018
            request.roundNumber = 0
            let header = try #require(await h.refusal(Xcert_Filing_V1_FilingService.Method.submitFiling, request, token: car))
            #expect(Set(header.fieldViolations.map(\.field)) == ["year", "round_number"], "\(header.fieldViolations)")

            #expect(try await h.filingCount == 0)
            #expect(try await h.scalar("SELECT count(*) FROM filing.filing_fees", as: Int64.self) == 0)
            // The one-level certificate files with its one fee.
            let single = try await h.submitFiling("ELEC", plan: RegistryHarness.workPlan(levels: [.elementary]), token: car)
            #expect(single.plan.fees.map(\.level) == [.elementary])
        }
    }

    @Test("an organization files only its own certificates; a school cannot file")
    func ownership() async throws {
        try await withFilingStack { h in
            let seeded = try await h.seedReference()
            let car = try await h.token(role: "organization", party: String(seeded.carOrganization))
            let school = try await h.token(role: "school", party: "4136010001")
            try await h.openRound()
            let foreign = try #require(await rpcRefusal { _ = try await h.submitFiling("BIM", token: car) })
            #expect(foreign.code == .permissionDenied)
            #expect(foreign.message.contains("BIM"), "\(foreign.message)")
            let bySchool = try #require(await rpcRefusal { _ = try await h.submitFiling("AUTO", token: school) })
            #expect(bySchool.code == .permissionDenied)
            let byProvince = try #require(await rpcRefusal { _ = try await h.submitFiling("AUTO", token: h.admin) })
            #expect(byProvince.code == .permissionDenied)
            #expect(try await h.filingCount == 0)
        }
    }

    // MARK: - Versions

    @Test("versions: rejected v1 and withdrawn v2 stay as they were; v3 is live; a second live filing is refused")
    func versionChain() async throws {
        try await withFilingStack { h in
            let seeded = try await h.seedReference()
            let car = try await h.token(role: "organization", party: String(seeded.carOrganization))
            try await h.openRound()

            let v1 = try await h.submitFiling("AUTO", token: car)
            #expect(v1.version == 1 && v1.state == .submitted && v1.organizationID == seeded.carOrganization)
            #expect(v1.plan == RegistryHarness.workPlan())
            let noReason = try #require(await rpcRefusal { _ = try await h.reviewFiling(v1.id, approve: false, reason: "  ") })
            #expect(noReason.code == .invalidArgument)
            #expect(noReason.fieldViolations.map(\.field) == ["reason"])
            let rejected = try await h.reviewFiling(v1.id, approve: false, reason: "收费测算依据不足")
            #expect(rejected.state == .rejected && !rejected.review.approved && rejected.review.reason == "收费测算依据不足")
            #expect(rejected.review.reviewer == "省厅管理员" && rejected.review.hasReviewedAt)

            var plan2 = RegistryHarness.workPlan(fen: 35_000)
            plan2.examArrangement = "理论与实操同日进行"
            let v2 = try await h.submitFiling("AUTO", plan: plan2, token: car)
            #expect(v2.version == 2 && v2.state == .submitted && v2.id != v1.id)
            var withdraw = Xcert_Filing_V1_WithdrawFilingRequest()
            withdraw.id = v2.id
            let noWithdrawalReason = try #require(
                await h.refusal(Xcert_Filing_V1_FilingService.Method.withdrawFiling, withdraw, token: car))
            #expect(noWithdrawalReason.code == .invalidArgument)
            #expect(noWithdrawalReason.fieldViolations.map(\.field) == ["reason"])
            withdraw.reason = "考核站点调整"
            let withdrawn = try await h.call(Xcert_Filing_V1_FilingService.Method.withdrawFiling, withdraw, token: car)
            #expect(withdrawn.state == .withdrawn && withdrawn.withdrawalReason == "考核站点调整")
            let again = try #require(await h.refusal(Xcert_Filing_V1_FilingService.Method.withdrawFiling, withdraw, token: car))
            #expect(again.code == .failedPrecondition, "only a submitted filing can be withdrawn")

            let v3 = try await h.submitFiling("AUTO", plan: RegistryHarness.workPlan(fen: 30_000), token: car)
            #expect(v3.version == 3 && v3.state == .submitted)
            let second = try #require(await rpcRefusal { _ = try await h.submitFiling("AUTO", token: car) })
            #expect(second.code == .alreadyExists)
            #expect(second.message.contains("filing \(v3.id) (version 3)"), "\(second.message)")
            // Approved is live too.
            _ = try await h.reviewFiling(v3.id, approve: true)
            let afterApproval = try #require(await rpcRefusal { _ = try await h.submitFiling("AUTO", token: car) })
            #expect(afterApproval.code == .alreadyExists)
            // Another year is another chain.
            try await h.openRound(year: 2021, number: 1)
            #expect(try await h.submitFiling("AUTO", year: 2021, token: car).version == 1)

            #expect(try await h.getFiling(v1.id) == rejected)
            #expect(try await h.getFiling(v2.id, token: car) == withdrawn)
            #expect(withdrawn.plan == plan2 && !withdrawn.hasReview)

            var list = Xcert_Filing_V1_ListFilingsRequest()
            list.certificateCode = "AUTO"
            list.year = 2020
            list.allVersions = true
            #expect(try await h.listFilings(list, token: car).map(\.version) == [1, 2, 3])
            list.allVersions = false
            #expect(try await h.listFilings(list, token: car).map(\.id) == [v3.id])
            list.year = 0
            #expect(try await h.listFilings(list).map(\.version) == [3, 1], "each year's latest")
            list.state = .rejected
            list.allVersions = true
            #expect(try await h.listFilings(list).map(\.id) == [v1.id])
        }
    }

    @Test("a submission retried with the same idempotency key returns the same filing and stores one")
    func idempotentSubmission() async throws {
        try await withFilingStack { h in
            let seeded = try await h.seedReference()
            let car = try await h.token(role: "organization", party: String(seeded.carOrganization))
            try await h.openRound()
            let request = RegistryHarness.submission("AUTO")
            let first = try await h.call(
                Xcert_Filing_V1_FilingService.Method.submitFiling, request, token: car, idempotencyKey: "filing-auto-1")
            let retry = try await h.call(
                Xcert_Filing_V1_FilingService.Method.submitFiling, request, token: car, idempotencyKey: "filing-auto-1")
            #expect(first == retry)
            #expect(try await h.filingCount == 1)
            #expect(try await h.scalar("SELECT count(*) FROM filing.filing_fees", as: Int64.self) == 3)
            // Without the key the same request is a second filing, refused while the first is live.
            let fresh = try #require(await h.refusal(Xcert_Filing_V1_FilingService.Method.submitFiling, request, token: car))
            #expect(fresh.code == .alreadyExists)
            #expect(try await h.filingCount == 1)
        }
    }

    @Test("five submissions of one certificate racing: exactly one is stored, the others are refused (ALREADY_EXISTS, or ABORTED to retry)")
    func race() async throws {
        try await withFilingStack { h in
            let seeded = try await h.seedReference()
            let car = try await h.token(role: "organization", party: String(seeded.carOrganization))
            try await h.openRound()
            let outcomes = try await withThrowingTaskGroup(of: RPCError?.self) { group in
                for _ in 0..<5 {
                    group.addTask { await rpcRefusal { _ = try await h.submitFiling("AUTO", token: car) } }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(outcomes.filter { $0 == nil }.count == 1, "\(outcomes)")
            #expect(outcomes.compactMap { $0?.code }.allSatisfy { $0 == .alreadyExists || $0 == .aborted }, "\(outcomes)")
            #expect(try await h.filingCount == 1)
            #expect(try await h.scalar("SELECT max(version) FROM filing.filings", as: Int32.self) == 1)
        }
    }

    @Test("organizations see only their own filings; the province sees all")
    func isolation() async throws {
        try await withFilingStack { h in
            let seeded = try await h.seedReference()
            let car = try await h.token(role: "organization", party: String(seeded.carOrganization))
            let bim = try await h.token(role: "organization", party: String(seeded.bimOrganization))
            try await h.openRound()
            let auto = try await h.submitFiling("AUTO", token: car)
            let nev = try await h.submitFiling("NEV", token: car)
            let bimFiling = try await h.submitFiling("BIM", token: bim)

            let hidden = try #require(await rpcRefusal { _ = try await h.getFiling(auto.id, token: bim) })
            #expect(hidden.code == .notFound)
            #expect(try await h.getFiling(auto.id, token: car) == auto)
            #expect(try await h.listFilings(token: bim).map(\.id) == [bimFiling.id])
            var others = Xcert_Filing_V1_ListFilingsRequest()
            others.organizationID = seeded.carOrganization
            #expect(try await h.listFilings(others, token: bim).isEmpty)
            others.allVersions = true
            #expect(try await h.listFilings(others, token: bim).isEmpty)

            var withdraw = Xcert_Filing_V1_WithdrawFilingRequest()
            withdraw.id = auto.id
            withdraw.reason = "不是我的"
            let foreign = try #require(await h.refusal(Xcert_Filing_V1_FilingService.Method.withdrawFiling, withdraw, token: bim))
            #expect(foreign.code == .notFound)
            #expect(try await h.getFiling(auto.id).state == .submitted)

            let school = try await h.token(role: "school", party: "4136010001")
            let schoolRead = try #require(await rpcRefusal { _ = try await h.listFilings(token: school) })
            #expect(schoolRead.code == .permissionDenied)

            #expect(Set(try await h.listFilings().map(\.id)) == [auto.id, nev.id, bimFiling.id])
            #expect(try await h.listFilings(others).map(\.id) == [auto.id, nev.id])
            // Paging reads every filing once.
            var paged = Xcert_Filing_V1_ListFilingsRequest()
            paged.page.pageSize = 2
            let page1 = try await h.call(Xcert_Filing_V1_FilingService.Method.listFilings, paged, token: h.admin)
            #expect(page1.filings.count == 2 && !page1.page.nextPageToken.isEmpty)
            paged.page.pageToken = page1.page.nextPageToken
            let page2 = try await h.call(Xcert_Filing_V1_FilingService.Method.listFilings, paged, token: h.admin)
            #expect((page1.filings + page2.filings).map(\.id) == [auto.id, nev.id, bimFiling.id])
            #expect(page2.page.nextPageToken.isEmpty)
        }
    }

    // MARK: - Review

    @Test(
        """
        review: the province approves within the fee ceilings; a fee above its ceiling is refused naming it; only a submitted filing is \
        reviewed; an organization cannot review
        """
    )
    func review() async throws {
        try await withFilingStack { h in
            let seeded = try await h.seedReference()
            let car = try await h.token(role: "organization", party: String(seeded.carOrganization))
            let settlement = try #require(h.settlement)
            try await h.openRound()
            let nev = try await h.submitFiling("NEV", token: car)
            let approved = try await h.reviewFiling(nev.id, approve: true, reason: "同意备案")
            #expect(approved.state == .approved && approved.review.approved && approved.review.reason == "同意备案")

            let twice = try #require(await rpcRefusal { _ = try await h.reviewFiling(nev.id, approve: true) })
            #expect(twice.code == .failedPrecondition)
            #expect(twice.message.contains("only a submitted filing is reviewed"), "\(twice.message)")
            let rejectApproved = try #require(await rpcRefusal { _ = try await h.reviewFiling(nev.id, approve: false, reason: "改主意") })
            #expect(rejectApproved.code == .failedPrecondition)
            let missing = try #require(await rpcRefusal { _ = try await h.reviewFiling(nev.id + 100, approve: true) })
            #expect(missing.code == .notFound)

            // The elementary fee is 500.00 yuan; the ceiling 300.00.
            settlement.setCeiling("AUTO", level: .elementary, fen: 30_000)
            let auto = try await h.submitFiling("AUTO", plan: RegistryHarness.workPlan(fen: 50_000), token: car)
            let above = try #require(await rpcRefusal { _ = try await h.reviewFiling(auto.id, approve: true) })
            #expect(above.code == .failedPrecondition)
            #expect(above.message.contains("初级 500.00 above the ceiling 300.00"), "\(above.message)")
            #expect(try await h.getFiling(auto.id) == auto, "still submitted, unreviewed")
            #expect(try await h.scalar("SELECT count(*) FROM filing.approval_changes", as: Int64.self) == 1)

            let byOrganization = try #require(await rpcRefusal { _ = try await h.reviewFiling(auto.id, approve: true, token: car) })
            #expect(byOrganization.code == .permissionDenied)

            // A rejection needs no ceiling check; here the ceiling is raised instead and it is approved.
            settlement.setCeiling("AUTO", level: .elementary, fen: 50_000)
            #expect(try await h.reviewFiling(auto.id, approve: true).state == .approved)
        }
    }

    // MARK: - Approvals

    @Test("approvals: the approved list per year and round with fees, the check the registry asks, and the change feed with its cursors")
    func approvals() async throws {
        try await withFilingStack { h in
            let seeded = try await h.seedReference()
            let car = try await h.token(role: "organization", party: String(seeded.carOrganization))
            let bim = try await h.token(role: "organization", party: String(seeded.bimOrganization))
            let school = try await h.token(role: "school", party: "4136010001")
            let service = try await h.token(role: "service", party: "settlement")
            try await h.openRound(number: 1)
            try await h.openRound(number: 2)
            let auto = try await h.reviewFiling(try await h.submitFiling("AUTO", round: 1, token: car).id, approve: true)
            let bimFiling = try await h.reviewFiling(
                try await h.submitFiling("BIM", round: 1, plan: RegistryHarness.workPlan(fen: 20_000), token: bim).id, approve: true)
            let nev = try await h.reviewFiling(try await h.submitFiling("NEV", round: 2, token: car).id, approve: true)
            // A rejected and a pending filing are not approvals.
            try await h.openRound(year: 2021, number: 1)
            _ = try await h.reviewFiling(try await h.submitFiling("AUTO", year: 2021, token: car).id, approve: false, reason: "材料不全")
            _ = try await h.submitFiling("NEV", year: 2021, token: car)

            var list = Xcert_Filing_V1_ListApprovedCertificatesRequest()
            list.year = 2020
            let year = try await h.call(Xcert_Filing_V1_ApprovalService.Method.listApprovedCertificates, list, token: school).certificates
            #expect(year.map(\.certificateCode) == ["AUTO", "BIM", "NEV"])
            #expect(year.map(\.roundNumber) == [1, 1, 2])
            #expect(year.map(\.filingID) == [auto.id, bimFiling.id, nev.id])
            #expect(year.map(\.organizationID) == [seeded.carOrganization, seeded.bimOrganization, seeded.carOrganization])
            #expect(year[0].fees == auto.plan.fees && year[1].fees == bimFiling.plan.fees)
            #expect(year[1].fees.map(\.fee.fen) == [20_000, 30_000, 40_000])
            #expect(year[0].approvedAt == auto.review.reviewedAt && year[0].filingVersion == 1)
            list.roundNumber = 2
            #expect(
                try await h.call(Xcert_Filing_V1_ApprovalService.Method.listApprovedCertificates, list, token: car).certificates.map(
                    \.certificateCode) == ["NEV"])
            list.year = 2021
            list.roundNumber = 0
            #expect(
                try await h.call(Xcert_Filing_V1_ApprovalService.Method.listApprovedCertificates, list, token: h.admin).certificates.isEmpty
            )
            list.year = 0
            let noYear = try #require(
                await h.refusal(Xcert_Filing_V1_ApprovalService.Method.listApprovedCertificates, list, token: h.admin))
            #expect(noYear.fieldViolations.map(\.field) == ["year"])

            func check(_ certificate: String, _ year: Int32) async throws -> Xcert_Filing_V1_CheckCertificateApprovalResponse {
                var request = Xcert_Filing_V1_CheckCertificateApprovalRequest()
                request.certificateCode = certificate
                request.year = year
                return try await h.call(Xcert_Filing_V1_ApprovalService.Method.checkCertificateApproval, request, token: school)
            }
            let checked = try await check("NEV", 2020)
            #expect(
                checked.approved && checked.filingID == nev.id && checked.roundNumber == 2 && checked.approvedAt == nev.review.reviewedAt)
            #expect(
                checked.schoolLevels == nev.plan.schoolLevels && checked.specialtyScope == nev.plan.specialtyScope,
                "the filing's scope, for the registry to check applications against")
            #expect(year[0].schoolLevels == auto.plan.schoolLevels && year[0].specialtyScope == auto.plan.specialtyScope)
            #expect(try await check("AUTO", 2021).approved == false, "rejected")
            #expect(try await check("NEV", 2021).approved == false, "awaiting review")
            #expect(try await check("NOPE", 2020) == .init())

            var changes = Xcert_Filing_V1_ListApprovalChangesRequest()
            let feed = try await h.call(Xcert_Filing_V1_ApprovalService.Method.listApprovalChanges, changes, token: h.admin)
            #expect(feed.changes.map(\.approval.filingID) == [auto.id, bimFiling.id, nev.id])
            let cursors = feed.changes.map(\.cursor)
            #expect(cursors == cursors.sorted() && Set(cursors).count == 3 && cursors.allSatisfy { $0 > 0 })
            #expect(feed.nextCursor == cursors.last)
            changes.limit = 2
            let first = try await h.call(Xcert_Filing_V1_ApprovalService.Method.listApprovalChanges, changes, token: service)
            #expect(first.changes.map(\.cursor) == Array(cursors.prefix(2)) && first.nextCursor == cursors[1])
            changes.after = first.nextCursor
            let rest = try await h.call(Xcert_Filing_V1_ApprovalService.Method.listApprovalChanges, changes, token: service)
            #expect(rest.changes.map(\.cursor) == [cursors[2]] && rest.changes.first?.approval == year[2])
            changes.after = rest.nextCursor
            let end = try await h.call(Xcert_Filing_V1_ApprovalService.Method.listApprovalChanges, changes, token: service)
            #expect(end.changes.isEmpty && end.nextCursor == rest.nextCursor, "at the end the cursor stays")

            for token in [car, school] {
                let denied = try #require(
                    await h.refusal(Xcert_Filing_V1_ApprovalService.Method.listApprovalChanges, changes, token: token))
                #expect(denied.code == .permissionDenied)
            }
            changes.limit = 1001
            let tooMany = try #require(await h.refusal(Xcert_Filing_V1_ApprovalService.Method.listApprovalChanges, changes, token: h.admin))
            #expect(tooMany.fieldViolations.map(\.field) == ["limit"])
        }
    }

    // MARK: - Rule 2 across the services

    @Test("rule 2 against the real filing service: a school's application is refused until the certificate's filing is approved")
    func registryAsksFiling() async throws {
        try await withFilingStack { h in
            let seeded = try await h.seedReference()
            let car = try await h.token(role: "organization", party: String(seeded.carOrganization))
            try await h.createSchool("4136010001")
            let school = try await h.token(role: "school", party: "4136010001")
            try await h.openRound()

            let unfiled = try #require(await rpcRefusal { _ = try await h.apply("4136010001", "AUTO", token: school) })
            #expect(unfiled.code == .failedPrecondition)
            #expect(unfiled.message.contains("no approved filing"), "\(unfiled.message)")
            let filing = try await h.submitFiling("AUTO", token: car)
            let pending = try #require(await rpcRefusal { _ = try await h.apply("4136010001", "AUTO", token: school) })
            #expect(pending.code == .failedPrecondition, "submitted is not approved")
            _ = try await h.reviewFiling(filing.id, approve: true)
            let application = try await h.apply("4136010001", "AUTO", token: school)
            #expect(application.certificateCode == "AUTO" && application.schoolCode == "4136010001")
            // 001 §三.1: the filing covers 中职 and 高职 and its specialty scope; an undergraduate school, or a specialty outside
            // it, is refused quoting the filing.
            try await h.createSchool("4136010002", type: .appliedUndergraduate)
            let undergraduate = try await h.token(role: "school", party: "4136010002")
            let level = try #require(await rpcRefusal { _ = try await h.apply("4136010002", "AUTO", token: undergraduate) })
            #expect(
                level.code == .failedPrecondition && level.fieldViolations.map(\.field) == ["school_code"]
                    && level.message.contains("filing \(filing.id) of AUTO covers 中职、高职 schools; a 应用型本科 school may not apply"),
                "\(level)")
            var outside = try await h.createSchool("4136010003")
            outside.specialties[1].code = "X002"
            var update = Xcert_Registry_V1_UpdateSchoolRequest()
            update.school = outside
            _ = try await h.call(Xcert_Registry_V1_ReferenceDataService.Method.updateSchool, update, token: h.admin)
            try await h.recordTeams("4136010003", specialties: ["X002"])
            let specialty = try #require(
                await rpcRefusal { _ = try await h.apply("4136010003", "AUTO", specialties: ["S001", "X002"], token: h.admin) })
            #expect(
                specialty.fieldViolations.map(\.field) == ["specialty_codes"]
                    && specialty.message.contains("X002 专业2 is outside the specialty scope of filing \(filing.id) of AUTO"),
                "\(specialty)")
            #expect(try await h.apply("4136010003", "AUTO", specialties: ["S001"], token: h.admin).state == .awaitingProvinceReview)
            // Another year has no approved filing.
            let nextYear = try #require(await rpcRefusal { _ = try await h.apply("4136010001", "AUTO", year: 2021, token: school) })
            #expect(nextYear.code == .failedPrecondition)
        }
    }
}
