//! SQLite: one writer thread with group commit, and a pool of readers (WAL).
//!
//! A commit with `synchronous=FULL` costs an fsync (3-4 ms on these machines), so the writer
//! takes every job that is waiting, runs each inside its own SAVEPOINT (a refused or failed job
//! rolls back alone), and commits them together: one fsync for the batch. No response is sent
//! before its commit, so a crash loses only requests that were never answered. The single
//! writer is the device lock: jobs run one at a time, each seeing the ones before it.

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use rusqlite::{Connection, OptionalExtension, Row, params};
use tokio::sync::oneshot;

use super::{
    Api, AuditDump, Caller, Compare, Conflict, Credential, Decide, DecideCommit, DeviceRow,
    ImportReport, IssuanceRow, NewDevice, Outcome, StoreError, Stored,
};
use crate::apikey::Scopes;
use crate::audit::{self, Event};
use crate::time;

mod report;

const MIGRATIONS: &[&str] = &[
    include_str!("../../migrations/sqlite/0001_init.sql"),
    include_str!("../../migrations/sqlite/0002_device_reports.sql"),
];
/// Jobs committed together at most.
const BATCH: usize = 512;

type Finish = Box<dyn FnOnce(Result<(), StoreError>) + Send>;
/// A job: run with the connection (or `None` when no transaction could be opened); says
/// whether to keep its writes, and what to do once the commit is known.
type Job = Box<dyn FnOnce(Option<&Connection>) -> (bool, Finish) + Send>;

/// The SQLite ledger.
#[derive(Clone)]
pub struct Sqlite {
    jobs: mpsc::Sender<Job>,
    readers: Arc<Mutex<Vec<Connection>>>,
    path: Arc<PathBuf>,
}

impl std::fmt::Debug for Sqlite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sqlite").field("path", &self.path).finish()
    }
}

fn unavailable(e: &rusqlite::Error) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

fn connect(path: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    Ok(conn)
}

fn migrate(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch("BEGIN IMMEDIATE")?;
    let result = (|| {
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)",
        )?;
        let done: i64 = conn.query_row(
            "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
            [],
            |r| r.get(0),
        )?;
        for (i, sql) in MIGRATIONS.iter().enumerate() {
            let version = i64::try_from(i).unwrap_or(i64::MAX) + 1;
            if version > done {
                conn.execute_batch(sql)?;
                conn.execute(
                    "INSERT INTO schema_migrations (version, applied_at) VALUES (?1, ?2)",
                    params![version, time::now()],
                )?;
            }
        }
        Ok(())
    })();
    conn.execute_batch(if result.is_ok() { "COMMIT" } else { "ROLLBACK" })?;
    result
}

