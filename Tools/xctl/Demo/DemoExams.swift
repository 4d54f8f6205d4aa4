import Crypto
import Foundation
import XCertAPI
import XCertDomain
import XCertProto
import XCertService
import XCertWire

/// One exam session of the demo: a certificate's level at a site on a day, and its roster.
struct DemoSession: Sendable {
    var certificate: Xcert_Registry_V1_Certificate
    var level: Xcert_Common_V1_CertificateLevel
    var siteSchoolCode: String
    var date: LocalDate
    var rows: [Xcert_Filing_V1_CandidateRow]
}

/// The second half of the year: exams and their rosters, the services following each
/// other, payments, self-evaluations and reviews.
extension DemoRun {
    // MARK: - Exams

    /// The candidates of every qualification sit the exam at a site of its certificate in
    /// their city (or, where the city has none, in another one); the organizations upload
    /// the rosters in chunks of up to 5,000 rows and seal them; one roster is corrected.
    /// Returns the sessions and the completed candidates in force.
    func exams(
        _ reference: DemoReference, _ schools: [DemoSchool], _ qualifications: [Xcert_Registry_V1_PilotQualification],
        _ sites: [Xcert_Registry_V1_AssessmentSite], _ parties: DemoParties
    ) async throws -> (sessions: Int, completed: Int64) {
        var random = self.random("exams")
        let byCode = Dictionary(uniqueKeysWithValues: schools.map { ($0.code, $0) })
        let ordered = qualifications.sorted { ($0.certificateCode, $0.schoolCode) < ($1.certificateCode, $1.schoolCode) }
        // The year's candidates, shared out by the qualifications' student scales, each at most its scale.
        let shares = try Apportionment.largestRemainder(total: Int64(self.candidateTarget), weights: ordered.map { Int64($0.studentScale) })
        let sitesOf = Dictionary(grouping: sites, by: \.certificateCode).mapValues { $0.sorted { $0.schoolCode < $1.schoolCode } }

        struct Group: Hashable {
            var certificate: String
            var level: Int
            var site: String
        }
        var groups: [Group: [(school: DemoSchool, specialties: [String])]] = [:]
        for (qualification, share) in zip(ordered, shares) {
            guard let school = byCode[qualification.schoolCode], let certificateSites = sitesOf[qualification.certificateCode],
                !certificateSites.isEmpty
            else { continue }
            let site = certificateSites.first { $0.cityCode == school.cityCode } ?? certificateSites[0]
            let candidates = Int(min(share, Int64(qualification.studentScale)))
            let levels = qualification.levels.sorted { $0.rawValue < $1.rawValue }
            let split: [Int] =
                switch levels.count {
                case 1: [candidates]
                case 2: [candidates * 3 / 4, candidates - candidates * 3 / 4]
                default: [candidates * 60 / 100, candidates * 28 / 100, candidates - candidates * 60 / 100 - candidates * 28 / 100]
                }
            for (level, count) in zip(levels, split) where count > 0 {
                groups[Group(certificate: qualification.certificateCode, level: level.rawValue, site: site.schoolCode), default: []]
                    .append(contentsOf: Array(repeating: (school, qualification.specialtyCodes), count: count))
            }
        }

        var sessions: [DemoSession] = []
        var number = 0
        let lastExamDay = min(self.date(month: 11, day: 30), self.today.adding(days: -1))
        for group in groups.keys.sorted(by: { ($0.certificate, $0.level, $0.site) < ($1.certificate, $1.level, $1.site) }) {
            let candidates = groups[group]!
            guard let certificate = reference.certificate(group.certificate) else { continue }
            let rule = ScoringRule(wire: certificate.scoring)
            let count = min(3, 1 + candidates.count / 400)
            var days: Set<LocalDate> = []
            while days.count < count {
                let day = self.date(month: Int.random(in: 4...11, using: &random), day: Int.random(in: 1...28, using: &random))
                days.insert(min(day, lastExamDay.adding(days: -days.count)))
            }
            let dates = days.sorted()
            let perSession = (candidates.count + count - 1) / count
            for (index, date) in dates.enumerated() {
                let slice = candidates[min(candidates.count, index * perSession)..<min(candidates.count, (index + 1) * perSession)]
                guard !slice.isEmpty else { continue }
                let rows = slice.map { school, specialties in
                    number += 1
                    var row = Xcert_Filing_V1_CandidateRow()
                    row.candidateNumber = String(format: "ZK%d%07d", self.year, number)
                    row.name = DemoPeople.name(&random)
                    row.nationalID = DemoPeople.nationalID(number, cityCode: school.cityCode)
                    row.schoolCode = school.code
                    row.specialty = specialties.randomElement(using: &random) ?? "000000"
                    row.registration = random.chance(94) ? .approved : .declared
                    row.attended = row.registration == .approved && random.chance(95)
                    if row.attended {
                        // Around 67 points on average, spread like an exam's.
                        let scores = rule.components.map { _ in
                            (0..<3).map { _ in Int.random(in: 350...1000, using: &random) }.reduce(0, +) / 3
                        }
                        row.componentScoresTenths = scores.map(Int32.init)
                        row.passed = rule.score(tenths: scores).passed
                    }
                    return row
                }
                sessions.append(
                    DemoSession(
                        certificate: certificate, level: Xcert_Common_V1_CertificateLevel(rawValue: group.level) ?? .elementary,
                        siteSchoolCode: group.site, date: date, rows: rows))
            }
        }
        self.progress(
            "exams",
            """
            \(number) candidates in \(sessions.count) exam sessions at \
            \(Set(sessions.map { "\($0.certificate.code)/\($0.siteSchoolCode)" }).count) sites; uploading the rosters
            """
        )

        let uploaded = try await mapConcurrently(sessions, limit: 4) { session in
            try await self.upload(session, parties: parties)
        }
        self.count("rosters sealed", uploaded.count)
        self.count("candidates", number)

        // One organization finds a mistake after sealing: a candidate recorded absent sat
        // the exam. It uploads a correction, which supersedes the roster.
        var correctedCompleted: Int64 = 0
        if let index = sessions.firstIndex(where: { $0.rows.contains { $0.registration == .approved && !$0.attended } }) {
            var session = sessions[index]
            let absent = session.rows.firstIndex { $0.registration == .approved && !$0.attended }!
            let rule = ScoringRule(wire: session.certificate.scoring)
            session.rows[absent].attended = true
            session.rows[absent].componentScoresTenths = rule.components.map { _ in 780 }
            session.rows[absent].passed = rule.score(tenths: rule.components.map { _ in 780 }).passed
            // The results go on notice, and the candidate's school objects before the organization corrects the roster.
            let organization = parties.organizations[session.certificate.organizationID]!
            let objection = try await self.objectBeforeCorrection(
                roster: uploaded[index], candidate: session.rows[absent], organization: organization, parties)
            let correction = try await self.upload(
                session, parties: parties, supersedes: uploaded[index].id,
                reason: "考点复核：准考证号\(session.rows[absent].candidateNumber)考生实际参加考核，原误记为缺考")
            if let objection { try await self.answer(objection, correction: correction, organization: organization) }
            correctedCompleted = 1
            self.count("rosters corrected")
            self.progress(
                "exams",
                """
                roster \(uploaded[index].id) (\(session.certificate.code), \(session.date)) corrected: a candidate recorded absent had sat \
                the exam
                """
            )
        }
        let completed = Int64(sessions.reduce(0) { $0 + $1.rows.filter(\.attended).count }) + correctedCompleted
        self.progress(
            "exams",
            """
            \(uploaded.count) rosters sealed: \(number) declared, \
            \(sessions.reduce(0) { $0 + $1.rows.filter { $0.registration == .approved }.count }) approved, \(completed) completed
            """
        )
        return (sessions.count, completed)
    }

