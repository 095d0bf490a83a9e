//! The device-lock engine: what turns a token verifier into a PAYGO device. Generic over the
//! [`Verifier`](crate::Verifier) trait, so OpenPAYGO, Nexus, AST and a manufacturer's own
//! scheme get the same credit clock, wrong-code lockout and power-safe state. No heap, no
//! panics, bounded work per entry.
//!
//! * [`credit`]: credit as an expiry on a monotonic device clock; PAYG enabled or unlocked.
//! * [`lockout`]: OpenPAYGO's doubling wait, Nexus's token bucket, AST's policy, or none.
//! * [`clock`]: an RTC that runs while off, or a runtime counter (credit used only while on).
//! * [`record`] and [`storage`]: a versioned record authenticated with a MAC under a key
//!   derived from the device secret, written alternately to two flash slots with a sequence
//!   number; an entry is counted as a wrong code in the store before its code is checked, and
//!   its outcome is reported only once its result is written and read back. The scheme's
//!   part of the record and the record's key come through [`crate::persist`], which each
//!   scheme implements beside its state: the engine names no scheme.
//!
//! ```
//! use paylock::device::{ClockModel, Config, Engine, Entry, Lockout, MemStorage};
//! use paylock::openpaygo::{Form, OpenPaygoSecret, OpenPaygoVerifier};
//! use paylock::Key;
//!
//! let key = Key::from_hex("a29ab82edc5fbbc41ec9530f6dac86b1")?;
//! let secret = OpenPaygoSecret::new(key, 123_456_789)?;
//! let config = Config::new(ClockModel::Rtc, Lockout::OPENPAYGO);
//! let storage = MemStorage::<64>::new();
//! let verifier = OpenPaygoVerifier::new(Form::STANDARD);
//! let (mut device, _boot) = Engine::boot(verifier, secret, config, storage, 0)?;
//! assert!(!device.status(0).active);
//! assert!(matches!(device.enter(b"662486790", 10)?, Entry::Applied { .. }));
//! assert_eq!(device.status(10).credit_seconds_left, 86_400);
//! assert_eq!(device.enter(b"662486790", 20)?, Entry::Duplicate);
//! # Ok::<(), Box<dyn core::error::Error>>(())
//! ```

pub mod clock;
pub mod credit;
mod engine;
pub mod lockout;
pub mod record;
pub mod sim;
pub mod storage;

pub use clock::ClockModel;
pub use credit::CreditState;
pub use engine::{Boot, Config, Engine, Entry, Error, Status};
pub use lockout::{
    AstLockout, Lockout, LockoutPolicy, LockoutState, NexusLockout, OpenPaygoLockout,
};
pub use record::Snapshot;
#[cfg(feature = "std")]
pub use storage::FileStorage;
pub use storage::{MemError, MemStorage, Slot, Storage};
