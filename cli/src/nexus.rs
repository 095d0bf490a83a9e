//! `paylock nexus generate|enter`: the batch protocol's typed requests, built from flags a person
//! can type, and its typed answers printed.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand, ValueEnum};
use paylock_protocol::Error;
use paylock_protocol::nexus::{
    self, Days, DeviceProtocol as Keypad, EnterState, Entered, GenerateProtocol, Params,
};

use crate::{json, secrets};

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
    match cmd {
        Command::Generate(g) => {
            let message_type = message_type(g.protocol, &g.message_type);
            let request = generate_request(&g, &message_type)?;
            let generated = nexus::generate(&request).map_err(|e| e.to_string())?;
            if g.json {
                json::print(&generated)?;
            } else {
                println!("keycode: {}", generated.keycode.as_str());
                println!("keys:    {}", generated.keycode_keys.as_str());
            }
        }
        Command::Enter(e) => {
            let keys = e.keys.replace(' ', "");
            let state = match &e.state_json {
                Some(text) => json::state(text)?,
                None => fresh_state(),
            };
            let request = nexus::Enter {
                protocol: match e.protocol {
                    DeviceProtocol::Full => Keypad::Full,
                    DeviceProtocol::Small => Keypad::Small,
                },
                device_key_hex: secrets::parse_key(&secrets::required_key(
                    &secrets::KEY,
                    e.key.as_deref(),
                    e.key_file.as_deref(),
                )?)?,
                keycode_keys: keys.as_str().into(),
                state,
            };
            let entered = nexus::enter(&request).map_err(|e| e.to_string())?;
            if e.json {
                json::print(&entered)?;
            } else {
                print_entered(&entered)?;
            }
        }
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

fn generate_request<'a>(
    g: &'a Generate,
    message_type: &'a str,
) -> Result<nexus::Generate<'a>, String> {
    let key = |spec, arg: &Option<String>, file: &Option<PathBuf>| {
        secrets::key(spec, arg.as_deref(), file.as_deref())?
            .map(|hex| secrets::parse_key(&hex))
            .transpose()
    };
    Ok(nexus::Generate {
        protocol: match g.protocol {
            Protocol::Full => GenerateProtocol::Full,
            Protocol::Small => GenerateProtocol::Small,
            Protocol::Channel => GenerateProtocol::ChannelOrigin,
        },
        message_type: message_type.into(),
        secret_key_hex: key(&secrets::KEY, &g.key, &g.key_file)?,
        message_id: g.id,
        controller_key_hex: key(
            &secrets::CONTROLLER_KEY,
            &g.controller_key,
            &g.controller_key_file,
        )?,
        accessory_key_hex: key(
            &secrets::ACCESSORY_KEY,
            &g.accessory_key,
            &g.accessory_key_file,
        )?,
        allow_ids_above_65534: g.allow_ids_above_65534.then_some(true),
        allow_demo_codes: g.allow_demo_codes.then_some(true),
        params: Some(params(g)?),
    })
}

fn params(g: &Generate) -> Result<Params<'_>, String> {
    let days = match g.days.as_deref() {
        None => None,
        Some(d) => Some(match d.parse::<u64>() {
            Ok(n) => Days::Days(n),
            Err(_) if d.eq_ignore_ascii_case("UNLOCK") => Days::Unlock,
            Err(_) => {
                return Err(
                    Error::wrong_type("params.days", "an integer or \"UNLOCK\"").to_string()
                );
            }
        }),
    };
    Ok(Params {
        hours: g.hours,
        minutes: g.minutes,
        days,
        target: g.target.map(u32::from),
        flags: None,
        device_id: g.device_id,
        application_id: g.application_id.map(u32::from),
        passthrough_digits: g.digits.as_deref().map(Into::into),
        bits26: g.bits26.as_deref().map(Into::into),
        prefix: None,
        key_dict: None,
        increment_id: None,
        function: None,
        controller_command_count: g.controller_count,
        accessory_command_count: g.accessory_count,
        accessory_nexus_id: g.nexus_id.as_deref().map(Into::into),
        controller_action: None,
    })
}

/// A new device without credit.
fn fresh_state() -> EnterState<'static> {
    EnterState {
        pd_index: 23,
        received_flags: "000000".into(),
        credit_seconds: 0,
        unlocked: false,
        qc_short_count: None,
        qc_long_count: None,
        restricted_flag: None,
        payg_state: None,
        user_facing_id: None,
        qc_short_max: None,
        qc_long_max: None,
    }
}

fn print_entered(e: &Entered) -> Result<(), String> {
    let list = |items: Vec<&str>| -> String {
        if items.is_empty() {
            "-".to_owned()
        } else {
            items.join(" ")
        }
    };
    println!("response: {}", e.response);
    println!("feedback: {}", list(e.feedback.clone()));
    println!(
        "calls:    {}",
        list(e.platform_calls.iter().map(String::as_str).collect())
    );
    println!("state:    {}", json::text(&e.state)?);
    Ok(())
}
