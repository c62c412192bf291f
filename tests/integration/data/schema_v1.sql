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

-- breaks: one row per non-matched result row ------------------------------------------------

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
    'Non-matched keys of each run: status uses the side labels (<left>_only, <right>_only)';
COMMENT ON COLUMN recon.breaks.key_text IS
    'Key values joined by |, with \ and | escaped by \ and a null written as \N';
COMMENT ON COLUMN recon.breaks.first_seen_date IS
    'Carried from the previous run of (recon, source) when the key broke there too';

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

CREATE OR REPLACE VIEW recon.v_latest_runs AS
SELECT DISTINCT ON (recon, source)
    run_id, recon, source, business_date, spec, left_label, right_label,
    records, total_keys, breaks, break_rate, match_rate, match_rate_by_amount,
    discrepancy_amount, risk_level, threshold_passed, dag_id, airflow_run_id, loaded_at
FROM recon.runs
ORDER BY recon, source, business_date DESC;

CREATE OR REPLACE VIEW recon.v_open_breaks AS
SELECT
    b.recon, b.source, b.business_date, b.run_id, b.key, b.key_text, b.status,
    b.mismatched_fields, b.left_values, b.right_values, b.difference, b.break_amount,
    b.side, b.input_row, b.reason, b.first_seen_date, b.age_days
FROM recon.v_latest_runs AS l
JOIN recon.breaks AS b ON b.run_id = l.run_id
ORDER BY b.break_amount DESC, b.recon, b.source, b.key_text;

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
