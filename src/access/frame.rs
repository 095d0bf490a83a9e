//! Body fields, the MAC input and the frame layout (spec §5, §7):
//! `frame = ((body XOR keystream) << t) | tag`.

use super::profile::Profile;
use super::suite::Suite;

/// `DOMAIN`: ASCII `AST1`. The version lives here only, so an AST2 token fails an AST1 MAC.
pub const DOMAIN: [u8; 4] = *b"AST1";
/// Usage byte of MAC inputs (`'M'`).
pub const USAGE_MAC: u8 = 0x4D;

/// Bytes of the MAC input `M`.
pub const MAC_INPUT_LEN: usize = 21;

/// The body's fields as carried: the low bits only, not yet authenticated.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct Fields {
    /// The 3-bit type code.
    pub token_type: u8,
    /// `key_rev mod 2^r`.
    pub key_rev_field: u8,
    /// The `v`-bit value field.
    pub value_field: u32,
    /// `N mod 2^c`.
    pub counter_field: u32,
}

impl Fields {
    /// `type ‖ krl ‖ value ‖ ctr`; each field is masked to its width.
    #[must_use]
    pub fn body(&self, profile: Profile) -> u32 {
        let (r, v, c) = widths(profile);
        let t = u32::from(self.token_type) & 7;
        let krl = u32::from(self.key_rev_field) & mask(r);
        (((t << r | krl) << v | (self.value_field & mask(v))) << c) | (self.counter_field & mask(c))
    }

    /// Splits a `b`-bit body.
    #[must_use]
    pub fn from_body(profile: Profile, body: u32) -> Self {
        let (r, v, c) = widths(profile);
        Self {
            token_type: low_byte(body >> (r + v + c) & 7),
            key_rev_field: low_byte(body >> (v + c) & mask(r)),
            value_field: (body >> c) & mask(v),
            counter_field: body & mask(c),
        }
    }
}

/// `x` when it fits a byte (callers mask first).
fn low_byte(x: u32) -> u8 {
    u8::try_from(x & 0xff).unwrap_or(0)
}

const fn widths(profile: Profile) -> (u32, u32, u32) {
    (
        profile.key_rev_bits(),
        profile.value_bits(),
        profile.counter_bits(),
    )
}

/// `2^bits − 1` for `bits < 32`.
pub(crate) const fn mask(bits: u32) -> u32 {
    (1 << bits) - 1
}

/// `M = DOMAIN ‖ 0x4D ‖ suite ‖ P ‖ type ‖ key_rev ‖ u32(device_id) ‖ u32(N) ‖ u32(value)`.
#[must_use]
pub fn mac_input(
    suite: Suite,
    profile: Profile,
    token_type: u8,
    key_rev: u8,
    device_id: u32,
    counter: u32,
    value: u32,
) -> [u8; MAC_INPUT_LEN] {
    // Written out whole: a zeroed array filled by a loop costs firmware a `memset` and a
    // `memcpy` of the result.
    let [d0, d1, d2, d3] = DOMAIN;
    let [i0, i1, i2, i3] = device_id.to_be_bytes();
    let [n0, n1, n2, n3] = counter.to_be_bytes();
    let [v0, v1, v2, v3] = value.to_be_bytes();
    [
        d0,
        d1,
        d2,
        d3,
        USAGE_MAC,
        suite.code(),
        profile.byte(),
        token_type,
        key_rev,
        i0,
        i1,
        i2,
        i3,
        n0,
        n1,
        n2,
        n3,
        v0,
        v1,
        v2,
        v3,
    ]
}

/// `(body_whitened << t) | tag`.
#[must_use]
pub fn assemble(profile: Profile, body_whitened: u32, tag: u64) -> u128 {
    (u128::from(body_whitened) << profile.mac_bits()) | u128::from(tag)
}

/// The whitened body and the tag of a frame below `2^F`.
#[must_use]
pub fn split(profile: Profile, frame: u128) -> (u32, u64) {
    let t = profile.mac_bits();
    let tag = u64::try_from(frame & ((1u128 << t) - 1)).unwrap_or(0);
    let body = u32::try_from((frame >> t) & u128::from(mask(profile.body_bits()))).unwrap_or(0);
    (body, tag)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn example_bodies() {
        // Example 1 (L, ADD 72, N=1) and example 4 (L, SYNC to 5000).
        let add = Fields {
            token_type: 0,
            key_rev_field: 0,
            value_field: 72,
            counter_field: 1,
        };
        assert_eq!(add.body(Profile::L), 0x4801);
        let sync = Fields {
            token_type: 3,
            key_rev_field: 0,
            value_field: 0x13,
            counter_field: 0x88,
        };
        assert_eq!(sync.body(Profile::L), 0x0c00_1388);
        // Example 6 (M): body 0x00062b is ADD 24 at ctr 43.
        let f = Fields::from_body(Profile::M, 0x062b);
        assert_eq!(
            (
                f.token_type,
                f.key_rev_field,
                f.value_field,
                f.counter_field
            ),
            (0, 0, 24, 43)
        );
        assert_eq!(f.body(Profile::M), 0x062b);
        let frame = assemble(Profile::L, 0x0e91_9d53, 0x02_becf_37f4);
        assert_eq!(frame, 0x1_d233_aa62_becf_37f4);
        assert_eq!(split(Profile::L, frame), (0x0e91_9d53, 0x02_becf_37f4));
    }
}
