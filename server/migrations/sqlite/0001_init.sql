CREATE TABLE tenants (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
);
CREATE TABLE api_keys (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants (id),
    key_hash BLOB NOT NULL UNIQUE,
    scopes TEXT NOT NULL,
    label TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
);
CREATE TABLE devices (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants (id),
    serial TEXT NOT NULL,
    scheme TEXT NOT NULL,
    params TEXT NOT NULL,
    sealed BLOB NOT NULL,
    imported_counter INTEGER NOT NULL,
    counter INTEGER NOT NULL,
    state TEXT NOT NULL,
    expiry INTEGER,
    payg_disabled INTEGER NOT NULL DEFAULT 0,
    model TEXT,
    audit_seq INTEGER NOT NULL,
    audit_head BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (tenant_id, serial)
);
CREATE TABLE issuances (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL,
    device_id INTEGER NOT NULL REFERENCES devices (id),
    api TEXT NOT NULL,
    idem_key TEXT NOT NULL,
    request_hash BLOB NOT NULL,
    sequence INTEGER,
    token TEXT,
    command TEXT,
    status TEXT NOT NULL,
    payment_ref TEXT,
    reason TEXT,
    created_at INTEGER NOT NULL,
    committed_at INTEGER,
    response_status INTEGER NOT NULL,
    response BLOB NOT NULL,
    commit_response BLOB,
    UNIQUE (tenant_id, api, idem_key),
    UNIQUE (device_id, sequence)
);
CREATE INDEX issuances_by_device ON issuances (device_id, id);
CREATE TABLE audit_events (
    id INTEGER PRIMARY KEY,
    stream TEXT NOT NULL,
    seq INTEGER NOT NULL,
    at INTEGER NOT NULL,
    kind TEXT NOT NULL,
    body TEXT NOT NULL,
    prev BLOB NOT NULL,
    hash BLOB NOT NULL,
    UNIQUE (stream, seq)
);
CREATE TABLE audit_heads (
    stream TEXT PRIMARY KEY,
    seq INTEGER NOT NULL,
    head BLOB NOT NULL
);
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END;
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END;
