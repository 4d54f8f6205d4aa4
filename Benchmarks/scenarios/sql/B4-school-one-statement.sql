-- B4's second peer, run with pgbench -M prepared: the one statement GetSchool runs (the
-- school with its specialties and irregularities), for a random one of the 2,000 schools
-- `xcert-load setup` made. What a round trip per look-up can do at best.
\set i random(0, 1999)
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
    FROM registry.irregularities WHERE school_code = s.code AND true
) i
WHERE s.code = '41' || (CASE :i % 3 WHEN 0 THEN '3601' WHEN 1 THEN '3604' ELSE '3607' END) || lpad((:i / 3 + 1)::text, 4, '0')
ORDER BY s.code LIMIT 2;
