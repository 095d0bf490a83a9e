//! `paylock keys new`: fresh 16-byte keys from the operating system's random source, and the
//! random draws the factory CSV needs.

use std::io::{self, Write};
use std::process::ExitCode;

use clap::{Subcommand, value_parser};
use zeroize::Zeroize;

/// The most keys one run prints.
const MAX_COUNT: i64 = 1_000_000;

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print fresh random 16-byte keys, one per line as 32 hex characters (device keys for
    /// OpenPAYGO and Nexus, batch keys for AST).
    New {
        /// How many keys.
        #[arg(long, default_value_t = 1, value_parser = value_parser!(u32).range(1..=MAX_COUNT))]
        count: u32,
    },
}

pub fn run(cmd: Command) -> Result<ExitCode, String> {
    let Command::New { count } = cmd;
    let mut out = io::stdout().lock();
    for _ in 0..count {
        let mut key = new_key_hex()?;
        let written = writeln!(out, "{key}");
        key.zeroize();
        written.map_err(|e| format!("stdout: {e}"))?;
    }
    Ok(ExitCode::SUCCESS)
}

/// 16 random bytes from the OS, as 32 lowercase hex characters.
pub fn new_key_hex() -> Result<String, String> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|e| format!("OS random source: {e}"))?;
    let key = hex::encode(bytes);
    bytes.zeroize();
    Ok(key)
}

/// A uniformly random number in `1..=max` (`max` ≥ 1), without modulo bias.
pub fn random_in(max: u32) -> Result<u32, String> {
    let max = max.max(1);
    // The largest multiple of `max` that fits; draws at or above it are redrawn.
    let limit = u32::MAX - u32::MAX % max;
    loop {
        let draw = getrandom::u32().map_err(|e| format!("OS random source: {e}"))?;
        if draw < limit {
            return Ok(draw % max + 1);
        }
    }
}
