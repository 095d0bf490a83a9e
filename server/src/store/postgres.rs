//! PostgreSQL: a connection pool, optimistic issuance with a row-lock fallback, pipelined
//! statements.
//!
//! An issuance normally takes one round trip and no explicit transaction: the device as this
//! service last wrote it (its row, and its row version `xmin`) is kept in memory ([`cache`]), the
//! token is computed from it, and one statement writes the device's new state, the issuance and
//! the audit event on the conditions that the API key is still valid, the idempotency key unused
//! and the row still that version, and commits by itself; it answers the row's new version, or
//! the request stored under the key (a replay ends there). When it writes nothing for another
//! reason (nothing cached, the device moved, the key was revoked), the issuance reads: one
//! statement checks the API key (unless revoked, with its tenant and scopes) and reads the device,
//! its row version and the request stored under the key; the token is computed; the same write.
//! If another issuance moved the device in between, the write writes nothing and the issuance
//! reads again (a copy of the same request that committed first is then replayed); if the device
//! moved again, under the device's row lock (`SELECT … FOR UPDATE` + key lookup, then the same
//! write + `COMMIT`). Concurrent copies of one key on one device meet at the device row and
//! replay; copies on different devices meet at the unique key and the loser replays (or is told
//! the key was reused). Several replicas can share one database.

use std::str::FromStr;
use std::sync::Arc;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use tokio_postgres::error::SqlState;
use tokio_postgres::types::ToSql;
use tokio_postgres::{NoTls, Row};

use super::{
    Api, AuditDump, Caller, Compare, Conflict, Credential, Decide, DecideCommit, DeviceRow,
    ImportReport, IssuanceRow, NewDevice, Outcome, StoreError, Stored,
};
use crate::apikey::Scopes;
use crate::audit::{self, Event};
use crate::time;

const MIGRATIONS: &[&str] = &[
    include_str!("../../migrations/postgres/0001_init.sql"),
    include_str!("../../migrations/postgres/0002_device_reports.sql"),
    include_str!("../../migrations/postgres/0003_issuance_writes.sql"),
    include_str!("../../migrations/postgres/0004_issuance_index.sql"),
];

/// The PostgreSQL ledger.
#[derive(Clone)]
pub struct Postgres {
    pool: Pool,
    cache: Arc<Cache>,
}

impl std::fmt::Debug for Postgres {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Postgres(..)")
    }
}

/// Connection loss, shutdown, overload and serialization failures are worth a retry.
fn db(e: &tokio_postgres::Error) -> StoreError {
    match e.code() {
        None => StoreError::Unavailable(e.to_string()),
        Some(code) => {
            let class = code.code().get(..2).unwrap_or_default();
            if matches!(class, "08" | "57" | "53" | "40") {
                StoreError::Unavailable(e.to_string())
            } else {
                StoreError::Internal(e.to_string())
            }
        }
    }
}

fn pool_err(e: &deadpool_postgres::PoolError) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

/// A device's columns, as [`device_row`] reads them (a macro, so that statements built on it
/// are constant text, prepared once per connection).
macro_rules! device_cols {
    () => {
        "id, tenant_id, serial, params, sealed, imported_counter, counter, state, expiry, payg_disabled, model, audit_seq, audit_head, metrics_profile"
    };
}
/// An issuance's columns (`i`) with its device's serial (`d`), as [`issuance_row`] reads them.
macro_rules! issuance_cols {
    () => {
        "i.id, i.device_id, d.serial, i.api, i.idem_key, i.sequence, i.token, i.command, i.status, i.payment_ref, i.reason, i.created_at, i.response, i.commit_response"
    };
}
const DEVICE_COLS: &str = device_cols!();

mod cache;
mod report;

use cache::Cache;

/// A device of a tenant by serial.
const DEVICE_BY_SERIAL: &str = concat!(
    "SELECT ",
    device_cols!(),
    " FROM devices WHERE tenant_id = $1 AND serial = $2"
);
/// A page of a tenant's devices, by serial.
const DEVICE_PAGE: &str = concat!(
    "SELECT ",
    device_cols!(),
    " FROM devices WHERE tenant_id = $1 ORDER BY serial LIMIT $2 OFFSET $3"
);
/// A tenant's issuances, optionally of one serial (`$2`) or one API and key (`$3`, `$4`).
const ISSUANCE_LIST: &str = concat!(
    "SELECT ",
    issuance_cols!(),
    " FROM issuances i JOIN devices d ON d.id = i.device_id
     WHERE i.tenant_id = $1 AND ($2::TEXT IS NULL OR d.serial = $2)
       AND ($3::TEXT IS NULL OR (i.api = $3 AND i.idem_key = $4))
     ORDER BY i.id"
);
/// The API key (tenant, scopes) and the device of a PENDING update under `$2`, locked: no row
/// when either is missing.
/// (Lateral index lookups under the key's tenant, as `READ_FOR_ISSUE`'s, whatever the
/// statistics when it is prepared.)
const LOCK_FOR_COMMIT: &str = "SELECT k.tenant_id, k.scopes, d.id FROM api_keys k
     JOIN LATERAL (SELECT device_id FROM issuances
       WHERE tenant_id = k.tenant_id AND api = 'paygops' AND idem_key = $2 OFFSET 0) i ON TRUE
     JOIN LATERAL (SELECT id FROM devices WHERE id = i.device_id OFFSET 0 FOR UPDATE) d ON TRUE
     WHERE k.key_hash = $1 AND k.revoked_at IS NULL";
/// The device `$2` of the API key's tenant, then the key's tenant and scopes; the device's
/// columns are null when it has none of that serial, and there is no row without a valid key.
const DEVICE_FOR_KEY: &str = "SELECT d.id, d.tenant_id, d.serial, d.params, d.sealed, d.imported_counter,
       d.counter, d.state, d.expiry, d.payg_disabled, d.model, d.audit_seq, d.audit_head,
       d.metrics_profile, k.tenant_id, k.scopes
     FROM api_keys k
     LEFT JOIN LATERAL (SELECT id, tenant_id, serial, params, sealed, imported_counter, counter, state,
         expiry, payg_disabled, model, audit_seq, audit_head, metrics_profile
       FROM devices WHERE tenant_id = k.tenant_id AND serial = $2 OFFSET 0) d ON TRUE
     WHERE k.key_hash = $1 AND k.revoked_at IS NULL";
