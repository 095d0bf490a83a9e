//! Full-protocol keycodes for the server, byte-exact with `nexus-keycode` 1.5.1 (decision 1),
//! except OQC codes, which use the `5 000 MM` form firmware 2.0.1 accepts.

use super::message::{ACTIVATION_DIGITS, MAX_BODY, UNLOCK_HOURS, WipeTarget, kind};
use crate::key::Key;
use crate::nexus::issue::{MAX_ISSUED_ID, NexusIssueError, check_id};
use crate::nexus::keycode::{FrameDigits, Keycode, MAX_FRAME_DIGITS};
use crate::nexus::primitives::{MacInput, ZERO_KEY, full_check, obscure_digits, prng, siphash24};
use crate::token::TokenText;

/// Digits the obscuring changes: type, ID and body (the check stays readable).
const OBSCURED_DIGITS: usize = 8;

/// An activation message: the codes keyed per device and replay-protected by message ID.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Activation {
    /// Add hours of credit (0-99,999).
    AddCredit {
        /// Hours to add.
        hours: u32,
    },
    /// Set the credit to this many hours (0-99,998; 99,999 is [`Activation::Unlock`]).
    SetCredit {
        /// Hours of credit from now.
        hours: u32,
    },
    /// End PAYG for good (SET_CREDIT with 99,999 hours).
    Unlock,
    /// Clear state on the device; see [`WipeTarget`] for the replay risk of window wipes.
    WipeState(WipeTarget),
    /// A demo code (type 3): adds minutes (0-99,999) every time it is entered; the device
    /// records no ID for it. Issued only by [`FullIssuer::allowing_demo_codes`].
    Demo {
        /// Minutes to add.
        minutes: u32,
    },
}

impl Activation {
    /// The type digit and the body value (hours, minutes or wipe target).
    fn fields(self) -> Result<(u8, u32), NexusIssueError> {
        let max = u64::from(MAX_BODY);
        match self {
            Self::AddCredit { hours } if hours <= MAX_BODY => Ok((kind::ADD_CREDIT, hours)),
            Self::AddCredit { hours } => Err(NexusIssueError::range("hours", hours, 0, max)),
            Self::SetCredit { hours } if hours < UNLOCK_HOURS => Ok((kind::SET_CREDIT, hours)),
            Self::SetCredit { hours } => Err(NexusIssueError::range("hours", hours, 0, max - 1)),
            Self::Unlock => Ok((kind::SET_CREDIT, UNLOCK_HOURS)),
            Self::WipeState(target) => Ok((kind::WIPE_STATE, u32::from(target.digit()))),
            Self::Demo { minutes } if minutes <= MAX_BODY => Ok((kind::DEMO, minutes)),
            Self::Demo { minutes } => Err(NexusIssueError::range("minutes", minutes, 0, max)),
        }
    }
}

/// A universal factory code: the same on every device (MAC key all zeros), never obscured.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FactoryCode {
    /// +127 s, only while the device is PAYG-disabled; unlimited.
    AllowTest,
    /// `5 000 MM`: adds 1-99 minutes, counted against the device's lifetime QC limits; codes
    /// other than 60 minutes only work while disabled.
    OqcTest {
        /// Minutes, 1-99.
        minutes: u8,
    },
    /// The 7-digit OQC code `nexus-keycode` 1.5.1 emits (`*577 043 3#`). Firmware 2.0.1
    /// rejects it; kept only for products known to expect it.
    OqcTestLegacy151,
    /// Asks the product to show its PAYG ID.
    DisplayPaygId,
}

/// The intermediate values of an issued full-protocol code, for vectors and audits.
///
/// `unobscured_digits` is the frame before obscuring; it is not a keycode (firmware rejects
/// it), which is why it is only reachable here.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FullTrace {
    /// The bytes under the MAC.
    pub mac_input: MacInput,
    /// SipHash-2-4 of `mac_input`.
    pub siphash: u64,
    /// The 6-digit check.
    pub check: u32,
    /// The digits before obscuring (type, ID, body, check).
    pub unobscured_digits: TokenText,
    /// The PRNG bytes added to digits 0-7 (`None` for factory codes, which are not obscured).
    pub obscure_prng: Option<[u8; 8]>,
    /// The keycode.
    pub keycode: Keycode,
}

