//! `paylock nexus generate|enter`: the batch requests, with flags a person can type.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand, ValueEnum};
use serde_json::{Map, Value, json};

use crate::secrets;

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Issue a keycode (server side).
    Generate(Box<Generate>),
    /// Enter a keycode on a simulated device (rate limiting off) and show what it did.
    Enter(Enter),
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Protocol {
    /// Keys 0-9, * and #; credit in hours.
    Full,
    /// Keys 1-5; credit in days.
    Small,
    /// Nexus Channel origin commands (full-protocol passthrough).
    Channel,
}

#[derive(Debug, Args)]
pub struct Generate {
    /// The keypad protocol.
    #[arg(long, value_enum, default_value = "full")]
    protocol: Protocol,
    /// The message type, as the vectors name it, in either case, `-` for `_`: add-credit,
    /// set-credit, unlock, wipe-state, demo, factory-allow-test, factory-oqc-test,
    /// extended-set-credit-wipe-restricted-flag, link-accessory-mode-3, …
    #[arg(long = "type", default_value = "add-credit")]
    message_type: String,
    /// A file holding the device's 16-byte key, 32 hex characters (a trailing newline is
    /// ignored; not for universal codes); or set PAYLOCK_KEY.
    #[arg(long, value_name = "PATH")]
    key_file: Option<PathBuf>,
    /// The key itself, for tests only: it shows in `ps` and the shell history.
    #[arg(long, value_name = "HEX")]
    key: Option<String>,
    /// The message ID (the device's next unused one).
    #[arg(long)]
    id: Option<u32>,
    /// Hours (full ADD / SET).
    #[arg(long)]
    hours: Option<u32>,
    /// Minutes (full DEMO, FACTORY_OQC_TEST).
    #[arg(long)]
    minutes: Option<u32>,
    /// Days (small ADD / SET / extended), or `unlock`.
    #[arg(long)]
    days: Option<String>,
    /// WIPE_STATE target: 0 credit, 1 credit and IDs, 2 IDs, 3 restricted flag.
    #[arg(long)]
    target: Option<u8>,
    /// The user-facing ID a NOMAC_DEVICE_ID_CONFIRMATION code carries.
    #[arg(long)]
    device_id: Option<u32>,
    /// Passthrough application ID (0-9).
    #[arg(long)]
    application_id: Option<u8>,
    /// Passthrough digits (full PASSTHROUGH_COMMAND).
    #[arg(long)]
    digits: Option<String>,
    /// 26 binary digits (small PASSTHROUGH).
    #[arg(long)]
    bits26: Option<String>,
    /// Channel: a file holding the controller's origin key, 32 hex characters; or set
    /// PAYLOCK_CONTROLLER_KEY.
    #[arg(long, value_name = "PATH")]
    controller_key_file: Option<PathBuf>,
    /// Channel: the controller key itself, for tests only (it shows in `ps`).
    #[arg(long, value_name = "HEX")]
    controller_key: Option<String>,
    /// Channel: the controller's origin command count.
    #[arg(long)]
    controller_count: Option<u32>,
    /// Channel: a file holding the accessory's key, 32 hex characters (link commands); or set
    /// PAYLOCK_ACCESSORY_KEY.
    #[arg(long, value_name = "PATH")]
    accessory_key_file: Option<PathBuf>,
    /// Channel: the accessory key itself, for tests only (it shows in `ps`).
    #[arg(long, value_name = "HEX")]
    accessory_key: Option<String>,
    /// Channel: the accessory's command count (link commands).
    #[arg(long)]
    accessory_count: Option<u32>,
    /// Channel: the accessory's Nexus ID in hex (unlink / unlock one accessory).
    #[arg(long)]
    nexus_id: Option<String>,
    /// Issue IDs above 65534 (only for devices not running nexus-embedded 2.0.1).
    #[arg(long)]
    allow_ids_above_65534: bool,
    /// Issue DEMO codes, which add credit every time they are entered (showroom and test
    /// devices only).
    #[arg(long)]
    allow_demo_codes: bool,
    /// Print the JSON answer of the batch protocol instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum DeviceProtocol {
    /// Keys 0-9, * and #.
    Full,
    /// Keys 1-5.
    Small,
}

#[derive(Debug, Args)]
pub struct Enter {
    /// The device's keypad protocol.
    #[arg(long, value_enum, default_value = "full")]
    protocol: DeviceProtocol,
    /// A file holding the device's 16-byte key, 32 hex characters (a trailing newline is
    /// ignored); or set PAYLOCK_KEY.
    #[arg(long, value_name = "PATH")]
    key_file: Option<PathBuf>,
    /// The key itself, for tests only: it shows in `ps` and the shell history.
    #[arg(long, value_name = "HEX")]
    key: Option<String>,
    /// The keys as typed (spaces are dropped, so the printed form works too).
    #[arg(long)]
    keys: String,
    /// The device state before, as the JSON `state` object of the batch `enter` op (a state
    /// this command printed works); default: a new device without credit.
    #[arg(long)]
    state_json: Option<String>,
    /// Print the JSON answer of the batch protocol instead of text.
    #[arg(long)]
    json: bool,
}

