import Foundation
import Synchronization
import XCertAPI
import XCertDomain
import XCertProto
import XCertService
import XCertWire

/// One demo run: what it was told, who acts, what it has counted, and its progress
/// lines. The phases (``DemoRun`` extensions in this folder) go in the order of a pilot
/// year and hand each other what they made.
final class DemoRun: Sendable {
    let stack: DemoStack
    /// The province's officer (省厅管理员): the admin token.
    let province: Party
    let year: Int32
    let seed: UInt64
    let schoolCount: Int
    let candidateTarget: Int
    /// Today in Asia/Shanghai: rounds and lead selections must still be open, and no
    /// payment may be dated later.
    let today: LocalDate
    private let started = ContinuousClock.now
    private let counts = Mutex<[String: Int]>([:])

    init(stack: DemoStack, province: Party, year: Int32, seed: UInt64, schoolCount: Int, candidateTarget: Int) {
        self.stack = stack
        self.province = province
        self.year = year
        self.seed = seed
        self.schoolCount = schoolCount
        self.candidateTarget = candidateTarget
        self.today = LocalDate(containing: Int64(Date().timeIntervalSince1970))
    }

    /// A progress line on standard error, with the time since the start.
    func progress(_ phase: String, _ text: String) {
        let elapsed = ContinuousClock.now - self.started
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        FileHandle.standardError.write(Data(String(format: "[%6.1f s] %@: %@\n", seconds, phase, text).utf8))
    }

    /// Adds to one of the counts the summary prints.
    func count(_ what: String, _ by: Int = 1) {
        self.counts.withLock { $0[what, default: 0] += by }
    }

    func counted(_ what: String) -> Int { self.counts.withLock { $0[what] ?? 0 } }

    /// A generator of the phase's own, from the seed.
    func random(_ part: String) -> SeededRandom { SeededRandom.part(part, seed: self.seed) }

    /// A date of the pilot year.
    func date(month: Int, day: Int) -> LocalDate { LocalDate(year: Int(self.year), month: month, day: day)! }
}

/// What the registry knows before the year starts: the province's cities and
/// certificates (loaded by `scripts/up` from data/reference/).
struct DemoReference: Sendable {
    var cities: [Xcert_Registry_V1_City]
    /// The reviewing units beside the cities (e.g. 赣江新区社会发展局), from the reference data.
    var designatedBureaus: [Xcert_Registry_V1_ReviewingUnit]
    var certificates: [Xcert_Registry_V1_Certificate]

    func certificate(_ code: String) -> Xcert_Registry_V1_Certificate? { self.certificates.first { $0.code == code } }
}

/// Everyone the demo acts as.
struct DemoParties: Sendable {
    var organizations: [Int64: Party]
    /// The reviewer of each reviewing unit, by the unit's code.
    var unitReviewers: [String: Party]
    var schools: [String: Party]
}

extension DemoRun {
    /// Reads the reference data; nil when this year was already driven on this stack
    /// (its filing rounds exist), so that a second run only prints the reports.
    func reference() async throws -> DemoReference? {
        _ = try await self.stack.call(
            Xcert_Registry_V1_ReferenceDataService.Method.getProvince, Xcert_Registry_V1_GetProvinceRequest(), by: self.province,
            kind: .read)
        let cities = try await allPages { token in
            var request = Xcert_Registry_V1_ListCitiesRequest()
            request.page.pageToken = token
            let response = try await self.stack.call(
                Xcert_Registry_V1_ReferenceDataService.Method.listCities, request, by: self.province, kind: .read)
            return (response.cities, response.page.nextPageToken)
        }
        let bureaus = try await allPages { token in
            var request = Xcert_Registry_V1_ListReviewingUnitsRequest()
            request.page.pageToken = token
            let response = try await self.stack.call(
                Xcert_Registry_V1_ReferenceDataService.Method.listReviewingUnits, request, by: self.province, kind: .read)
            return (response.units, response.page.nextPageToken)
        }.filter(\.designated)
        let certificates = try await self.certificates()
        guard !cities.isEmpty, !certificates.isEmpty else {
            throw CLIError("the registry has no cities or no certificates: load the reference data first (scripts/up does)")
        }
        var rounds = Xcert_Filing_V1_ListRoundsRequest()
        rounds.year = self.year
        let existing = try await self.stack.call(Xcert_Filing_V1_FilingService.Method.listRounds, rounds, by: self.province, kind: .read)
        if !existing.rounds.isEmpty {
            // The year's scheme is published near the end: without it, a run stopped half way.
            var schemes = Xcert_Assessment_V1_ListSchemesRequest()
            schemes.year = self.year
            let published = try await self.stack.call(
                Xcert_Assessment_V1_SchemeService.Method.listSchemes, schemes, by: self.province, kind: .read
            )
            .schemes.contains { $0.state == .published }
            guard published else {
                throw CLIError(
                    """
                    an earlier demo of \(self.year) on this stack stopped half way; drive another year (--year) or start from an empty \
                    stack (scripts/down; rm -rf .xcert; scripts/up --demo)
                    """
                )
            }
            return nil
        }
        return DemoReference(cities: cities.sorted { $0.code < $1.code }, designatedBureaus: bureaus, certificates: certificates)
    }

