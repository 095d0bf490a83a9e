-- Less work per issuance (each item is work every issuance's write did; see docs/server.md).
--
-- An issuance row is inserted by the statement that has just updated its device row (the
-- INSERT selects the id from that UPDATE's RETURNING), so the device exists and is locked: the
-- foreign key's check, a trigger running a key-share lookup of the device on every insert, proved
-- nothing. What it guarded against later, a device deleted under its issuances, is refused
-- outright instead: devices are never deleted (a statement trigger, no cost per row; no statement
-- of the service changes a device's id).
ALTER TABLE issuances DROP CONSTRAINT issuances_device_id_fkey;
CREATE FUNCTION devices_kept() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'devices are never deleted'; END; $$;
CREATE TRIGGER devices_no_delete BEFORE DELETE OR TRUNCATE ON devices
FOR EACH STATEMENT EXECUTE FUNCTION devices_kept();

-- An audit event is found by its stream and sequence number (UNIQUE, both NOT NULL: the key),
-- never by a row id: the id, its sequence and its index were one more index insert and one more
-- nextval per event.
ALTER TABLE audit_events DROP COLUMN id;

-- Every issuance updates its device row; with room left on each page the new version stays on
-- the page (a HOT update: no index entries). Applies to pages written from now on.
ALTER TABLE devices SET (fillfactor = 80);
