ALTER TABLE devices ADD COLUMN metrics_profile TEXT;
CREATE TABLE device_report_state (
    device_id INTEGER PRIMARY KEY REFERENCES devices (id),
    last_request_count INTEGER,
    last_timestamp INTEGER,
    updated_at INTEGER NOT NULL
);
CREATE TABLE device_reports (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL,
    device_id INTEGER NOT NULL REFERENCES devices (id),
    received_at INTEGER NOT NULL,
    request_count INTEGER,
    timestamp INTEGER,
    auth_method TEXT NOT NULL,
    raw TEXT NOT NULL,
    metrics TEXT NOT NULL,
    answer TEXT NOT NULL,
    tokens INTEGER NOT NULL
);
CREATE INDEX device_reports_by_device ON device_reports (device_id, id);
CREATE TRIGGER device_reports_no_update BEFORE UPDATE ON device_reports
BEGIN SELECT RAISE(ABORT, 'device reports are append-only'); END;
CREATE TRIGGER device_reports_no_delete BEFORE DELETE ON device_reports
BEGIN SELECT RAISE(ABORT, 'device reports are append-only'); END;
