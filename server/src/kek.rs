//! The key-encryption key (KEK) and the sealing of device secrets under it.
//!
//! Device secrets are AES-256-GCM ciphertexts whose associated data binds tenant, serial and
//! scheme: a sealed secret copied onto another device row, tenant or scheme fails to open.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use zeroize::Zeroizing;

const NONCE_LEN: usize = 12;

/// The 256-bit KEK. Never printed.
pub struct Kek {
    cipher: Aes256Gcm,
}

impl std::fmt::Debug for Kek {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Kek(..)")
    }
}

/// Why the KEK or a sealed secret cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum KekError {
    /// The file cannot be read or written.
    #[error("KEK file {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The file does not hold 64 hex digits.
    #[error("KEK file {0} must hold 64 hex digits (32 bytes)")]
    Format(String),
    /// A sealed secret does not open under this KEK for this device.
    #[error("a device secret does not open under this KEK (wrong KEK, or the row was moved)")]
    Open,
    /// No randomness for a nonce.
    #[error("no randomness available")]
    Random,
}

/// What [`Kek::load_or_create`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Loaded {
    /// An existing file was read.
    Existing,
    /// A new KEK was written (mode 0600).
    Created,
}

impl Kek {
    /// A KEK from raw bytes.
    #[must_use]
    pub fn from_bytes(bytes: &[u8; 32]) -> Self {
        Self {
            cipher: Aes256Gcm::new(&(*bytes).into()),
        }
    }

    /// Reads the KEK file (64 hex digits).
    ///
    /// # Errors
    /// A missing, unreadable or malformed file.
    pub fn load(path: &Path) -> Result<Self, KekError> {
        let shown = path.display().to_string();
        let text = Zeroizing::new(fs::read_to_string(path).map_err(|source| KekError::Io {
            path: shown.clone(),
            source,
        })?);
        let mut bytes = Zeroizing::new([0u8; 32]);
        hex::decode_to_slice(text.trim(), bytes.as_mut()).map_err(|_| KekError::Format(shown))?;
        Ok(Self::from_bytes(&bytes))
    }

    /// Reads the KEK file, or creates it with a fresh random KEK (mode 0600) if it is absent.
    ///
    /// # Errors
    /// As [`Self::load`], or the file cannot be created.
    pub fn load_or_create(path: &Path) -> Result<(Self, Loaded), KekError> {
        if path.exists() {
            return Ok((Self::load(path)?, Loaded::Existing));
        }
        let io = |source| KekError::Io {
            path: path.display().to_string(),
            source,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            fs::create_dir_all(dir).map_err(io)?;
        }
        let mut bytes = Zeroizing::new([0u8; 32]);
        getrandom::fill(bytes.as_mut()).map_err(|_| KekError::Random)?;
        let text = Zeroizing::new(hex::encode(bytes.as_ref()));
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
            .map_err(io)?;
        file.write_all(text.as_bytes()).map_err(io)?;
        file.write_all(b"\n").map_err(io)?;
        file.sync_all().map_err(io)?;
        fs::set_permissions(path, fs::Permissions::from_mode(0o600)).map_err(io)?;
        Ok((Self::from_bytes(&bytes), Loaded::Created))
    }

    /// Seals `secret` for the device (`tenant`, `serial`, `scheme`): nonce ‖ ciphertext ‖ tag.
    ///
    /// # Errors
    /// [`KekError::Random`] without randomness.
    pub fn seal(
        &self,
        tenant: i64,
        serial: &str,
        scheme: &str,
        secret: &[u8],
    ) -> Result<Vec<u8>, KekError> {
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::fill(&mut nonce).map_err(|_| KekError::Random)?;
        let aad = aad(tenant, serial, scheme);
        let sealed = self
            .cipher
            .encrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: secret,
                    aad: &aad,
                },
            )
            .map_err(|_| KekError::Open)?;
        let mut out = Vec::with_capacity(NONCE_LEN + sealed.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    /// Opens what [`Self::seal`] made for the same device.
    ///
    /// # Errors
    /// [`KekError::Open`] for another KEK, another device, or a changed byte.
    pub fn open(
        &self,
        tenant: i64,
        serial: &str,
        scheme: &str,
        sealed: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, KekError> {
        let (nonce, body) = sealed.split_at_checked(NONCE_LEN).ok_or(KekError::Open)?;
        let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| KekError::Open)?;
        let aad = aad(tenant, serial, scheme);
        self.cipher
            .decrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: body,
                    aad: &aad,
                },
            )
            .map(Zeroizing::new)
            .map_err(|_| KekError::Open)
    }
}

/// Length-prefixed so that no two (tenant, serial, scheme) triples give the same bytes.
fn aad(tenant: i64, serial: &str, scheme: &str) -> Vec<u8> {
    let mut out = b"paylock-device-secret-v1".to_vec();
    out.extend_from_slice(&tenant.to_be_bytes());
    for part in [serial, scheme] {
        out.extend_from_slice(&u32::try_from(part.len()).unwrap_or(u32::MAX).to_be_bytes());
        out.extend_from_slice(part.as_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_secrets_are_bound_to_their_device() {
        let kek = Kek::from_bytes(&[7; 32]);
        let sealed = kek.seal(1, "SN1", "openpaygo", b"secret").unwrap();
        assert_eq!(
            kek.open(1, "SN1", "openpaygo", &sealed).unwrap().as_slice(),
            b"secret"
        );
        assert!(kek.open(2, "SN1", "openpaygo", &sealed).is_err());
        assert!(kek.open(1, "SN2", "openpaygo", &sealed).is_err());
        assert!(kek.open(1, "SN1", "ast1", &sealed).is_err());
        assert!(
            Kek::from_bytes(&[8; 32])
                .open(1, "SN1", "openpaygo", &sealed)
                .is_err()
        );
        let mut flipped = sealed.clone();
        flipped[20] ^= 1;
        assert!(kek.open(1, "SN1", "openpaygo", &flipped).is_err());
    }
}
