import Foundation
import Testing
import XCertAPI
import XCertDomain
import XCertProto
import XCertService
import XCertTestSupport
import XCertWire

@Suite(
    "Registry: teacher training (004 item 9; 003 items 4-1, 4-2)",
    .enabled(if: TestCluster.isConfigured, "needs the PostgreSQL that scripts/test starts"), .timeLimit(.minutes(3)))
struct TrainingTests {
    static func record(
        _ school: String, _ teacher: String, certificate: String = "AUTO", name: String = "汽车运用与维修师资培训", start: (Int, Int, Int),
        days: Int = 5, certified: Bool = true, seed: Bool = false
    ) -> Xcert_Registry_V1_TrainingRecord {
        var record = Xcert_Registry_V1_TrainingRecord()
        record.schoolCode = school
        record.teacherName = teacher
        record.certificateCode = certificate
        record.level = .elementary
        record.trainingName = name
        let first = LocalDate(year: start.0, month: start.1, day: start.2)!
        record.startOn = first.wire
        record.endOn = first.adding(days: days - 1).wire
        record.hours = Int32(days * 8)
        if certified {
            record.completion.name = "\(teacher)结业证书.pdf"
            record.completion.sizeBytes = 90_000
            record.completion.sha256 = String(repeating: "a1", count: 32)
        }
        record.seedTeacher = seed
        return record
    }

