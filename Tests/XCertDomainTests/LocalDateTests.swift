import Foundation
import Testing
import XCertDomain

@Suite("Local dates in Asia/Shanghai: filing deadlines")
struct LocalDateTests {
    @Test(
        "a date that does not exist is nil",
        arguments: [
            (2019, 2, 29), (1900, 2, 29), (2100, 2, 29), (2020, 13, 1), (2020, 0, 1), (2020, 5, 0), (2020, 4, 31), (2020, 1, 32), (0, 1, 1),
            (10_000, 1, 1),
        ])
    func invalid(year: Int, month: Int, day: Int) {
        #expect(LocalDate(year: year, month: month, day: day) == nil)
    }

    @Test("leap days: 2000 and 2020 have a February 29; 1900 and 2019 do not")
    func leapDays() {
        #expect(LocalDate(year: 2000, month: 2, day: 29) != nil)
        #expect(LocalDate(year: 2020, month: 2, day: 29) != nil)
        #expect(LocalDate(year: 2024, month: 2, day: 29) != nil)
        #expect(LocalDate(year: 1900, month: 2, day: 29) == nil)
        #expect(LocalDate(year: 2019, month: 2, day: 29) == nil)
        #expect(LocalDate(year: 2019, month: 12, day: 31) != nil)
    }

    @Test(
        "written YYYY-MM-DD, zero-padded",
        arguments: [
            (2020, 5, 9, "2020-05-09"), (2020, 12, 31, "2020-12-31"), (999, 1, 1, "0999-01-01"), (2021, 10, 1, "2021-10-01"),
        ])
    func description(year: Int, month: Int, day: Int, text: String) throws {
        #expect(try #require(LocalDate(year: year, month: month, day: day)).description == text)
    }

    @Test("the closing instant is the day's last second in +08:00")
    func closingInstant() throws {
        let date = try #require(LocalDate(year: 2020, month: 5, day: 29))
        #expect(date.closingInstant == "2020-05-29 23:59:59 +08:00")
        #expect(try #require(LocalDate(year: 2021, month: 1, day: 3)).closingInstant == "2021-01-03 23:59:59 +08:00")
    }

    @Test("the day ends at 16:00 UTC: 2020-05-29 ends at 1590768000 (2020-05-29T16:00:00Z)")
    func endInstant() throws {
        let date = try #require(LocalDate(year: 2020, month: 5, day: 29))
        #expect(date.endInstant == 1_590_768_000)
        #expect(try #require(LocalDate(year: 1970, month: 1, day: 1)).endInstant == 86_400 - 8 * 3600)
    }

    @Test("the deadline boundary: the last second and its fraction are accepted, 00:00:00 the next day is not")
    func deadlineBoundary() throws {
        let date = try #require(LocalDate(year: 2020, month: 5, day: 29))
        #expect(date.accepts(instant: 1_590_767_999), "2020-05-29 23:59:59 +08:00")
        #expect(date.accepts(instant: 1_590_767_999.999), "2020-05-29 23:59:59.999 +08:00")
        #expect(!date.accepts(instant: 1_590_768_000), "2020-05-30 00:00:00 +08:00")
        #expect(!date.accepts(instant: 1_590_768_001))
        // The whole day before is accepted, from its first instant in Shanghai.
        #expect(date.accepts(instant: 1_590_768_000 - 86_400))
        #expect(date.accepts(instant: 0))
    }

    @Test("ordered by year, then month, then day")
    func ordering() throws {
        let dates = try [(2021, 1, 1), (2020, 12, 31), (2020, 2, 29), (2020, 10, 1), (2020, 2, 3)].map {
            try #require(LocalDate(year: $0.0, month: $0.1, day: $0.2))
        }
        #expect(dates.sorted().map(\.description) == ["2020-02-03", "2020-02-29", "2020-10-01", "2020-12-31", "2021-01-01"])
        let september30 = try #require(LocalDate(year: 2020, month: 9, day: 30))
        let october1 = try #require(LocalDate(year: 2020, month: 10, day: 1))
        #expect(september30 < october1)
        #expect(!(october1 < october1))
        #expect(!(october1 < september30))
        #expect(LocalDate(year: 2020, month: 10, day: 1) == LocalDate(year: 2020, month: 10, day: 1))
    }

    @Test(
        """
        for every day of 2019–2030, endInstant is Foundation's start of the next day in Asia/Shanghai, and the day before is accepted to \
        its last second
        """
    )
    func agreesWithFoundation() throws {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = try #require(TimeZone(identifier: "Asia/Shanghai"))
        var day = try #require(calendar.date(from: DateComponents(year: 2019, month: 1, day: 1)))
        let end = try #require(calendar.date(from: DateComponents(year: 2031, month: 1, day: 1)))
        var checked = 0
        while day < end {
            let parts = calendar.dateComponents([.year, .month, .day], from: day)
            let next = try #require(calendar.date(byAdding: .day, value: 1, to: day))
            let date = try #require(LocalDate(year: parts.year!, month: parts.month!, day: parts.day!))
            let foundationEnd = Int64(next.timeIntervalSince1970)
            #expect(date.endInstant == foundationEnd, "\(date)")
            #expect(date.accepts(instant: Double(foundationEnd) - 1) && !date.accepts(instant: Double(foundationEnd)), "\(date)")
            #expect(date.description == String(format: "%04d-%02d-%02d", parts.year!, parts.month!, parts.day!))
            day = next
            checked += 1
        }
        #expect(checked == 4383, "12 years, 3 of them leap")
    }

    @Test("an instant in the province's time agrees with Foundation's Asia/Shanghai formatting, every 7,919 seconds of 1992–2030")
    func provinceTime() throws {
        #expect(LocalDate.provinceTime(1_590_767_999) == "2020-05-29 23:59:59 +08:00")
        #expect(LocalDate.provinceTime(1_590_768_000) == "2020-05-30 00:00:00 +08:00")
        #expect(LocalDate(containing: 1_590_768_000).description == "2020-05-30")
        // Before the epoch: 1970-01-01 begins at -28,800 in the province.
        #expect(LocalDate(containing: -28_800).description == "1970-01-01")
        #expect(LocalDate.provinceTime(-28_801) == "1969-12-31 23:59:59 +08:00")
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = try #require(TimeZone(identifier: "Asia/Shanghai"))
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss xxx"
        // From 1992: China last observed summer time in 1991.
        for seconds in stride(from: Int64(694_224_000), to: Int64(1_924_992_000), by: 7_919) {
            #expect(
                LocalDate.provinceTime(seconds) == formatter.string(from: Date(timeIntervalSince1970: TimeInterval(seconds))), "\(seconds)")
        }
    }
}
