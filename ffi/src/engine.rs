//! The device-lock engine in C, for every scheme: credit clock, wrong-code lockout, and a
//! MAC-authenticated record written alternately to two flash slots through a storage port
//! (read, erase, program), with each attempt counted before its verdict. The product keeps its
//! scheme's engine struct (fixed, published size) in RAM, set up by the scheme's
//! `paylock_*_engine_boot` at every power-on; `_enter`, `_status`, `_tick` (from the main
//! loop) and `_power_down` (on a brown-out warning) take it from there. The port, the
//! configuration, the entry and the status are shared; each scheme adds only its secret and
//! verifier ([`openpaygo`], [`nexus`], [`access`]).

use core::ffi::c_void;
use core::mem::{MaybeUninit, align_of, size_of};

use paylock::device::{Boot, ClockModel, Config, Engine, Entry, Lockout, Slot, Storage};
use paylock::persist::{Persist, RecordKey};
use paylock::{Command, Payg, Rejection, Verifier};

use crate::status::{PAYLOCK_ERR_ARGUMENT, PAYLOCK_ERR_INTERNAL, PAYLOCK_ERR_NULL, guard};

pub mod access;
pub mod nexus;
pub mod openpaygo;

/// The storage port failed (on a device: a power cut or a flash fault); nothing was reported
/// and the engine must be booted again.
pub const PAYLOCK_ERR_STORAGE: i32 = -5;

/// `boot`: the newest intact record was restored.
pub const PAYLOCK_BOOT_RESTORED: i32 = 0;
/// `boot`: both slots erased: a new device.
pub const PAYLOCK_BOOT_BLANK: i32 = 1;
/// `boot`: no intact record: every token is refused until the device is serviced.
pub const PAYLOCK_BOOT_CORRUPT: i32 = 2;

/// Entry: applied (its effect is persisted).
pub const PAYLOCK_ENTRY_APPLIED: i32 = 0;
/// Entry: a genuine token already used; nothing changed.
pub const PAYLOCK_ENTRY_DUPLICATE: i32 = 1;
/// Entry: not valid for this device (counts as a wrong code).
pub const PAYLOCK_ENTRY_INVALID: i32 = 2;
/// Entry: not a token of this form (not counted).
pub const PAYLOCK_ENTRY_MALFORMED: i32 = 3;
/// Entry: not checked, the lockout holds (`seconds_left`).
pub const PAYLOCK_ENTRY_LOCKED_OUT: i32 = 4;
/// Entry: not checked, the store was corrupt at boot.
pub const PAYLOCK_ENTRY_UNAVAILABLE: i32 = 5;
/// Entry: refused by the scheme's own rate limit (AST's TEST quota); not a wrong code, not
/// counted.
pub const PAYLOCK_ENTRY_REFUSED: i32 = 6;
/// Key by key (`paylock_nexus_engine_press_key`): the key was taken (a start key, or a key
/// inside a code); no code finished, nothing checked or written.
pub const PAYLOCK_ENTRY_PENDING: i32 = 7;
/// Key by key: the key was ignored (no code started: press the start key first); nothing
/// checked or written.
pub const PAYLOCK_ENTRY_KEY_REJECTED: i32 = 8;

/// Applied command: add credit (`seconds`).
pub const PAYLOCK_COMMAND_ADD_CREDIT: u32 = 1;
/// Applied command: set credit (`seconds`).
pub const PAYLOCK_COMMAND_SET_CREDIT: u32 = 2;
/// Applied command: PAYG off for good.
pub const PAYLOCK_COMMAND_UNLOCK: u32 = 3;
/// Applied command: only the counter moved.
pub const PAYLOCK_COMMAND_COUNTER_SYNC: u32 = 4;
/// Applied command: anything else (an AST parameter or TEST code, a Nexus code that changed
/// no credit).
pub const PAYLOCK_COMMAND_OTHER: u32 = 5;

