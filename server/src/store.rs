//! The ledger: devices, issuances, API keys and audit events in SQLite or PostgreSQL.
//!
//! Every issuance is one unit of work under the device's lock: re-check the idempotency key,
//! let the caller compute the token from the locked row ([`Decide`]), then store the issuance,
//! the device's new counter and state, and the audit event together. A refusal stores nothing.
//! Both backends give the same guarantees; `UNIQUE (device_id, sequence)` makes a reused count
//! impossible even for a buggy caller.

pub mod postgres;
pub mod report;
pub mod sqlite;

use std::collections::BTreeMap;

use crate::apikey::{Scope, Scopes};
use crate::audit::Event;
use crate::device::Params;
use crate::mint::State;

/// Which API an idempotency key belongs to (their key spaces are separate).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Api {
    /// PaygOps credit update UUIDs.
    Paygops,
    /// Native `Idempotency-Key`s.
    V1,
}

impl Api {
    /// The stored name.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Paygops => "paygops",
            Self::V1 => "v1",
        }
    }
}

/// A device row.
#[derive(Clone, Debug)]
pub struct DeviceRow {
    /// Row id.
    pub id: i64,
    /// Owner.
    pub tenant_id: i64,
    /// Serial number.
    pub serial: String,
    /// Scheme parameters.
    pub params: Params,
    /// The sealed secret ([`crate::kek`]).
    pub sealed: Vec<u8>,
    /// The counter it was provisioned with.
    pub imported_counter: i64,
    /// The current counter.
    pub counter: i64,
    /// Scheme state.
    pub state: State,
    /// Recorded expiry (Unix seconds), none if never credited.
    pub expiry: Option<i64>,
    /// PAYG disabled (paid off).
    pub payg_disabled: bool,
    /// Hardware model.
    pub model: Option<String>,
    /// OpenPAYGO Metrics profile, JSON ([`crate::report::Profile`]), none if not provisioned.
    pub metrics: Option<String>,
    /// Audit stream head.
    pub audit_seq: i64,
    /// Audit stream head hash.
    pub audit_head: Vec<u8>,
}

impl DeviceRow {
    /// The device's audit stream.
    #[must_use]
    pub fn stream(&self) -> String {
        format!("device:{}", self.id)
    }
}

/// An issuance (or a credit update that needed no token).
#[derive(Clone, Debug)]
pub struct IssuanceRow {
    /// Row id.
    pub id: i64,
    /// The device.
    pub device_id: i64,
    /// The device's serial.
    pub serial: String,
    /// The API and key it was made under.
    pub api: String,
    /// The idempotency key.
    pub idem_key: String,
    /// The token's sequence (count, message ID, counter).
    pub sequence: Option<i64>,
    /// The token text.
    pub token: Option<String>,
    /// The order, JSON.
    pub command: Option<String>,
    /// `COMMITTED`, `PENDING`, or `NO_TOKEN`.
    pub status: String,
    /// The payment it was for.
    pub payment_ref: Option<String>,
    /// Why it was issued.
    pub reason: Option<String>,
    /// Unix microseconds.
    pub created_at: i64,
    /// The stored response.
    pub response: Vec<u8>,
    /// The stored response to the PUT that committed it.
    pub commit_response: Option<Vec<u8>>,
}

/// A response stored for replay.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stored {
    /// HTTP status.
    pub status: u16,
    /// Body bytes.
    pub body: Vec<u8>,
}

/// What an issuance stores, planned from the locked device row.
#[derive(Clone, Debug)]
pub struct Plan {
    /// The sequence of the token.
    pub sequence: Option<i64>,
    /// The token.
    pub token: Option<String>,
    /// The order, JSON.
    pub command: Option<String>,
    /// `COMMITTED`, `PENDING`, `NO_TOKEN`.
    pub status: String,
    /// Payment reference.
    pub payment_ref: Option<String>,
    /// Reason.
    pub reason: Option<String>,
    /// The response to store and send.
    pub response: Stored,
    /// The device's new counter, state, expiry and PAYG flag.
    pub counter: i64,
    /// New scheme state.
    pub state: State,
    /// New expiry.
    pub expiry: Option<i64>,
    /// New PAYG flag.
    pub payg_disabled: bool,
    /// Audit event kind and JSON body.
    pub event: (String, String),
}

