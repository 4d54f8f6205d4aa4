import Foundation
import XCertAPI
import XCertDomain
import XCertProto
import XCertService
import XCertWire

/// The schools' 双周报 (003 indicator 6-3): the province sets the year's calendar, fortnights
/// from the year's first Monday, each report due three days after its fortnight at 18:00.
/// The demo's year is past, so the province records each report as it reached it (补录, on
/// paper or by e-mail): most schools report on time, some are often late or miss
/// fortnights, and a few reports come without their text. Item 6-3 is scored from these.
extension DemoRun {
    func periodicReports(_ qualifications: [Xcert_Registry_V1_PilotQualification]) async throws {
        var random = self.random("periodic reports")
        var firstMonday = self.date(month: 1, day: 1)
        while firstMonday.weekday != 1 { firstMonday = firstMonday.adding(days: 1) }
        var set = Xcert_Filing_V1_SetReportingCalendarRequest()
        set.calendar.year = self.year
        set.calendar.party = .school
        set.calendar.firstPeriodStarts = firstMonday.wire
        set.calendar.periodDays = 14
        set.calendar.dueDaysAfter = 3
        set.calendar.dueMinute = 18 * 60
        set.calendar.figures = [("trained", "本期培训人数"), ("examined", "本期考核人数"), ("teachers", "本期参训教师人数")].map { code, label in
            var figure = Xcert_Filing_V1_ReportFigure()
            figure.code = code
            figure.label = label
            return figure
        }
        let calendar = try await self.stack.call(Xcert_Filing_V1_PeriodicReportService.Method.setReportingCalendar, set, by: self.province)
        let rule = try ReportingCalendar(
            year: self.year, firstPeriodStarts: firstMonday, periodDays: 14, dueDaysAfter: 3, dueMinute: 18 * 60)
        let now = Int64(Date().timeIntervalSince1970)

        var requests: [Xcert_Filing_V1_RecordPeriodicReportRequest] = []
        for school in Set(qualifications.map(\.schoolCode)).sorted() {
            // How a school reports: (on time, late) in percent of its fortnights; the rest never came.
            let habit = random.chance(70) ? (95, 4) : random.chance(65) ? (72, 18) : (40, 30)
            for period in 1...Int(calendar.periods) {
                guard let due = rule.lateFrom(period), let fortnight = rule.period(period), due <= now else { continue }
                let roll = Int.random(in: 0..<100, using: &random)
                guard roll < habit.0 + habit.1 else {
                    self.count("periodic reports missing")
                    continue
                }
                let received =
                    roll < habit.0
                    ? due - Int64.random(in: 1...72, using: &random) * 3600 : due + Int64.random(in: 1...96, using: &random) * 3600
                guard received <= now else { continue }
                var request = Xcert_Filing_V1_RecordPeriodicReportRequest()
                request.year = self.year
                request.party = .school
                request.period = Int32(period)
                request.partyCode = school
                request.figures = set.calendar.figures.map { figure in
                    var value = Xcert_Filing_V1_FigureValue()
                    value.code = figure.code
                    value.value = Int64.random(in: figure.code == "teachers" ? 0...6 : 0...120, using: &random)
                    return value
                }
                request.text =
                    random.chance(4) ? "" : "\(fortnight.starts)至\(fortnight.ends)：按试点方案开展证书培训，组织教师参加师资培训，推进书证融通课程改革。"
                request.receivedAt.seconds = received
                request.reason = random.chance(60) ? "纸质报送，按收件日期补录" : "邮件报送，按收件时间补录"
                requests.append(request)
            }
        }
        let reports = try await mapConcurrently(requests) { request in
            try await self.stack.call(Xcert_Filing_V1_PeriodicReportService.Method.recordPeriodicReport, request, by: self.province)
        }
        self.count("periodic reports on time", reports.filter(\.onTime).count)
        self.count("periodic reports late", reports.filter { !$0.onTime }.count)
        self.count("periodic reports incomplete", reports.filter { !$0.complete }.count)
        self.progress(
            "periodic reports",
            """
            \(calendar.periods) fortnights of 双周报 from \(firstMonday): \(self.counted("periodic reports on time")) on time, \
            \(self.counted("periodic reports late")) late, \(self.counted("periodic reports missing")) never came, \
            \(self.counted("periodic reports incomplete")) without their text (xctl filing periodic status)
            """)
    }
}