/// Two flash slots, as the product's driver reaches them. Each function returns 0 on success,
/// anything else on failure (a power cut, a flash fault, a range outside the slot). Slot 0 is
/// A, 1 is B; an erased slot reads 0xFF.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct PaylockStoragePort {
    /// The driver's own context.
    pub ctx: *mut c_void,
    /// Bytes in each slot (at least the scheme's `PAYLOCK_*_RECORD_SIZE`).
    pub slot_len: usize,
    /// Reads `len` bytes of `slot` from `offset` into `buf`.
    pub read: Option<
        unsafe extern "C" fn(
            ctx: *mut c_void,
            slot: u8,
            offset: usize,
            buf: *mut u8,
            len: usize,
        ) -> i32,
    >,
    /// Erases `slot` to 0xFF.
    pub erase: Option<unsafe extern "C" fn(ctx: *mut c_void, slot: u8) -> i32>,
    /// Programs `len` bytes of `data` into `slot` at `offset`.
    pub program: Option<
        unsafe extern "C" fn(
            ctx: *mut c_void,
            slot: u8,
            offset: usize,
            data: *const u8,
            len: usize,
        ) -> i32,
    >,
}

/// How the engine runs.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct PaylockEngineConfig {
    /// 0: a battery-backed RTC (credit runs while off); 1: a runtime counter (restarts at boot).
    pub clock_runtime: u8,
    /// 1: the scheme's wrong-code lockout (OpenPAYGO: two free, then 60 s doubling to 512 min;
    /// Nexus: a bucket of 6 attempts, one more per 720 s, 128 at most; AST: three free, then
    /// 60 s doubling to a day); 0: none.
    pub lockout: u8,
    /// 1: an erased store is tampering, not a new device.
    pub blank_is_corrupt: u8,
    /// Seconds between clock checkpoints written by `tick` (3,600).
    pub checkpoint_seconds: u32,
}

/// What an entry did.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PaylockEntry {
    /// `PAYLOCK_ENTRY_APPLIED` ... `PAYLOCK_ENTRY_KEY_REJECTED`.
    pub kind: i32,
    /// Applied: `PAYLOCK_COMMAND_ADD_CREDIT` ... `PAYLOCK_COMMAND_OTHER`.
    pub command: u32,
    /// Applied: the credit's seconds (add and set), as the engine applied them (rounded down,
    /// saturating).
    pub seconds: u32,
    /// Applied: the token's count.
    pub sequence: u32,
    /// Locked out: seconds until the next entry is checked.
    pub seconds_left: u32,
}

/// The device as a user sees it.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PaylockStatus {
    /// Device time (seconds).
    pub now: u32,
    /// 1: paid off.
    pub unlocked: u8,
    /// 1: the product may run.
    pub active: u8,
    /// Seconds of credit left.
    pub credit_seconds_left: u32,
    /// Seconds before an entry is checked again.
    pub lockout_seconds_left: u32,
}

/// The storage port as the core's [`Storage`]. The port struct is copied at boot; its `ctx`
/// must stay valid while the engine is used.
#[derive(Debug)]
pub(crate) struct CStorage(PaylockStoragePort);

