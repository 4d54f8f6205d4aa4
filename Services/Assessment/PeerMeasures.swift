import XCertAPI
import XCertDomain
import XCertProto
import XCertService
import XCertWire

/// The measures of computed items that other services hold, asked over the wire when an
/// evaluation is read, reviewed or ranked: settlement's payment timeliness (1-4-1 and
/// 1-4-2), the registry's assessment sites new in the year (1-5), its teacher trainings (4-1
/// and 4-2) and the alliances a school leads (6-2), filing's periodic reports (6-3). A source that does not answer leaves its
/// items pending, with why.
struct PeerMeasures: Sendable {
    /// Sites opened in the year, by school.
    var newSites: [String: Int] = [:]
    /// Certificates whose alliance the school leads in the year (final selections), by school.
    var alliancesLed: [String: Int] = [:]
    /// The year's teacher trainings, by school.
    var trainings: [String: Xcert_Registry_V1_SchoolTrainingMeasures] = [:]
    /// The schools' calendar's periods due by now (nil: the year has no schools' calendar), and
    /// each school's periodic reports of them on time and complete.
    var reportingPeriodsDue: Int?
    var reportsOnTime: [String: Int] = [:]
    /// The year's receivables and payments, by school.
    var payments: [String: Xcert_Settlement_V1_SchoolPaymentTimeliness] = [:]
    /// Why a source's measures are missing: the peer's error.
    var unavailable: [Xcert_Assessment_V1_MeasureSource: String] = [:]

    static let settlementSources: Set<Xcert_Assessment_V1_MeasureSource> = [.feesPaidOnTime, .feesPaidShare]
    static let trainingSources: Set<Xcert_Assessment_V1_MeasureSource> = [.certifiedTraining, .seedTeachers]

    /// Asks the peers, all at once, for one school's measures or (nil) every school's.
    static func fetch(year: Int32, school: String?, _ context: ServiceContext, _ call: RequestContext) async -> PeerMeasures {
        async let sites = Self.attempt { try await Self.newSites(year: year, school: school, context, call) }
        async let leads = Self.attempt { try await Self.alliancesLed(year: year, context, call) }
        async let payments = Self.attempt { try await Self.payments(year: year, school: school, context, call) }
        async let trainings = Self.attempt { try await Self.trainings(year: year, school: school, context, call) }
        async let reports = Self.attempt { try await Self.periodicReports(year: year, school: school, context, call) }
        var measures = PeerMeasures()
        switch await sites {
        case .success(let counts): measures.newSites = counts
        case .failure(let error): measures.unavailable[.newSites] = error.message
        }
        switch await leads {
        case .success(let counts): measures.alliancesLed = counts
        case .failure(let error): measures.unavailable[.allianceLeads] = error.message
        }
        switch await payments {
        case .success(let schools): measures.payments = schools
        case .failure(let error):
            for source in Self.settlementSources { measures.unavailable[source] = error.message }
        }
        switch await reports {
        case .success(let answer):
            measures.reportingPeriodsDue = answer.periodsDue
            measures.reportsOnTime = answer.schools
        case .failure(let error): measures.unavailable[.periodicReports] = error.message
        }
        switch await trainings {
        case .success(let schools): measures.trainings = schools
        case .failure(let error):
            for source in Self.trainingSources { measures.unavailable[source] = error.message }
        }
        return measures
    }

    /// The measure of `source` for `school`: a rate or a count; nil when the source did not answer.
    func measure(_ source: Xcert_Assessment_V1_MeasureSource, school: String) -> Measure? {
        guard self.unavailable[source] == nil else { return nil }
        switch source {
        case .newSites: return .count(self.newSites[school] ?? 0)
        case .allianceLeads: return .count(self.alliancesLed[school] ?? 0)
        case .feesPaidOnTime:
            let payments = self.payments[school]
            return .rate(Rate(Int64(payments?.paidByDueDate ?? 0), over: Int64(payments?.receivablesDue ?? 0)))
        case .feesPaidShare:
            let payments = self.payments[school]
            return .rate(Rate(payments?.received.fen ?? 0, over: payments?.receivable.fen ?? 0))
        case .certifiedTraining:
            let trainings = self.trainings[school]
            return .rate(Rate(Int64(trainings?.certificatesCertified ?? 0), over: Int64(trainings?.certificatesPiloted ?? 0)))
        case .seedTeachers: return .count(Int(self.trainings[school]?.newSeedTeachers ?? 0))
        case .periodicReports:
            return .rate(Rate(Int64(self.reportsOnTime[school] ?? 0), over: Int64(self.reportingPeriodsDue ?? 0)))
        default: return nil
        }
    }