    private func upload(
        _ session: DemoSession, parties: DemoParties, supersedes: Int64 = 0, reason: String = ""
    ) async throws -> Xcert_Filing_V1_Roster {
        let organization = parties.organizations[session.certificate.organizationID]!
        var create = Xcert_Filing_V1_CreateRosterRequest()
        create.session.certificateCode = session.certificate.code
        create.session.level = session.level
        create.session.siteSchoolCode = session.siteSchoolCode
        create.session.examDate = session.date.wire
        create.supersedesRosterID = supersedes
        create.correctionReason = reason
        let roster = try await self.stack.call(Xcert_Filing_V1_RosterService.Method.createRoster, create, by: organization)
        for (index, start) in stride(from: 0, to: session.rows.count, by: 5_000).enumerated() {
            var chunk = Xcert_Filing_V1_UploadChunkRequest()
            chunk.rosterID = roster.id
            chunk.chunkIndex = Int32(index)
            chunk.rows = Array(session.rows[start..<min(start + 5_000, session.rows.count)])
            _ = try await self.stack.call(Xcert_Filing_V1_RosterService.Method.uploadChunk, chunk, by: organization)
        }
        var seal = Xcert_Filing_V1_SealRosterRequest()
        seal.rosterID = roster.id
        seal.expectedRowCount = Int64(session.rows.count)
        return try await self.stack.call(Xcert_Filing_V1_RosterService.Method.sealRoster, seal, by: organization)
    }

