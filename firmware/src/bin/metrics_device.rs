//! The runtime plus the whole device side of OpenPAYGO Metrics: the signed report of
//! `metrics_sign`, then the server's answer verified (its `da` signature) and read: tokens,
//! the credit's end and a setting.

#![no_std]
#![no_main]
#![forbid(unsafe_code)]

use cortex_m_rt::entry;
use panic_halt as _;

#[entry]
fn main() -> ! {
    paylock_firmware::metrics_device_forever()
}