/// The intermediate values of a UART key passthrough code (spec §8.4).
#[derive(Debug)]
pub struct UartTrace {
    /// The key derived for the other MCU.
    pub security_key: Key,
    /// `full_check(H(security_key, [0x00]))`.
    pub check: u32,
    /// The keycode: `*800` and the check.
    pub keycode: Keycode,
}

/// Issues full-protocol keycodes.
///
/// Message IDs above 65534 are refused unless [`FullIssuer::allowing_ids_above_65534`] is used:
/// nexus-embedded 2.0.1 keeps IDs in 16 bits and lets such codes be replayed (spec §5.5).
/// Demo codes are refused unless [`FullIssuer::allowing_demo_codes`] is used: they add credit
/// each time they are entered. Factory and passthrough codes carry no ID and are associated
/// functions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FullIssuer {
    max_id: u32,
    demo_codes: bool,
}

impl Default for FullIssuer {
    fn default() -> Self {
        Self::new()
    }
}

impl FullIssuer {
    /// An issuer that refuses message IDs above 65534 and demo codes.
    #[must_use]
    pub const fn new() -> Self {
        Self {
            max_id: MAX_ISSUED_ID,
            demo_codes: false,
        }
    }

    /// The same issuer accepting any `u32` ID, for devices known not to run firmware 2.0.1.
    #[must_use]
    pub const fn allowing_ids_above_65534(self) -> Self {
        Self {
            max_id: u32::MAX,
            ..self
        }
    }

    /// The same issuer issuing demo codes ([`Activation::Demo`]). A demo code adds its minutes
    /// every time it is entered (the device records no ID for it, as in nexus-embedded
    /// 2.0.1), so anyone who has one can re-enter it for credit: for showroom and test
    /// devices, never for a customer's.
    #[must_use]
    pub const fn allowing_demo_codes(self) -> Self {
        Self {
            demo_codes: true,
            ..self
        }
    }

    /// The largest message ID this issuer accepts.
    #[must_use]
    pub const fn max_id(&self) -> u32 {
        self.max_id
    }

    /// Whether this issuer issues demo codes.
    #[must_use]
    pub const fn issues_demo_codes(&self) -> bool {
        self.demo_codes
    }

    /// The keycode for `message` with message ID `id` on the device with `key`.
    ///
    /// # Errors
    /// [`NexusIssueError::IdTooHigh`] above [`Self::max_id`]; [`NexusIssueError::OutOfRange`] for
    /// hours or minutes the 5-digit body cannot carry; [`NexusIssueError::DemoNotAllowed`] for
    /// a demo code unless [`Self::allowing_demo_codes`].
    pub fn activation(
        &self,
        key: &Key,
        id: u32,
        message: Activation,
    ) -> Result<Keycode, NexusIssueError> {
        self.trace_activation(key, id, message).map(|t| t.keycode)
    }

    /// Adds `hours` (0-99,999).
    ///
    /// # Errors
    /// As [`Self::activation`].
    pub fn add_credit(&self, key: &Key, id: u32, hours: u32) -> Result<Keycode, NexusIssueError> {
        self.activation(key, id, Activation::AddCredit { hours })
    }

    /// Sets the credit to `hours` (0-99,998).
    ///
    /// # Errors
    /// As [`Self::activation`].
    pub fn set_credit(&self, key: &Key, id: u32, hours: u32) -> Result<Keycode, NexusIssueError> {
        self.activation(key, id, Activation::SetCredit { hours })
    }

    /// Unlocks the device for good.
    ///
    /// # Errors
    /// [`NexusIssueError::IdTooHigh`].
    pub fn unlock(&self, key: &Key, id: u32) -> Result<Keycode, NexusIssueError> {
        self.activation(key, id, Activation::Unlock)
    }

    /// Wipes `target`. Window wipes are for the factory: see [`WipeTarget::Window`].
    ///
    /// # Errors
    /// [`NexusIssueError::IdTooHigh`].
    pub fn wipe_state(
        &self,
        key: &Key,
        id: u32,
        target: WipeTarget,
    ) -> Result<Keycode, NexusIssueError> {
        self.activation(key, id, Activation::WipeState(target))
    }

    /// A reusable demo code adding `minutes` (0-99,999) each time it is entered; only from an
    /// issuer made with [`Self::allowing_demo_codes`].
    ///
    /// # Errors
    /// As [`Self::activation`].
    pub fn demo(&self, key: &Key, id: u32, minutes: u32) -> Result<Keycode, NexusIssueError> {
        self.activation(key, id, Activation::Demo { minutes })
    }

