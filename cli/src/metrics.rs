//! `paylock metrics verify|respond`: a device's OpenPAYGO Metrics report checked (and
//! answered) as the CRM would, through the batch protocol's typed `metrics_verify` and
//! `metrics_respond` requests. The report is read from a file or stdin, the device's key from
//! its one source; a refused report exits 1 with the reason, which repeats no value.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Subcommand, ValueEnum};
use paylock::Key;
use paylock_protocol::metrics::{
    self, Call, CompatName, DataFormat, DialectName, MethodName, MetricsRespond, MetricsVerify,
    Reason,
};
use serde_json::{Map, Value};

use crate::{json, secrets};

/// The most bytes a report or a JSON file is read for (the batch protocol's line cap).
const MAX_INPUT: u64 = paylock_protocol::MAX_LINE as u64;

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Verify a report: authentic, newer than the last one, expanded with the data format.
    Verify(Verify),
    /// Verify a report and print the signed answer (tokens, credit time, settings).
    Respond(Respond),
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Compat {
    /// paylock's fixes (docs/openpaygo.md, "paylock decisions").
    Paylock,
    /// openpaygo 0.6.3 byte for byte.
    #[value(name = "openpaygo-0.6.3")]
    Openpaygo063,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Dialect {
    /// The specification's hash input.
    Standard,
    /// OpenPAYGO-HDK firmware, which hashes a trailing NUL.
    HdkTrailingNul,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Method {
    Sa,
    Ta,
    Ca,
    Da,
    Ra,
}

#[derive(Debug, Args)]
pub struct Verify {
    /// A file holding the report as the device sent it; `-` or absent: stdin.
    #[arg(long, value_name = "PATH")]
    report: Option<PathBuf>,
    /// A file holding the device's 16-byte key, 32 hex characters; or set PAYLOCK_KEY.
    #[arg(long, value_name = "PATH")]
    key_file: Option<PathBuf>,
    /// The key itself, for tests only: it shows in `ps` and the shell history.
    #[arg(long, value_name = "HEX")]
    key: Option<String>,
    /// A JSON file holding the device's data format (`data_order`, `historical_data_order`,
    /// `historical_data_interval`); without it, the one the report embeds (unsigned).
    #[arg(long, value_name = "PATH")]
    data_format: Option<PathBuf>,
    /// The count of the last report accepted from the device.
    #[arg(long)]
    last_request_count: Option<u64>,
    /// The timestamp of the last report accepted from the device.
    #[arg(long)]
    last_timestamp: Option<u64>,
    /// The server's clock at reception (Unix seconds), for rows of a report without a time.
    #[arg(long)]
    received_at: Option<i64>,
    /// Where paylock fixes openpaygo 0.6.3, whose behaviour to follow.
    #[arg(long, value_enum, default_value = "paylock")]
    compat: Compat,
    /// What the device's firmware hashes.
    #[arg(long, value_enum, default_value = "standard")]
    dialect: Dialect,
    /// The one auth method the device signs with, when known.
    #[arg(long, value_enum)]
    method: Option<Method>,
    /// Print the JSON answer of the batch protocol instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub struct Respond {
    #[command(flatten)]
    verify: Verify,
    /// The server's clock (Unix seconds), for the seconds of credit left.
    #[arg(long)]
    now: Option<i64>,
    /// A token for the device (repeat for several, oldest first).
    #[arg(long = "token", value_name = "TOKEN")]
    tokens: Vec<String>,
    /// Answer with an empty token list (the device learns no token is pending).
    #[arg(long, conflicts_with = "tokens")]
    no_tokens: bool,
    /// When the device's credit runs out (Unix seconds), for a report that asks for it.
    #[arg(long, value_name = "SECONDS", conflicts_with = "no_credit")]
    active_until: Option<i64>,
    /// The device has no credit (answers a time request with 0).
    #[arg(long)]
    no_credit: bool,
    /// A JSON file holding settings for the device (an object).
    #[arg(long, value_name = "PATH")]
    settings: Option<PathBuf>,
    /// A new server address for the device.
    #[arg(long, value_name = "URL")]
    base_url: Option<String>,
    /// A JSON file holding extra data for the device (an object).
    #[arg(long, value_name = "PATH")]
    extra_data: Option<PathBuf>,
    /// Leave the answer unsigned.
    #[arg(long)]
    unsigned: bool,
}

pub fn run(cmd: Command) -> Result<ExitCode, String> {
    match cmd {
        Command::Verify(v) => {
            let text = report(v.report.as_deref())?;
            let request = verify_request(&v, &text)?;
            let verified = metrics::verify(&request);
            if v.json {
                json::print(&verified)?;
            } else if let Some(report) = &verified.report {
                println!("valid:          yes");
                println!("serial_number:  {}", report.serial_number);
                println!("auth_method:    {}", report.auth_method.prefix());
                println!("timestamp:      {}", report.timestamp);
                println!("request_count:  {}", report.request_count);
                println!("metrics:        {}", report.metrics_json());
            }
            Ok(verdict(verified.reason.as_ref(), v.json))
        }
        Command::Respond(r) => {
            let text = report(r.verify.report.as_deref())?;
            let request = MetricsRespond {
                verify: verify_request(&r.verify, &text)?,
                now: r.now,
                calls: calls(&r)?,
                signed: Some(!r.unsigned),
            };
            let responded = metrics::respond(&request).map_err(|e| e.to_string())?;
            if r.verify.json {
                json::print(&responded)?;
            } else if let Some(text) = &responded.text {
                println!("{text}");
            }
            Ok(verdict(responded.reason.as_ref(), r.verify.json))
        }
    }
}

/// Exit 0 for a valid report; 1, with the reason on stderr unless printed as JSON, for a
/// refused one.
fn verdict(reason: Option<&Reason>, json: bool) -> ExitCode {
    let Some(reason) = reason else {
        return ExitCode::SUCCESS;
    };
    if !json {
        let field = reason.field.map_or(String::new(), |f| format!(" ({f})"));
        eprintln!(
            "paylock: report refused: {}{field}: {}",
            reason.kind, reason.message
        );
    }
    ExitCode::FAILURE
}

fn verify_request<'a>(v: &Verify, text: &'a str) -> Result<MetricsVerify<'a>, String> {
    let key = secrets::required_key(&secrets::KEY, v.key.as_deref(), v.key_file.as_deref())?;
    let key = Key::from_hex(&key).map_err(|e| e.to_string())?;
    let data_format = match &v.data_format {
        Some(path) => Some(json_file::<DataFormat>(
            path,
            "--data-format",
            "a data format",
        )?),
        None => None,
    };
    Ok(MetricsVerify {
        text: text.into(),
        key,
        data_format,
        last_request_count: v.last_request_count,
        last_timestamp: v.last_timestamp,
        received_at: v.received_at,
        compat: Some(match v.compat {
            Compat::Paylock => CompatName::Paylock,
            Compat::Openpaygo063 => CompatName::Openpaygo063,
        }),
        dialect: Some(match v.dialect {
            Dialect::Standard => DialectName::Standard,
            Dialect::HdkTrailingNul => DialectName::HdkTrailingNul,
        }),
        method: v.method.map(|m| match m {
            Method::Sa => MethodName::Sa,
            Method::Ta => MethodName::Ta,
            Method::Ca => MethodName::Ca,
            Method::Da => MethodName::Da,
            Method::Ra => MethodName::Ra,
        }),
    })
}

