//! Full-protocol frames on the device (spec §3.7): parse, de-obscure, check, apply.

use super::message::{
    ACTIVATION_DIGITS, QC_LONG_SECONDS, SHORT_TEST_SECONDS, UNLOCK_HOURS, WipeTarget, digits_value,
    kind,
};
use crate::key::Key;
use crate::nexus::apply::Ctx;
use crate::nexus::keycode::FrameDigits;
use crate::nexus::platform::{Platform, Processed, Response};
use crate::nexus::primitives::{MacInput, ZERO_KEY, full_check, obscure_digits};
use crate::nexus::window::Window;
use crate::token::TokenText;

/// Check digits at the end of activation and factory frames.
const CHECK_DIGITS: usize = 6;
/// QC codes up to this long count against the short limit.
const QC_SHORT_MAX_SECONDS: u32 = 600;
/// Device-ID confirmations carry 8-10 digits.
const DEVICE_ID_DIGITS: core::ops::RangeInclusive<usize> = 8..=10;

/// Parses and applies the digits between `*` and `#`.
///
/// Out of line on bare metal: the per-key loop around it stays small enough for the optimiser
/// to drop the other protocol's parser.
#[cfg_attr(target_os = "none", inline(never))]
pub(crate) fn process<P: Platform + ?Sized>(ctx: &mut Ctx<'_, P>, frame: &[u8]) -> Processed {
    let mut digits = FrameDigits::new();
    for &key in frame {
        if !key.is_ascii_digit() || !digits.push(key - b'0') {
            return Processed::invalid();
        }
    }
    if digits.len() == ACTIVATION_DIGITS {
        activation(ctx, digits)
    } else {
        short_frame(ctx, digits.as_slice(), frame)
    }
}

/// The fields of a 14-digit activation frame as the device reads them: de-obscured, not yet
/// authenticated. For diagnostics and vectors.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ActivationFields {
    /// The frame after de-obscuring: type, 2-digit ID, 5-digit body, check. Not a keycode.
    pub deobscured_digits: TokenText,
    /// The type digit (0-3 are activation types; others are refused).
    pub kind: u8,
    /// The 2 ID digits (above 63 is refused).
    pub compressed_id: u8,
    /// The message ID the window infers (`None` when the ID digits exceed 63).
    pub message_id: Option<u32>,
    /// Digits 3-7 as a number: hours or minutes (a wipe reads only the last digit).
    pub body: u32,
    /// The 6 check digits.
    pub check: u32,
}

/// Reads a 14-digit activation frame (the ASCII digits between `*` and `#`) against `window`.
/// `None` unless it is 14 decimal digits.
#[must_use]
pub fn inspect_activation(frame: &[u8], window: &Window) -> Option<ActivationFields> {
    let mut digits = FrameDigits::new();
    for &key in frame {
        if !key.is_ascii_digit() || !digits.push(key - b'0') {
            return None;
        }
    }
    if digits.len() != ACTIVATION_DIGITS {
        return None;
    }
    let read = read_activation(&mut digits, window);
    Some(ActivationFields {
        deobscured_digits: digits.text(),
        kind: read.kind,
        compressed_id: read.compressed_id,
        message_id: read.message_id,
        body: read.body,
        check: read.check,
    })
}

/// [`ActivationFields`] without the text, which the device does not need (building it costs
/// ~0.1 KB of flash).
struct Read {
    kind: u8,
    compressed_id: u8,
    message_id: Option<u32>,
    body: u32,
    check: u32,
}

/// De-obscures the 14 `digits` in place and reads their fields.
fn read_activation(digits: &mut FrameDigits, window: &Window) -> Read {
    // Checked: a `split_at` panic would keep every panic message of the crate in the flash of a
    // C device (one merged string section, 1.5 KB). Callers pass 14 digits, so never `None`.
    let Some((head, tail)) = digits
        .as_mut_slice()
        .split_at_mut_checked(ACTIVATION_DIGITS - CHECK_DIGITS)
    else {
        return Read {
            kind: 0,
            compressed_id: u8::MAX,
            message_id: None,
            body: 0,
            check: 0,
        };
    };
    let check = digits_value(tail);
    obscure_digits(head, head.len(), check, false);
    let (kind, compressed_id) = match *head {
        [kind, i0, i1, ..] => (kind, i0 * 10 + i1),
        _ => (0, u8::MAX),
    };
    let body = digits_value(head.get(3..).unwrap_or_default());
    let message_id = if compressed_id > 63 {
        None
    } else {
        window.infer(compressed_id)
    };
    Read {
        kind,
        compressed_id,
        message_id,
        body,
        check,
    }
}

/// A 14-digit frame: de-obscure digits 0-7 with the check as seed, infer the ID, check the MAC.
fn activation<P: Platform + ?Sized>(ctx: &mut Ctx<'_, P>, mut digits: FrameDigits) -> Processed {
    let fields = read_activation(&mut digits, &ctx.state.window);
    let Some(id) = fields.message_id else {
        return Processed::invalid();
    };
    let body = match fields.kind {
        kind::ADD_CREDIT | kind::SET_CREDIT | kind::DEMO => fields.body,
        kind::WIPE_STATE => fields.body % 10,
        _ => return Processed::invalid(),
    };
    if mac(ctx.key, id, fields.kind, body) != fields.check {
        return Processed::invalid();
    }
    apply_activation(ctx, fields.kind, id, body)
}