    /// [`Self::activation`] with every intermediate value.
    ///
    /// # Errors
    /// As [`Self::activation`].
    pub fn trace_activation(
        &self,
        key: &Key,
        id: u32,
        message: Activation,
    ) -> Result<FullTrace, NexusIssueError> {
        if matches!(message, Activation::Demo { .. }) && !self.demo_codes {
            return Err(NexusIssueError::DemoNotAllowed);
        }
        check_id(id, self.max_id)?;
        let (kind, body) = message.fields()?;
        let mac_input = MacInput::with_u32(id, kind, body);
        let siphash = mac_input.hash(key);
        let check = full_check(siphash);
        let mut digits = FrameDigits::new();
        digits.push(kind);
        digits.push_decimal(u64::from(id & 0x3F), 2);
        digits.push_decimal(u64::from(body), 5);
        digits.push_decimal(u64::from(check), 6);
        let unobscured_digits = digits.text();
        obscure_digits(digits.as_mut_slice(), OBSCURED_DIGITS, check, true);
        Ok(FullTrace {
            mac_input,
            siphash,
            check,
            unobscured_digits,
            obscure_prng: Some(prng(&check.to_le_bytes())),
            keycode: Keycode::full(&digits),
        })
    }

    /// A universal factory code.
    ///
    /// # Errors
    /// [`NexusIssueError::OutOfRange`] for OQC minutes outside 1-99.
    pub fn factory(code: FactoryCode) -> Result<Keycode, NexusIssueError> {
        Self::trace_factory(code).map(|t| t.keycode)
    }

    /// ALLOW_TEST: `*406 498 3#`.
    #[must_use]
    pub fn allow_test() -> Keycode {
        factory_trace(kind::ALLOW_TEST, None).keycode
    }

    /// DISPLAY_PAYG_ID: `*634 776 5#`.
    #[must_use]
    pub fn display_payg_id() -> Keycode {
        factory_trace(kind::DISPLAY_PAYG_ID, None).keycode
    }

    /// OQC test of `minutes` (1-99) in the form firmware 2.0.1 accepts: 60 gives `*500 060 694 509#`.
    ///
    /// # Errors
    /// [`NexusIssueError::OutOfRange`] outside 1-99.
    pub fn oqc_test(minutes: u8) -> Result<Keycode, NexusIssueError> {
        Self::factory(FactoryCode::OqcTest { minutes })
    }

    /// The 1.5.1 OQC code `*577 043 3#`, which firmware 2.0.1 rejects.
    #[must_use]
    pub fn oqc_test_legacy_1_5_1() -> Keycode {
        factory_trace(kind::OQC_TEST, None).keycode
    }

    /// [`Self::factory`] with every intermediate value.
    ///
    /// # Errors
    /// As [`Self::factory`].
    pub fn trace_factory(code: FactoryCode) -> Result<FullTrace, NexusIssueError> {
        Ok(match code {
            FactoryCode::AllowTest => factory_trace(kind::ALLOW_TEST, None),
            FactoryCode::DisplayPaygId => factory_trace(kind::DISPLAY_PAYG_ID, None),
            FactoryCode::OqcTestLegacy151 => factory_trace(kind::OQC_TEST, None),
            FactoryCode::OqcTest { minutes } if (1..=99).contains(&minutes) => {
                factory_trace(kind::OQC_TEST, Some(minutes))
            }
            FactoryCode::OqcTest { minutes } => {
                return Err(NexusIssueError::range("minutes", minutes, 1, 99));
            }
        })
    }

    /// The device-ID confirmation code (type 7, no MAC): `*7` and the user-facing ID, at least
    /// 8 digits. The device answers "applied" if the ID is its own and "valid" otherwise.
    /// nexus-keycode has no generator for it; the code follows nexus-embedded's parser.
    #[must_use]
    pub fn device_id_confirmation(user_facing_id: u32) -> Keycode {
        let mut digits = FrameDigits::new();
        digits.push(kind::DEVICE_ID_CONFIRMATION);
        let width = decimal_width(user_facing_id).max(8);
        digits.push_decimal(u64::from(user_facing_id), width);
        Keycode::full_ungrouped(&digits)
    }

