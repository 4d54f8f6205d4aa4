import Foundation
import SwiftProtobuf
import Testing
import XCertAPI
import XCertProto
import XCertTestSupport
import XCertWire

/// The hostile calls of issue 17's review, each against the four real service processes:
/// what used to stop a service, burn its CPU before the token check, answer without bound or
/// come back INTERNAL is now refused at the boundary, and every service still answers.
@Suite("The service boundary over the wire", .timeLimit(.minutes(5)))
struct BoundaryTests {
    /// The raw answer to one call: the payload's bytes as given.
    static func answer(
        _ port: Int, _ method: String, _ request: some SwiftProtobuf.Message, metadata: [String: String]
    ) async throws -> Xcert_Wire_V1_Response {
        let rpc = testClient(port: port)
        defer { Task { await rpc.close() } }
        return try await rpc.call(method, payload: try request.serializedData(), metadata: metadata)
    }

    static func code(_ response: Xcert_Wire_V1_Response) -> RPCError.Code {
        response.hasStatus ? RPCError.Code(rawValue: response.status.code.rawValue)! : .ok
    }

    static func bearer(_ token: String) -> [String: String] { ["authorization": "Bearer \(token)"] }

    @Test("a fee line of Int64.min fen is INVALID_ARGUMENT naming the field, and filing goes on serving")
    func overflowingFee() async throws {
        try await withFullStack { stack in
            let organization = try await makeToken(stack.postgres, role: "organization", party: "1", name: "某培训评价组织")
            var request = Xcert_Filing_V1_SubmitReportRequest()
            request.year = 2024
            var fee = Xcert_Filing_V1_FeeLine()
            fee.certificateCode = "BIM"
            fee.level = .elementary
            fee.received.fen = Int64.min
            fee.outstanding.fen = Int64.max
            request.content.fees = [fee]
            let response = try await Self.answer(
                stack.filing.port, Xcert_Filing_V1_ReportService.Method.submitReport.name, request, metadata: Self.bearer(organization)
            )
            #expect(Self.code(response) == .invalidArgument, "\(response.status)")
            #expect(
                response.status.fieldViolations.contains { $0.field == "content.fees[0].received.fen" },
                "\(response.status.fieldViolations)")
            #expect(stack.filing.isRunning)
            #expect(await stack.filing.health()?.status == .serving)
        }
    }

    @Test("without a token, large payloads are refused UNAUTHENTICATED, unread; with one, lists over their maximum are INVALID_ARGUMENT")
    func tokenBeforePayload() async throws {
        try await withFullStack { stack in
            var school = Xcert_Registry_V1_CreateSchoolRequest()
            school.school.specialties = Array(repeating: Xcert_Registry_V1_Specialty(), count: 100_000)
            let create = Xcert_Registry_V1_ReferenceDataService.Method.createSchool.name
            let anonymous = try await Self.answer(stack.registry.port, create, school, metadata: [:])
            #expect(Self.code(anonymous) == .unauthenticated)
            #expect(anonymous.status.fieldViolations.isEmpty, "nothing of the payload was checked")
            let admin = try await Self.answer(stack.registry.port, create, school, metadata: Self.bearer(stack.admin))
            #expect(Self.code(admin) == .invalidArgument)
            #expect(admin.status.fieldViolations.map(\.field) == ["school.specialties"])

            var csv = Xcert_Registry_V1_ImportRequest()
            csv.kind = .schools
            csv.csv = Data(String(repeating: "x,", count: 200_000).utf8)
            let importing = try await Self.answer(
                stack.registry.port, Xcert_Registry_V1_ReferenceDataService.Method.import.name, csv, metadata: [:]
            )
            #expect(Self.code(importing) == .unauthenticated)
            // The CSV is bytes, not a string field: its NUL is refused by the import itself,
            // naming the line, not by the database (the handler fuzzer found that one).
            csv.kind = .cities
            csv.csv = Data("代码,名称\n360200,景德镇\u{0}市\n".utf8)
            let nul = try await Self.answer(
                stack.registry.port, Xcert_Registry_V1_ReferenceDataService.Method.import.name, csv, metadata: Self.bearer(stack.admin)
            )
            #expect(Self.code(nul) == .invalidArgument, "\(nul.status)")
            #expect(
                nul.status.fieldViolations.first?.field == "csv"
                    && nul.status.fieldViolations.first?.description_p.contains("line 2") == true)

            let schoolToken = try await makeToken(stack.postgres, role: "school", party: "3601000001", name: "某学校")
            var fees = Xcert_Settlement_V1_CheckFeesRequest()
            fees.certificateCode = "BIM"
            fees.fees = Array(repeating: Xcert_Settlement_V1_ProposedFee(), count: 300_000)
            let check = try await Self.answer(
                stack.settlement.port, Xcert_Settlement_V1_FeeCeilingService.Method.checkFees.name, fees, metadata: Self.bearer(schoolToken)
            )
            #expect(Self.code(check) == .invalidArgument)
            #expect(check.status.fieldViolations.map(\.field) == ["fees"])
            #expect(try check.serializedData().count < 1_000, "a short answer, not one per fee")
        }
    }

    @Test("a request-id of 100,000 characters is refused, neither echoed nor stored")
    func longRequestID() async throws {
        try await withFullStack { stack in
            let longID = String(repeating: "r", count: 100_000)
            var metadata = Self.bearer(stack.admin)
            metadata["request-id"] = longID
            var city = Xcert_Registry_V1_CreateCityRequest()
            city.city.code = "360100"
            city.city.name = "南昌市"
            let response = try await Self.answer(
                stack.registry.port, Xcert_Registry_V1_ReferenceDataService.Method.createCity.name, city, metadata: metadata
            )
            #expect(Self.code(response) == .invalidArgument)
            #expect(response.status.fieldViolations.map(\.field) == ["metadata.request-id"])
            #expect((response.metadata["request-id"] ?? "").count <= 128)
            #expect(!stack.registry.log.contains(String(repeating: "r", count: 200)), "the long id reached the log")
        }
    }

    @Test("U+0000 in a filter is INVALID_ARGUMENT naming it, never INTERNAL, in every service")
    func nulInFilters() async throws {
        try await withFullStack { stack in
            let admin = Self.bearer(stack.admin)
            var schools = Xcert_Registry_V1_ListSchoolsRequest()
            schools.nameContains = "中\u{0}学"
            var alliance = Xcert_Registry_V1_GetAllianceRequest()
            alliance.certificateCode = "BIM\u{0}"
            alliance.year = 2024
            var receivables = Xcert_Settlement_V1_ListReceivablesRequest()
            receivables.schoolCode = "\u{0}"
            var outcomes = Xcert_Assessment_V1_ListOutcomesRequest()
            outcomes.schoolCode = "36\u{0}"
            let calls: [(Int, String, any SwiftProtobuf.Message, String)] = [
                (stack.registry.port, Xcert_Registry_V1_ReferenceDataService.Method.listSchools.name, schools, "name_contains"),
                (stack.registry.port, Xcert_Registry_V1_AllianceService.Method.getAlliance.name, alliance, "certificate_code"),
                (stack.settlement.port, Xcert_Settlement_V1_LedgerService.Method.listReceivables.name, receivables, "school_code"),
                (stack.assessment.port, Xcert_Assessment_V1_OutcomeService.Method.listOutcomes.name, outcomes, "school_code"),
            ]
            for (port, method, request, field) in calls {
                let rpc = testClient(port: port)
                let response = try await rpc.call(method, payload: try request.serializedData(), metadata: admin)
                await rpc.close()
                #expect(Self.code(response) == .invalidArgument, "\(method): \(response.status)")
                #expect(response.status.fieldViolations.map(\.field) == [field], "\(method)")
            }
            for process in [stack.registry, stack.filing, stack.assessment, stack.settlement] {
                #expect(await process.health()?.status == .serving)
            }
        }
    }

    @Test("reflection reports each method's declared roles, whether it changes state and its limit class")
    func reflectionReportsContracts() async throws {
        try await withFullStack { stack in
            let rpc = testClient(port: stack.filing.port)
            defer { Task { await rpc.close() } }
            let methods = try await Xcert_Reflection_V1_Reflection.Client(rpc).listMethods().methods
            let byName = Dictionary(uniqueKeysWithValues: methods.map { ($0.name, $0) })
            let submit = try #require(byName[Xcert_Filing_V1_ReportService.Method.submitReport.name])
            #expect(submit.roles == ["organization"] && submit.mutating && !submit.public && submit.limitClass == "write")
            let health = try #require(byName[Xcert_Health_V1_Health.Method.check.name])
            #expect(health.public && health.roles.isEmpty)
            #expect(methods.allSatisfy { $0.public || !$0.roles.isEmpty }, "every method names its callers")
            #expect(Set(methods.map(\.name)).isSuperset(of: Xcert_Filing_V1_RosterService.Method.all))
        }
    }
}
