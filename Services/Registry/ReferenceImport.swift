import CSV
import Foundation
import Logging
import PostgresNIO
import XCertDomain
import XCertProto
import XCertService
import XCertWire

/// Bulk import of reference data from CSV files as provinces keep them: UTF-8 with or
/// without a BOM, a header row in Chinese or English, multi-valued cells separated by
/// `;`, `；`, `、` or line breaks. Every problem is reported by line and column, and a file
/// with any bad row imports nothing: the whole file is one transaction.
enum ReferenceImport {
    /// Most violations reported for one file; the first ones say enough.
    static let maximumViolations = 200

    /// A column of an import file: its key and every header it may carry.
    struct Column: Sendable {
        let key: String
        let headers: [String]
        let required: Bool

        init(_ key: String, _ headers: [String], required: Bool = false) {
            self.key = key
            self.headers = [key] + headers
            self.required = required
        }

        /// How error messages name it: the Chinese header with the English key.
        var title: String { self.headers.count > 1 ? "\(self.headers[1]) / \(self.key)" : self.key }
    }

    static func columns(of kind: Xcert_Registry_V1_ImportKind) -> [Column] {
        switch kind {
        case .cities:
            [Column("code", ["代码", "城市代码", "行政区划代码"], required: true), Column("name", ["名称", "城市名称", "城市"], required: true)]
        case .schools:
            [
                Column("code", ["学校标识码", "学校代码", "院校代码"], required: true),
                Column("name", ["学校名称", "院校名称", "名称"], required: true),
                Column("type", ["学校类型", "院校类型", "类型"], required: true),
                Column("city", ["所在城市", "城市", "设区市", "所在地市"], required: true),
                Column("specialty_count", ["专业数", "专业总数"], required: true),
                Column("enrolled_students", ["在校生数", "在校学生数"], required: true),
                Column("specialties", ["专业", "专业列表"]),
                Column("honours", ["荣誉", "建设项目"]),
                Column("reviewing_unit", ["审核单位"]),
            ]
        case .reviewingBureaus:
            [Column("code", ["代码", "单位代码"], required: true), Column("name", ["名称", "单位名称", "审核单位"], required: true)]
        case .calendarDays:
            [Column("day", ["日期"], required: true), Column("kind", ["类型", "安排"], required: true), Column("note", ["说明", "备注", "节日"])]
        case .organizations:
            [
                Column("name", ["名称", "培训评价组织", "组织名称"], required: true),
                Column("contacts", ["联系人"]),
                Column("office_phones", ["办公电话"]),
                Column("mobiles", ["手机"]),
                Column("emails", ["电子邮箱", "邮箱"]),
                Column("fax", ["传真"]),
                Column("address", ["通讯地址", "地址"]),
                Column("postcode", ["邮政编码", "邮编"]),
            ]
        case .certificates:
            [
                Column("code", ["证书代码", "代码"], required: true),
                Column("name", ["证书名称", "名称"], required: true),
                Column("batch", ["批次"]),
                Column("levels", ["等级"], required: true),
                Column("organization", ["培训评价组织", "组织"]),
                Column("scoring", ["评分规则"]),
                Column("pass_mark", ["合格分", "及格分"]),
            ]
        default:
            []
        }
    }

    /// One data row: its first line in the file and its cells by column key.
    struct Row: Sendable {
        let line: Int
        let cells: [String: String]

        subscript(key: String) -> String { self.cells[key, default: ""].trimmed }
    }

    /// A parsed file: its kind, where each column is, and its rows.
    struct Table: Sendable {
        let kind: Xcert_Registry_V1_ImportKind
        let columns: [Column]
        /// 1-based position of each present column, by key.
        let positions: [String: Int]
        let rows: [Row]

        /// How a violation names a cell of `row`'s `column`.
        func field(line: Int, column key: String) -> String {
            let column = self.columns.first { $0.key == key }
            let title = column?.title ?? key
            if let position = self.positions[key] { return "line \(line), column \(position) (\(title))" }
            return "line \(line) (\(title))"
        }
    }

