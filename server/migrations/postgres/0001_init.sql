CREATE TABLE tenants (
    id BIGSERIAL PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL
);
CREATE TABLE api_keys (
    id BIGSERIAL PRIMARY KEY,
    tenant_id BIGINT NOT NULL REFERENCES tenants (id),
    key_hash BYTEA NOT NULL UNIQUE,
    scopes TEXT NOT NULL,
    label TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);
CREATE TABLE devices (
    id BIGSERIAL PRIMARY KEY,
    tenant_id BIGINT NOT NULL REFERENCES tenants (id),
    serial TEXT NOT NULL,
    scheme TEXT NOT NULL,
    params TEXT NOT NULL,
    sealed BYTEA NOT NULL,
    imported_counter BIGINT NOT NULL,
    counter BIGINT NOT NULL,
    state TEXT NOT NULL,
    expiry BIGINT,
    payg_disabled BOOLEAN NOT NULL DEFAULT FALSE,
    model TEXT,
    audit_seq BIGINT NOT NULL,
    audit_head BYTEA NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (tenant_id, serial)
);
CREATE TABLE issuances (
    id BIGSERIAL PRIMARY KEY,
    tenant_id BIGINT NOT NULL,
    device_id BIGINT NOT NULL REFERENCES devices (id),
    api TEXT NOT NULL,
    idem_key TEXT NOT NULL,
    request_hash BYTEA NOT NULL,
    sequence BIGINT,
    token TEXT,
    command TEXT,
    status TEXT NOT NULL,
    payment_ref TEXT,
    reason TEXT,
    created_at BIGINT NOT NULL,
    committed_at BIGINT,
    response_status BIGINT NOT NULL,
    response BYTEA NOT NULL,
    commit_response BYTEA,
    UNIQUE (tenant_id, api, idem_key),
    UNIQUE (device_id, sequence)
);
CREATE INDEX issuances_by_device ON issuances (device_id, id);
CREATE TABLE audit_events (
    id BIGSERIAL PRIMARY KEY,
    stream TEXT NOT NULL,
    seq BIGINT NOT NULL,
    at BIGINT NOT NULL,
    kind TEXT NOT NULL,
    body TEXT NOT NULL,
    prev BYTEA NOT NULL,
    hash BYTEA NOT NULL,
    UNIQUE (stream, seq)
);
CREATE TABLE audit_heads (
    stream TEXT PRIMARY KEY,
    seq BIGINT NOT NULL,
    head BYTEA NOT NULL
);
CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'audit events are append-only'; END; $$;
CREATE TRIGGER audit_events_no_change BEFORE UPDATE OR DELETE ON audit_events
FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