/// A request refused while planning: its response, nothing stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal(pub Stored);

/// Plans an issuance from the locked device row.
/// It may be called more than once (`PostgreSQL` computes optimistically, then again under the
/// lock if the device moved).
pub type Decide = Box<dyn Fn(&DeviceRow) -> Result<Plan, Refusal> + Send + Sync>;

/// Plans the commit of a PENDING credit update: new expiry and PAYG flag, the response, the
/// audit event.
pub type DecideCommit =
    Box<dyn FnOnce(&DeviceRow, &IssuanceRow) -> Result<CommitPlan, Refusal> + Send>;

/// What a commit stores.
#[derive(Clone, Debug)]
pub struct CommitPlan {
    /// New expiry.
    pub expiry: Option<i64>,
    /// New PAYG flag.
    pub payg_disabled: bool,
    /// The response.
    pub response: Vec<u8>,
    /// Audit event kind and body.
    pub event: (String, String),
}

/// A fresh or replayed response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Made now.
    Fresh(Stored),
    /// Made earlier for the same key and request.
    Replayed(Stored),
}

/// Why the store could not answer.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// The database cannot be reached now; retry.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// The key was used for another request.
    #[error("idempotency key reused for another request")]
    KeyReused,
    /// No such device for this tenant.
    #[error("no such device")]
    NoDevice,
    /// No such record.
    #[error("not found")]
    NotFound,
    /// The API key is unknown or revoked.
    #[error("unknown or revoked API key")]
    Unauthenticated,
    /// The API key lacks this scope.
    #[error("the API key lacks the {} scope", .0.name())]
    Forbidden(Scope),
    /// The planner refused.
    #[error("refused")]
    Refused(Refusal),
    /// The data is inconsistent (a bug or tampering).
    #[error("internal: {0}")]
    Internal(String),
}

/// A device to insert.
#[derive(Clone, Debug)]
pub struct NewDevice {
    /// Serial.
    pub serial: String,
    /// Parameters.
    pub params: Params,
    /// Sealed secret.
    pub sealed: Vec<u8>,
    /// Counter.
    pub counter: i64,
    /// Model.
    pub model: Option<String>,
    /// OpenPAYGO Metrics profile, JSON ([`crate::report::Profile`]).
    pub metrics: Option<String>,
}

/// Compares a new device with the stored one of the same serial: `None` if identical, else
/// the differing fields.
pub type Compare = Box<dyn Fn(&DeviceRow, &NewDevice) -> Option<String> + Send>;

/// What an import did.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct ImportReport {
    /// Serials added.
    pub imported: Vec<String>,
    /// Serials already present with identical fields.
    pub skipped: Vec<String>,
    /// Serials present with different fields: not changed.
    pub conflicts: Vec<Conflict>,
}

impl ImportReport {
    /// Whether the import is recorded as a tenant audit event. A file import is, whatever it
    /// did; one device sent through the API that changed nothing (a repeat, or a conflict
    /// answered 400) is not: a refused or repeated request stores nothing.
    #[must_use]
    pub fn audited(&self, source: &str) -> bool {
        source != API_SOURCE || !self.imported.is_empty()
    }
}

/// The `source` of a device provisioned by one API request (`POST /v1/devices`, PaygOps'
/// `POST /devices`).
pub const API_SOURCE: &str = "api";

/// A conflicting row.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Conflict {
    /// Serial.
    pub serial_number: String,
    /// What differs (never the values of secret fields).
    pub differs: String,
}

