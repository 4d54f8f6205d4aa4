import XCertDomain
import XCertProto
import XCertService
import XCertWire

/// A yearly report's content (003 appendix 2), checked line by line: each problem is a
/// field violation named as the organization's program sent it (`exams[2].province.passed`).
/// The certificates it names are checked against the organization's own afterwards.
enum ReportContentChecks {
    static func check(_ content: Xcert_Filing_V1_YearlyReportContent, _ checks: inout FieldChecks) {
        checks.require(
            !content.exams.isEmpty, "content.exams", "must list each certificate level the organization examined (一、1 证书申报与考核情况)")
        var examLines = Set<String>()
        for (index, line) in content.exams.enumerated() {
            let field = "content.exams[\(index)]"
            self.certificateLevel(line.certificateCode, line.level, field, &checks)
            checks.require(
                examLines.insert("\(line.certificateCode)/\(line.level.rawValue)").inserted, field,
                "lists \(line.certificateCode) at this level a second time")
            self.counts(line.national, "\(field).national", &checks)
            self.counts(line.province, "\(field).province", &checks)
            for (name, national, province) in [
                ("declared", line.national.declared, line.province.declared), ("approved", line.national.approved, line.province.approved),
                ("completed", line.national.completed, line.province.completed), ("passed", line.national.passed, line.province.passed),
            ] where province > national {
                checks.fail("\(field).province.\(name)", "\(province) in the province is more than the \(national) nationally")
            }
        }
        for (index, training) in content.trainings.enumerated() {
            let field = "content.trainings[\(index)]"
            self.text(training.name, "\(field).name", 200, &checks)
            self.date(training.startDate, "\(field).start_date", &checks)
            checks.require((1...365).contains(training.days), "\(field).days", "must be 1 to 365 days")
            self.text(training.place, "\(field).place", 200, &checks)
            checks.require(training.participantsNational >= 0, "\(field).participants_national", "must not be negative")
            checks.require(
                (0...max(0, training.participantsNational)).contains(training.participantsProvince), "\(field).participants_province",
                "must be 0 to the national participants, \(training.participantsNational)")
        }
        for (index, site) in content.sites.enumerated() {
            let field = "content.sites[\(index)]"
            self.certificateLevel(site.certificateCode, site.level, field, &checks)
            checks.require(site.sitesNational >= 0, "\(field).sites_national", "must not be negative")
            checks.require(
                (0...max(0, site.sitesNational)).contains(site.sitesProvince), "\(field).sites_province",
                "must be 0 to the national sites, \(site.sitesNational)")
            checks.require(site.candidatesAssessed >= 0, "\(field).candidates_assessed", "must not be negative")
            checks.require(site.examSessions >= 0, "\(field).exam_sessions", "must not be negative")
        }
        for (index, fee) in content.fees.enumerated() {
            let field = "content.fees[\(index)]"
            self.certificateLevel(fee.certificateCode, fee.level, field, &checks)
            checks.require(fee.completed >= 0, "\(field).completed", "must not be negative")
            checks.require(fee.receivable.fen >= 0, "\(field).receivable.fen", "must not be negative")
            checks.require(
                (0...max(0, fee.receivable.fen)).contains(fee.received.fen), "\(field).received.fen",
                "must be 0 to the receivable, \(Money(fen: fee.receivable.fen))")
            // Checked arithmetic: the amounts are the caller's, any Int64 at all.
            if let outstanding = Money(fen: fee.receivable.fen).subtracting(Money(fen: fee.received.fen)) {
                checks.require(
                    fee.outstanding.fen == outstanding.fen, "\(field).outstanding.fen",
                    "must be receivable − received, \(outstanding.fen) fen; not \(fee.outstanding.fen)")
            } else {
                checks.fail("\(field).received.fen", "receivable − received does not fit in 64-bit fen")
            }
        }
        for (index, resource) in content.resources.enumerated() {
            let field = "content.resources[\(index)]"
            self.certificateLevel(resource.certificateCode, resource.level, field, &checks)
            checks.require(resource.publishedTextbooks >= 0, "\(field).published_textbooks", "must not be negative")
            checks.require(resource.questionBankSize >= 0, "\(field).question_bank_size", "must not be negative")
            checks.require(resource.mockPapers >= 0, "\(field).mock_papers", "must not be negative")
        }
        for (index, book) in content.textbooks.enumerated() {
            let field = "content.textbooks[\(index)]"
            self.text(book.title, "\(field).title", 200, &checks)
            checks.require((1...5).contains(book.authors.count), "\(field).authors", "must name the first one to five authors (参编人员前五)")
            for (position, author) in book.authors.enumerated() { self.text(author, "\(field).authors[\(position)]", 50, &checks) }
            self.text(book.publisher, "\(field).publisher", 100, &checks)
            self.date(book.publishedOn, "\(field).published_on", &checks)
            self.certificateLevel(book.certificateCode, book.level, field, &checks)
        }
        checks.require(content.narrative.count <= 50_000, "content.narrative", "must be at most 50,000 characters")
    }