/// A failed port call, with the driver's code.
#[derive(Debug)]
pub(crate) struct PortError(#[allow(dead_code)] i32);

const fn slot_id(slot: Slot) -> u8 {
    match slot {
        Slot::A => 0,
        Slot::B => 1,
    }
}

fn port_result(code: i32) -> Result<(), PortError> {
    if code == 0 {
        Ok(())
    } else {
        Err(PortError(code))
    }
}

impl Storage for CStorage {
    type Error = PortError;

    fn slot_len(&self) -> usize {
        self.0.slot_len
    }

    fn read(&mut self, slot: Slot, offset: usize, buf: &mut [u8]) -> Result<(), PortError> {
        let f = self.0.read.ok_or(PortError(PAYLOCK_ERR_NULL))?;
        // SAFETY: the port's functions were checked non-null at boot and the product
        // guarantees they are safe to call with `ctx`; `buf` is live for `buf.len()` bytes.
        port_result(unsafe {
            f(
                self.0.ctx,
                slot_id(slot),
                offset,
                buf.as_mut_ptr(),
                buf.len(),
            )
        })
    }

    fn erase(&mut self, slot: Slot) -> Result<(), PortError> {
        let f = self.0.erase.ok_or(PortError(PAYLOCK_ERR_NULL))?;
        // SAFETY: as in `read`.
        port_result(unsafe { f(self.0.ctx, slot_id(slot)) })
    }

    fn program(&mut self, slot: Slot, offset: usize, data: &[u8]) -> Result<(), PortError> {
        let f = self.0.program.ok_or(PortError(PAYLOCK_ERR_NULL))?;
        // SAFETY: as in `read`; `data` is live for `data.len()` bytes.
        port_result(unsafe { f(self.0.ctx, slot_id(slot), offset, data.as_ptr(), data.len()) })
    }
}

fn entry_of(e: Entry) -> PaylockEntry {
    let mut out = PaylockEntry::default();
    match e {
        Entry::Applied {
            command, sequence, ..
        } => {
            // The engine's own 32-bit conversion: no 64-bit division linked for a report.
            let seconds = paylock::device::credit::seconds;
            (out.command, out.seconds) = match command {
                Command::AddCredit(c) => (PAYLOCK_COMMAND_ADD_CREDIT, seconds(c)),
                Command::SetCredit(c) => (PAYLOCK_COMMAND_SET_CREDIT, seconds(c)),
                Command::Unlock => (PAYLOCK_COMMAND_UNLOCK, 0),
                Command::CounterSync => (PAYLOCK_COMMAND_COUNTER_SYNC, 0),
                _ => (PAYLOCK_COMMAND_OTHER, 0),
            };
            out.kind = PAYLOCK_ENTRY_APPLIED;
            out.sequence = sequence;
        }
        Entry::Duplicate => out.kind = PAYLOCK_ENTRY_DUPLICATE,
        Entry::Rejected(Rejection::Malformed(_)) => out.kind = PAYLOCK_ENTRY_MALFORMED,
        Entry::Rejected(Rejection::Locked) => out.kind = PAYLOCK_ENTRY_REFUSED,
        Entry::Rejected(_) => out.kind = PAYLOCK_ENTRY_INVALID,
        Entry::LockedOut { seconds_left } => {
            out.kind = PAYLOCK_ENTRY_LOCKED_OUT;
            out.seconds_left = seconds_left;
        }
        Entry::Unavailable => out.kind = PAYLOCK_ENTRY_UNAVAILABLE,
    }
    out
}

/// One scheme's engine struct in C: which verifier it holds and how a boot marks it.
pub(crate) trait Memory {
    /// The scheme's verifier.
    type Verifier: Verifier<Secret: RecordKey, State: Persist>;
    /// What the scheme keeps beside the engine in RAM (Nexus: the code being typed key by
    /// key); `()` for none.
    type Keys: 'static;
    /// Bytes of the C struct.
    const SIZE: usize;
    /// Written first by a boot, checked by every other call: another scheme's engine (or
    /// memory never booted) is refused.
    const MAGIC: u32;
    /// The scheme's default wrong-code lockout.
    const LOCKOUT: Lockout;
}

/// What a scheme's engine struct holds.
#[repr(C)]
pub(crate) struct Inner<V: Verifier, K> {
    magic: u32,
    pub(crate) engine: Engine<V, CStorage>,
    pub(crate) keys: K,
}

/// `M`'s `Inner`.
type InnerOf<M> = Inner<<M as Memory>::Verifier, <M as Memory>::Keys>;

/// `Inner` of `M`'s verifier fits `M` and its alignment (instantiated per scheme below).
pub(crate) const fn fits<M: Memory>() -> bool {
    size_of::<InnerOf<M>>() <= M::SIZE && align_of::<InnerOf<M>>() <= 8 && size_of::<M>() == M::SIZE
}

fn config_of(config: &PaylockEngineConfig, lockout: Lockout) -> Config {
    let lockout = if config.lockout == 0 {
        Lockout::None
    } else {
        lockout
    };
    let clock = if config.clock_runtime == 0 {
        ClockModel::Rtc
    } else {
        ClockModel::Runtime
    };
    let mut cfg = Config::new(clock, lockout);
    cfg.checkpoint_seconds = config.checkpoint_seconds;
    cfg.blank_is_corrupt = config.blank_is_corrupt != 0;
    cfg
}

/// Boots `M`'s engine into `engine` from the verifier, secret and fresh keys `scheme` gives
/// (`None`: an argument out of range), after the shared pointers were checked.
///
/// # Safety
/// As the scheme's `paylock_*_engine_boot`: `engine` null or writable for `M::SIZE` bytes
/// aligned to 8, `config`, `storage` and `boot` null or valid.
pub(crate) unsafe fn boot<M: Memory>(
    engine: *mut M,
    config: *const PaylockEngineConfig,
    storage: *const PaylockStoragePort,
    clock: u32,
    boot: *mut i32,
    scheme: impl FnOnce() -> Option<(M::Verifier, <M::Verifier as Verifier>::Secret, M::Keys)>,
) -> i32 {
    if engine.is_null() || config.is_null() || storage.is_null() {
        return PAYLOCK_ERR_NULL;
    }
    // SAFETY: non-null, and the caller guarantees a valid config there.
    let config = unsafe { *config };
    // SAFETY: non-null, and the caller guarantees a valid port there.
    let port = unsafe { *storage };
    if port.read.is_none() || port.erase.is_none() || port.program.is_none() {
        return PAYLOCK_ERR_NULL;
    }
    let Some((verifier, secret, keys)) = scheme() else {
        return PAYLOCK_ERR_ARGUMENT;
    };
    let cfg = config_of(&config, M::LOCKOUT);
    let booted = guard(None, || {
        Some(Engine::boot(verifier, secret, cfg, CStorage(port), clock))
    });
    let (e, found) = match booted {
        None => return PAYLOCK_ERR_INTERNAL,
        Some(Err(paylock::device::Error::SlotTooSmall { .. })) => return PAYLOCK_ERR_ARGUMENT,
        Some(Err(_)) => return PAYLOCK_ERR_STORAGE,
        Some(Ok(pair)) => pair,
    };
    // SAFETY: the caller guarantees `boot` is null or writable.
    if let Some(b) = unsafe { boot.as_mut() } {
        *b = match found {
            Boot::Restored { .. } => PAYLOCK_BOOT_RESTORED,
            Boot::Blank => PAYLOCK_BOOT_BLANK,
            Boot::Corrupt => PAYLOCK_BOOT_CORRUPT,
        };
    }
    let inner = Inner {
        magic: M::MAGIC,
        engine: e,
        keys,
    };
    // SAFETY: `engine` is non-null and writable for `M::SIZE` bytes aligned to 8 (its u64
    // words), which hold an `Inner` of this verifier (`fits::<M>()`, asserted per scheme).
    unsafe {
        engine
            .cast::<MaybeUninit<InnerOf<M>>>()
            .write(MaybeUninit::new(inner));
    };
    0
}

/// The booted engine and keys behind `engine`, or an error code (`PAYLOCK_ERR_NULL`, or
/// `PAYLOCK_ERR_ARGUMENT` for memory no boot of this scheme set up).
///
/// # Safety
/// `engine` must be null or point to `M::SIZE` bytes aligned to 8 that nothing else accesses
/// during the call.
pub(crate) unsafe fn inner_at<'a, M: Memory>(engine: *mut M) -> Result<&'a mut InnerOf<M>, i32> {
    if engine.is_null() {
        return Err(PAYLOCK_ERR_NULL);
    }
    let inner = engine.cast::<InnerOf<M>>();
    // SAFETY: non-null, `M::SIZE` bytes aligned to 8; the first field is a u32 that a boot set
    // to `M::MAGIC`.
    if unsafe { (*inner).magic } != M::MAGIC {
        return Err(PAYLOCK_ERR_ARGUMENT);
    }
    // SAFETY: the magic says a boot of this scheme wrote a whole `Inner` there; the caller
    // guarantees exclusive access for the call.
    Ok(unsafe { &mut *inner })
}

/// The booted engine behind `engine`, or an error code.
///
/// # Safety
/// As [`inner_at`].
unsafe fn engine_at<'a, M: Memory>(
    engine: *mut M,
) -> Result<&'a mut Engine<M::Verifier, CStorage>, i32> {
    // SAFETY: the caller's contract is `inner_at`'s.
    unsafe { inner_at(engine) }.map(|inner| &mut inner.engine)
}