/// After [`LOCK_FOR_COMMIT`], in the same transaction (its own snapshot, taken once the lock is
/// granted, so it sees a copy of the commit that committed while this one waited): the update's
/// device (columns 0..14), the update (14..28) and the API key's tenant and scopes (28, 29).
/// No row without a valid key; the update's and device's columns are null without the update.
const READ_FOR_COMMIT: &str = concat!(
    "SELECT d.id, d.tenant_id, d.serial, d.params, d.sealed, d.imported_counter, d.counter, d.state,
       d.expiry, d.payg_disabled, d.model, d.audit_seq, d.audit_head, d.metrics_profile, ",
    issuance_cols!(),
    ", k.tenant_id, k.scopes
     FROM api_keys k
     LEFT JOIN LATERAL (SELECT id, device_id, api, idem_key, sequence, token, command, status,
         payment_ref, reason, created_at, response, commit_response
       FROM issuances WHERE tenant_id = k.tenant_id AND api = 'paygops' AND idem_key = $2 OFFSET 0) i ON TRUE
     LEFT JOIN LATERAL (SELECT ",
    device_cols!(),
    " FROM devices WHERE id = i.device_id OFFSET 0) d ON TRUE
     WHERE k.key_hash = $1 AND k.revoked_at IS NULL"
);
/// A commit's writes in one statement: the update COMMITTED with its answer, the device's new
/// credit and audit head, the audit event (`$7`, `$8`: the event's seq and hash; `$2`: its time).
/// It reports 1 row when all three were written.
const WRITE_COMMIT: &str = "WITH committed AS (
       UPDATE issuances SET status = 'COMMITTED', committed_at = $2, commit_response = $3
       WHERE id = $1 RETURNING id),
     moved AS (
       UPDATE devices SET expiry = $5, payg_disabled = $6, audit_seq = $7, audit_head = $8
       WHERE id = $4 RETURNING id)
     INSERT INTO audit_events (stream, seq, at, kind, body, prev, hash)
     SELECT $9::TEXT, $7::BIGINT, $2::BIGINT, $10::TEXT, $11::TEXT, $12::BYTEA, $8::BYTEA
     FROM moved, committed";

fn json_col<T: serde::de::DeserializeOwned>(r: &Row, i: usize) -> Result<T, StoreError> {
    let text: String = r.try_get(i).map_err(|e| db(&e))?;
    serde_json::from_str(&text).map_err(|e| StoreError::Internal(e.to_string()))
}

fn device_row(r: &Row) -> Result<DeviceRow, StoreError> {
    device_row_at(r, 0)
}

/// The device in columns `b..b + 14`.
fn device_row_at(r: &Row, b: usize) -> Result<DeviceRow, StoreError> {
    let g = |e: tokio_postgres::Error| db(&e);
    Ok(DeviceRow {
        id: r.try_get(b).map_err(g)?,
        tenant_id: r.try_get(b + 1).map_err(g)?,
        serial: r.try_get(b + 2).map_err(g)?,
        params: json_col(r, b + 3)?,
        sealed: r.try_get(b + 4).map_err(g)?,
        imported_counter: r.try_get(b + 5).map_err(g)?,
        counter: r.try_get(b + 6).map_err(g)?,
        state: json_col(r, b + 7)?,
        expiry: r.try_get(b + 8).map_err(g)?,
        payg_disabled: r.try_get(b + 9).map_err(g)?,
        model: r.try_get(b + 10).map_err(g)?,
        audit_seq: r.try_get(b + 11).map_err(g)?,
        audit_head: r.try_get(b + 12).map_err(g)?,
        metrics: r.try_get(b + 13).map_err(g)?,
    })
}

fn issuance_row(r: &Row) -> Result<IssuanceRow, StoreError> {
    issuance_row_at(r, 0)
}

/// The issuance in columns `b..b + 14`.
fn issuance_row_at(r: &Row, b: usize) -> Result<IssuanceRow, StoreError> {
    let g = |e: tokio_postgres::Error| db(&e);
    Ok(IssuanceRow {
        id: r.try_get(b).map_err(g)?,
        device_id: r.try_get(b + 1).map_err(g)?,
        serial: r.try_get(b + 2).map_err(g)?,
        api: r.try_get(b + 3).map_err(g)?,
        idem_key: r.try_get(b + 4).map_err(g)?,
        sequence: r.try_get(b + 5).map_err(g)?,
        token: r.try_get(b + 6).map_err(g)?,
        command: r.try_get(b + 7).map_err(g)?,
        status: r.try_get(b + 8).map_err(g)?,
        payment_ref: r.try_get(b + 9).map_err(g)?,
        reason: r.try_get(b + 10).map_err(g)?,
        created_at: r.try_get(b + 11).map_err(g)?,
        response: r.try_get(b + 12).map_err(g)?,
        commit_response: r.try_get(b + 13).map_err(g)?,
    })
}

fn stored(r: &Row) -> Result<(Vec<u8>, Stored), StoreError> {
    stored_at(r, 0)?.ok_or_else(|| StoreError::Internal("stored request without a hash".into()))
}

/// The stored request in columns `base..base + 3` (hash, status, body), if there is one.
fn stored_at(r: &Row, base: usize) -> Result<Option<(Vec<u8>, Stored)>, StoreError> {
    let g = |e: tokio_postgres::Error| db(&e);
    let Some(hash) = r.try_get::<_, Option<Vec<u8>>>(base).map_err(g)? else {
        return Ok(None);
    };
    let status: i64 = r.try_get(base + 1).map_err(g)?;
    Ok(Some((
        hash,
        Stored {
            status: u16::try_from(status).unwrap_or(500),
            body: r.try_get(base + 2).map_err(g)?,
        },
    )))
}

const FIND_REQUEST: &str = "SELECT request_hash, response_status, response FROM issuances
     WHERE tenant_id = $1 AND api = $2 AND idem_key = $3";

