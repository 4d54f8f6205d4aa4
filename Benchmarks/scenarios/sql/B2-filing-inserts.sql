-- B2's second peer, run with pgbench -M prepared: only the filing's own writes, as
-- SubmitFiling makes them (the filing with its three fees in one statement; the idempotency
-- record with the audit entry in another), in one transaction. What the writes cost with
-- no read, no check and no round trip to spare. :n makes each filing new.
\set n random(1, 9000000000000000)
BEGIN;
WITH made AS (
    INSERT INTO filing.filings (organization_id, certificate_code, year, round_number, version, state, school_levels,
        specialty_scope, site_arrangement, teacher_requirements, teaching_conditions, exam_arrangement, submitted_by)
    SELECT 1, 'PGP-' || :n, 2100, 1, coalesce(max(version), 0) + 1, 'submitted', '{1,2}', '{计算机应用技术}',
        '每个设区市至少一个考核站点', '持证培训教师', '实训室', '理论机考，实操现场考核', '基准测试评价组织（对接系统）'
    FROM filing.filings WHERE organization_id = 1 AND certificate_code = 'PGP-' || :n AND year = 2100
    RETURNING id
), fees AS (
    INSERT INTO filing.filing_fees (filing_id, level, fee_fen, cost_basis)
    SELECT made.id, l, f, b
    FROM made, unnest('{1,2,3}'::integer[], '{20000,30000,40000}'::bigint[], '{考评员、场地、耗材,考评员、场地、耗材,考评员、场地、耗材}'::text[])
        AS x(l, f, b)
)
SELECT id FROM made;
WITH kept AS (
    INSERT INTO filing.idempotency_keys (principal, method, key, request_sha256, response)
    SELECT 'principal:1', 'SubmitFiling', 'pgbench-prepared-' || :n,
        '\xe3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'::bytea, '\x0a0208011203424e43'::bytea
)
INSERT INTO filing.audit_log (principal_id, principal_name, principal_role, method, targets, request_id, outcome)
SELECT 1, coalesce(p.name, 'principal:1'), coalesce(p.role, 'unknown'), 'SubmitFiling', 'certificate_code=PGP-' || :n,
    'pgbench-' || :n, 'OK'
FROM (SELECT 1) AS one LEFT JOIN registry.principals p ON p.id = 1;
COMMIT;
