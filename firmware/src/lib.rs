//! Shared bodies of the size-measurement stubs: device loops that verify entered tokens.
//!
//! Every input goes through [`black_box`], so the optimiser must keep the whole verifier for the
//! given scheme configuration, and nothing else of the crate. Each function is `inline(always)`
//! with its configuration a constant at the call site, as in a real build for one product.
//!
//! Two loops serve the device-lock engine's stubs: [`verifier_forever`] calls a scheme's
//! [`Verifier`] and writes its state to [`RamFlash`], as a product without the engine does;
//! [`engine_forever`] runs the same verifier inside [`Engine`] over the same [`RamFlash`].
//! Their difference is what the engine costs a product.
//!
//! Two loops measure OpenPAYGO Metrics on the device: [`metrics_report_forever`] signs a
//! report, [`metrics_device_forever`] also verifies and reads the answer.

#![no_std]
#![forbid(unsafe_code)]

use core::hint::black_box;
use core::sync::atomic::AtomicU8;
use core::sync::atomic::Ordering::Relaxed;

use paylock::access::{self, AstState, Profile, Suite, Unit};
use paylock::device::{self, Engine, Slot, Storage};
use paylock::metrics;
use paylock::nexus::{self, Feedback, KeycodeProcessor, NexusState, PaygState, Platform};
use paylock::openpaygo::{
    Form, OpenPaygoDeviceState, OpenPaygoSecret, OpenPaygoState, OpenPaygoVerifier, StandardForm,
};
use paylock::persist::{Persist, RecordKey};
use paylock::{Context, Key, Outcome, ParseError, Payg, Verifier};

/// The AST device key, as a device would read it from its provisioning data.
const AST_KEY: [u8; 16] = *b"\x2b\x7e\x15\x16\x28\xae\xd2\xa6\xab\xf7\x15\x88\x09\xcf\x4f\x3c";
/// The Nexus device key.
const NEXUS_KEY: [u8; 16] = *b"\xde\xad\xbe\xef\xde\xad\xbe\xef\xde\xad\xbe\xef\xde\xad\xbe\xef";

/// The factory key and starting code, as a device would read them from its provisioning data.
const KEY: [u8; 16] = *b"\xa2\x9a\xb8\x2e\xdc\x5f\xbb\xc4\x1e\xc9\x53\x0f\x6d\xac\x86\xb1";
const STARTING_CODE: u32 = 123_456_789;

/// Verifies `token` forever. `form` must be a constant at the call site: inlining it lets the
/// optimiser drop the paths of the other forms, as in a real build for one product.
#[inline(always)]
pub fn verify_forever(form: Form, token: &[u8]) -> ! {
    let Ok(secret) = OpenPaygoSecret::new(Key::new(black_box(KEY)), black_box(STARTING_CODE))
    else {
        halt()
    };
    let decoder = OpenPaygoVerifier::new(form);
    let mut state = black_box(OpenPaygoState::default());
    loop {
        // An opaque slice: its bytes and its length are unknown at compile time, like a keypad's.
        let verdict = decoder.decode(&secret, &mut state, black_box(token));
        let _ = black_box(verdict);
    }
}

/// Feeds `keys` to a Nexus device one key at a time forever: rate limiting on, the default QC
/// limits, a product with a seconds counter. `config` must be a constant at the call site.
#[inline(always)]
pub fn nexus_forever(config: nexus::NexusConfig, keys: &[u8]) -> ! {
    let key = Key::new(black_box(NEXUS_KEY));
    // Read from non-volatile memory at boot; written back whenever a call changed it.
    let mut state = black_box(NexusState::FRESH);
    let mut product = black_box(Product {
        credit: 0,
        unlocked: false,
    });
    let mut device = KeycodeProcessor::new(config, &state);
    let mut now = 0u32;
    loop {
        // A key press and the uptime in seconds, both unknown at compile time.
        now = black_box(now);
        for &k in black_box(keys) {
            let outcome = device.press_key(black_box(k), now, &key, &mut state, &mut product);
            black_box(outcome);
        }
        device.tick(now, &mut state);
        black_box(&state);
    }
}

