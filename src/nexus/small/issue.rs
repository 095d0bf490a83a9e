//! Small-protocol keycodes for the server, byte-exact with `nexus-keycode` 1.5.1.

use super::extended;
use super::message::{
    Maintenance, SetTarget, TestCode, UNLOCK_INCREMENT, WIPE_RESTRICTED_FLAG_INCREMENT,
    add_credit_increment, kind, pack, passthrough_frame, symbols,
};
use crate::key::Key;
use crate::nexus::issue::{MAX_ISSUED_ID, NexusIssueError, check_id};
use crate::nexus::keycode::{Keycode, SmallKeymap};
use crate::nexus::primitives::{FF_KEY, MacInput, small_mac12, small_mask16, small_obscure};

/// The intermediate values of an issued small-protocol code, for vectors and audits.
///
/// `unobscured_bits` is the frame before obscuring; it is not a keycode (firmware rejects it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SmallTrace {
    /// The bytes under the MAC (`None` for passthrough codes, which carry no MAC).
    pub mac_input: Option<MacInput>,
    /// SipHash-2-4 of `mac_input`.
    pub siphash: Option<u64>,
    /// The low 12 frame bits: the MAC, the extended auth, or the passthrough tail.
    pub mac12: u16,
    /// The 28 frame bits before obscuring.
    pub unobscured_bits: u32,
    /// The mask XORed into the top 16 bits.
    pub mask16: u16,
    /// The 28 frame bits the keys carry.
    pub obscured_bits: u32,
    /// The keycode.
    pub keycode: Keycode,
}

/// Issues small-protocol keycodes.
///
/// Message IDs above 65534 are refused unless [`SmallIssuer::allowing_ids_above_65534`] is
/// used (firmware 2.0.1 keeps IDs in 16 bits). Codes are shown with the standard keys `1`,
/// `2345` unless [`SmallIssuer::with_keymap`] says otherwise.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SmallIssuer {
    max_id: u32,
    keymap: SmallKeymap,
}

impl Default for SmallIssuer {
    fn default() -> Self {
        Self::new()
    }
}

impl SmallIssuer {
    /// An issuer that refuses message IDs above 65534 and uses the standard keys.
    #[must_use]
    pub const fn new() -> Self {
        Self {
            max_id: MAX_ISSUED_ID,
            keymap: SmallKeymap::STANDARD,
        }
    }

    /// The same issuer accepting any `u32` ID, for devices known not to run firmware 2.0.1.
    /// Extended codes are then checked for collisions over the whole window, where upstream
    /// stops at 65535.
    #[must_use]
    pub const fn allowing_ids_above_65534(self) -> Self {
        Self {
            max_id: u32::MAX,
            ..self
        }
    }

    /// The same issuer showing codes with other keys (upstream `to_keycode(prefix, key_dict)`).
    #[must_use]
    pub const fn with_keymap(self, keymap: SmallKeymap) -> Self {
        Self { keymap, ..self }
    }

    /// The largest message ID this issuer accepts.
    #[must_use]
    pub const fn max_id(&self) -> u32 {
        self.max_id
    }

    /// Adds `days` (1-405). Above 180 days the device applies the next multiple of 3 past
    /// 180 ([`super::add_credit_days`]): 181 gives 183.
    ///
    /// # Errors
    /// [`NexusIssueError::IdTooHigh`]; [`NexusIssueError::OutOfRange`] for days outside 1-405.
    pub fn add_credit(&self, key: &Key, id: u32, days: u16) -> Result<Keycode, NexusIssueError> {
        let inc = add_credit_increment(days)?;
        self.credit(key, id, kind::ADD_CREDIT, inc)
            .map(|t| t.keycode)
    }

    /// Unlocks the device (an ADD code with the unlock increment, as upstream does).
    ///
    /// # Errors
    /// [`NexusIssueError::IdTooHigh`].
    pub fn unlock(&self, key: &Key, id: u32) -> Result<Keycode, NexusIssueError> {
        self.credit(key, id, kind::ADD_CREDIT, UNLOCK_INCREMENT)
            .map(|t| t.keycode)
    }

    /// Sets the credit (0 days locks; above 90 days the device rounds up, see
    /// [`super::set_credit_days`]) or unlocks.
    ///
    /// # Errors
    /// [`NexusIssueError::IdTooHigh`]; [`NexusIssueError::OutOfRange`] above 960 days;
    /// [`NexusIssueError::SetCreditId63`] for 1 day at an ID ending in 63 (use the next ID), or
    /// [`NexusIssueError::CounterExhausted`] there when no next ID is left.
    pub fn set_credit(
        &self,
        key: &Key,
        id: u32,
        target: SetTarget,
    ) -> Result<Keycode, NexusIssueError> {
        self.trace_set_credit(key, id, target).map(|t| t.keycode)
    }

