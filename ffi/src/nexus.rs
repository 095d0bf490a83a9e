//! The native Nexus keycode device API: nexus-embedded's model (a keycode engine that calls the
//! product back through its port) behind C function pointers. The product keeps the 12-byte
//! [`PaylockNexusState`] (the port's `nv_write` hears of every change) and a
//! [`PaylockNexusDevice`], the engine's RAM half (entry buffer, rate-limit bucket), which
//! [`paylock_nexus_init`] sets up after each boot.

use core::ffi::c_void;
use core::mem::{MaybeUninit, align_of, size_of};

use paylock::Key;
use paylock::nexus::{
    Feedback, KeycodeProcessor, NexusConfig, NexusState, PaygState, Platform, Processed, Protocol,
    Response, Window,
};

/// The protocols this build parses (features `nexus-full`, `nexus-small`): a device with one
/// links only its parser.
#[cfg(all(feature = "nexus-full", not(feature = "nexus-small")))]
type Built = paylock::nexus::FullOnly;
#[cfg(all(feature = "nexus-small", not(feature = "nexus-full")))]
type Built = paylock::nexus::SmallOnly;
#[cfg(not(any(
    all(feature = "nexus-full", not(feature = "nexus-small")),
    all(feature = "nexus-small", not(feature = "nexus-full"))
)))]
type Built = paylock::nexus::AnyProtocol;

use crate::status::{PAYLOCK_ERR_ARGUMENT, PAYLOCK_ERR_INTERNAL, PAYLOCK_ERR_NULL, guard};

/// Keys `0-9`, `*` to start, `#` to end; credit in hours.
pub const PAYLOCK_NEXUS_FULL: u8 = 0;
/// Keys `1-5`: `1` to start, then 14 of `2-5`; credit in days.
pub const PAYLOCK_NEXUS_SMALL: u8 = 1;

/// `payg_state_get`: no credit left.
pub const PAYLOCK_NEXUS_PAYG_DISABLED: u8 = 0;
/// `payg_state_get`: running on credit.
pub const PAYLOCK_NEXUS_PAYG_ENABLED: u8 = 1;
/// `payg_state_get`: paid off.
pub const PAYLOCK_NEXUS_PAYG_UNLOCKED: u8 = 2;

/// Returned by the key and code functions: no code finished with this key.
pub const PAYLOCK_NEXUS_PENDING: i32 = 0;
/// A finished code that is not valid; nothing changed.
pub const PAYLOCK_NEXUS_INVALID: i32 = 1;
/// A genuine code that changed no credit (already used, or not applicable now).
pub const PAYLOCK_NEXUS_VALID_DUPLICATE: i32 = 2;
/// A code that was applied.
pub const PAYLOCK_NEXUS_VALID_APPLIED: i32 = 3;
/// The product should show its PAYG ID.
pub const PAYLOCK_NEXUS_DISPLAY_DEVICE_ID: i32 = 4;
/// Handed on without a verdict (passthrough data, an extended small code).
pub const PAYLOCK_NEXUS_NONE: i32 = 5;

/// Bytes of [`PaylockNexusState`]; the header checks it with a static assert.
pub const PAYLOCK_NEXUS_STATE_SIZE: usize = 12;
/// Bytes of [`PaylockNexusDevice`]; the header checks it with a static assert.
pub const PAYLOCK_NEXUS_DEVICE_SIZE: usize = 88;
/// [`PaylockNexusDevice`] in 64-bit words (its alignment).
pub const PAYLOCK_NEXUS_DEVICE_WORDS: usize = 11;

/// What the product persists (nexus-embedded's NV blocks): write it whenever `nv_write` is
/// called. [`paylock_nexus_state_fresh`] gives a new device's.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PaylockNexusState {
    /// The receipt window's centre, `Pd` (23 on a new device).
    pub pd_index: u32,
    /// Used-ID flags: bit `i` is ID `Pd - 23 + i` (24 bits).
    pub received: u32,
    /// Short QC codes accepted, ever (until a wipe).
    pub qc_short_count: u8,
    /// Long QC codes accepted, ever (until a wipe).
    pub qc_long_count: u8,
    /// The product-defined restricted flag (0 or 1).
    pub restricted: u8,
    /// Rate-limit attempts a reboot restores.
    pub grace_keycodes: u8,
}

