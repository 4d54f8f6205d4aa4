-- B4's peer: GetSchool's two reads (the school with its specialties, its irregularities) in
-- one transaction, for a random one of the 2,000 schools `xcert-load setup` made.
\set i random(0, 1999)
BEGIN;
SELECT s.code, s.name, s.type, s.city_code, s.specialty_count, s.enrolled_students, s.honours, s.version,
       ARRAY(SELECT code FROM registry.school_specialties WHERE school_code = s.code ORDER BY position),
       ARRAY(SELECT name FROM registry.school_specialties WHERE school_code = s.code ORDER BY position)
FROM registry.schools s
WHERE s.code = '41' || (CASE :i % 3 WHEN 0 THEN '3601' WHEN 1 THEN '3604' ELSE '3607' END) || lpad((:i / 3 + 1)::text, 4, '0');
SELECT school_code, id, kind, description, year, recorded_at, recorded_by FROM registry.irregularities
WHERE school_code = ANY(ARRAY['41' || (CASE :i % 3 WHEN 0 THEN '3601' WHEN 1 THEN '3604' ELSE '3607' END) || lpad((:i / 3 + 1)::text, 4, '0')]) ORDER BY id;
COMMIT;
