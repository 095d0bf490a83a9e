//! `paylock vectors check`: replays vector files in the published formats through the same
//! requests a CRM sends (read into paylock-protocol's typed requests, as the batch reads them),
//! printing one PASS/FAIL line per group.

mod access;
mod metrics;
mod nexus;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Subcommand;
use paylock::Key;
use paylock::openpaygo::{self, digits};
use paylock_protocol::{self as protocol, Error, Input};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Replay vector files; exits 1 if any case fails.
    Check {
        /// Files in the published formats (see test-vectors/*/README.txt).
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
}

/// The outcome of one group of cases.
struct Group {
    name: String,
    total: usize,
    failures: Vec<String>,
    /// Appended to the case count, e.g. `; 3 differ as documented`.
    note: String,
}

impl Group {
    fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            total: 0,
            failures: Vec::new(),
            note: String::new(),
        }
    }

    fn check(&mut self, id: impl FnOnce() -> String, result: Result<(), String>) {
        self.total += 1;
        if let Err(why) = result {
            self.failures.push(format!("{}: {why}", id()));
        }
    }
}

pub fn run(cmd: Command) -> Result<ExitCode, String> {
    let Command::Check { files } = cmd;
    let mut failed = false;
    for file in &files {
        let groups = groups_of(file)?;
        if groups.is_empty() {
            return Err(format!(
                "{}: no vector group in a known format",
                file.display()
            ));
        }
        for g in groups {
            failed |= report(file, &g);
        }
    }
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// Prints a group's line; true if it failed.
fn report(file: &Path, g: &Group) -> bool {
    let name = file.file_name().map_or_else(
        || file.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    if g.failures.is_empty() {
        println!("PASS {name} {} ({} cases{})", g.name, g.total, g.note);
        return false;
    }
    println!(
        "FAIL {name} {} ({} of {} cases failed)",
        g.name,
        g.failures.len(),
        g.total
    );
    for f in g.failures.iter().take(10) {
        println!("    {f}");
    }
    true
}

fn groups_of(file: &Path) -> Result<Vec<Group>, String> {
    let text = std::fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))?;
    if let Ok(doc) = serde_json::from_str::<Value>(&text) {
        return Ok(match &doc {
            Value::Object(_) if nexus::is_nexus(&doc) => nexus::groups(&doc),
            Value::Object(_) if access::is_access(&doc) => access::groups(&doc),
            Value::Object(_) if metrics::is_metrics(&doc) => metrics::groups(&doc),
            Value::Object(_) => generated_groups(&doc),
            Value::Array(cases) => vec![official(cases)],
            _ => Vec::new(),
        });
    }
    let cases = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(serde_json::from_str)
        .collect::<Result<Vec<Value>, _>>()
        .map_err(|e| format!("{}: neither JSON nor JSON Lines: {e}", file.display()))?;
    Ok(vec![official(&cases)])
}

fn generated_groups(doc: &Value) -> Vec<Group> {
    let mut groups = Vec::new();
    if doc.get("lowlevel").is_some() {
        groups.extend(lowlevel(&doc["lowlevel"]));
    }
    if let Some(cases) = doc["encode"].as_array() {
        groups.push(encode(cases));
    }
    if let Some(cases) = doc["decode"].as_array() {
        groups.push(decode(cases));
    }
    if let Some(cases) = doc["decode_scenarios"].as_array() {
        groups.push(scenarios(cases));
    }
    if let Some(cases) = doc["metrics_auth"].as_array() {
        groups.push(metrics::auth(cases));
    }
    groups
}

fn u64_of(v: &Value) -> Result<u64, String> {
    v.as_u64()
        .ok_or_else(|| format!("{v} is not an unsigned integer"))
}

fn str_of(v: &Value) -> Result<&str, String> {
    v.as_str().ok_or_else(|| format!("{v} is not a string"))
}

fn key_of(v: &Value) -> Result<Key, String> {
    Key::from_hex(str_of(v)?).map_err(|e| e.to_string())
}

fn expect_eq<T: PartialEq + core::fmt::Debug>(what: &str, got: T, want: T) -> Result<(), String> {
    if got == want {
        Ok(())
    } else {
        Err(format!("{what}: got {got:?}, expected {want:?}"))
    }
}