impl Sqlite {
    /// Opens (creating) the file, migrates it and starts the writer.
    ///
    /// # Errors
    /// The file cannot be opened or migrated.
    pub async fn open(path: &str) -> Result<Self, StoreError> {
        let path = PathBuf::from(path);
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| StoreError::Unavailable(e.to_string()))?;
        }
        let p = path.clone();
        let writer = tokio::task::spawn_blocking(move || {
            let conn = connect(&p)?;
            migrate(&conn)?;
            Ok::<_, rusqlite::Error>(conn)
        })
        .await
        .map_err(|e| StoreError::Internal(e.to_string()))?
        .map_err(|e| unavailable(&e))?;
        let (jobs, rx) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("paylock-sqlite-writer".into())
            .spawn(move || write_loop(&writer, &rx))
            .map_err(|e| StoreError::Internal(e.to_string()))?;
        Ok(Self {
            jobs,
            readers: Arc::new(Mutex::new(Vec::new())),
            path: Arc::new(path),
        })
    }

    async fn write<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let (tx, rx) = oneshot::channel();
        let job: Job = Box::new(move |conn| {
            let result = match conn {
                Some(c) => f(c),
                None => Err(StoreError::Unavailable("no write transaction".into())),
            };
            let keep = result.is_ok();
            let finish: Finish = Box::new(move |commit| {
                let _ = tx.send(commit.and(result));
            });
            (keep, finish)
        });
        self.jobs
            .send(job)
            .map_err(|_| StoreError::Unavailable("writer stopped".into()))?;
        rx.await
            .map_err(|_| StoreError::Unavailable("writer stopped".into()))?
    }

    async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    ) -> Result<T, StoreError> {
        let readers = self.readers.clone();
        let path = self.path.clone();
        tokio::task::spawn_blocking(move || {
            let pooled = readers.lock().ok().and_then(|mut r| r.pop());
            let conn = match pooled {
                Some(c) => c,
                None => connect(&path).map_err(|e| unavailable(&e))?,
            };
            let result = f(&conn).map_err(|e| unavailable(&e));
            if let Ok(mut r) = readers.lock() {
                r.push(conn);
            }
            result
        })
        .await
        .map_err(|e| StoreError::Internal(e.to_string()))?
    }

    /// See [`super::Store::authenticate`].
    ///
    /// # Errors
    /// As there.
    pub async fn authenticate(&self, hash: Vec<u8>) -> Result<Option<Caller>, StoreError> {
        self.read(move |c| {
            c.prepare_cached(
                "SELECT id, tenant_id, scopes FROM api_keys WHERE key_hash = ?1 AND revoked_at IS NULL",
            )?
            .query_row(params![hash], |r| {
                Ok(Caller {
                    key_id: r.get(0)?,
                    tenant_id: r.get(1)?,
                    scopes: Scopes::parse(&r.get::<_, String>(2)?).unwrap_or_default(),
                })
            })
            .optional()
        })
        .await
    }

    /// The API key's tenant (checked for `who`'s scope) and the request stored under the key:
    /// its hash and response. One statement, read by a reader.
    ///
    /// # Errors
    /// [`StoreError::Unauthenticated`], [`StoreError::Forbidden`], [`StoreError::Unavailable`].
    pub async fn admit_request(
        &self,
        who: Credential,
        api: Api,
        key: String,
    ) -> Result<(i64, Option<(Vec<u8>, Stored)>), StoreError> {
        let row = self
            .read(move |c| admit_request(c, &who.key_hash, api, &key).map(|r| (who, r)))
            .await?;
        match row {
            (who, None) => who.admit(None).map(|t| (t, None)),
            (who, Some((tenant, scopes, found))) => {
                who.admit(Some((tenant, scopes))).map(|t| (t, found))
            }
        }
    }

    /// See [`super::Store::issue`].
    ///
    /// # Errors
    /// As there.
    pub async fn issue(
        &self,
        tenant: i64,
        api: Api,
        key: String,
        hash: Vec<u8>,
        serial: String,
        decide: Decide,
    ) -> Result<Outcome, StoreError> {
        self.write(move |c| issue(c, tenant, api, &key, &hash, &serial, decide))
            .await
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
        self.write(move |c| commit(c, &who, &key, decide)).await
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
        let (who, found) = self
            .read(move |c| device_for(c, &who.key_hash, &serial).map(|r| (who, r)))
            .await?;
        match found {
            None => who.admit(None).map(|_| None),
            Some((tenant, scopes, device)) => who.admit(Some((tenant, scopes))).map(|_| device),
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
        self.read(move |c| device(c, tenant, &serial)).await
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
        self.read(move |c| {
            let sql = format!(
                "SELECT {DEVICE_COLS} FROM devices WHERE tenant_id = ?1 ORDER BY serial LIMIT ?2 OFFSET ?3"
            );
            let mut stmt = c.prepare_cached(&sql)?;
            let rows = stmt.query_map(params![tenant, limit, offset], device_row)?;
            rows.collect()
        })
        .await
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
        self.read(move |c| {
            let (api, key) = api_key.map_or((None, None), |(a, k)| (Some(a.name()), Some(k)));
            let sql = format!(
                "SELECT {ISSUANCE_COLS} FROM issuances i JOIN devices d ON d.id = i.device_id
                 WHERE i.tenant_id = ?1 AND (?2 IS NULL OR d.serial = ?2)
                   AND (?3 IS NULL OR (i.api = ?3 AND i.idem_key = ?4))
                 ORDER BY i.id"
            );
            let mut stmt = c.prepare_cached(&sql)?;
            let rows = stmt.query_map(params![tenant, serial, api, key], issuance_row)?;
            rows.collect()
        })
        .await
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
        self.write(move |c| {
            provision(c, tenant, &devices, &compare, &source).map_err(|e| unavailable(&e))
        })
        .await
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
        self.write(move |c| {
            let n = c
                .execute(
                    "UPDATE devices SET model = ?3 WHERE tenant_id = ?1 AND serial = ?2",
                    params![tenant, serial, model],
                )
                .map_err(|e| unavailable(&e))?;
            if n == 0 {
                Err(StoreError::NoDevice)
            } else {
                Ok(())
            }
        })
        .await
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
        self.write(move |c| {
            (|| {
                c.execute(
                    "INSERT INTO tenants (name, created_at) VALUES (?1, ?2) ON CONFLICT (name) DO NOTHING",
                    params![tenant, time::now()],
                )?;
                let tenant_id: i64 =
                    c.query_row("SELECT id FROM tenants WHERE name = ?1", params![tenant], |r| r.get(0))?;
                c.execute(
                    "INSERT INTO api_keys (tenant_id, key_hash, scopes, label, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                    params![tenant_id, hash, scopes.to_list(), label, time::now()],
                )?;
                let key_id = c.last_insert_rowid();
                let body = serde_json::json!({"key_id": key_id, "scopes": scopes.to_list(), "label": label}).to_string();
                tenant_event(c, tenant_id, "api_key.created", &body)?;
                Ok((tenant_id, key_id))
            })()
            .map_err(|e: rusqlite::Error| unavailable(&e))
        })
        .await
    }

    /// See [`super::Store::revoke_api_key`].
    ///
    /// # Errors
    /// As there.
    pub async fn revoke_api_key(&self, key_id: i64) -> Result<(), StoreError> {
        self.write(move |c| {
            let tenant: Option<i64> = c
                .query_row(
                    "UPDATE api_keys SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL RETURNING tenant_id",
                    params![key_id, time::now()],
                    |r| r.get(0),
                )
                .optional()
                .map_err(|e| unavailable(&e))?;
            let tenant = tenant.ok_or(StoreError::NotFound)?;
            let body = serde_json::json!({"key_id": key_id}).to_string();
            tenant_event(c, tenant, "api_key.revoked", &body).map_err(|e| unavailable(&e))
        })
        .await
    }

    /// See [`super::Store::has_api_keys`].
    ///
    /// # Errors
    /// As there.
    pub async fn has_api_keys(&self) -> Result<bool, StoreError> {
        self.read(|c| c.query_row("SELECT EXISTS (SELECT 1 FROM api_keys)", [], |r| r.get(0)))
            .await
    }

    /// See [`super::Store::tenant`].
    ///
    /// # Errors
    /// As there.
    pub async fn tenant(&self, name: String) -> Result<Option<i64>, StoreError> {
        self.read(move |c| {
            c.query_row(
                "SELECT id FROM tenants WHERE name = ?1",
                params![name],
                |r| r.get(0),
            )
            .optional()
        })
        .await
    }

    /// See [`super::Store::audit_dump`].
    ///
    /// # Errors
    /// As there.
    pub async fn audit_dump(&self) -> Result<AuditDump, StoreError> {
        self.read(|c| {
            let mut stmt =
                c.prepare("SELECT stream, seq, at, kind, body, prev, hash FROM audit_events")?;
            let events = stmt
                .query_map([], |r| {
                    Ok(Event {
                        stream: r.get(0)?,
                        seq: r.get(1)?,
                        at: r.get(2)?,
                        kind: r.get(3)?,
                        body: r.get(4)?,
                        prev: r.get(5)?,
                        hash: r.get(6)?,
                    })
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            let mut heads = std::collections::BTreeMap::new();
            let mut stmt = c.prepare(
                "SELECT 'device:' || id, audit_seq, audit_head FROM devices
                 UNION ALL SELECT stream, seq, head FROM audit_heads",
            )?;
            for row in stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get(1)?, r.get(2)?)))? {
                let (s, q, h) = row?;
                heads.insert(s, (q, h));
            }
            Ok((events, heads))
        })
        .await
    }

    /// See [`super::Store::ping`].
    ///
    /// # Errors
    /// As there.
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.read(|c| c.query_row("SELECT 1", [], |_| Ok(()))).await
    }
}

