import Foundation
import Testing
import XCertAPI
import XCertDomain
import XCertProto
import XCertService
import XCertTestSupport
import XCertWire

@Suite(
    "Filing: results on public notice (成绩公示), objections and answers, final results",
    .enabled(if: TestCluster.isConfigured, "needs the PostgreSQL that scripts/test starts"), .timeLimit(.minutes(3)))
struct ResultNoticeTests {
    @Test(
        """
        registered → on notice → final: the window from the province's policy; objections by the candidate's school during it, \
        answered by a correcting roster or a reasoned rejection; no close while the window runs or an objection is open at its end; \
        a notice the province records as held earlier; the views and xctl
        """
    )
    func noticeObjectionsAndClose() async throws {
        try await withFilingStack { h in
            let world = try await h.rosterWorld()
            let method = Xcert_Filing_V1_ResultNoticeService.Method.self
            let school = try await h.token(role: "school", party: "4136010001")
            let otherSchool = try await h.token(role: "school", party: "4136010003")
            // Session 1 on 15 June: four of 4136010001, two of 4136010003.
            let roster = try await h.createRoster(token: world.car)
            _ = try await h.upload(
                roster.id, chunk: 0, (0..<4).map { Candidates.row($0) } + (4..<6).map { Candidates.row($0, school: "4136010003") },
                token: world.car)
            _ = try await h.seal(roster.id, token: world.car)
            var get = Xcert_Filing_V1_GetNoticeRequest()
            get.rosterID = roster.id
            #expect(try await h.call(method.getNotice, get, token: school).state == .registered, "the notice is public: a school reads it")

            // No window set for 2026: refused. The province sets 5 days; an organization may not.
            var start = Xcert_Filing_V1_StartNoticeRequest()
            start.rosterID = roster.id
            #expect(await h.refusal(method.startNotice, start, token: world.car)?.code == .failedPrecondition)
            var policy = Xcert_Filing_V1_SetNoticePolicyRequest()
            policy.policy.year = 2026
            policy.policy.days = 5
            #expect(await h.refusal(method.setNoticePolicy, policy, token: world.car)?.code == .permissionDenied)
            policy.policy.days = 31
            #expect(await h.refusal(method.setNoticePolicy, policy, token: h.admin)?.fieldViolations.map(\.field) == ["policy.days"])
            policy.policy.days = 5
            _ = try await h.call(method.setNoticePolicy, policy, token: h.admin)

            // The organization puts it on notice from today (only the province records an earlier start).
            var backdated = start
            backdated.startsOn = LocalDate(year: 2026, month: 6, day: 20)!.wire
            backdated.reason = "已在官网公示"
            #expect(await h.refusal(method.startNotice, backdated, token: world.car)?.code == .permissionDenied)
            let today = LocalDate(containing: Int64(Date().timeIntervalSince1970))
            let onNotice = try await h.call(method.startNotice, start, token: world.car)
            #expect(onNotice.state == .onNotice && onNotice.startsOn == today.wire && onNotice.days == 5)
            #expect(onNotice.endsOn == today.adding(days: 4).wire && !onNotice.workingDays, "no working-day calendar loaded: calendar days")
            #expect(await h.refusal(method.startNotice, start, token: world.car)?.code == .alreadyExists)

            // Objections: a school for its own candidate only; an organization may not object.
            func objection(_ number: Int, _ reason: String) -> Xcert_Filing_V1_LodgeObjectionRequest {
                var request = Xcert_Filing_V1_LodgeObjectionRequest()
                request.rosterID = roster.id
                request.candidateNumber = Candidates.row(number).candidateNumber
                request.reason = reason
                return request
            }
            var evidenced = objection(0, "该生实操成绩录入有误，应为85分")
            var evidence = Xcert_Filing_V1_Attachment()
            evidence.name = "实操评分表.pdf"
            evidence.sizeBytes = 52_000
            evidence.sha256 = String(repeating: "ab", count: 32)
            evidenced.evidence = [evidence]
            let first = try await h.call(method.lodgeObjection, evidenced, token: school)
            #expect(first.state == .open && first.candidateName == "考生0" && first.schoolCode == "4136010001" && first.evidence.count == 1)
            let second = try await h.call(method.lodgeObjection, objection(1, "该生缺考记录有误"), token: school)
            #expect(
                await h.refusal(method.lodgeObjection, objection(0, "非本校学生"), token: otherSchool)?.fieldViolations.map(\.field)
                    == ["candidate_number"])
            #expect(await h.refusal(method.lodgeObjection, objection(0, "x"), token: world.car)?.code == .permissionDenied)
            var empty = objection(2, "")
            empty.evidence = [evidence]
            empty.evidence[0].sha256 = "00"
            #expect(
                await h.refusal(method.lodgeObjection, empty, token: school)?.fieldViolations.map(\.field) == [
                    "reason", "evidence[0].sha256",
                ])

