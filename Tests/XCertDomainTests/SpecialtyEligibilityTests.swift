import Testing
import XCertDomain

@Suite("Eligibility of a school's specialty to pilot (001 §二.3, 002 §二.1, §二.3)")
struct SpecialtyEligibilityTests {
    static func team(_ teachers: Int, dual: Int, experts: Int, years: Int, code: String = "500211") -> SpecialtyEligibility {
        SpecialtyEligibility(
            specialtyCode: code, teachers: teachers, dualQualifiedTeachers: dual, industryExperts: experts, continuousEnrolmentYears: years)
    }

    @Test("exactly 50 % 双师型, 20 % industry experts and 3 years are enough; one fewer of each is not, with the numbers")
    func boundaries() {
        #expect(Self.team(10, dual: 5, experts: 2, years: 3).isEligible)
        #expect(Self.team(7, dual: 4, experts: 2, years: 5).isEligible, "4 of 7 is 57.1 %, 2 of 7 is 28.5 %")
        #expect(Self.team(10, dual: 4, experts: 2, years: 3).shortfalls == ["双师型 teachers 4 of 10 (40.0 %), below 50 %"])
        #expect(Self.team(10, dual: 5, experts: 1, years: 3).shortfalls == ["industry experts 1 of 10 (10.0 %), below 20 %"])
        #expect(Self.team(10, dual: 5, experts: 2, years: 2).shortfalls == ["enrolled 2 years in a row, fewer than 3"])
        #expect(Self.team(3, dual: 1, experts: 0, years: 0).shortfalls.count == 3)
        #expect(Self.team(0, dual: 0, experts: 0, years: 9).shortfalls.count == 2, "no teachers is no team")
        #expect(Self.team(Int.max, dual: Int.max, experts: Int.min, years: 3).shortfalls.count == 1, "no overflow")
    }

    @Test("an application's specialties: one without a team, or one short, refuses it naming every specialty and shortfall")
    func check() throws {
        let teams = [
            "500211": Self.team(10, dual: 5, experts: 2, years: 3), "460702": Self.team(6, dual: 2, experts: 1, years: 2, code: "460702"),
        ]
        #expect(throws: Never.self) { try SpecialtyEligibility.check(school: "4136010001", specialties: ["500211"], teams: teams) }
        let missing = #expect(throws: DomainError.self) {
            try SpecialtyEligibility.check(school: "4136010001", specialties: ["500211", "510201"], teams: teams)
        }
        #expect(missing?.reason == "application.no-teaching-team" && missing?.field == "specialty_codes")
        #expect(missing?.message.contains("no teaching team for specialty 510201") == true)
        let short = #expect(throws: DomainError.self) {
            try SpecialtyEligibility.check(school: "4136010001", specialties: ["500211", "460702"], teams: teams)
        }
        #expect(short?.code == .failedPrecondition && short?.reason == "application.ineligible-specialty")
        #expect(
            short?.message
                == """
                school 4136010001 may not pilot with specialty 460702: 双师型 teachers 2 of 6 (33.3 %), below 50 %; \
                industry experts 1 of 6 (16.6 %), below 20 %; enrolled 2 years in a row, fewer than 3
                """)
    }
}
