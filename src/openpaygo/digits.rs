//! Token text <-> integer: zero-padded decimal, or the restricted 1-4 keypad (two bits per digit).

use crate::token::{CapacityError, ParseError, TokenText};

/// Writes `code` as a token: `width` zero-padded digits, or `bits / 2` digits 1-4 when restricted.
///
/// # Errors
/// [`CapacityError`] if the text would not fit a [`TokenText`] or `bits > 64`; no OpenPAYGO form
/// reaches either.
pub fn to_text(
    code: u64,
    width: usize,
    bits: u32,
    restricted: bool,
) -> Result<TokenText, CapacityError> {
    let mut out = TokenText::new();
    if restricted {
        for shift in (0..bits).step_by(2).rev() {
            let pair = code.checked_shr(shift).ok_or(CapacityError)? & 3;
            out.push(b'1' + u8::try_from(pair).map_err(|_| CapacityError)?)?;
        }
    } else {
        out.push_decimal(code, width)?;
    }
    Ok(out)
}

/// The restricted-digit form of the low `bits` bits of `value`, most significant pair first.
///
/// # Errors
/// Only if the text would not fit a [`TokenText`] (`bits > 64`).
pub fn to_restricted(value: u64, bits: u32) -> Result<TokenText, CapacityError> {
    to_text(value, 0, bits, true)
}

/// Reads exactly `width` characters of the given alphabet into an integer.
///
/// # Errors
/// The first character that is not a digit, a digit outside 1-4 when restricted, or a length other
/// than `width`; checked in that order, so an auditor sees the earliest fault.
pub fn parse(input: &[u8], width: usize, restricted: bool) -> Result<u64, ParseError> {
    let mut value: u64 = 0;
    for (position, &found) in input.iter().enumerate() {
        if !found.is_ascii_digit() {
            return Err(ParseError::NotADigit { position, found });
        }
        let digit = found - b'0';
        value = if restricted {
            if !(1..=4).contains(&digit) {
                return Err(ParseError::DigitOutOfSet {
                    position,
                    digit,
                    min: 1,
                    max: 4,
                });
            }
            (value << 2) | u64::from(digit - 1)
        } else {
            value.wrapping_mul(10).wrapping_add(u64::from(digit))
        };
    }
    if input.len() == width {
        Ok(value)
    } else {
        Err(ParseError::Length {
            found: input.len(),
            expected: width,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restricted_round_trip_from_the_docs() {
        assert_eq!(to_restricted(662_486_790, 30).unwrap(), "324244134441123");
        assert_eq!(parse(b"324244134441123", 15, true), Ok(662_486_790));
    }

    #[test]
    fn oversized_forms_are_errors_not_panics() {
        assert_eq!(to_text(1, 0, 66, true), Err(CapacityError));
        assert_eq!(to_text(1, 21, 0, false).unwrap().len(), 21);
        assert_eq!(to_text(1, 49, 0, false), Err(CapacityError));
    }

    #[test]
    fn reports_the_first_bad_character() {
        assert_eq!(
            parse(b"12a45", 9, false),
            Err(ParseError::NotADigit {
                position: 2,
                found: b'a'
            })
        );
        assert_eq!(
            parse(b"3242441344411235", 15, true),
            Err(ParseError::DigitOutOfSet {
                position: 15,
                digit: 5,
                min: 1,
                max: 4
            })
        );
        assert_eq!(
            parse(b"12345678", 9, false),
            Err(ParseError::Length {
                found: 8,
                expected: 9
            })
        );
    }
}
