//! Small-protocol frames on the device (spec §4.6): read 14 symbols, de-obscure, check, apply.

use super::extended;
use super::message::{
    LOCK_INCREMENT, UNLOCK_INCREMENT, WIPE_RESTRICTED_FLAG_INCREMENT, add_credit_days, is_test,
    kind, set_credit_days, unpack,
};
use crate::key::Key;
use crate::nexus::apply::Ctx;
use crate::nexus::full::message::{QC_LONG_SECONDS, SHORT_TEST_SECONDS, WipeTarget};
use crate::nexus::keys::SMALL_FRAME_SYMBOLS;
use crate::nexus::platform::{Platform, Processed, Response};
use crate::nexus::primitives::{FF_KEY, MacInput, small_mac12, small_obscure};
use crate::nexus::window::Window;

const SECONDS_PER_DAY: u32 = 86_400;

/// The fields of a small frame as the device reads them: de-obscured, not yet authenticated.
/// For diagnostics and vectors.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SmallFields {
    /// The 28 bits after de-obscuring. Not a keycode.
    pub deobscured_bits: u32,
    /// The 6 ID bits.
    pub compressed_id: u8,
    /// The type (0 ADD, 1 passthrough, 2 SET, 3 maintenance or test).
    pub kind: u8,
    /// The 8-bit body.
    pub body: u8,
    /// The 12-bit MAC.
    pub mac12: u16,
    /// The ID the MAC covers: inferred from the window for ADD and SET, as sent for type 3,
    /// `None` for passthrough (extended codes search the window instead).
    pub message_id: Option<u32>,
}

/// Reads the 14 symbols after the start key against `window`; `None` unless there are exactly
/// 14, all of `2-5`.
#[must_use]
pub fn inspect(frame: &[u8], window: &Window) -> Option<SmallFields> {
    if frame.len() != SMALL_FRAME_SYMBOLS {
        return None;
    }
    let mut bits = 0u32;
    for &key in frame {
        let symbol = match key {
            b'2'..=b'5' => key - b'2',
            _ => return None,
        };
        bits = (bits << 2) | u32::from(symbol);
    }
    let deobscured_bits = small_obscure(bits);
    let (compressed_id, kind, body, mac12) = unpack(deobscured_bits);
    let message_id = match kind {
        kind::PASSTHROUGH => None,
        kind::MAINTENANCE_OR_TEST => Some(u32::from(compressed_id)),
        _ => window.infer(compressed_id),
    };
    Some(SmallFields {
        deobscured_bits,
        compressed_id,
        kind,
        body,
        mac12,
        message_id,
    })
}

/// Parses and applies the 14 symbols after the start key.
///
/// Out of line on bare metal: the per-key loop around it stays small enough for the optimiser
/// to drop the other protocol's parser.
#[cfg_attr(target_os = "none", inline(never))]
pub(crate) fn process<P: Platform + ?Sized>(ctx: &mut Ctx<'_, P>, frame: &[u8]) -> Processed {
    let Some(fields) = inspect(frame, &ctx.state.window) else {
        return Processed::invalid();
    };
    let SmallFields { kind, body, .. } = fields;
    if kind == kind::PASSTHROUGH {
        return extended::process(ctx, fields.deobscured_bits);
    }
    let Some(id) = fields.message_id else {
        return Processed::invalid();
    };
    let universal = Key::new(FF_KEY);
    let key = if is_test(kind, body) {
        &universal
    } else {
        ctx.key
    };
    if small_mac12(MacInput::new(id, kind, &[body]).hash(key)) != fields.mac12 {
        return Processed::invalid();
    }
    match kind {
        kind::ADD_CREDIT | kind::SET_CREDIT => apply_credit(ctx, kind, id, body),
        _ if is_test(kind, body) => apply_test(ctx, body),
        _ => apply_maintenance(ctx, body),
    }
}

fn apply_credit<P: Platform + ?Sized>(
    ctx: &mut Ctx<'_, P>,
    kind: u8,
    id: u32,
    increment: u8,
) -> Processed {
    if ctx.state.window.is_received(id) {
        return Processed::with_id(Response::ValidDuplicate, id);
    }
    if kind == kind::SET_CREDIT {
        // SET always applies, even when unlocked.
        ctx.state.window.mark_up_to(id);
        match increment {
            UNLOCK_INCREMENT => ctx.platform.unlock(),
            LOCK_INCREMENT => ctx.platform.set_credit(0),
            WIPE_RESTRICTED_FLAG_INCREMENT => ctx.clear_restricted_flag(),
            // The reserved increments 240-252 set 0 days, as in the firmware.
            _ => {
                let days = set_credit_days(increment).unwrap_or(0);
                ctx.platform.set_credit(u32::from(days) * SECONDS_PER_DAY);
            }
        }
    } else {
        // The ID is used up even when the credit is not applied.
        ctx.state.window.mark(id);
        if ctx.is_unlocked() {
            return Processed::with_id(Response::ValidDuplicate, id);
        }
        match add_credit_days(increment) {
            None => ctx.platform.unlock(),
            Some(days) => ctx.platform.add_credit(u32::from(days) * SECONDS_PER_DAY),
        }
    }
    Processed::with_id(Response::ValidApplied, id)
}

fn apply_test<P: Platform + ?Sized>(ctx: &mut Ctx<'_, P>, function: u8) -> Processed {
    let applied = match function {
        0 if ctx.is_disabled() => {
            ctx.platform.add_credit(SHORT_TEST_SECONDS);
            true
        }
        0 => false,
        1 if !ctx.is_unlocked() && ctx.state.qc_long_count < ctx.config.qc_long_max.min(15) => {
            ctx.platform.add_credit(QC_LONG_SECONDS);
            ctx.state.qc_long_count += 1;
            true
        }
        1 => false,
        _ => return Processed::invalid(),
    };
    Processed::of(if applied {
        Response::ValidApplied
    } else {
        Response::ValidDuplicate
    })
}

fn apply_maintenance<P: Platform + ?Sized>(ctx: &mut Ctx<'_, P>, body: u8) -> Processed {
    let target = match body & 0x7F {
        0 => WipeTarget::Credit,
        1 => WipeTarget::CreditAndWindow,
        2 => WipeTarget::Window,
        _ => return Processed::invalid(),
    };
    ctx.wipe(target);
    Processed::of(Response::ValidApplied)
}