    /// Waits until assessment has counted every sealed roster and settlement has charged
    /// every completed candidate (both follow feeds, on their own time).
    func awaitFollowers(completed: Int64) async throws {
        var declarations = Xcert_Assessment_V1_GetDeclarationTableRequest()
        declarations.year = self.year
        var fees = Xcert_Settlement_V1_GetOrganizationFeeTableRequest()
        fees.year = self.year
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(600)
        var said = ""
        while true {
            let counted = try await self.stack.call(
                Xcert_Assessment_V1_OutcomeService.Method.getDeclarationTable, declarations, by: self.province, kind: .read
            ).total.completed
            let charged = try await self.stack.call(
                Xcert_Settlement_V1_SettlementReportService.Method.getOrganizationFeeTable, fees, by: self.province, kind: .read
            ).total.completed
            if counted == completed, charged == completed {
                self.progress("followers", "assessment counted and settlement charged all \(completed) completed candidates")
                return
            }
            let now = "assessment has counted \(counted), settlement charged \(charged) of \(completed) completed candidates"
            if now != said { self.progress("followers", now) }
            said = now
            guard clock.now < deadline else { throw CLIError("the followers did not catch up in 10 minutes: \(now)") }
            try await Task.sleep(for: .seconds(1))
        }
    }

    // MARK: - Payments

