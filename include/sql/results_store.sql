-- Queries of the Postgres results store (recon_airflow.stores.postgres), one per
-- "-- name: ..." block. All run inside one transaction per load; parameters are psycopg's
-- %(name)s placeholders, never formatted into the text.

-- name: lock_schema
-- serialises ensure_schema() across mapped tasks (released at commit)
SELECT pg_advisory_xact_lock(hashtext('recon.schema'), 0);

-- name: schema_table
SELECT to_regclass('recon.schema_versions') IS NOT NULL;

-- name: schema_applied
-- only once schema_table says the table exists (a missing relation fails at parse time)
SELECT EXISTS (SELECT 1 FROM recon.schema_versions WHERE sha256 = %(sha256)s);

-- name: record_schema
INSERT INTO recon.schema_versions (sha256) VALUES (%(sha256)s)
ON CONFLICT (sha256) DO UPDATE SET applied_at = now();

-- name: lock_partition
-- one load of a partition at a time; other partitions load in parallel
SELECT pg_advisory_xact_lock(
    hashtext('recon.partition'),
    hashtext(%(recon)s || '|' || %(source)s || '|' || %(business_date)s::date::text)
);

-- name: current_partition
SELECT r.run_id, r.airflow_run_id, r.loaded_at, r.records, r.breaks,
       (SELECT count(*) FROM recon.breaks AS b WHERE b.run_id = r.run_id) AS break_rows,
       (SELECT count(*) FROM recon.data_quality_checks AS c WHERE c.run_id = r.run_id) AS checks
FROM recon.runs AS r
WHERE r.recon = %(recon)s AND r.source = %(source)s AND r.business_date = %(business_date)s
FOR UPDATE;

-- name: delete_run
-- breaks and data_quality_checks go with it (ON DELETE CASCADE)
DELETE FROM recon.runs WHERE run_id = %(run_id)s;

-- name: insert_run
INSERT INTO recon.runs (
    recon, source, business_date, spec, dag_id, airflow_run_id, status,
    started_at, finished_at, left_label, right_label,
    matched, mismatched, left_only, right_only, duplicate, invalid,
    records, total_keys, breaks, break_rate, match_rate, match_rate_by_amount,
    discrepancy_amount, risk_level, threshold_passed, max_break_rate,
    inputs, report_links, summary,
    reporting_currency, volume, impact_discrepancy_amount, discrepancy_rate, compliance_status,
    high_value_amount, breaks_by_type
) VALUES (
    %(recon)s, %(source)s, %(business_date)s, %(spec)s, %(dag_id)s, %(airflow_run_id)s,
    %(status)s, %(started_at)s, %(finished_at)s, %(left_label)s, %(right_label)s,
    %(matched)s, %(mismatched)s, %(left_only)s, %(right_only)s, %(duplicate)s, %(invalid)s,
    %(records)s, %(total_keys)s, %(breaks)s, %(break_rate)s, %(match_rate)s,
    %(match_rate_by_amount)s, %(discrepancy_amount)s, %(risk_level)s, %(threshold_passed)s,
    %(max_break_rate)s, %(inputs)s, %(report_links)s, %(summary)s,
    %(reporting_currency)s, %(volume)s, %(impact_discrepancy_amount)s, %(discrepancy_rate)s,
    %(compliance_status)s, %(high_value_amount)s, %(breaks_by_type)s
)
RETURNING run_id;

-- name: create_breaks_in
-- columns in the order of stores.partition.break_rows (COPY takes them by position)
CREATE TEMPORARY TABLE recon_breaks_in (
    key jsonb NOT NULL,
    key_text text NOT NULL,
    status text NOT NULL,
    mismatched_fields text[] NOT NULL,
    left_values jsonb,
    right_values jsonb,
    difference numeric,
    break_amount numeric NOT NULL,
    side text,
    input_row bigint,
    reason text,
    break_type text NOT NULL,
    currency text,
    impact_amount numeric
) ON COMMIT DROP;

-- name: copy_breaks_in
COPY recon_breaks_in (
    key, key_text, status, mismatched_fields, left_values, right_values, difference,
    break_amount, side, input_row, reason, break_type, currency, impact_amount
) FROM STDIN WITH (FORMAT csv, HEADER false);

-- name: insert_breaks
-- A key that broke in the previous run of (recon, source) keeps that break's first-seen date;
-- min() because a key may sit on several rows (e.g. duplicate and invalid rows of one key).
WITH previous_run AS (
    SELECT run_id
    FROM recon.runs
    WHERE recon = %(recon)s AND source = %(source)s AND business_date < %(business_date)s
    ORDER BY business_date DESC
    LIMIT 1
), seen AS (
    SELECT b.key_text, min(b.first_seen_date) AS first_seen_date
    FROM recon.breaks AS b
    JOIN previous_run AS p ON b.run_id = p.run_id
    GROUP BY b.key_text
)
INSERT INTO recon.breaks (
    run_id, recon, source, business_date, key, key_text, status, mismatched_fields,
    left_values, right_values, difference, break_amount, side, input_row, reason,
    first_seen_date, age_days, break_type, currency, impact_amount
)
SELECT
    %(run_id)s, %(recon)s, %(source)s, %(business_date)s, i.key, i.key_text, i.status,
    i.mismatched_fields, i.left_values, i.right_values, i.difference, i.break_amount,
    i.side, i.input_row, i.reason,
    coalesce(s.first_seen_date, %(business_date)s::date),
    %(business_date)s::date - coalesce(s.first_seen_date, %(business_date)s::date),
    i.break_type, i.currency, i.impact_amount
FROM recon_breaks_in AS i
LEFT JOIN seen AS s ON s.key_text = i.key_text;

-- name: count_breaks
SELECT count(*), count(*) FILTER (WHERE age_days > 0)
FROM recon.breaks
WHERE run_id = %(run_id)s;

-- name: insert_check
INSERT INTO recon.data_quality_checks (
    run_id, recon, source, business_date, side, side_label, check_name, passed,
    observed, expected, details
) VALUES (
    %(run_id)s, %(recon)s, %(source)s, %(business_date)s, %(side)s, %(side_label)s,
    %(name)s, %(passed)s, %(observed)s, %(expected)s, %(details)s
);

-- name: append_audit
INSERT INTO recon.audit_log (actor, action, recon, source, business_date, run_id, details)
VALUES (%(actor)s, %(action)s, %(recon)s, %(source)s, %(business_date)s, %(run_id)s, %(details)s);

-- name: volume_history
-- rows each side brought on the earlier partitions of (recon, source), for the volume check;
-- only once schema_table says the table exists
SELECT business_date,
       (summary -> 'inputs' -> 'left' ->> 'rows')::bigint AS left_rows,
       (summary -> 'inputs' -> 'right' ->> 'rows')::bigint AS right_rows
FROM recon.runs
WHERE recon = %(recon)s AND source = %(source)s
  AND business_date >= %(since)s AND business_date < %(business_date)s
ORDER BY business_date DESC;
