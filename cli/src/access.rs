//! `paylock access derive-key|generate|verify`: the AST v1 batch requests, with flags a person
//! can type.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand, ValueEnum};
use serde_json::{Value, json};

use crate::secrets;

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Derive a device key from a batch key, as the factory does.
    DeriveKey(DeriveKey),
    /// Generate a token (server side).
    Generate(Generate),
    /// Verify a token as the device would, from a given device state.
    Verify(Verify),
}

#[derive(Debug, Args)]
pub struct DeriveKey {
    /// The PRF suite: 0 AES-128-CMAC, 1 HMAC-SHA-256, 2 SipHash-2-4.
    #[arg(long)]
    suite: u8,
    /// A file holding the batch key, 32 hex characters (a trailing newline is ignored); or
    /// set PAYLOCK_BATCH_KEY.
    #[arg(long, value_name = "PATH")]
    batch_key_file: Option<PathBuf>,
    /// The batch key itself, for tests only: it shows in `ps` and the shell history.
    #[arg(long, value_name = "HEX")]
    batch_key: Option<String>,
    /// The device id.
    #[arg(long)]
    device_id: u32,
    /// The key revision (0-255).
    #[arg(long, default_value_t = 0)]
    key_rev: u8,
    /// Also print the KDF blocks.
    #[arg(long)]
    trace: bool,
    /// Print the JSON answer of the batch protocol instead of text.
    #[arg(long)]
    json: bool,
}

/// The provisioned device, as both server and device know it.
#[derive(Debug, Args)]
struct Device {
    /// The PRF suite: 0 AES-128-CMAC, 1 HMAC-SHA-256, 2 SipHash-2-4.
    #[arg(long)]
    suite: u8,
    /// The token profile: L (20 digits), M (15 digits) or S (20 digits 1-4).
    #[arg(long, default_value = "L")]
    profile: String,
    /// A file holding the device key, 32 hex characters (a trailing newline is ignored); or
    /// set PAYLOCK_KEY.
    #[arg(long, value_name = "PATH")]
    key_file: Option<PathBuf>,
    /// The device key itself, for tests only: it shows in `ps` and the shell history.
    #[arg(long, value_name = "HEX")]
    key: Option<String>,
    /// A file holding the batch key to derive the device key from, 32 hex characters; or set
    /// PAYLOCK_BATCH_KEY.
    #[arg(long, value_name = "PATH")]
    batch_key_file: Option<PathBuf>,
    /// The batch key itself, for tests only: it shows in `ps` and the shell history.
    #[arg(long, value_name = "HEX")]
    batch_key: Option<String>,
    /// The device id.
    #[arg(long)]
    device_id: Option<u32>,
    /// The key revision (0-255).
    #[arg(long, default_value_t = 0)]
    key_rev: u8,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum TokenType {
    AddCredit,
    SetCredit,
    #[value(alias = "unlock")]
    UnlockPermanent,
    CounterSync,
    SetParam,
    Test,
}

#[derive(Debug, Args)]
pub struct Generate {
    #[command(flatten)]
    device: Device,
    /// What the token does.
    #[arg(long = "type", value_enum, default_value = "add-credit")]
    token_type: TokenType,
    /// The counter: 1 for a device's first token, one more for each token after.
    #[arg(long)]
    counter: Option<u32>,
    /// Credit in the device's unit (add-credit, set-credit), or the packed SET_PARAM value.
    #[arg(long)]
    value: Option<u32>,
    /// The parameter (set-param): 0 low-credit warning, 1 max load, 2 clear tamper, 8-15 vendor.
    #[arg(long)]
    param_id: Option<u8>,
    /// The parameter's payload (set-param).
    #[arg(long)]
    param_value: Option<u32>,
    /// The test (test codes): 0 show info, 1 output test.
    #[arg(long)]
    test_id: Option<u32>,
    /// Also print every intermediate (MAC input, tag, whitening, frame).
    #[arg(long)]
    trace: bool,
    /// Print the JSON answer of the batch protocol instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub struct Verify {
    #[command(flatten)]
    device: Device,
    /// The unit of credit values: hours or days.
    #[arg(long, default_value = "hours")]
    unit: String,
    /// The token as entered (spaces and dashes are ignored).
    #[arg(long)]
    token: String,
    /// The device's clock, in seconds (it times the lockout and the TEST quota).
    #[arg(long, default_value_t = 0)]
    now: u32,
    /// The device state before, as the JSON `state` object of the batch `verify` op (a state
    /// this command printed works); default: a new device.
    #[arg(long)]
    state_json: Option<String>,
    /// Print the JSON answer of the batch protocol instead of text.
    #[arg(long)]
    json: bool,
}

pub fn run(cmd: Command) -> Result<ExitCode, String> {
    let (answer, json) = match cmd {
        Command::DeriveKey(d) => (ask(&derive_request(&d)?)?, d.json),
        Command::Generate(g) => (ask(&generate_request(&g)?)?, g.json),
        Command::Verify(v) => (ask(&verify_request(&v)?)?, v.json),
    };
    if json {
        println!("{answer}");
    } else {
        print_text(&answer);
    }
    Ok(ExitCode::SUCCESS)
}

/// Sends a batch request; a refusal becomes the command's error.
fn ask(request: &Value) -> Result<Value, String> {
    let answer = paylock_protocol::batch::handle(request).map_err(|e| e.to_string())?;
    serde_json::from_str(&answer).map_err(|e| e.to_string())
}

fn derive_request(d: &DeriveKey) -> Result<Value, String> {
    let batch_key = secrets::required_key(
        &secrets::BATCH_KEY,
        d.batch_key.as_deref(),
        d.batch_key_file.as_deref(),
    )?;
    let mut r = json!({
        "scheme": "access", "op": "derive_key", "suite": d.suite, "batch_key_hex": batch_key,
        "device_id": d.device_id, "key_rev": d.key_rev,
    });
    if d.trace {
        r["trace"] = json!(true);
    }
    Ok(r)
}

impl Device {
    fn device_id(&self) -> Result<u32, String> {
        self.device_id
            .ok_or_else(|| "--device-id is required".to_owned())
    }