/// The API key unless revoked (its tenant and scopes), the tenant's device and its row version
/// (`xmin`), and the request stored under the idempotency key, if any: one statement, so one
/// snapshot and one round trip. No row: the API key is unknown or revoked. The device and the
/// request are lateral subqueries kept apart (`OFFSET 0`), so each is an index lookup under the
/// key's tenant even before the tables have statistics (joined plainly, a generic plan scanned
/// the devices).
const READ_FOR_ISSUE: &str = "SELECT d.id, d.tenant_id, d.serial, d.params, d.sealed, d.imported_counter,
       d.counter, d.state, d.expiry, d.payg_disabled, d.model, d.audit_seq, d.audit_head,
       d.metrics_profile, d.version,
       i.request_hash, i.response_status, i.response, k.tenant_id, k.scopes
     FROM api_keys k
     LEFT JOIN LATERAL (SELECT id, tenant_id, serial, params, sealed, imported_counter, counter, state,
         expiry, payg_disabled, model, audit_seq, audit_head, metrics_profile, xmin::text AS version
       FROM devices WHERE tenant_id = k.tenant_id AND serial = $2 OFFSET 0) d ON TRUE
     LEFT JOIN LATERAL (SELECT request_hash, response_status, response FROM issuances
       WHERE tenant_id = k.tenant_id AND api = $3 AND idem_key = $4 OFFSET 0) i ON TRUE
     WHERE k.key_hash = $1 AND k.revoked_at IS NULL";

const LOCK_DEVICE: &str =
    "SELECT id, tenant_id, serial, params, sealed, imported_counter, counter, state,
       expiry, payg_disabled, model, audit_seq, audit_head, metrics_profile, xmin::text
     FROM devices WHERE tenant_id = $1 AND serial = $2 FOR UPDATE";

/// An issuance's writes in one statement, on three conditions: the API key (`$27`) is still
/// valid for the device's tenant, the idempotency key is unused, and the device row is still the
/// version the plan was computed from (`$26`, its `xmin`, and `$25`, its audit head: a cached
/// version may be old, and transaction ids are reused after a wraparound or a restore). Then it writes the device's new state
/// and audit head, the issuance and the audit event, and answers the row's new version. No row:
/// the API key is unknown or revoked; else the new version (written), or the request stored under
/// the key (a replay or a reused key), or neither (the device moved). Nothing is written unless
/// all three hold.
const WRITE_ISSUANCE: &str = "WITH valid AS (
       SELECT 1 FROM api_keys WHERE key_hash = $27 AND revoked_at IS NULL AND tenant_id = $1),
     prior AS (
       SELECT request_hash, response_status, response FROM issuances
       WHERE tenant_id = $1 AND api = $3 AND idem_key = $4),
     moved AS (
       UPDATE devices SET counter = $16, state = $17, expiry = $18, payg_disabled = $19,
         audit_seq = $20, audit_head = $21 WHERE id = $2 AND xmin::text = $26 AND audit_head = $25
         AND EXISTS (SELECT FROM valid) AND NOT EXISTS (SELECT FROM prior)
       RETURNING id, xmin::text AS version),
     issued AS (
       INSERT INTO issuances (tenant_id, device_id, api, idem_key, request_hash, sequence, token, command,
         status, payment_ref, reason, created_at, committed_at, response_status, response)
       SELECT $1::BIGINT, id, $3::TEXT, $4::TEXT, $5::BYTEA, $6::BIGINT, $7::TEXT, $8::TEXT, $9::TEXT,
         $10::TEXT, $11::TEXT, $12::BIGINT, $13::BIGINT, $14::BIGINT, $15::BYTEA FROM moved),
     audited AS (
       INSERT INTO audit_events (stream, seq, at, kind, body, prev, hash)
       SELECT $22::TEXT, $20::BIGINT, $12::BIGINT, $23::TEXT, $24::TEXT, $25::BYTEA, $21::BYTEA FROM moved)
     SELECT m.version, p.request_hash, p.response_status, p.response
     FROM valid LEFT JOIN moved m ON TRUE LEFT JOIN prior p ON TRUE";

/// The statement every issuance runs, prepared on its connection. The others are looked up
/// only on the paths that run them: each lookup in the connection's statement cache hashes and
/// compares the whole statement text, and the cached path needs the write alone.
struct IssueStatements {
    write: tokio_postgres::Statement,
}

/// What an issuance writes, computed from one version of the device row.
struct Write {
    plan: super::Plan,
    event: Event,
    at: i64,
    committed_at: Option<i64>,
    status: i64,
    state: String,
}

impl Write {
    fn new(device: &DeviceRow, decide: &Decide) -> Result<Self, StoreError> {
        let mut plan = decide(device).map_err(StoreError::Refused)?;
        let at = time::now_micros();
        let (kind, body) = std::mem::take(&mut plan.event);
        let event = audit::follow(
            device.stream(),
            device.audit_seq,
            &device.audit_head,
            kind,
            body,
            at,
        );
        Ok(Self {
            committed_at: (plan.status == "COMMITTED").then_some(at),
            status: i64::from(plan.response.status),
            state: serde_json::to_string(&plan.state).unwrap_or_default(),
            plan,
            event,
            at,
        })
    }

    /// `device` as this write leaves it, and the answer: the new state and audit head are
    /// moved out of the write, and only the columns it leaves alone are copied.
    fn settled(self, device: &DeviceRow) -> (DeviceRow, Stored) {
        let Self { plan, event, .. } = self;
        let moved = DeviceRow {
            id: device.id,
            tenant_id: device.tenant_id,
            serial: device.serial.clone(),
            params: device.params.clone(),
            sealed: device.sealed.clone(),
            imported_counter: device.imported_counter,
            counter: plan.counter,
            state: plan.state,
            expiry: plan.expiry,
            payg_disabled: plan.payg_disabled,
            model: device.model.clone(),
            metrics: device.metrics.clone(),
            audit_seq: event.seq,
            audit_head: event.hash,
        };
        (moved, plan.response)
    }
}

/// One issuance request, as the store sees it.
struct Issue<'a> {
    who: &'a Credential,
    api: &'static str,
    key: &'a str,
    hash: &'a [u8],
    serial: &'a str,
    decide: &'a Decide,
}

