//! Token generation (server side), byte-exact with `openpaygo` 0.6.3 `generate_token`.

use super::chain::COUNT_CEILING;
use super::chain::{self, Chain, ChainPoint, Extended, Standard};
use super::digits;
use super::form::{COUNTER_SYNC_VALUE, DISABLE_PAYG_VALUE, Form};
use super::secret::OpenPaygoSecret;
use crate::siphash::SipHash24;
use crate::token::TokenText;

/// What a token says. The count's parity carries the type: even for ADD, odd for the rest.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OpenPaygoMessage {
    /// Add this many activation units (days × time divider).
    AddTime(u32),
    /// Set the remaining time to this many activation units.
    SetTime(u32),
    /// Disable PAYG for good (value 998).
    DisablePayg,
    /// Move the device's count forward without changing its credit (value 999).
    CounterSync,
}

impl OpenPaygoMessage {
    /// The raw value the token carries.
    #[must_use]
    pub const fn value(self) -> u32 {
        match self {
            Self::AddTime(v) | Self::SetTime(v) => v,
            Self::DisablePayg => DISABLE_PAYG_VALUE,
            Self::CounterSync => COUNTER_SYNC_VALUE,
        }
    }

    /// The count after `count` for this message: the next even count for ADD, the next odd
    /// count for the others (`openpaygo`'s parity rule). `None` on overflow.
    #[must_use]
    pub const fn next_count(self, count: u32) -> Option<u32> {
        let wants_odd = !matches!(self, Self::AddTime(_));
        let step = if (count % 2 == 1) == wants_odd { 2 } else { 1 };
        count.checked_add(step)
    }
}

/// Why no token was generated. Nothing is generated for out-of-range input, unlike upstream.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum OpenPaygoIssueError {
    /// The time value is above what the form carries (995 standard, 999,999 extended).
    #[error("value {found} is above the maximum {max} for this token form")]
    ValueTooLarge {
        /// The value given.
        found: u32,
        /// The largest allowed.
        max: u32,
    },
    /// The count given is above [`COUNT_CEILING`]: no device can be there.
    #[error("count {count} is above the ceiling {COUNT_CEILING}")]
    CountTooHigh {
        /// The current count given.
        count: u32,
    },
    /// The count is at or below [`COUNT_CEILING`], but the token of this type after it would
    /// pass the ceiling, which no device accepts: the device's count is exhausted.
    #[error(
        "count {count} is the last one: a token after it would pass the ceiling {COUNT_CEILING}"
    )]
    CounterExhausted {
        /// The current count given.
        count: u32,
    },
}

/// A generated token and the count the server must store for the device.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OpenPaygoIssued {
    /// The token text, zero-padded (or in digits 1-4).
    pub token: TokenText,
    /// The new count of the device.
    pub count: u32,
}

/// Issues tokens of one form.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OpenPaygoIssuer {
    form: Form,
    time_divider: u8,
}

impl OpenPaygoIssuer {
    /// An encoder for `form`, time divider 1 (a raw value is a number of days).
    #[must_use]
    pub const fn new(form: Form) -> Self {
        Self {
            form,
            time_divider: 1,
        }
    }

    /// The same encoder for devices with another time divider (1-255; 0 is taken as 1). Only the
    /// [`crate::Issuer`] conversion of credit uses it: [`Self::generate`] takes raw values.
    #[must_use]
    pub const fn with_time_divider(self, time_divider: u8) -> Self {
        let time_divider = if time_divider == 0 { 1 } else { time_divider };
        Self {
            form: self.form,
            time_divider,
        }
    }

    /// The time divider.
    #[must_use]
    pub const fn time_divider(&self) -> u8 {
        self.time_divider
    }

    /// The form it issues.
    #[must_use]
    pub const fn form(&self) -> Form {
        self.form
    }

    /// The new count for `message` after `count`, once the value fits the form.
    fn check(&self, count: u32, message: OpenPaygoMessage) -> Result<u32, OpenPaygoIssueError> {
        if let OpenPaygoMessage::AddTime(found) | OpenPaygoMessage::SetTime(found) = message {
            let max = self.form.max_value();
            if found > max {
                return Err(OpenPaygoIssueError::ValueTooLarge { found, max });
            }
        }
        if count > COUNT_CEILING {
            return Err(OpenPaygoIssueError::CountTooHigh { count });
        }
        message
            .next_count(count)
            .filter(|c| *c <= COUNT_CEILING)
            .ok_or(OpenPaygoIssueError::CounterExhausted { count })
    }

    /// The token following `count` (the count of the last token issued for the device).
    ///
    /// # Errors
    /// [`OpenPaygoIssueError`] for a value the form cannot carry, a count past [`COUNT_CEILING`]
    /// or one whose next token would pass it.
    pub fn generate(
        &self,
        secret: &OpenPaygoSecret,
        count: u32,
        message: OpenPaygoMessage,
    ) -> Result<OpenPaygoIssued, OpenPaygoIssueError> {
        let new_count = self.check(count, message)?;
        let sip = chain::hasher(secret.key());
        let sc = u64::from(secret.starting_code());
        let value = u64::from(message.value());
        let token = if self.form.extended {
            render::<Extended>(&sip, sc, value, new_count, self.form)
        } else {
            render::<Standard>(&sip, sc, value, new_count, self.form)
        };
        Ok(OpenPaygoIssued {
            token,
            count: new_count,
        })
    }
}

