ALTER TABLE devices ADD COLUMN metrics_profile TEXT;
CREATE TABLE device_report_state (
    device_id BIGINT PRIMARY KEY REFERENCES devices (id),
    last_request_count BIGINT,
    last_timestamp BIGINT,
    updated_at BIGINT NOT NULL
);
CREATE TABLE device_reports (
    id BIGSERIAL PRIMARY KEY,
    tenant_id BIGINT NOT NULL,
    device_id BIGINT NOT NULL REFERENCES devices (id),
    received_at BIGINT NOT NULL,
    request_count BIGINT,
    timestamp BIGINT,
    auth_method TEXT NOT NULL,
    raw TEXT NOT NULL,
    metrics TEXT NOT NULL,
    answer TEXT NOT NULL,
    tokens BIGINT NOT NULL
);
CREATE INDEX device_reports_by_device ON device_reports (device_id, id);
CREATE FUNCTION device_reports_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'device reports are append-only'; END; $$;
CREATE TRIGGER device_reports_no_change BEFORE UPDATE OR DELETE ON device_reports
FOR EACH ROW EXECUTE FUNCTION device_reports_append_only();