fn write_loop(conn: &Connection, rx: &mpsc::Receiver<Job>) {
    while let Ok(first) = rx.recv() {
        let mut batch = vec![first];
        while batch.len() < BATCH {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let begun = conn.execute_batch("BEGIN IMMEDIATE");
        let mut finishers = Vec::with_capacity(batch.len());
        for job in batch {
            if begun.is_err() {
                finishers.push(job(None).1);
                continue;
            }
            let saved = conn.execute_batch("SAVEPOINT job");
            let (keep, finish) = job(saved.is_ok().then_some(conn));
            let end = if keep {
                conn.execute_batch("RELEASE job")
            } else {
                conn.execute_batch("ROLLBACK TO job; RELEASE job")
            };
            if end.is_err() {
                // The savepoint is gone: the batch cannot be trusted; fail it all.
                finishers.push(finish);
                let _ = conn.execute_batch("ROLLBACK");
                fail(finishers, "savepoint lost");
                finishers = Vec::new();
                break;
            }
            finishers.push(finish);
        }
        if finishers.is_empty() {
            continue;
        }
        if let Err(e) = &begun {
            fail(finishers, &e.to_string());
            continue;
        }
        crate::fault::before_commit();
        match conn.execute_batch("COMMIT") {
            Ok(()) => finishers.into_iter().for_each(|f| f(Ok(()))),
            Err(e) => {
                let _ = conn.execute_batch("ROLLBACK");
                fail(finishers, &e.to_string());
            }
        }
    }
}

fn fail(finishers: Vec<Finish>, why: &str) {
    for f in finishers {
        f(Err(StoreError::Unavailable(why.to_owned())));
    }
}

const DEVICE_COLS: &str = "id, tenant_id, serial, params, sealed, imported_counter, counter, state, expiry, payg_disabled, model, audit_seq, audit_head, metrics_profile";
const ISSUANCE_COLS: &str = "i.id, i.device_id, d.serial, i.api, i.idem_key, i.sequence, i.token, i.command, i.status, i.payment_ref, i.reason, i.created_at, i.response, i.commit_response";

fn json_col<T: serde::de::DeserializeOwned>(r: &Row<'_>, i: usize) -> rusqlite::Result<T> {
    let text: String = r.get(i)?;
    serde_json::from_str(&text).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(e))
    })
}

