//! The digit form of a frame and the single-pass parser (spec §8).
//!
//! The parser runs before any key is touched, so its errors are exact and free: they are not
//! counted as failed attempts and change no state.

use super::profile::Profile;
use crate::token::{self, TokenText};

/// Why entered text is not a token of the device's profile (MALFORMED). Positions are 0-based
/// byte offsets into the input, which for ASCII input are character positions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, thiserror::Error)]
pub enum AstParseError {
    /// A character that is neither a digit nor a separator (space, `-`).
    #[error("character {position} is '{}', not a digit", .found.escape_ascii())]
    BadChar {
        /// Byte offset in the input.
        position: usize,
        /// The byte found there.
        found: u8,
    },
    /// A digit outside `1`-`4` on an S keypad.
    #[error("digit {position} is '{}', the keypad has 1-4", .found.escape_ascii())]
    BadDigit {
        /// Byte offset in the input.
        position: usize,
        /// The digit found there.
        found: u8,
    },
    /// Not exactly `D` digits (empty input included).
    #[error("{found} digits entered, the token has {expected}")]
    BadLength {
        /// Digits entered.
        found: usize,
        /// Digits in the profile's tokens.
        expected: usize,
    },
    /// L/M: the number is `2^F` or more, so no frame encodes to it (a free typo check).
    #[error("{frame} is too large for a token frame")]
    FrameRange {
        /// The number entered.
        frame: u128,
    },
}

impl AstParseError {
    /// The spec's reason code.
    #[must_use]
    pub const fn name(&self) -> &'static str {
        match self {
            Self::BadChar { .. } => "BAD_CHAR",
            Self::BadDigit { .. } => "BAD_DIGIT",
            Self::BadLength { .. } => "BAD_LENGTH",
            Self::FrameRange { .. } => "FRAME_RANGE",
        }
    }

    /// The scheme-neutral form.
    #[must_use]
    pub const fn to_token_error(self) -> token::ParseError {
        match self {
            Self::BadChar { position, found } => token::ParseError::NotADigit { position, found },
            Self::BadDigit { position, found } => token::ParseError::DigitOutOfSet {
                position,
                digit: found.wrapping_sub(b'0'),
                min: 1,
                max: 4,
            },
            Self::BadLength { found, expected } => token::ParseError::Length { found, expected },
            Self::FrameRange { .. } => token::ParseError::OutOfRange,
        }
    }
}

/// Parses entered text into a frame: separators skipped, the first error in scan order wins.
///
/// # Errors
/// [`AstParseError`], see the variants.
pub fn parse(profile: Profile, input: &[u8]) -> Result<u128, AstParseError> {
    let base: u128 = if profile.is_base4() { 4 } else { 10 };
    let expected = profile.digits();
    let mut frame: u128 = 0;
    let mut count = 0usize;
    for (position, &found) in input.iter().enumerate() {
        let digit = match found {
            b' ' | b'-' => continue,
            b'1'..=b'4' if profile.is_base4() => found - b'1',
            b'0'..=b'9' if profile.is_base4() => {
                return Err(AstParseError::BadDigit { position, found });
            }
            b'0'..=b'9' => found - b'0',
            _ => return Err(AstParseError::BadChar { position, found }),
        };
        count = count.saturating_add(1);
        // Past D digits the entry is already too long: stop accumulating, keep scanning.
        if count <= expected {
            frame = frame * base + u128::from(digit);
        }
    }
    if count != expected {
        return Err(AstParseError::BadLength {
            found: count,
            expected,
        });
    }
    if frame >> profile.frame_bits() != 0 {
        return Err(AstParseError::FrameRange { frame });
    }
    Ok(frame)
}

/// The canonical text of `frame`: `D` digits in groups separated by one space. `None` if the
/// frame does not fit the profile.
#[must_use]
pub fn encode(profile: Profile, frame: u128) -> Option<TokenText> {
    encode_digits(profile, frame)?.grouped(profile.group()).ok()
}

/// The `D` digits of `frame` without separators, left-padded with the zero digit.
#[must_use]
pub fn encode_digits(profile: Profile, frame: u128) -> Option<TokenText> {
    if frame >> profile.frame_bits() != 0 {
        return None;
    }
    let (base, zero) = if profile.is_base4() {
        (4, b'1')
    } else {
        (10, b'0')
    };
    let mut digits = [0u8; 20];
    let used = digits.get_mut(..profile.digits())?;
    let mut rest = frame;
    for slot in used.iter_mut().rev() {
        *slot = zero + u8::try_from(rest % base).ok()?;
        rest /= base;
    }
    let mut out = TokenText::new();
    for &b in used.iter() {
        out.push(b).ok()?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn example_frames_round_trip() {
        let cases = [
            (
                Profile::L,
                33_593_381_386_571_429_876u128,
                "3359 3381 3865 7142 9876",
            ),
            (Profile::M, 555_298_352_457_619, "55529 83524 57619"),
            (Profile::S, 760_401_261_275, "3412 1134 2413 2413 4234"),
            (
                Profile::L,
                7_219_420_924_980_964_328,
                "0721 9420 9249 8096 4328",
            ),
        ];
        for (profile, frame, text) in cases {
            assert_eq!(encode(profile, frame).unwrap(), text);
            assert_eq!(parse(profile, text.as_bytes()), Ok(frame));
        }
    }

    #[test]
    fn first_error_in_scan_order_wins() {
        let l = Profile::L;
        assert_eq!(
            parse(l, b"12x"),
            Err(AstParseError::BadChar {
                position: 2,
                found: b'x'
            })
        );
        // Too many digits before a bad character: the character still wins.
        assert_eq!(
            parse(l, b"0000000000000000000000\t"),
            Err(AstParseError::BadChar {
                position: 22,
                found: b'\t'
            })
        );
        assert_eq!(
            parse(Profile::S, b"1234 5x"),
            Err(AstParseError::BadDigit {
                position: 5,
                found: b'5'
            })
        );
        assert_eq!(
            parse(l, b""),
            Err(AstParseError::BadLength {
                found: 0,
                expected: 20
            })
        );
        assert_eq!(
            parse(l, b"99999999999999999999"),
            Err(AstParseError::FrameRange {
                frame: 99_999_999_999_999_999_999
            })
        );
        assert_eq!(
            parse(l, "٣".as_bytes()),
            Err(AstParseError::BadChar {
                position: 0,
                found: 0xd9
            })
        );
        assert_eq!(encode(Profile::M, 1 << 49), None);
    }
}
