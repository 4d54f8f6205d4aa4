import Foundation
import XCertAPI
import XCertDomain
import XCertProto
import XCertService
import XCertWire

/// Teacher training (师资培训, 004 item 9): each organization gives one training per
/// certificate in July, for one or two teachers of every school that pilots it; most come
/// away certified, a few are made 种子师资. A school records a training of its own teachers.
/// The evaluation's items 4-1 and 4-2 and the yearly reports' table 一.2 come from these.
extension DemoRun {
    func trainings(
        _ reference: DemoReference, _ qualifications: [Xcert_Registry_V1_PilotQualification], _ parties: DemoParties
    ) async throws {
        var random = self.random("trainings")
        let byCertificate = Dictionary(grouping: qualifications, by: \.certificateCode)
        var requests: [(Party, Xcert_Registry_V1_RecordTrainingsRequest)] = []
        for (index, code) in byCertificate.keys.sorted().enumerated() {
            guard let certificate = reference.certificate(code), let organization = parties.organizations[certificate.organizationID]
            else { continue }
            let start = self.date(month: 7, day: 1 + index % 25)
            var request = Xcert_Registry_V1_RecordTrainingsRequest()
            for qualification in (byCertificate[code] ?? []).sorted(by: { $0.schoolCode < $1.schoolCode }) {
                for teacher in 1...Int.random(in: 1...2, using: &random) {
                    var record = Xcert_Registry_V1_TrainingRecord()
                    record.schoolCode = qualification.schoolCode
                    record.teacherName = "\(qualification.schoolCode.suffix(4))号校\(certificate.name.prefix(4))教师\(teacher)"
                    record.certificateCode = code
                    record.level = qualification.levels.first ?? .elementary
                    record.trainingName = "\(certificate.name)师资培训"
                    record.startOn = start.wire
                    record.endOn = start.adding(days: 4).wire
                    record.hours = 40
                    if random.chance(85) {
                        record.completion = demoDocument("\(record.teacherName)\(certificate.name)培训结业证书.pdf")
                    }
                    record.seedTeacher = random.chance(8)
                    request.records.append(record)
                }
            }
            if !request.records.isEmpty { requests.append((organization, request)) }
        }
        // The first pilot school also sends two teachers to a training of its own choosing.
        if let first = qualifications.min(by: { $0.schoolCode < $1.schoolCode }), let school = parties.schools[first.schoolCode],
            let certificate = reference.certificate(first.certificateCode)
        {
            var request = Xcert_Registry_V1_RecordTrainingsRequest()
            for teacher in ["校本研修教师1", "校本研修教师2"] {
                var record = Xcert_Registry_V1_TrainingRecord()
                record.schoolCode = first.schoolCode
                record.teacherName = teacher
                record.certificateCode = first.certificateCode
                record.level = first.levels.first ?? .elementary
                record.trainingName = "\(certificate.name)省级骨干教师研修"
                record.startOn = self.date(month: 8, day: 3).wire
                record.endOn = self.date(month: 8, day: 7).wire
                record.hours = 40
                record.completion = demoDocument("\(teacher)研修结业证书.pdf")
                request.records.append(record)
            }
            requests.append((school, request))
        }
        var teachers = 0
        for (party, request) in requests {
            let stored = try await self.stack.call(Xcert_Registry_V1_TeacherTrainingService.Method.recordTrainings, request, by: party)
            teachers += stored.records.count
        }
        self.count("teachers trained", teachers)
        self.progress("trainings", "\(teachers) teachers trained in \(requests.count) trainings (xctl trainings sessions)")
    }
}