    @Test(
        """
        organizations record the trainings of their certificates, schools their own teachers'; every bad field is named, a record \
        twice is refused and nothing of the request stored; the 4-1/4-2 measures and the organizations' trainings follow; the view \
        lists them
        """
    )
    func recordsAndMeasures() async throws {
        try await withRegistry { registry in
            let seeded = try await registry.seedReference()
            registry.filing.approve("AUTO", year: 2026)
            registry.filing.approve("BIM", year: 2026)
            for code in ["4136010001", "4136010002"] { try await registry.createSchool(code) }
            try await registry.qualify("4136010001", "AUTO", year: 2026)
            try await registry.qualify("4136010001", "BIM", year: 2026)
            let car = try await registry.token(role: "organization", party: String(seeded.carOrganization))
            let bim = try await registry.token(role: "organization", party: String(seeded.bimOrganization))
            let school = try await registry.token(role: "school", party: "4136010001")
            let method = Xcert_Registry_V1_TeacherTrainingService.Method.self

            // Every bad field named at once.
            var bad = Self.record("41360100", "", start: (2026, 7, 10))
            bad.endOn = LocalDate(year: 2026, month: 7, day: 9)!.wire
            bad.hours = 0
            bad.completion.sha256 = "x"
            var request = Xcert_Registry_V1_RecordTrainingsRequest()
            request.records = [bad, Self.record("4136010001", "王老师", start: (2026, 7, 10))]
            let refused = try #require(await registry.refusal(method.recordTrainings, request, token: car))
            #expect(
                refused.fieldViolations.map(\.field) == [
                    "records[0].school_code", "records[0].teacher_name", "records[0].end_on", "records[0].hours",
                    "records[0].completion.sha256",
                ], "\(refused.fieldViolations)")
            // Another organization's certificate; another school's teachers; an unknown school.
            request.records = [Self.record("4136010001", "王老师", start: (2026, 7, 10))]
            #expect(await registry.refusal(method.recordTrainings, request, token: bim)?.code == .permissionDenied)
            request.records = [Self.record("4136010002", "赵老师", start: (2026, 7, 10))]
            #expect(
                await registry.refusal(method.recordTrainings, request, token: school)?.fieldViolations.map(\.field) == [
                    "records[0].school_code"
                ])
            request.records = [Self.record("4136019999", "赵老师", start: (2026, 7, 10))]
            #expect(
                await registry.refusal(method.recordTrainings, request, token: car)?.fieldViolations.map(\.field) == [
                    "records[0].school_code"
                ])

            // The organization's training: two certified (one a 种子师资), one not; the school records one of its own for BIM.
            request.records = [
                Self.record("4136010001", "王老师", start: (2026, 7, 10), seed: true),
                Self.record("4136010001", "李老师", start: (2026, 7, 10), certified: false),
                Self.record("4136010002", "赵老师", start: (2026, 7, 10)),
            ]
            let stored = try await registry.call(method.recordTrainings, request, token: car)
            #expect(stored.records.count == 3 && stored.records.allSatisfy { $0.organizationID == seeded.carOrganization })
            #expect(stored.records[0].completion.sha256 == String(repeating: "a1", count: 32) && !stored.records[1].hasCompletion)
            // Again without a key: refused, naming it, and the new one beside it is not stored either.
            request.records.append(Self.record("4136010002", "钱老师", start: (2026, 7, 10)))
            let twice = try #require(await registry.refusal(method.recordTrainings, request, token: car))
            #expect(twice.code == .alreadyExists && twice.message.contains("records[0] (王老师, 汽车运用与维修师资培训)"), "\(twice.message)")
            #expect(try await registry.scalar("SELECT count(*) FROM registry.teacher_trainings", as: Int64.self) == 3)
            var own = Xcert_Registry_V1_RecordTrainingsRequest()
            own.records = [
                Self.record("4136010001", "孙老师", certificate: "BIM", name: "BIM师资培训", start: (2026, 8, 1), days: 3, certified: false)
            ]
            _ = try await registry.call(method.recordTrainings, own, token: school)

            // 4-1: AUTO has a certified teacher, BIM none: 1 of 2. 4-2: one new 种子师资.
            var measures = Xcert_Registry_V1_GetTrainingMeasuresRequest()
            measures.year = 2026
            let all = try await registry.call(method.getTrainingMeasures, measures, token: registry.admin).schools
            #expect(
                all.map { "\($0.schoolCode) \($0.certificatesPiloted) \($0.certificatesCertified) \($0.newSeedTeachers)" } == [
                    "4136010001 2 1 1", "4136010002 0 0 0",
                ])
            #expect(
                try await registry.call(method.getTrainingMeasures, measures, token: school).schools.map(\.schoolCode) == ["4136010001"])
            // A 种子师资 title given again next year is not new.
            request.records = [Self.record("4136010001", "王老师", name: "汽车运用与维修高级研修", start: (2027, 3, 1), seed: true)]
            _ = try await registry.call(method.recordTrainings, request, token: car)
            measures.year = 2027
            #expect(
                try await registry.call(method.getTrainingMeasures, measures, token: registry.admin).schools.first?.newSeedTeachers == 0)

            // The organization's trainings of 2026: distinct teachers, the longest days.
            var sessions = Xcert_Registry_V1_GetTrainingSessionsRequest()
            sessions.year = 2026
            let given = try await registry.call(method.getTrainingSessions, sessions, token: car).sessions
            #expect(given.map { "\($0.trainingName) \($0.days) \($0.participantsProvince) \($0.certified)" } == ["汽车运用与维修师资培训 5 3 2"])
            #expect(try await registry.call(method.getTrainingSessions, sessions, token: registry.admin).sessions.count == 2)
            // Each sees its own: the other organization the training of its certificate, the school its teachers only.
            #expect(try await registry.call(method.getTrainingSessions, sessions, token: bim).sessions.map(\.trainingName) == ["BIM师资培训"])
            var list = Xcert_Registry_V1_ListTrainingsRequest()
            list.year = 2026
            #expect(try await registry.call(method.listTrainings, list, token: school).records.map(\.teacherName) == ["王老师", "李老师", "孙老师"])
            #expect(try await registry.call(method.listTrainings, list, token: bim).records.map(\.teacherName) == ["孙老师"])

            let viewed = try await registry.scalar(
                """
                SELECT string_agg(teacher_name || ':' || days || ':' || certified || ':' || seed_teacher, ',' ORDER BY training_id)
                FROM analytics.teacher_trainings WHERE year = 2026
                """, as: String.self)
            #expect(viewed == "王老师:5:true:true,李老师:5:false:false,赵老师:5:true:false,孙老师:3:false:false")

            let xctl = ServiceProcess.binDirectory.appendingPathComponent("xctl").path
            let printed = try await runCommand(
                xctl,
                [
                    "trainings", "sessions", "--year", "2026", "--chinese-headers", "--format", "csv", "--registry",
                    "127.0.0.1:\(registry.registry.port)", "--token", registry.admin,
                ])
            #expect(printed.status == 0 && printed.output.contains("培训评价组织,培训名称,培训时间,培训天数,培训人数(江西省),其中取证"), "\(printed.output)")
            #expect(printed.output.contains("汽车运用与维修师资培训,2026-07-10,5,3,2"), "\(printed.output)")
        }
    }
}