    /// Every certificate code the content names, with where.
    static func certificates(_ content: Xcert_Filing_V1_YearlyReportContent) -> [(field: String, code: String)] {
        content.exams.enumerated().map { ("content.exams[\($0)].certificate_code", $1.certificateCode) }
            + content.sites.enumerated().map { ("content.sites[\($0)].certificate_code", $1.certificateCode) }
            + content.fees.enumerated().map { ("content.fees[\($0)].certificate_code", $1.certificateCode) }
            + content.resources.enumerated().map { ("content.resources[\($0)].certificate_code", $1.certificateCode) }
            + content.textbooks.enumerated().map { ("content.textbooks[\($0)].certificate_code", $1.certificateCode) }
    }

    /// Fills in what is computed: each exam line's pass rates.
    static func withRates(_ content: Xcert_Filing_V1_YearlyReportContent) -> Xcert_Filing_V1_YearlyReportContent {
        var content = content
        for index in content.exams.indices {
            for keyPath in [\Xcert_Filing_V1_ExamLine.national, \.province] {
                var counts = content.exams[index][keyPath: keyPath]
                counts.clearPassRate()
                if counts.completed > 0 {
                    counts.passRate.numerator = counts.passed
                    counts.passRate.denominator = counts.completed
                }
                content.exams[index][keyPath: keyPath] = counts
            }
        }
        return content
    }

    private static func counts(_ counts: Xcert_Filing_V1_CandidateCounts, _ field: String, _ checks: inout FieldChecks) {
        checks.require(counts.declared >= 0, "\(field).declared", "must not be negative")
        checks.require(
            (0...max(0, counts.declared)).contains(counts.approved), "\(field).approved", "must be 0 to the declared, \(counts.declared)")
        checks.require(
            (0...max(0, counts.approved)).contains(counts.completed), "\(field).completed", "must be 0 to the approved, \(counts.approved)")
        checks.require(
            (0...max(0, counts.completed)).contains(counts.passed), "\(field).passed", "must be 0 to the completed, \(counts.completed)")
    }

    private static func certificateLevel(
        _ code: String, _ level: Xcert_Common_V1_CertificateLevel, _ field: String, _ checks: inout FieldChecks
    ) {
        checks.require(code.isCertificateCode, "\(field).certificate_code", "must be a certificate's code as the registry has it, e.g. BIM")
        checks.require(CertificateLevel(wire: level) != nil, "\(field).level", "must be ELEMENTARY, INTERMEDIATE or ADVANCED")
    }

    private static func text(_ value: String, _ field: String, _ maximum: Int, _ checks: inout FieldChecks) {
        checks.require((1...maximum).contains(value.trimmed.count), field, "must be 1 to \(maximum) characters")
    }

    private static func date(_ date: Xcert_Common_V1_Date, _ field: String, _ checks: inout FieldChecks) {
        checks.require(
            LocalDate(year: Int(date.year), month: Int(date.month), day: Int(date.day)) != nil, field,
            "must be a real date (year, month, day)")
    }
}
