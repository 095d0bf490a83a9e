//! Token profiles L, M and S (spec §5): how many digits the keypad takes and how the frame's
//! bits are split between body fields and the MAC.

/// Bits of the type field, in every profile.
pub const TYPE_BITS: u32 = 3;
/// Bits of the SET_PARAM parameter id.
pub const PARAM_ID_BITS: u32 = 4;

/// A token length and alphabet, fixed at provisioning.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Profile {
    /// 20 decimal digits, 37 MAC bits: the default, for any keypad with 0-9.
    #[default]
    L,
    /// 15 decimal digits, 27 MAC bits.
    M,
    /// 20 digits `1`-`4` (base 4), 24 MAC bits; needs the persisted lockout.
    S,
}

impl Profile {
    /// All profiles.
    pub const ALL: [Self; 3] = [Self::L, Self::M, Self::S];

    /// The profile byte `P` bound in the MAC and whitening inputs.
    #[must_use]
    pub const fn byte(self) -> u8 {
        match self {
            Self::L => b'L',
            Self::M => b'M',
            Self::S => b'S',
        }
    }

    /// The profile named by its letter (`L`, `M`, `S`).
    #[must_use]
    pub const fn from_letter(letter: u8) -> Option<Self> {
        match letter {
            b'L' => Some(Self::L),
            b'M' => Some(Self::M),
            b'S' => Some(Self::S),
            _ => None,
        }
    }

    /// The letter as a string.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::L => "L",
            Self::M => "M",
            Self::S => "S",
        }
    }

    /// Digits in a token, `D`.
    #[must_use]
    pub const fn digits(self) -> usize {
        match self {
            Self::L | Self::S => 20,
            Self::M => 15,
        }
    }

    /// True for the base-4 keypad profile (S).
    #[must_use]
    pub const fn is_base4(self) -> bool {
        matches!(self, Self::S)
    }

    /// Digits per display group.
    #[must_use]
    pub const fn group(self) -> usize {
        match self {
            Self::L | Self::S => 4,
            Self::M => 5,
        }
    }

    /// Frame bits `F = b + t`.
    #[must_use]
    pub const fn frame_bits(self) -> u32 {
        self.body_bits() + self.mac_bits()
    }

    /// Key-revision bits `r` in the body.
    #[must_use]
    pub const fn key_rev_bits(self) -> u32 {
        match self {
            Self::L => 2,
            Self::M => 1,
            Self::S => 0,
        }
    }

    /// Value bits `v`.
    #[must_use]
    pub const fn value_bits(self) -> u32 {
        match self {
            Self::L => 16,
            Self::M => 12,
            Self::S => 8,
        }
    }

    /// Counter bits `c`.
    #[must_use]
    pub const fn counter_bits(self) -> u32 {
        match self {
            Self::L => 8,
            Self::M => 6,
            Self::S => 5,
        }
    }

    /// MAC bits `t`.
    #[must_use]
    pub const fn mac_bits(self) -> u32 {
        match self {
            Self::L => 37,
            Self::M => 27,
            Self::S => 24,
        }
    }

    /// Body bits `b = 3 + r + v + c`.
    #[must_use]
    pub const fn body_bits(self) -> u32 {
        TYPE_BITS + self.key_rev_bits() + self.value_bits() + self.counter_bits()
    }

    /// Back window `B`: bits in the used bitmap.
    #[must_use]
    pub const fn back_window(self) -> u32 {
        match self {
            Self::L => 64,
            Self::M => 16,
            Self::S => 8,
        }
    }

    /// Forward window `Fw = 2^c − 1 − B`: how far past `max_counter` an ordinary token may be.
    #[must_use]
    pub const fn forward_window(self) -> u32 {
        (1 << self.counter_bits()) - 1 - self.back_window()
    }

    /// Largest value field, `2^v − 1`.
    #[must_use]
    pub const fn max_value(self) -> u32 {
        (1 << self.value_bits()) - 1
    }

    /// Bits of a SET_PARAM payload, `v − 4`.
    #[must_use]
    pub const fn param_value_bits(self) -> u32 {
        self.value_bits() - PARAM_ID_BITS
    }

    /// Largest SET_PARAM payload, `2^(v−4) − 1`.
    #[must_use]
    pub const fn max_param_value(self) -> u32 {
        (1 << self.param_value_bits()) - 1
    }

    /// Bytes of the tag's big-endian encoding, `⌈t/8⌉`, compared in constant time.
    #[must_use]
    pub const fn tag_bytes(self) -> usize {
        match self {
            Self::L => 5,
            Self::M => 4,
            Self::S => 3,
        }
    }

    /// The mask of the `used` bitmap, `2^B − 1`.
    #[must_use]
    pub const fn used_mask(self) -> u64 {
        u64::MAX >> (64 - self.back_window())
    }
}

impl core::fmt::Display for Profile {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_of_section_5() {
        let rows = [
            (Profile::L, 66, 29, 191),
            (Profile::M, 49, 22, 47),
            (Profile::S, 40, 16, 23),
        ];
        for (p, frame, body, fw) in rows {
            assert_eq!(
                (p.frame_bits(), p.body_bits(), p.forward_window()),
                (frame, body, fw)
            );
            assert_eq!(Profile::from_letter(p.byte()), Some(p));
            assert_eq!(
                p.tag_bytes(),
                usize::try_from(p.mac_bits().div_ceil(8)).unwrap()
            );
        }
        // The frame fits the digits: 10^20 > 2^66, 10^15 > 2^49, 4^20 = 2^40.
        assert!(10u128.pow(20) > 1 << 66 && 10u128.pow(15) > 1 << 49);
        assert_eq!(Profile::L.tag_bytes(), 5);
        assert_eq!(Profile::M.used_mask(), 0xffff);
        assert_eq!(Profile::S.max_param_value(), 15);
    }
}