const _: () = assert!(size_of::<PaylockNexusState>() == PAYLOCK_NEXUS_STATE_SIZE);

/// How the device is built (nexus-embedded's Kconfig).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PaylockNexusConfig {
    /// `PAYLOCK_NEXUS_FULL` or `PAYLOCK_NEXUS_SMALL`.
    pub protocol: u8,
    /// Lifetime limit of short QC codes, 0-15 (5).
    pub qc_short_max: u8,
    /// Lifetime limit of long QC codes, 0-15 (5).
    pub qc_long_max: u8,
    /// 1: the brute-force limiter is on (128 attempts, 6 of grace, one per 720 s).
    pub rate_limit: u8,
    /// 1: accept extended small codes.
    pub extended_small_codes: u8,
    /// Seconds without a key before a half-typed code is dropped (16).
    pub entry_timeout_seconds: u32,
}

/// The product, as nexus-embedded's port functions reach it (`nxp_common_payg_state_get`,
/// `nxp_common_payg_credit_add/set/unlock`, `nxp_keycode_feedback_start`,
/// `nxp_keycode_get_user_facing_id`, `nxp_keycode_passthrough_keycode`, `nxp_common_nv_write`).
/// `ctx` is passed back to every call. The first five are required; the others may be null.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct PaylockNexusPort {
    /// The product's own context.
    pub ctx: *mut c_void,
    /// `PAYLOCK_NEXUS_PAYG_DISABLED`, `_ENABLED` or `_UNLOCKED`.
    pub payg_state_get: Option<unsafe extern "C" fn(ctx: *mut c_void) -> u8>,
    /// Add `seconds` of credit.
    pub payg_credit_add: Option<unsafe extern "C" fn(ctx: *mut c_void, seconds: u32)>,
    /// Replace the credit with `seconds` (0 disables).
    pub payg_credit_set: Option<unsafe extern "C" fn(ctx: *mut c_void, seconds: u32)>,
    /// End PAYG for good.
    pub payg_credit_unlock: Option<unsafe extern "C" fn(ctx: *mut c_void)>,
    /// The ID printed on the product.
    pub user_facing_id_get: Option<unsafe extern "C" fn(ctx: *mut c_void) -> u32>,
    /// Show feedback: nexus-embedded's numbers (1 invalid, 2 valid, 4 applied, 5 key accepted,
    /// 6 key rejected, 7 display the PAYG ID).
    pub feedback_start: Option<unsafe extern "C" fn(ctx: *mut c_void, feedback: u8)>,
    /// A keycode wrote the restricted flag (0: cleared).
    pub restricted_flag_changed: Option<unsafe extern "C" fn(ctx: *mut c_void, value: u8)>,
    /// Full-protocol passthrough digits (ASCII); return 1 if taken (0 makes the code invalid).
    pub passthrough_keycode:
        Option<unsafe extern "C" fn(ctx: *mut c_void, digits: *const u8, len: usize) -> u8>,
    /// The state changed: persist `*state` (12 bytes) before the next key.
    pub nv_write: Option<unsafe extern "C" fn(ctx: *mut c_void, state: *const PaylockNexusState)>,
}

/// The engine's RAM half: opaque, `PAYLOCK_NEXUS_DEVICE_SIZE` bytes, set up by
/// [`paylock_nexus_init`] (after every boot) before any other call.
#[repr(C)]
#[derive(Debug)]
pub struct PaylockNexusDevice {
    /// Opaque.
    pub opaque: [u64; PAYLOCK_NEXUS_DEVICE_WORDS],
}

/// What [`PaylockNexusDevice`] holds: a mark that it was initialised, and the processor.
#[repr(C)]
struct Inner {
    magic: u32,
    processor: KeycodeProcessor<Built>,
}

const MAGIC: u32 = 0x4E58_5044; // "NXPD"

const _: () = assert!(size_of::<Inner>() <= PAYLOCK_NEXUS_DEVICE_SIZE);
const _: () = assert!(align_of::<Inner>() <= 8);

const _: () = assert!(size_of::<PaylockNexusDevice>() == PAYLOCK_NEXUS_DEVICE_SIZE);

impl From<PaylockNexusState> for NexusState {
    fn from(s: PaylockNexusState) -> Self {
        Self {
            window: Window {
                pd_index: s.pd_index,
                received: s.received,
            },
            qc_short_count: s.qc_short_count,
            qc_long_count: s.qc_long_count,
            restricted: s.restricted != 0,
            grace_keycodes: s.grace_keycodes,
        }
    }
}

