import Testing
import XCertDomain

@Suite("Results: competition ranks and tiers")
struct RankingTests {
    @Test("equal totals share a rank and the next rank skips; order is kept")
    func ranks() {
        #expect(Ranking.competitionRanks([700, 900, 700, 650]) == [2, 1, 2, 4])
        #expect(Ranking.competitionRanks([]) == [])
        #expect(Ranking.competitionRanks([5, 5, 5]) == [1, 1, 1])
    }

    @Test("the highest tier reached applies, at its minimum exactly; below every tier is none")
    func tiers() {
        let tiers = [(name: "合格", minimum: 600), (name: "优秀", minimum: 900), (name: "良好", minimum: 750)]
        #expect(Ranking.tier(of: 900, among: tiers) == "优秀")
        #expect(Ranking.tier(of: 899, among: tiers) == "良好")
        #expect(Ranking.tier(of: 600, among: tiers) == "合格")
        #expect(Ranking.tier(of: 599, among: tiers) == nil)
    }
}