    /// Thrown inside a dry run's transaction so that it rolls back; carries the counts.
    struct DryRun: Error {
        let counts: Xcert_Registry_V1_ImportResponse
    }

    // MARK: - Parsing

    /// Decodes and parses a file, checking its header; INVALID_ARGUMENT names what is wrong.
    static func parse(_ data: Data, kind: Xcert_Registry_V1_ImportKind) throws -> Table {
        let columns = self.columns(of: kind)
        guard !columns.isEmpty else {
            throw RPCError.invalidArgument([
                .init(
                    field: "kind", description: "must be CITIES, SCHOOLS, ORGANIZATIONS, CERTIFICATES, REVIEWING_BUREAUS or CALENDAR_DAYS")
            ])
        }
        var text = try self.decodeUTF8(data)
        // `csv` is bytes, so the boundary's check of every string field does not see it: its
        // text is held to the same rule here, before any cell goes near the database.
        if let nul = text.utf8.firstIndex(of: 0) {
            let line = text.utf8[..<nul].reduce(into: 1) { count, byte in if byte == 0x0A { count += 1 } }
            throw RPCError.invalidArgument([
                .init(field: "csv", description: "line \(line) holds the character U+0000 (NUL), which no text may contain")
            ])
        }
        if text.hasPrefix("\u{FEFF}") { text.removeFirst() }
        let reader: CSVReader
        do {
            reader = try CSVReader(string: text, hasHeaderRow: false)
        } catch {
            throw RPCError.invalidArgument([.init(field: "csv", description: "cannot be read as CSV: \(error)")])
        }
        var checks = FieldChecks()
        guard let header = reader.next(), header.contains(where: { !$0.trimmed.isEmpty }) else {
            throw RPCError.invalidArgument([.init(field: "csv", description: "is empty; the first line must be the header row")])
        }
        var positions: [String: Int] = [:]
        for (index, name) in header.enumerated() {
            let name = name.trimmed
            guard !name.isEmpty else { continue }
            guard let column = columns.first(where: { $0.headers.contains { $0.caseInsensitiveCompare(name) == .orderedSame } }) else {
                checks.fail(
                    "line 1, column \(index + 1) (\(name))",
                    "is not a column of a \(self.noun(kind)) file; the columns are \(columns.map(\.title).joined(separator: ", "))")
                continue
            }
            if let earlier = positions[column.key] {
                checks.fail("line 1, column \(index + 1) (\(name))", "repeats column \(earlier) (\(column.title))")
            }
            positions[column.key] = index + 1
        }
        for column in columns where column.required && positions[column.key] == nil {
            checks.fail("line 1", "lacks the column \(column.title)")
        }
        try checks.check()

        var rows: [Row] = []
        var line = 1 + self.lineBreaks(in: header)
        while let fields = reader.next() {
            line += 1
            defer { line += self.lineBreaks(in: fields) }
            if fields.allSatisfy({ $0.trimmed.isEmpty }) { continue }
            if fields.count > header.count, fields[header.count...].contains(where: { !$0.trimmed.isEmpty }) {
                checks.fail(
                    "line \(line), column \(header.count + 1)", "has \(fields.count) cells but the header has \(header.count) columns")
            }
            var cells: [String: String] = [:]
            for (key, position) in positions where position <= fields.count {
                cells[key] = fields[position - 1]
            }
            rows.append(Row(line: line, cells: cells))
        }
        try checks.check()
        guard !rows.isEmpty else {
            throw RPCError.invalidArgument([.init(field: "csv", description: "has a header but no rows")])
        }
        return Table(kind: kind, columns: columns, positions: positions, rows: rows)
    }

