import Testing
import XCertDomain

@Suite("Pilot rules: caps, review route, alliances, monitoring points, scoring")
struct PilotRulesTests {
    @Test("40 % and 30 % are inclusive bounds, rounded down, for every count up to 2000")
    func capsAreExactBounds() {
        for count in 0...2000 {
            let caps = PilotCaps(specialtyCount: count, enrolledStudents: count)
            // The maximum itself is within the share, one more is beyond it.
            #expect(caps.maximumCertificates * 100 <= count * 40 && (caps.maximumCertificates + 1) * 100 > count * 40)
            #expect(caps.maximumStudents * 100 <= count * 30 && (caps.maximumStudents + 1) * 100 > count * 30)
            #expect(caps.breaches(certificates: caps.maximumCertificates, students: caps.maximumStudents).isEmpty)
            #expect(caps.breaches(certificates: caps.maximumCertificates + 1, students: caps.maximumStudents + 1).count == 2)
        }
    }

    @Test("a breach says the numbers")
    func breachMessage() {
        let caps = PilotCaps(specialtyCount: 10, enrolledStudents: 1000)
        #expect(
            caps.breaches(certificates: 5, students: 300).map(\.description) == [
                "it would pilot 5 distinct certificates, more than 40 % of its 10 specialties (at most 4)"
            ])
        #expect(
            caps.breaches(certificates: 4, students: 301).map(\.description) == [
                "its pilot scale would be 301 students, more than 30 % of its 1000 enrolled students (at most 300)"
            ])
    }

    @Test("secondary schools go to the city first, then the province; the others to the province only; technical schools are not eligible")
    func reviewRoute() {
        #expect(ReviewStep.first(for: .secondaryVocational) == .city)
        #expect(ReviewStep.city.next == .province)
        #expect(ReviewStep.province.next == nil)
        for type in SchoolType.allCases where type != .secondaryVocational {
            #expect(ReviewStep.first(for: type) == .province)
        }
        #expect(SchoolType.allCases.filter { !$0.isEligibleForPilot } == [.technicalSchool])
        #expect(SchoolType(name: "中职") == .secondaryVocational)
        #expect(SchoolType(name: "Higher_Vocational") == .higherVocational)
        #expect(SchoolType(name: "大学") == nil)
        #expect(CertificateLevel(name: "高级") == .advanced)
        #expect(CertificateLevel(name: "Elementary") == .elementary)
    }

    @Test("lead schools: 1 to 3, exactly one primary, no school twice")
    func leads() {
        #expect(AllianceRules.problems(naming: [("a", true)]).isEmpty)
        #expect(AllianceRules.problems(naming: [("a", false), ("b", true), ("c", false)]).isEmpty)
        #expect(AllianceRules.problems(naming: []) == ["name at least one lead school"])
        #expect(
            AllianceRules.problems(naming: [("a", true), ("b", false), ("c", false), ("d", false)]) == [
                "at most 3 lead schools per certificate, not 4"
            ])
        #expect(AllianceRules.problems(naming: [("a", true), ("b", true)]) == ["exactly one lead school must be primary, not 2"])
        #expect(AllianceRules.problems(naming: [("a", false)]) == ["exactly one lead school must be primary, not 0"])
        #expect(AllianceRules.problems(naming: [("a", true), ("a", false)]) == ["a school is named twice"])
    }

    @Test("the dynamic adjustment of leads: replace, remove, add; a new primary takes the old one's place; the result still 1 to 3")
    func adjustments() throws {
        let leads: [(school: String, primary: Bool)] = [("a", true), ("b", false)]
        let text = { (leads: [(school: String, primary: Bool)]) in
            leads.map { $0.primary ? "*\($0.school)" : $0.school }.joined(separator: ",")
        }
        #expect(text(try AllianceRules.adjusted(leads, removing: "b", adding: ("c", false))) == "*a,c")
        #expect(text(try AllianceRules.adjusted(leads, removing: "a", adding: ("c", true))) == "b,*c")
        #expect(text(try AllianceRules.adjusted(leads, removing: nil, adding: ("c", true))) == "a,b,*c")
        #expect(text(try AllianceRules.adjusted(leads, removing: "b", adding: nil)) == "*a")
        let primaryGone = #expect(throws: DomainError.self) { try AllianceRules.adjusted(leads, removing: "a", adding: ("c", false)) }
        #expect(
            primaryGone?.reason == "leads.invalid"
                && primaryGone?.message.contains("exactly one lead school must be primary, not 0") == true)
        let four = #expect(throws: DomainError.self) {
            try AllianceRules.adjusted([("a", true), ("b", false), ("c", false)], removing: nil, adding: ("d", false))
        }
        #expect(four?.message.contains("at most 3 lead schools per certificate, not 4") == true)
        #expect(throws: DomainError.self) { try AllianceRules.adjusted([("a", true)], removing: "a", adding: nil) }
        #expect(
            (#expect(throws: DomainError.self) { try AllianceRules.adjusted(leads, removing: "x", adding: nil) })?.reason
                == "leads.not-a-lead")
        #expect(
            (#expect(throws: DomainError.self) { try AllianceRules.adjusted(leads, removing: nil, adding: ("b", false)) })?.reason
                == "leads.already-a-lead")
        #expect(
            (#expect(throws: DomainError.self) { try AllianceRules.adjusted(leads, removing: nil, adding: nil) })?.code == .invalidArgument)
    }

    @Test("monitoring points spread over the cities, largest scale first, and never exceed what there is")
    func monitoringPoints() {
        let candidates = [
            MonitoringPointPicker.Candidate(school: "a1", city: "A", scale: 100),
            .init(school: "a2", city: "A", scale: 90),
            .init(school: "a3", city: "A", scale: 80),
            .init(school: "b1", city: "B", scale: 50),
            .init(school: "c1", city: "C", scale: 70),
            .init(school: "c2", city: "C", scale: 70),
        ]
        #expect(MonitoringPointPicker.pick(from: candidates, target: 4).map(\.school) == ["a1", "c1", "b1", "a2"])
        #expect(MonitoringPointPicker.pick(from: candidates, target: 10).count == 6)
        #expect(MonitoringPointPicker.pick(from: [], target: 10).isEmpty)
        #expect(
            MonitoringPointPicker.pick(from: candidates.shuffled(), target: 5) == MonitoringPointPicker.pick(from: candidates, target: 5))
    }

    @Test("a scoring rule's weights add up to 100 and its pass mark is out of 100; scores are weighted exactly")
    func scoring() {
        #expect(ScoringRule.provinceDefault.problems.isEmpty)
        let strict = ScoringRule(components: [.init(name: "理论", weightPercent: 30), .init(name: "实操", weightPercent: 70)], passMark: 80)
        #expect(strict.problems.isEmpty)
        #expect(strict.score([80, 80]).passed)
        #expect(!strict.score([79, 80]).passed)  // 79.7
        #expect(strict.score([79, 80]).score == Rate(7970, over: 100))
        let broken = ScoringRule(components: [.init(name: "理论", weightPercent: 40), .init(name: "理论", weightPercent: 40)], passMark: 0)
        #expect(
            broken.problems == [
                "component names must differ", "weights must add up to 100 %, not 80 %", "the pass mark must be 1 to 100, not 0",
            ])
    }
}