impl Issue<'_> {
    /// The parameters of [`WRITE_ISSUANCE`] for `w`, computed from the device row `version`.
    fn params<'a>(
        &'a self,
        device: &'a DeviceRow,
        version: &'a (dyn ToSql + Sync),
        w: &'a Write,
    ) -> [&'a (dyn ToSql + Sync); 27] {
        [
            &device.tenant_id,
            &device.id,
            &self.api,
            &self.key,
            &self.hash,
            &w.plan.sequence,
            &w.plan.token,
            &w.plan.command,
            &w.plan.status,
            &w.plan.payment_ref,
            &w.plan.reason,
            &w.at,
            &w.committed_at,
            &w.status,
            &w.plan.response.body,
            &w.plan.counter,
            &w.state,
            &w.plan.expiry,
            &w.plan.payg_disabled,
            &w.event.seq,
            &w.event.hash,
            &w.event.stream,
            &w.event.kind,
            &w.event.body,
            &w.event.prev,
            version,
            &self.who.key_hash,
        ]
    }

    /// The request stored under the key for `tenant`, against this one.
    async fn stored_request(
        &self,
        c: &deadpool_postgres::Object,
        tenant: i64,
    ) -> Result<Option<Result<Outcome, StoreError>>, StoreError> {
        let find = c.prepare_cached(FIND_REQUEST).await.map_err(|e| db(&e))?;
        let row = c
            .query_opt(&find, &[&tenant, &self.api, &self.key])
            .await
            .map_err(|e| db(&e))?;
        Ok(replay(row.as_ref().map(stored).transpose()?, self.hash))
    }

    /// What a conditional write's answer means: the fresh answer (the device, as written, goes
    /// to the cache), a replay or a reused key, or `None` if it wrote nothing for another reason
    /// (the device moved, the API key was revoked).
    async fn settle(
        &self,
        c: &deadpool_postgres::Object,
        cache: &Cache,
        device: &DeviceRow,
        written: Result<Option<Row>, tokio_postgres::Error>,
        w: Write,
    ) -> Result<Option<Outcome>, StoreError> {
        let row = match written {
            Ok(Some(row)) => row,
            Ok(None) => return Ok(None),
            Err(e) if key_taken(&e) => {
                return match self.stored_request(c, device.tenant_id).await? {
                    Some(outcome) => outcome.map(Some),
                    None => Err(StoreError::KeyReused),
                };
            }
            Err(e) => return Err(db(&e)),
        };
        if let Some(version) = row.try_get::<_, Option<&str>>(0).map_err(|e| db(&e))? {
            let (moved, response) = w.settled(device);
            cache.device(moved, version);
            cache.answered(device.tenant_id, self.api, self.key);
            return Ok(Some(Outcome::Fresh(response)));
        }
        let found = replay(stored_at(&row, 1)?, self.hash);
        if found.is_some() {
            cache.answered(device.tenant_id, self.api, self.key);
        } else {
            cache.forget(device.tenant_id, &device.serial);
        }
        found.transpose()
    }
}

/// How an optimistic attempt ended.
enum Attempt {
    /// Replayed, issued, or refused.
    Done(Outcome),
    /// The device of `tenant` moved between the read and the write: nothing was written.
    Moved {
        /// The API key's tenant.
        tenant: i64,
    },
}

/// The API key's tenant and scopes in columns `base`, `base + 1`.
fn api_key_at(r: &Row, base: usize) -> Result<(i64, Scopes), StoreError> {
    let tenant = r.try_get(base).map_err(|e| db(&e))?;
    let scopes: &str = r.try_get(base + 1).map_err(|e| db(&e))?;
    Ok((tenant, Scopes::parse(scopes).unwrap_or_default()))
}

/// Whether a write failed because another request took the idempotency key first.
fn key_taken(e: &tokio_postgres::Error) -> bool {
    e.code() == Some(&SqlState::UNIQUE_VIOLATION)
        && e.as_db_error()
            .and_then(|d| d.constraint())
            .is_some_and(|c| c.contains("idem_key"))
}

/// A stored request against this one's hash: a replay, or a reused key.
fn replay(found: Option<(Vec<u8>, Stored)>, hash: &[u8]) -> Option<Result<Outcome, StoreError>> {
    found.map(|(stored_hash, stored)| {
        if stored_hash == hash {
            Ok(Outcome::Replayed(stored))
        } else {
            Err(StoreError::KeyReused)
        }
    })
}

/// A transaction opened on a pooled connection. Dropped while open (an early return, a
/// cancelled request), it sends `ROLLBACK` in the background and the connection goes back to
/// the pool once that is answered (or leaves it, if it failed).
struct Open {
    client: Option<deadpool_postgres::Object>,
}

impl Open {
    const fn new(client: deadpool_postgres::Object) -> Self {
        Self {
            client: Some(client),
        }
    }

    fn client(&self) -> Result<&deadpool_postgres::Object, StoreError> {
        self.client
            .as_ref()
            .ok_or_else(|| StoreError::Internal("transaction already closed".into()))
    }

    /// The transaction was committed or rolled back by the caller: the connection, free again.
    fn close(mut self) -> Result<deadpool_postgres::Object, StoreError> {
        self.client
            .take()
            .ok_or_else(|| StoreError::Internal("transaction already closed".into()))
    }
}

impl Drop for Open {
    fn drop(&mut self) {
        if let Some(c) = self.client.take() {
            tokio::spawn(async move {
                if c.batch_execute("ROLLBACK").await.is_err() {
                    drop(deadpool_postgres::Object::take(c));
                }
            });
        }
    }
}