/// The token at `count` for `value`: the chain runs from the starting code with the value folded
/// into its low digits, and those digits are put back into the final code.
pub(crate) fn token_code<C: Chain>(sip: &SipHash24, sc: u64, value: u64, count: u32) -> u64 {
    let base = base::<C>(sc, value);
    let code = walk::<C>(sip, sc - C::low(sc) + base, count);
    code - C::low(code) + base
}

/// The value folded into the starting code's low digits.
fn base<C: Chain>(sc: u64, value: u64) -> u64 {
    (C::low(sc) + value) % C::MODULUS
}

/// `code` after `steps` links of the chain.
fn walk<C: Chain>(sip: &SipHash24, mut code: u64, steps: u32) -> u64 {
    for _ in 0..steps {
        code = C::step(sip, code);
    }
    code
}

fn render<C: Chain>(sip: &SipHash24, sc: u64, value: u64, count: u32, form: Form) -> TokenText {
    let code = token_code::<C>(sip, sc, value, count);
    text::<C>(code, base::<C>(sc, value), form)
}

/// The token text of a chain code whose low digits are replaced by `base`.
fn text<C: Chain>(code: u64, base: u64, form: Form) -> TokenText {
    // Every form fits a TokenText; an empty text here would be a bug caught by the vectors.
    digits::to_text(
        code - C::low(code) + base,
        C::DIGITS,
        C::BITS,
        form.restricted_digit_set,
    )
    .unwrap_or_default()
}

impl OpenPaygoIssuer {
    /// The token following `count` for `message`, exactly as [`Self::generate`] gives it, and
    /// the point of the message value's chain at the new count. When `from` is a point of the
    /// same value at or below the new count (kept from an earlier token of this device), the
    /// chain continues from it; otherwise it starts from the starting code.
    ///
    /// # Errors
    /// As [`Self::generate`].
    pub fn generate_from(
        &self,
        secret: &OpenPaygoSecret,
        count: u32,
        message: OpenPaygoMessage,
        from: Option<&ChainPoint>,
    ) -> Result<(OpenPaygoIssued, ChainPoint), OpenPaygoIssueError> {
        let new_count = self.check(count, message)?;
        let sip = chain::hasher(secret.key());
        let sc = u64::from(secret.starting_code());
        let value = message.value();
        let from = from.filter(|p| p.value() == value && p.count() <= new_count);
        let point = if self.form.extended {
            continue_chain::<Extended>(&sip, sc, value, from, new_count)
        } else {
            continue_chain::<Standard>(&sip, sc, value, from, new_count)
        };
        let raw = u64::from(value);
        let token = if self.form.extended {
            text::<Extended>(point.code(), base::<Extended>(sc, raw), self.form)
        } else {
            text::<Standard>(point.code(), base::<Standard>(sc, raw), self.form)
        };
        Ok((
            OpenPaygoIssued {
                token,
                count: new_count,
            },
            point,
        ))
    }

    /// `point` moved forward to `count` links (it is returned unchanged at or past `count`).
    #[must_use]
    pub fn advance(&self, secret: &OpenPaygoSecret, point: ChainPoint, count: u32) -> ChainPoint {
        let sip = chain::hasher(secret.key());
        let steps = count.saturating_sub(point.count());
        let code = if self.form.extended {
            walk::<Extended>(&sip, point.code(), steps)
        } else {
            walk::<Standard>(&sip, point.code(), steps)
        };
        ChainPoint::new(point.value(), point.count().max(count), code)
    }
}

/// The point of `value`'s chain at `count`, from `from` or from the starting code.
fn continue_chain<C: Chain>(
    sip: &SipHash24,
    sc: u64,
    value: u32,
    from: Option<&ChainPoint>,
    count: u32,
) -> ChainPoint {
    let (code, done) = match from {
        Some(p) => (p.code(), p.count()),
        None => (sc - C::low(sc) + base::<C>(sc, u64::from(value)), 0),
    };
    ChainPoint::new(
        value,
        count,
        walk::<C>(sip, code, count.saturating_sub(done)),
    )
}

impl OpenPaygoIssuer {
    /// The token at exactly `count` chain steps for a raw `value` (0-999, or 0-999,999 extended),
    /// whatever the count's parity: what a QA tool or a raw-chain vector needs.
    ///
    /// # Errors
    /// [`OpenPaygoIssueError`] for a value above the form's modulus or a count past
    /// [`COUNT_CEILING`].
    pub fn token_at(
        &self,
        secret: &OpenPaygoSecret,
        count: u32,
        value: u32,
    ) -> Result<TokenText, OpenPaygoIssueError> {
        let max = if self.form.extended { 999_999 } else { 999 };
        if value > max {
            return Err(OpenPaygoIssueError::ValueTooLarge { found: value, max });
        }
        if count > COUNT_CEILING {
            return Err(OpenPaygoIssueError::CountTooHigh { count });
        }
        let sip = chain::hasher(secret.key());
        let sc = u64::from(secret.starting_code());
        Ok(if self.form.extended {
            render::<Extended>(&sip, sc, u64::from(value), count, self.form)
        } else {
            render::<Standard>(&sip, sc, u64::from(value), count, self.form)
        })
    }
}
