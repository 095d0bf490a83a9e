//! Any keys on a small-protocol (`1-5`) device in any state, key by key or as whole codes, with
//! or without rate limiting: no panic, and a code that is not authentic changes nothing but the
//! limiter. See `nexus_common::check_step` for every invariant checked.
#![no_main]

mod nexus_common;

use libfuzzer_sys::fuzz_target;
use paylock::nexus::Protocol;

fuzz_target!(|input: nexus_common::ParseInput<'_>| {
    nexus_common::parse(Protocol::Small, input);
});