impl Postgres {
    /// Connects, migrates (under an advisory lock, so replicas can start together).
    ///
    /// # Errors
    /// A bad URL, or the server cannot be reached or migrated.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        let config = tokio_postgres::Config::from_str(url)
            .map_err(|e| StoreError::Internal(format!("database URL: {e}")))?;
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let size = std::env::var("PAYLOCK_PG_POOL")
            .ok()
            .and_then(|n| n.parse().ok())
            .unwrap_or(24);
        let pool = Pool::builder(manager)
            .max_size(size)
            .wait_timeout(Some(std::time::Duration::from_secs(5)))
            .create_timeout(Some(std::time::Duration::from_secs(2)))
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .build()
            .map_err(|e| StoreError::Internal(e.to_string()))?;
        let this = Self {
            pool,
            cache: Arc::default(),
        };
        this.migrate().await?;
        Ok(this)
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        let mut client = self.pool.get().await.map_err(|e| pool_err(&e))?;
        let tx = client.transaction().await.map_err(|e| db(&e))?;
        tx.batch_execute(
            "SELECT pg_advisory_xact_lock(737001);
             CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL);",
        )
        .await
        .map_err(|e| db(&e))?;
        let done: i64 = tx
            .query_one(
                "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
                &[],
            )
            .await
            .map_err(|e| db(&e))?
            .get(0);
        for (i, sql) in MIGRATIONS.iter().enumerate() {
            let version = i64::try_from(i).unwrap_or(i64::MAX) + 1;
            if version > done {
                tx.batch_execute(sql).await.map_err(|e| db(&e))?;
                tx.execute(
                    "INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)",
                    &[&version, &time::now()],
                )
                .await
                .map_err(|e| db(&e))?;
            }
        }
        tx.commit().await.map_err(|e| db(&e))
    }

    async fn client(&self) -> Result<deadpool_postgres::Object, StoreError> {
        self.pool.get().await.map_err(|e| pool_err(&e))
    }

    /// See [`super::Store::authenticate`].
    ///
    /// # Errors
    /// As there.
    pub async fn authenticate(&self, hash: Vec<u8>) -> Result<Option<Caller>, StoreError> {
        let c = self.client().await?;
        let stmt = c
            .prepare_cached(
                "SELECT id, tenant_id, scopes FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL",
            )
            .await
            .map_err(|e| db(&e))?;
        let row = c.query_opt(&stmt, &[&hash]).await.map_err(|e| db(&e))?;
        Ok(row.map(|r| Caller {
            key_id: r.get(0),
            tenant_id: r.get(1),
            scopes: Scopes::parse(r.get::<_, &str>(2)).unwrap_or_default(),
        }))
    }

    /// See [`super::Store::issue`]. Straight from the cached device first: the plan is computed
    /// and one statement writes it all on the conditions that the API key is valid, the key
    /// unused and the row still that version, and commits by itself. Otherwise optimistic: one
    /// statement checks the API key and reads the device, its row version and the key; the plan
    /// is computed; the same write. If the device moved in between, once more; if it moved
    /// again, under the device's row lock.
    ///
    /// # Errors
    /// As there.
    pub async fn issue(
        &self,
        who: Credential,
        api: Api,
        key: String,
        hash: Vec<u8>,
        serial: String,
        decide: Decide,
    ) -> Result<Outcome, StoreError> {
        let req = Issue {
            who: &who,
            api: api.name(),
            key: &key,
            hash: &hash,
            serial: &serial,
            decide: &decide,
        };
        let c = self.client().await?;
        let write = c.prepare_cached(WRITE_ISSUANCE).await.map_err(|e| db(&e))?;
        let s = IssueStatements { write };
        let c = match self.straight(c, &s, &req).await? {
            (_, Attempt::Done(outcome)) => return Ok(outcome),
            (c, Attempt::Moved { .. }) => c,
        };
        // The device moved: most often a copy of this very request committed first, and the
        // second read replays it without a lock.
        let (c, attempt) = self.optimistic(c, &s, &req).await?;
        if let Attempt::Done(outcome) = attempt {
            return Ok(outcome);
        }
        match self.optimistic(c, &s, &req).await? {
            (_, Attempt::Done(outcome)) => Ok(outcome),
            (c, Attempt::Moved { tenant }) => self.locked(c, &s, &req, tenant).await,
        }
    }

    /// The issuance straight from the cached device row, in one statement; `Moved` (nothing
    /// written, nothing answered) whenever the cache cannot answer: nothing cached, the API key
    /// lacks the scope or was revoked, the plan was refused (the reading path decides again, so
    /// that the key's refusal and a stored answer come first), the device moved.
    async fn straight(
        &self,
        c: deadpool_postgres::Object,
        s: &IssueStatements,
        req: &Issue<'_>,
    ) -> Result<(deadpool_postgres::Object, Attempt), StoreError> {
        let moved = |c| Ok((c, Attempt::Moved { tenant: 0 }));
        let Some((tenant, scopes, known)) =
            self.cache
                .get(&req.who.key_hash, req.serial, req.api, req.key)
        else {
            return moved(c);
        };
        if req.who.admit(Some((tenant, scopes))).is_err() {
            return moved(c);
        }
        let Ok(w) = Write::new(&known.device, req.decide) else {
            return moved(c);
        };
        self.write(c, s, req, &known.device, &known.version, w)
            .await
    }

    /// The optimistic issuance: the API key checked, then a replay, an issuance, or the device
    /// found moved between the read and the write (nothing written).
    async fn optimistic(
        &self,
        c: deadpool_postgres::Object,
        s: &IssueStatements,
        req: &Issue<'_>,
    ) -> Result<(deadpool_postgres::Object, Attempt), StoreError> {
        let read = c.prepare_cached(READ_FOR_ISSUE).await.map_err(|e| db(&e))?;
        let row = c
            .query_opt(&read, &[&req.who.key_hash, &req.serial, &req.api, &req.key])
            .await
            .map_err(|e| db(&e))?;
        let api_key = row.as_ref().map(|r| api_key_at(r, 18)).transpose()?;
        req.who.admit(api_key)?;
        let (Some(row), Some((tenant, scopes))) = (row, api_key) else {
            return Err(StoreError::Unauthenticated);
        };
        self.cache.key(&req.who.key_hash, tenant, scopes);
        let found = replay(stored_at(&row, 15)?, req.hash);
        if row
            .try_get::<_, Option<i64>>(0)
            .map_err(|e| db(&e))?
            .is_none()
        {
            // No such device; a key stored for another request still says it was reused.
            return found
                .unwrap_or(Err(StoreError::NoDevice))
                .map(|o| (c, Attempt::Done(o)));
        }
        if let Some(outcome) = found {
            return outcome.map(|o| (c, Attempt::Done(o)));
        }
        let device = device_row(&row)?;
        let version: &str = row.try_get(14).map_err(|e| db(&e))?;
        let w = Write::new(&device, req.decide)?;
        self.write(c, s, req, &device, version, w).await
    }

    /// The conditional write of `w`, computed from `device` at `version`, committed by itself.
    async fn write(
        &self,
        c: deadpool_postgres::Object,
        s: &IssueStatements,
        req: &Issue<'_>,
        device: &DeviceRow,
        version: &str,
        w: Write,
    ) -> Result<(deadpool_postgres::Object, Attempt), StoreError> {
        let params = req.params(device, &version, &w);
        let (c, written) = if crate::fault::armed() {
            // The same write in an explicit transaction, so that the test hook can kill the
            // service between the write and its commit.
            let tx = Open::new(c);
            let client = tx.client()?;
            let (begun, written) = tokio::join!(
                client.batch_execute("BEGIN"),
                client.query_opt(&s.write, &params)
            );
            begun.map_err(|e| db(&e))?;
            let fresh = matches!(&written, Ok(Some(r)) if r.try_get::<_, Option<&str>>(0).ok().flatten().is_some());
            let end = if fresh {
                crate::fault::before_commit();
                "COMMIT"
            } else {
                "ROLLBACK"
            };
            client.batch_execute(end).await.map_err(|e| db(&e))?;
            (tx.close()?, written)
        } else {
            let written = c.query_opt(&s.write, &params).await;
            (c, written)
        };
        let outcome = req.settle(&c, &self.cache, device, written, w).await?;
        let attempt = outcome.map_or(
            Attempt::Moved {
                tenant: device.tenant_id,
            },
            Attempt::Done,
        );
        Ok((c, attempt))
    }

    /// The issuance under the device's row lock, in two pipelined round trips: `BEGIN` + lock +
    /// key lookup (its own statement, so its snapshot is taken once the lock is granted and it
    /// sees a copy that committed while this one waited), then the write + `COMMIT`.
    async fn locked(
        &self,
        c: deadpool_postgres::Object,
        s: &IssueStatements,
        req: &Issue<'_>,
        tenant: i64,
    ) -> Result<Outcome, StoreError> {
        let (lock, find) = tokio::try_join!(
            c.prepare_cached(LOCK_DEVICE),
            c.prepare_cached(FIND_REQUEST),
        )
        .map_err(|e| db(&e))?;
        let tx = Open::new(c);
        let c = tx.client()?;
        let lock_params: [&(dyn ToSql + Sync); 2] = [&tenant, &req.serial];
        let find_params: [&(dyn ToSql + Sync); 3] = [&tenant, &req.api, &req.key];
        let (begun, device, existing) = tokio::join!(
            c.batch_execute("BEGIN"),
            c.query_opt(&lock, &lock_params),
            c.query_opt(&find, &find_params),
        );
        begun.map_err(|e| db(&e))?;
        let row = device.map_err(|e| db(&e))?.ok_or(StoreError::NoDevice)?;
        let existing = existing.map_err(|e| db(&e))?;
        if let Some(outcome) = replay(existing.as_ref().map(stored).transpose()?, req.hash) {
            return outcome;
        }
        let device = device_row(&row)?;
        let version: &str = row.try_get(14).map_err(|e| db(&e))?;
        let w = Write::new(&device, req.decide)?;
        let params = req.params(&device, &version, &w);
        let (written, committed) = then_commit(c, c.query_opt(&s.write, &params)).await;
        let c = tx.close()?;
        let failed = written.is_err();
        // No row: the API key was revoked since this issuance's first read.
        let valid = !matches!(written, Ok(None));
        let outcome = req.settle(&c, &self.cache, &device, written, w).await?;
        if !failed {
            committed.map_err(|e| db(&e))?;
        }
        if !valid {
            return Err(StoreError::Unauthenticated);
        }
        outcome.ok_or_else(|| StoreError::Internal("a locked device moved".into()))
    }

    /// See [`super::Store::commit`].
    ///
    /// # Errors
    /// As there.
    pub async fn commit(
        &self,
        who: Credential,
        key: String,
        decide: DecideCommit,
    ) -> Result<Outcome, StoreError> {
        let c = self.client().await?;
        let (lock, read, write) = tokio::try_join!(
            c.prepare_cached(LOCK_FOR_COMMIT),
            c.prepare_cached(READ_FOR_COMMIT),
            c.prepare_cached(WRITE_COMMIT),
        )
        .map_err(|e| db(&e))?;
        // One round trip: `BEGIN`, the API key and the update's device locked (the order every
        // issuance uses), then the key, the update and the device read once the lock is held.
        let tx = Open::new(c);
        let c = tx.client()?;
        let params: [&(dyn ToSql + Sync); 2] = [&who.key_hash, &key];
        let (begun, locked, found) = tokio::join!(
            c.batch_execute("BEGIN"),
            c.query_opt(&lock, &params),
            c.query_opt(&read, &params),
        );
        begun.map_err(|e| db(&e))?;
        let locked = locked.map_err(|e| db(&e))?;
        let found = found.map_err(|e| db(&e))?;
        let Some(row) = locked else {
            // No such update for a valid key, or no valid key: the read tells which.
            who.admit(found.map(|r| api_key_at(&r, 28)).transpose()?)?;
            return Err(StoreError::NotFound);
        };
        who.admit(Some(api_key_at(&row, 0)?))?;
        let found = found.ok_or_else(|| StoreError::Internal("a locked update vanished".into()))?;
        let issuance = issuance_row_at(&found, 14)?;
        if let Some(body) = issuance.commit_response.clone() {
            return Ok(Outcome::Replayed(Stored { status: 200, body }));
        }
        let device = device_row_at(&found, 0)?;
        let plan = decide(&device, &issuance).map_err(StoreError::Refused)?;
        let at = time::now_micros();
        let event = audit::next(
            &device.stream(),
            device.audit_seq,
            &device.audit_head,
            &plan.event.0,
            &plan.event.1,
            at,
        );
        let params: [&(dyn ToSql + Sync); 12] = [
            &issuance.id,
            &at,
            &plan.response,
            &device.id,
            &plan.expiry,
            &plan.payg_disabled,
            &event.seq,
            &event.hash,
            &event.stream,
            &event.kind,
            &event.body,
            &event.prev,
        ];
        let (written, committed) = then_commit(c, c.execute(&write, &params)).await;
        drop(tx.close()?);
        match written.map_err(|e| db(&e))? {
            1 => {}
            n => return Err(StoreError::Internal(format!("a commit wrote {n} rows"))),
        }
        committed.map_err(|e| db(&e))?;
        Ok(Outcome::Fresh(Stored {
            status: 200,
            body: plan.response,
        }))
    }

    /// See [`super::Store::device_for`].
    ///
    /// # Errors
    /// As there.
    pub async fn device_for(
        &self,
        who: Credential,
        serial: String,
    ) -> Result<Option<DeviceRow>, StoreError> {
        let c = self.client().await?;
        let stmt = c.prepare_cached(DEVICE_FOR_KEY).await.map_err(|e| db(&e))?;
        let Some(r) = c
            .query_opt(&stmt, &[&who.key_hash, &serial])
            .await
            .map_err(|e| db(&e))?
        else {
            return who.admit(None).map(|_| None);
        };
        let at = DEVICE_COLS.split(", ").count();
        who.admit(Some(api_key_at(&r, at)?))?;
        match r.try_get::<_, Option<i64>>(0).map_err(|e| db(&e))? {
            Some(_) => device_row(&r).map(Some),
            None => Ok(None),
        }
    }

    /// See [`super::Store::device`].
    ///
    /// # Errors
    /// As there.
    pub async fn device(
        &self,
        tenant: i64,
        serial: String,
    ) -> Result<Option<DeviceRow>, StoreError> {
        let c = self.client().await?;
        let stmt = c
            .prepare_cached(DEVICE_BY_SERIAL)
            .await
            .map_err(|e| db(&e))?;
        c.query_opt(&stmt, &[&tenant, &serial])
            .await
            .map_err(|e| db(&e))?
            .as_ref()
            .map(device_row)
            .transpose()
    }

    /// See [`super::Store::devices`].
    ///
    /// # Errors
    /// As there.
    pub async fn devices(
        &self,
        tenant: i64,
        offset: i64,
        limit: i64,
    ) -> Result<Vec<DeviceRow>, StoreError> {
        let c = self.client().await?;
        let stmt = c.prepare_cached(DEVICE_PAGE).await.map_err(|e| db(&e))?;
        c.query(&stmt, &[&tenant, &limit, &offset])
            .await
            .map_err(|e| db(&e))?
            .iter()
            .map(device_row)
            .collect()
    }

    /// See [`super::Store::issuances`].
    ///
    /// # Errors
    /// As there.
    pub async fn issuances(
        &self,
        tenant: i64,
        serial: Option<String>,
        api_key: Option<(Api, String)>,
    ) -> Result<Vec<IssuanceRow>, StoreError> {
        let c = self.client().await?;
        let (api, key) =
            api_key.map_or((None, None), |(a, k)| (Some(a.name().to_owned()), Some(k)));
        let stmt = c.prepare_cached(ISSUANCE_LIST).await.map_err(|e| db(&e))?;
        c.query(&stmt, &[&tenant, &serial, &api, &key])
            .await
            .map_err(|e| db(&e))?
            .iter()
            .map(issuance_row)
            .collect()
    }

    /// See [`super::Store::provision`].
    ///
    /// # Errors
    /// As there.
    pub async fn provision(
        &self,
        tenant: i64,
        devices: Vec<NewDevice>,
        compare: Compare,
        source: String,
    ) -> Result<ImportReport, StoreError> {
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(|e| db(&e))?;
        // One import at a time per tenant: the tenant's audit head is the lock.
        lock_tenant_head(&tx, tenant).await?;
        let mut report = ImportReport::default();
        let dsql = tx
            .prepare_cached(DEVICE_BY_SERIAL)
            .await
            .map_err(|e| db(&e))?;
        for d in &devices {
            if let Some(row) = tx
                .query_opt(&dsql, &[&tenant, &d.serial])
                .await
                .map_err(|e| db(&e))?
            {
                let existing = device_row(&row)?;
                match compare(&existing, d) {
                    None => report.skipped.push(d.serial.clone()),
                    Some(differs) => report.conflicts.push(Conflict {
                        serial_number: d.serial.clone(),
                        differs,
                    }),
                }
                continue;
            }
            let at = time::now_micros();
            let params = serde_json::to_string(&d.params).unwrap_or_default();
            let genesis = audit::GENESIS.to_vec();
            let id: i64 = tx
                .query_one(
                    "INSERT INTO devices (tenant_id, serial, scheme, params, sealed, imported_counter, counter, state,
                       model, audit_seq, audit_head, created_at, metrics_profile)
                     VALUES ($1, $2, $3, $4, $5, $6, $6, '{}', $7, 0, $8, $9, $10) RETURNING id",
                    &[&tenant, &d.serial, &d.params.scheme(), &params, &d.sealed, &d.counter, &d.model, &genesis, &at, &d.metrics],
                )
                .await
                .map_err(|e| db(&e))?
                .get(0);
            let body = serde_json::json!({"serial_number": d.serial, "token_scheme": d.params.scheme(), "counter": d.counter, "source": source}).to_string();
            let event = audit::next(
                &format!("device:{id}"),
                0,
                &audit::GENESIS,
                "device.provisioned",
                &body,
                at,
            );
            tx.execute(
                "UPDATE devices SET audit_seq = $2, audit_head = $3 WHERE id = $1",
                &[&id, &event.seq, &event.hash],
            )
            .await
            .map_err(|e| db(&e))?;
            insert_event(&tx, &event).await?;
            report.imported.push(d.serial.clone());
        }
        let body = serde_json::json!({
            "source": source,
            "imported": report.imported.len(),
            "skipped": report.skipped.len(),
            "conflicts": report.conflicts.iter().map(|c| &c.serial_number).collect::<Vec<_>>(),
        })
        .to_string();
        if report.audited(&source) {
            tenant_event(&tx, tenant, "devices.imported", &body).await?;
        }
        crate::fault::before_commit();
        tx.commit().await.map_err(|e| db(&e))?;
        Ok(report)
    }

    /// See [`super::Store::set_model`].
    ///
    /// # Errors
    /// As there.
    pub async fn set_model(
        &self,
        tenant: i64,
        serial: String,
        model: Option<String>,
    ) -> Result<(), StoreError> {
        let c = self.client().await?;
        let n = c
            .execute(
                "UPDATE devices SET model = $3 WHERE tenant_id = $1 AND serial = $2",
                &[&tenant, &serial, &model],
            )
            .await
            .map_err(|e| db(&e))?;
        if n == 0 {
            Err(StoreError::NoDevice)
        } else {
            Ok(())
        }
    }

    /// See [`super::Store::create_api_key`].
    ///
    /// # Errors
    /// As there.
    pub async fn create_api_key(
        &self,
        tenant: String,
        hash: Vec<u8>,
        scopes: Scopes,
        label: String,
    ) -> Result<(i64, i64), StoreError> {
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(|e| db(&e))?;
        tx.execute(
            "INSERT INTO tenants (name, created_at) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
            &[&tenant, &time::now()],
        )
        .await
        .map_err(|e| db(&e))?;
        let tenant_id: i64 = tx
            .query_one("SELECT id FROM tenants WHERE name = $1", &[&tenant])
            .await
            .map_err(|e| db(&e))?
            .get(0);
        let key_id: i64 = tx
            .query_one(
                "INSERT INTO api_keys (tenant_id, key_hash, scopes, label, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
                &[&tenant_id, &hash, &scopes.to_list(), &label, &time::now()],
            )
            .await
            .map_err(|e| db(&e))?
            .get(0);
        let body =
            serde_json::json!({"key_id": key_id, "scopes": scopes.to_list(), "label": label})
                .to_string();
        tenant_event(&tx, tenant_id, "api_key.created", &body).await?;
        tx.commit().await.map_err(|e| db(&e))?;
        Ok((tenant_id, key_id))
    }

    /// See [`super::Store::revoke_api_key`].
    ///
    /// # Errors
    /// As there.
    pub async fn revoke_api_key(&self, key_id: i64) -> Result<(), StoreError> {
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(|e| db(&e))?;
        let tenant: i64 = tx
            .query_opt(
                "UPDATE api_keys SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL RETURNING tenant_id",
                &[&key_id, &time::now()],
            )
            .await
            .map_err(|e| db(&e))?
            .ok_or(StoreError::NotFound)?
            .get(0);
        let body = serde_json::json!({"key_id": key_id}).to_string();
        tenant_event(&tx, tenant, "api_key.revoked", &body).await?;
        tx.commit().await.map_err(|e| db(&e))
    }

    /// See [`super::Store::has_api_keys`].
    ///
    /// # Errors
    /// As there.
    pub async fn has_api_keys(&self) -> Result<bool, StoreError> {
        let c = self.client().await?;
        Ok(c.query_one("SELECT EXISTS (SELECT 1 FROM api_keys)", &[])
            .await
            .map_err(|e| db(&e))?
            .get(0))
    }

    /// See [`super::Store::tenant`].
    ///
    /// # Errors
    /// As there.
    pub async fn tenant(&self, name: String) -> Result<Option<i64>, StoreError> {
        let c = self.client().await?;
        Ok(
            c.query_opt("SELECT id FROM tenants WHERE name = $1", &[&name])
                .await
                .map_err(|e| db(&e))?
                .map(|r| r.get(0)),
        )
    }

    /// See [`super::Store::audit_dump`].
    ///
    /// # Errors
    /// As there.
    pub async fn audit_dump(&self) -> Result<AuditDump, StoreError> {
        let c = self.client().await?;
        let events = c
            .query(
                "SELECT stream, seq, at, kind, body, prev, hash FROM audit_events",
                &[],
            )
            .await
            .map_err(|e| db(&e))?
            .iter()
            .map(|r| Event {
                stream: r.get(0),
                seq: r.get(1),
                at: r.get(2),
                kind: r.get(3),
                body: r.get(4),
                prev: r.get(5),
                hash: r.get(6),
            })
            .collect();
        let heads = c
            .query(
                "SELECT 'device:' || id, audit_seq, audit_head FROM devices
                 UNION ALL SELECT stream, seq, head FROM audit_heads",
                &[],
            )
            .await
            .map_err(|e| db(&e))?
            .iter()
            .map(|r| (r.get::<_, String>(0), (r.get(1), r.get(2))))
            .collect();
        Ok((events, heads))
    }

    /// See [`super::Store::ping`].
    ///
    /// # Errors
    /// As there.
    pub async fn ping(&self) -> Result<(), StoreError> {
        let c = self.client().await?;
        c.query_one("SELECT 1", &[]).await.map_err(|e| db(&e))?;
        Ok(())
    }
}

