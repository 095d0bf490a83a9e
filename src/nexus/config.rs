//! How a Nexus device is built: its keypad protocol and the limits upstream sets in Kconfig.

use super::rate_limit::RateLimit;

/// Which keypad protocol the device speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Protocol {
    /// Keys `0-9`, `*` to start, `#` to end; credit in hours.
    Full,
    /// Keys `1-5`: `1` to start, then 14 of `2-5`; credit in days.
    Small,
}

/// Which keypad protocols a [`KeycodeProcessor`](super::KeycodeProcessor) parses: the one its
/// [`NexusConfig`] names ([`AnyProtocol`], chosen at run time), or one fixed when the firmware is
/// built ([`FullOnly`], [`SmallOnly`]), so that the other protocol's parser is not linked even
/// where the optimiser cannot see the configuration (a C device, whose config comes through
/// the C ABI): about 1.7 KB on Cortex-M.
pub trait Protocols {
    /// The one protocol parsed, or `None` for the configuration's.
    const FIXED: Option<Protocol>;
}

/// The protocol named by the configuration, at run time (both parsers are linked unless the
/// optimiser sees a constant configuration).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AnyProtocol;

/// The full protocol only.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FullOnly;

/// The small protocol only.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SmallOnly;

impl Protocols for AnyProtocol {
    const FIXED: Option<Protocol> = None;
}

impl Protocols for FullOnly {
    const FIXED: Option<Protocol> = Some(Protocol::Full);
}

impl Protocols for SmallOnly {
    const FIXED: Option<Protocol> = Some(Protocol::Small);
}

/// How the device is built (upstream Kconfig).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct NexusConfig {
    /// The keypad protocol.
    pub protocol: Protocol,
    /// Lifetime limit of short (≤ 10 min) QC codes, 0-15 (default 5).
    pub qc_short_max: u8,
    /// Lifetime limit of long QC codes, 0-15 (default 5).
    pub qc_long_max: u8,
    /// A half-typed code is dropped after this many seconds without a key (default 16).
    pub entry_timeout_seconds: u32,
    /// The brute-force limiter; `None` turns it off (only for devices that cannot be fed codes
    /// at machine speed).
    pub rate_limit: Option<RateLimit>,
    /// Accept extended small codes (SET_CREDIT + wipe restricted flag). They are the weakest
    /// codes in the protocol family (about 1 in 256 guesses succeeds, spec §12).
    pub extended_small_codes: bool,
}

impl NexusConfig {
    /// Upstream defaults for `protocol`: QC limits 5/5, 16 s entry timeout, rate limiting on.
    #[must_use]
    pub const fn new(protocol: Protocol) -> Self {
        Self {
            protocol,
            qc_short_max: 5,
            qc_long_max: 5,
            entry_timeout_seconds: 16,
            rate_limit: Some(RateLimit::DEFAULT),
            extended_small_codes: true,
        }
    }

    /// Defaults for a full-protocol device.
    #[must_use]
    pub const fn full() -> Self {
        Self::new(Protocol::Full)
    }

    /// Defaults for a small-protocol device.
    #[must_use]
    pub const fn small() -> Self {
        Self::new(Protocol::Small)
    }

    /// The same configuration without rate limiting.
    #[must_use]
    pub const fn without_rate_limit(self) -> Self {
        Self {
            rate_limit: None,
            ..self
        }
    }

    /// The same configuration with other QC lifetime limits (each capped at 15).
    #[must_use]
    pub const fn with_qc_limits(self, short: u8, long: u8) -> Self {
        Self {
            qc_short_max: if short > 15 { 15 } else { short },
            qc_long_max: if long > 15 { 15 } else { long },
            ..self
        }
    }
}