/// Verifies `token` on an AST device with profile L forever. Only the paylock feature of `suite`
/// is built in; `size.sh` picks the compact software backends.
#[inline(always)]
pub fn access_forever(suite: Suite, token: &[u8]) -> ! {
    let config = access::AstConfig {
        suite,
        profile: Profile::L,
        device_id: black_box(123_456_789),
        key_rev: black_box(0),
        unit: Unit::Hours,
    };
    // Borrowed where it was made: moving it out would copy the key (and link `memcpy`).
    let provisioned = access::AstSecret::new(Key::new(black_box(AST_KEY)), config);
    let Ok(secret) = &provisioned else { halt() };
    // Read from non-volatile memory at boot; written back after every entry.
    let mut state = black_box(AstState::FRESH);
    let mut now = 0u32;
    loop {
        // The uptime in seconds and an entry: both unknown at compile time.
        now = black_box(now);
        let verdict = access::verify(secret, &mut state, black_box(token), now);
        let _ = black_box(verdict);
        black_box(&state);
    }
}

/// The OpenPAYGO secret, as a device would read it from its provisioning data.
#[inline(always)]
pub fn openpaygo_secret() -> OpenPaygoSecret {
    let Ok(secret) = OpenPaygoSecret::new(Key::new(black_box(KEY)), black_box(STARTING_CODE))
    else {
        halt()
    };
    secret
}

/// The Nexus device key, as a device would read it from its provisioning data.
#[inline(always)]
pub fn nexus_key() -> Key {
    Key::new(black_box(NEXUS_KEY))
}

/// The AST secret of a profile L device counting hours, with `suite` (the only one built in).
#[inline(always)]
pub fn access_secret(suite: Suite) -> access::AstSecret {
    let config = access::AstConfig {
        suite,
        profile: Profile::L,
        device_id: black_box(123_456_789),
        key_rev: black_box(0),
        unit: Unit::Hours,
    };
    let Ok(secret) = access::AstSecret::new(Key::new(black_box(AST_KEY)), config) else {
        halt()
    };
    secret
}

/// The standard OpenPAYGO verifier as a zero-sized [`Verifier`]: its form is part of the type.
///
/// An `OpenPaygoVerifier` stored in the engine is read from memory on every entry, so once the
/// engine's address reaches a function that is not inlined (its record write), the optimiser
/// must keep the decoding paths of every form, the extended one's 64-bit division included:
/// 1.6 KB more on Cortex-M4. Firmware for one product avoids that with a type like this one; both
/// OpenPAYGO stubs use it, so that their difference is the engine alone.
#[derive(Clone, Copy, Debug)]
pub struct StandardVerifier;

impl Verifier for StandardVerifier {
    type Secret = OpenPaygoSecret;
    type State = OpenPaygoDeviceState;

    #[inline(always)]
    fn verify(
        &self,
        secret: &OpenPaygoSecret,
        state: &mut OpenPaygoDeviceState,
        input: &[u8],
        context: &Context,
    ) -> Outcome {
        OpenPaygoVerifier::new(StandardForm).verify(secret, state, input, context)
    }

    #[inline(always)]
    fn screen(&self, secret: &OpenPaygoSecret, input: &[u8]) -> Result<(), ParseError> {
        OpenPaygoVerifier::new(StandardForm).screen(secret, input)
    }
}

/// Verifies `token` with `verifier` through the [`Verifier`] trait forever, writing the state to
/// [`RamFlash`] after each entry as a product without the engine still must: what the engine
/// stubs are measured against. The state, the clock and the PAYG mode are opaque.
#[inline(always)]
pub fn verifier_forever<V>(verifier: V, secret: &V::Secret, token: &[u8]) -> !
where
    V: Verifier,
    V::State: Persist,
{
    let mut flash = RamFlash::take();
    // The state's image in flash, read at boot and written after each entry.
    let mut image = [0u8; 8];
    let _ = flash.read(Slot::A, 0, &mut image);
    let mut state = black_box(<V::State as Persist>::FRESH);
    let mut now = 0u32;
    loop {
        now = black_box(now);
        let context = Context {
            now,
            payg: black_box(Payg::Enabled),
            active: black_box(false),
        };
        let outcome = verifier.verify(secret, &mut state, black_box(token), &context);
        let _ = black_box(outcome);
        black_box(&state);
        if flash.erase(Slot::A).is_ok() {
            let _ = flash.program(Slot::A, 0, black_box(&image));
        }
    }
}

