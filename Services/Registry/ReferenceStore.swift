import Foundation
import Logging
import PostgresNIO
import XCertDomain
import XCertProto
import XCertService
import XCertWire

/// The registry's SQL for reference data: reads that build messages, and writes of
/// checked records. Every function runs on a connection inside the caller's transaction.
enum ReferenceStore {
    /// What a save did.
    enum Outcome: Sendable { case created, updated, unchanged }

    // MARK: - Province and cities

    static func province(_ connection: PostgresConnection, _ logger: Logger) async throws -> Xcert_Registry_V1_Province? {
        let rows = try await connection.query("SELECT code, name FROM registry.province", logger: logger)
        for try await (code, name) in rows.decode((String, String).self) {
            var province = Xcert_Registry_V1_Province()
            province.code = code
            province.name = name
            return province
        }
        return nil
    }

    /// Sets the province's code and name (there is one province).
    static func setProvince(code: String, name: String, _ connection: PostgresConnection, _ logger: Logger) async throws {
        try await connection.query(
            """
            INSERT INTO registry.province (code, name) VALUES (\(code), \(name))
            ON CONFLICT (singleton) DO UPDATE SET code = excluded.code, name = excluded.name
            """,
            logger: logger
        )
    }

    static func cities(
        codes: [String]? = nil, after: String = "", limit: Int = 10_000, _ connection: PostgresConnection, _ logger: Logger
    ) async throws -> [Xcert_Registry_V1_City] {
        let rows = try await connection.query(
            """
            SELECT code, name FROM registry.cities
            WHERE code > \(after) AND (\(codes)::text[] IS NULL OR code = ANY(\(codes)))
            ORDER BY code LIMIT \(limit)
            """,
            logger: logger
        )
        var cities: [Xcert_Registry_V1_City] = []
        for try await (code, name) in rows.decode((String, String).self) {
            var city = Xcert_Registry_V1_City()
            city.code = code
            city.name = name
            cities.append(city)
        }
        return cities
    }

    /// Checks that a city or a designated bureau fits the province: its code starts with the
    /// province's.
    static func checkInProvince(
        _ code: String, _ what: String, field: String, _ connection: PostgresConnection, _ logger: Logger
    ) async throws {
        if let problem = self.provinceProblem(code, what, try await self.province(connection, logger)) {
            throw RPCError.invalidArgument([.init(field: field, description: problem)])
        }
    }

    /// What is wrong with a city's or bureau's `code` in `province`: it must start with the
    /// province's code; nil when it does, or when the province is not set yet.
    static func provinceProblem(_ code: String, _ what: String, _ province: Xcert_Registry_V1_Province?) -> String? {
        guard let province, !code.hasPrefix(province.code) else { return nil }
        return "\(code) is not a \(what) of \(province.name) (codes \(province.code)xxxx)"
    }

    static func saveCity(
        _ city: CityRecord, creating: Bool, upsert: Bool = false, _ connection: PostgresConnection, _ logger: Logger
    ) async throws -> Outcome {
        let existing = try await self.cities(codes: [city.code], connection, logger).first
        if let existing {
            if creating && !upsert { throw RPCError(.alreadyExists, "city \(city.code) exists (\(existing.name))") }
            if existing.name == city.name { return .unchanged }
        } else if !creating && !upsert {
            throw RPCError(.notFound, "there is no city \(city.code)")
        }
        let clash = try await connection.query(
            "SELECT code FROM registry.cities WHERE name = \(city.name) AND code <> \(city.code)", logger: logger)
        for try await other in clash.decode(String.self) {
            throw RPCError(.alreadyExists, "city \(other) is already named \(city.name)")
        }
        try await connection.query(
            """
            INSERT INTO registry.cities (code, name) VALUES (\(city.code), \(city.name))
            ON CONFLICT (code) DO UPDATE SET name = excluded.name
            """,
            logger: logger
        )
        return existing == nil ? .created : .updated
    }

    // MARK: - Reviewing units

