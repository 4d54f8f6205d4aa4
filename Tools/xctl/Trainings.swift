import ArgumentParser
import Foundation
import XCertAPI
import XCertDomain
import XCertProto
import XCertService
import XCertWire

/// `xctl trainings …`: teachers of pilot schools trained for a certificate level (004 item 9),
/// the measures of the evaluation's items 4-1 and 4-2, and each organization's trainings.
struct Trainings: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trainings",
        abstract: "Teacher training (师资培训): record and list trainings, the schools' 4-1/4-2 measures, organizations' trainings.",
        subcommands: [Record.self, List.self, Measures.self, Sessions.self]
    )

    struct Record: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "An organization (or a school, for its own teachers) records teachers trained, one per --teacher.")
        @Option(help: "The teachers' school.") var school: String
        @Option(name: .customLong("teacher"), help: "A teacher trained (repeatable).") var teachers: [String]
        @Option(help: "The certificate's code.") var certificate: String
        @Option(help: "The level: 初级/elementary, 中级/intermediate or 高级/advanced.") var level: String
        @Option(help: "The training's name (培训名称), as the yearly report names it.") var name: String
        @Option(help: "Its first day, YYYY-MM-DD.") var start: String
        @Option(help: "Its last day, YYYY-MM-DD.") var end: String
        @Option(help: "Hours (学时).") var hours: Int32
        @Option(help: "The certificate of completion (结业证书) the teachers got: a file, recorded by name, size and SHA-256.")
        var completion: String?
        @Flag(help: "The training gave the teachers the 1+X 种子师资 title.") var seedTeacher = false
        @OptionGroup var change: ChangeOptions
        @OptionGroup var options: RegistryOptions
        func run() async throws {
            var record = Xcert_Registry_V1_TrainingRecord()
            record.schoolCode = self.school
            record.certificateCode = self.certificate
            guard let level = try wireLevels([self.level]).first else { throw ValidationError("--level names a level") }
            record.level = level
            record.trainingName = self.name
            record.startOn = try wireDate(self.start, option: "--start")
            record.endOn = try wireDate(self.end, option: "--end")
            record.hours = self.hours
            if let completion = self.completion { record.completion = try attachment(completion) }
            record.seedTeacher = self.seedTeacher
            var request = Xcert_Registry_V1_RecordTrainingsRequest()
            request.records = self.teachers.map { teacher in
                var one = record
                one.teacherName = teacher
                return one
            }
            let response = try await self.options.call(
                Xcert_Registry_V1_TeacherTrainingService.Method.recordTrainings, request, idempotencyKey: self.change.idempotencyKey)
            print("\(response.records.count) trained: ids \(response.records.map { String($0.id) }.joined(separator: ", "))")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Teachers trained, as the caller may see them.")
        @Option(help: "Only trainings starting in this year.") var year: Int32 = 0
        @Option(help: "Only this school's teachers.") var school: String = ""
        @Option(help: "Only this organization's trainings.") var organization: Int64 = 0
        @Option(help: "Only this certificate's.") var certificate: String = ""
        @Option(help: "table or csv.") var format: OutputFormat = .table
        @OptionGroup var options: RegistryOptions
        func run() async throws {
            let records = try await allPages { token in
                var request = Xcert_Registry_V1_ListTrainingsRequest()
                request.year = self.year
                request.schoolCode = self.school
                request.organizationID = self.organization
                request.certificateCode = self.certificate
                request.page.pageToken = token
                let page = try await self.options.call(Xcert_Registry_V1_TeacherTrainingService.Method.listTrainings, request)
                return (page.records, page.page.nextPageToken)
            }
            emit(
                ["id", "school", "teacher", "certificate", "level", "training", "start", "end", "hours", "certified", "seed_teacher"],
                records.map {
                    [
                        String($0.id), $0.schoolCode, $0.teacherName, $0.certificateCode, levelNames([$0.level]), $0.trainingName,
                        dateText($0.startOn), dateText($0.endOn), String($0.hours), $0.hasCompletion ? "yes" : "no",
                        $0.seedTeacher ? "yes" : "no",
                    ]
                }, format: self.format)
        }
    }

    struct Measures: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Each school's 4-1 (certificates with a teacher trained and certified, of those piloted) and 4-2 (new 种子师资).")
        @Option(help: "The year.") var year: Int32
        @Option(help: "Only this school.") var school: String = ""
        @Option(help: "table or csv.") var format: OutputFormat = .table
        @OptionGroup var options: RegistryOptions
        func run() async throws {
            var request = Xcert_Registry_V1_GetTrainingMeasuresRequest()
            request.year = self.year
            request.schoolCode = self.school
            let response = try await self.options.call(Xcert_Registry_V1_TeacherTrainingService.Method.getTrainingMeasures, request)
            emit(
                ["school", "certificates_piloted", "certificates_certified", "new_seed_teachers"],
                response.schools.map {
                    [$0.schoolCode, String($0.certificatesPiloted), String($0.certificatesCertified), String($0.newSeedTeachers)]
                }, format: self.format)
        }
    }

    struct Sessions: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The trainings organizations gave in the year, as their yearly reports' table 一.2 should list them.")
        @Option(help: "The year.") var year: Int32
        @Option(help: "Only this organization's.") var organization: Int64 = 0
        @Option(help: "table or csv.") var format: OutputFormat = .table
        @Flag(help: "003's Chinese column headers.") var chineseHeaders = false
        @OptionGroup var options: RegistryOptions
        func run() async throws {
            var request = Xcert_Registry_V1_GetTrainingSessionsRequest()
            request.year = self.year
            request.organizationID = self.organization
            let response = try await self.options.call(Xcert_Registry_V1_TeacherTrainingService.Method.getTrainingSessions, request)
            emit(
                self.chineseHeaders
                    ? ["培训评价组织", "培训名称", "培训时间", "培训天数", "培训人数(江西省)", "其中取证"]
                    : ["organization", "training", "start", "days", "participants_province", "certified"],
                response.sessions.map {
                    [
                        String($0.organizationID), $0.trainingName, dateText($0.startOn), String($0.days), String($0.participantsProvince),
                        String($0.certified),
                    ]
                }, format: self.format)
        }
    }
}
