//! Token generation (spec §7), with every intermediate kept for vectors and support tools.

use super::frame::{self, Fields, MAC_INPUT_LEN, mask};
use super::message::{Action, TokenType};
use super::message::{K_TEST, TEST_DEVICE_ID};
use super::profile::Profile;
use super::secret::AstSecret;
use super::suite::{PrfOutput, Suite, SuiteUnavailable};
use super::text;
use super::whiten::{self, WHITENING_INPUT_LEN};
use crate::key::Key;
use crate::token::TokenText;

/// Why a token cannot be generated.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AstIssueError {
    /// The suite is not compiled in.
    #[error(transparent)]
    Suite(#[from] SuiteUnavailable),
    /// Counter 0 is never issued: a device's first token has counter 1.
    #[error("counter 0 is never issued; counters start at 1")]
    CounterZero,
    /// A value does not fit its field in this profile.
    #[error("{field} is {found}, the largest allowed is {max}")]
    OutOfRange {
        /// Which input.
        field: &'static str,
        /// The value given.
        found: u32,
        /// The largest value the profile carries.
        max: u32,
    },
}

/// An issued token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AstIssued {
    /// The canonical text (groups separated by single spaces).
    pub token: TokenText,
    /// The counter it carries (0 for TEST codes).
    pub counter: u32,
    /// The value field as MACed (for COUNTER_SYNC, derived from the counter).
    pub value: u32,
}

/// Every step of one generation, in spec order.
#[derive(Clone, Debug)]
pub struct Trace {
    /// The token's type.
    pub token_type: TokenType,
    /// The full counter `N` (0 for TEST).
    pub counter: u32,
    /// The full value bound in the MAC.
    pub value: u32,
    /// The body fields before whitening.
    pub fields: Fields,
    /// `M`.
    pub mac_input: [u8; MAC_INPUT_LEN],
    /// `PRF_s(K, M)`.
    pub mac_full: PrfOutput,
    /// `leftbits(mac_full, t)`.
    pub tag: u64,
    /// `type ‖ krl ‖ value ‖ ctr`.
    pub body: u32,
    /// `W(tag)`.
    pub whitening_input: [u8; WHITENING_INPUT_LEN],
    /// `PRF_s(K_WHT, W)`.
    pub whitening_full: PrfOutput,
    /// `leftbits(whitening_full, b)`.
    pub keystream: u32,
    /// `body XOR keystream`.
    pub body_whitened: u32,
    /// `(body_whitened << t) | tag`.
    pub frame: u128,
    /// The `D` digits.
    pub digits: TokenText,
    /// The canonical grouped text.
    pub text: TokenText,
}

impl Trace {
    /// The issued token.
    #[must_use]
    pub const fn generated(&self) -> AstIssued {
        AstIssued {
            token: self.text,
            counter: self.counter,
            value: self.value,
        }
    }
}

/// The token for `action` at counter `counter` for the device of `secret`. TEST actions give
/// the public test code and ignore `counter`.
///
/// # Errors
/// [`AstIssueError`] for counter 0 or a value out of the profile's range.
pub fn generate(
    secret: &AstSecret,
    counter: u32,
    action: Action,
) -> Result<AstIssued, AstIssueError> {
    Ok(trace(secret, counter, action)?.generated())
}

/// [`generate`] with every intermediate.
///
/// # Errors
/// As [`generate`].
pub fn trace(secret: &AstSecret, counter: u32, action: Action) -> Result<Trace, AstIssueError> {
    let config = secret.config();
    let profile = config.profile;
    if let Action::Test(id) = action {
        return test_trace(config.suite, profile, id);
    }
    if counter == 0 {
        return Err(AstIssueError::CounterZero);
    }
    let value = match action {
        Action::AddCredit(v) | Action::SetCredit(v) => in_range("value", v, profile.max_value())?,
        Action::UnlockPermanent => 0,
        Action::CounterSync => (counter >> profile.counter_bits()) & profile.max_value(),
        Action::SetParam { id, value } => {
            let id = in_range(
                "param_id",
                u32::from(id),
                mask(super::profile::PARAM_ID_BITS),
            )?;
            let value = in_range("param_value", u32::from(value), profile.max_param_value())?;
            id << profile.param_value_bits() | value
        }
        Action::Test(_) => 0,
    };
    build(
        config.suite,
        profile,
        secret.key(),
        config.device_id,
        config.key_rev,
        counter,
        action.token_type(),
        value,
    )
}