/// One entry into `M`'s engine.
///
/// # Safety
/// As the scheme's `paylock_*_engine_enter`.
pub(crate) unsafe fn enter<M: Memory>(
    engine: *mut M,
    token: *const u8,
    len: usize,
    clock: u32,
    out: *mut PaylockEntry,
) -> i32 {
    if token.is_null() || out.is_null() {
        return PAYLOCK_ERR_NULL;
    }
    // SAFETY: the caller's contract is `engine_at`'s.
    let e = match unsafe { engine_at(engine) } {
        Ok(e) => e,
        Err(code) => return code,
    };
    // SAFETY: non-null, and the caller guarantees `len` readable bytes.
    let token = unsafe { core::slice::from_raw_parts(token, len) };
    // SAFETY: the caller guarantees `out` is writable (checked non-null above).
    unsafe { enter_on(e, token, clock, out) }
}

/// One whole code into the booted engine `e`, the verdict into `out`: `enter` and the Nexus
/// key-by-key entry share it.
///
/// # Safety
/// `out` must be non-null and writable.
pub(crate) unsafe fn enter_on<V: Verifier<Secret: RecordKey, State: Persist>>(
    e: &mut Engine<V, CStorage>,
    token: &[u8],
    clock: u32,
    out: *mut PaylockEntry,
) -> i32 {
    match guard(None, || Some(e.enter(token, clock))) {
        None => PAYLOCK_ERR_INTERNAL,
        Some(Err(_)) => PAYLOCK_ERR_STORAGE,
        Some(Ok(entry)) => {
            // SAFETY: non-null, and the caller guarantees it is writable.
            unsafe { out.write(entry_of(entry)) };
            0
        }
    }
}

