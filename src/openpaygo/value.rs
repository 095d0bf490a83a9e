//! Days to raw token values, rounding exactly as `openpaygo` does.

/// Why a number of days cannot be a token value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ValueError {
    /// Negative, infinite or not a number.
    #[error("days must be a finite number >= 0")]
    NotFinite,
    /// A time divider of 0.
    #[error("the time divider must be 1-255")]
    ZeroDivider,
    /// The rounded value exceeds what a token can carry.
    #[error("days × divider rounds to more than {max}")]
    TooLarge {
        /// The largest raw value of the form.
        max: u32,
    },
}

/// `round(days × divider)` with ties to even, as Python's `round` (and so `openpaygo`) does:
/// 0.125 days × 4 → 0, 0.625 × 4 → 2, 2.5 × 4 → 10.
///
/// # Errors
/// [`ValueError`] for negative or non-finite days, a zero divider, or a result above `max`.
pub fn days_to_raw(days: f64, divider: u8, max: u32) -> Result<u32, ValueError> {
    if divider == 0 {
        return Err(ValueError::ZeroDivider);
    }
    let product = days * f64::from(divider);
    if !product.is_finite() || product < 0.0 {
        return Err(ValueError::NotFinite);
    }
    if product > f64::from(max) + 0.5 {
        return Err(ValueError::TooLarge { max });
    }
    let rounded = round_half_even(product);
    u32::try_from(rounded)
        .ok()
        .filter(|v| *v <= max)
        .ok_or(ValueError::TooLarge { max })
}

/// Ties-to-even rounding of a finite `x` in `0..2^32` without `std`'s float functions.
#[allow(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_precision_loss
)]
fn round_half_even(x: f64) -> u64 {
    let whole = x as u64; // truncation toward zero: x is finite and non-negative
    let frac = x - whole as f64; // exact: whole < 2^33 has a 53-bit mantissa to spare
    if frac > 0.5 || (frac == 0.5 && whole % 2 == 1) {
        whole + 1
    } else {
        whole
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounds_half_to_even_like_python() {
        assert_eq!(days_to_raw(0.125, 4, 995), Ok(0));
        assert_eq!(days_to_raw(0.625, 4, 995), Ok(2));
        assert_eq!(days_to_raw(0.375, 4, 995), Ok(2));
        assert_eq!(days_to_raw(2.5, 4, 995), Ok(10));
        assert_eq!(days_to_raw(0.5, 1, 995), Ok(0));
        assert_eq!(days_to_raw(1.5, 1, 995), Ok(2));
        assert_eq!(days_to_raw(995.4, 1, 995), Ok(995));
    }

    #[test]
    fn refuses_what_no_token_carries() {
        assert_eq!(days_to_raw(-1.0, 1, 995), Err(ValueError::NotFinite));
        assert_eq!(days_to_raw(f64::NAN, 1, 995), Err(ValueError::NotFinite));
        assert_eq!(days_to_raw(1.0, 0, 995), Err(ValueError::ZeroDivider));
        assert_eq!(
            days_to_raw(995.5, 1, 995),
            Err(ValueError::TooLarge { max: 995 })
        );
        assert_eq!(
            days_to_raw(1e300, 1, 995),
            Err(ValueError::TooLarge { max: 995 })
        );
    }
}