/// An authenticated key.
#[derive(Clone, Copy, Debug)]
pub struct Caller {
    /// The key's tenant.
    pub tenant_id: i64,
    /// Its scopes.
    pub scopes: Scopes,
    /// Its row id.
    pub key_id: i64,
}

/// The API key a request came with (its hash) and the scope it needs: an issuance checks them in
/// its first statement, so a revoked key is refused at once and costs no round trip of its own.
#[derive(Clone, Debug)]
pub struct Credential {
    /// SHA-256 of the key ([`crate::apikey::hash`]).
    pub key_hash: Vec<u8>,
    /// The scope the request needs.
    pub scope: Scope,
}

impl Credential {
    /// The key's tenant, given the key's row (tenant and scopes) if it is known and not revoked.
    ///
    /// # Errors
    /// [`StoreError::Unauthenticated`] without a row, [`StoreError::Forbidden`] without the scope.
    pub fn admit(&self, key: Option<(i64, Scopes)>) -> Result<i64, StoreError> {
        match key {
            None => Err(StoreError::Unauthenticated),
            Some((tenant, scopes)) if scopes.allows(self.scope) => Ok(tenant),
            Some(_) => Err(StoreError::Forbidden(self.scope)),
        }
    }
}

/// All audit events and the recorded heads.
pub type AuditDump = (Vec<Event>, BTreeMap<String, (i64, Vec<u8>)>);

/// SQLite or PostgreSQL.
#[derive(Clone, Debug)]
pub enum Store {
    /// SQLite file.
    Sqlite(sqlite::Sqlite),
    /// PostgreSQL server.
    Postgres(postgres::Postgres),
}

macro_rules! both {
    ($self:ident, $s:ident => $e:expr) => {
        match $self {
            Store::Sqlite($s) => $e,
            Store::Postgres($s) => $e,
        }
    };
}