pub fn run(cmd: Command) -> Result<ExitCode, String> {
    let (request, json) = match cmd {
        Command::Generate(g) => (generate_request(&g)?, g.json),
        Command::Enter(e) => (enter_request(&e)?, e.json),
    };
    let answer = paylock_protocol::batch::handle(&request).map_err(|e| e.to_string())?;
    if json {
        println!("{answer}");
    } else {
        let v: Value = serde_json::from_str(&answer).map_err(|e| e.to_string())?;
        print_text(&v);
    }
    Ok(ExitCode::SUCCESS)
}

/// `add-credit` → `ADD_CREDIT`; channel types get their `CHANNEL_ORIGIN_` prefix.
fn message_type(protocol: Protocol, typed: &str) -> String {
    let name = typed.to_ascii_uppercase().replace('-', "_");
    match protocol {
        Protocol::Channel if !name.starts_with("CHANNEL_ORIGIN_") => {
            format!("CHANNEL_ORIGIN_{name}")
        }
        _ => name,
    }
}

fn generate_request(g: &Generate) -> Result<Value, String> {
    let protocol = match g.protocol {
        Protocol::Full => "full",
        Protocol::Small => "small",
        Protocol::Channel => "full/channel_origin",
    };
    let mut request = json!({
        "scheme": "nexus", "op": "generate", "protocol": protocol,
        "message_type": message_type(g.protocol, &g.message_type),
    });
    let key = |spec, arg: &Option<String>, file: &Option<PathBuf>| {
        secrets::key(spec, arg.as_deref(), file.as_deref())
    };
    let top = [
        (
            "secret_key_hex",
            json!(key(&secrets::KEY, &g.key, &g.key_file)?),
        ),
        ("message_id", json!(g.id)),
        (
            "controller_key_hex",
            json!(key(
                &secrets::CONTROLLER_KEY,
                &g.controller_key,
                &g.controller_key_file
            )?),
        ),
        (
            "accessory_key_hex",
            json!(key(
                &secrets::ACCESSORY_KEY,
                &g.accessory_key,
                &g.accessory_key_file
            )?),
        ),
    ];
    for (name, value) in top {
        if !value.is_null() {
            request[name] = value;
        }
    }
    if g.allow_ids_above_65534 {
        request["allow_ids_above_65534"] = json!(true);
    }
    if g.allow_demo_codes {
        request["allow_demo_codes"] = json!(true);
    }
    request["params"] = Value::Object(params(g));
    Ok(request)
}

fn params(g: &Generate) -> Map<String, Value> {
    let days = g.days.as_deref().map(|d| match d.parse::<u64>() {
        Ok(n) => json!(n),
        Err(_) => json!(d.to_ascii_uppercase()),
    });
    [
        ("hours", json!(g.hours)),
        ("minutes", json!(g.minutes)),
        ("days", json!(days)),
        ("target", json!(g.target)),
        ("device_id", json!(g.device_id)),
        ("application_id", json!(g.application_id)),
        ("passthrough_digits", json!(g.digits)),
        ("bits26", json!(g.bits26)),
        ("controller_command_count", json!(g.controller_count)),
        ("accessory_command_count", json!(g.accessory_count)),
        ("accessory_nexus_id", json!(g.nexus_id)),
    ]
    .into_iter()
    .filter(|(_, v)| !v.is_null())
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

fn enter_request(e: &Enter) -> Result<Value, String> {
    let state = match &e.state_json {
        Some(text) => serde_json::from_str(text).map_err(|err| format!("--state-json: {err}"))?,
        None => json!({
            "pd_index": 23, "received_flags": "000000", "credit_seconds": 0, "unlocked": false,
        }),
    };
    let protocol = match e.protocol {
        DeviceProtocol::Full => "full",
        DeviceProtocol::Small => "small",
    };
    let key = secrets::required_key(&secrets::KEY, e.key.as_deref(), e.key_file.as_deref())?;
    Ok(json!({
        "scheme": "nexus", "op": "enter", "protocol": protocol, "device_key_hex": key,
        "keycode_keys": e.keys.replace(' ', ""), "state": state,
    }))
}

fn print_text(v: &Value) {
    if let Some(keycode) = v["keycode"].as_str() {
        println!("keycode: {keycode}");
        println!("keys:    {}", v["keycode_keys"].as_str().unwrap_or("?"));
        return;
    }
    let list = |name: &str| -> String {
        let items: Vec<&str> = v[name]
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        if items.is_empty() {
            "-".to_owned()
        } else {
            items.join(" ")
        }
    };
    println!("response: {}", v["response"].as_str().unwrap_or("?"));
    println!("feedback: {}", list("feedback"));
    println!("calls:    {}", list("platform_calls"));
    println!("state:    {}", v["state"]);
}
