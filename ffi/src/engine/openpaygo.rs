//! The engine for an OpenPAYGO device (standard form).

use paylock::Key;
use paylock::device::Lockout;
use paylock::openpaygo::{OpenPaygoSecret, OpenPaygoVerifier, StandardForm};

use super::{Memory, PaylockEngineConfig, PaylockEntry, PaylockStatus, PaylockStoragePort, fits};
use crate::openpaygo::PaylockOpenPaygoSecret;
use crate::status::PAYLOCK_ERR_NULL;

/// Bytes of [`PaylockOpenPaygoEngine`]; the header checks it with a static assert.
pub const PAYLOCK_OPENPAYGO_ENGINE_SIZE: usize = 256;
/// [`PaylockOpenPaygoEngine`] in 64-bit words.
pub const PAYLOCK_OPENPAYGO_ENGINE_WORDS: usize = 32;
/// Bytes of the record in each slot (a slot must hold at least this many).
pub const PAYLOCK_OPENPAYGO_RECORD_SIZE: usize = 60;

/// The engine in the product's RAM: opaque, set up by [`paylock_openpaygo_engine_boot`].
#[repr(C)]
#[derive(Debug)]
pub struct PaylockOpenPaygoEngine {
    /// Opaque.
    pub opaque: [u64; PAYLOCK_OPENPAYGO_ENGINE_WORDS],
}

impl Memory for PaylockOpenPaygoEngine {
    type Verifier = OpenPaygoVerifier<StandardForm>;
    type Keys = ();
    const SIZE: usize = PAYLOCK_OPENPAYGO_ENGINE_SIZE;
    const MAGIC: u32 = 0x454E_4F50; // "ENOP"
    const LOCKOUT: Lockout = Lockout::OPENPAYGO;
}

const _: () = assert!(fits::<PaylockOpenPaygoEngine>());

/// Boots the engine from the two slots at firmware clock reading `clock`; `boot` (may be null)
/// receives `PAYLOCK_BOOT_RESTORED`, `_BLANK` or `_CORRUPT`. Returns 0, `PAYLOCK_ERR_NULL`,
/// `PAYLOCK_ERR_ARGUMENT` (a starting code above 999,999,999, slots smaller than a record) or
/// `PAYLOCK_ERR_STORAGE`.
///
/// # Safety
/// `engine` must point to writable memory of `PAYLOCK_OPENPAYGO_ENGINE_SIZE` bytes, the other
/// pointers be null or valid; the port's non-null functions must be safe to call with its
/// `ctx` for as long as the engine is used. An engine booted earlier in the same memory is
/// overwritten without being read.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn paylock_openpaygo_engine_boot(
    engine: *mut PaylockOpenPaygoEngine,
    secret: *const PaylockOpenPaygoSecret,
    config: *const PaylockEngineConfig,
    storage: *const PaylockStoragePort,
    clock: u32,
    boot: *mut i32,
) -> i32 {
    if secret.is_null() {
        return PAYLOCK_ERR_NULL;
    }
    // SAFETY: non-null, and the caller guarantees a valid secret there.
    let secret = unsafe { *secret };
    // SAFETY: the caller's contract is `boot`'s.
    unsafe {
        super::boot(engine, config, storage, clock, boot, || {
            let secret = OpenPaygoSecret::new(Key::new(secret.key), secret.starting_code).ok()?;
            Some((OpenPaygoVerifier::new(StandardForm), secret, ()))
        })
    }
}

/// One token entered (`len` ASCII digits) at firmware clock reading `clock`. Returns 0 with
/// `*out` filled, or `PAYLOCK_ERR_NULL`, `PAYLOCK_ERR_ARGUMENT` (an engine never booted) or
/// `PAYLOCK_ERR_STORAGE` (the record write failed: boot again; the newest record the slots
/// hold intact decides, and the attempt may stay counted, the token unused).
///
/// # Safety
/// `engine` must point to a booted engine, `token` to `len` readable bytes, `out` to a
/// writable entry; nothing else may access them during the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn paylock_openpaygo_engine_enter(
    engine: *mut PaylockOpenPaygoEngine,
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
/// As [`paylock_openpaygo_engine_enter`], `out` pointing to a writable status.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn paylock_openpaygo_engine_status(
    engine: *mut PaylockOpenPaygoEngine,
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
pub unsafe extern "C" fn paylock_openpaygo_engine_tick(
    engine: *mut PaylockOpenPaygoEngine,
    clock: u32,
) -> i32 {
    // SAFETY: the caller's contract is `tick`'s.
    unsafe { super::tick(engine, clock) }
}

/// On a brown-out warning or switch-off: writes a clock checkpoint now (none if less than a
/// second of device time passed since the engine's last write), so a runtime clock loses
/// nothing. Returns as [`paylock_openpaygo_engine_tick`].
///
/// # Safety
/// As [`paylock_openpaygo_engine_tick`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn paylock_openpaygo_engine_power_down(
    engine: *mut PaylockOpenPaygoEngine,
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
            super::super::record_len::<OpenPaygoVerifier<StandardForm>>(),
            PAYLOCK_OPENPAYGO_RECORD_SIZE
        );
    }
}
