import Foundation
import Testing
import XCertAPI
import XCertProto
import XCertTestSupport
import XCertWire

@Suite(
    "Registry: pilot applications under the province's rules",
    .enabled(if: TestCluster.isConfigured, "needs the PostgreSQL that scripts/test starts"), .timeLimit(.minutes(3)))
struct PilotApplicationTests {
    @Test("the 40 % cap: exactly 40 % of the specialty count is accepted, one more certificate refused with the numbers")
    func certificateCap() async throws {
        try await withRegistry { registry in
            try await registry.seedReference()
            // 7 specialties: 40 % is 2.8, so at most 2 distinct certificates.
            try await registry.createSchool("4136010001", specialties: 7)
            for certificate in ["BIM", "AUTO", "NEV"] { registry.filing.approve(certificate, year: 2020) }
            _ = try await registry.apply("4136010001", "BIM")
            _ = try await registry.apply("4136010001", "AUTO")
            let refused = try #require(await rpcRefusal { _ = try await registry.apply("4136010001", "NEV") })
            #expect(refused.code == .failedPrecondition)
            #expect(refused.message.contains("3 distinct certificates"), "\(refused.message)")
            #expect(refused.message.contains("40 % of its 7 specialties (at most 2)"), "\(refused.message)")
            // Another year has its own count.
            registry.filing.approve("NEV", year: 2021)
            _ = try await registry.apply("4136010001", "NEV", year: 2021)
            #expect(try await registry.scalar("SELECT count(*) FROM registry.pilot_applications", as: Int.self) == 3)
        }
    }

