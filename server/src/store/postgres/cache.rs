//! What this service last wrote or read of each device, so that an issuance can go straight to
//! its conditional write: one statement and one round trip instead of a read and a write.
//!
//! Nothing here is trusted. The write checks, in the same statement, that the API key is still
//! valid, that the idempotency key is unused (or returns its stored answer), and that the
//! device row is still the version the token was computed from; when any of that fails it
//! writes nothing and the issuance takes the reading path. So a stale entry (another replica
//! moved the device, a key was revoked) costs one round trip, never a wrong answer. Device keys
//! stay sealed here: they are opened per request, as on the reading path.

use std::collections::{HashMap, HashSet, VecDeque};
use std::hash::BuildHasher;
use std::sync::{Arc, Mutex, PoisonError};

use crate::apikey::Scopes;
use crate::store::DeviceRow;

/// Devices kept (about half a kilobyte each); past that the map starts again empty.
const DEVICES: usize = 100_000;
/// API keys kept (their hash, tenant and scopes; neither changes while a key lives).
const API_KEYS: usize = 1_024;
/// Idempotency keys this service answered lately: a repeat of one is most likely a replay, which
/// the reading path answers without computing a token.
const RECENT: usize = 65_536;

/// A device row and its version (`xmin`), as last read or written.
pub struct Known {
    /// The row.
    pub device: Arc<DeviceRow>,
    /// Its row version.
    pub version: Arc<str>,
}

#[derive(Default)]
struct Inner {
    keys: HashMap<Vec<u8>, (i64, Scopes)>,
    devices: HashMap<(i64, String), Known>,
    recent: HashSet<u64>,
    order: VecDeque<u64>,
}

/// The cache, shared by the pool's users.
#[derive(Default)]
pub struct Cache {
    inner: Mutex<Inner>,
    hasher: std::hash::RandomState,
}

impl Cache {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn fingerprint(&self, tenant: i64, api: &str, key: &str) -> u64 {
        self.hasher.hash_one((tenant, api, key))
    }

    /// The API key's tenant and scopes and the tenant's device `serial`, if both are known and
    /// the idempotency key was not answered lately.
    pub fn get(
        &self,
        key_hash: &[u8],
        serial: &str,
        api: &str,
        key: &str,
    ) -> Option<(i64, Scopes, Known)> {
        let inner = self.lock();
        let &(tenant, scopes) = inner.keys.get(key_hash)?;
        if inner.recent.contains(&self.fingerprint(tenant, api, key)) {
            return None;
        }
        let known = inner.devices.get(&(tenant, serial.to_owned()))?;
        Some((
            tenant,
            scopes,
            Known {
                device: Arc::clone(&known.device),
                version: Arc::clone(&known.version),
            },
        ))
    }

    /// An API key seen valid, with its tenant and scopes.
    pub fn key(&self, key_hash: &[u8], tenant: i64, scopes: Scopes) {
        let mut inner = self.lock();
        if inner.keys.len() >= API_KEYS {
            inner.keys.clear();
        }
        inner.keys.insert(key_hash.to_vec(), (tenant, scopes));
    }

    /// A device row at `version`.
    pub fn device(&self, device: DeviceRow, version: &str) {
        let mut inner = self.lock();
        if inner.devices.len() >= DEVICES {
            inner.devices.clear();
        }
        inner.devices.insert(
            (device.tenant_id, device.serial.clone()),
            Known {
                device: Arc::new(device),
                version: Arc::from(version),
            },
        );
    }

    /// The device moved under a cached version (or was never cached).
    pub fn forget(&self, tenant: i64, serial: &str) {
        self.lock().devices.remove(&(tenant, serial.to_owned()));
    }

    /// An idempotency key answered by this service.
    pub fn answered(&self, tenant: i64, api: &str, key: &str) {
        let f = self.fingerprint(tenant, api, key);
        let mut inner = self.lock();
        if inner.recent.insert(f) {
            inner.order.push_back(f);
            if inner.order.len() > RECENT
                && let Some(old) = inner.order.pop_front()
            {
                inner.recent.remove(&old);
            }
        }
    }
}