/// The status of `M`'s engine.
///
/// # Safety
/// As the scheme's `paylock_*_engine_status`.
pub(crate) unsafe fn status<M: Memory>(engine: *mut M, clock: u32, out: *mut PaylockStatus) -> i32 {
    if out.is_null() {
        return PAYLOCK_ERR_NULL;
    }
    // SAFETY: the caller's contract is `engine_at`'s.
    let e = match unsafe { engine_at(engine) } {
        Ok(e) => e,
        Err(code) => return code,
    };
    let Some(s) = guard(None, || Some(e.status(clock))) else {
        return PAYLOCK_ERR_INTERNAL;
    };
    // SAFETY: non-null, and the caller guarantees it is writable.
    unsafe {
        out.write(PaylockStatus {
            now: s.now,
            unlocked: u8::from(s.payg == Payg::Unlocked),
            active: u8::from(s.active),
            credit_seconds_left: s.credit_seconds_left,
            lockout_seconds_left: s.lockout_seconds_left,
        });
    }
    0
}

/// A clock checkpoint of `M`'s engine through `write` (the engine's `tick` or `power_down`):
/// the two C calls share this code.
///
/// # Safety
/// As the scheme's `paylock_*_engine_tick`.
unsafe fn checkpoint<M: Memory>(
    engine: *mut M,
    write: impl FnOnce(
        &mut Engine<M::Verifier, CStorage>,
    ) -> Result<(), paylock::device::Error<PortError>>,
) -> i32 {
    // SAFETY: the caller's contract is `engine_at`'s.
    let e = match unsafe { engine_at(engine) } {
        Ok(e) => e,
        Err(code) => return code,
    };
    match guard(None, || Some(write(e))) {
        None => PAYLOCK_ERR_INTERNAL,
        Some(Err(_)) => PAYLOCK_ERR_STORAGE,
        Some(Ok(())) => 0,
    }
}

/// `M`'s engine writes a clock checkpoint if `checkpoint_seconds` of device time have passed
/// since its last write.
///
/// # Safety
/// As the scheme's `paylock_*_engine_tick`.
pub(crate) unsafe fn tick<M: Memory>(engine: *mut M, clock: u32) -> i32 {
    // SAFETY: the caller's contract is `checkpoint`'s.
    unsafe { checkpoint(engine, |e| e.tick(clock)) }
}

/// `M`'s engine writes a clock checkpoint now (unless less than a second of device time passed
/// since its last write).
///
/// # Safety
/// As the scheme's `paylock_*_engine_power_down`.
pub(crate) unsafe fn power_down<M: Memory>(engine: *mut M, clock: u32) -> i32 {
    // SAFETY: the caller's contract is `checkpoint`'s.
    unsafe { checkpoint(engine, |e| e.power_down(clock)) }
}

/// The record length of `V`'s engine (the published `PAYLOCK_*_RECORD_SIZE`).
#[cfg(test)]
pub(crate) const fn record_len<V: Verifier<Secret: RecordKey, State: Persist>>() -> usize {
    Engine::<V, CStorage>::record_len()
}