    /// [`Self::set_credit`] with every intermediate value.
    ///
    /// # Errors
    /// As [`Self::set_credit`].
    pub fn trace_set_credit(
        &self,
        key: &Key,
        id: u32,
        target: SetTarget,
    ) -> Result<SmallTrace, NexusIssueError> {
        check_id(id, self.max_id)?;
        if target == SetTarget::Days(1) && id & 0x3F == 63 {
            // Would read as an old test code; upstream refuses it the same way. The next ID
            // is the way out, unless there is none: IDs never wrap back to used ones.
            let next = id.checked_add(1).filter(|next| *next <= self.max_id);
            return Err(match next {
                Some(next) => NexusIssueError::SetCreditId63 { id, next },
                None => NexusIssueError::CounterExhausted { id },
            });
        }
        self.credit(key, id, kind::SET_CREDIT, target.increment()?)
    }

    /// The custom command clearing the restricted flag (credit unchanged).
    ///
    /// # Errors
    /// [`NexusIssueError::IdTooHigh`].
    pub fn wipe_restricted_flag(&self, key: &Key, id: u32) -> Result<Keycode, NexusIssueError> {
        self.credit(key, id, kind::SET_CREDIT, WIPE_RESTRICTED_FLAG_INCREMENT)
            .map(|t| t.keycode)
    }

    /// [`Self::add_credit`] and the other ID-carrying codes with every intermediate value:
    /// `increment` is the raw 8-bit body of an ADD (`kind` 0) or SET (`kind` 2) code.
    ///
    /// # Errors
    /// [`NexusIssueError::IdTooHigh`]; [`NexusIssueError::OutOfRange`] for another `kind`.
    pub fn trace_credit(
        &self,
        key: &Key,
        id: u32,
        kind: u8,
        increment: u8,
    ) -> Result<SmallTrace, NexusIssueError> {
        if kind != kind::ADD_CREDIT && kind != kind::SET_CREDIT {
            return Err(NexusIssueError::range("type", kind, 0, 2));
        }
        self.credit(key, id, kind, increment)
    }

    fn credit(
        &self,
        key: &Key,
        id: u32,
        kind: u8,
        increment: u8,
    ) -> Result<SmallTrace, NexusIssueError> {
        check_id(id, self.max_id)?;
        Ok(self.authenticated(key, id, kind, increment))
    }

    /// A maintenance code (no ID: replayable; factory and support only).
    #[must_use]
    pub fn maintenance(&self, key: &Key, function: Maintenance) -> Keycode {
        self.trace_maintenance(key, function).keycode
    }

    /// [`Self::maintenance`] with every intermediate value.
    #[must_use]
    pub fn trace_maintenance(&self, key: &Key, function: Maintenance) -> SmallTrace {
        self.authenticated(key, 0, kind::MAINTENANCE_OR_TEST, 0x80 | function as u8)
    }

    /// A universal test code (the same on every device).
    #[must_use]
    pub fn test(&self, code: TestCode) -> Keycode {
        self.trace_test(code).keycode
    }

    /// [`Self::test`] with every intermediate value.
    #[must_use]
    pub fn trace_test(&self, code: TestCode) -> SmallTrace {
        self.authenticated(&Key::new(FF_KEY), 0, kind::MAINTENANCE_OR_TEST, code as u8)
    }

    /// A passthrough code carrying 26 raw bits, MSB first (no MAC at this layer). Firmware
    /// 2.0.1 only reads bit 25 = 1 (extended codes); others are refused on the device.
    ///
    /// # Errors
    /// [`NexusIssueError::OutOfRange`] if `bits26` has bits above bit 25.
    pub fn passthrough(&self, bits26: u32) -> Result<Keycode, NexusIssueError> {
        self.trace_passthrough(bits26).map(|t| t.keycode)
    }

    /// [`Self::passthrough`] with every intermediate value.
    ///
    /// # Errors
    /// As [`Self::passthrough`].
    pub fn trace_passthrough(&self, bits26: u32) -> Result<SmallTrace, NexusIssueError> {
        const MAX: u32 = (1 << 26) - 1;
        if bits26 > MAX {
            return Err(NexusIssueError::range(
                "passthrough bits",
                bits26,
                0,
                MAX.into(),
            ));
        }
        Ok(self.finish(passthrough_frame(bits26), None, None))
    }