async fn insert_event(
    tx: &deadpool_postgres::Transaction<'_>,
    e: &Event,
) -> Result<(), StoreError> {
    let insert = tx
        .prepare_cached(
            "INSERT INTO audit_events (stream, seq, at, kind, body, prev, hash) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .await
        .map_err(|e| db(&e))?;
    tx.execute(
        &insert,
        &[&e.stream, &e.seq, &e.at, &e.kind, &e.body, &e.prev, &e.hash],
    )
    .await
    .map_err(|e| db(&e))?;
    Ok(())
}

async fn lock_tenant_head(
    tx: &deadpool_postgres::Transaction<'_>,
    tenant: i64,
) -> Result<(i64, Vec<u8>), StoreError> {
    let stream = format!("tenant:{tenant}");
    tx.execute(
        "INSERT INTO audit_heads (stream, seq, head) VALUES ($1, 0, $2) ON CONFLICT (stream) DO NOTHING",
        &[&stream, &audit::GENESIS.to_vec()],
    )
    .await
    .map_err(|e| db(&e))?;
    let row = tx
        .query_one(
            "SELECT seq, head FROM audit_heads WHERE stream = $1 FOR UPDATE",
            &[&stream],
        )
        .await
        .map_err(|e| db(&e))?;
    Ok((row.get(0), row.get(1)))
}

async fn tenant_event(
    tx: &deadpool_postgres::Transaction<'_>,
    tenant: i64,
    kind: &str,
    body: &str,
) -> Result<(), StoreError> {
    let (seq, head) = lock_tenant_head(tx, tenant).await?;
    let stream = format!("tenant:{tenant}");
    let event = audit::next(&stream, seq, &head, kind, body, time::now_micros());
    tx.execute(
        "UPDATE audit_heads SET seq = $2, head = $3 WHERE stream = $1",
        &[&stream, &event.seq, &event.hash],
    )
    .await
    .map_err(|e| db(&e))?;
    insert_event(tx, &event).await
}

/// Sends a transaction's last write and its `COMMIT` in one round trip: `writing` is the write's
/// future, not yet polled (tokio-postgres sends a statement when its future is first polled, so
/// the two go out in this order). A failed write aborts the transaction, and PostgreSQL answers
/// the COMMIT behind it with a rollback, so the write's own result decides. With the test hook
/// armed the two go one after the other, so that the hook can kill the service between them.
async fn then_commit<T>(
    c: &tokio_postgres::Client,
    writing: impl Future<Output = Result<T, tokio_postgres::Error>>,
) -> (
    Result<T, tokio_postgres::Error>,
    Result<(), tokio_postgres::Error>,
) {
    let committing = c.batch_execute("COMMIT");
    if crate::fault::armed() {
        let written = writing.await;
        crate::fault::before_commit();
        (written, committing.await)
    } else {
        tokio::join!(writing, committing)
    }
}
