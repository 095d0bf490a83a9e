//! The engine for a Nexus keycode device: whole codes (as `paylock_nexus_enter_keycode` takes
//! them), Nexus's token-bucket lockout, and the 12-byte Nexus state inside the record. The
//! verifier parses the protocols the build has (features `nexus-full`, `nexus-small`), so a
//! device links one parser.

use paylock::Key;
use paylock::device::Lockout;
use paylock::nexus::NexusVerifier;

use super::{Memory, PaylockEngineConfig, PaylockEntry, PaylockStatus, PaylockStoragePort, fits};
use crate::nexus::{Built, PaylockNexusConfig, config_of};
use crate::status::PAYLOCK_ERR_NULL;

/// Bytes of [`PaylockNexusEngine`]; the header checks it with a static assert.
pub const PAYLOCK_NEXUS_ENGINE_SIZE: usize = 256;
/// [`PaylockNexusEngine`] in 64-bit words.
pub const PAYLOCK_NEXUS_ENGINE_WORDS: usize = 32;
/// Bytes of the record in each slot (a slot must hold at least this many).
pub const PAYLOCK_NEXUS_RECORD_SIZE: usize = 54;

/// The engine in the product's RAM: opaque, set up by [`paylock_nexus_engine_boot`].
#[repr(C)]
#[derive(Debug)]
pub struct PaylockNexusEngine {
    /// Opaque.
    pub opaque: [u64; PAYLOCK_NEXUS_ENGINE_WORDS],
}

impl Memory for PaylockNexusEngine {
    type Verifier = NexusVerifier<Built>;
    const SIZE: usize = PAYLOCK_NEXUS_ENGINE_SIZE;
    const MAGIC: u32 = 0x454E_4E58; // "ENNX"
    const LOCKOUT: Lockout = Lockout::NEXUS;
}

const _: () = assert!(fits::<PaylockNexusEngine>());

/// Boots the engine of a Nexus device with the 16-byte `key` (any alignment), built as
/// `nexus` (its protocol, QC limits and extended small codes; its rate limit and entry timeout
/// are not used: `config.lockout` chooses the lockout) and printing `user_facing_id`, from the
/// two slots at firmware clock reading `clock`; `boot` (may be null) receives
/// `PAYLOCK_BOOT_RESTORED`, `_BLANK` or `_CORRUPT`. Returns 0, `PAYLOCK_ERR_NULL`,
/// `PAYLOCK_ERR_ARGUMENT` (a protocol this build lacks or unknown, slots smaller than a record)
/// or `PAYLOCK_ERR_STORAGE`.
///
/// # Safety
/// `engine` must point to writable memory of `PAYLOCK_NEXUS_ENGINE_SIZE` bytes, `key` to 16
/// readable bytes, the other pointers be null or valid; the port's non-null functions must be
/// safe to call with its `ctx` for as long as the engine is used. An engine booted earlier in
/// the same memory is overwritten without being read.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn paylock_nexus_engine_boot(
    engine: *mut PaylockNexusEngine,
    key: *const u8,
    nexus: *const PaylockNexusConfig,
    user_facing_id: u32,
    config: *const PaylockEngineConfig,
    storage: *const PaylockStoragePort,
    clock: u32,
    boot: *mut i32,
) -> i32 {
    if key.is_null() || nexus.is_null() {
        return PAYLOCK_ERR_NULL;
    }
    // SAFETY: non-null, and the caller guarantees a valid config there.
    let nexus = unsafe { *nexus };
    // SAFETY: non-null, and the caller guarantees 16 readable bytes.
    let key = Key::new(unsafe { crate::key::read(key) });
    // SAFETY: the caller's contract is `boot`'s.
    unsafe {
        super::boot(engine, config, storage, clock, boot, || {
            let verifier =
                NexusVerifier::<Built>::with_protocols(config_of(&nexus)?, user_facing_id)?;
            Some((verifier, key))
        })
    }
}

/// One whole keycode entered (`len` ASCII keys as typed: `*...#` for the full protocol, `1`
/// and 14 of `2-5` for the small one; spaces skipped) at firmware clock reading `clock`.
/// Returns 0 with `*out` filled, or `PAYLOCK_ERR_NULL`, `PAYLOCK_ERR_ARGUMENT` (an engine never
/// booted) or `PAYLOCK_ERR_STORAGE` (boot again, as for OpenPAYGO).
///
/// # Safety
/// `engine` must point to a booted engine, `token` to `len` readable bytes, `out` to a
/// writable entry; nothing else may access them during the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn paylock_nexus_engine_enter(
    engine: *mut PaylockNexusEngine,
    token: *const u8,
    len: usize,
    clock: u32,
    out: *mut PaylockEntry,
) -> i32 {
    // SAFETY: the caller's contract is `enter`'s.
    unsafe { super::enter(engine, token, len, clock, out) }
}

/// The device's status at firmware clock reading `clock`. Returns 0, `PAYLOCK_ERR_NULL` or
/// `PAYLOCK_ERR_ARGUMENT`.
///
/// # Safety
/// As [`paylock_nexus_engine_enter`], `out` pointing to a writable status.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn paylock_nexus_engine_status(
    engine: *mut PaylockNexusEngine,
    clock: u32,
    out: *mut PaylockStatus,
) -> i32 {
    // SAFETY: the caller's contract is `status`'s.
    unsafe { super::status(engine, clock, out) }
}

/// From the main loop: writes a clock checkpoint once `checkpoint_seconds` of device time have
/// passed since the engine's last write (with `clock_runtime` 1, a power cut then costs the
/// credit clock at most that much). Returns 0 (written or not needed), `PAYLOCK_ERR_NULL`,
/// `PAYLOCK_ERR_ARGUMENT` (an engine never booted) or `PAYLOCK_ERR_STORAGE` (the write failed:
/// boot again; the slots hold the old checkpoint or the new one).
///
/// # Safety
/// `engine` must point to a booted engine that nothing else accesses during the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn paylock_nexus_engine_tick(
    engine: *mut PaylockNexusEngine,
    clock: u32,
) -> i32 {
    // SAFETY: the caller's contract is `tick`'s.
    unsafe { super::tick(engine, clock) }
}

/// On a brown-out warning or switch-off: writes a clock checkpoint now (none if less than a
/// second of device time passed since the engine's last write), so a runtime clock loses
/// nothing. Returns as [`paylock_nexus_engine_tick`].
///
/// # Safety
/// As [`paylock_nexus_engine_tick`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn paylock_nexus_engine_power_down(
    engine: *mut PaylockNexusEngine,
    clock: u32,
) -> i32 {
    // SAFETY: the caller's contract is `power_down`'s.
    unsafe { super::power_down(engine, clock) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_published_record_size_is_the_engines() {
        assert_eq!(
            super::super::record_len::<NexusVerifier<Built>>(),
            PAYLOCK_NEXUS_RECORD_SIZE
        );
    }
}