impl Store {
    /// Opens `url` (`sqlite:PATH` or `postgres://…`) and runs the migrations.
    ///
    /// # Errors
    /// An unknown scheme, or the database cannot be opened or migrated.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        if let Some(path) = url.strip_prefix("sqlite:") {
            let path = path.strip_prefix("//").unwrap_or(path);
            Ok(Self::Sqlite(sqlite::Sqlite::open(path).await?))
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Self::Postgres(postgres::Postgres::open(url).await?))
        } else {
            Err(StoreError::Internal(format!(
                "database URL must start with sqlite: or postgres:// (got {:?})",
                url.split(':').next().unwrap_or_default()
            )))
        }
    }

    /// The key with this hash, unless revoked.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`].
    pub async fn authenticate(&self, hash: Vec<u8>) -> Result<Option<Caller>, StoreError> {
        both!(self, s => s.authenticate(hash).await)
    }

    /// Checks the API key, then replays the request stored under the key (or refuses the key if
    /// it was another request), or issues under the device lock (see the module docs). The key
    /// check, the device and the stored request are read by one statement.
    ///
    /// # Errors
    /// [`StoreError`]: unauthenticated, forbidden, unavailable, key reused, no device, refused.
    pub async fn issue(
        &self,
        who: Credential,
        api: Api,
        key: String,
        hash: Vec<u8>,
        serial: String,
        decide: Decide,
    ) -> Result<Outcome, StoreError> {
        match self {
            // A replay is answered by a reader, never queued behind the writer thread.
            Self::Sqlite(s) => {
                let (tenant, found) = s.admit_request(who, api, key.clone()).await?;
                match found {
                    Some((stored_hash, stored)) if stored_hash == hash => {
                        Ok(Outcome::Replayed(stored))
                    }
                    Some(_) => Err(StoreError::KeyReused),
                    None => s.issue(tenant, api, key, hash, serial, decide).await,
                }
            }
            // Its first statement reads the API key, the device and the request stored under
            // the key.
            Self::Postgres(s) => s.issue(who, api, key, hash, serial, decide).await,
        }
    }

    /// Commits a PENDING PaygOps credit update (idempotent: a committed one replays). The API
    /// key is checked in the commit's own transaction: with the update (SQLite), or in the
    /// statement that locks its device (PostgreSQL).
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown UUID, or as [`Self::issue`].
    pub async fn commit(
        &self,
        who: Credential,
        key: String,
        decide: DecideCommit,
    ) -> Result<Outcome, StoreError> {
        both!(self, s => s.commit(who, key, decide).await)
    }

    /// One device of the API key's tenant, the key checked by the statement that reads it.
    ///
    /// # Errors
    /// [`StoreError::Unauthenticated`], [`StoreError::Forbidden`], [`StoreError::Unavailable`].
    pub async fn device_for(
        &self,
        who: Credential,
        serial: String,
    ) -> Result<Option<DeviceRow>, StoreError> {
        both!(self, s => s.device_for(who, serial).await)
    }

    /// One device.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`].
    pub async fn device(
        &self,
        tenant: i64,
        serial: String,
    ) -> Result<Option<DeviceRow>, StoreError> {
        both!(self, s => s.device(tenant, serial).await)
    }

    /// Devices by serial, `limit` from `offset`.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`].
    pub async fn devices(
        &self,
        tenant: i64,
        offset: i64,
        limit: i64,
    ) -> Result<Vec<DeviceRow>, StoreError> {
        both!(self, s => s.devices(tenant, offset, limit).await)
    }

    /// A device's issuances, oldest first (or one by API key when `key` is given).
    ///
    /// # Errors
    /// [`StoreError::Unavailable`].
    pub async fn issuances(
        &self,
        tenant: i64,
        serial: Option<String>,
        api_key: Option<(Api, String)>,
    ) -> Result<Vec<IssuanceRow>, StoreError> {
        both!(self, s => s.issuances(tenant, serial, api_key).await)
    }

    /// Inserts devices in one transaction; identical ones are skipped, different ones reported.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`].
    pub async fn provision(
        &self,
        tenant: i64,
        devices: Vec<NewDevice>,
        compare: Compare,
        source: String,
    ) -> Result<ImportReport, StoreError> {
        both!(self, s => s.provision(tenant, devices, compare, source).await)
    }

    /// Replaces a device's model.
    ///
    /// # Errors
    /// [`StoreError::NoDevice`].
    pub async fn set_model(
        &self,
        tenant: i64,
        serial: String,
        model: Option<String>,
    ) -> Result<(), StoreError> {
        both!(self, s => s.set_model(tenant, serial, model).await)
    }

    /// Creates an API key for the tenant called `tenant` (created if new); returns its id.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`].
    pub async fn create_api_key(
        &self,
        tenant: String,
        hash: Vec<u8>,
        scopes: Scopes,
        label: String,
    ) -> Result<(i64, i64), StoreError> {
        both!(self, s => s.create_api_key(tenant, hash, scopes, label).await)
    }

    /// Revokes an API key by id.
    ///
    /// # Errors
    /// [`StoreError::NotFound`].
    pub async fn revoke_api_key(&self, key_id: i64) -> Result<(), StoreError> {
        both!(self, s => s.revoke_api_key(key_id).await)
    }

    /// Whether any API key exists.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`].
    pub async fn has_api_keys(&self) -> Result<bool, StoreError> {
        both!(self, s => s.has_api_keys().await)
    }

    /// The id of the tenant called `name`.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`].
    pub async fn tenant(&self, name: String) -> Result<Option<i64>, StoreError> {
        both!(self, s => s.tenant(name).await)
    }

    /// Every audit event and head.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`].
    pub async fn audit_dump(&self) -> Result<AuditDump, StoreError> {
        both!(self, s => s.audit_dump().await)
    }

    /// A cheap round trip.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`].
    pub async fn ping(&self) -> Result<(), StoreError> {
        both!(self, s => s.ping().await)
    }
}