fn lowlevel(low: &Value) -> Vec<Group> {
    let cases = |name: &str| low[name].as_array().cloned().unwrap_or_default();
    let mut sip = Group::new("lowlevel.siphash24");
    for c in cases("siphash24") {
        sip.check(
            || c["msg_hex"].to_string(),
            (|| {
                let msg = hex::decode(str_of(&c["msg_hex"])?).map_err(|e| e.to_string())?;
                expect_eq(
                    "hash",
                    openpaygo::siphash24(&key_of(&c["key"])?, &msg),
                    u64_of(&c["hash_u64"])?,
                )
            })(),
        );
    }
    let mut std_step = Group::new("lowlevel.next_code_standard");
    for c in cases("next_code_standard") {
        std_step.check(
            || c["input"].to_string(),
            (|| {
                let input = u32::try_from(u64_of(&c["input"])?).map_err(|e| e.to_string())?;
                let out = openpaygo::next_standard(&key_of(&c["key"])?, input);
                expect_eq("output", u64::from(out), u64_of(&c["output"])?)
            })(),
        );
    }
    let mut ext_step = Group::new("lowlevel.next_code_extended");
    for c in cases("next_code_extended") {
        ext_step.check(
            || c["input"].to_string(),
            (|| {
                let out = openpaygo::next_extended(&key_of(&c["key"])?, u64_of(&c["input"])?);
                expect_eq("output", out, u64_of(&c["output"])?)
            })(),
        );
    }
    let mut start = Group::new("lowlevel.starting_code_from_key");
    for c in cases("starting_code_from_key") {
        start.check(
            || c["key"].to_string(),
            (|| {
                let sc = openpaygo::starting_code_from_key(&key_of(&c["key"])?);
                expect_eq("starting code", u64::from(sc), u64_of(&c["starting_code"])?)
            })(),
        );
    }
    let mut rds = Group::new("lowlevel.restricted_digits");
    for c in cases("restricted_digits") {
        rds.check(
            || c["value"].to_string(),
            (|| {
                let bits = u32::try_from(u64_of(&c["bits"])?).map_err(|e| e.to_string())?;
                let text =
                    digits::to_restricted(u64_of(&c["value"])?, bits).map_err(|e| e.to_string())?;
                expect_eq("digits", text.as_str(), str_of(&c["digits"])?)
            })(),
        );
    }
    vec![sip, std_step, ext_step, start, rds]
}

/// Reads `request` (a batch request built from a vector) into its typed form, as the batch
/// does, and answers it with `op`; the answer in its JSON form, the form the vectors publish.
fn ask<'a, Q: Deserialize<'a>, A: Serialize>(
    request: &'a Value,
    op: impl FnOnce(&Q) -> Result<A, Error>,
) -> Result<Value, String> {
    let answer = answer(request, op).map_err(|e| e.to_string())?;
    serde_json::to_value(answer).map_err(|e| e.to_string())
}

/// `request` read into its typed form and answered with `op`.
fn answer<'a, Q: Deserialize<'a>, A>(
    request: &'a Value,
    op: impl FnOnce(&Q) -> Result<A, Error>,
) -> Result<A, Error> {
    op(&Input::Value(request).read()?)
}

fn generate_request(c: &Value, starting_code: &Value, count: &Value) -> Value {
    let mut r = json!({
        "scheme": "openpaygo", "op": "generate", "key": c["key"], "starting_code": starting_code,
        "count": count, "token_type": c["token_type"],
        "restricted_digit_set": c["restricted_digit_set"], "extended_token": c["extended_token"],
    });
    // DISABLE_PAYG and COUNTER_SYNC carry 998 / 999 in `value_raw` but take no value.
    if matches!(c["token_type"].as_str(), Some("ADD_TIME" | "SET_TIME")) {
        r["value"] = c["value_raw"].clone();
    }
    r
}

fn encode(cases: &[Value]) -> Group {
    let mut g = Group::new("encode");
    for c in cases {
        g.check(
            || format!("count {} {}", c["count"], c["token_type"]),
            (|| {
                let request = generate_request(c, &c["starting_code_effective"], &c["count"]);
                let answer = ask(&request, protocol::openpaygo::generate)?;
                expect_eq("token", &answer["token"], &c["expected_token"])?;
                expect_eq("count", &answer["count"], &c["expected_new_count"])
            })(),
        );
    }
    g
}

/// The official `test_tokens.jsonl` / `sample_tokens.json` records (or raw-chain Go records).
fn official(cases: &[Value]) -> Group {
    if cases
        .first()
        .is_some_and(|c| c.get("token_count").is_some())
    {
        return raw_chain(cases);
    }
    let mut g = Group::new("official tokens");
    for c in cases {
        g.check(
            || {
                format!(
                    "{} count {} {}",
                    c["serial_number"], c["count"], c["token_type"]
                )
            },
            (|| {
                let request = generate_request(c, &c["starting_code"], &c["count"]);
                let answer = ask(&request, protocol::openpaygo::generate)?;
                expect_eq("token", &answer["token"], &c["token"])?;
                expect_eq("count", &answer["count"], &c["new_count"])
            })(),
        );
    }
    g
}

