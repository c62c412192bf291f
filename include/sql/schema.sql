-- The results store of recon pipelines (schema `recon`): one partition per
-- (recon, source, business_date), replaced as a whole by every load of that partition.
--
-- Idempotent: every statement may run again on an existing schema. ensure_schema() runs this
-- file inside one transaction under an advisory lock, so mapped load tasks can all call it.
-- Needs PostgreSQL 14+ (CREATE OR REPLACE TRIGGER).

CREATE SCHEMA IF NOT EXISTS recon;

-- which versions of this file were applied (ensure_schema skips a version already applied, so
-- loads do not take DDL locks on tables and views that reports are reading)
CREATE TABLE IF NOT EXISTS recon.schema_versions (
    sha256 text PRIMARY KEY,
    applied_at timestamptz NOT NULL DEFAULT now()
);

-- runs: one row per reconciled partition ----------------------------------------------------

CREATE TABLE IF NOT EXISTS recon.runs (
    run_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    recon text NOT NULL,
    source text NOT NULL,
    business_date date NOT NULL,
    spec text NOT NULL,
    dag_id text NOT NULL,
    airflow_run_id text NOT NULL,
    status text NOT NULL DEFAULT 'succeeded',
    started_at timestamptz,
    finished_at timestamptz,
    loaded_at timestamptz NOT NULL DEFAULT now(),
    left_label text NOT NULL,
    right_label text NOT NULL,
    matched bigint NOT NULL,
    mismatched bigint NOT NULL,
    left_only bigint NOT NULL,
    right_only bigint NOT NULL,
    duplicate bigint NOT NULL,
    invalid bigint NOT NULL,
    records bigint NOT NULL,
    total_keys bigint NOT NULL,
    breaks bigint NOT NULL,
    break_rate double precision NOT NULL,
    match_rate double precision NOT NULL,
    match_rate_by_amount double precision,
    discrepancy_amount numeric NOT NULL,
    risk_level text NOT NULL,
    threshold_passed boolean NOT NULL,
    max_break_rate double precision,
    inputs jsonb NOT NULL DEFAULT '{}',
    report_links jsonb NOT NULL DEFAULT '{}',
    summary jsonb NOT NULL,
    -- also the index behind v_latest_runs and the previous-run lookup of every load
    CONSTRAINT runs_partition_key UNIQUE (recon, source, business_date)
);
COMMENT ON TABLE recon.runs IS
    'One row per reconciled (recon, source, business_date); a re-run replaces it (and its breaks)';

-- Columns added after the first release: only here, never in CREATE TABLE above, so a new
-- database and an upgraded one have the same columns in the same order.
ALTER TABLE recon.runs
    ADD COLUMN IF NOT EXISTS reporting_currency text,
    ADD COLUMN IF NOT EXISTS volume numeric,
    ADD COLUMN IF NOT EXISTS impact_discrepancy_amount numeric,
    ADD COLUMN IF NOT EXISTS discrepancy_rate double precision,
    ADD COLUMN IF NOT EXISTS compliance_status text,
    ADD COLUMN IF NOT EXISTS high_value_amount numeric,
    ADD COLUMN IF NOT EXISTS breaks_by_type jsonb NOT NULL DEFAULT '{}';
COMMENT ON COLUMN recon.runs.status IS
    'succeeded, or incomplete: loaded, but a side brought fewer rows than its volume expectation'
    ' (summary.volume says which side, how many rows and how many were expected)';
COMMENT ON COLUMN recon.runs.volume IS
    'summary.json financial_impact.volume, in reporting_currency (null without a financial impact)';
COMMENT ON COLUMN recon.runs.impact_discrepancy_amount IS
    'financial_impact.discrepancy_amount: money at stake in reporting_currency (timing excluded)';
COMMENT ON COLUMN recon.runs.discrepancy_rate IS
    'financial_impact.discrepancy_rate: impact_discrepancy_amount / volume';
COMMENT ON COLUMN recon.runs.high_value_amount IS
    'thresholds.high_value_amount: breaks whose impact_amount reaches it are in v_high_value_breaks';
COMMENT ON COLUMN recon.runs.breaks_by_type IS
    'Break type -> rows (matched left out): the classification''s counts, else stored status -> rows';