/// Runs `verifier` inside the device-lock engine forever: boot from [`RamFlash`], then enter
/// `token`, tick and read the status on every pass, and save on a power-down warning. `config`
/// must be a constant at the call site, as in a real build.
#[inline(always)]
pub fn engine_forever<V, L>(
    verifier: V,
    secret: V::Secret,
    config: device::Config<L>,
    token: &[u8],
) -> !
where
    V: Verifier,
    L: device::LockoutPolicy,
    V::Secret: RecordKey,
    V::State: Persist,
{
    // A new device: both slots erased, as `RamFlash` starts.
    let flash = RamFlash::take();
    // The clock at power-on: unknown at compile time.
    let Ok((mut engine, boot)) = Engine::boot(verifier, secret, config, flash, black_box(0)) else {
        halt()
    };
    black_box(boot);
    let mut clock = 0u32;
    loop {
        // The firmware clock, an entry and the brown-out flag: all unknown at compile time.
        clock = black_box(clock);
        let _ = black_box(engine.enter(black_box(token), clock));
        let _ = black_box(engine.tick(clock));
        black_box(engine.status(clock));
        if black_box(false) {
            let _ = black_box(engine.power_down(clock));
        }
    }
}

/// Bytes in each of the two slots of [`RamFlash`]: room for every built-in scheme's record.
pub const SLOT_LEN: usize = 128;

/// The memory behind [`RamFlash`], holding the complement of each flash byte: RAM the runtime
/// zeroes at reset reads as erased flash, so that no stub code initialises it (which would
/// link `memset`, and hide the engine's own use of it) or erases it.
static CELLS: [[AtomicU8; SLOT_LEN]; 2] = [const { [const { AtomicU8::new(0) }; SLOT_LEN] }; 2];

/// Two record slots of [`SLOT_LEN`] bytes in RAM with NOR-flash semantics (erase to `0xFF`,
/// program clears bits): the stand-in for a product's flash driver, so that the stubs link
/// every path of the engine. Like a driver it is a handle, and it moves bytes one at a time
/// like a flash controller's data register: no `memset` or `memcpy` is linked for it. The
/// memory is reached through [`black_box`], so the optimiser cannot tell what a read returns.
#[derive(Debug)]
pub struct RamFlash {
    slots: &'static [[AtomicU8; SLOT_LEN]; 2],
}

/// An access outside a slot.
#[derive(Debug)]
pub struct OutOfRange;

impl RamFlash {
    /// The driver's handle on the flash.
    #[must_use]
    pub fn take() -> Self {
        Self { slots: &CELLS }
    }

    fn cells(&self, slot: Slot, offset: usize, len: usize) -> Result<&[AtomicU8], OutOfRange> {
        let [a, b] = black_box(self.slots);
        let cells = match slot {
            Slot::A => a,
            Slot::B => b,
        };
        let end = offset.checked_add(len).ok_or(OutOfRange)?;
        cells.get(offset..end).ok_or(OutOfRange)
    }
}

impl Storage for RamFlash {
    type Error = OutOfRange;

    fn slot_len(&self) -> usize {
        SLOT_LEN
    }

    fn read(&mut self, slot: Slot, offset: usize, buf: &mut [u8]) -> Result<(), OutOfRange> {
        let cells = self.cells(slot, offset, buf.len())?;
        buf.iter_mut()
            .zip(cells)
            .for_each(|(b, c)| *b = !c.load(Relaxed));
        Ok(())
    }

    fn erase(&mut self, slot: Slot) -> Result<(), OutOfRange> {
        self.cells(slot, 0, SLOT_LEN)?
            .iter()
            .for_each(|c| c.store(0, Relaxed));
        Ok(())
    }