fn device_row(r: &Row<'_>) -> rusqlite::Result<DeviceRow> {
    Ok(DeviceRow {
        id: r.get(0)?,
        tenant_id: r.get(1)?,
        serial: r.get(2)?,
        params: json_col(r, 3)?,
        sealed: r.get(4)?,
        imported_counter: r.get(5)?,
        counter: r.get(6)?,
        state: json_col(r, 7)?,
        expiry: r.get(8)?,
        payg_disabled: r.get(9)?,
        model: r.get(10)?,
        audit_seq: r.get(11)?,
        audit_head: r.get(12)?,
        metrics: r.get(13)?,
    })
}

fn issuance_row(r: &Row<'_>) -> rusqlite::Result<IssuanceRow> {
    Ok(IssuanceRow {
        id: r.get(0)?,
        device_id: r.get(1)?,
        serial: r.get(2)?,
        api: r.get(3)?,
        idem_key: r.get(4)?,
        sequence: r.get(5)?,
        token: r.get(6)?,
        command: r.get(7)?,
        status: r.get(8)?,
        payment_ref: r.get(9)?,
        reason: r.get(10)?,
        created_at: r.get(11)?,
        response: r.get(12)?,
        commit_response: r.get(13)?,
    })
}

fn device(c: &Connection, tenant: i64, serial: &str) -> rusqlite::Result<Option<DeviceRow>> {
    let sql = format!("SELECT {DEVICE_COLS} FROM devices WHERE tenant_id = ?1 AND serial = ?2");
    c.prepare_cached(&sql)?
        .query_row(params![tenant, serial], device_row)
        .optional()
}

