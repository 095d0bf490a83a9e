//! The extended small code: SET_CREDIT + wipe restricted flag inside a passthrough frame
//! (spec §4.5). Layout of the 26 bits: `1 ttt ss iiiiiiii mmmmmmmmmmmm` (extended type 0,
//! 2 ID bits, SET increment, 12-bit auth). The device finds the ID by trying its window.

use super::message::{UNLOCK_INCREMENT, passthrough_bits, set_credit_days};
use crate::key::Key;
use crate::nexus::apply::Ctx;
use crate::nexus::issue::NexusIssueError;
use crate::nexus::platform::{Feedback, Platform, Processed, Response};
use crate::nexus::primitives::{MacInput, small_mac12};
use crate::nexus::window::{AFTER, BEFORE};

/// The only extended type defined.
const SET_CREDIT_WIPE_RESTRICTED: u8 = 0;

/// `LE32(id) ++ [0] ++ [increment, id & 3]` (upstream packs the last two as `LE16`).
pub(crate) fn auth_input(id: u32, increment: u8) -> MacInput {
    MacInput::new(id, SET_CREDIT_WIPE_RESTRICTED, &[increment, low2(id)])
}

fn auth(key: &Key, id: u32, increment: u8) -> u16 {
    small_mac12(auth_input(id, increment).hash(key))
}

fn low2(id: u32) -> u8 {
    u8::try_from(id & 3).unwrap_or(0)
}

/// The 26 passthrough bits of the code for `id`.
pub(crate) fn bits26(id: u32, increment: u8, auth: u16) -> u32 {
    (1 << 25)
        | (u32::from(SET_CREDIT_WIPE_RESTRICTED) << 22)
        | (u32::from(low2(id)) << 20)
        | (u32::from(increment) << 12)
        | u32::from(auth & 0xFFF)
}

/// Whether another ID in `[id - 23, id + 40]` (capped at `ceiling`) with the same 2 low bits
/// gives the same auth, so that a device could take the code under that ID.
fn collides(key: &Key, id: u32, increment: u8, ceiling: u32) -> bool {
    let mine = auth(key, id, increment);
    let low = id.saturating_sub(BEFORE);
    let high = id.saturating_add(AFTER).min(ceiling);
    (low..=high)
        .filter(|other| *other != id && other & 3 == id & 3)
        .any(|other| auth(key, other, increment) == mine)
}

/// The first ID from `id` on (at most 40 tried, as upstream) without a collision. Near the
/// top of the `u32` range fewer are left to try, `u32::MAX` included; none wraps to 0, and
/// when they all collide the ID space is exhausted.
pub(crate) fn next_free_id(
    key: &Key,
    id: u32,
    increment: u8,
    ceiling: u32,
) -> Result<u32, NexusIssueError> {
    let last = id.checked_add(AFTER - 1);
    (id..=last.unwrap_or(u32::MAX))
        .find(|candidate| !collides(key, *candidate, increment, ceiling))
        .ok_or(match last {
            Some(_) => NexusIssueError::NoCollisionFreeId { id },
            None => NexusIssueError::CounterExhausted { id },
        })
}

/// Applies a de-obscured passthrough frame on the device. The response is NONE whenever the
/// frame is extended (feedback is started here); a frame with bit 25 clear is INVALID.
pub(crate) fn process<P: Platform + ?Sized>(ctx: &mut Ctx<'_, P>, frame: u32) -> Processed {
    let bits = passthrough_bits(frame);
    if bits >> 25 == 0 {
        return Processed::invalid();
    }
    let kind = (bits >> 22) & 7;
    let ss = (bits >> 20) & 3;
    let increment = u8::try_from((bits >> 12) & 0xFF).unwrap_or(0);
    let received_auth = u16::try_from(bits & 0xFFF).unwrap_or(0);
    let window = ctx.state.window;
    let found = if kind == u32::from(SET_CREDIT_WIPE_RESTRICTED) && ctx.config.extended_small_codes
    {
        (window.lowest()..=window.highest()).find(|id| {
            id & 3 == ss
                && !window.is_received(*id)
                && auth(ctx.key, *id, increment) == received_auth
        })
    } else {
        None
    };
    let Some(id) = found else {
        ctx.platform.feedback(Feedback::MessageInvalid);
        return Processed::of(Response::None);
    };
    if increment == UNLOCK_INCREMENT {
        ctx.platform.unlock();
    } else {
        // 254 (lock) and the reserved increments set 0 days, as in the firmware.
        let days = set_credit_days(increment).unwrap_or(0);
        ctx.platform.set_credit(u32::from(days) * 86_400);
    }
    ctx.state.window.mark_up_to(id);
    ctx.clear_restricted_flag();
    ctx.platform.feedback(Feedback::MessageApplied);
    Processed::with_id(Response::None, id)
}
