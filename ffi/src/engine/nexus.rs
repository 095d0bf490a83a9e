//! The engine for a Nexus keycode device: whole codes (as `paylock_nexus_enter_keycode` takes
//! them) or keys one at a time (as `paylock_nexus_press_key`, through the core's same
//! [`KeyBuffer`]), Nexus's token-bucket lockout, and the 12-byte Nexus state inside the
//! record. The verifier parses the protocols the build has (features `nexus-full`,
//! `nexus-small`), so a device links one parser.

use paylock::Key;
use paylock::device::Lockout;
use paylock::nexus::{KeyBuffer, KeyStep, MAX_CODE_KEYS, NexusVerifier, Protocols};

use super::{
    Memory, PAYLOCK_ENTRY_KEY_REJECTED, PAYLOCK_ENTRY_PENDING, PaylockEngineConfig, PaylockEntry,
    PaylockStatus, PaylockStoragePort, enter_on, fits, inner_at,
};
use crate::nexus::{Built, PaylockNexusConfig, config_of};
use crate::status::{PAYLOCK_ERR_INTERNAL, PAYLOCK_ERR_NULL, guard};

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
    /// The code being typed: RAM only, dropped by every boot (as nexus-embedded drops it).
    type Keys = KeyBuffer;
    const SIZE: usize = PAYLOCK_NEXUS_ENGINE_SIZE;
    const MAGIC: u32 = 0x454E_4E58; // "ENNX"
    const LOCKOUT: Lockout = Lockout::NEXUS;
}

const _: () = assert!(fits::<PaylockNexusEngine>());

/// Boots the engine of a Nexus device with the 16-byte `key` (any alignment), built as
/// `nexus` (its protocol, QC limits, extended small codes and the entry timeout of
/// [`paylock_nexus_engine_press_key`]; its rate limit is not used: `config.lockout` chooses
/// the lockout) and printing `user_facing_id`, from the
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
            Some((verifier, key, KeyBuffer::new()))
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

/// One key pressed (ASCII, as [`paylock_nexus_engine_enter`] reads it) at firmware clock
/// reading `clock`, with the key-entry rules of `paylock_nexus_press_key` (nexus-embedded's):
/// the start key (`*`, or `1` for small codes) starts a code and restarts one half typed; keys
/// before a start key are rejected; `#` (or the 14th small symbol) finishes the code; more than
/// 30 keys make it INVALID when it finishes (nothing is written before then); a code idle for
/// more than the boot configuration's `entry_timeout_seconds` (16) of the same clock is
/// dropped unchecked. A space key is rejected (whole codes skip spaces). Returns 0 with
/// `*entry_out` filled: `PAYLOCK_ENTRY_PENDING` or `PAYLOCK_ENTRY_KEY_REJECTED` (nothing
/// checked or written) until a key finishes a code, then exactly what
/// [`paylock_nexus_engine_enter`] gives for that whole code (the attempt counted in flash before
/// the verdict, the lockout applied). Errors as [`paylock_nexus_engine_enter`]; after
/// `PAYLOCK_ERR_STORAGE` the code is gone: boot again.
///
/// # Safety
/// `engine` must point to a booted engine, `entry_out` to a writable entry; nothing else may
/// access them during the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn paylock_nexus_engine_press_key(
    engine: *mut PaylockNexusEngine,
    pressed: u8,
    clock: u32,
    entry_out: *mut PaylockEntry,
) -> i32 {
    if entry_out.is_null() {
        return PAYLOCK_ERR_NULL;
    }
    // SAFETY: the caller guarantees `engine` is null or a booted engine only this call uses.
    let inner = match unsafe { inner_at(engine) } {
        Ok(inner) => inner,
        Err(code) => return code,
    };
    let keys = &mut inner.keys;
    let config = inner.engine.verifier().config();
    // A constant when the build has one protocol.
    let protocol = Built::FIXED.unwrap_or(config.protocol);
    let timeout = config.entry_timeout_seconds;
    let mut code = [0u8; MAX_CODE_KEYS];
    let step = guard(None, || {
        keys.expire(clock, timeout);
        let step = match pressed {
            b' ' => KeyStep::Rejected,
            _ => keys.key(pressed, clock, protocol),
        };
        let mut len = 0;
        if step == KeyStep::Finished {
            len = keys.whole_code(protocol, &mut code);
            keys.clear();
        }
        Some((step, len))
    });
    let kind = match step {
        None => return PAYLOCK_ERR_INTERNAL,
        Some((KeyStep::Finished, len)) => {
            let token = code.get(..len).unwrap_or_default();
            // SAFETY: `entry_out` is non-null and the caller guarantees it is writable.
            return unsafe { enter_on(&mut inner.engine, token, clock, entry_out) };
        }
        Some((KeyStep::Accepted, _)) => PAYLOCK_ENTRY_PENDING,
        Some((KeyStep::Rejected, _)) => PAYLOCK_ENTRY_KEY_REJECTED,
    };
    // SAFETY: non-null, and the caller guarantees it is writable.
    unsafe {
        entry_out.write(PaylockEntry {
            kind,
            ..PaylockEntry::default()
        });
    }
    0
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
