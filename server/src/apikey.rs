//! API keys: 256 random bits shown once, stored as their SHA-256, with scopes, per tenant.

use sha2::{Digest, Sha256};

/// What a key may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Scope {
    /// Issue tokens (credit updates, native issue).
    Issue,
    /// Create and import devices.
    Provision,
    /// Read devices, credit updates and token history.
    Read,
    /// Verify the audit chain.
    Audit,
}

impl Scope {
    /// Every scope, in the order they are written.
    pub const ALL: [Self; 4] = [Self::Issue, Self::Provision, Self::Read, Self::Audit];

    /// The name in `--scopes` and in the database.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Issue => "issue",
            Self::Provision => "provision",
            Self::Read => "read",
            Self::Audit => "audit",
        }
    }

    /// The scope called `name`.
    #[must_use]
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.name() == name.trim())
    }
}

/// A set of scopes, stored as a comma-separated list.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Scopes(u8);

impl Scopes {
    /// Parses `issue,provision,read[,audit]`.
    ///
    /// # Errors
    /// The first unknown scope name.
    pub fn parse(list: &str) -> Result<Self, String> {
        let mut bits = 0u8;
        for name in list.split(',').filter(|n| !n.trim().is_empty()) {
            let scope = Scope::parse(name).ok_or_else(|| {
                format!(
                    "unknown scope {:?}: use issue, provision, read, audit",
                    name.trim()
                )
            })?;
            bits |= 1 << scope as u8;
        }
        if bits == 0 {
            return Err("give at least one scope: issue, provision, read, audit".into());
        }
        Ok(Self(bits))
    }

    /// Whether `scope` is granted.
    #[must_use]
    pub const fn allows(self, scope: Scope) -> bool {
        self.0 & (1 << scope as u8) != 0
    }

    /// The list as stored.
    #[must_use]
    pub fn to_list(self) -> String {
        let names: Vec<_> = Scope::ALL
            .into_iter()
            .filter(|s| self.allows(*s))
            .map(Scope::name)
            .collect();
        names.join(",")
    }
}

/// A new key: `plk_` and 64 hex digits (256 random bits).
///
/// # Errors
/// No randomness available.
pub fn generate() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)?;
    Ok(format!("plk_{}", hex::encode(bytes)))
}

/// What is stored for a key: its SHA-256 (a 256-bit random key needs no slow hash).
#[must_use]
pub fn hash(key: &str) -> Vec<u8> {
    Sha256::digest(key.as_bytes()).to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_round_trip_and_refuse_unknown_names() {
        let s = Scopes::parse("issue, read").unwrap();
        assert!(s.allows(Scope::Issue) && s.allows(Scope::Read) && !s.allows(Scope::Audit));
        assert_eq!(s.to_list(), "issue,read");
        assert!(Scopes::parse("issue,admin").unwrap_err().contains("admin"));
        assert!(Scopes::parse("").is_err());
        let k = generate().unwrap();
        assert_eq!(k.len(), 68);
        assert_ne!(k, generate().unwrap());
        assert_eq!(hash(&k).len(), 32);
    }
}