    /// The extended code setting credit (or unlocking) and clearing the restricted flag.
    ///
    /// Only the low 2 ID bits travel, so the device tries every unused ID in its window with
    /// the same 2 bits; an ID is refused when another of those gives the same 12-bit
    /// authentication. Such a refusal names the next ID that works; [`Self::next_extended_id`]
    /// finds it up front. Devices accept these codes after about 256 guesses on average
    /// (spec §12); prefer full SET codes where the keypad allows.
    ///
    /// # Errors
    /// [`NexusIssueError::IdTooHigh`]; [`NexusIssueError::OutOfRange`] above 960 days;
    /// [`NexusIssueError::ExtendedCollision`] (with the next valid ID), or
    /// [`NexusIssueError::CounterExhausted`] when that ID would be above [`Self::max_id`].
    pub fn extended_set_credit_wipe_restricted(
        &self,
        key: &Key,
        id: u32,
        target: SetTarget,
    ) -> Result<Keycode, NexusIssueError> {
        self.trace_extended(key, id, target).map(|t| t.keycode)
    }

    /// The first ID at or after `id` that [`Self::extended_set_credit_wipe_restricted`]
    /// accepts for `target`.
    ///
    /// # Errors
    /// As [`Self::extended_set_credit_wipe_restricted`], and
    /// [`NexusIssueError::NoCollisionFreeId`] if none of the 40 IDs from `id` works.
    pub fn next_extended_id(
        &self,
        key: &Key,
        id: u32,
        target: SetTarget,
    ) -> Result<u32, NexusIssueError> {
        check_id(id, self.max_id)?;
        let inc = target.increment()?;
        let free = extended::next_free_id(key, id, inc, self.collision_ceiling())?;
        if free > self.max_id {
            return Err(NexusIssueError::CounterExhausted { id });
        }
        Ok(free)
    }

    /// [`Self::extended_set_credit_wipe_restricted`] with every intermediate value.
    ///
    /// # Errors
    /// As [`Self::extended_set_credit_wipe_restricted`].
    pub fn trace_extended(
        &self,
        key: &Key,
        id: u32,
        target: SetTarget,
    ) -> Result<SmallTrace, NexusIssueError> {
        check_id(id, self.max_id)?;
        let inc = target.increment()?;
        let next_valid = extended::next_free_id(key, id, inc, self.collision_ceiling())?;
        if next_valid > self.max_id {
            return Err(NexusIssueError::CounterExhausted { id });
        }
        if next_valid != id {
            return Err(NexusIssueError::ExtendedCollision { id, next_valid });
        }
        let mac_input = extended::auth_input(id, inc);
        let siphash = mac_input.hash(key);
        let auth = small_mac12(siphash);
        let bits26 = extended::bits26(id, inc, auth);
        Ok(self.finish(passthrough_frame(bits26), Some(mac_input), Some(siphash)))
    }

    /// The highest ID the collision search looks at: the whole window, always. nexus-keycode
    /// stops at 65535 because deployed firmware wraps IDs there; a paylock device keeps counting,
    /// so a code issued near 65534 with a collision just above 65535 could be applied twice. About
    /// 1 in 400 IDs from 65496 to 65534 is refused here (naming the next valid ID) where 1.5.1
    /// would issue a code.
    const fn collision_ceiling(&self) -> u32 {
        u32::MAX
    }

    /// A type 0/2/3 code: `LE32(id) ++ [type] ++ [body]` under `key`, top 12 bits.
    fn authenticated(&self, key: &Key, id: u32, kind: u8, body: u8) -> SmallTrace {
        let mac_input = MacInput::new(id, kind, &[body]);
        let siphash = mac_input.hash(key);
        let bits = pack(
            u8::try_from(id & 0x3F).unwrap_or(0),
            kind,
            body,
            small_mac12(siphash),
        );
        self.finish(bits, Some(mac_input), Some(siphash))
    }