/// Any other length: factory codes, the device-ID confirmation, passthrough data.
fn short_frame<P: Platform + ?Sized>(
    ctx: &mut Ctx<'_, P>,
    digits: &[u8],
    keys: &[u8],
) -> Processed {
    let Some((&kind, rest)) = digits.split_first() else {
        return Processed::invalid();
    };
    match kind {
        kind::ADD_CREDIT..=kind::DISPLAY_PAYG_ID => {
            let (minutes, check) = if kind == kind::OQC_TEST {
                // `5` + 3 reserved digits (not checked) + 2 minute digits + check.
                match rest {
                    [_, _, _, m0, m1, check @ ..] => (u32::from(m0 * 10 + m1), check),
                    _ => return Processed::invalid(),
                }
            } else {
                (0, rest)
            };
            if check.len() != CHECK_DIGITS {
                return Processed::invalid();
            }
            // Types 0-3 here are `T` + MAC under the device key with ID 0 and body 0: upstream
            // applies them as activation codes of 0 hours at ID 0.
            let universal = Key::new(ZERO_KEY);
            let key = if kind < kind::ALLOW_TEST {
                ctx.key
            } else {
                &universal
            };
            if mac(key, 0, kind, minutes) != digits_value(check) {
                return Processed::invalid();
            }
            if kind < kind::ALLOW_TEST {
                apply_activation(ctx, kind, 0, 0)
            } else {
                apply_factory(ctx, kind, minutes)
            }
        }
        kind::DEVICE_ID_CONFIRMATION => {
            if !DEVICE_ID_DIGITS.contains(&rest.len()) {
                return Processed::invalid();
            }
            // Ten digits can exceed u32; they wrap like the C parser and so do not match.
            if digits_value(rest) == ctx.platform.user_facing_id() {
                Processed::of(Response::ValidApplied)
            } else {
                Processed::of(Response::ValidDuplicate)
            }
        }
        kind::PASSTHROUGH => {
            let data = keys.get(1..).unwrap_or_default();
            if keys.len() > 2 && ctx.platform.passthrough(data) {
                Processed::of(Response::None)
            } else {
                Processed::invalid()
            }
        }
        _ => Processed::invalid(),
    }
}

/// The 6-digit check of `LE32(id) ++ [kind] ++ LE32(body)`.
fn mac(key: &Key, id: u32, kind: u8, body: u32) -> u32 {
    full_check(MacInput::with_u32(id, kind, body).hash(key))
}

/// Applies an authentic activation message (types 0-3).
fn apply_activation<P: Platform + ?Sized>(
    ctx: &mut Ctx<'_, P>,
    kind: u8,
    id: u32,
    body: u32,
) -> Processed {
    if ctx.state.window.is_received(id) {
        return Processed::with_id(Response::ValidDuplicate, id);
    }
    match kind {
        kind::ADD_CREDIT => {
            // The ID is used up even when the credit is not applied.
            ctx.state.window.mark(id);
            if ctx.is_unlocked() {
                return Processed::with_id(Response::ValidDuplicate, id);
            }
            ctx.platform.add_credit(body.saturating_mul(3_600));
        }
        kind::DEMO => {
            // Reusable: no ID is recorded.
            if !ctx.is_unlocked() {
                ctx.platform.add_credit(body.saturating_mul(60));
            }
        }
        kind::SET_CREDIT => {
            ctx.state.window.mark_up_to(id);
            if body == UNLOCK_HOURS {
                ctx.platform.unlock();
            } else {
                ctx.platform.set_credit(body.saturating_mul(3_600));
            }
        }
        kind::WIPE_STATE => {
            // Upstream marks the IDs before looking at the target; an unknown target is
            // refused here first, so that an INVALID code never changes the window.
            let Some(target) = u8::try_from(body).ok().and_then(WipeTarget::from_digit) else {
                return Processed::invalid();
            };
            ctx.state.window.mark_up_to(id);
            ctx.wipe(target);
        }
        _ => return Processed::invalid(),
    }
    Processed::with_id(Response::ValidApplied, id)
}

/// Applies an authentic universal factory code (types 4-6).
fn apply_factory<P: Platform + ?Sized>(ctx: &mut Ctx<'_, P>, kind: u8, minutes: u32) -> Processed {
    match kind {
        kind::ALLOW_TEST if ctx.is_disabled() => {
            ctx.platform.add_credit(SHORT_TEST_SECONDS);
            Processed::of(Response::ValidApplied)
        }
        kind::OQC_TEST => {
            let seconds = minutes * 60;
            let short = seconds <= QC_SHORT_MAX_SECONDS;
            let (count, max) = if short {
                (ctx.state.qc_short_count, ctx.config.qc_short_max)
            } else {
                (ctx.state.qc_long_count, ctx.config.qc_long_max)
            };
            let allowed = !ctx.is_unlocked()
                && (seconds == QC_LONG_SECONDS || ctx.is_disabled())
                && count < max.min(15);
            if !allowed {
                return Processed::of(Response::ValidDuplicate);
            }
            ctx.platform.add_credit(seconds);
            if short {
                ctx.state.qc_short_count += 1;
            } else {
                ctx.state.qc_long_count += 1;
            }
            Processed::of(Response::ValidApplied)
        }
        kind::DISPLAY_PAYG_ID => Processed::of(Response::DisplayDeviceId),
        _ => Processed::of(Response::ValidDuplicate),
    }
}