    func certificates() async throws -> [Xcert_Registry_V1_Certificate] {
        try await allPages { token in
            var request = Xcert_Registry_V1_ListCertificatesRequest()
            request.page.pageToken = token
            let response = try await self.stack.call(
                Xcert_Registry_V1_ReferenceDataService.Method.listCertificates, request, by: self.province, kind: .read)
            return (response.certificates, response.page.nextPageToken)
        }.sorted { $0.code < $1.code }
    }

    // MARK: - Schools and organizations

    /// Enters the schools, and gives each certificate without an organization one of the
    /// demo's organizations (the seeds name none for the 40 small certificates).
    func schoolsAndOrganizations(_ reference: DemoReference) async throws -> (schools: [DemoSchool], reference: DemoReference) {
        var schools = DemoSchools.make(count: self.schoolCount, cities: reference.cities.map { ($0.code, $0.name) }, seed: self.seed)
        // A designated bureau (赣江新区) reviews every third secondary school of the capital
        // instead of the capital's bureau, as a new area's bureau does.
        if let bureau = reference.designatedBureaus.first, let capital = reference.cities.first?.code {
            let capitalSecondary = schools.indices.filter { schools[$0].cityCode == capital && schools[$0].type == .secondaryVocational }
            for index in capitalSecondary.enumerated().filter({ $0.offset % 3 == 0 }).map(\.element) {
                schools[index].reviewingUnitCode = bureau.code
            }
        }
        try await forEachConcurrently(schools) { school in
            var request = Xcert_Registry_V1_CreateSchoolRequest()
            request.school.code = school.code
            request.school.name = school.name
            request.school.type = school.type.wire
            request.school.cityCode = school.cityCode
            request.school.reviewingUnitCode = school.reviewingUnitCode
            request.school.specialtyCount = Int32(school.specialtyCount)
            request.school.enrolledStudents = Int32(school.enrolled)
            request.school.specialties = school.specialties.map { specialty in
                var wire = Xcert_Registry_V1_Specialty()
                wire.code = specialty.code
                wire.name = specialty.name
                return wire
            }
            if let refusal = try await self.stack.refusal(
                Xcert_Registry_V1_ReferenceDataService.Method.createSchool, request, by: self.province),
                refusal.code != .alreadyExists
            {
                throw refusal
            }
        }
        let byType = Dictionary(grouping: schools, by: \.type).map { "\($0.value.count) \($0.key.chineseName)" }.sorted()
        try await self.recordTeams(&schools)
        let underBureaus = schools.filter { $0.reviewingUnitCode != $0.cityCode }.count
        self.progress(
            "schools",
            """
            \(schools.count) schools in \(Set(schools.map(\.cityCode)).count) cities: \(byType.joined(separator: ", ")); \
            \(underBureaus) secondary schools under \(reference.designatedBureaus.first?.name ?? "no designated bureau")
            """)

        let orphans = reference.certificates.filter { $0.organizationID == 0 }
        if !orphans.isEmpty {
            // One demo organization for every five certificates, in the appendix's order.
            let groups = stride(from: 0, to: orphans.count, by: 5).map { Array(orphans[$0..<min($0 + 5, orphans.count)]) }
            // Made by an earlier run that stopped half way: used again.
            var existing = Xcert_Registry_V1_ListOrganizationsRequest()
            existing.nameContains = "演示培训评价组织"
            let made = try await self.stack.call(
                Xcert_Registry_V1_ReferenceDataService.Method.listOrganizations, existing, by: self.province, kind: .read)
            let madeByName = Dictionary(made.organizations.map { ($0.name, $0.id) }, uniquingKeysWith: { first, _ in first })
            try await forEachConcurrently(Array(groups.enumerated())) { index, certificates in
                var request = Xcert_Registry_V1_CreateOrganizationRequest()
                request.organization.name = String(format: "演示培训评价组织%02d", index + 1)
                var contact = Xcert_Registry_V1_Contact()
                contact.name = "联络员\(index + 1)"
                contact.mobile = String(format: "1390791%04d", index + 1)
                contact.email = String(format: "demo-org-%02d@example.cn", index + 1)
                request.organization.contacts = [contact]
                request.organization.address = "江西省南昌市（演示数据）"
                var organization = madeByName[request.organization.name] ?? 0
                if organization == 0 {
                    organization = try await self.stack.call(
                        Xcert_Registry_V1_ReferenceDataService.Method.createOrganization, request, by: self.province
                    ).id
                }
                for certificate in certificates {
                    var update = Xcert_Registry_V1_UpdateCertificateRequest()
                    update.certificate = certificate
                    update.certificate.organizationID = organization
                    update.certificate.batch = 0
                    update.expectedVersion = certificate.version
                    _ = try await self.stack.call(
                        Xcert_Registry_V1_ReferenceDataService.Method.updateCertificate, update, by: self.province)
                }
            }
            self.progress(
                "organizations",
                "\(groups.count) demo organizations own the \(orphans.count) certificates the seeds name no organization for")
        }
        var updated = reference
        updated.certificates = try await self.certificates()
        return (schools, updated)
    }