    /// The device key: given, or derived from the batch key through `derive_key`.
    fn key(&self) -> Result<String, String> {
        let device_key = secrets::key(&secrets::KEY, self.key.as_deref(), self.key_file.as_deref());
        let batch_key = secrets::key(
            &secrets::BATCH_KEY,
            self.batch_key.as_deref(),
            self.batch_key_file.as_deref(),
        );
        let batch_key = match (device_key?, batch_key?) {
            (Some(key), None) => return Ok(key),
            (None, Some(batch_key)) => batch_key,
            (Some(_), Some(_)) => {
                return Err(
                    "the device key and the batch key exclude each other: give one \
                            (--key-file, PAYLOCK_KEY or --key; --batch-key-file, \
                            PAYLOCK_BATCH_KEY or --batch-key)"
                        .to_owned(),
                );
            }
            (None, None) => {
                return Err(
                    "the device key or the batch key is required: give --key-file \
                            PATH or PAYLOCK_KEY, or --batch-key-file PATH or PAYLOCK_BATCH_KEY \
                            (--key and --batch-key are for tests: they show in ps)"
                        .to_owned(),
                );
            }
        };
        let answer = ask(&json!({
            "scheme": "access", "op": "derive_key", "suite": self.suite,
            "batch_key_hex": batch_key, "device_id": self.device_id()?, "key_rev": self.key_rev,
        }))?;
        Ok(answer["device_key_hex"]
            .as_str()
            .unwrap_or_default()
            .to_owned())
    }
}

fn type_name(t: TokenType) -> &'static str {
    match t {
        TokenType::AddCredit => "ADD_CREDIT",
        TokenType::SetCredit => "SET_CREDIT",
        TokenType::UnlockPermanent => "UNLOCK_PERMANENT",
        TokenType::CounterSync => "COUNTER_SYNC",
        TokenType::SetParam => "SET_PARAM",
        TokenType::Test => "TEST",
    }
}

fn generate_request(g: &Generate) -> Result<Value, String> {
    let d = &g.device;
    let mut r = json!({
        "scheme": "access", "op": "generate", "suite": d.suite,
        "profile": d.profile.to_ascii_uppercase(), "type": type_name(g.token_type),
    });
    // TEST codes are the same for every device: the device flags are not sent.
    if !matches!(g.token_type, TokenType::Test) {
        r["device_key_hex"] = json!(d.key()?);
        r["device_id"] = json!(d.device_id()?);
        r["key_rev"] = json!(d.key_rev);
        r["counter"] = json!(g.counter.ok_or("--counter is required")?);
    }
    let optional = [
        ("value", g.value),
        ("param_id", g.param_id.map(u32::from)),
        ("param_value", g.param_value),
        ("test_id", g.test_id),
    ];
    for (name, value) in optional {
        if let Some(v) = value {
            r[name] = json!(v);
        }
    }
    if g.trace {
        r["trace"] = json!(true);
    }
    Ok(r)
}

/// A new device's state.
fn fresh_state() -> Value {
    json!({
        "max_counter": 0, "used": "0", "mode": "PAYG", "credit": 0, "params": {}, "fails": 0,
        "lock_until": 0, "test_window_start": 0, "test_count": 0,
    })
}

fn verify_request(v: &Verify) -> Result<Value, String> {
    let d = &v.device;
    let state = match &v.state_json {
        Some(text) => serde_json::from_str(text).map_err(|e| format!("--state-json: {e}"))?,
        None => fresh_state(),
    };
    Ok(json!({
        "scheme": "access", "op": "verify",
        "config": {
            "suite": d.suite, "profile": d.profile.to_ascii_uppercase(),
            "device_id": d.device_id()?, "device_key": d.key()?, "key_rev": d.key_rev,
            "unit": v.unit,
        },
        "state": state, "input": v.token, "now": v.now,
    }))
}

fn print_text(v: &Value) {
    if let Some(key) = v["device_key_hex"].as_str() {
        println!("device key: {key}");
    } else if let Some(text) = v["text"].as_str() {
        println!("token:  {text}");
        println!("digits: {}", v["digits"].as_str().unwrap_or("?"));
    } else {
        print_verdict(&v["result"]);
        println!("state:   {}", v["state"]);
    }
    if let Some(trace) = v["trace"].as_object() {
        for (name, value) in trace {
            println!("  {name}: {}", plain(value));
        }
    }
}

/// A value as a person reads it: strings without quotes, lists space-separated.
fn plain(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(plain).collect::<Vec<_>>().join(" "),
        other => other.to_string(),
    }
}

fn print_verdict(r: &Value) {
    match r["reason"].as_str() {
        Some(reason) => println!("status:  {} ({reason})", plain(&r["status"])),
        None => println!("status:  {}", plain(&r["status"])),
    }
    if let Some(kind) = r["type"].as_str() {
        let extra = ["param_id", "param_value", "test_id"]
            .iter()
            .filter(|n| r.get(**n).is_some())
            .map(|n| format!(", {n} {}", r[*n]))
            .collect::<String>();
        println!(
            "message: {kind} value {}{extra} (counter {})",
            r["value"], r["counter"]
        );
    }
    for name in ["detail", "diag", "lock_seconds", "retry_at"] {
        if let Some(value) = r.get(name) {
            println!("{:<8} {value}", format!("{name}:"));
        }
    }
}