    /// The province's reviewing units (审核单位): its cities and the bureaus it designates, by
    /// code, each with the number of secondary schools under it.
    static func reviewingUnits(
        codes: [String]? = nil, after: String = "", limit: Int = 10_000, _ connection: PostgresConnection, _ logger: Logger
    ) async throws -> [Xcert_Registry_V1_ReviewingUnit] {
        let rows = try await connection.query(
            """
            SELECT u.code, u.name, u.designated,
                   (SELECT count(*)::integer FROM registry.schools s
                    WHERE coalesce(s.reviewing_bureau_code, s.city_code) = u.code AND s.type = 'secondary_vocational')
            FROM (SELECT code, name, false AS designated FROM registry.cities
                  UNION ALL SELECT code, name, true FROM registry.reviewing_bureaus) u
            WHERE u.code > \(after) AND (\(codes)::text[] IS NULL OR u.code = ANY(\(codes)))
            ORDER BY u.code LIMIT \(limit)
            """,
            logger: logger
        )
        var units: [Xcert_Registry_V1_ReviewingUnit] = []
        for try await (code, name, designated, schools) in rows.decode((String, String, Bool, Int32).self) {
            var unit = Xcert_Registry_V1_ReviewingUnit()
            unit.code = code
            unit.name = name
            unit.designated = designated
            unit.secondarySchools = schools
            units.append(unit)
        }
        return units
    }

    /// Creates, renames or (with `upsert`) either a designated bureau. Its code may not be a
    /// city's, nor its name another reviewing unit's.
    static func saveReviewingBureau(
        _ bureau: ReviewingBureauRecord, creating: Bool, upsert: Bool = false, field: (String) -> String,
        _ connection: PostgresConnection, _ logger: Logger
    ) async throws -> Outcome {
        let existing = try await self.reviewingUnits(codes: [bureau.code], connection, logger).first
        if let existing, !existing.designated {
            throw RPCError.invalidArgument([
                .init(
                    field: field("code"),
                    description: "\(bureau.code) is the city \(existing.name); a designated bureau needs a code of its own")
            ])
        }
        if let existing {
            if creating && !upsert { throw RPCError(.alreadyExists, "reviewing bureau \(bureau.code) exists (\(existing.name))") }
            if existing.name == bureau.name { return .unchanged }
        } else if !creating && !upsert {
            throw RPCError(.notFound, "there is no reviewing bureau \(bureau.code)")
        }
        let clash = try await connection.query(
            """
            SELECT code FROM registry.cities WHERE name = \(bureau.name)
            UNION ALL SELECT code FROM registry.reviewing_bureaus WHERE name = \(bureau.name) AND code <> \(bureau.code)
            """,
            logger: logger
        )
        for try await other in clash.decode(String.self) {
            throw RPCError(.alreadyExists, "reviewing unit \(other) is already named \(bureau.name)")
        }
        try await connection.query(
            """
            INSERT INTO registry.reviewing_bureaus (code, name) VALUES (\(bureau.code), \(bureau.name))
            ON CONFLICT (code) DO UPDATE SET name = excluded.name, updated_at = now()
            """,
            logger: logger
        )
        return existing == nil ? .created : .updated
    }

    // MARK: - Schools

    typealias SchoolRow = (
        String, String, String, String, Int32, Int32, [String], Int64, [String], [String], String,
        [Int64], [String], [String], [Int32], [Date], [String]
    )

    /// Schools by the filters given, in code order, each with its specialties and (with
    /// `withIrregularities`) its irregularities: one prepared statement (``SchoolListStatement``).
    static func schools(
        cityCode: String? = nil, reviewingUnitCode: String? = nil, type: String? = nil, nameContains: String? = nil,
        after: String = "", limit: Int = 10_000, withIrregularities: Bool = false,
        _ connection: PostgresConnection, _ logger: Logger
    ) async throws -> [Xcert_Registry_V1_School] {
        let statement = SchoolListStatement(
            withIrregularities: withIrregularities, after: after, cityCode: cityCode, reviewingUnitCode: reviewingUnitCode, type: type,
            namePattern: nameContains.map(likePattern(containing:)), limit: limit)
        var schools: [Xcert_Registry_V1_School] = []
        for try await row in try await connection.execute(statement, logger: logger) { schools.append(Self.school(row)) }
        return schools
    }

    /// School `code` with its specialties and (with `withIrregularities`) its
    /// irregularities; nil when there is none. One prepared statement (``SchoolStatement``).
    static func findSchool(
        _ code: String, withIrregularities: Bool, _ connection: PostgresConnection, _ logger: Logger
    ) async throws -> Xcert_Registry_V1_School? {
        let statement = SchoolStatement(withIrregularities: withIrregularities, code: code)
        for try await row in try await connection.execute(statement, logger: logger) { return Self.school(row) }
        return nil
    }

