import Foundation

extension Migration {
    /// The province's reviewing units (审核单位) beyond its cities: bureaus it designates
    /// (003 is sent to 赣江新区社会发展局 beside the cities; 004 to the bureaus of 杨凌示范区,
    /// 西咸新区, 韩城市, 神木市 and 府谷县), each reviewing the secondary schools put under it.
    /// A school under no bureau is reviewed by its city, as before.
    static let v17ReviewingUnits = Migration(
        version: 17,
        name: "reviewing units",
        statements: [
            """
            CREATE TABLE registry.reviewing_bureaus (
                code text PRIMARY KEY CHECK (code ~ '^[0-9]{6}$'),
                name text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 50),
                created_at timestamptz NOT NULL DEFAULT now(),
                updated_at timestamptz NOT NULL DEFAULT now()
            )
            """,
            "ALTER TABLE registry.schools ADD COLUMN reviewing_bureau_code text REFERENCES registry.reviewing_bureaus (code)",
            "CREATE INDEX schools_reviewing_bureau ON registry.schools (reviewing_bureau_code) WHERE reviewing_bureau_code IS NOT NULL",
        ] + AnalyticsViews.pilotQualifications.replacingStatements
    )
}

extension AnalyticsViews {
    /// `analytics.pilot_qualifications` since V17: V13's columns, then the school's reviewing unit.
    static let pilotQualifications = AnalyticsView(
        name: "pilot_qualifications",
        comment: "Schools' pilot qualifications (试点资格) per certificate and year, revoked ones included.",
        select: """
            SELECT q.id AS qualification_id, q.year, q.school_code, s.name AS school_name, s.type AS school_type, s.city_code,
                   q.certificate_code, c.name AS certificate_name,
                   (SELECT string_agg(\(levelName("l")), '、' ORDER BY l) FROM unnest(q.levels) AS l) AS levels,
                   array_to_string(q.specialty_codes, ', ') AS specialty_codes, q.student_scale, q.granted_at,
                   q.revoked_at, q.revocation_reason, q.revoked_at IS NULL AS in_force,
                   coalesce(s.reviewing_bureau_code, s.city_code) AS reviewing_unit_code,
                   coalesce(b.name, city.name) AS reviewing_unit_name
            FROM registry.qualifications q
            JOIN registry.schools s ON s.code = q.school_code
            JOIN registry.cities city ON city.code = s.city_code
            LEFT JOIN registry.reviewing_bureaus b ON b.code = s.reviewing_bureau_code
            JOIN registry.certificates c ON c.code = q.certificate_code
            """,
        columns: [
            ("qualification_id", "the qualification's id"), ("year", "pilot year"), ("school_code", "the school's national code"),
            ("school_name", "试点院校名称"), ("school_type", "secondary_vocational, higher_vocational, …"), ("city_code", "设区市 code"),
            ("certificate_code", "certificate code"), ("certificate_name", "证书名称"), ("levels", "the levels granted, e.g. 初级、中级"),
            ("specialty_codes", "the specialties (专业) it covers"), ("student_scale", "试点规模: students in the pilot"),
            ("granted_at", "when granted"), ("revoked_at", "when revoked; NULL while in force"), ("revocation_reason", "why revoked"),
            ("in_force", "true while not revoked"),
            ("reviewing_unit_code", "审核单位 code: the school's city, or the bureau the province designated for it"),
            ("reviewing_unit_name", "审核单位: e.g. 南昌市 or 赣江新区社会发展局"),
        ]
    )
}