/// The answer's parts in 0.6.3's usual order: tokens, time, settings, base URL, extra data.
fn calls(r: &Respond) -> Result<Vec<Call>, String> {
    let mut calls = Vec::new();
    if !r.tokens.is_empty() || r.no_tokens {
        calls.push(Call::Tokens(
            r.tokens.iter().map(|t| Value::from(t.as_str())).collect(),
        ));
    }
    if r.active_until.is_some() || r.no_credit {
        calls.push(Call::Time(r.active_until));
    }
    if let Some(path) = &r.settings {
        calls.push(Call::Settings(json_file::<Map<String, Value>>(
            path,
            "--settings",
            "a JSON object",
        )?));
    }
    if let Some(url) = &r.base_url {
        calls.push(Call::BaseUrl(url.clone()));
    }
    if let Some(path) = &r.extra_data {
        calls.push(Call::ExtraData(json_file::<Map<String, Value>>(
            path,
            "--extra-data",
            "a JSON object",
        )?));
    }
    Ok(calls)
}

/// The report's text from `path`, or stdin for `-` or none.
fn report(path: Option<&Path>) -> Result<String, String> {
    match path {
        Some(p) if p != Path::new("-") => read(p, "--report"),
        _ => {
            let mut text = String::new();
            std::io::stdin()
                .take(MAX_INPUT + 1)
                .read_to_string(&mut text)
                .map_err(|e| format!("stdin: {e}"))?;
            bounded(text, "stdin")
        }
    }
}

fn read(path: &Path, flag: &str) -> Result<String, String> {
    let mut text = String::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_INPUT + 1).read_to_string(&mut text))
        .map_err(|e| format!("{flag} {}: {e}", path.display()))?;
    bounded(text, &format!("{flag} {}", path.display()))
}

fn bounded(text: String, origin: &str) -> Result<String, String> {
    if text.len() as u64 > MAX_INPUT {
        return Err(format!("{origin}: more than {MAX_INPUT} bytes"));
    }
    // A report ends where the device's text ends; a file's line end is not part of it.
    let trimmed = text.trim_end_matches(['\n', '\r']).len();
    let mut text = text;
    text.truncate(trimmed);
    Ok(text)
}

/// A JSON file read as `T`; the parser's words, which may quote the file, are not shown.
fn json_file<T: serde::de::DeserializeOwned>(
    path: &Path,
    flag: &str,
    what: &str,
) -> Result<T, String> {
    let text = read(path, flag)?;
    serde_json::from_str(&text).map_err(|e| {
        format!(
            "{flag} {}: not {what} (line {}, column {})",
            path.display(),
            e.line(),
            e.column()
        )
    })
}