    /// The text of a UTF-8 file, or INVALID_ARGUMENT naming the line of the first bad byte.
    static func decodeUTF8(_ data: Data) throws -> String {
        if let text = String(validating: data, as: UTF8.self) { return text }
        var iterator = data.makeIterator()
        var decoder = UTF8()
        var offset = 0
        var line = 1
        loop: while true {
            switch decoder.decode(&iterator) {
            case let .scalarValue(scalar):
                offset += UTF8.width(scalar)
                if scalar == "\n" { line += 1 }
            case .emptyInput:
                break loop
            case .error:
                break loop
            }
        }
        throw RPCError.invalidArgument([
            .init(
                field: "csv",
                description:
                    "is not UTF-8: an invalid byte at offset \(offset), line \(line); save the file as UTF-8 (in Excel: CSV UTF-8), not GBK"
            )
        ])
    }

    private static func lineBreaks(in fields: [String]) -> Int {
        fields.reduce(0) { $0 + $1.reduce(0) { $1.isNewline ? $0 + 1 : $0 } }
    }

    private static func noun(_ kind: Xcert_Registry_V1_ImportKind) -> String {
        switch kind {
        case .cities: "cities"
        case .schools: "schools"
        case .organizations: "organizations"
        case .certificates: "certificates"
        case .reviewingBureaus: "reviewing bureaus"
        case .calendarDays: "calendar days"
        default: "reference data"
        }
    }

    /// The values of a multi-valued cell.
    static func values(_ cell: String) -> [String] {
        cell.split(whereSeparator: { ";；、\n\r".contains($0) }).map { String($0).trimmed }.filter { !$0.isEmpty }
    }

    // MARK: - Applying