    /// A passthrough code: `*8`, the subtype digit (0-9), `data` (decimal digits), `#`. Not
    /// authenticated at this layer: the product must check the data (spec §3.6).
    ///
    /// # Errors
    /// [`NexusIssueError::NotADigit`]; [`NexusIssueError::OutOfRange`] for a subtype above 9 or
    /// data that is empty or longer than 28 digits (the device holds 30); and
    /// [`NexusIssueError::PassthroughBody13`] for 12 data digits (the frame would be 14 digits).
    pub fn passthrough(subtype: u8, data: &str) -> Result<Keycode, NexusIssueError> {
        if subtype > 9 {
            return Err(NexusIssueError::range("subtype", subtype, 0, 9));
        }
        if let Some(position) = data.bytes().position(|b| !b.is_ascii_digit()) {
            return Err(NexusIssueError::NotADigit { position });
        }
        let max_data = MAX_FRAME_DIGITS - 2;
        if data.is_empty() || data.len() > max_data {
            return Err(NexusIssueError::range(
                "passthrough digits",
                data.len() as u64,
                1,
                max_data as u64,
            ));
        }
        if data.len() + 1 == ACTIVATION_DIGITS - 1 {
            return Err(NexusIssueError::PassthroughBody13);
        }
        let mut digits = FrameDigits::new();
        digits.push(kind::PASSTHROUGH);
        digits.push(subtype);
        for b in data.bytes() {
            digits.push(b - b'0');
        }
        Ok(Keycode::full(&digits))
    }

    /// The UART key passthrough code for the device with `key` (spec §8.4): `*800` and the
    /// 6-digit check of the derived key, which lets the PAYG MCU hand that key to another MCU.
    #[must_use]
    pub fn uart_key_passthrough(key: &Key) -> Keycode {
        Self::trace_uart_key_passthrough(key).keycode
    }

    /// [`Self::uart_key_passthrough`] with the derived key and the check.
    #[must_use]
    pub fn trace_uart_key_passthrough(key: &Key) -> UartTrace {
        let security_key = uart_security_key(key);
        let check = full_check(siphash24(&security_key, &[0x00]));
        let mut digits = FrameDigits::new();
        digits.push(kind::PASSTHROUGH);
        digits.push(0);
        digits.push(0);
        digits.push_decimal(u64::from(check), 6);
        UartTrace {
            security_key,
            check,
            keycode: Keycode::full(&digits),
        }
    }
}

/// The key the UART passthrough hands on: `H(0, key[..8]).le ++ H(0, key[8..]).le`.
#[must_use]
pub fn uart_security_key(key: &Key) -> Key {
    let zero = Key::new(ZERO_KEY);
    let (a, b) = key.as_bytes().split_at(8);
    let mut out = [0u8; 16];
    let halves = siphash24(&zero, a)
        .to_le_bytes()
        .into_iter()
        .chain(siphash24(&zero, b).to_le_bytes());
    for (slot, byte) in out.iter_mut().zip(halves) {
        *slot = byte;
    }
    Key::new(out)
}

/// A factory code: type, the optional `000MM` body, the check under the zero key.
fn factory_trace(kind: u8, minutes: Option<u8>) -> FullTrace {
    let mac_body = minutes.map_or(0, u32::from);
    let mac_input = MacInput::with_u32(0, kind, mac_body);
    let siphash = mac_input.hash(&Key::new(ZERO_KEY));
    let check = full_check(siphash);
    let mut digits = FrameDigits::new();
    digits.push(kind);
    if let Some(m) = minutes {
        digits.push_decimal(u64::from(m), 5);
    }
    digits.push_decimal(u64::from(check), 6);
    FullTrace {
        mac_input,
        siphash,
        check,
        unobscured_digits: digits.text(),
        obscure_prng: None,
        keycode: Keycode::full(&digits),
    }
}

