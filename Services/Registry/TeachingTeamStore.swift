import Foundation
import Logging
import PostgresNIO
import XCertDomain
import XCertProto
import XCertService
import XCertWire

/// The registry's SQL for schools' specialty teaching teams (eligibility to pilot).
enum TeachingTeamStore {
    /// The teams `school` recorded, by specialty code.
    static func teams(school: String, _ connection: PostgresConnection, _ logger: Logger) async throws -> [Xcert_Registry_V1_TeachingTeam] {
        let rows = try await connection.query(
            """
            SELECT specialty_code, teachers, dual_qualified_teachers, industry_experts, continuous_enrolment_years, eligible,
                   recorded_at, recorded_by
            FROM registry.teaching_teams WHERE school_code = \(school) ORDER BY specialty_code
            """,
            logger: logger
        )
        var teams: [Xcert_Registry_V1_TeachingTeam] = []
        for try await row in rows.decode((String, Int32, Int32, Int32, Int32, Bool, Date, String).self) {
            var team = Xcert_Registry_V1_TeachingTeam()
            team.specialtyCode = row.0
            team.teachers = row.1
            team.dualQualifiedTeachers = row.2
            team.industryExperts = row.3
            team.continuousEnrolmentYears = row.4
            team.eligible = row.5
            team.recordedAt = .init(row.6)
            team.recordedBy = row.7
            teams.append(team)
        }
        return teams
    }

    /// Records (or records again) the teams of `school`'s specialties, with the rule's verdict.
    static func save(
        _ teams: [SpecialtyEligibility], school: String, recordedBy: String, _ connection: PostgresConnection, _ logger: Logger
    ) async throws {
        for team in teams {
            try await connection.query(
                """
                INSERT INTO registry.teaching_teams (school_code, specialty_code, teachers, dual_qualified_teachers, industry_experts,
                    continuous_enrolment_years, eligible, recorded_by)
                VALUES (\(school), \(team.specialtyCode), \(team.teachers), \(team.dualQualifiedTeachers), \(team.industryExperts),
                        \(team.continuousEnrolmentYears), \(team.isEligible), \(recordedBy))
                ON CONFLICT (school_code, specialty_code) DO UPDATE SET teachers = excluded.teachers,
                    dual_qualified_teachers = excluded.dual_qualified_teachers, industry_experts = excluded.industry_experts,
                    continuous_enrolment_years = excluded.continuous_enrolment_years, eligible = excluded.eligible,
                    recorded_by = excluded.recorded_by, recorded_at = now()
                """,
                logger: logger
            )
        }
    }
}

extension SpecialtyEligibility {
    /// A recorded team, as the rule reads it.
    init(_ team: Xcert_Registry_V1_TeachingTeam) {
        self.init(
            specialtyCode: team.specialtyCode, teachers: Int(team.teachers), dualQualifiedTeachers: Int(team.dualQualifiedTeachers),
            industryExperts: Int(team.industryExperts), continuousEnrolmentYears: Int(team.continuousEnrolmentYears))
    }
}
