import Foundation
import SwiftProtobuf
import Testing
import XCertAPI
import XCertProto
import XCertWire
import XCertWireFuzzing

/// The handler fuzzer's request generator (Fuzz/Harness/RequestGenerator.swift): what it
/// writes is protobuf the generated types read, with the extreme values it promises.
/// The long loops yield now and then: a test that keeps a thread of the shared pool for
/// seconds starves the tests beside it that wait on timers (one waiting for a server to close
/// a stalled TLS handshake timed out in CI behind these).
@Suite("Handler fuzzing: the request generator")
struct RequestGeneratorTests {
    static let generator = RequestGenerator(
        context: .init(
            schoolCodes: ["4136010001"], cityCodes: ["360100"], certificateCodes: ["BIM"], organizationIDs: [7]
        ))

    @Test("the writer's varints, zigzag, fixed and length-delimited fields read back through the generated types")
    func writerRoundTrips() throws {
        var date = ProtoWriter()
        date.signed(1, Int64(Int32.min))
        date.signed(2, -1)
        date.signed(3, Int64(Int32.max))
        #expect(date.bytes.count == 1 + 10 + 1 + 10 + 1 + 5, "negative int32 take ten bytes")
        let decodedDate = try Xcert_Common_V1_Date(serializedBytes: date.bytes)
        #expect(decodedDate.year == .min && decodedDate.month == -1 && decodedDate.day == .max)

        var money = ProtoWriter()
        money.signed(1, .min)
        #expect(try Xcert_Common_V1_Money(serializedBytes: money.bytes).fen == .min)

        // A 64-bit value in an int32 field: the low 32 bits (-1).
        var wide = ProtoWriter()
        wide.signed(1, .max)
        #expect(try Xcert_Common_V1_Date(serializedBytes: wide.bytes).year == -1)

        #expect(ProtoWriter.zigzag(0) == 0 && ProtoWriter.zigzag(-1) == 1 && ProtoWriter.zigzag(1) == 2)
        #expect(ProtoWriter.zigzag(.min) == .max && ProtoWriter.zigzag(.max) == .max - 1)

        var nested = ProtoWriter()
        var city = ProtoWriter()
        city.lengthDelimited(1, Array("360100".utf8))
        city.lengthDelimited(2, Array("南\u{0}昌".utf8))
        nested.lengthDelimited(1, city.bytes)
        let request = try Xcert_Registry_V1_CreateCityRequest(serializedBytes: nested.bytes)
        #expect(request.city.code == "360100" && request.city.name == "南\u{0}昌")
    }

