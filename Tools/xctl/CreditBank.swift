import ArgumentParser
import Foundation
import XCertAPI
import XCertDomain
import XCertProto
import XCertService
import XCertWire

/// `xctl credit-bank …`: the province's mapping of certificates to the national credit bank's
/// learning outcomes (学分银行), and the year's learning-outcome records for the national
/// platform (docs/cli.md, "The credit bank", documents the files' fields).
struct CreditBank: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "credit-bank",
        abstract: "The credit bank (学分银行): load and list the mapping to learning outcomes; a year's summary and export.",
        subcommands: [Load.self, Mappings.self, Summary.self, Export.self]
    )

    /// The mapping file's columns, by their English and Chinese headers.
    static let mappingColumns: [(key: String, names: [String])] = [
        ("certificate_code", ["certificate_code", "证书代码"]),
        ("level", ["level", "等级"]),
        ("learning_outcome_code", ["learning_outcome_code", "学习成果编码"]),
        ("learning_outcome_name", ["learning_outcome_name", "学习成果名称"]),
        ("credits", ["credits", "学分"]),
    ]

    struct Load: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: """
                Loads the province's mapping from a CSV file (certificate_code, level 1-3 or its name (初级, elementary, …), \
                learning_outcome_code, learning_outcome_name, credits); each row replaces its certificate's and level's mapping.
                """)
        @Argument(help: "The mapping file (CSV, UTF-8).") var file: String
        @OptionGroup var options: FilingOptions
        func run() async throws {
            var request = Xcert_Filing_V1_LoadCreditMappingsRequest()
            var problems: [String] = []
            var lines: [Int] = []
            for row in try CSVTable.read(self.file, columns: CreditBank.mappingColumns) {
                var mapping = Xcert_Filing_V1_CreditMapping()
                mapping.certificateCode = row.value("certificate_code")
                if let level = CreditBank.level(row.value("level")) {
                    mapping.level = level
                } else {
                    problems.append("line \(row.line), column level: write 1, 2, 3 or 初级, 中级, 高级; not \"\(row.value("level"))\"")
                }
                mapping.learningOutcomeCode = row.value("learning_outcome_code")
                mapping.learningOutcomeName = row.value("learning_outcome_name")
                if let tenths = RosterCSV.tenths(row.value("credits")) {
                    mapping.creditsTenths = tenths
                } else {
                    problems.append("line \(row.line), column credits: write the credits with at most one decimal, e.g. 2.5")
                }
                request.mappings.append(mapping)
                lines.append(row.line)
            }
            guard problems.isEmpty else { throw CLIError("\(self.file) was not sent:\n" + problems.joined(separator: "\n")) }
            let loaded = try await self.options.call(Xcert_Filing_V1_CreditBankService.Method.loadCreditMappings, request) { error in
                CSVTable.naming("mappings", lines: lines, in: error)
            }
            print("\(loaded.added) added, \(loaded.replaced) replaced, \(loaded.unchanged) unchanged")
        }
    }

    struct Mappings: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The mapping, by certificate and level.")
        @Option(help: "Only this certificate.") var certificate: String = ""
        @Option(help: "table or csv (a csv loads back with credit-bank load).") var format: OutputFormat = .table
        @OptionGroup var options: FilingOptions
        func run() async throws {
            var request = Xcert_Filing_V1_ListCreditMappingsRequest()
            request.certificateCode = self.certificate
            let mappings = try await self.options.call(Xcert_Filing_V1_CreditBankService.Method.listCreditMappings, request).mappings
            emit(
                CreditBank.mappingColumns.map(\.key) + ["set_by", "set_at"],
                mappings.map {
                    [
                        $0.certificateCode, "\($0.level.rawValue)", $0.learningOutcomeCode, $0.learningOutcomeName,
                        Points.text(tenths: Int($0.creditsTenths)), $0.setBy, LocalDate.provinceTimestamp($0.setAt.seconds),
                    ]
                }, format: self.format)
        }
    }

    struct Summary: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "What a year's export holds and what it leaves out (revoked, unmapped, without a full ID on record).")
        @Option(help: "The exam year.") var year: Int32
        @OptionGroup var options: FilingOptions
        func run() async throws {
            print(CreditBank.describe(try await CreditBank.summary(self.year, self.options)))
        }
    }

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: """
                Writes a year's learning-outcome records for the national credit bank platform (CSV or JSON, with full ID numbers: \
                the file is made readable by its owner only).
                """)
        @Option(help: "The exam year.") var year: Int32
        @Option(help: "csv or json.") var format: LearningOutcomeFile.Format = .csv
        @Option(help: "The file to write.") var out: String
        @Flag(help: "Chinese column headers (CSV).") var chineseHeaders = false
        @OptionGroup var options: FilingOptions

        func run() async throws {
            let summary = try await CreditBank.summary(self.year, self.options)
            let records = try await allPages { token in
                let page = try await self.options.call(
                    Xcert_Filing_V1_CreditBankService.Method.exportLearningOutcomes, LearningOutcomeFile.page(self.year, token))
                return (page.records, page.page.nextPageToken)
            }
            try LearningOutcomeFile.write(records, year: self.year, format: self.format, chineseHeaders: self.chineseHeaders, to: self.out)
            print("\(records.count) learning-outcome records of \(self.year) written to \(self.out)")
            print(CreditBank.describe(summary))
        }
    }

    static func summary(_ year: Int32, _ options: FilingOptions) async throws -> Xcert_Filing_V1_LearningOutcomeSummary {
        var request = Xcert_Filing_V1_GetLearningOutcomeSummaryRequest()
        request.year = year
        return try await options.call(Xcert_Filing_V1_CreditBankService.Method.getLearningOutcomeSummary, request)
    }

    static func describe(_ summary: Xcert_Filing_V1_LearningOutcomeSummary) -> String {
        var lines = [
            """
            \(summary.year): \(summary.certificates) certificates, \(summary.exported) exported \
            (\(Points.text(tenths: Int(summary.creditsTenths))) credits); left out: \(summary.revoked) revoked, \
            \(summary.unmapped) unmapped, \(summary.withoutNationalID) without a full ID on record
            """
        ]
        for gap in summary.unmappedLevels {
            let level = CertificateLevel(wire: gap.level)?.chineseName ?? ""
            lines.append("  to map: \(gap.certificateCode) \(level) (\(gap.certificates) certificates)")
        }
        return lines.joined(separator: "\n")
    }

    /// The level a mapping file names: 1 to 3, or its name (初级, elementary, …).
    static func level(_ text: String) -> Xcert_Common_V1_CertificateLevel? {
        (CertificateLevel(name: text) ?? Int(text).flatMap(CertificateLevel.init(rawValue:)))?.wire
    }
}

