//! `paylock openpaygo generate|decode`: the batch protocol's typed requests, built from flags a
//! person can type, and its typed answers printed; and
//! `paylock openpaygo factory-csv`, the factory's device list.

mod factory_csv;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand, ValueEnum};
use paylock::Key;
use paylock_protocol::openpaygo::{self, DecodeState, Decoded};

use crate::{json, secrets};

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
    match cmd {
        Command::Generate(g) => {
            let generated =
                openpaygo::generate(&generate_request(&g)?).map_err(|e| e.to_string())?;
            if g.device.json {
                json::print(&generated)?;
            } else {
                let token = generated.token.as_str();
                let group = if g.device.restricted { 5 } else { 3 };
                println!("token:   {token}");
                println!("display: {}", group_digits(token, group));
                println!("count:   {}", generated.count);
            }
        }
        Command::Decode(d) => {
            let (key, starting_code) = secrets_of(&d.device)?;
            let request = openpaygo::Decode {
                key,
                starting_code,
                restricted_digit_set: d.device.restricted,
                extended_token: d.device.extended,
                token: d.token.as_str().into(),
                state: DecodeState {
                    max_count: d.max_count,
                    used_counts_bitmask: d.used_counts,
                },
                allow_sync_replays: None,
            };
            let decoded = openpaygo::decode(&request).map_err(|e| e.to_string())?;
            if d.device.json {
                json::print(&decoded)?;
            } else {
                print_decoded(&decoded);
            }
        }
        Command::FactoryCsv(cmd) => return factory_csv::run(cmd),
    }
    Ok(ExitCode::SUCCESS)
}

/// The device's key and starting code, each from its one source.
fn secrets_of(device: &Device) -> Result<(Key, u64), String> {
    let key = secrets::required_key(
        &secrets::KEY,
        device.key.as_deref(),
        device.key_file.as_deref(),
    )?;
    let key = Key::from_hex(&key).map_err(|e| e.to_string())?;
    let starting_code = secrets::starting_code(
        device.starting_code.as_deref(),
        device.starting_code_file.as_deref(),
    )?;
    Ok((key, starting_code.into()))
}

fn generate_request(g: &Generate) -> Result<openpaygo::Generate, String> {
    let (key, starting_code) = secrets_of(&g.device)?;
    let (token_type, name, needs_value) = match g.token_type {
        TokenType::AddTime => (openpaygo::TokenType::AddTime, "ADD_TIME", true),
        TokenType::SetTime => (openpaygo::TokenType::SetTime, "SET_TIME", true),
        TokenType::DisablePayg => (openpaygo::TokenType::DisablePayg, "DISABLE_PAYG", false),
        TokenType::CounterSync => (openpaygo::TokenType::CounterSync, "COUNTER_SYNC", false),
    };
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
    Ok(openpaygo::Generate {
        key,
        starting_code,
        restricted_digit_set: g.device.restricted,
        extended_token: g.device.extended,
        count: g.count,
        token_type,
        value,
    })
}

fn print_decoded(d: &Decoded) {
    println!("status:  {}", d.status);
    if let (Some(meaning), Some(value), Some(count)) = (d.meaning, d.value, d.count) {
        println!("meaning: {meaning}");
        println!("value:   {value}");
        println!("count:   {count}");
    }
    println!(
        "state:   max_count {} used_counts {}",
        d.state.max_count, d.state.used_counts_bitmask
    );
}

/// Groups digits with spaces, as a token is read out or printed on a receipt.
pub fn group_digits(token: &str, group: usize) -> String {
    paylock::TokenText::from_ascii(token)
        .and_then(|t| t.grouped(group))
        .map_or_else(|_| token.to_owned(), |t| t.as_str().to_owned())
}