/// `cols` (a list of bare column names) as columns of `table`.
fn qualified(table: &str, cols: &str) -> String {
    cols.split(", ")
        .map(|c| format!("{table}.{c}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The API key (unless revoked): its tenant, scopes, and the tenant's device `serial`.
type KeyedDevice = (i64, Scopes, Option<DeviceRow>);

fn device_for(
    c: &Connection,
    key_hash: &[u8],
    serial: &str,
) -> rusqlite::Result<Option<KeyedDevice>> {
    let at = DEVICE_COLS.split(", ").count();
    let sql = format!(
        "SELECT {}, k.tenant_id, k.scopes FROM api_keys k
         LEFT JOIN devices d ON d.tenant_id = k.tenant_id AND d.serial = ?2
         WHERE k.key_hash = ?1 AND k.revoked_at IS NULL",
        qualified("d", DEVICE_COLS)
    );
    c.prepare_cached(&sql)?
        .query_row(params![key_hash, serial], |r| {
            let device = match r.get::<_, Option<i64>>(0)? {
                Some(_) => Some(device_row(r)?),
                None => None,
            };
            let scopes: String = r.get(at + 1)?;
            Ok((
                r.get(at)?,
                Scopes::parse(&scopes).unwrap_or_default(),
                device,
            ))
        })
        .optional()
}

fn find_request(
    c: &Connection,
    tenant: i64,
    api: Api,
    key: &str,
) -> rusqlite::Result<Option<(Vec<u8>, Stored)>> {
    c.prepare_cached(
        "SELECT request_hash, response_status, response FROM issuances
         WHERE tenant_id = ?1 AND api = ?2 AND idem_key = ?3",
    )?
    .query_row(params![tenant, api.name(), key], |r| {
        Ok((
            r.get(0)?,
            Stored {
                status: r.get(1)?,
                body: r.get(2)?,
            },
        ))
    })
    .optional()
}

/// The API key (unless revoked) and the request stored under `key` for its tenant.
type Admitted = (i64, Scopes, Option<(Vec<u8>, Stored)>);

fn admit_request(
    c: &Connection,
    key_hash: &[u8],
    api: Api,
    key: &str,
) -> rusqlite::Result<Option<Admitted>> {
    c.prepare_cached(
        "SELECT k.tenant_id, k.scopes, i.request_hash, i.response_status, i.response
         FROM api_keys k
         LEFT JOIN issuances i ON i.tenant_id = k.tenant_id AND i.api = ?2 AND i.idem_key = ?3
         WHERE k.key_hash = ?1 AND k.revoked_at IS NULL",
    )?
    .query_row(params![key_hash, api.name(), key], |r| {
        let stored = match r.get::<_, Option<Vec<u8>>>(2)? {
            Some(hash) => Some((
                hash,
                Stored {
                    status: r.get(3)?,
                    body: r.get(4)?,
                },
            )),
            None => None,
        };
        Ok((
            r.get(0)?,
            Scopes::parse(&r.get::<_, String>(1)?).unwrap_or_default(),
            stored,
        ))
    })
    .optional()
}

fn issue(
    c: &Connection,
    tenant: i64,
    api: Api,
    key: &str,
    hash: &[u8],
    serial: &str,
    decide: Decide,
) -> Result<Outcome, StoreError> {
    let db = |e: rusqlite::Error| unavailable(&e);
    let device = device(c, tenant, serial)
        .map_err(db)?
        .ok_or(StoreError::NoDevice)?;
    if let Some((stored_hash, stored)) = find_request(c, tenant, api, key).map_err(db)? {
        return if stored_hash == hash {
            Ok(Outcome::Replayed(stored))
        } else {
            Err(StoreError::KeyReused)
        };
    }
    let plan = decide(&device).map_err(StoreError::Refused)?;
    let at = time::now_micros();
    let event = audit::next(
        &device.stream(),
        device.audit_seq,
        &device.audit_head,
        &plan.event.0,
        &plan.event.1,
        at,
    );
    c.prepare_cached(
        "INSERT INTO issuances (tenant_id, device_id, api, idem_key, request_hash, sequence, token, command,
           status, payment_ref, reason, created_at, committed_at, response_status, response)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
    )
    .and_then(|mut s| {
        s.execute(params![
            tenant,
            device.id,
            api.name(),
            key,
            hash,
            plan.sequence,
            plan.token,
            plan.command,
            plan.status,
            plan.payment_ref,
            plan.reason,
            at,
            (plan.status == "COMMITTED").then_some(at),
            plan.response.status,
            plan.response.body,
        ])
    })
    .map_err(|e| match e.sqlite_error_code() {
        Some(rusqlite::ErrorCode::ConstraintViolation) => {
            StoreError::Internal(format!("issuance refused by a constraint: {e}"))
        }
        _ => unavailable(&e),
    })?;
    c.prepare_cached(
        "UPDATE devices SET counter = ?2, state = ?3, expiry = ?4, payg_disabled = ?5, audit_seq = ?6, audit_head = ?7
         WHERE id = ?1",
    )
    .and_then(|mut s| {
        s.execute(params![
            device.id,
            plan.counter,
            serde_json::to_string(&plan.state).unwrap_or_default(),
            plan.expiry,
            plan.payg_disabled,
            event.seq,
            event.hash,
        ])
    })
    .map_err(db)?;
    insert_event(c, &event).map_err(db)?;
    Ok(Outcome::Fresh(plan.response))
}

fn commit(
    c: &Connection,
    who: &Credential,
    key: &str,
    decide: DecideCommit,
) -> Result<Outcome, StoreError> {
    let db = |e: rusqlite::Error| unavailable(&e);
    // The API key and the update under it, in the commit's transaction.
    let at = ISSUANCE_COLS.split(", ").count();
    let sql = format!(
        "SELECT {ISSUANCE_COLS}, k.tenant_id, k.scopes FROM api_keys k
         LEFT JOIN issuances i ON i.tenant_id = k.tenant_id AND i.api = 'paygops' AND i.idem_key = ?2
         LEFT JOIN devices d ON d.id = i.device_id
         WHERE k.key_hash = ?1 AND k.revoked_at IS NULL"
    );
    let found = c
        .prepare_cached(&sql)
        .and_then(|mut s| {
            s.query_row(params![who.key_hash, key], |r| {
                let issuance = match r.get::<_, Option<i64>>(0)? {
                    Some(_) => Some(issuance_row(r)?),
                    None => None,
                };
                let scopes: String = r.get(at + 1)?;
                Ok((
                    r.get::<_, i64>(at)?,
                    Scopes::parse(&scopes).unwrap_or_default(),
                    issuance,
                ))
            })
            .optional()
        })
        .map_err(db)?;
    let (tenant, issuance) = match found {
        None => (who.admit(None)?, None),
        Some((tenant, scopes, issuance)) => (who.admit(Some((tenant, scopes)))?, issuance),
    };
    let issuance = issuance.ok_or(StoreError::NotFound)?;
    if let Some(body) = issuance.commit_response.clone() {
        return Ok(Outcome::Replayed(Stored { status: 200, body }));
    }
    let device = device(c, tenant, &issuance.serial)
        .map_err(db)?
        .ok_or(StoreError::NoDevice)?;
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
    c.execute(
        "UPDATE issuances SET status = 'COMMITTED', committed_at = ?2, commit_response = ?3 WHERE id = ?1",
        params![issuance.id, at, plan.response],
    )
    .map_err(db)?;
    c.execute(
        "UPDATE devices SET expiry = ?2, payg_disabled = ?3, audit_seq = ?4, audit_head = ?5 WHERE id = ?1",
        params![device.id, plan.expiry, plan.payg_disabled, event.seq, event.hash],
    )
    .map_err(db)?;
    insert_event(c, &event).map_err(db)?;
    Ok(Outcome::Fresh(Stored {
        status: 200,
        body: plan.response,
    }))
}

fn insert_event(c: &Connection, e: &Event) -> rusqlite::Result<()> {
    c.prepare_cached(
        "INSERT INTO audit_events (stream, seq, at, kind, body, prev, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![e.stream, e.seq, e.at, e.kind, e.body, e.prev, e.hash])?;
    Ok(())
}

fn tenant_event(c: &Connection, tenant: i64, kind: &str, body: &str) -> rusqlite::Result<()> {
    let stream = format!("tenant:{tenant}");
    let (seq, head): (i64, Vec<u8>) = c
        .query_row(
            "SELECT seq, head FROM audit_heads WHERE stream = ?1",
            params![stream],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?
        .unwrap_or((0, audit::GENESIS.to_vec()));
    let event = audit::next(&stream, seq, &head, kind, body, time::now_micros());
    c.execute(
        "INSERT INTO audit_heads (stream, seq, head) VALUES (?1, ?2, ?3)
         ON CONFLICT (stream) DO UPDATE SET seq = excluded.seq, head = excluded.head",
        params![stream, event.seq, event.hash],
    )?;
    insert_event(c, &event)
}

fn provision(
    c: &Connection,
    tenant: i64,
    devices: &[NewDevice],
    compare: &Compare,
    source: &str,
) -> rusqlite::Result<ImportReport> {
    let mut report = ImportReport::default();
    for d in devices {
        if let Some(existing) = device(c, tenant, &d.serial)? {
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
        c.prepare_cached(
            "INSERT INTO devices (tenant_id, serial, scheme, params, sealed, imported_counter, counter, state,
               model, audit_seq, audit_head, created_at, metrics_profile)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, '{}', ?7, 0, ?8, ?9, ?10)",
        )?
        .execute(params![
            tenant,
            d.serial,
            d.params.scheme(),
            serde_json::to_string(&d.params).unwrap_or_default(),
            d.sealed,
            d.counter,
            d.model,
            audit::GENESIS.to_vec(),
            at,
            d.metrics,
        ])?;
        let id = c.last_insert_rowid();
        let body = serde_json::json!({"serial_number": d.serial, "token_scheme": d.params.scheme(), "counter": d.counter, "source": source}).to_string();
        let event = audit::next(
            &format!("device:{id}"),
            0,
            &audit::GENESIS,
            "device.provisioned",
            &body,
            at,
        );
        c.execute(
            "UPDATE devices SET audit_seq = ?2, audit_head = ?3 WHERE id = ?1",
            params![id, event.seq, event.hash],
        )?;
        insert_event(c, &event)?;
        report.imported.push(d.serial.clone());
    }
    let body = serde_json::json!({
        "source": source,
        "imported": report.imported.len(),
        "skipped": report.skipped.len(),
        "conflicts": report.conflicts.iter().map(|c| &c.serial_number).collect::<Vec<_>>(),
    })
    .to_string();
    if report.audited(source) {
        tenant_event(c, tenant, "devices.imported", &body)?;
    }
    Ok(report)
}