    @Test("a request is a function of seed and index alone")
    func deterministic() {
        let type = Xcert_Registry_V1_CreateSchoolRequest.protoMessageName
        for index: UInt64 in 0..<20 {
            #expect(
                Self.generator.request(of: type, seed: 1, index: index).payload
                    == Self.generator.request(of: type, seed: 1, index: index).payload)
        }
        let distinct = Set((0..<20).map { Self.generator.request(of: type, seed: 1, index: UInt64($0)).payload })
        #expect(distinct.count > 15)
        #expect(Self.generator.request(of: type, seed: 2, index: 0).payload != Self.generator.request(of: type, seed: 1, index: 0).payload)
    }

    @Test("every request type: payloads under 3 MiB that parse as the generated type unless a string was made no UTF-8")
    func everyRequestTypeParses() async throws {
        var invalid = 0
        var total = 0
        for declaration in EveryMethod.declarations {
            let type = try #require(XCertMessageTypes.byName[declaration.requestType])
            for index: UInt64 in 0..<5 {
                await Task.yield()
                let request = Self.generator.request(of: declaration.requestType, seed: 7, index: index)
                total += 1
                #expect(request.payload.count <= 3 * 1024 * 1024, "\(declaration.requestType) #\(index): \(request.payload.count) bytes")
                do {
                    _ = try type.init(serializedBytes: request.payload)
                    #expect(
                        !request.hasInvalidUTF8, "\(declaration.requestType) #\(index) parsed though it holds no UTF-8: \(request.summary)")
                } catch {
                    invalid += 1
                    #expect(request.hasInvalidUTF8, "\(declaration.requestType) #\(index) does not parse: \(error); \(request.summary)")
                }
            }
        }
        // Now and then, not always.
        #expect(invalid > 0 && invalid < total / 3, "\(invalid) of \(total) not UTF-8")
    }

    @Test("the values: integer bounds, realistic years and codes, 5,000 characters, NUL, odd scalars, 2,000 elements, undeclared enums")
    func extremeValues() async throws {
        var years: Set<Int32> = []
        var scales: Set<Int32> = []
        var schoolCodes: Set<String> = []
        var levelCounts: Set<Int> = []
        var levels: Set<Int> = []
        var specialtyCounts: Set<Int> = []
        var undeclaredField = false
        let type = Xcert_Registry_V1_SubmitApplicationRequest.protoMessageName
        for index: UInt64 in 0..<250 {
            await Task.yield()
            let request = Self.generator.request(of: type, seed: 3, index: index)
            guard !request.hasInvalidUTF8 else { continue }
            let message = try Xcert_Registry_V1_SubmitApplicationRequest(serializedBytes: request.payload)
            years.insert(message.year)
            scales.insert(message.studentScale)
            schoolCodes.insert(message.schoolCode)
            levelCounts.insert(message.levels.count)
            levels.formUnion(message.levels.map(\.rawValue))
            specialtyCounts.insert(message.specialtyCodes.count)
            if !message.unknownFields.data.isEmpty { undeclaredField = true }
        }
        #expect(years.isSuperset(of: [.min, .max, 0, -1]), "\(years.sorted())")
        #expect(years.contains { (2019...2030).contains($0) }, "a realistic year")
        #expect(scales.isSuperset(of: [.min, .max, 0, -1]))
        #expect(schoolCodes.contains("4136010001"), "the context's school")
        #expect(schoolCodes.contains(""))
        #expect(schoolCodes.contains { $0.count == 5_000 && $0.contains("江") }, "5,000 characters, CJK")
        #expect(schoolCodes.contains { $0.unicodeScalars.contains("\u{0}") }, "U+0000")
        #expect(schoolCodes.contains { $0.unicodeScalars.contains("\u{FEFF}") || $0.unicodeScalars.contains("\u{202E}") }, "odd scalars")
        #expect(levelCounts.isSuperset(of: [0, 1, 2_000]), "\(levelCounts.sorted())")
        #expect(specialtyCounts.contains(2_000))
        #expect(levels.isSuperset(of: [1, 2, 3, 99, -1]), "declared and undeclared enum numbers: \(levels.sorted())")
        #expect(undeclaredField)

        var fens: Set<Int64> = []
        var ids: Set<Int64> = []
        for index: UInt64 in 0..<200 {
            await Task.yield()
            let request = Self.generator.request(of: Xcert_Settlement_V1_RecordPaymentRequest.protoMessageName, seed: 5, index: index)
            guard let message = try? Xcert_Settlement_V1_RecordPaymentRequest(serializedBytes: request.payload) else { continue }
            fens.insert(message.amount.fen)
            ids.insert(message.receivableID)
        }
        #expect(fens.isSuperset(of: [.min, .max, 0, -1]))
        #expect(ids.isSuperset(of: [.min, .max, 0, -1]) && ids.contains { (1...20).contains($0) })
    }

    @Test("bytes fields: CSVs of the registry's imports, now and then with an extreme cell, or no UTF-8")
    func csvs() async throws {
        var headers: Set<String> = []
        var holdingNUL = 0
        var notUTF8 = 0
        var rowCounts: Set<Int> = []
        for index: UInt64 in 0..<200 {
            await Task.yield()
            let request = Self.generator.request(of: Xcert_Registry_V1_ImportRequest.protoMessageName, seed: 11, index: index)
            guard let message = try? Xcert_Registry_V1_ImportRequest(serializedBytes: request.payload), !message.csv.isEmpty else {
                continue
            }
            guard let text = String(validating: message.csv, as: UTF8.self) else {
                notUTF8 += 1
                continue
            }
            let lines = text.split(omittingEmptySubsequences: true) { $0 == "\n" || $0 == "\r\n" }
            headers.insert(String(lines.first ?? "").replacing("\u{FEFF}", with: ""))
            rowCounts.insert(lines.count - 1)
            if text.unicodeScalars.contains("\u{0}") { holdingNUL += 1 }
        }
        #expect(headers.isSuperset(of: ["代码,名称", "学校标识码,学校名称,学校类型,所在城市,专业数,在校生数,专业,荣誉", "code,name"]), "\(headers)")
        #expect(holdingNUL > 0 && notUTF8 > 0)
        #expect(rowCounts.contains(1) && rowCounts.contains { $0 > 1_000 }, "\(rowCounts.sorted())")
    }

    @Test("integers a run keeps (e.g. its tokens' ids) are never written into the fields named")
    func avoidedIntegers() throws {
        let generator = RequestGenerator(context: .init(avoidedIntegers: ["token_id": Set(1...20)]))
        for index: UInt64 in 0..<300 {
            let request = generator.request(of: Xcert_Registry_V1_RevokeTokenRequest.protoMessageName, seed: 1, index: index)
            guard let message = try? Xcert_Registry_V1_RevokeTokenRequest(serializedBytes: request.payload) else { continue }
            #expect(!(1...20).contains(message.tokenID), "#\(index): \(request.summary)")
        }
    }

    @Test("the contracts read from the descriptor set are those the generated method descriptors carry")
    func contracts() {
        #expect(EveryMethod.contracts.count == EveryMethod.declarations.count)
        #expect(
            EveryMethod.contracts[Xcert_Registry_V1_ReferenceDataService.Method.getSchool.name]
                == Xcert_Registry_V1_ReferenceDataService.Method.getSchool.contract)
        #expect(
            EveryMethod.contracts[Xcert_Registry_V1_PrincipalService.Method.revokeToken.name]
                == Xcert_Registry_V1_PrincipalService.Method.revokeToken.contract)
        #expect(
            EveryMethod.contracts[Xcert_Filing_V1_FilingService.Method.submitFiling.name]
                == Xcert_Filing_V1_FilingService.Method.submitFiling.contract)
        #expect(
            EveryMethod.contracts[Xcert_Settlement_V1_LedgerService.Method.recordPayment.name]
                == Xcert_Settlement_V1_LedgerService.Method.recordPayment.contract)
        #expect(EveryMethod.contracts[Xcert_Health_V1_Health.Method.check.name] == Xcert_Health_V1_Health.Method.check.contract)
    }
}