            // The window runs: no close.
            var close = Xcert_Filing_V1_CloseNoticeRequest()
            close.rosterID = roster.id
            #expect(await h.refusal(method.closeNotice, close, token: world.car)?.message.contains("runs until") == true)

            // Answers: the first upheld by a correcting roster sealed since, the second rejected with a reason.
            var answer = Xcert_Filing_V1_AnswerObjectionRequest()
            answer.objectionID = first.id
            #expect(
                await h.refusal(method.answerObjection, answer, token: world.car)?.fieldViolations.map(\.field) == ["correcting_roster_id"],
                "neither a roster nor a reason")
            answer.correctingRosterID = roster.id
            #expect(
                await h.refusal(method.answerObjection, answer, token: world.car)?.fieldViolations.map(\.field) == ["correcting_roster_id"],
                "the roster objected to was sealed before the objection")
            let correction = try await h.createRoster(supersedes: roster.id, reason: "异议更正：考生0实操成绩", token: world.car)
            _ = try await h.upload(
                correction.id, chunk: 0,
                [Candidates.row(0, theory: 800, practical: 850)] + (1..<4).map { Candidates.row($0) }
                    + (4..<6).map { Candidates.row($0, school: "4136010003") }, token: world.car)
            _ = try await h.seal(correction.id, token: world.car)
            answer.correctingRosterID = correction.id
            #expect(await h.refusal(method.answerObjection, answer, token: h.admin)?.code == .permissionDenied, "the organization answers")
            let upheld = try await h.call(method.answerObjection, answer, token: world.car)
            #expect(upheld.state == .corrected && upheld.correctedByRosterID == correction.id)
            #expect(await h.refusal(method.answerObjection, answer, token: world.car)?.code == .failedPrecondition, "answered already")
            var reject = Xcert_Filing_V1_AnswerObjectionRequest()
            reject.objectionID = second.id
            reject.rejectionReason = "经核查考场签到表，该生确未到考"
            #expect(try await h.call(method.answerObjection, reject, token: world.car).state == .rejected)
            let corrected = try await h.call(method.getNotice, get, token: h.admin)
            #expect(corrected.rosterID == correction.id && corrected.objections == 2 && corrected.openObjections == 0)

            // A third objection stays open past the window's end (the window is moved into the past, as the clock would):
            // the close is refused, naming it, until the organization answers.
            let third = try await h.call(method.lodgeObjection, objection(2, "姓名有误"), token: school)
            _ = try await h.postgres.query(
                """
                UPDATE filing.result_notices SET starts_on = current_date - 7, ends_on = current_date - 1
                WHERE session_roster_id = \(roster.id)
                """, logger: testLogger("notices"))
            #expect(await h.refusal(method.lodgeObjection, objection(3, "成绩有误"), token: school)?.message.contains("ended") == true)
            let blocked = try #require(await h.refusal(method.closeNotice, close, token: world.car))
            #expect(blocked.code == .failedPrecondition && blocked.message.contains("\(third.id) (candidate \(third.candidateNumber))"))
            reject.objectionID = third.id
            reject.rejectionReason = "姓名与报名信息一致"
            _ = try await h.call(method.answerObjection, reject, token: world.car)
            let final = try await h.call(method.closeNotice, close, token: world.car)
            #expect(final.state == .final && final.hasClosedAt && !final.closedBy.isEmpty)
            #expect(await h.refusal(method.lodgeObjection, objection(3, "成绩有误"), token: school)?.code == .failedPrecondition)

            // Session 2 on 16 June: the province records a notice held from 20 June, which has ended; it closes at once.
            let roster2 = try await h.createRoster(day: 16, token: world.car)
            _ = try await h.upload(roster2.id, chunk: 0, (10..<12).map { Candidates.row($0) }, token: world.car)
            _ = try await h.seal(roster2.id, token: world.car)
            backdated.rosterID = roster2.id
            backdated.reason = ""
            #expect(await h.refusal(method.startNotice, backdated, token: h.admin)?.fieldViolations.map(\.field) == ["reason"])
            backdated.reason = "已于2026年6月20日在省厅网站公示"
            var early = backdated
            early.startsOn = LocalDate(year: 2026, month: 6, day: 10)!.wire
            #expect(
                await h.refusal(method.startNotice, early, token: h.admin)?.fieldViolations.map(\.field) == ["starts_on"],
                "before the exam")
            let recorded = try await h.call(method.startNotice, backdated, token: h.admin)
            #expect(recorded.endsOn == LocalDate(year: 2026, month: 6, day: 24)!.wire && recorded.startReason == backdated.reason)
            close.rosterID = roster2.id
            #expect(try await h.call(method.closeNotice, close, token: h.admin).state == .final)

            // Session 3 on 17 June: sealed, not on notice.
            let roster3 = try await h.createRoster(day: 17, token: world.car)
            _ = try await h.upload(roster3.id, chunk: 0, [Candidates.row(20)], token: world.car)
            _ = try await h.seal(roster3.id, token: world.car)

            var list = Xcert_Filing_V1_ListNoticesRequest()
            list.year = 2026
            #expect(try await h.call(method.listNotices, list, token: h.admin).notices.map(\.state) == [.final, .final, .registered])
            list.state = .registered
            #expect(try await h.call(method.listNotices, list, token: world.car).notices.map(\.sessionRosterID) == [roster3.id])
            var objections = Xcert_Filing_V1_ListObjectionsRequest()
            objections.year = 2026
            #expect(try await h.call(method.listObjections, objections, token: school).objections.count == 3)
            #expect(try await h.call(method.listObjections, objections, token: otherSchool).objections.isEmpty)

            // The analysts' views say the same.
            let states = try await h.scalar(
                """
                SELECT string_agg(state || ':' || objections, ',' ORDER BY session_roster_id) FROM analytics.result_notices
                WHERE year = 2026
                """, as: String.self)
            #expect(states == "final:3,final:0,registered:0")
            let answered = try await h.scalar(
                "SELECT string_agg(state, ',' ORDER BY objection_id) FROM analytics.result_objections WHERE year = 2026", as: String.self)
            #expect(answered == "corrected,rejected,rejected")

            let xctl = ServiceProcess.binDirectory.appendingPathComponent("xctl").path
            let printed = try await runCommand(
                xctl,
                [
                    "results", "notice", "list", "--year", "2026", "--format", "csv", "--chinese-headers", "--filing",
                    "127.0.0.1:\(try #require(h.filingAddress).port)", "--token", h.admin,
                ])
            #expect(printed.status == 0 && printed.output.contains("考试已结束") && printed.output.contains("成绩登记"), "\(printed.output)")
        }
    }

    @Test(
        """
        final results bring certificates: one per candidate who passed in the roster in force, none for one who failed, numbered per \
        year, certificate and level; each a VC 2.0 JWS the issuer's public JWK verifies (here, with xctl, and with Python's \
        cryptography), bound to its holder's ID; one byte changed and it no longer verifies
        """
    )
    func certificatesOnFinalResults() async throws {
        try await withFilingStack { h in
            let world = try await h.rosterWorld()
            let certificates = Xcert_Filing_V1_CertificateService.Method.self
            // Three of 4136010001 pass and one fails; one of 4136010003 passes.
            let final = try await h.finalSession(
                (0..<3).map { Candidates.row($0, theory: 800, practical: 700) } + [Candidates.row(3, theory: 300, practical: 300)]
                    + [Candidates.row(4, school: "4136010003", theory: 900, practical: 900)], token: world.car)
            #expect(final.state == .final && final.certificates == 4, "\(final)")

            // The issuer's key, with no token.
            let filing = try #require(h.filingClient)
            let issuer = try await filing.unary(certificates.getIssuer, Xcert_Filing_V1_GetIssuerRequest(), options: CallOptions())
            let province = try #require(issuer.id.split(separator: ":").last)
            var list = Xcert_Filing_V1_ListCertificatesRequest()
            list.year = 2026
            let issued = try await h.call(certificates.listCertificates, list, token: h.admin).certificates
            #expect(issued.map(\.number) == (1...4).map { "\(province)-2026-AUTO-1-00000\($0)" })
            #expect(issued.map(\.candidateNumber) == [0, 1, 2, 4].map { Candidates.row($0).candidateNumber }, "not the one who failed")
            #expect(
                issued.allSatisfy {
                    $0.credential.isEmpty && $0.issuedOn == LocalDate(containing: Int64(Date().timeIntervalSince1970)).wire
                })
            let masked = Candidates.row(0).nationalID.prefix(4) + "**********" + Candidates.row(0).nationalID.suffix(4)
            #expect(issued[0].nationalIDMasked == masked && issued[0].holderName == "考生0")
            let otherSchool = try await h.token(role: "school", party: "4136010003")
            #expect(
                try await h.call(certificates.listCertificates, list, token: otherSchool).certificates.map(\.candidateNumber) == [
                    Candidates.row(4).candidateNumber
                ])
            var get = Xcert_Filing_V1_GetCertificateRequest()
            get.number = issued[0].number
            #expect(await h.refusal(certificates.getCertificate, get, token: otherSchool)?.code == .notFound, "not its candidate")
            let certificate = try await h.call(certificates.getCertificate, get, token: world.car)

            // Verified here, bound to its holder, and refused with one byte changed.
            guard case .valid(let payload) = CertificateCredential.verify(certificate.credential, jwk: issuer.publicJwk) else {
                Issue.record("the credential did not verify")
                return
            }
            #expect(CertificateCredential.holds(payload, nationalID: Candidates.row(0).nationalID))
            #expect(!CertificateCredential.holds(payload, nationalID: Candidates.row(1).nationalID))
            var bytes = Array(certificate.credential.utf8)
            let middle = bytes.count / 2
            bytes[middle] = bytes[middle] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
            let tampered = String(decoding: bytes, as: UTF8.self)
            #expect(CertificateCredential.verify(tampered, jwk: issuer.publicJwk) != .valid(payload: payload))

            // The same files through xctl and through Python's cryptography package.
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("xcert-certificates-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: folder) }
            let jwk = folder.appendingPathComponent("issuer.jwk").path
            let file = folder.appendingPathComponent("certificate.jws").path
            let changed = folder.appendingPathComponent("changed.jws").path
            try Data(tampered.utf8).write(to: URL(fileURLWithPath: changed))
            let xctl = ServiceProcess.binDirectory.appendingPathComponent("xctl").path
            let address = "127.0.0.1:\(try #require(h.filingAddress).port)"
            let key = try await runCommand(xctl, ["certificates", "issuer", "--out", jwk, "--filing", address])
            #expect(key.status == 0, "\(key.output)")
            let exported = try await runCommand(
                xctl, ["certificates", "export", issued[0].number, "--out", file, "--filing", address, "--token", world.car])
            #expect(exported.status == 0, "\(exported.output)")
            let verified = try await runCommand(
                xctl, ["certificates", "verify", file, "--issuer-key", jwk, "--national-id", Candidates.row(0).nationalID])
            #expect(verified.status == 0 && verified.output.contains("valid: \(issued[0].number) 考生0"), "\(verified.output)")
            let refused = try await runCommand(xctl, ["certificates", "verify", changed, "--issuer-key", jwk])
            #expect(refused.status == 1 && refused.output.contains("invalid"), "\(refused.output)")
            let python = try await runCommand("/usr/bin/python3", ["-c", Self.pythonVerifier, file, jwk])
            #expect(python.status == 0 && python.output.contains("valid \(issued[0].number) 考生0"), "\(python.output)")
            let pythonRefused = try await runCommand("/usr/bin/python3", ["-c", Self.pythonVerifier, changed, jwk])
            #expect(pythonRefused.status == 1 && pythonRefused.output.contains("invalid"), "\(pythonRefused.output)")

            // Revocation: the province revokes the second with a reason; the status list and the public check show it.
            var revoke = Xcert_Filing_V1_RevokeCertificateRequest()
            revoke.number = issued[1].number
            #expect(await h.refusal(certificates.revokeCertificate, revoke, token: h.admin)?.fieldViolations.map(\.field) == ["reason"])
            revoke.reason = "监测发现该考生由他人代考，成绩无效"
            #expect(await h.refusal(certificates.revokeCertificate, revoke, token: world.car)?.code == .permissionDenied)
            let revoked = try await h.call(certificates.revokeCertificate, revoke, token: h.admin)
            #expect(revoked.revoked && revoked.revocationReason == revoke.reason && revoked.hasRevokedAt)
            #expect(await h.refusal(certificates.revokeCertificate, revoke, token: h.admin)?.code == .failedPrecondition)
            let statusList = try await filing.unary(
                certificates.getStatusList, Xcert_Filing_V1_GetStatusListRequest(), options: CallOptions())
            #expect(statusList.revoked == 1)
            guard case .valid(let list) = CertificateCredential.verify(statusList.credential, jwk: issuer.publicJwk) else {
                Issue.record("the status list did not verify")
                return
            }
            get.number = issued[1].number
            let second = try await h.call(certificates.getCertificate, get, token: h.admin)
            guard case .valid(let secondPayload) = CertificateCredential.verify(second.credential, jwk: issuer.publicJwk) else {
                Issue.record("the second credential did not verify")
                return
            }
            #expect(CertificateStatusList.isRevoked(certificate: secondPayload, list: list) == true)
            #expect(CertificateStatusList.isRevoked(certificate: payload, list: list) == false)
            func check(_ number: String, _ holder: String) async throws -> Xcert_Filing_V1_VerificationResult {
                var request = Xcert_Filing_V1_VerifyCertificateRequest()
                request.number = number
                request.holderName = holder
                return try await filing.unary(certificates.verifyCertificate, request, options: CallOptions()).result
            }
            #expect(try await check(issued[0].number, "考生0") == .valid)
            #expect(try await check(issued[0].number, "考生1") == .unknown, "another holder's name reveals nothing")
            #expect(try await check(issued[1].number, "考生1") == .revoked)
            #expect(try await check("36-2026-AUTO-1-999999", "考生0") == .unknown)

            // The same offline: xctl with the status list file, and Python reading the GZIP bitstring.
            let listFile = folder.appendingPathComponent("status-list.jws").path
            let secondFile = folder.appendingPathComponent("second.jws").path
            try Data(second.credential.utf8).write(to: URL(fileURLWithPath: secondFile))
            let fetched = try await runCommand(xctl, ["certificates", "status-list", "--out", listFile, "--filing", address])
            #expect(fetched.status == 0 && fetched.output.contains("1 revoked"), "\(fetched.output)")
            let stillValid = try await runCommand(xctl, ["certificates", "verify", file, "--issuer-key", jwk, "--status-list", listFile])
            #expect(stillValid.status == 0 && stillValid.output.hasPrefix("valid"), "\(stillValid.output)")
            let revokedOffline = try await runCommand(
                xctl, ["certificates", "verify", secondFile, "--issuer-key", jwk, "--status-list", listFile])
            #expect(
                revokedOffline.status == 2 && revokedOffline.output.contains("revoked: \(issued[1].number)"), "\(revokedOffline.output)")
            let checked = try await runCommand(xctl, ["certificates", "check", issued[1].number, "--holder", "考生1", "--filing", address])
            #expect(checked.status == 2 && checked.output.contains("revoked"), "\(checked.output)")
            for (credential, expected) in [(file, "in force"), (secondFile, "revoked")] {
                let python = try await runCommand("/usr/bin/python3", ["-c", Self.pythonStatusCheck, credential, listFile, jwk])
                #expect(python.status == 0 && python.output.contains(expected), "\(python.output)")
            }
        }
    }

    @Test("the public check of a certificate draws on its caller's address's limit of calls without a token")
    func publicCheckIsLimited() async throws {
        try await withFullStack(environment: ["XCERT_LIMIT_UNAUTHENTICATED_PER_SECOND": "1", "XCERT_LIMIT_UNAUTHENTICATED_BURST": "3"]) {
            stack in
            let filing = testClient(port: stack.filing.port)
            defer { Task { await filing.close() } }
            var request = Xcert_Filing_V1_VerifyCertificateRequest()
            request.number = "36-2026-AUTO-1-000001"
            request.holderName = "考生0"
            var answers: [String] = []
            for _ in 0..<5 {
                do {
                    let answer = try await filing.unary(
                        Xcert_Filing_V1_CertificateService.Method.verifyCertificate, request, options: CallOptions())
                    answers.append("\(answer.result)")
                } catch let error as RPCError {
                    answers.append("\(error.code)")
                }
            }
            #expect(answers.prefix(3).allSatisfy { $0 == "\(Xcert_Filing_V1_VerificationResult.unknown)" }, "\(answers)")
            #expect(answers.last == "\(RPCError.Code.resourceExhausted)", "\(answers)")
        }
    }

    /// The revocation status from another stack: the list's signature, then its GZIP bitstring
    /// (W3C Bitstring Status List), read with Python's own gzip.
    static let pythonStatusCheck = """
        import base64, gzip, json, sys
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
        def b64(text): return base64.urlsafe_b64decode(text + '=' * (-len(text) % 4))
        def payload(path, key):
            header, body, signature = open(path).read().strip().split('.')
            Ed25519PublicKey.from_public_bytes(b64(key['x'])).verify(b64(signature), (header + '.' + body).encode())
            return json.loads(b64(body))
        key = json.load(open(sys.argv[3]))
        certificate, status_list = payload(sys.argv[1], key), payload(sys.argv[2], key)
        entry = certificate['credentialStatus']
        assert entry['type'] == 'BitstringStatusListEntry' and entry['statusListCredential'] == status_list['id']
        assert 'BitstringStatusListCredential' in status_list['type']
        encoded = status_list['credentialSubject']['encodedList']
        bits = gzip.decompress(b64(encoded[1:]))
        index = int(entry['statusListIndex'])
        print('revoked' if bits[index // 8] & (0x80 >> (index % 8)) else 'in force', len(bits))
        """

    /// A verifier from another stack: Python's `cryptography` (Ed25519) and the JWS and VC 2.0
    /// forms as the standards write them.
    static let pythonVerifier = """
        import base64, json, sys
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
        def b64(text): return base64.urlsafe_b64decode(text + '=' * (-len(text) % 4))
        jws = open(sys.argv[1]).read().strip()
        jwk = json.load(open(sys.argv[2]))
        try:
            header, payload, signature = jws.split('.')
            fields = json.loads(b64(header))
            assert fields['alg'] == 'EdDSA' and fields['typ'] == 'vc+jwt' and fields['kid'] == jwk['kid']
            assert jwk['kty'] == 'OKP' and jwk['crv'] == 'Ed25519'
            Ed25519PublicKey.from_public_bytes(b64(jwk['x'])).verify(b64(signature), (header + '.' + payload).encode())
            vc = json.loads(b64(payload))
        except Exception as error:
            print('invalid', repr(error))
            sys.exit(1)
        assert vc['@context'][0] == 'https://www.w3.org/ns/credentials/v2' and 'VerifiableCredential' in vc['type']
        assert jwk['kid'].startswith(vc['issuer']['id'] + '#')
        print('valid', vc['credentialSubject']['certificateNumber'], vc['credentialSubject']['name'])
        """
}
