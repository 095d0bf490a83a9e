//! `paylock simulate FILE`: runs a scenario file (the batch `simulate` request, `"op"`
//! optional) and prints the timeline as a table, or as the batch answer with `--json`.

use std::fs;
use std::process::ExitCode;

use clap::Args;
use serde_json::Value;

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
    let mut request: Value =
        serde_json::from_str(&text).map_err(|e| format!("{}: not JSON: {e}", args.file))?;
    let Some(map) = request.as_object_mut() else {
        return Err(format!("{}: the scenario must be a JSON object", args.file));
    };
    map.insert("op".into(), "simulate".into());
    let answer = match paylock_protocol::batch::handle(&request) {
        Ok(answer) => answer,
        Err(e) => return Err(format!("{}: {}: {}", args.file, e.kind, e.message)),
    };
    if args.json {
        println!("{answer}");
        return Ok(ExitCode::SUCCESS);
    }
    let answer: Value = serde_json::from_str(&answer).map_err(|e| e.to_string())?;
    print_table(answer["timeline"].as_array().map_or(&[][..], Vec::as_slice));
    Ok(ExitCode::SUCCESS)
}

fn print_table(rows: &[Value]) {
    println!(
        "{:>9}  {:<10} {:<10} {:<6} {:>13}  {:<8} {:>8}  why",
        "at (s)", "event", "outcome", "active", "credit left", "payg", "lockout"
    );
    for r in rows {
        println!(
            "{:>9}  {:<10} {:<10} {:<6} {:>13}  {:<8} {:>8}  {}",
            r["at"].as_u64().unwrap_or(0),
            r["event"].as_str().unwrap_or_default(),
            r["outcome"].as_str().unwrap_or("-"),
            if r["active"] == true { "yes" } else { "no" },
            duration(r["credit_seconds_left"].as_u64().unwrap_or(0)),
            r["payg"].as_str().unwrap_or_default(),
            duration(r["lockout_seconds_left"].as_u64().unwrap_or(0)),
            why(r),
        );
    }
}

/// The explanation column: the command applied, the reason, the boot and the power cut.
fn why(r: &Value) -> String {
    let mut parts = Vec::new();
    if let Some(command) = r["command"].as_str() {
        let credit = r["credit_seconds"]
            .as_u64()
            .map(|s| format!(" {}", duration(s)))
            .unwrap_or_default();
        parts.push(format!("{command}{credit} (#{})", r["sequence"]));
    }
    if let Some(cut) = r["power_cut"].as_object() {
        parts.push(format!(
            "power cut after {} of {} bytes",
            cut["after_bytes"], cut["write_bytes"]
        ));
    }
    if let Some(boot) = r["boot"].as_str() {
        parts.push(format!("boot: {boot}"));
    }
    if let Some(reason) = r["reason"].as_str() {
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
