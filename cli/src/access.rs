//! `paylock access derive-key|generate|verify`: the AST v1 batch protocol's typed requests, built
//! from flags a person can type, and its typed answers printed.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand, ValueEnum};
use paylock::Key;
use paylock_protocol::access::{
    self, AstTokenType, DeviceUnit, ModeName, ParamMap, ProfileName, Provisioned, VerdictRecord,
    VerifyState,
};
use paylock_protocol::{Error, ErrorKind};
use serde::Serialize;
use serde_json::Value;

use crate::{json, secrets};

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
    match cmd {
        Command::DeriveKey(d) => {
            let derived = access::derive_key(&derive_request(&d)?).map_err(|e| e.to_string())?;
            if d.json {
                json::print(&derived)?;
            } else {
                println!("device key: {}", derived.device_key_hex);
                if let Some(trace) = &derived.trace {
                    print_trace(trace)?;
                }
            }
        }
        Command::Generate(g) => {
            let generated = access::generate(&generate_request(&g)?).map_err(|e| e.to_string())?;
            if g.json {
                json::print(&generated)?;
            } else {
                println!("token:  {}", generated.text.as_str());
                println!("digits: {}", generated.digits.as_str());
                if let Some(trace) = &generated.trace {
                    print_trace(trace)?;
                }
            }
        }
        Command::Verify(v) => {
            let state = match &v.state_json {
                Some(text) => json::state(text)?,
                None => fresh_state(),
            };
            let verified =
                access::verify(&verify_request(&v, state)?).map_err(|e| e.to_string())?;
            if v.json {
                json::print(&verified)?;
            } else {
                print_verdict(&verified.result)?;
                println!("state:   {}", json::text(&verified.state)?);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// A profile name as typed, in any case.
fn profile(name: &str) -> Result<ProfileName, Error> {
    ProfileName::from_name(&name.to_ascii_uppercase())
        .ok_or_else(|| Error::not_one_of("profile", ProfileName::NAMES, ErrorKind::InvalidProfile))
}

fn derive_request(d: &DeriveKey) -> Result<access::DeriveKey, String> {
    let batch_key = secrets::required_key(
        &secrets::BATCH_KEY,
        d.batch_key.as_deref(),
        d.batch_key_file.as_deref(),
    )?;
    Ok(access::DeriveKey {
        suite: d.suite.into(),
        batch_key_hex: secrets::parse_key(&batch_key)?,
        device_id: d.device_id.into(),
        key_rev: d.key_rev.into(),
        trace: d.trace.then_some(true),
    })
}

impl Device {
    fn device_id(&self) -> Result<u32, String> {
        self.device_id
            .ok_or_else(|| "--device-id is required".to_owned())
    }

    /// The device key: given, or derived from the batch key through `derive_key`.
    fn key(&self) -> Result<Key, String> {
        let device_key = secrets::key(&secrets::KEY, self.key.as_deref(), self.key_file.as_deref());
        let batch_key = secrets::key(
            &secrets::BATCH_KEY,
            self.batch_key.as_deref(),
            self.batch_key_file.as_deref(),
        );
        let batch_key = match (device_key?, batch_key?) {
            (Some(key), None) => return secrets::parse_key(&key),
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
        let derived = access::derive_key(&access::DeriveKey {
            suite: self.suite.into(),
            batch_key_hex: secrets::parse_key(&batch_key)?,
            device_id: self.device_id()?.into(),
            key_rev: self.key_rev.into(),
            trace: None,
        })
        .map_err(|e| e.to_string())?;
        secrets::parse_key(&derived.device_key_hex)
    }
}

const fn token_type(t: TokenType) -> AstTokenType {
    match t {
        TokenType::AddCredit => AstTokenType::AddCredit,
        TokenType::SetCredit => AstTokenType::SetCredit,
        TokenType::UnlockPermanent => AstTokenType::UnlockPermanent,
        TokenType::CounterSync => AstTokenType::CounterSync,
        TokenType::SetParam => AstTokenType::SetParam,
        TokenType::Test => AstTokenType::Test,
    }
}

fn generate_request(g: &Generate) -> Result<access::Generate, String> {
    let d = &g.device;
    let mut r = access::Generate {
        suite: d.suite.into(),
        profile: profile(&d.profile).map_err(|e| e.to_string())?,
        token_type: token_type(g.token_type),
        device_key_hex: None,
        device_id: None,
        key_rev: None,
        counter: None,
        value: g.value.map(u64::from),
        param_id: g.param_id.map(u64::from),
        param_value: g.param_value.map(u64::from),
        test_id: g.test_id.map(u64::from),
        trace: g.trace.then_some(true),
    };
    // TEST codes are the same for every device: the device flags are not sent.
    if !matches!(g.token_type, TokenType::Test) {
        r.device_key_hex = Some(d.key()?);
        r.device_id = Some(d.device_id()?.into());
        r.key_rev = Some(d.key_rev.into());
        r.counter = Some(g.counter.ok_or("--counter is required")?);
    }
    Ok(r)
}

/// A new device's state.
fn fresh_state() -> VerifyState<'static> {
    VerifyState {
        max_counter: 0,
        used: "0".into(),
        mode: ModeName::Payg,
        credit: 0,
        params: ParamMap(Vec::new()),
        fails: 0,
        lock_until: 0,
        test_window_start: 0,
        test_count: 0,
    }
}

fn verify_request<'a>(v: &'a Verify, state: VerifyState<'a>) -> Result<access::Verify<'a>, String> {
    let d = &v.device;
    let unit = DeviceUnit::from_name(&v.unit).ok_or_else(|| {
        Error::not_one_of("unit", DeviceUnit::NAMES, ErrorKind::InvalidUnit)
            .within("config")
            .to_string()
    })?;
    Ok(access::Verify {
        config: Provisioned {
            suite: d.suite.into(),
            profile: profile(&d.profile).map_err(|e| e.within("config").to_string())?,
            device_id: d.device_id()?.into(),
            device_key: d.key()?,
            key_rev: d.key_rev.into(),
            unit: Some(unit),
        },
        state,
        input: v.token.as_str().into(),
        now: v.now,
    })
}

/// The intermediates of a derivation or a generation, one per line.
fn print_trace(trace: &impl Serialize) -> Result<(), String> {
    if let Value::Object(fields) = serde_json::to_value(trace).map_err(|e| e.to_string())? {
        for (name, value) in fields {
            println!("  {name}: {}", plain(&value));
        }
    }
    Ok(())
}

/// A value as a person reads it: strings without quotes, lists space-separated.
fn plain(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(plain).collect::<Vec<_>>().join(" "),
        other => other.to_string(),
    }
}

fn print_verdict(r: &VerdictRecord) -> Result<(), String> {
    match r.reason {
        Some(reason) => println!("status:  {} ({reason})", r.status),
        None => println!("status:  {}", r.status),
    }
    if let Some(kind) = r.token_type {
        let extra = [
            ("param_id", r.param_id.map(u32::from)),
            ("param_value", r.param_value.map(u32::from)),
            ("test_id", r.test_id.map(u32::from)),
        ]
        .iter()
        .filter_map(|(n, v)| v.map(|v| format!(", {n} {v}")))
        .collect::<String>();
        println!(
            "message: {kind} value {}{extra} (counter {})",
            shown(r.value),
            shown(r.counter)
        );
    }
    let detail = r.detail.as_ref().map(json::text).transpose()?;
    let diag = r.diag.as_ref().map(json::text).transpose()?;
    let lines = [
        ("detail", detail),
        ("diag", diag),
        ("lock_seconds", r.lock_seconds.map(|s| s.to_string())),
        ("retry_at", r.retry_at.map(|s| s.to_string())),
    ];
    for (name, value) in lines {
        if let Some(value) = value {
            println!("{:<8} {value}", format!("{name}:"));
        }
    }
    Ok(())
}

/// An optional number as the JSON answer shows it.
fn shown(n: Option<u32>) -> String {
    n.map_or_else(|| "null".to_owned(), |n| n.to_string())
}
