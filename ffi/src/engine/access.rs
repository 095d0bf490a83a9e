//! The engine for an AST v1 device: the verifier without its own lockout (the engine runs the
//! spec's §10 schedule, `Lockout::AST`), the AST state inside the record.

use paylock::access::AstVerifier;
use paylock::device::Lockout;

use super::{Memory, PaylockEngineConfig, PaylockEntry, PaylockStatus, PaylockStoragePort, fits};
use crate::access::{PaylockAstSecret, secret_of};
use crate::status::PAYLOCK_ERR_NULL;

/// Bytes of [`PaylockAstEngine`]; the header checks it with a static assert.
pub const PAYLOCK_AST_ENGINE_SIZE: usize = 320;
/// [`PaylockAstEngine`] in 64-bit words.
pub const PAYLOCK_AST_ENGINE_WORDS: usize = 40;
/// Bytes of the record in each slot (a slot must hold at least this many).
pub const PAYLOCK_AST_RECORD_SIZE: usize = 103;

/// The engine in the product's RAM: opaque, set up by [`paylock_ast_engine_boot`].
#[repr(C)]
#[derive(Debug)]
pub struct PaylockAstEngine {
    /// Opaque.
    pub opaque: [u64; PAYLOCK_AST_ENGINE_WORDS],
}

impl Memory for PaylockAstEngine {
    type Verifier = AstVerifier;
    type Keys = ();
    const SIZE: usize = PAYLOCK_AST_ENGINE_SIZE;
    const MAGIC: u32 = 0x454E_4153; // "ENAS"
    const LOCKOUT: Lockout = Lockout::AST;
}

const _: () = assert!(fits::<PaylockAstEngine>());

/// Boots the engine of an AST device provisioned with `secret` from the two slots at firmware
/// clock reading `clock`; `boot` (may be null) receives `PAYLOCK_BOOT_RESTORED`, `_BLANK` or
/// `_CORRUPT`. Returns 0, `PAYLOCK_ERR_NULL`, `PAYLOCK_ERR_ARGUMENT` (a suite not compiled in
/// or unknown, an unknown profile or unit, the TEST device id, slots smaller than a record) or
/// `PAYLOCK_ERR_STORAGE`.
///
/// # Safety
/// `engine` must point to writable memory of `PAYLOCK_AST_ENGINE_SIZE` bytes, the other
/// pointers be null or valid; the port's non-null functions must be safe to call with its
/// `ctx` for as long as the engine is used. An engine booted earlier in the same memory is
/// overwritten without being read.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn paylock_ast_engine_boot(
    engine: *mut PaylockAstEngine,
    secret: *const PaylockAstSecret,
    config: *const PaylockEngineConfig,
    storage: *const PaylockStoragePort,
    clock: u32,
    boot: *mut i32,
) -> i32 {
    if secret.is_null() {
        return PAYLOCK_ERR_NULL;
    }
    // SAFETY: non-null, and the caller guarantees a valid secret there.
    let secret = unsafe { &*secret };
    // SAFETY: the caller's contract is `boot`'s.
    unsafe {
        super::boot(engine, config, storage, clock, boot, || {
            Some((AstVerifier::without_lockout(), secret_of(secret)?, ()))
        })
    }
}

/// One token entered (`len` characters as typed; spaces and dashes ignored as the profile
/// allows) at firmware clock reading `clock`. Returns 0 with `*out` filled (a TEST code over
/// its quota is `PAYLOCK_ENTRY_REFUSED`), or `PAYLOCK_ERR_NULL`, `PAYLOCK_ERR_ARGUMENT` (an
/// engine never booted) or `PAYLOCK_ERR_STORAGE` (boot again, as for OpenPAYGO).
///
/// # Safety
/// `engine` must point to a booted engine, `token` to `len` readable bytes, `out` to a
/// writable entry; nothing else may access them during the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn paylock_ast_engine_enter(
    engine: *mut PaylockAstEngine,
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
/// As [`paylock_ast_engine_enter`], `out` pointing to a writable status.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn paylock_ast_engine_status(
    engine: *mut PaylockAstEngine,
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
pub unsafe extern "C" fn paylock_ast_engine_tick(engine: *mut PaylockAstEngine, clock: u32) -> i32 {
    // SAFETY: the caller's contract is `tick`'s.
    unsafe { super::tick(engine, clock) }
}

/// On a brown-out warning or switch-off: writes a clock checkpoint now (none if less than a
/// second of device time passed since the engine's last write), so a runtime clock loses
/// nothing. Returns as [`paylock_ast_engine_tick`].
///
/// # Safety
/// As [`paylock_ast_engine_tick`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn paylock_ast_engine_power_down(
    engine: *mut PaylockAstEngine,
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
            super::super::record_len::<AstVerifier>(),
            PAYLOCK_AST_RECORD_SIZE
        );
    }
}