/// The public TEST code `test_id` of a suite and profile (spec §14).
///
/// # Errors
/// [`AstIssueError`] for a suite not compiled in or an id out of the profile's range.
pub fn test_code(suite: Suite, profile: Profile, test_id: u16) -> Result<TokenText, AstIssueError> {
    Ok(test_trace(suite, profile, test_id)?.text)
}

/// [`test_code`] with every intermediate.
///
/// # Errors
/// As [`test_code`].
pub fn test_trace(suite: Suite, profile: Profile, test_id: u16) -> Result<Trace, AstIssueError> {
    let value = in_range("test_id", u32::from(test_id), profile.max_value())?;
    let key = Key::new(K_TEST);
    build(
        suite,
        profile,
        &key,
        TEST_DEVICE_ID,
        0,
        0,
        TokenType::Test,
        value,
    )
}

fn in_range(field: &'static str, found: u32, max: u32) -> Result<u32, AstIssueError> {
    if found > max {
        Err(AstIssueError::OutOfRange { field, found, max })
    } else {
        Ok(found)
    }
}

#[allow(clippy::too_many_arguments)] // the spec's own parameter list
fn build(
    suite: Suite,
    profile: Profile,
    key: &Key,
    device_id: u32,
    key_rev: u8,
    counter: u32,
    token_type: TokenType,
    value: u32,
) -> Result<Trace, AstIssueError> {
    let fields = Fields {
        token_type: token_type.code(),
        key_rev_field: key_rev,
        value_field: value,
        counter_field: counter,
    };
    let mac_input = frame::mac_input(
        suite,
        profile,
        token_type.code(),
        key_rev,
        device_id,
        counter,
        value,
    );
    let mac_full = suite.prf(key, &mac_input)?;
    let tag = mac_full.leftbits(profile.mac_bits());
    let body = fields.body(profile);
    let (whitening_full, keystream) = whiten::keystream(suite, profile, tag)?;
    let body_whitened = body ^ keystream;
    let frame = frame::assemble(profile, body_whitened, tag);
    // Cannot fail: the body and tag are masked to their widths, so the frame is below 2^F.
    let digits = text::encode_digits(profile, frame).unwrap_or_default();
    let text = text::encode(profile, frame).unwrap_or_default();
    Ok(Trace {
        token_type,
        counter,
        value,
        fields: Fields::from_body(profile, body),
        mac_input,
        mac_full,
        tag,
        body,
        whitening_input: whiten::whitening_input(suite, profile, tag),
        whitening_full,
        keystream,
        body_whitened,
        frame,
        digits,
        text,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::secret::{AstConfig, AstConfigError, Unit};

    /// Runs in reduced builds, e.g. `--no-default-features --features ast-siphash`.
    #[test]
    fn suites_left_out_are_typed_errors() {
        for suite in Suite::ALL.into_iter().filter(|s| !s.is_available()) {
            let config = AstConfig {
                suite,
                profile: Profile::L,
                device_id: 1,
                key_rev: 0,
                unit: Unit::Hours,
            };
            let missing = SuiteUnavailable(suite);
            let key = Key::new([0; 16]);
            assert_eq!(
                AstSecret::new(key.clone(), config).unwrap_err(),
                AstConfigError::Suite(missing)
            );
            assert_eq!(
                AstSecret::derive(&key, config).unwrap_err(),
                AstConfigError::Suite(missing)
            );
            assert_eq!(
                test_code(suite, Profile::M, 0),
                Err(AstIssueError::Suite(missing))
            );
            assert_eq!(suite.prf(&key, b"").unwrap_err(), missing);
        }
    }
}