    /// Checks every row and saves them; any problem and the caller's transaction rolls
    /// back (INVALID_ARGUMENT with every problem found).
    static func apply(
        _ table: Table, by importer: String, _ connection: PostgresConnection, _ logger: Logger
    ) async throws -> Xcert_Registry_V1_ImportResponse {
        var checks = FieldChecks()
        var counts = Xcert_Registry_V1_ImportResponse()
        var seen: [String: Int] = [:]
        func firstTime(_ key: String, line: Int, column: String) -> Bool {
            if let earlier = seen[key] {
                checks.fail(table.field(line: line, column: column), "\(key) is already on line \(earlier)")
                return false
            }
            seen[key] = line
            return true
        }
        func count(_ outcome: ReferenceStore.Outcome) {
            switch outcome {
            case .created: counts.created += 1
            case .updated: counts.updated += 1
            case .unchanged: counts.unchanged += 1
            }
        }
        /// Runs one row's save, turning its refusal into violations of that row.
        func save(line: Int, column: String, _ body: () async throws -> Void) async throws {
            // Past its deadline an import stops between rows; its transaction rolls back.
            try Task.checkCancellation()
            do {
                try await body()
            } catch let error as RPCError where error.code != .unavailable && error.code != .deadlineExceeded && error.code != .cancelled {
                if error.fieldViolations.isEmpty {
                    checks.fail(table.field(line: line, column: column), error.message)
                } else {
                    for violation in error.fieldViolations { checks.fail(violation.field, violation.description) }
                }
            }
        }

        switch table.kind {
        case .cities:
            let province = try await ReferenceStore.province(connection, logger)
            for row in table.rows where checks.violations.count < self.maximumViolations {
                var city = Xcert_Registry_V1_City()
                city.code = row["code"]
                city.name = row["name"]
                guard let record = CityRecord(city, checks: &checks, field: { table.field(line: row.line, column: $0) }),
                    firstTime(record.code, line: row.line, column: "code"), firstTime(record.name, line: row.line, column: "name")
                else { continue }
                if let problem = ReferenceStore.provinceProblem(record.code, "city", province) {
                    checks.fail(table.field(line: row.line, column: "code"), problem)
                    continue
                }
                try await save(line: row.line, column: "code") {
                    count(try await ReferenceStore.saveCity(record, creating: true, upsert: true, connection, logger))
                }
            }

        case .reviewingBureaus:
            let province = try await ReferenceStore.province(connection, logger)
            for row in table.rows where checks.violations.count < self.maximumViolations {
                var bureau = Xcert_Registry_V1_ReviewingUnit()
                bureau.code = row["code"]
                bureau.name = row["name"]
                let field = { (key: String) in table.field(line: row.line, column: key) }
                guard let record = ReviewingBureauRecord(bureau, checks: &checks, field: field),
                    firstTime(record.code, line: row.line, column: "code"), firstTime(record.name, line: row.line, column: "name")
                else { continue }
                if let problem = ReferenceStore.provinceProblem(record.code, "reviewing bureau", province) {
                    checks.fail(field("code"), problem)
                    continue
                }
                try await save(line: row.line, column: "code") {
                    count(
                        try await ReferenceStore.saveReviewingBureau(record, creating: true, upsert: true, field: field, connection, logger)
                    )
                }
            }

        case .calendarDays:
            var days: [WorkingDayCalendar.Exception] = []
            for row in table.rows where checks.violations.count < self.maximumViolations {
                let field = { (key: String) in table.field(line: row.line, column: key) }
                let day = LocalDate(iso: row["day"].replacingOccurrences(of: "/", with: "-"))
                let working: Bool? =
                    switch row["kind"].lowercased() {
                    case "班", "上班", "工作日", "working": true
                    case "休", "放假", "休息", "holiday": false
                    default: nil
                    }
                let note = row["note"]
                guard let day else {
                    checks.fail(field("day"), "must be a date, YYYY-MM-DD; not \"\(row["day"])\"")
                    continue
                }
                guard let working else {
                    checks.fail(field("kind"), "must be 休 (a holiday) or 班 (a weekend day made a working day); not \"\(row["kind"])\"")
                    continue
                }
                guard note.count <= 100 else {
                    checks.fail(field("note"), "must be at most 100 characters")
                    continue
                }
                guard firstTime(day.description, line: row.line, column: "day") else { continue }
                days.append(.init(day: day, working: working, note: note))
            }
            if checks.isEmpty {
                let (created, updated) = try await CalendarStore.set(days, setBy: importer, connection, logger)
                counts.created += Int32(created)
                counts.updated += Int32(updated)
                counts.unchanged += Int32(days.count - created - updated)
            }

        case .schools:
            let cities = try await ReferenceStore.cities(connection, logger)
            let cityCodes = Set(cities.map(\.code))
            let cityByName = Dictionary(cities.map { ($0.name, $0.code) }, uniquingKeysWith: { first, _ in first })
            let units = try await ReferenceStore.reviewingUnits(connection, logger)
            let unitCodes = Set(units.map(\.code))
            let unitByName = Dictionary(units.map { ($0.name, $0.code) }, uniquingKeysWith: { first, _ in first })
            for row in table.rows where checks.violations.count < self.maximumViolations {
                let field = { (key: String) in table.field(line: row.line, column: self.schoolColumn(of: key)) }
                var school = Xcert_Registry_V1_School()
                school.code = row["code"]
                school.name = row["name"]
                school.type = SchoolType(name: row["type"])?.wire ?? .unspecified
                let city = row["city"]
                if cityCodes.contains(city) {
                    school.cityCode = city
                } else if let code = cityByName[city] ?? cityByName[city + "市"] {
                    school.cityCode = code
                } else {
                    checks.fail(field("city_code"), "there is no city \"\(city)\"; give a city's code or name (import the cities first)")
                    school.cityCode = "000000"
                }
                school.specialtyCount = self.integer(row["specialty_count"], field: field("specialty_count"), &checks)
                school.enrolledStudents = self.integer(row["enrolled_students"], field: field("enrolled_students"), &checks)
                school.specialties = self.values(row["specialties"]).map { item in
                    let parts = item.split(maxSplits: 1, whereSeparator: { " :：\t".contains($0) })
                    var specialty = Xcert_Registry_V1_Specialty()
                    specialty.code = parts.first.map(String.init) ?? ""
                    specialty.name = parts.count > 1 ? String(parts[1]).trimmed : ""
                    return specialty
                }
                school.honours = self.values(row["honours"])
                let unit = row["reviewing_unit"]
                if unit.isEmpty || unitCodes.contains(unit) {
                    school.reviewingUnitCode = unit
                } else if let code = unitByName[unit] {
                    school.reviewingUnitCode = code
                } else {
                    checks.fail(
                        field("reviewing_unit_code"),
                        "there is no reviewing unit \"\(unit)\"; name a designated bureau by code or name (imported first), or none"
                    )
                }
                guard let record = SchoolRecord(school, checks: &checks, field: field),
                    firstTime(record.code, line: row.line, column: "code"), checks.isEmpty
                else { continue }
                try await save(line: row.line, column: "code") {
                    count(try await ReferenceStore.saveSchool(record, creating: true, upsert: true, field: field, connection, logger).0)
                }
            }

        case .organizations:
            for row in table.rows where checks.violations.count < self.maximumViolations {
                let field = { (key: String) in table.field(line: row.line, column: self.organizationColumn(of: key)) }
                let names = self.values(row["contacts"])
                let phones = self.values(row["office_phones"])
                let mobiles = self.values(row["mobiles"])
                let emails = self.values(row["emails"])
                for (key, list) in [("office_phones", phones), ("mobiles", mobiles), ("emails", emails)] where list.count > names.count {
                    checks.fail(
                        table.field(line: row.line, column: key),
                        "has \(list.count) values for \(names.count) contacts; give them in the contacts' order")
                }
                var organization = Xcert_Registry_V1_Organization()
                organization.name = row["name"]
                organization.contacts = names.indices.map { index in
                    var contact = Xcert_Registry_V1_Contact()
                    contact.name = names[index]
                    contact.officePhone = index < phones.count ? phones[index] : ""
                    contact.mobile = index < mobiles.count ? mobiles[index] : ""
                    contact.email = index < emails.count ? emails[index] : ""
                    return contact
                }
                organization.fax = row["fax"]
                organization.address = row["address"]
                organization.postcode = row["postcode"]
                guard let record = OrganizationRecord(organization, checks: &checks, field: field),
                    firstTime(record.name, line: row.line, column: "name"), checks.isEmpty
                else { continue }
                try await save(line: row.line, column: "name") {
                    count(try await ReferenceStore.saveOrganization(record, id: 0, upsert: true, connection, logger).0)
                }
            }

        case .certificates:
            let organizations = try await ReferenceStore.organizations(connection, logger)
            let organizationByName = Dictionary(organizations.map { ($0.name, $0.id) }, uniquingKeysWith: { first, _ in first })
            // An empty organization cell says the list does not know it (the seeds' 40 small
            // certificates): a certificate already recorded keeps its organization.
            let recordedOrganization = Dictionary(
                try await ReferenceStore.certificates(connection, logger).map { ($0.code, $0.organizationID) },
                uniquingKeysWith: { first, _ in first }
            )
            for row in table.rows where checks.violations.count < self.maximumViolations {
                let field = { (key: String) in table.field(line: row.line, column: self.certificateColumn(of: key)) }
                var certificate = Xcert_Registry_V1_Certificate()
                certificate.code = row["code"]
                certificate.name = row["name"]
                if let batch = self.batch(row["batch"]) {
                    certificate.batch = batch
                } else {
                    checks.fail(field("batch"), "must be 首批, 第二批, 第三批, 第四批 or 1 to 4; not \"\(row["batch"])\"")
                }
                let levels = self.values(row["levels"]).map(CertificateLevel.init(name:))
                certificate.levels = levels.map { $0?.wire ?? .unspecified }
                let organization = row["organization"]
                certificate.organizationID = recordedOrganization[row["code"]] ?? 0
                if !organization.isEmpty {
                    if let id = organizationByName[organization] {
                        certificate.organizationID = id
                    } else {
                        checks.fail(
                            field("organization_id"), "there is no organization named \"\(organization)\"; import the organizations first")
                    }
                }
                if let scoring = self.scoring(row["scoring"], passMark: row["pass_mark"], field: field, &checks) {
                    certificate.scoring = scoring
                }
                guard let record = CertificateRecord(certificate, checks: &checks, field: field),
                    firstTime(record.code, line: row.line, column: "code"), firstTime(record.name, line: row.line, column: "name"),
                    checks.isEmpty
                else { continue }
                try await save(line: row.line, column: "code") {
                    count(try await ReferenceStore.saveCertificate(record, creating: true, upsert: true, field: field, connection, logger))
                }
            }

        default:
            throw RPCError.invalidArgument([
                .init(
                    field: "kind", description: "must be CITIES, SCHOOLS, ORGANIZATIONS, CERTIFICATES, REVIEWING_BUREAUS or CALENDAR_DAYS")
            ])
        }
        try checks.check()
        return counts
    }

