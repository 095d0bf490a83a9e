//! `paylock openpaygo generate|decode`: the batch requests, with flags a person can type; and
//! `paylock openpaygo factory-csv`, the factory's device list.

mod factory_csv;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand, ValueEnum};
use serde_json::{Value, json};

use crate::secrets;

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Generate the next token for a device.
    Generate(Generate),
    /// Decode a token as the device would, from a given device state.
    Decode(Decode),
    /// The factory's device list (serial, starting code, key, …): write one, or check one.
    #[command(subcommand)]
    FactoryCsv(factory_csv::Command),
}

#[derive(Debug, Args)]
struct Device {
    /// A file holding the device's 16-byte key, 32 hex characters (a trailing newline is
    /// ignored); or set PAYLOCK_KEY.
    #[arg(long, value_name = "PATH")]
    key_file: Option<PathBuf>,
    /// The key itself, for tests only: it shows in `ps` and the shell history.
    #[arg(long, value_name = "HEX")]
    key: Option<String>,
    /// A file holding the device's starting code (up to 9 digits); or set
    /// PAYLOCK_STARTING_CODE.
    #[arg(long, value_name = "PATH")]
    starting_code_file: Option<PathBuf>,
    /// The starting code itself, for tests only: it shows in `ps` and the shell history.
    #[arg(long, value_name = "DIGITS")]
    starting_code: Option<String>,
    /// Keypad with only the digits 1-4.
    #[arg(long)]
    restricted: bool,
    /// 12-digit extended tokens.
    #[arg(long)]
    extended: bool,
    /// Print the JSON answer of the batch protocol instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum TokenType {
    AddTime,
    SetTime,
    DisablePayg,
    CounterSync,
}

#[derive(Debug, Args)]
pub struct Generate {
    #[command(flatten)]
    device: Device,
    /// Count of the last token issued to the device.
    #[arg(long)]
    count: u32,
    /// What the token does.
    #[arg(long = "type", value_enum, default_value = "add-time")]
    token_type: TokenType,
    /// Raw value (days × time divider) for add-time / set-time.
    #[arg(long, conflicts_with = "days")]
    value: Option<u64>,
    /// Days, converted with --time-divider and rounded half to even like openpaygo.
    #[arg(long)]
    days: Option<f64>,
    /// The device's time divider (1-255), used with --days.
    #[arg(long, default_value_t = 1)]
    time_divider: u8,
}

#[derive(Debug, Args)]
pub struct Decode {
    #[command(flatten)]
    device: Device,
    /// The token as entered.
    #[arg(long)]
    token: String,
    /// The device's highest accepted count.
    #[arg(long, default_value_t = 0)]
    max_count: u32,
    /// The device's used-count bitmask.
    #[arg(long, default_value_t = 0)]
    used_counts: u16,
}

pub fn run(cmd: Command) -> Result<ExitCode, String> {
    let (request, json, device) = match cmd {
        Command::Generate(g) => (generate_request(&g)?, g.device.json, g.device),
        Command::Decode(d) => (decode_request(&d)?, d.device.json, d.device),
        Command::FactoryCsv(cmd) => return factory_csv::run(cmd),
    };
    let answer = paylock_protocol::batch::handle(&request).map_err(|e| e.to_string())?;
    if json {
        println!("{answer}");
    } else {
        let v: Value = serde_json::from_str(&answer).map_err(|e| e.to_string())?;
        print_text(&v, &device);
    }
    Ok(ExitCode::SUCCESS)
}

fn base(device: &Device, op: &str) -> Result<Value, String> {
    let key = secrets::required_key(
        &secrets::KEY,
        device.key.as_deref(),
        device.key_file.as_deref(),
    )?;
    let starting_code = secrets::starting_code(
        device.starting_code.as_deref(),
        device.starting_code_file.as_deref(),
    )?;
    Ok(json!({
        "scheme": "openpaygo", "op": op, "key": key, "starting_code": starting_code,
        "restricted_digit_set": device.restricted, "extended_token": device.extended,
    }))
}

fn generate_request(g: &Generate) -> Result<Value, String> {
    let mut request = base(&g.device, "generate")?;
    let (name, needs_value) = match g.token_type {
        TokenType::AddTime => ("ADD_TIME", true),
        TokenType::SetTime => ("SET_TIME", true),
        TokenType::DisablePayg => ("DISABLE_PAYG", false),
        TokenType::CounterSync => ("COUNTER_SYNC", false),
    };
    request["token_type"] = json!(name);
    request["count"] = json!(g.count);
    let value = match (g.value, g.days) {
        (Some(v), _) => Some(v),
        (None, Some(days)) => {
            let max = if g.device.extended { 999_999 } else { 995 };
            let raw = paylock::openpaygo::days_to_raw(days, g.time_divider, max)
                .map_err(|e| format!("--days: {e}"))?;
            Some(u64::from(raw))
        }
        (None, None) if needs_value => {
            return Err(format!("--value or --days is required for {name}"));
        }
        (None, None) => None,
    };
    if let Some(v) = value {
        request["value"] = json!(v);
    }
    Ok(request)
}

fn decode_request(d: &Decode) -> Result<Value, String> {
    let mut request = base(&d.device, "decode")?;
    request["token"] = json!(d.token);
    request["state"] = json!({ "max_count": d.max_count, "used_counts_bitmask": d.used_counts });
    Ok(request)
}

fn print_text(v: &Value, device: &Device) {
    if let Some(token) = v["token"].as_str() {
        let group = if device.restricted { 5 } else { 3 };
        println!("token:   {token}");
        println!("display: {}", group_digits(token, group));
        println!("count:   {}", v["count"]);
        return;
    }
    println!("status:  {}", v["status"].as_str().unwrap_or("?"));
    if v["status"] == "VALID" {
        println!("meaning: {}", v["meaning"].as_str().unwrap_or("?"));
        println!("value:   {}", v["value"]);
        println!("count:   {}", v["count"]);
    }
    let state = &v["state"];
    println!(
        "state:   max_count {} used_counts {}",
        state["max_count"], state["used_counts_bitmask"]
    );
}

/// Groups digits with spaces, as a token is read out or printed on a receipt.
pub fn group_digits(token: &str, group: usize) -> String {
    paylock::TokenText::from_ascii(token)
        .and_then(|t| t.grouped(group))
        .map_or_else(|_| token.to_owned(), |t| t.as_str().to_owned())
}
