//! Nexus Channel origin commands (spec §8): tokens from the backend to a Channel controller,
//! carried as full-protocol passthrough subtype 1 (`*81` + token + `#`).
//!
//! A token is `[type] ++ body ++ auth6`, where `auth6` is the 6-digit check of
//! `LE32(controller command count) ++ [type] ++ body bytes` under the controller's Channel
//! origin key, and every digit before the auth is obscured with the auth as seed. The
//! controller validates it (its own window of 40 counts); the keycode layer passes it on.

use crate::key::Key;
use crate::nexus::full::FullIssuer;
use crate::nexus::issue::NexusIssueError;
use crate::nexus::keycode::{FrameDigits, Keycode};
use crate::nexus::primitives::{MacInput, full_check, obscure_digits, prng, siphash24};
use crate::token::TokenText;

/// The passthrough subtype of origin commands.
pub const PASSTHROUGH_SUBTYPE: u8 = 1;

/// Largest accessory Nexus ID (48 bits: 16-bit authority, 32-bit device).
pub const MAX_NEXUS_ID: u64 = (1 << 48) - 1;

/// An origin command for a controller.
#[derive(Clone, Copy, Debug)]
pub enum OriginCommand<'a> {
    /// Start a secured link with an accessory ("link mode 3"): carries the accessory's
    /// challenge, `full_check(H(accessory key, LE32(accessory command count)))`.
    LinkAccessoryMode3 {
        /// The accessory's Channel key.
        accessory_key: &'a Key,
        /// The accessory's handshake counter.
        accessory_command_count: u32,
    },
    /// Drop every accessory link.
    UnlinkAllAccessories,
    /// Unlock one linked accessory (firmware 2.0.1 parses it but does not act on it).
    UnlockAccessory {
        /// The accessory's 48-bit Nexus ID.
        nexus_id: u64,
    },
    /// Drop one accessory link (firmware 2.0.1 parses it but does not act on it).
    UnlinkAccessory {
        /// The accessory's 48-bit Nexus ID.
        nexus_id: u64,
    },
}

/// The accessory challenge inside a link command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChallengeTrace {
    /// `LE32(accessory command count)`.
    pub input: [u8; 4],
    /// SipHash-2-4 of `input` under the accessory key.
    pub siphash: u64,
    /// The 6-digit challenge.
    pub challenge: u32,
}

/// The intermediate values of an origin command, for vectors and audits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OriginTrace {
    /// The accessory challenge (link commands only).
    pub challenge: Option<ChallengeTrace>,
    /// The bytes under the controller's auth.
    pub auth_input: MacInput,
    /// SipHash-2-4 of `auth_input` under the controller key.
    pub auth_siphash: u64,
    /// The 6-digit auth.
    pub auth: u32,
    /// The token before obscuring (not a keycode).
    pub unobscured_token: TokenText,
    /// The PRNG bytes added to the digits before the auth (only the first `len - 6` are used).
    pub obscure_prng: [u8; 8],
    /// The token the keycode carries.
    pub token: TokenText,
    /// The keycode: `*81`, the token, `#`.
    pub keycode: Keycode,
}

/// The keycode carrying `command`, authenticated for the controller with `controller_key` at
/// its origin command count `count`.
///
/// # Errors
/// [`NexusIssueError::OutOfRange`] for a Nexus ID above 48 bits.
pub fn origin_command(
    controller_key: &Key,
    count: u32,
    command: OriginCommand<'_>,
) -> Result<Keycode, NexusIssueError> {
    trace(controller_key, count, command).map(|t| t.keycode)
}