impl From<NexusState> for PaylockNexusState {
    fn from(s: NexusState) -> Self {
        Self {
            pd_index: s.window.pd_index,
            received: s.window.received,
            qc_short_count: s.qc_short_count,
            qc_long_count: s.qc_long_count,
            restricted: u8::from(s.restricted),
            grace_keycodes: s.grace_keycodes,
        }
    }
}

/// The port as the core's [`Platform`]; the required pointers were checked non-null.
struct CPort<'a>(&'a PaylockNexusPort);

impl Platform for CPort<'_> {
    fn payg_state(&self) -> PaygState {
        let Some(f) = self.0.payg_state_get else {
            return PaygState::Disabled;
        };
        // SAFETY: the caller of the entry point guarantees that every non-null port function
        // is safe to call with `ctx`.
        match unsafe { f(self.0.ctx) } {
            PAYLOCK_NEXUS_PAYG_ENABLED => PaygState::Enabled,
            PAYLOCK_NEXUS_PAYG_UNLOCKED => PaygState::Unlocked,
            _ => PaygState::Disabled,
        }
    }

    fn add_credit(&mut self, seconds: u32) {
        if let Some(f) = self.0.payg_credit_add {
            // SAFETY: as in `payg_state`.
            unsafe { f(self.0.ctx, seconds) }
        }
    }

    fn set_credit(&mut self, seconds: u32) {
        if let Some(f) = self.0.payg_credit_set {
            // SAFETY: as in `payg_state`.
            unsafe { f(self.0.ctx, seconds) }
        }
    }

    fn unlock(&mut self) {
        if let Some(f) = self.0.payg_credit_unlock {
            // SAFETY: as in `payg_state`.
            unsafe { f(self.0.ctx) }
        }
    }

    fn restricted_flag_changed(&mut self, value: bool) {
        if let Some(f) = self.0.restricted_flag_changed {
            // SAFETY: as in `payg_state`.
            unsafe { f(self.0.ctx, u8::from(value)) }
        }
    }

    fn passthrough(&mut self, digits: &[u8]) -> bool {
        let Some(f) = self.0.passthrough_keycode else {
            return false;
        };
        // SAFETY: as in `payg_state`; `digits` is a live slice of `digits.len()` bytes.
        unsafe { f(self.0.ctx, digits.as_ptr(), digits.len()) != 0 }
    }

    fn user_facing_id(&self) -> u32 {
        let Some(f) = self.0.user_facing_id_get else {
            return 0;
        };
        // SAFETY: as in `payg_state`.
        unsafe { f(self.0.ctx) }
    }

    fn feedback(&mut self, feedback: Feedback) {
        if let Some(f) = self.0.feedback_start {
            // SAFETY: as in `payg_state`.
            unsafe { f(self.0.ctx, feedback as u8) }
        }
    }
}

/// Whether this build accepts `protocol` (features `nexus-full`, `nexus-small`).
const fn built_for(protocol: Protocol) -> bool {
    match protocol {
        Protocol::Full => cfg!(feature = "nexus-full"),
        Protocol::Small => cfg!(feature = "nexus-small"),
    }
}

fn config_of(c: &PaylockNexusConfig) -> Option<NexusConfig> {
    let protocol = match c.protocol {
        PAYLOCK_NEXUS_FULL => Protocol::Full,
        PAYLOCK_NEXUS_SMALL => Protocol::Small,
        _ => return None,
    };
    if !built_for(protocol) {
        return None;
    }
    let mut config = NexusConfig::new(protocol).with_qc_limits(c.qc_short_max, c.qc_long_max);
    if c.rate_limit == 0 {
        config = config.without_rate_limit();
    }
    config.entry_timeout_seconds = c.entry_timeout_seconds;
    config.extended_small_codes = c.extended_small_codes != 0;
    Some(config)
}

const fn response_code(r: Response) -> i32 {
    match r {
        Response::Invalid => PAYLOCK_NEXUS_INVALID,
        Response::ValidDuplicate => PAYLOCK_NEXUS_VALID_DUPLICATE,
        Response::ValidApplied => PAYLOCK_NEXUS_VALID_APPLIED,
        Response::DisplayDeviceId => PAYLOCK_NEXUS_DISPLAY_DEVICE_ID,
        Response::None => PAYLOCK_NEXUS_NONE,
    }
}