    // MARK: - Cells

    private static func schoolColumn(of field: String) -> String {
        let key = String(field.prefix { $0 != "[" && $0 != "." })
        switch key {
        case "city_code": return "city"
        case "reviewing_unit_code": return "reviewing_unit"
        default: return key
        }
    }

    private static func organizationColumn(of field: String) -> String {
        if field.hasPrefix("contacts[") {
            if field.hasSuffix(".office_phone") { return "office_phones" }
            if field.hasSuffix(".mobile") { return "mobiles" }
            if field.hasSuffix(".email") { return "emails" }
            return "contacts"
        }
        return field
    }

    private static func certificateColumn(of field: String) -> String {
        field == "organization_id" ? "organization" : field
    }

    private static func integer(_ cell: String, field: String, _ checks: inout FieldChecks) -> Int32 {
        guard let value = Int32(cell.replacingOccurrences(of: ",", with: "")) else {
            checks.fail(field, "must be a whole number, not \"\(cell)\"")
            return 1  // a value the range check accepts: the row is refused once, for this
        }
        return value
    }

    static func batch(_ cell: String) -> Int32? {
        switch cell {
        case "": 0
        case "首批", "第一批": 1
        case "第二批": 2
        case "第三批": 3
        case "第四批": 4
        default: Int32(cell).flatMap { (0...4).contains($0) ? $0 : nil }
        }
    }