    /// The province records the schools' payments: most pay each receivable before it is
    /// due, some late, some only part, a few nothing yet.
    func payments() async throws {
        var random = self.random("payments")
        let receivables = try await allPages { token in
            var request = Xcert_Settlement_V1_ListReceivablesRequest()
            request.year = self.year
            request.page.pageToken = token
            request.page.pageSize = 1000
            let response = try await self.stack.call(
                Xcert_Settlement_V1_LedgerService.Method.listReceivables, request, by: self.province, kind: .read)
            return (response.receivables, response.page.nextPageToken)
        }
        enum Habit: Sendable { case onTime, late, part, none }
        let bySchool = Dictionary(grouping: receivables.filter { $0.outstanding.fen > 0 }, by: \.schoolCode).sorted { $0.key < $1.key }
        let plans = bySchool.map { school, open -> (String, [Xcert_Settlement_V1_RecordPaymentRequest], Habit) in
            let roll = Int.random(in: 0..<100, using: &random)
            let habit: Habit = roll < 66 ? .onTime : roll < 82 ? .late : roll < 93 ? .part : .none
            let sorted = open.sorted { $0.id < $1.id }
            var payments: [Xcert_Settlement_V1_RecordPaymentRequest] = []
            switch habit {
            case .onTime, .late:
                for (index, receivable) in sorted.enumerated() {
                    guard let due = LocalDate(wire: receivable.dueDate), let exam = LocalDate(wire: receivable.examDate) else { continue }
                    let day =
                        habit == .onTime
                        ? due.adding(days: -Int.random(in: 1...20, using: &random))
                        : due.adding(days: Int.random(in: 5...60, using: &random))
                    payments.append(
                        self.payment(
                            school, fen: receivable.outstanding.fen, on: min(max(day, exam), self.today),
                            reference: "\(school)-\(index + 1)", receivable: receivable.id))
                }
            case .part:
                let total = sorted.reduce(0) { $0 + $1.outstanding.fen }
                if let first = sorted.first, let due = LocalDate(wire: first.dueDate), total >= 200 {
                    payments.append(
                        self.payment(
                            school, fen: total / 2 / 100 * 100, on: min(due.adding(days: -3), self.today), reference: "\(school)-1",
                            receivable: 0))
                }
            case .none:
                break
            }
            return (school, payments, habit)
        }
        try await forEachConcurrently(plans) { _, payments, _ in
            for payment in payments {
                _ = try await self.stack.call(Xcert_Settlement_V1_LedgerService.Method.recordPayment, payment, by: self.province)
            }
        }
        let habits = plans.map(\.2)
        self.count("payments", plans.reduce(0) { $0 + $1.1.count })
        self.progress(
            "payments",
            """
            \(receivables.count) receivables of \(bySchool.count) schools: \(habits.filter { $0 == .onTime }.count) schools paid on time, \
            \(habits.filter { $0 == .late }.count) late, \(habits.filter { $0 == .part }.count) in part, \
            \(habits.filter { $0 == .none }.count) not yet (\(self.counted("payments")) payments)
            """
        )
    }

    private func payment(
        _ school: String, fen: Int64, on day: LocalDate, reference: String, receivable: Int64
    ) -> Xcert_Settlement_V1_RecordPaymentRequest {
        var request = Xcert_Settlement_V1_RecordPaymentRequest()
        request.schoolCode = school
        request.amount.fen = fen
        request.paidOn = day.wire
        request.reference = "银行回单 \(self.year)-\(reference)"
        request.receivableID = receivable
        return request
    }

    // MARK: - Evaluation

    /// The year's due day for self-evaluations: 003's 4/1 of the next year, or, as the demo
    /// drives its year late, a week from today (within the next year, as the calendar allows);
    /// one school's due day extended a week more.
    private func evaluationCalendar(extending school: String?) async throws {
        let last = LocalDate(year: Int(self.year) + 1, month: 12, day: 31)!
        let due = min(max(LocalDate(year: Int(self.year) + 1, month: 4, day: 1)!, self.today.adding(days: 7)), last)
        var set = Xcert_Assessment_V1_SetEvaluationCalendarRequest()
        set.year = self.year
        set.dueOn = due.wire
        _ = try await self.stack.call(Xcert_Assessment_V1_EvaluationService.Method.setEvaluationCalendar, set, by: self.province)
        guard let school, due < last else { return }
        var extend = Xcert_Assessment_V1_ExtendEvaluationDueRequest()
        extend.schoolCode = school
        extend.year = self.year
        extend.dueOn = min(due.adding(days: 7), last).wire
        extend.reason = "学校申请：自评报告附件需补充盖章，延期一周报送"
        _ = try await self.stack.call(Xcert_Assessment_V1_EvaluationService.Method.extendEvaluationDue, extend, by: self.province)
    }

