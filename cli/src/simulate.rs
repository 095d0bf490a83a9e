//! `paylock simulate FILE`: runs a scenario file (the batch `simulate` request, `"op"`
//! optional) and prints the timeline as a table, or as the batch answer with `--json`.

use alloc::borrow::Cow;
use std::fs;
use std::process::ExitCode;

use clap::Args;
use paylock_protocol::simulate::{Row, Timeline};
use paylock_protocol::{Error, Input, Registry, field};
use serde::Deserialize;
use serde::de::IgnoredAny;

/// Runs a provisioned device through timed events and prints what it did.
#[derive(Debug, Args)]
pub struct Simulate {
    /// Scenario file: `{"scheme":…,"device":{…},"events":[…]}` (see `paylock_protocol::batch::simulate`).
    file: String,
    /// Print the JSON answer instead of the table.
    #[arg(long)]
    json: bool,
}

pub fn run(args: &Simulate) -> Result<ExitCode, String> {
    let text = fs::read_to_string(&args.file).map_err(|e| format!("{}: {e}", args.file))?;
    serde_json::from_str::<IgnoredAny>(&text)
        .map_err(|e| format!("{}: not JSON: {e}", args.file))?;
    let scenario = Input::Text(&text);
    if !scenario.is_object() {
        return Err(format!("{}: the scenario must be a JSON object", args.file));
    }
    let answer =
        timeline(scenario).map_err(|e| format!("{}: {}: {}", args.file, e.kind, e.message))?;
    if args.json {
        println!(
            "{}",
            serde_json::to_string(&answer).map_err(|e| e.to_string())?
        );
    } else {
        print_table(&answer.timeline);
    }
    Ok(ExitCode::SUCCESS)
}

/// The scheme a scenario names.
#[derive(Deserialize)]
struct Scenario<'a> {
    #[serde(default, borrow, deserialize_with = "field::opt_text")]
    scheme: Option<Cow<'a, str>>,
}

/// The scenario's timeline, as the batch `simulate` op answers it.
fn timeline(scenario: Input<'_>) -> Result<Timeline, Error> {
    let Scenario { scheme } = scenario.read()?;
    let scheme = scheme.ok_or_else(|| Error::missing("scheme"))?;
    Registry::builtin().simulate(&scheme, scenario)
}

fn print_table(rows: &[Row]) {
    println!(
        "{:>9}  {:<10} {:<10} {:<6} {:>13}  {:<8} {:>8}  why",
        "at (s)", "event", "outcome", "active", "credit left", "payg", "lockout"
    );
    for r in rows {
        println!(
            "{:>9}  {:<10} {:<10} {:<6} {:>13}  {:<8} {:>8}  {}",
            r.at,
            r.event,
            r.outcome.unwrap_or("-"),
            if r.active { "yes" } else { "no" },
            duration(r.credit_seconds_left.into()),
            r.payg,
            duration(r.lockout_seconds_left.into()),
            why(r),
        );
    }
}

/// The explanation column: the command applied, the reason, the boot and the power cut.
fn why(r: &Row) -> String {
    let mut parts = Vec::new();
    if let Some((command, credit_seconds, sequence)) = r.applied {
        let credit = credit_seconds
            .map(|s| format!(" {}", duration(s)))
            .unwrap_or_default();
        parts.push(format!("{command}{credit} (#{sequence})"));
    }
    if let Some(cut) = &r.power_cut {
        parts.push(format!(
            "power cut after {} of {} bytes",
            cut.after_bytes, cut.write_bytes
        ));
    }
    if let Some(boot) = r.boot {
        parts.push(format!("boot: {boot}"));
    }
    // A cut's reason takes the place of the entry's, as in the JSON row.
    if let Some(reason) = r.cut_reason.or(r.reason.as_deref()) {
        parts.push(reason.to_owned());
    }
    parts.join("; ")
}

/// `1d 02:03:04`-style durations; `0` for none.
fn duration(s: u64) -> String {
    if s == 0 {
        return "0".into();
    }
    let (d, h, m, sec) = (s / 86_400, s / 3_600 % 24, s / 60 % 60, s % 60);
    if d > 0 {
        format!("{d}d {h:02}:{m:02}:{sec:02}")
    } else {
        format!("{h:02}:{m:02}:{sec:02}")
    }
}
