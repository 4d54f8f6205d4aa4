-- B2's peer: the rows one SubmitFiling writes (the idempotency record, the filing, its three
-- fees) and the reads it makes first, as one transaction, by pgbench. :n makes each filing new.
\set n random(1, 9000000000000000)
BEGIN;
SELECT pg_advisory_xact_lock(hashtextextended('principal:1 SubmitFiling pgbench-' || :n, 0));
SELECT request_sha256, response FROM filing.idempotency_keys WHERE principal = 'principal:1' AND method = 'SubmitFiling' AND key = 'pgbench-' || :n;
SELECT year, number, closes, closed_at FROM filing.rounds WHERE year = 2100 AND number = 1;
SELECT id, version, state FROM filing.filings WHERE organization_id = 1 AND certificate_code = 'PGB-' || :n AND year = 2100 AND state IN ('submitted', 'approved');
INSERT INTO filing.filings (organization_id, certificate_code, year, round_number, version, state, school_levels, specialty_scope,
    site_arrangement, teacher_requirements, teaching_conditions, exam_arrangement, submitted_by)
SELECT 1, 'PGB-' || :n, 2100, 1, coalesce(max(version), 0) + 1, 'submitted', '{1,2}', '{计算机应用技术}',
    '每个设区市至少一个考核站点', '持证培训教师', '实训室', '理论机考，实操现场考核', '基准测试评价组织（对接系统）'
FROM filing.filings WHERE organization_id = 1 AND certificate_code = 'PGB-' || :n AND year = 2100;
INSERT INTO filing.filing_fees (filing_id, level, fee_fen, cost_basis)
SELECT currval(pg_get_serial_sequence('filing.filings', 'id')), l, f, '考评员、场地、耗材' FROM unnest('{1,2,3}'::integer[], '{20000,30000,40000}'::bigint[]) AS x(l, f);
INSERT INTO filing.idempotency_keys (principal, method, key, request_sha256, response)
VALUES ('principal:1', 'SubmitFiling', 'pgbench-' || :n, 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855', '\x0a0208011203424e43'::bytea);
COMMIT;