/// Decimal digits of `value` (at least 1).
fn decimal_width(value: u32) -> u32 {
    value.checked_ilog10().map_or(1, |l| l + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deadbeef() -> Key {
        Key::from_hex("deadbeefdeadbeefdeadbeefdeadbeef").unwrap()
    }

    #[test]
    fn readme_codes() {
        let i = FullIssuer::new();
        let k = deadbeef();
        assert_eq!(
            i.add_credit(&k, 42, 168).unwrap().display(),
            "*599 791 493 194 43#"
        );
        assert_eq!(
            i.set_credit(&k, 43, 240).unwrap().display(),
            "*682 070 357 093 12#"
        );
        assert_eq!(i.unlock(&k, 44).unwrap().display(), "*578 396 697 305 45#");
        assert_eq!(
            i.wipe_state(&k, 45, WipeTarget::Window).unwrap().display(),
            "*356 107 776 307 38#"
        );
        assert_eq!(FullIssuer::allow_test().display(), "*406 498 3#");
        assert_eq!(FullIssuer::display_payg_id().display(), "*634 776 5#");
        assert_eq!(FullIssuer::oqc_test_legacy_1_5_1().display(), "*577 043 3#");
        assert_eq!(
            FullIssuer::oqc_test(60).unwrap().display(),
            "*500 060 694 509#"
        );
        let uart = Key::new(core::array::from_fn(|i| u8::try_from(i).unwrap()));
        assert_eq!(
            FullIssuer::uart_key_passthrough(&uart).display(),
            "*800 875 838#"
        );
    }

    #[test]
    fn refuses_what_the_device_cannot_take() {
        let i = FullIssuer::new();
        let k = deadbeef();
        assert_eq!(
            i.add_credit(&k, 65_535, 1),
            Err(NexusIssueError::IdTooHigh {
                id: 65_535,
                max: 65_534
            })
        );
        assert!(
            i.allowing_ids_above_65534()
                .add_credit(&k, 65_535, 1)
                .is_ok()
        );
        assert!(matches!(
            i.add_credit(&k, 1, 100_000),
            Err(NexusIssueError::OutOfRange { field: "hours", .. })
        ));
        assert!(matches!(
            i.set_credit(&k, 1, 99_999),
            Err(NexusIssueError::OutOfRange { field: "hours", .. })
        ));
        assert!(matches!(
            i.allowing_demo_codes().demo(&k, 1, 100_000),
            Err(NexusIssueError::OutOfRange {
                field: "minutes",
                ..
            })
        ));
        assert!(FullIssuer::oqc_test(0).is_err() && FullIssuer::oqc_test(100).is_err());
        assert_eq!(
            FullIssuer::passthrough(0, "923828478287"),
            Err(NexusIssueError::PassthroughBody13)
        );
        assert_eq!(
            FullIssuer::passthrough(0, "12a"),
            Err(NexusIssueError::NotADigit { position: 2 })
        );
        assert!(FullIssuer::passthrough(0, "").is_err());
        assert!(FullIssuer::passthrough(10, "1").is_err());
        assert!(FullIssuer::passthrough(0, &"0".repeat(29)).is_err());
        let longest = FullIssuer::passthrough(0, &"0".repeat(28)).unwrap();
        assert_eq!(longest.keys().len(), 32);
    }

    /// A demo code adds credit every time it is entered, so it is issued only on request.
    #[test]
    fn demo_codes_are_an_explicit_opt_in() {
        let k = deadbeef();
        let demo = Activation::Demo { minutes: 30 };
        for issuer in [
            FullIssuer::new(),
            FullIssuer::new().allowing_ids_above_65534(),
        ] {
            assert!(!issuer.issues_demo_codes());
            assert_eq!(issuer.demo(&k, 5, 30), Err(NexusIssueError::DemoNotAllowed));
            assert_eq!(
                issuer.trace_activation(&k, 5, demo).map(|t| t.keycode),
                Err(NexusIssueError::DemoNotAllowed)
            );
        }
        let issuer = FullIssuer::new().allowing_demo_codes();
        assert!(issuer.issues_demo_codes() && issuer.max_id() == 65_534);
        assert_eq!(
            issuer.demo(&k, 5, 30),
            issuer.allowing_ids_above_65534().activation(&k, 5, demo)
        );
        assert!(issuer.demo(&k, 65_535, 30).is_err());
    }

    #[test]
    fn device_id_confirmation_pads_to_eight_digits() {
        assert_eq!(
            FullIssuer::device_id_confirmation(123_456_789).keys(),
            "*7123456789#"
        );
        assert_eq!(FullIssuer::device_id_confirmation(42).keys(), "*700000042#");
        assert_eq!(
            FullIssuer::device_id_confirmation(u32::MAX).keys(),
            "*74294967295#"
        );
    }
}