/// [`origin_command`] with every intermediate value.
///
/// # Errors
/// As [`origin_command`].
pub fn trace(
    controller_key: &Key,
    count: u32,
    command: OriginCommand<'_>,
) -> Result<OriginTrace, NexusIssueError> {
    let mut digits = FrameDigits::new();
    let mut challenge = None;
    let auth_input = match command {
        OriginCommand::LinkAccessoryMode3 {
            accessory_key,
            accessory_command_count,
        } => {
            let input = accessory_command_count.to_le_bytes();
            let siphash = siphash24(accessory_key, &input);
            let value = full_check(siphash);
            challenge = Some(ChallengeTrace {
                input,
                siphash,
                challenge: value,
            });
            digits.push(9);
            digits.push_decimal(u64::from(value), 6);
            MacInput::with_u32(count, 9, value)
        }
        OriginCommand::UnlinkAllAccessories => {
            let action = 0;
            digits.push(0);
            digits.push_decimal(u64::from(action), 2);
            MacInput::with_u32(count, 0, action)
        }
        OriginCommand::UnlockAccessory { nexus_id } => accessory(&mut digits, count, 1, nexus_id)?,
        OriginCommand::UnlinkAccessory { nexus_id } => accessory(&mut digits, count, 2, nexus_id)?,
    };
    let auth_siphash = auth_input.hash(controller_key);
    let auth = full_check(auth_siphash);
    digits.push_decimal(u64::from(auth), 6);
    let unobscured_token = digits.text();
    let obscured = digits.len().saturating_sub(6);
    obscure_digits(digits.as_mut_slice(), obscured, auth, true);
    let token = digits.text();
    let keycode = FullIssuer::passthrough(PASSTHROUGH_SUBTYPE, token.as_str())?;
    Ok(OriginTrace {
        challenge,
        auth_input,
        auth_siphash,
        auth,
        unobscured_token,
        obscure_prng: prng(&auth.to_le_bytes()),
        token,
        keycode,
    })
}

/// Type 1 or 2: one body digit (device ID mod 10); the auth covers
/// `LE16(authority ID) ++ LE32(device ID)`.
fn accessory(
    digits: &mut FrameDigits,
    count: u32,
    kind: u8,
    nexus_id: u64,
) -> Result<MacInput, NexusIssueError> {
    if nexus_id > MAX_NEXUS_ID {
        return Err(NexusIssueError::range(
            "accessory Nexus ID",
            nexus_id,
            0,
            MAX_NEXUS_ID,
        ));
    }
    let device = u32::try_from(nexus_id & 0xFFFF_FFFF).unwrap_or(0);
    let authority = u16::try_from(nexus_id >> 32).unwrap_or(0);
    digits.push(kind);
    digits.push_decimal(u64::from(device % 10), 1);
    let [a0, a1] = authority.to_le_bytes();
    let [d0, d1, d2, d3] = device.to_le_bytes();
    Ok(MacInput::new(count, kind, &[a0, a1, d0, d1, d2, d3]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readme_codes() {
        let ckey = Key::new([0xcd; 16]);
        let akey = Key::new([0xab; 16]);
        let link = trace(
            &ckey,
            5,
            OriginCommand::LinkAccessoryMode3 {
                accessory_key: &akey,
                accessory_command_count: 2,
            },
        )
        .unwrap();
        assert_eq!(link.challenge.unwrap().challenge, 798_211);
        assert_eq!(
            link.auth_input.as_bytes(),
            [5, 0, 0, 0, 9, 0x03, 0x2e, 0x0c, 0]
        );
        assert_eq!(link.auth, 565_772);
        assert_eq!(link.unobscured_token, "9798211565772");
        assert_eq!(link.token, "7307500565772");
        assert_eq!(link.keycode.display(), "*817 307 500 565 772#");
        let unlink = origin_command(&ckey, 7, OriginCommand::UnlinkAllAccessories).unwrap();
        assert_eq!(unlink.display(), "*810 023 592 81#");
    }

    #[test]
    fn nexus_ids_are_48_bits() {
        let key = Key::new([1; 16]);
        assert!(
            origin_command(
                &key,
                0,
                OriginCommand::UnlinkAccessory { nexus_id: 1 << 48 }
            )
            .is_err()
        );
        assert!(
            origin_command(
                &key,
                0,
                OriginCommand::UnlockAccessory {
                    nexus_id: MAX_NEXUS_ID
                }
            )
            .is_ok()
        );
    }
}