    /// School `code` with its specialties and irregularities; NOT_FOUND when there is none.
    static func school(_ code: String, _ connection: PostgresConnection, _ logger: Logger) async throws -> Xcert_Registry_V1_School {
        guard let school = try await self.findSchool(code, withIrregularities: true, connection, logger) else {
            throw RPCError(.notFound, "there is no school \(code)")
        }
        return school
    }

    /// What the school statements select: the school, its specialties, its reviewing unit,
    /// and its irregularities (when `$1` is true) gathered as arrays, one row per school.
    private static let schoolSelection = """
        SELECT s.code, s.name, s.type, s.city_code, s.specialty_count, s.enrolled_students, s.honours, s.version,
               ARRAY(SELECT code FROM registry.school_specialties WHERE school_code = s.code ORDER BY position),
               ARRAY(SELECT name FROM registry.school_specialties WHERE school_code = s.code ORDER BY position),
               coalesce(s.reviewing_bureau_code, s.city_code),
               i.ids, i.kinds, i.descriptions, i.years, i.recorded_at, i.recorded_by
        FROM registry.schools s
        CROSS JOIN LATERAL (
            SELECT coalesce(array_agg(id ORDER BY id), '{}') AS ids, coalesce(array_agg(kind ORDER BY id), '{}') AS kinds,
                   coalesce(array_agg(description ORDER BY id), '{}') AS descriptions,
                   coalesce(array_agg(year ORDER BY id), '{}') AS years,
                   coalesce(array_agg(recorded_at ORDER BY id), '{}') AS recorded_at,
                   coalesce(array_agg(recorded_by ORDER BY id), '{}') AS recorded_by
            FROM registry.irregularities WHERE school_code = s.code AND $1::boolean
        ) i
        """

    /// GetSchool's statement, prepared once per connection: one school by its code.
    struct SchoolStatement: PostgresPreparedStatement {
        static let name = "registry.school"
        static let sql = schoolSelection + "\nWHERE s.code = $2::text"
        typealias Row = SchoolRow

        var withIrregularities: Bool
        var code: String

        func makeBindings() throws -> PostgresBindings {
            var bindings = PostgresBindings(capacity: 2)
            bindings.append(self.withIrregularities)
            bindings.append(self.code)
            return bindings
        }

