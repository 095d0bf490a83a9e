//! The runtime plus an OpenPAYGO Metrics report built and signed on the device: condensed,
//! recursive data auth (`ra`), the values of the HDK's example data format written as integers
//! and fixed-point decimals (no float code).

#![no_std]
#![no_main]
#![forbid(unsafe_code)]

use cortex_m_rt::entry;
use panic_halt as _;

#[entry]
fn main() -> ! {
    paylock_firmware::metrics_report_forever()
}