    fn program(&mut self, slot: Slot, offset: usize, data: &[u8]) -> Result<(), OutOfRange> {
        let cells = self.cells(slot, offset, data.len())?;
        cells
            .iter()
            .zip(data)
            .for_each(|(c, d)| c.store(c.load(Relaxed) | !d, Relaxed));
        Ok(())
    }
}

/// The product: a credit counter in seconds and the paid-off flag.
struct Product {
    credit: u32,
    unlocked: bool,
}

impl Platform for Product {
    fn payg_state(&self) -> PaygState {
        if self.unlocked {
            PaygState::Unlocked
        } else if self.credit > 0 {
            PaygState::Enabled
        } else {
            PaygState::Disabled
        }
    }
    fn add_credit(&mut self, seconds: u32) {
        self.credit = self.credit.saturating_add(seconds);
    }
    fn set_credit(&mut self, seconds: u32) {
        self.credit = seconds;
    }
    fn unlock(&mut self) {
        self.unlocked = true;
    }
    fn user_facing_id(&self) -> u32 {
        black_box(123_456_789)
    }
    fn feedback(&mut self, feedback: Feedback) {
        black_box(feedback);
    }
}

/// The Metrics device key (the device's token key).
const METRICS_KEY: [u8; 16] = *b"\xda\xc8\x6b\x1a\x29\xab\x82\xed\xc5\xfb\xbc\x41\xec\x95\x30\xf6";

/// Builds and signs a condensed `ra` report into `buf`: a token count, the firmware version and
/// one day of history (Wh, hours, volts as fixed-point values), every input opaque.
#[inline(always)]
fn metrics_report<'b>(
    buf: &'b mut [u8],
    key: &Key,
    count: u64,
) -> Result<&'b str, paylock::metrics::BuildError> {
    let mut report =
        metrics::Request::new(buf, metrics::Layout::Condensed, black_box("123456789"))?;
    report.data_format_id(black_box(31))?;
    report.timestamp(black_box(1_700_000_000))?;
    report.request_count(count)?;
    report.data(|d| {
        d.uint("token_count", black_box(12))?;
        d.str("firmware_version", black_box("1.0.8"))
    })?;
    report.historical_data(|hd| {
        hd.row(|r| {
            r.decimal("power_generated", black_box(1250), 1)?;
            r.decimal("hours_of_lighting", black_box(30), 1)?;
            r.decimal("average_battery_voltage", black_box(1275), 2)
        })
    })?;
    report.sign(key, metrics::AuthMethod::RecursiveData)
}

/// Signs a report forever, each with the next request count.
#[inline(always)]
pub fn metrics_report_forever() -> ! {
    let key = Key::new(black_box(METRICS_KEY));
    let mut buf = [0u8; 256];
    let mut count = 0u64;
    loop {
        count = black_box(count) + 1;
        let sent = metrics_report(&mut buf, &key, count).map(str::len);
        let _ = black_box(sent);
    }
}

/// Signs a report, then verifies and reads the answer that comes back, forever.
#[inline(always)]
pub fn metrics_device_forever() -> ! {
    let key = Key::new(black_box(METRICS_KEY));
    let mut buf = [0u8; 256];
    let mut count = 0u64;
    let answer: &[u8] =
        br#"{"tkl":["123456789"],"auts":1700086400,"st":{"base_url":"x"},"a":"da0"}"#;
    loop {
        count = black_box(count) + 1;
        let _ = black_box(metrics_report(&mut buf, &key, count).map(str::len));
        let sent = metrics::Sent {
            serial_number: "123456789",
            timestamp: 1_700_000_000,
            request_count: count,
        };
        // The answer as received: its bytes are unknown at compile time.
        if let Ok(answer) = metrics::Answer::verify(black_box(answer), &key, &sent) {
            for token in answer.tokens() {
                black_box(token);
            }
            black_box(answer.active_until());
            let mut url = [0u8; 64];
            if let Some(value) = answer.settings().and_then(|s| s.get("base_url")) {
                let _ = black_box(
                    value
                        .as_str()
                        .map(|s| s.decode_into(&mut url).map(str::len)),
                );
            }
        }
    }
}

/// Where a device without a valid provisioning would stop.
fn halt() -> ! {
    loop {
        black_box(());
    }
}