    /// Each school records its specialties' teaching teams (001 §二.3); about one school in
    /// ten has a specialty whose 双师型 teachers fall short of half.
    private func recordTeams(_ schools: inout [DemoSchool]) async throws {
        var random = self.random("teams")
        var requests: [Xcert_Registry_V1_SetTeachingTeamsRequest] = []
        for index in schools.indices where schools[index].type.isEligibleForPilot {
            var request = Xcert_Registry_V1_SetTeachingTeamsRequest()
            request.schoolCode = schools[index].code
            let short = schools[index].specialties.count > 1 && random.chance(10)
            for (position, specialty) in schools[index].specialties.enumerated() {
                var team = Xcert_Registry_V1_TeachingTeam()
                team.specialtyCode = specialty.code
                team.teachers = Int32.random(in: 8...30, using: &random)
                team.dualQualifiedTeachers = (team.teachers * Int32.random(in: 50...85, using: &random) + 99) / 100
                team.industryExperts = (team.teachers * Int32.random(in: 20...40, using: &random) + 99) / 100
                team.continuousEnrolmentYears = Int32.random(in: 3...12, using: &random)
                if short && position == 0 {
                    team.dualQualifiedTeachers = team.teachers * 4 / 10
                    schools[index].ineligibleSpecialty = specialty.code
                }
                request.teams.append(team)
            }
            requests.append(request)
        }
        try await forEachConcurrently(requests) { request in
            _ = try await self.stack.call(Xcert_Registry_V1_PilotService.Method.setTeachingTeams, request, by: self.province)
        }
        self.progress(
            "teaching teams",
            """
            \(requests.reduce(0) { $0 + $1.teams.count }) specialties' teams recorded; \
            \(schools.filter { $0.ineligibleSpecialty != nil }.count) schools have a specialty under 50 % 双师型
            """)
    }

    // MARK: - Parties

    /// A principal and a token for every organization, reviewing unit (the city bureaus and
    /// the designated ones) and school: each party acts with its own.
    func parties(_ reference: DemoReference, schools: [DemoSchool]) async throws -> DemoParties {
        var organizationNames: [Int64: String] = [:]
        for certificate in reference.certificates { organizationNames[certificate.organizationID] = certificate.organizationName }
        let cityNames = Dictionary(uniqueKeysWithValues: reference.cities.map { ($0.code, $0.name) })
        let organizations = try await mapConcurrently(organizationNames.sorted { $0.key < $1.key }) { id, name in
            (id, try await self.party(.organization, party: String(id), name: "\(name)（对接系统）"))
        }
        let units = reference.cities.map { ($0.code, "\($0.name)教育局") } + reference.designatedBureaus.map { ($0.code, $0.name) }
        let reviewers = try await mapConcurrently(units) { code, name in
            (code, try await self.party(.cityReviewer, party: code, name: "\(name)审核员"))
        }
        let schoolParties = try await mapConcurrently(schools) { school in
            (school.code, try await self.party(.school, party: school.code, name: "\(school.name)1+X管理员"))
        }
        self.progress(
            "tokens",
            """
            \(organizations.count) organizations, \(reviewers.count) reviewing units (\(cityNames.count) cities' bureaus, \
            \(reference.designatedBureaus.count) designated) and \(schoolParties.count) schools each have a principal and a token
            """
        )
        return DemoParties(
            organizations: Dictionary(uniqueKeysWithValues: organizations),
            unitReviewers: Dictionary(uniqueKeysWithValues: reviewers),
            schools: Dictionary(uniqueKeysWithValues: schoolParties)
        )
    }

    private func party(_ role: Xcert_Registry_V1_Role, party: String, name: String) async throws -> Party {
        var principal = Xcert_Registry_V1_CreatePrincipalRequest()
        principal.name = name
        principal.role = role
        principal.party = party
        let created = try await self.stack.call(Xcert_Registry_V1_PrincipalService.Method.createPrincipal, principal, by: self.province)
        var token = Xcert_Registry_V1_CreateTokenRequest()
        token.principalID = created.id
        token.label = "demo \(self.year)"
        token.validDays = 30
        // CreateToken takes no idempotency key: its answer is never stored.
        let made = try await self.stack.call(Xcert_Registry_V1_PrincipalService.Method.createToken, token, by: self.province, kind: .once)
        return Party(name: name, token: made.token)
    }
}