/// A new device's state (window centred on 23, full grace).
///
/// # Safety
/// `out` must be null or point to a writable state.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn paylock_nexus_state_fresh(out: *mut PaylockNexusState) -> i32 {
    // SAFETY: the caller guarantees `out` is null or writable.
    let Some(out) = (unsafe { out.as_mut() }) else {
        return PAYLOCK_ERR_NULL;
    };
    *out = NexusState::FRESH.into();
    0
}

/// Sets up `device` after a boot, from the build's `config` and the persisted `state`.
/// Returns 0, `PAYLOCK_ERR_NULL`, or `PAYLOCK_ERR_ARGUMENT` (an unknown protocol, or one this
/// library was built without: features `nexus-full`, the default, and `nexus-small`).
///
/// # Safety
/// Each pointer must be null or point to a valid struct of its type; `device` must not be
/// accessed by anything else during the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn paylock_nexus_init(
    device: *mut PaylockNexusDevice,
    config: *const PaylockNexusConfig,
    state: *const PaylockNexusState,
) -> i32 {
    if device.is_null() || config.is_null() || state.is_null() {
        return PAYLOCK_ERR_NULL;
    }
    // SAFETY: non-null, and the caller guarantees a valid config there.
    let config = unsafe { &*config };
    // SAFETY: non-null, and the caller guarantees a valid state there.
    let state = NexusState::from(unsafe { *state });
    let Some(config) = config_of(config) else {
        return PAYLOCK_ERR_ARGUMENT;
    };
    let Some(processor) = KeycodeProcessor::with_protocols(config, &state) else {
        return PAYLOCK_ERR_ARGUMENT;
    };
    let inner = Inner {
        magic: MAGIC,
        processor,
    };
    // SAFETY: `device` is non-null and writable for PAYLOCK_NEXUS_DEVICE_SIZE bytes aligned to
    // 8 (the caller's contract), which holds an `Inner` (size and alignment asserted above).
    unsafe {
        device
            .cast::<MaybeUninit<Inner>>()
            .write(MaybeUninit::new(inner))
    };
    0
}

/// Runs `f` on the initialised processor, the state and the port, then reports a changed
/// state through `nv_write`.
///
/// # Safety
/// As [`paylock_nexus_press_key`].
unsafe fn with_device(
    device: *mut PaylockNexusDevice,
    key: *const u8,
    state: *mut PaylockNexusState,
    port: *const PaylockNexusPort,
    message_id: *mut u32,
    f: impl FnOnce(
        &mut KeycodeProcessor<Built>,
        &Key,
        &mut NexusState,
        &mut CPort<'_>,
    ) -> Option<Processed>,
) -> i32 {
    if device.is_null() || key.is_null() || state.is_null() || port.is_null() {
        return PAYLOCK_ERR_NULL;
    }
    // SAFETY: non-null, and the caller guarantees a valid port there.
    let port = unsafe { &*port };
    if port.payg_state_get.is_none()
        || port.payg_credit_add.is_none()
        || port.payg_credit_set.is_none()
        || port.payg_credit_unlock.is_none()
        || port.user_facing_id_get.is_none()
    {
        return PAYLOCK_ERR_NULL;
    }
    // SAFETY: non-null; the caller guarantees 16 readable bytes.
    let secret = Key::new(unsafe { crate::key::read(key) });
    // SAFETY: non-null; the caller guarantees a state only this call accesses.
    let state = unsafe { &mut *state };
    let inner = device.cast::<Inner>();
    // SAFETY: `device` is non-null and points to PAYLOCK_NEXUS_DEVICE_SIZE bytes; its first
    // field is a u32 (alignment 8 covers it) that `paylock_nexus_init` set to MAGIC.
    if unsafe { (*inner).magic } != MAGIC {
        return PAYLOCK_ERR_ARGUMENT;
    }
    // SAFETY: the magic says `paylock_nexus_init` wrote a whole `Inner` there, and the caller
    // guarantees nothing else accesses it during the call.
    let processor = unsafe { &mut (*inner).processor };
    let before = *state;
    let mut core_state = NexusState::from(before);
    let mut platform = CPort(port);
    let result = guard(Err(()), || {
        Ok(f(processor, &secret, &mut core_state, &mut platform))
    });
    let Ok(processed) = result else {
        return PAYLOCK_ERR_INTERNAL;
    };
    *state = core_state.into();
    if *state != before
        && let Some(write) = port.nv_write
    {
        // SAFETY: as for the other port functions; `state` is live for the call.
        unsafe { write(port.ctx, state) };
    }
    let Some(p) = processed else {
        return PAYLOCK_NEXUS_PENDING;
    };
    if let (Some(id), false) = (p.message_id, message_id.is_null()) {
        // SAFETY: non-null; the caller guarantees `message_id` is null or writable.
        unsafe { message_id.write(id) };
    }
    response_code(p.response)
}