    /// A scoring cell such as `理论:40;实操:60` with a pass mark; nil (the province's
    /// default) when both are empty.
    private static func scoring(
        _ cell: String, passMark: String, field: (String) -> String, _ checks: inout FieldChecks
    ) -> Xcert_Registry_V1_ScoringRule? {
        guard !cell.isEmpty || !passMark.isEmpty else { return nil }
        var rule = Xcert_Registry_V1_ScoringRule()
        if cell.isEmpty {
            rule.components = ScoringRule.provinceDefault.components.map { component in
                var wire = Xcert_Registry_V1_ScoringComponent()
                wire.name = component.name
                wire.weightPercent = Int32(component.weightPercent)
                return wire
            }
        }
        for item in self.values(cell) {
            let parts = item.split(separator: ":", maxSplits: 1).flatMap { $0.split(separator: "：") }
            guard parts.count == 2, let weight = Int32(String(parts[1]).trimmed.replacingOccurrences(of: "%", with: "")) else {
                checks.fail(field("scoring"), "each component must be name:weight, e.g. 理论:40;实操:60; not \"\(item)\"")
                return nil
            }
            var component = Xcert_Registry_V1_ScoringComponent()
            component.name = String(parts[0]).trimmed
            component.weightPercent = weight
            rule.components.append(component)
        }
        if passMark.isEmpty {
            rule.passMark = Int32(ScoringRule.provinceDefault.passMark)
        } else if let mark = Int32(passMark) {
            rule.passMark = mark
        } else {
            checks.fail(field("pass_mark"), "must be a whole number from 1 to 100, not \"\(passMark)\"")
            return nil
        }
        return rule
    }
}