    fn finish(&self, bits: u32, mac_input: Option<MacInput>, siphash: Option<u64>) -> SmallTrace {
        let mac12 = u16::try_from(bits & 0xFFF).unwrap_or(0);
        let obscured_bits = small_obscure(bits);
        SmallTrace {
            mac_input,
            siphash,
            mac12,
            unobscured_bits: bits,
            mask16: small_mask16(mac12),
            obscured_bits,
            keycode: Keycode::small(&symbols(obscured_bits), self.keymap),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deadbeef() -> Key {
        Key::from_hex("deadbeefdeadbeefdeadbeefdeadbeef").unwrap()
    }

    #[test]
    fn readme_codes() {
        let i = SmallIssuer::new();
        let k = deadbeef();
        assert_eq!(
            i.add_credit(&k, 42, 7).unwrap().display(),
            "135 242 422 455 244"
        );
        assert_eq!(
            i.set_credit(&k, 44, SetTarget::Days(10)).unwrap().display(),
            "142 522 332 234 533"
        );
        assert_eq!(i.unlock(&k, 45).unwrap().display(), "152 323 254 454 322");
        assert_eq!(
            i.maintenance(&k, Maintenance::WipeIdsAll).display(),
            "122 324 235 545 545"
        );
        assert_eq!(
            i.wipe_restricted_flag(&k, 46).unwrap().display(),
            "154 545 254 542 523"
        );
        assert_eq!(i.test(TestCode::ShortTest).display(), "143 253 222 433 244");
        assert_eq!(i.test(TestCode::OqcTest).display(), "124 233 243 522 424");
    }

    #[test]
    fn extended_collision_names_the_next_id() {
        let i = SmallIssuer::new();
        let k = deadbeef();
        assert_eq!(
            i.extended_set_credit_wipe_restricted(&k, 50, SetTarget::Days(84)),
            Err(NexusIssueError::ExtendedCollision {
                id: 50,
                next_valid: 51
            })
        );
        assert_eq!(i.next_extended_id(&k, 50, SetTarget::Days(84)), Ok(51));
        assert_eq!(
            i.extended_set_credit_wipe_restricted(&k, 51, SetTarget::Days(84))
                .unwrap()
                .display(),
            "145 545 244 442 435"
        );
    }

    #[test]
    fn set_one_day_at_id_63_is_refused() {
        let i = SmallIssuer::new();
        let k = deadbeef();
        assert_eq!(
            i.set_credit(&k, 127, SetTarget::Days(1)),
            Err(NexusIssueError::SetCreditId63 { id: 127, next: 128 })
        );
        assert!(i.set_credit(&k, 127, SetTarget::Days(2)).is_ok());
        assert!(i.set_credit(&k, 128, SetTarget::Days(1)).is_ok());
    }

    /// nexus-keycode names 2^32 as the next ID after 4294967295; paylock has no such ID and
    /// must not name 0, which the device has used (found by the differential test, seed
    /// 4053097062).
    #[test]
    fn set_one_day_at_the_last_id_never_wraps() {
        let high = SmallIssuer::new().allowing_ids_above_65534();
        let k = deadbeef();
        assert_eq!(
            high.set_credit(&k, u32::MAX, SetTarget::Days(1)),
            Err(NexusIssueError::CounterExhausted { id: u32::MAX })
        );
        assert_eq!(
            high.set_credit(&k, u32::MAX - 64, SetTarget::Days(1)),
            Err(NexusIssueError::SetCreditId63 {
                id: u32::MAX - 64,
                next: u32::MAX - 63
            })
        );
        assert!(high.set_credit(&k, u32::MAX, SetTarget::Days(2)).is_ok());
        // Above the issuer's limit the ID itself is refused first.
        assert_eq!(
            SmallIssuer::new().set_credit(&k, u32::MAX, SetTarget::Days(1)),
            Err(NexusIssueError::IdTooHigh {
                id: u32::MAX,
                max: 65_534
            })
        );
    }

    /// The collision search includes the last ID and never wraps past it.
    #[test]
    fn extended_codes_reach_the_last_id() {
        let high = SmallIssuer::new().allowing_ids_above_65534();
        for seed in 0..64u8 {
            let k = Key::new([seed; 16]);
            for id in [u32::MAX - 1, u32::MAX] {
                match high.next_extended_id(&k, id, SetTarget::Days(5)) {
                    Ok(free) => assert!(free >= id, "{seed} {id} -> {free}"),
                    Err(e) => assert_eq!(e, NexusIssueError::CounterExhausted { id }),
                }
            }
            let last = high.extended_set_credit_wipe_restricted(&k, u32::MAX, SetTarget::Days(5));
            assert!(
                matches!(
                    last,
                    Ok(_) | Err(NexusIssueError::CounterExhausted { id: u32::MAX })
                ),
                "{last:?}"
            );
        }
        // Under the default limit the search still looks above 65534 but never issues there.
        let k = deadbeef();
        for id in 65_490..=65_534 {
            match SmallIssuer::new().next_extended_id(&k, id, SetTarget::Days(84)) {
                Ok(free) => assert!((id..=65_534).contains(&free)),
                Err(e) => assert_eq!(e, NexusIssueError::CounterExhausted { id }),
            }
        }
    }

    #[test]
    fn passthrough_fits_26_bits() {
        let i = SmallIssuer::new();
        assert!(i.passthrough(1 << 26).is_err());
        assert_eq!(
            i.passthrough(0b11_1111_0111_1111_1111_1111_1111)
                .unwrap()
                .display(),
            "152 542 435 555 555"
        );
    }
}