/// One key press (`nx_keycode_handle_single_key`) at `now` (seconds of a monotonic clock).
/// Returns `PAYLOCK_NEXUS_PENDING` until a key finishes a code, then the code's response
/// (`PAYLOCK_NEXUS_INVALID` ... `PAYLOCK_NEXUS_NONE`; its feedback has gone to the port), or
/// an error code. `message_id` (may be null) receives the code's message ID when it has one.
///
/// # Safety
/// `device` must point to a device set up by [`paylock_nexus_init`], `key` to the 16-byte
/// device key, `state` to the persisted state, `port` to a port whose non-null functions are
/// safe to call with its `ctx`, `message_id` be null or writable; none may be accessed by
/// anything else during the call (the port functions may not call back into paylock).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn paylock_nexus_press_key(
    device: *mut PaylockNexusDevice,
    key: *const u8,
    state: *mut PaylockNexusState,
    port: *const PaylockNexusPort,
    pressed: u8,
    now: u32,
    message_id: *mut u32,
) -> i32 {
    // SAFETY: the caller upholds this function's contract, which is `with_device`'s.
    unsafe {
        with_device(device, key, state, port, message_id, |p, k, s, platform| {
            p.press_key(pressed, now, k, s, platform)
        })
    }
}

/// A whole code at once (`nx_keycode_handle_complete_keycode`): `keys` are `len` key
/// characters starting with the start key. Returns the response or an error code, as
/// [`paylock_nexus_press_key`].
///
/// # Safety
/// As [`paylock_nexus_press_key`], and `keys` must point to `len` readable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn paylock_nexus_enter_keycode(
    device: *mut PaylockNexusDevice,
    key: *const u8,
    state: *mut PaylockNexusState,
    port: *const PaylockNexusPort,
    keys: *const u8,
    len: usize,
    now: u32,
    message_id: *mut u32,
) -> i32 {
    if keys.is_null() {
        return PAYLOCK_ERR_NULL;
    }
    // SAFETY: non-null, and the caller guarantees `len` readable bytes.
    let keys = unsafe { core::slice::from_raw_parts(keys, len) };
    // SAFETY: the caller upholds this function's contract, which is `with_device`'s.
    unsafe {
        with_device(device, key, state, port, message_id, |p, k, s, platform| {
            Some(p.enter_keycode(keys, now, k, s, platform))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn init(protocol: u8) -> i32 {
        let config = PaylockNexusConfig {
            protocol,
            qc_short_max: 5,
            qc_long_max: 5,
            rate_limit: 1,
            extended_small_codes: 1,
            entry_timeout_seconds: 16,
        };
        let mut state = PaylockNexusState::default();
        let mut device = PaylockNexusDevice {
            opaque: [0; PAYLOCK_NEXUS_DEVICE_WORDS],
        };
        // SAFETY: a pointer to a live local of its type.
        assert_eq!(unsafe { paylock_nexus_state_fresh(&mut state) }, 0);
        // SAFETY: every pointer is to a live local of its type.
        unsafe { paylock_nexus_init(&mut device, &config, &state) }
    }

    /// A build takes exactly the protocols of its features (`run_c.sh` replays both with both).
    #[test]
    fn init_takes_the_protocols_built_in() {
        let expect = |built: bool| if built { 0 } else { PAYLOCK_ERR_ARGUMENT };
        assert_eq!(
            init(PAYLOCK_NEXUS_FULL),
            expect(cfg!(feature = "nexus-full"))
        );
        assert_eq!(
            init(PAYLOCK_NEXUS_SMALL),
            expect(cfg!(feature = "nexus-small"))
        );
        assert_eq!(init(9), PAYLOCK_ERR_ARGUMENT);
    }
}
