//! The small protocol (keys `1-5`; credit in days), spec §4.
//!
//! A code is the start key `1` and 14 symbols `2-5`: 28 bits, MSB first,
//! `[6 id][2 type][8 body][12 MAC]`, with the top 16 bits XOR-obscured by a mask derived
//! from the MAC. Days travel as an 8-bit "increment": exact up to 180 (ADD) or 90 (SET),
//! coarser above, so the device may apply a little more than asked (see the tables here).

pub(crate) mod extended;
mod issue;
pub(crate) mod message;
pub(crate) mod verify;

pub use issue::{SmallIssuer, SmallTrace};
pub use message::{
    LOCK_INCREMENT, MAX_ADD_DAYS, MAX_SET_DAYS, Maintenance, SetTarget, TestCode, UNLOCK_INCREMENT,
    WIPE_RESTRICTED_FLAG_INCREMENT, add_credit_days, add_credit_increment, set_credit_days,
    set_credit_increment,
};
pub use verify::{SmallFields, inspect};