/// The learning-outcome file for the national credit bank platform: one record per
/// certificate, its fields in this order (docs/cli.md documents each).
enum LearningOutcomeFile {
    static let fields = [
        "certificate_number", "holder_name", "id_type", "national_id", "learning_outcome_code", "learning_outcome_name", "credits",
        "certificate_code", "certificate_name", "level", "level_name", "organization_name", "exam_date", "issued_on", "school_code",
        "candidate_number",
    ]
    static let chineseHeaders = [
        "证书编号", "姓名", "证件类型", "证件号码", "学习成果编码", "学习成果名称", "学分", "证书代码", "证书名称", "等级", "等级名称", "培训评价组织",
        "考核日期", "发证日期", "院校代码", "准考证号",
    ]
    enum Format: String, ExpressibleByArgument, CaseIterable {
        case csv, json
    }

    /// Writes `records` in `format` to a new file at `path` that its owner alone may read
    /// (the records carry full ID numbers).
    static func write(
        _ records: [Xcert_Filing_V1_LearningOutcomeRecord], year: Int32, format: Format, chineseHeaders: Bool = false, to path: String
    ) throws {
        let contents: Data
        switch format {
        case .csv: contents = Data(csvText(chineseHeaders ? self.chineseHeaders : self.fields, records.map(self.row)).utf8)
        case .json: contents = try self.json(year: year, records)
        }
        try? FileManager.default.removeItem(atPath: path)
        guard FileManager.default.createFile(atPath: path, contents: contents, attributes: [.posixPermissions: 0o600]) else {
            throw CLIError("cannot write \(path)")
        }
    }

    /// The request of the export's page after `token`, pages as large as they come.
    static func page(_ year: Int32, _ token: String) -> Xcert_Filing_V1_ExportLearningOutcomesRequest {
        var request = Xcert_Filing_V1_ExportLearningOutcomesRequest()
        request.year = year
        request.page.pageSize = Int32(Paging.maximumSize)
        request.page.pageToken = token
        return request
    }

    /// 居民身份证: rosters take the resident ID card's number only.
    static let idType = "居民身份证"

    static func row(_ record: Xcert_Filing_V1_LearningOutcomeRecord) -> [String] {
        [
            record.certificateNumber, record.holderName, self.idType, record.nationalID, record.learningOutcomeCode,
            record.learningOutcomeName, Points.text(tenths: Int(record.creditsTenths)), record.certificateCode, record.certificateName,
            "\(record.level.rawValue)", CertificateLevel(wire: record.level)?.chineseName ?? "", record.organizationName,
            dateText(record.examDate), dateText(record.issuedOn), record.schoolCode, record.candidateNumber,
        ]
    }

    /// `{"format": "xcert-learning-outcomes/1", "year": …, "exported_at": …, "records": [{field: value}]}`;
    /// credits and level as numbers, the rest as text.
    static func json(year: Int32, _ records: [Xcert_Filing_V1_LearningOutcomeRecord]) throws -> Data {
        let objects: [[String: Any]] = records.map { record in
            var object: [String: Any] = Dictionary(uniqueKeysWithValues: zip(self.fields, self.row(record)))
            object["credits"] = Double(record.creditsTenths) / 10
            object["level"] = record.level.rawValue
            return object
        }
        let document: [String: Any] = [
            "format": "xcert-learning-outcomes/1", "year": Int(year),
            "exported_at": LocalDate.provinceTimestamp(Int64(Date().timeIntervalSince1970)), "records": objects,
        ]
        return try JSONSerialization.data(withJSONObject: document, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
    }
}