-- runs loaded before breaks_by_type existed: their stored statuses, as a load writes them now
UPDATE recon.runs
SET breaks_by_type = jsonb_build_object(
    'mismatched', mismatched,
    left_label || '_only', left_only,
    right_label || '_only', right_only,
    'duplicate', duplicate,
    'invalid', invalid
)
WHERE breaks_by_type = '{}';

-- breaks: one row per break (non-matched, or of a break type with a classification) --------

CREATE TABLE IF NOT EXISTS recon.breaks (
    break_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    run_id bigint NOT NULL REFERENCES recon.runs (run_id) ON DELETE CASCADE,
    recon text NOT NULL,
    source text NOT NULL,
    business_date date NOT NULL,
    key jsonb NOT NULL,
    key_text text NOT NULL,
    status text NOT NULL,
    mismatched_fields text[] NOT NULL DEFAULT '{}',
    left_values jsonb,
    right_values jsonb,
    difference numeric,
    break_amount numeric NOT NULL,
    side text,
    input_row bigint,
    reason text,
    first_seen_date date NOT NULL,
    age_days integer NOT NULL
);
-- the first-seen lookup (previous run's breaks by key) and the cascade from runs
CREATE INDEX IF NOT EXISTS breaks_run_key ON recon.breaks (run_id, key_text);
COMMENT ON TABLE recon.breaks IS
    'Breaks of each run: non-matched keys, or with a classification every row of a break type'
    ' (timing too); status uses the side labels (<left>_only, <right>_only)';
COMMENT ON COLUMN recon.breaks.key_text IS
    'Key values joined by |, with \ and | escaped by \ and a null written as \N';
COMMENT ON COLUMN recon.breaks.first_seen_date IS
    'Carried from the previous run of (recon, source) when the key broke there too';

-- added after the first release (see recon.runs above)
ALTER TABLE recon.breaks
    ADD COLUMN IF NOT EXISTS break_type text,
    ADD COLUMN IF NOT EXISTS currency text,
    ADD COLUMN IF NOT EXISTS impact_amount numeric;
-- breaks loaded before break_type existed: unclassified, so their type is their stored status
UPDATE recon.breaks SET break_type = status WHERE break_type IS NULL;
-- v_high_value_breaks: a run's breaks by impact, largest first; only rows with an impact
CREATE INDEX IF NOT EXISTS breaks_run_impact
    ON recon.breaks (run_id, impact_amount DESC) WHERE impact_amount IS NOT NULL;
COMMENT ON COLUMN recon.breaks.break_type IS
    'The classification''s break type (e.g. amount, timing: a timing break has status matched);'
    ' the stored status for recons without a classification';
COMMENT ON COLUMN recon.breaks.impact_amount IS
    'break_amount in the run''s reporting_currency (null without a rate or a classification)';

-- data quality checks: per run and side -------------------------------------------------------

CREATE TABLE IF NOT EXISTS recon.data_quality_checks (
    run_id bigint NOT NULL REFERENCES recon.runs (run_id) ON DELETE CASCADE,
    recon text NOT NULL,
    source text NOT NULL,
    business_date date NOT NULL,
    side text NOT NULL CHECK (side IN ('left', 'right', 'both')),
    side_label text,
    check_name text NOT NULL,
    passed boolean NOT NULL,
    observed jsonb,
    expected jsonb,
    details jsonb NOT NULL DEFAULT '{}',
    PRIMARY KEY (run_id, side, check_name)
);

-- audit log: append-only ----------------------------------------------------------------------

CREATE TABLE IF NOT EXISTS recon.audit_log (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at timestamptz NOT NULL DEFAULT now(),
    actor text NOT NULL,
    action text NOT NULL,
    recon text,
    source text,
    business_date date,
    run_id bigint, -- no foreign key: the log outlives the runs it names
    details jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS audit_log_partition
    ON recon.audit_log (recon, source, business_date, at);

CREATE OR REPLACE FUNCTION recon.audit_log_is_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'recon.audit_log is append-only: % is not allowed', TG_OP
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'audit rows are never changed; append a correcting row instead';
END
$$;
-- statement triggers fire even when no row matches: an attempt is refused, not ignored
CREATE OR REPLACE TRIGGER audit_log_no_update_delete
    BEFORE UPDATE OR DELETE ON recon.audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION recon.audit_log_is_append_only();
CREATE OR REPLACE TRIGGER audit_log_no_truncate
    BEFORE TRUNCATE ON recon.audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION recon.audit_log_is_append_only();

-- views -------------------------------------------------------------------------------------
-- CREATE OR REPLACE VIEW can only append columns: a new column goes at the end of its view.

CREATE OR REPLACE VIEW recon.v_latest_runs AS
SELECT DISTINCT ON (recon, source)
    run_id, recon, source, business_date, spec, left_label, right_label,
    records, total_keys, breaks, break_rate, match_rate, match_rate_by_amount,
    discrepancy_amount, risk_level, threshold_passed, dag_id, airflow_run_id, loaded_at,
    reporting_currency, volume, impact_discrepancy_amount, discrepancy_rate, compliance_status,
    high_value_amount, breaks_by_type, status
FROM recon.runs
ORDER BY recon, source, business_date DESC;
COMMENT ON VIEW recon.v_latest_runs IS
    'The latest business date loaded of each (recon, source)';

CREATE OR REPLACE VIEW recon.v_open_breaks AS
SELECT
    b.recon, b.source, b.business_date, b.run_id, b.key, b.key_text, b.status,
    b.mismatched_fields, b.left_values, b.right_values, b.difference, b.break_amount,
    b.side, b.input_row, b.reason, b.first_seen_date, b.age_days,
    b.break_type, b.currency, b.impact_amount
FROM recon.v_latest_runs AS l
JOIN recon.breaks AS b ON b.run_id = l.run_id
ORDER BY b.break_amount DESC, b.recon, b.source, b.key_text;
COMMENT ON VIEW recon.v_open_breaks IS
    'Breaks of the latest run of each (recon, source), with their age; largest break_amount first';

CREATE OR REPLACE VIEW recon.v_high_value_breaks AS
SELECT
    b.recon, b.source, b.business_date, b.run_id, b.key, b.key_text, b.status, b.break_type,
    b.currency, b.break_amount, b.impact_amount, l.reporting_currency, l.high_value_amount,
    b.mismatched_fields, b.left_values, b.right_values, b.difference,
    b.first_seen_date, b.age_days
FROM recon.v_latest_runs AS l
JOIN recon.breaks AS b ON b.run_id = l.run_id
WHERE b.impact_amount >= l.high_value_amount
ORDER BY b.impact_amount DESC, b.recon, b.source, b.key_text;
COMMENT ON VIEW recon.v_high_value_breaks IS
    'Breaks of the latest run of each (recon, source) whose impact_amount (in the reporting'
    ' currency) reaches the run''s high_value_amount threshold; largest impact first';

CREATE OR REPLACE VIEW recon.v_source_daily_metrics AS
SELECT
    recon,
    source,
    business_date,
    run_id,
    records,
    total_keys,
    breaks,
    break_rate,
    volume,
    coalesce(impact_discrepancy_amount, discrepancy_amount) AS discrepancy_amount,
    discrepancy_rate,
    reporting_currency,
    risk_level,
    compliance_status,
    threshold_passed,
    breaks_by_type,
    started_at,
    finished_at,
    extract(epoch FROM finished_at - started_at)::double precision AS duration_seconds,
    status
FROM recon.runs
ORDER BY recon, source, business_date DESC;
COMMENT ON VIEW recon.v_source_daily_metrics IS
    'One row per (recon, source, business_date), e.g. per payment processor and day: volume and'
    ' discrepancy_amount in reporting_currency when the recon reports a financial impact (else'
    ' discrepancy_amount is the core''s, in the amount field''s own unit, and volume is null);'
    ' breaks and break_rate count core breaks, breaks_by_type every break type (timing too)';

CREATE OR REPLACE VIEW recon.v_daily_summary AS
SELECT
    recon,
    business_date,
    array_agg(source ORDER BY source) AS sources,
    sum(total_keys) AS keys,
    sum(records) AS records,
    sum(breaks) AS breaks,
    coalesce(sum(breaks)::double precision / nullif(sum(records), 0), 0) AS break_rate,
    sum(discrepancy_amount) AS discrepancy_amount,
    count(*) FILTER (WHERE NOT threshold_passed) AS sources_over_threshold,
    (ARRAY['LOW', 'MEDIUM', 'HIGH'])[
        max(array_position(ARRAY['LOW', 'MEDIUM', 'HIGH'], risk_level))
    ] AS worst_risk_level
FROM recon.runs
GROUP BY recon, business_date
ORDER BY recon, business_date DESC;
COMMENT ON VIEW recon.v_daily_summary IS
    'Per recon and business date: every source''s runs added up, and the worst risk level';