    enum Measure: Sendable {
        case rate(Rate)
        case count(Int)
    }

    private static func attempt<Value: Sendable>(_ body: () async throws -> Value) async -> Result<Value, RPCError> {
        do {
            return .success(try await body())
        } catch let error as RPCError {
            return .failure(error)
        } catch {
            return .failure(RPCError(.unavailable, "\(error)"))
        }
    }

    private static func newSites(
        year: Int32, school: String?, _ context: ServiceContext, _ call: RequestContext
    ) async throws -> [String: Int] {
        var request = Xcert_Registry_V1_ListSitesRequest()
        request.yearOpened = year
        request.schoolCode = school ?? ""
        request.page.pageSize = Int32(Paging.maximumSize)
        var counts: [String: Int] = [:]
        repeat {
            let page = try await context.peers.call(
                "registry", Xcert_Registry_V1_SiteService.Method.listSites, request, context: call
            )
            for site in page.sites { counts[site.schoolCode, default: 0] += 1 }
            request.page.pageToken = page.page.nextPageToken
        } while !request.page.pageToken.isEmpty
        return counts
    }

    private static func alliancesLed(year: Int32, _ context: ServiceContext, _ call: RequestContext) async throws -> [String: Int] {
        var request = Xcert_Registry_V1_ListAlliancesRequest()
        request.year = year
        let response = try await context.peers.call(
            "registry", Xcert_Registry_V1_AllianceService.Method.listAlliances, request, context: call
        )
        var counts: [String: Int] = [:]
        for alliance in response.alliances {
            for lead in Set(alliance.leads.map(\.schoolCode)) { counts[lead, default: 0] += 1 }
        }
        return counts
    }

    private static func trainings(
        year: Int32, school: String?, _ context: ServiceContext, _ call: RequestContext
    ) async throws -> [String: Xcert_Registry_V1_SchoolTrainingMeasures] {
        var request = Xcert_Registry_V1_GetTrainingMeasuresRequest()
        request.year = year
        request.schoolCode = school ?? ""
        let response = try await context.peers.call(
            "registry", Xcert_Registry_V1_TeacherTrainingService.Method.getTrainingMeasures, request, context: call
        )
        return Dictionary(response.schools.map { ($0.schoolCode, $0) }, uniquingKeysWith: { first, _ in first })
    }

    private static func periodicReports(
        year: Int32, school: String?, _ context: ServiceContext, _ call: RequestContext
    ) async throws -> (periodsDue: Int?, schools: [String: Int]) {
        var request = Xcert_Filing_V1_GetReportingMeasuresRequest()
        request.year = year
        request.schoolCode = school ?? ""
        let response = try await context.peers.call(
            "filing", Xcert_Filing_V1_PeriodicReportService.Method.getReportingMeasures, request, context: call
        )
        return (
            response.periodsDue == 0 && response.schools.isEmpty ? nil : Int(response.periodsDue),
            Dictionary(response.schools.map { ($0.schoolCode, Int($0.onTimeAndComplete)) }, uniquingKeysWith: { first, _ in first })
        )
    }

    private static func payments(
        year: Int32, school: String?, _ context: ServiceContext, _ call: RequestContext
    ) async throws -> [String: Xcert_Settlement_V1_SchoolPaymentTimeliness] {
        var request = Xcert_Settlement_V1_GetPaymentTimelinessRequest()
        request.year = year
        request.schoolCode = school ?? ""
        let response = try await context.peers.call(
            "settlement", Xcert_Settlement_V1_SettlementReportService.Method.getPaymentTimeliness, request, context: call
        )
        return Dictionary(response.schools.map { ($0.schoolCode, $0) }, uniquingKeysWith: { first, _ in first })
    }
}
