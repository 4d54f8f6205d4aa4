import Testing
import XCertDomain

@Suite("A filing's scope: who may apply for its certificate (001 §三.1)")
struct FilingScopeTests {
    static let scope = FilingScope(
        filingID: 12, certificateCode: "AUTO", schoolLevels: [.higherVocational, .undergraduate],
        specialtyScope: ["5002 道路运输类", "460702", "汽车检测与维修技术"])

    static func specialty(_ code: String, _ name: String) -> FilingScope.Specialty { .init(code: code, name: name) }

    @Test("an entry admits the specialty of its code, its name, the codes of its category, and 不限 everything; nothing else")
    func entries() {
        let repair = Self.specialty("500211", "汽车检测与维修技术")
        #expect(FilingScope.admits("5002 道路运输类", repair), "a category code with its name")
        #expect(FilingScope.admits("5002", repair), "a category code alone")
        #expect(FilingScope.admits("500211", repair) && FilingScope.admits("500211 汽车检测与维修技术", repair))
        #expect(FilingScope.admits("汽车检测与维修技术", Self.specialty("X1", "汽车检测与维修技术")), "by name")
        #expect(FilingScope.admits("不限", repair) && FilingScope.admits("*", repair))
        #expect(!FilingScope.admits("5003 水上运输类", repair))
        #expect(!FilingScope.admits("5002113", repair), "a longer code is not a category of it")
        #expect(!FilingScope.admits("5", repair), "one character is no category")
        #expect(!FilingScope.admits("道路运输类", repair), "a category's name alone cannot be matched to codes")
    }

    @Test("a school of a level the filing does not cover is refused, quoting the filing's levels; technical schools have no level")
    func levels() throws {
        #expect(throws: Never.self) {
            try Self.scope.check(schoolType: .higherVocational, specialties: [Self.specialty("460702", "新能源汽车技术")])
        }
        #expect(throws: Never.self) {
            try Self.scope.check(schoolType: .appliedUndergraduate, specialties: [Self.specialty("460702", "x")])
        }
        #expect(throws: Never.self) { try Self.scope.check(schoolType: .openUniversity, specialties: [Self.specialty("460702", "x")]) }
        for type in [SchoolType.secondaryVocational, .technicalSchool] {
            let error = #expect(throws: DomainError.self) {
                try Self.scope.check(schoolType: type, specialties: [Self.specialty("460702", "新能源汽车技术")])
            }
            #expect(error?.reason == "application.outside-filing-levels" && error?.field == "school_code")
            #expect(error?.message == "filing 12 of AUTO covers 高职、本科 schools; a \(type.chineseName) school may not apply for it")
        }
    }

    @Test("every specialty outside the scope is named, with the filing's scope")
    func specialties() throws {
        let error = #expect(throws: DomainError.self) {
            try Self.scope.check(
                schoolType: .higherVocational,
                specialties: [
                    Self.specialty("500211", "汽车检测与维修技术"), Self.specialty("510201", "计算机应用技术"), Self.specialty("530701", "电子商务"),
                ])
        }
        #expect(error?.code == .failedPrecondition && error?.reason == "application.outside-filing-specialties")
        #expect(error?.field == "specialty_codes")
        #expect(
            error?.message
                == "510201 计算机应用技术, 530701 电子商务 are outside the specialty scope of filing 12 of AUTO: 5002 道路运输类; 460702; 汽车检测与维修技术")
    }
}
