import Crypto
import Foundation
import XCertDomain
import XCertProto
import XCertService
import XCertStore

/// SplitMix64: the same numbers for the same seed, so that a demo run is repeatable.
struct SeededRandom: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { self.state = seed }

    mutating func next() -> UInt64 {
        self.state &+= 0x9E37_79B9_7F4A_7C15
        var z = self.state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// True with probability `percent` / 100.
    mutating func chance(_ percent: Int) -> Bool { Int.random(in: 0..<100, using: &self) < percent }

    /// A generator of its own for one part of the demo, so that parts do not shift each
    /// other's numbers when one of them changes.
    static func part(_ name: String, seed: UInt64) -> SeededRandom {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in name.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01B3 }
        return SeededRandom(seed: seed ^ hash)
    }
}

/// A school of the demo province, as the province's officer enters it.
struct DemoSchool: Sendable {
    var code: String
    var name: String
    var type: SchoolType
    var cityCode: String
    /// Its reviewing unit (审核单位): its city, or a bureau the province designated.
    var reviewingUnitCode: String
    /// All its specialties (the base of the 40 % cap).
    var specialtyCount: Int
    /// Its enrolled students (the base of the 30 % cap).
    var enrolled: Int
    /// The specialties it may pilot with: (national catalogue code, name).
    var specialties: [(code: String, name: String)]
    /// A specialty whose teaching team falls short of 001 §二.3, if the demo gave it one.
    var ineligibleSpecialty: String? = nil

    /// The specialties it applies with.
    var eligibleSpecialties: [(code: String, name: String)] { self.specialties.filter { $0.code != self.ineligibleSpecialty } }
}

/// The demo province's schools: about `count`, of every type, spread over the cities
/// the way a province's are (the capital has most). Names are made up from the city and
/// a kind of school; they are not a list of real schools.
enum DemoSchools {
    static func make(count: Int, cities: [(code: String, name: String)], seed: UInt64) -> [DemoSchool] {
        var random = SeededRandom.part("schools", seed: seed)
        // Shares of a vocational province's schools: most are secondary (中职) and higher
        // vocational (高职); a few undergraduate ones, one open university, and technical
        // schools, which are recorded but never eligible (rule 5).
        let mix: [(SchoolType, Int)] = [
            (.secondaryVocational, 42), (.higherVocational, 42), (.vocationalUndergraduate, 4),
            (.appliedUndergraduate, 8), (.openUniversity, 1), (.technicalSchool, 3),
        ]
        var types: [SchoolType] = []
        for (type, share) in mix { types += Array(repeating: type, count: max(1, (count * share + 50) / 100)) }
        types = Array(types.prefix(count))
        while types.count < count { types.append(.higherVocational) }

        // The capital (the first city) takes a quarter, the rest share the others.
        var cityOfSchool: [Int] = []
        for index in 0..<count {
            cityOfSchool.append(index % 4 == 0 || cities.count == 1 ? 0 : 1 + (index / 4 * 3 + index % 4) % (cities.count - 1))
        }
        var usedNames: Set<String> = []
        var sequence: [String: Int] = [:]
        var schools: [DemoSchool] = []
        for (index, type) in types.enumerated() {
            let city = type == .openUniversity ? cities[0] : cities[cityOfSchool[index]]
            let place = city.name.hasSuffix("市") ? String(city.name.dropLast()) : city.name
            let kinds = Self.kinds[type] ?? ["学校"]
            var name = type == .openUniversity ? "江西开放大学" : ""
            for kind in kinds.shuffled(using: &random) where name.isEmpty {
                if !usedNames.contains(place + kind) { name = place + kind }
            }
            if name.isEmpty { name = place + kinds[0] + "第\(index + 1)校区" }
            usedNames.insert(name)
            let prefix = String(city.code.prefix(4))
            sequence[prefix, default: 0] += 1
            let code = "41" + prefix + String(format: "%04d", sequence[prefix]!)
            let (specialtyRange, enrolledRange): (ClosedRange<Int>, ClosedRange<Int>) =
                switch type {
                case .secondaryVocational: (8...24, 1_500...7_000)
                case .higherVocational: (20...60, 5_000...22_000)
                case .vocationalUndergraduate, .appliedUndergraduate: (30...70, 10_000...28_000)
                case .openUniversity: (40...60, 30_000...60_000)
                case .technicalSchool: (10...20, 1_500...5_000)
                }
            let specialtyCount = Int.random(in: specialtyRange, using: &random)
            let catalogue = type == .secondaryVocational ? Self.secondarySpecialties : Self.higherSpecialties
            let listed = catalogue.shuffled(using: &random).prefix(min(specialtyCount, 12)).sorted { $0.code < $1.code }
            schools.append(
                DemoSchool(
                    code: code, name: name, type: type, cityCode: city.code, reviewingUnitCode: city.code, specialtyCount: specialtyCount,
                    enrolled: Int.random(in: enrolledRange, using: &random) / 10 * 10, specialties: Array(listed)
                ))
        }
        return schools
    }