    /// The province publishes the year's scheme (003's indicator table with its default
    /// points); every pilot school scores itself with evidence; the province reviews
    /// almost all of them, marking some items down.
    func evaluations(_ qualifications: [Xcert_Registry_V1_PilotQualification], _ parties: DemoParties) async throws {
        var random = self.random("evaluations")
        var create = Xcert_Assessment_V1_CreateSchemeRequest()
        create.year = self.year
        create.note = "\(self.year)年度1+X证书制度试点院校考核评价方案（演示）"
        let draft = try await self.stack.call(Xcert_Assessment_V1_SchemeService.Method.createScheme, create, by: self.province)
        var publish = Xcert_Assessment_V1_PublishSchemeRequest()
        publish.year = self.year
        publish.version = draft.version
        let scheme = try await self.stack.call(Xcert_Assessment_V1_SchemeService.Method.publishScheme, publish, by: self.province)
        let manual = scheme.indicators.filter { $0.kind == .manual }

        let schools = Set(qualifications.map(\.schoolCode)).sorted()
        try await self.evaluationCalendar(extending: schools.first)
        let plans = schools.map { school -> (String, [Xcert_Assessment_V1_SelfScore], [Xcert_Assessment_V1_ReviewScore]?) in
            // Schools differ: a strong one earns most of each item, a weak one about half.
            let strength = Int.random(in: 68...100, using: &random)
            let selfScores = manual.map { indicator -> Xcert_Assessment_V1_SelfScore in
                var score = Xcert_Assessment_V1_SelfScore()
                score.code = indicator.code
                let share =
                    indicator.bonus
                    ? (random.chance(strength / 2) ? Int.random(in: 30...100, using: &random) : 0)
                    : max(0, min(100, strength + Int.random(in: -10...10, using: &random)))
                score.pointsTenths = indicator.maxPointsTenths * Int32(share) / 100
                if score.pointsTenths > 0 {
                    var evidence = Xcert_Assessment_V1_Evidence()
                    evidence.name = "\(indicator.code) \(indicator.name) 佐证材料.pdf"
                    evidence.sha256 = SHA256.hash(data: Data("\(school) \(self.year) \(indicator.code)".utf8)).map {
                        String(format: "%02x", $0)
                    }.joined()
                    score.evidence = [evidence]
                }
                return score
            }
            // The province reviews about 19 schools in 20; the rest stay provisional.
            let reviews: [Xcert_Assessment_V1_ReviewScore]? =
                random.chance(95)
                ? selfScores.map { selfScore in
                    var review = Xcert_Assessment_V1_ReviewScore()
                    review.code = selfScore.code
                    review.pointsTenths = selfScore.pointsTenths
                    if selfScore.pointsTenths > 0, random.chance(20) {
                        review.pointsTenths = selfScore.pointsTenths * Int32(Int.random(in: 50...90, using: &random)) / 100
                        review.comment = "佐证材料不足以支撑自评分，酌情扣分"
                    }
                    return review
                } : nil
            return (school, selfScores, reviews)
        }
        try await forEachConcurrently(plans) { school, selfScores, reviews in
            var submit = Xcert_Assessment_V1_SubmitSelfEvaluationRequest()
            submit.schoolCode = school
            submit.year = self.year
            submit.scores = selfScores
            submit.report = """
                \(self.year)年度1+X证书制度试点工作自评报告：学校成立试点工作领导小组，落实专项经费，组织教师参加培训评价组织的师资培训，\
                按计划完成证书培训与考核，书证融通课程改革有序推进。
                """
            submit.attachments = [demoDocument("\(school)-\(self.year)-自评报告附件.pdf")]
            _ = try await self.stack.call(
                Xcert_Assessment_V1_EvaluationService.Method.submitSelfEvaluation, submit, by: parties.schools[school]!)
            guard let reviews else { return }
            var review = Xcert_Assessment_V1_ReviewEvaluationRequest()
            review.schoolCode = school
            review.year = self.year
            review.scores = reviews
            _ = try await self.stack.call(Xcert_Assessment_V1_EvaluationService.Method.reviewEvaluation, review, by: self.province)
            self.count("evaluations reviewed")
        }
        self.count("self-evaluations", plans.count)
        self.progress(
            "evaluation",
            """
            scheme \(self.year) v\(scheme.version) published (\(scheme.indicators.count) indicators, \(manual.count) self-scored); \
            \(plans.count) schools scored themselves; the province reviewed \(self.counted("evaluations reviewed"))
            """
        )
    }
}