fn raw_chain(cases: &[Value]) -> Group {
    let mut g = Group::new("raw chain (token at token_count)");
    for c in cases {
        g.check(
            || format!("{} count {}", c["serial_number"], c["token_count"]),
            (|| {
                let sc = u32::try_from(u64_of(&c["starting_code"])?).map_err(|e| e.to_string())?;
                let secret = openpaygo::OpenPaygoSecret::new(key_of(&c["key"])?, sc)
                    .map_err(|e| e.to_string())?;
                let form = openpaygo::Form {
                    extended: false,
                    restricted_digit_set: c["restricted_digit_set"].as_bool().unwrap_or(false),
                };
                let count = u32::try_from(u64_of(&c["token_count"])?).map_err(|e| e.to_string())?;
                let value = u32::try_from(u64_of(&c["value_raw"])?).map_err(|e| e.to_string())?;
                let token = openpaygo::OpenPaygoIssuer::new(form)
                    .token_at(&secret, count, value)
                    .map_err(|e| e.to_string())?;
                expect_eq("token", token.as_str(), str_of(&c["token"])?)
            })(),
        );
    }
    g
}

fn decode_request(c: &Value, token: &Value, state: &Value) -> Value {
    json!({
        "scheme": "openpaygo", "op": "decode", "key": c["key"], "starting_code": c["starting_code"],
        "restricted_digit_set": c["restricted_digit_set"],
        "extended_token": c.get("extended_token").cloned().unwrap_or(json!(false)),
        "token": token,
        "state": {
            "max_count": state.get("max_count").or_else(|| state.get("count")).cloned().unwrap_or(json!(0)),
            "used_counts_bitmask": state["used_counts_bitmask"],
        },
    })
}

/// Compares a decode answer with a `recommended_model` object; returns the state after.
fn check_model(answer: &Value, want: &Value) -> Result<Value, String> {
    expect_eq("status", &answer["status"], &want["status"])?;
    if want["status"] == "VALID" {
        for field in ["value", "count", "meaning"] {
            expect_eq(field, &answer[field], &want[field])?;
        }
    }
    expect_eq(
        "max_count",
        &answer["state"]["max_count"],
        &want["max_count"],
    )?;
    expect_eq(
        "used_counts_bitmask",
        &answer["state"]["used_counts_bitmask"],
        &want["used_counts_bitmask"],
    )?;
    Ok(answer["state"].clone())
}

/// Decodes `token` on `state` as the `recommended_model` `want` does; returns the state after.
/// Where the model takes a counter sync again at or below the count, paylock answers
/// ALREADY_USED and changes nothing; the step is then asked again with
/// `"allow_sync_replays":true`, the model's behaviour, which later steps build on.
fn model_decode(c: &Value, token: &Value, state: &Value, want: &Value) -> Result<Value, String> {
    let mut request = decode_request(c, token, state);
    let max_count = &request["state"]["max_count"];
    let sync_replay = want["status"] == "VALID"
        && want["meaning"] == "COUNTER_SYNC"
        && want["count"].as_u64() <= max_count.as_u64();
    if sync_replay {
        let answer = ask(&request, protocol::openpaygo::decode)?;
        expect_eq(
            "status without allow_sync_replays",
            &answer["status"],
            &json!("ALREADY_USED"),
        )?;
        expect_eq(
            "state without allow_sync_replays",
            &answer["state"],
            &request["state"],
        )?;
        request["allow_sync_replays"] = json!(true);
    }
    check_model(&ask(&request, protocol::openpaygo::decode)?, want)
}

fn decode(cases: &[Value]) -> Group {
    let mut g = Group::new("decode (recommended model)");
    for c in cases {
        g.check(
            || c["id"].as_str().unwrap_or("?").to_owned(),
            model_decode(c, &c["token"], &c["state_before"], &c["recommended_model"]).map(drop),
        );
    }
    g
}

/// Each scenario's steps in order, the device state carried from one step to the next.
fn scenarios(cases: &[Value]) -> Group {
    let mut g = Group::new("decode_scenarios (every step)");
    for s in cases {
        let steps = s["steps"].as_array().cloned().unwrap_or_default();
        let mut state = steps
            .first()
            .map(|st| st["recommended_state_before"].clone())
            .unwrap_or(Value::Null);
        for (i, step) in steps.iter().enumerate() {
            g.check(
                || format!("{} step {i}", s["scenario"]),
                (|| {
                    expect_eq("state before", &state, &step["recommended_state_before"])?;
                    state = model_decode(s, &step["token"], &state, &step["recommended_model"])?;
                    Ok(())
                })(),
            );
        }
    }
    g
}