    @Test("the 30 % cap: a pilot scale of exactly 30 % of enrolled students is accepted, one student more refused")
    func studentCap() async throws {
        try await withRegistry { registry in
            try await registry.seedReference()
            try await registry.createSchool("4136010002", specialties: 10, enrolled: 1000)
            for certificate in ["BIM", "AUTO"] { registry.filing.approve(certificate, year: 2020) }
            _ = try await registry.apply("4136010002", "BIM", scale: 200)
            let refused = try #require(await rpcRefusal { _ = try await registry.apply("4136010002", "AUTO", scale: 101) })
            #expect(refused.code == .failedPrecondition)
            #expect(
                refused.message.contains("301 students, more than 30 % of its 1000 enrolled students (at most 300)"), "\(refused.message)")
            _ = try await registry.apply("4136010002", "AUTO", scale: 100)
        }
    }

    @Test("refused: a certificate without an approved filing, a technical school, a specialty not the school's, a second live application")
    func eligibility() async throws {
        try await withRegistry { registry in
            try await registry.seedReference()
            try await registry.createSchool("4136010003")
            try await registry.createSchool("4136010004", type: .technicalSchool)
            let unfiled = try #require(await rpcRefusal { _ = try await registry.apply("4136010003", "BIM") })
            #expect(unfiled.code == .failedPrecondition)
            #expect(unfiled.message.contains("no approved filing"), "\(unfiled.message)")
            #expect(registry.filing.questionCount == 1, "the registry asks the filing service over the wire")

            registry.filing.approve("BIM", year: 2020)
            let technical = try #require(await rpcRefusal { _ = try await registry.apply("4136010004", "BIM") })
            #expect(technical.code == .failedPrecondition)
            #expect(technical.message.contains("technical schools"), "\(technical.message)")

            let foreign = try #require(await rpcRefusal { _ = try await registry.apply("4136010003", "BIM", specialties: ["X999"]) })
            #expect(foreign.code == .invalidArgument)
            #expect(foreign.fieldViolations.map(\.field) == ["specialty_codes"])

            var bad = Xcert_Registry_V1_SubmitApplicationRequest()
            bad.schoolCode = "41360"
            bad.year = 1999
            let invalid = try #require(
                await registry.refusal(Xcert_Registry_V1_PilotService.Method.submitApplication, bad, token: registry.admin))
            #expect(invalid.code == .invalidArgument)
            #expect(
                Set(invalid.fieldViolations.map(\.field)) == [
                    "school_code", "certificate_code", "year", "levels", "specialty_codes", "student_scale", "work_plan",
                ])
            bad.workPlan.name = "实施方案.pdf"
            bad.workPlan.sha256 = "ABC"
            let digest = try #require(
                await registry.refusal(Xcert_Registry_V1_PilotService.Method.submitApplication, bad, token: registry.admin))
            #expect(digest.fieldViolations.map(\.field).contains("work_plan.sha256"))

            _ = try await registry.apply("4136010003", "BIM")
            let twice = try #require(await rpcRefusal { _ = try await registry.apply("4136010003", "BIM") })
            #expect(twice.code == .alreadyExists)
            #expect(try await registry.scalar("SELECT count(*) FROM registry.pilot_applications", as: Int.self) == 1)
        }
    }

    @Test(
        """
        eligibility (001 §二.3): a specialty whose team has under 50 % 双师型, under 20 % industry experts or under 3 years of enrolment is \
        refused with the numbers, one without a team too; exactly the thresholds apply; a school records only its own teams
        """
    )
    func specialtyEligibility() async throws {
        try await withRegistry { registry in
            try await registry.seedReference()
            try await registry.createSchool("4136010020", teams: false)
            try await registry.createSchool("4136010021")
            registry.filing.approve("BIM", year: 2020)
            let school = try await registry.token(role: "school", party: "4136010020")

            let none = try #require(await rpcRefusal { _ = try await registry.apply("4136010020", "BIM", token: school) })
            #expect(
                none.code == .failedPrecondition && none.fieldViolations.map(\.field) == ["specialty_codes"]
                    && none.message.contains("no teaching team for specialty S001"), "\(none)")
            let short = try await registry.recordTeams(
                "4136010020", specialties: ["S001"], teachers: 9, dual: 4, experts: 1, years: 2, token: school)
            #expect(short.teams.map { "\($0.specialtyCode) \($0.eligible) \($0.recordedBy)" } == ["S001 false school 4136010020"])
            let refused = try #require(await rpcRefusal { _ = try await registry.apply("4136010020", "BIM", token: school) })
            #expect(
                refused.message
                    == """
                    school 4136010020 may not pilot with specialty S001: 双师型 teachers 4 of 9 (44.4 %), below 50 %; industry experts 1 of 9 \
                    (11.1 %), below 20 %; enrolled 2 years in a row, fewer than 3
                    """, "\(refused.message)")
            #expect(try await registry.scalar("SELECT count(*)::integer FROM registry.pilot_applications", as: Int32.self) == 0)
            // 5 of 10 is exactly 50 %, 2 of 10 exactly 20 %.
            try await registry.recordTeams("4136010020", specialties: ["S001"], token: school)
            let accepted = try await registry.apply("4136010020", "BIM", token: school)
            #expect(accepted.workPlan == RegistryHarness.workPlan("4136010020", "BIM"), "the school's work plan is kept with it")

            var other = Xcert_Registry_V1_SetTeachingTeamsRequest()
            other.schoolCode = "4136010021"
            other.teams = [Xcert_Registry_V1_TeachingTeam()]
            #expect(
                await registry.refusal(Xcert_Registry_V1_PilotService.Method.setTeachingTeams, other, token: school)?.code
                    == .permissionDenied)
            other.teams[0].specialtyCode = "X001"
            other.teams[0].teachers = 10
            other.teams[0].dualQualifiedTeachers = 11
            other.teams[0].continuousEnrolmentYears = -1
            let invalid = try #require(
                await registry.refusal(Xcert_Registry_V1_PilotService.Method.setTeachingTeams, other, token: registry.admin))
            #expect(invalid.fieldViolations.map(\.field) == ["teams[0].dual_qualified_teachers", "teams[0].continuous_enrolment_years"])
            other.teams[0].dualQualifiedTeachers = 5
            other.teams[0].continuousEnrolmentYears = 3
            let foreign = try #require(
                await registry.refusal(Xcert_Registry_V1_PilotService.Method.setTeachingTeams, other, token: registry.admin))
            #expect(foreign.fieldViolations.map(\.field) == ["teams[0].specialty_code"], "not the school's specialty")

            var list = Xcert_Registry_V1_ListTeachingTeamsRequest()
            list.schoolCode = "4136010021"
            #expect(
                await registry.refusal(Xcert_Registry_V1_PilotService.Method.listTeachingTeams, list, token: school)?.code == .notFound)
            #expect(
                try await registry.call(Xcert_Registry_V1_PilotService.Method.listTeachingTeams, list, token: registry.admin).teams.count
                    == 10)
            #expect(
                try await registry.scalar(
                    "SELECT count(*)::integer FROM analytics.teaching_teams WHERE eligible AND dual_qualified_share = 0.5", as: Int32.self)
                    == 11)
        }
    }

    @Test("a retried application or review with the same idempotency key does the work once")
    func idempotentRetries() async throws {
        try await withRegistry { registry in
            try await registry.seedReference()
            try await registry.createSchool("4136010010")
            registry.filing.approve("BIM", year: 2020)
            var request = Xcert_Registry_V1_SubmitApplicationRequest()
            request.schoolCode = "4136010010"
            request.certificateCode = "BIM"
            request.year = 2020
            request.levels = [.elementary]
            request.specialtyCodes = ["S001"]
            request.studentScale = 40
            request.workPlan = RegistryHarness.workPlan("4136010010", "BIM")
            let first = try await registry.call(
                Xcert_Registry_V1_PilotService.Method.submitApplication, request, token: registry.admin, idempotencyKey: "apply-1")
            let retry = try await registry.call(
                Xcert_Registry_V1_PilotService.Method.submitApplication, request, token: registry.admin, idempotencyKey: "apply-1")
            #expect(first == retry)
            var review = Xcert_Registry_V1_ReviewApplicationRequest()
            review.applicationID = first.id
            review.approve = true
            let approved = try await registry.call(
                Xcert_Registry_V1_PilotService.Method.reviewApplication, review, token: registry.admin, idempotencyKey: "review-1")
            let again = try await registry.call(
                Xcert_Registry_V1_PilotService.Method.reviewApplication, review, token: registry.admin, idempotencyKey: "review-1")
            #expect(approved == again)
            #expect(try await registry.scalar("SELECT count(*) FROM registry.pilot_applications", as: Int.self) == 1)
            #expect(try await registry.scalar("SELECT count(*) FROM registry.qualifications", as: Int.self) == 1)
            #expect(try await registry.scalar("SELECT count(*) FROM registry.qualification_changes", as: Int.self) == 1)
            // The same key with another request is refused.
            request.studentScale = 41
            let reused = try #require(
                await rpcRefusal {
                    _ = try await registry.call(
                        Xcert_Registry_V1_PilotService.Method.submitApplication, request, token: registry.admin, idempotencyKey: "apply-1")
                })
            #expect(reused.code == .failedPrecondition)
        }
    }

    @Test("two applications racing for the last place under a cap: exactly one wins")
    func race() async throws {
        try await withRegistry { registry in
            try await registry.seedReference()
            // 5 specialties: at most 2 certificates; one is taken, two race for the other.
            try await registry.createSchool("4136010005", specialties: 5)
            for certificate in ["BIM", "AUTO", "NEV"] { registry.filing.approve(certificate, year: 2020) }
            _ = try await registry.apply("4136010005", "BIM")
            for round in 0..<5 {
                let outcomes = try await withThrowingTaskGroup(of: RPCError?.self) { group in
                    for certificate in ["AUTO", "NEV"] {
                        group.addTask { await rpcRefusal { _ = try await registry.apply("4136010005", certificate) } }
                    }
                    return try await group.reduce(into: [RPCError?]()) { $0.append($1) }
                }
                #expect(outcomes.filter { $0 == nil }.count == 1, "round \(round): \(outcomes)")
                #expect(outcomes.compactMap { $0?.code } == [.failedPrecondition], "round \(round): \(outcomes)")
                // Free the place again for the next round: reject the winner.
                let winner = try #require(
                    try await registry.scalar(
                        "SELECT id FROM registry.pilot_applications WHERE certificate_code <> 'BIM' AND state <> 'rejected'", as: Int64.self
                    ))
                _ = try await registry.review(winner, approve: false, reason: "round \(round) over", token: registry.admin)
            }
        }
    }

    @Test(
        """
        a secondary school goes to its city's reviewer, then to the province; each step records who, when and why; approval makes the \
        qualification
        """
    )
    func twoStepReview() async throws {
        try await withRegistry { registry in
            try await registry.seedReference()
            try await registry.createSchool("4136070001", type: .secondaryVocational, city: "360700")
            registry.filing.approve("AUTO", year: 2020)
            let school = try await registry.token(role: "school", party: "4136070001")
            let ganzhou = try await registry.token(role: "city_reviewer", party: "360700", name: "赣州市教育局")
            let jiujiang = try await registry.token(role: "city_reviewer", party: "360400", name: "九江市教育局")

            let application = try await registry.apply("4136070001", "AUTO", token: school)
            #expect(application.state == .awaitingCityReview)
            #expect(application.submittedBy == "school 4136070001")
            // The province cannot skip the city; another city does not see it.
            let early = try #require(
                await rpcRefusal { _ = try await registry.review(application.id, approve: true, token: registry.admin) })
            #expect(early.code == .failedPrecondition)
            #expect(early.message.contains("reviewing unit 360700"), "\(early.message)")
            #expect(await rpcRefusal { _ = try await registry.review(application.id, approve: true, token: jiujiang) }?.code == .notFound)
            // A rejection needs a reason.
            let bare = try #require(await rpcRefusal { _ = try await registry.review(application.id, approve: false, token: ganzhou) })
            #expect(bare.fieldViolations.map(\.field) == ["reason"])

            let afterCity = try await registry.review(application.id, approve: true, reason: "材料齐全", token: ganzhou)
            #expect(afterCity.state == .awaitingProvinceReview)
            // The city's step is done: its reviewer cannot decide the province's.
            #expect(
                await rpcRefusal { _ = try await registry.review(application.id, approve: true, token: ganzhou) }?.code == .permissionDenied
            )
            let approved = try await registry.review(application.id, approve: true, token: registry.admin)
            #expect(approved.state == .approved)
            #expect(approved.reviews.map(\.step) == [.city, .province])
            #expect(approved.reviews.map(\.reviewer) == ["赣州市教育局", "省厅管理员"])
            #expect(approved.reviews[0].reason == "材料齐全")
            #expect(approved.reviews.allSatisfy { $0.hasReviewedAt })
            #expect(approved.qualificationID > 0)

            var get = Xcert_Registry_V1_GetQualificationRequest()
            get.id = approved.qualificationID
            let qualification = try await registry.call(Xcert_Registry_V1_PilotService.Method.getQualification, get, token: school)
            #expect(qualification.schoolCode == "4136070001")
            #expect(qualification.certificateCode == "AUTO")
            #expect(qualification.specialtyCodes == ["S001"])
            #expect(qualification.studentScale == 50)
            #expect(!qualification.hasRevokedAt)
        }
    }

    @Test("a higher-vocational school goes to the province directly; a rejection is final and frees its place")
    func directReview() async throws {
        try await withRegistry { registry in
            try await registry.seedReference()
            try await registry.createSchool("4136010006", specialties: 3)  // one certificate at most
            for certificate in ["BIM", "AUTO"] { registry.filing.approve(certificate, year: 2020) }
            let application = try await registry.apply("4136010006", "BIM")
            #expect(application.state == .awaitingProvinceReview)
            let rejected = try await registry.review(application.id, approve: false, reason: "试点条件不足", token: registry.admin)
            #expect(rejected.state == .rejected)
            #expect(
                await rpcRefusal { _ = try await registry.review(application.id, approve: true, token: registry.admin) }?.code
                    == .failedPrecondition)
            _ = try await registry.apply("4136010006", "AUTO")
        }
    }

    @Test(
        """
        the province revokes a qualification with a reason; it stays on record, the feed shows both changes in order, and a follower \
        resumes from its cursor
        """
    )
    func revocationAndFeed() async throws {
        try await withRegistry { registry in
            try await registry.seedReference()
            for code in ["4136010007", "4136010008"] { try await registry.createSchool(code) }
            registry.filing.approve("BIM", year: 2020)
            let first = try await registry.qualify("4136010007", "BIM")
            let second = try await registry.qualify("4136010008", "BIM")

            var revoke = Xcert_Registry_V1_RevokeQualificationRequest()
            revoke.qualificationID = first.qualificationID
            #expect(
                await registry.refusal(Xcert_Registry_V1_PilotService.Method.revokeQualification, revoke, token: registry.admin)?
                    .fieldViolations.map(\.field) == ["reason"])
            revoke.reason = "将教学外包给培训评价组织（004 第22条）"
            let school = try await registry.token(role: "school", party: "4136010007")
            #expect(
                await registry.refusal(Xcert_Registry_V1_PilotService.Method.revokeQualification, revoke, token: school)?.code
                    == .permissionDenied)
            let revoked = try await registry.call(Xcert_Registry_V1_PilotService.Method.revokeQualification, revoke, token: registry.admin)
            #expect(revoked.hasRevokedAt)
            #expect(revoked.revocationReason == revoke.reason)
            #expect(revoked.revokedBy == "省厅管理员")
            #expect(
                await registry.refusal(Xcert_Registry_V1_PilotService.Method.revokeQualification, revoke, token: registry.admin)?.code
                    == .failedPrecondition)

            // Lists leave revoked ones out unless asked.
            var list = Xcert_Registry_V1_ListQualificationsRequest()
            list.certificateCode = "BIM"
            #expect(
                try await registry.call(Xcert_Registry_V1_PilotService.Method.listQualifications, list, token: registry.admin)
                    .qualifications.map(\.id) == [second.qualificationID])
            list.includeRevoked = true
            #expect(
                try await registry.call(Xcert_Registry_V1_PilotService.Method.listQualifications, list, token: registry.admin)
                    .qualifications.count == 2)

            // The feed, read by a service, two at a time.
            let service = try await registry.token(role: "service", party: "assessment")
            var feed = Xcert_Registry_V1_ListQualificationChangesRequest()
            feed.limit = 2
            let page1 = try await registry.call(Xcert_Registry_V1_PilotService.Method.listQualificationChanges, feed, token: service)
            #expect(page1.changes.map(\.kind) == [.created, .created])
            #expect(page1.changes.map(\.qualification.id) == [first.qualificationID, second.qualificationID])
            #expect(!page1.changes[0].qualification.hasRevokedAt, "a created change shows the qualification as created")
            feed.after = page1.nextCursor
            let page2 = try await registry.call(Xcert_Registry_V1_PilotService.Method.listQualificationChanges, feed, token: service)
            #expect(page2.changes.map(\.kind) == [.revoked])
            #expect(page2.changes[0].qualification.revocationReason == revoke.reason)
            feed.after = page2.nextCursor
            let page3 = try await registry.call(Xcert_Registry_V1_PilotService.Method.listQualificationChanges, feed, token: service)
            #expect(page3.changes.isEmpty)
            #expect(page3.nextCursor == page2.nextCursor)
            #expect(
                await registry.refusal(Xcert_Registry_V1_PilotService.Method.listQualificationChanges, feed, token: school)?.code
                    == .permissionDenied)
        }
    }

    @Test(
        """
        who sees which applications and qualifications: a school its own, a city reviewer its city's secondary schools, an organization \
        its certificates' qualifications
        """
    )
    func authorization() async throws {
        try await withRegistry { registry in
            let seeded = try await registry.seedReference()
            try await registry.createSchool("4136010009")
            try await registry.createSchool("4136070002", type: .secondaryVocational, city: "360700")
            try await registry.createSchool("4136070003", city: "360700")
            for certificate in ["BIM", "AUTO"] { registry.filing.approve(certificate, year: 2020) }
            let own = try await registry.token(role: "school", party: "4136010009")
            let other = try await registry.token(role: "school", party: "4136070002")
            let reviewer = try await registry.token(role: "city_reviewer", party: "360700")
            let car = try await registry.token(role: "organization", party: "\(seeded.carOrganization)")

            let mine = try await registry.apply("4136010009", "BIM", token: own)
            // A school applies only for itself.
            #expect(await rpcRefusal { _ = try await registry.apply("4136010009", "AUTO", token: other) }?.code == .permissionDenied)
            let secondary = try await registry.apply("4136070002", "AUTO", token: other)
            let higher = try await registry.apply("4136070003", "AUTO")

            var get = Xcert_Registry_V1_GetApplicationRequest()
            get.id = mine.id
            #expect(try await registry.call(Xcert_Registry_V1_PilotService.Method.getApplication, get, token: own).id == mine.id)
            #expect(await registry.refusal(Xcert_Registry_V1_PilotService.Method.getApplication, get, token: other)?.code == .notFound)
            #expect(await registry.refusal(Xcert_Registry_V1_PilotService.Method.getApplication, get, token: reviewer)?.code == .notFound)
            #expect(
                await registry.refusal(Xcert_Registry_V1_PilotService.Method.getApplication, get, token: car)?.code == .permissionDenied)

            let list = Xcert_Registry_V1_ListApplicationsRequest()
            let ids = { (token: String) in
                try await registry.call(Xcert_Registry_V1_PilotService.Method.listApplications, list, token: token).applications.map(\.id)
            }
            #expect(try await ids(registry.admin) == [mine.id, secondary.id, higher.id])
            #expect(try await ids(own) == [mine.id])
            #expect(try await ids(reviewer) == [secondary.id], "only its city's secondary schools")
            // A city reviewer cannot decide a higher-vocational school's application.
            #expect(await rpcRefusal { _ = try await registry.review(higher.id, approve: true, token: reviewer) }?.code == .notFound)

            _ = try await registry.review(mine.id, approve: true, token: registry.admin)
            _ = try await registry.review(higher.id, approve: true, token: registry.admin)
            let qualifications = { (token: String) in
                try await registry.call(
                    Xcert_Registry_V1_PilotService.Method.listQualifications, Xcert_Registry_V1_ListQualificationsRequest(), token: token
                )
                .qualifications.map(\.certificateCode)
            }
            #expect(try await qualifications(car) == ["AUTO"], "an organization sees its own certificates' qualifications")
            #expect(try await qualifications(own) == ["BIM"])
            #expect(try await qualifications(registry.admin) == ["BIM", "AUTO"])
            // Master data is readable by everyone authenticated, writable by the province only.
            var school = Xcert_Registry_V1_GetSchoolRequest()
            school.code = "4136070003"
            #expect(
                try await registry.call(Xcert_Registry_V1_ReferenceDataService.Method.getSchool, school, token: car).code == "4136070003")
            var city = Xcert_Registry_V1_CreateCityRequest()
            city.city.code = "360200"
            city.city.name = "景德镇市"
            for token in [own, reviewer, car] {
                #expect(
                    await registry.refusal(Xcert_Registry_V1_ReferenceDataService.Method.createCity, city, token: token)?.code
                        == .permissionDenied)
            }
            #expect(
                await registry.refusal(Xcert_Registry_V1_ReferenceDataService.Method.getSchool, school, token: "xct_nobody")?.code
                    == .unauthenticated)
        }
    }
}