    private static let kinds: [SchoolType: [String]] = [
        .secondaryVocational: ["工业中等专业学校", "商贸学校", "交通职业学校", "卫生学校", "旅游职业学校", "电子信息学校", "农业学校", "建筑工程学校", "中等专业学校", "职业教育中心"],
        .higherVocational: [
            "职业技术学院", "工业职业技术学院", "交通职业技术学院", "科技职业学院", "信息职业技术学院", "旅游商贸职业学院", "医学高等专科学校", "建设职业技术学院", "机电职业技术学院", "师范高等专科学校",
        ],
        .vocationalUndergraduate: ["职业技术大学", "科技职业大学"],
        .appliedUndergraduate: ["学院", "工程学院", "应用技术学院", "理工学院"],
        .technicalSchool: ["技师学院", "高级技工学校"],
    ]

    /// Specialties of the secondary catalogue (code, name), as a school lists them.
    private static let secondarySpecialties: [(code: String, name: String)] = [
        ("700206", "汽车运用与维修"), ("700209", "新能源汽车运用与维修"), ("640301", "建筑工程施工"), ("710201", "计算机应用"),
        ("710204", "数字媒体技术应用"), ("730701", "电子商务"), ("730901", "物流服务与管理"), ("720201", "护理"),
        ("720901", "老年人服务与管理"), ("740101", "旅游服务与管理"), ("660301", "机械制造技术"), ("660302", "数控技术应用"),
        ("670101", "电子技术应用"), ("730302", "会计事务"), ("750101", "工艺美术"), ("610101", "现代农艺技术"),
    ]

    /// The specialty categories (专业大类) of the demo's catalogues, as a filing's specialty
    /// scope names them: "70 交通运输大类", …
    static var specialtyCategories: [String] {
        let codes = Set((Self.secondarySpecialties + Self.higherSpecialties).map { String($0.code.prefix(2)) })
        return codes.sorted().map { code in "\(code) \(Self.categoryNames[code] ?? "专业大类")" }
    }

    /// The 2021 catalogue's categories: 中职 61–79, 高职专科 41–59, in the same order.
    private static let categoryNames: [String: String] = {
        let names = [
            "农林牧渔大类", "资源环境与安全大类", "能源动力与材料大类", "土木建筑大类", "水利大类", "装备制造大类", "生物与化工大类", "轻工纺织大类",
            "食品药品与粮食大类", "交通运输大类", "电子与信息大类", "医药卫生大类", "财经商贸大类", "旅游大类", "文化艺术大类", "新闻传播大类",
            "教育与体育大类", "公安与司法大类", "公共管理与服务大类",
        ]
        var byCode: [String: String] = [:]
        for (offset, name) in names.enumerated() {
            byCode[String(41 + offset)] = name
            byCode[String(61 + offset)] = name
        }
        return byCode
    }()

    /// Specialties of the higher-vocational catalogue (code, name).
    private static let higherSpecialties: [(code: String, name: String)] = [
        ("500211", "汽车检测与维修技术"), ("460702", "新能源汽车技术"), ("440301", "建筑工程技术"), ("440501", "工程造价"),
        ("510201", "计算机应用技术"), ("510205", "大数据技术"), ("510208", "软件技术"), ("510211", "人工智能技术应用"),
        ("530701", "电子商务"), ("530802", "现代物流管理"), ("520201", "护理"), ("590302", "智慧健康养老服务与管理"),
        ("540101", "旅游管理"), ("460104", "机械制造及自动化"), ("460301", "机电一体化技术"), ("510101", "电子信息工程技术"),
        ("530302", "大数据与会计"), ("550102", "视觉传达设计"), ("510301", "现代通信技术"), ("430101", "发电厂及电力系统"),
        ("410303", "宠物养护与驯导"), ("570201", "早期教育"), ("500101", "铁道机车运用与维护"), ("540106", "酒店管理与数字化运营"),
    ]
}

/// Candidates of the demo: names and national ID numbers made up, numbered so that no two
/// people share a number, with valid check characters (GB 11643).
enum DemoPeople {
    private static let surnames = Array(
        "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤")
    private static let givenCharacters = Array("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红鹏飞辉建国俊浩宇轩子涵欣怡梓萱思远佳琪晨雨博文嘉懿雅婷志豪家乐诗琪")

    static func name(_ random: inout SeededRandom) -> String {
        var name = String(self.surnames.randomElement(using: &random)!)
        for _ in 0..<(random.chance(70) ? 2 : 1) { name.append(self.givenCharacters.randomElement(using: &random)!) }
        return name
    }

    /// Person `n`'s number: the area code of `cityCode`'s city district, a birthday between
    /// 2000 and 2006, a sequence number and the check character.
    static func nationalID(_ n: Int, cityCode: String) -> String {
        let day = LocalDate(year: 2000, month: 1, day: 1)!.adding(days: (n / 900) % 2_500)
        let body = String(cityCode.prefix(4)) + "02" + String(format: "%04d%02d%02d%03d", day.year, day.month, day.day, n % 900 + 100)
        return NationalID(completing: body)!.value
    }
}

/// A document the demo attaches (a work plan, a report), by a name, a size and a SHA-256
/// made from the name: the same each run.
func demoDocument(_ name: String) -> Xcert_Filing_V1_Attachment {
    var document = Xcert_Filing_V1_Attachment()
    document.name = name
    document.sizeBytes = Int64(180_000 + name.utf8.count * 1_000)
    document.sha256 = SHA256.hash(data: Data(name.utf8)).lowercaseHex
    return document
}