        func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(Row.self) }
    }

    /// ListSchools' statement, prepared once per connection: a page of schools after a code,
    /// in code order, by the filters given (each NULL when not given). Its generic plan walks
    /// the schools' key from the page's start, which is what a page of a list needs.
    struct SchoolListStatement: PostgresPreparedStatement {
        static let name = "registry.school_list"
        static let sql =
            schoolSelection + """

                WHERE s.code > $2::text
                  AND ($3::text IS NULL OR s.city_code = $3::text)
                  AND ($4::text IS NULL OR coalesce(s.reviewing_bureau_code, s.city_code) = $4::text)
                  AND ($5::text IS NULL OR s.type = $5::text)
                  AND ($6::text IS NULL OR s.name LIKE $6::text)
                ORDER BY s.code LIMIT $7::bigint
                """
        typealias Row = SchoolRow

        var withIrregularities: Bool
        var after: String
        var cityCode: String?
        var reviewingUnitCode: String?
        var type: String?
        var namePattern: String?
        var limit: Int

        func makeBindings() throws -> PostgresBindings {
            var bindings = PostgresBindings(capacity: 7)
            bindings.append(self.withIrregularities)
            bindings.append(self.after)
            bindings.append(self.cityCode)
            bindings.append(self.reviewingUnitCode)
            bindings.append(self.type)
            bindings.append(self.namePattern)
            bindings.append(self.limit)
            return bindings
        }

        func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(Row.self) }
    }

    private static func school(_ row: SchoolRow) -> Xcert_Registry_V1_School {
        var school = Xcert_Registry_V1_School()
        school.code = row.0
        school.name = row.1
        school.type = SchoolType(rawValue: row.2)?.wire ?? .unspecified
        school.cityCode = row.3
        school.reviewingUnitCode = row.10
        school.specialtyCount = row.4
        school.enrolledStudents = row.5
        school.honours = row.6
        school.version = row.7
        school.specialties = zip(row.8, row.9).map { code, name in
            var specialty = Xcert_Registry_V1_Specialty()
            specialty.code = code
            specialty.name = name
            return specialty
        }
        school.irregularities = row.11.indices.map { index in
            var irregularity = Xcert_Registry_V1_Irregularity()
            irregularity.id = row.11[index]
            irregularity.kind = IrregularityKinds.wire(row.12[index])
            irregularity.description_p = row.13[index]
            irregularity.year = row.14[index]
            irregularity.recordedAt = .init(row.15[index])
            irregularity.recordedBy = row.16[index]
            return irregularity
        }
        return school
    }

    /// Records an irregularity (`kind` as stored) of `school` in `year`, and who recorded it.
    static func addIrregularity(
        school: String, kind: String?, description: String, year: Int32, recordedBy: String,
        _ connection: PostgresConnection, _ logger: Logger
    ) async throws {
        try await connection.query(
            """
            INSERT INTO registry.irregularities (school_code, kind, description, year, recorded_by)
            VALUES (\(school), \(kind), \(description), \(year), \(recordedBy))
            """,
            logger: logger
        )
    }

    /// Creates, updates or (with `upsert`) either. An update may not drop a specialty a
    /// live application or qualification pilots with.
    static func saveSchool(
        _ school: SchoolRecord, creating: Bool, upsert: Bool = false, expectedVersion: Int64 = 0,
        field: (String) -> String, _ connection: PostgresConnection, _ logger: Logger
    ) async throws -> (Outcome, Xcert_Registry_V1_School?) {
        let existing = try await self.findSchool(school.code, withIrregularities: false, connection, logger)
        if let existing {
            if creating && !upsert { throw RPCError(.alreadyExists, "school \(school.code) exists (\(existing.name))") }
            if expectedVersion != 0 && existing.version != expectedVersion {
                throw RPCError(
                    .aborted,
                    """
                    school \(school.code) is at version \(existing.version), not \(expectedVersion): \
                    someone changed it meanwhile; read it again
                    """
                )
            }
            if SchoolRecord.stored(existing) == school { return (.unchanged, existing) }
            let kept = Set(school.specialties.map(\.code))
            let dropped = try await connection.query(
                """
                SELECT DISTINCT code FROM registry.pilot_applications a, unnest(a.specialty_codes) AS code
                WHERE a.school_code = \(school.code) AND a.state <> 'rejected' AND NOT (code = ANY(\(Array(kept))))
                ORDER BY code
                """,
                logger: logger
            )
            var inUse: [String] = []
            for try await code in dropped.decode(String.self) { inUse.append(code) }
            if !inUse.isEmpty {
                throw RPCError(
                    .failedPrecondition,
                    "school \(school.code) pilots with specialties \(inUse.joined(separator: ", ")); they cannot be removed",
                    fieldViolations: [
                        .init(
                            field: field("specialties"),
                            description: "must keep \(inUse.joined(separator: ", ")), which pilot applications refer to")
                    ])
            }
        } else if !creating && !upsert {
            throw RPCError(.notFound, "there is no school \(school.code)")
        }
        guard try await !self.cities(codes: [school.cityCode], connection, logger).isEmpty else {
            throw RPCError.invalidArgument([
                .init(field: field("city_code"), description: "there is no city \(school.cityCode); create it first")
            ])
        }
        // Its city reviews it unless the province put it under a designated bureau.
        let bureau = school.reviewingUnitCode == school.cityCode ? nil : school.reviewingUnitCode
        if let bureau, try await !self.reviewingUnits(codes: [bureau], connection, logger).contains(where: \.designated) {
            throw RPCError.invalidArgument([
                .init(
                    field: field("reviewing_unit_code"),
                    description: "there is no designated bureau \(bureau); a school is reviewed by its city (\(school.cityCode)) or one")
            ])
        }
        try await connection.query(
            """
            INSERT INTO registry.schools (code, name, type, city_code, reviewing_bureau_code, specialty_count, enrolled_students, honours)
            VALUES (\(school.code), \(school.name), \(school.type.rawValue), \(school.cityCode), \(bureau), \(school.specialtyCount),
                    \(school.enrolledStudents), \(school.honours))
            ON CONFLICT (code) DO UPDATE SET name = excluded.name, type = excluded.type, city_code = excluded.city_code,
                reviewing_bureau_code = excluded.reviewing_bureau_code,
                specialty_count = excluded.specialty_count, enrolled_students = excluded.enrolled_students,
                honours = excluded.honours, version = registry.schools.version + 1, updated_at = now()
            """,
            logger: logger
        )
        try await connection.query("DELETE FROM registry.school_specialties WHERE school_code = \(school.code)", logger: logger)
        try await connection.query(
            """
            INSERT INTO registry.school_specialties (school_code, code, name, position)
            SELECT \(school.code), c, n, p
            FROM unnest(\(school.specialties.map(\.code))::text[], \(school.specialties.map(\.name))::text[]) WITH ORDINALITY AS s(c, n, p)
            """,
            logger: logger
        )
        return (existing == nil ? .created : .updated, nil)
    }

    // MARK: - Organizations

    static func organizations(
        ids: [Int64]? = nil, names: [String]? = nil, nameContains: String? = nil, after: Int64 = 0, limit: Int = 10_000,
        _ connection: PostgresConnection, _ logger: Logger
    ) async throws -> [Xcert_Registry_V1_Organization] {
        let pattern = nameContains.map(likePattern(containing:))
        let rows = try await connection.query(
            """
            SELECT o.id, o.name, o.fax, o.address, o.postcode, o.version,
                   ARRAY(SELECT name FROM registry.organization_contacts WHERE organization_id = o.id ORDER BY position),
                   ARRAY(SELECT office_phone FROM registry.organization_contacts WHERE organization_id = o.id ORDER BY position),
                   ARRAY(SELECT mobile FROM registry.organization_contacts WHERE organization_id = o.id ORDER BY position),
                   ARRAY(SELECT email FROM registry.organization_contacts WHERE organization_id = o.id ORDER BY position),
                   o.standing
            FROM registry.organizations o
            WHERE o.id > \(after)
              AND (\(ids)::bigint[] IS NULL OR o.id = ANY(\(ids)))
              AND (\(names)::text[] IS NULL OR o.name = ANY(\(names)))
              AND (\(pattern)::text IS NULL OR o.name LIKE \(pattern))
            ORDER BY o.id LIMIT \(limit)
            """,
            logger: logger
        )
        var organizations: [Xcert_Registry_V1_Organization] = []
        for try await row in rows.decode(
            (Int64, String, String, String, String, Int64, [String], [String], [String], [String], String).self)
        {
            var organization = Xcert_Registry_V1_Organization()
            organization.id = row.0
            organization.name = row.1
            organization.fax = row.2
            organization.address = row.3
            organization.postcode = row.4
            organization.version = row.5
            organization.contacts = row.6.indices.map { index in
                var contact = Xcert_Registry_V1_Contact()
                contact.name = row.6[index]
                contact.officePhone = row.7[index]
                contact.mobile = row.8[index]
                contact.email = row.9[index]
                return contact
            }
            organization.standing = OrganizationStanding(rawValue: row.10)?.wire ?? .unspecified
            organizations.append(organization)
        }
        // The latest decision about each organization whose standing ever changed.
        if !organizations.isEmpty {
            let latest = try await OversightStore.changes(where: .latest(of: organizations.map(\.id)), connection, logger)
            let byOrganization = Dictionary(uniqueKeysWithValues: latest.map { ($0.organizationID, $0) })
            for index in organizations.indices {
                if let change = byOrganization[organizations[index].id] { organizations[index].standingChange = change }
            }
        }
        return organizations
    }

    /// Saves an organization: `id` 0 creates it (or, with `upsert`, updates the one of the same name).
    static func saveOrganization(
        _ organization: OrganizationRecord, id: Int64, upsert: Bool = false, expectedVersion: Int64 = 0,
        _ connection: PostgresConnection, _ logger: Logger
    ) async throws -> (Outcome, Int64) {
        let sameName = try await self.organizations(names: [organization.name], connection, logger).first
        var existing: Xcert_Registry_V1_Organization?
        if id != 0 {
            existing = try await self.organizations(ids: [id], connection, logger).first
            guard existing != nil else { throw RPCError(.notFound, "there is no organization \(id)") }
            if let sameName, sameName.id != id {
                throw RPCError(.alreadyExists, "organization \(sameName.id) is already named \(organization.name)")
            }
        } else if let sameName {
            guard upsert else { throw RPCError(.alreadyExists, "organization \(sameName.id) is already named \(organization.name)") }
            existing = sameName
        }
        if let existing {
            if expectedVersion != 0 && existing.version != expectedVersion {
                throw RPCError(
                    .aborted,
                    """
                    organization \(existing.id) is at version \(existing.version), not \(expectedVersion): \
                    someone changed it meanwhile; read it again
                    """
                )
            }
            if OrganizationRecord.stored(existing) == organization { return (.unchanged, existing.id) }
        }
        let rows = try await connection.query(
            existing == nil
                ? """
                INSERT INTO registry.organizations (name, fax, address, postcode)
                VALUES (\(organization.name), \(organization.fax), \(organization.address), \(organization.postcode))
                RETURNING id
                """
                : """
                UPDATE registry.organizations SET name = \(organization.name), fax = \(organization.fax), address = \(organization.address),
                    postcode = \(organization.postcode), version = version + 1
                WHERE id = \(existing?.id) RETURNING id
                """,
            logger: logger
        )
        var savedID: Int64 = 0
        for try await value in rows.decode(Int64.self) { savedID = value }
        try await connection.query("DELETE FROM registry.organization_contacts WHERE organization_id = \(savedID)", logger: logger)
        let contacts = organization.contacts
        try await connection.query(
            """
            INSERT INTO registry.organization_contacts (organization_id, position, name, office_phone, mobile, email)
            SELECT \(savedID), p, n, o, m, e
            FROM unnest(\(contacts.map(\.name))::text[], \(contacts.map(\.officePhone))::text[], \(contacts.map(\.mobile))::text[],
                        \(contacts.map(\.email))::text[]) WITH ORDINALITY AS c(n, o, m, e, p)
            """,
            logger: logger
        )
        return (existing == nil ? .created : .updated, savedID)
    }

    // MARK: - Certificates

    static func certificates(
        codes: [String]? = nil, organizationID: Int64? = nil, batch: Int32? = nil, nameContains: String? = nil,
        after: String = "", limit: Int = 10_000, _ connection: PostgresConnection, _ logger: Logger
    ) async throws -> [Xcert_Registry_V1_Certificate] {
        let pattern = nameContains.map(likePattern(containing:))
        let rows = try await connection.query(
            """
            SELECT c.code, c.name, c.batch, c.levels, coalesce(c.organization_id, 0), coalesce(o.name, ''),
                   c.component_names, c.component_weights, c.pass_mark, c.version
            FROM registry.certificates c LEFT JOIN registry.organizations o ON o.id = c.organization_id
            WHERE c.code > \(after)
              AND (\(codes)::text[] IS NULL OR c.code = ANY(\(codes)))
              AND (\(organizationID)::bigint IS NULL OR c.organization_id = \(organizationID))
              AND (\(batch)::integer IS NULL OR c.batch = \(batch))
              AND (\(pattern)::text IS NULL OR c.name LIKE \(pattern))
            ORDER BY c.code LIMIT \(limit)
            """,
            logger: logger
        )
        var certificates: [Xcert_Registry_V1_Certificate] = []
        for try await row in rows.decode((String, String, Int32, [Int32], Int64, String, [String], [Int32], Int32, Int64).self) {
            var certificate = Xcert_Registry_V1_Certificate()
            certificate.code = row.0
            certificate.name = row.1
            certificate.batch = row.2
            certificate.levels = CertificateLevel.wire(stored: row.3)
            certificate.organizationID = row.4
            certificate.organizationName = row.5
            certificate.scoring.components = zip(row.6, row.7).map { name, weight in
                var component = Xcert_Registry_V1_ScoringComponent()
                component.name = name
                component.weightPercent = weight
                return component
            }
            certificate.scoring.passMark = row.8
            certificate.version = row.9
            certificates.append(certificate)
        }
        return certificates
    }

    static func certificate(
        _ code: String, _ connection: PostgresConnection, _ logger: Logger
    ) async throws -> Xcert_Registry_V1_Certificate {
        guard let certificate = try await self.certificates(codes: [code], connection, logger).first else {
            throw RPCError(.notFound, "there is no certificate \(code)")
        }
        return certificate
    }

    static func saveCertificate(
        _ certificate: CertificateRecord, creating: Bool, upsert: Bool = false, expectedVersion: Int64 = 0,
        field: (String) -> String, _ connection: PostgresConnection, _ logger: Logger
    ) async throws -> Outcome {
        let existing = try await self.certificates(codes: [certificate.code], connection, logger).first
        if let existing {
            if creating && !upsert { throw RPCError(.alreadyExists, "certificate \(certificate.code) exists (\(existing.name))") }
            if expectedVersion != 0 && existing.version != expectedVersion {
                throw RPCError(
                    .aborted,
                    """
                    certificate \(certificate.code) is at version \(existing.version), not \(expectedVersion): \
                    someone changed it meanwhile; read it again
                    """
                )
            }
            if CertificateRecord.stored(existing) == certificate { return .unchanged }
            // A level that applications or sites use stays.
            let used = try await connection.query(
                """
                SELECT DISTINCT level FROM (
                    SELECT unnest(levels) AS level FROM registry.pilot_applications
                    WHERE certificate_code = \(certificate.code) AND state <> 'rejected'
                    UNION SELECT unnest(levels) FROM registry.assessment_sites WHERE certificate_code = \(certificate.code)
                ) used WHERE NOT (level = ANY(\(certificate.levels))) ORDER BY level
                """,
                logger: logger
            )
            var inUse: [String] = []
            for try await level in used.decode(Int32.self) {
                inUse.append(CertificateLevel(rawValue: Int(level))?.chineseName ?? "\(level)")
            }
            if !inUse.isEmpty {
                throw RPCError(
                    .failedPrecondition,
                    """
                    certificate \(certificate.code) is applied for or examined at \(inUse.joined(separator: ", ")); \
                    those levels cannot be removed
                    """,
                    fieldViolations: [
                        .init(
                            field: field("levels"),
                            description: "must keep \(inUse.joined(separator: ", ")), which applications or sites use")
                    ])
            }
        } else if !creating && !upsert {
            throw RPCError(.notFound, "there is no certificate \(certificate.code)")
        }
        let clash = try await connection.query(
            "SELECT code FROM registry.certificates WHERE name = \(certificate.name) AND code <> \(certificate.code)", logger: logger)
        for try await other in clash.decode(String.self) {
            throw RPCError.invalidArgument([
                .init(field: field("name"), description: "certificate \(other) is already named \(certificate.name)")
            ])
        }
        if let organization = certificate.organizationID, try await self.organizations(ids: [organization], connection, logger).isEmpty {
            throw RPCError.invalidArgument([.init(field: field("organization_id"), description: "there is no organization \(organization)")]
            )
        }
        try await connection.query(
            """
            INSERT INTO registry.certificates (code, name, batch, levels, organization_id, component_names, component_weights, pass_mark)
            VALUES (\(certificate.code), \(certificate.name), \(certificate.batch), \(certificate.levels), \(certificate.organizationID),
                    \(certificate.scoring.components.map(\.name)), \(certificate.scoring.components.map { Int32($0.weightPercent) }),
                    \(Int32(certificate.scoring.passMark)))
            ON CONFLICT (code) DO UPDATE SET name = excluded.name, batch = excluded.batch, levels = excluded.levels,
                organization_id = excluded.organization_id, component_names = excluded.component_names,
                component_weights = excluded.component_weights, pass_mark = excluded.pass_mark,
                version = registry.certificates.version + 1
            """,
            logger: logger
        )
        return existing == nil ? .created : .updated
    }
}

/// A LIKE pattern matching names that contain `text` literally.
func likePattern(containing text: String) -> String {
    let escaped = text.replacingOccurrences(of: "\\", with: "\\\\")
        .replacingOccurrences(of: "%", with: "\\%")
        .replacingOccurrences(of: "_", with: "\\_")
    return "%" + escaped + "%"
}

/// `IrregularityKind` as the database keeps it.
enum IrregularityKinds {
    static func stored(_ kind: Xcert_Registry_V1_IrregularityKind) -> String? {
        switch kind {
        case .trainingOrFacilities: "training_or_facilities"
        case .fundsMisused: "funds_misused"
        case .reformDefects: "reform_defects"
        case .other: "other"
        default: nil
        }
    }

    static func wire(_ stored: String) -> Xcert_Registry_V1_IrregularityKind {
        switch stored {
        case "training_or_facilities": .trainingOrFacilities
        case "funds_misused": .fundsMisused
        case "reform_defects": .reformDefects
        default: .other
        }
    }
}
