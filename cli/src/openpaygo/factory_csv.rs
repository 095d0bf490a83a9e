//! `paylock openpaygo factory-csv new|check`: the device list a factory hands the server, in
//! the column layout of OpenPAYGO-Token's `documentation/examples/example_device_list.csv`.
//!
//! Files are plain CSV: comma-separated, fields quoted with `"` when they hold a comma or a
//! quote (`""` inside), lines ending in CRLF as in the published example (LF is read too).
//!
//! `check` names each problem by line and column and never prints a cell: a row in the wrong
//! place (a header-less file, swapped columns) would print keys and starting codes.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Subcommand};
use paylock::Key;
use paylock::openpaygo::{COUNT_CEILING, MAX_STARTING_CODE};

use crate::keys;

/// The header, column for column.
pub const HEADER: [&str; 9] = [
    "Serial Number",
    "Starting Code",
    "Key",
    "Count",
    "Time Divider",
    "Restricted Digit Mode",
    "Hardware Model",
    "Version",
    "Test Code",
];

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write a device list with fresh random keys and starting codes (1-999999999).
    New(New),
    /// Check every row of a device list; prints each problem with its line and exits 1 on any.
    Check {
        /// The CSV file.
        file: PathBuf,
    },
}

#[derive(Debug, Args)]
pub struct New {
    /// How many devices.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    count: u32,
    /// Serial numbers are this prefix and a 5-digit sequence number (SLT2200 → SLT220000001).
    #[arg(long)]
    serial_prefix: String,
    /// The first sequence number.
    #[arg(long, default_value_t = 1)]
    serial_start: u32,
    /// The devices' time divider (1-255).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u8).range(1..))]
    time_divider: u8,
    /// Keypads with only the digits 1-4.
    #[arg(long)]
    restricted: bool,
    /// The Count column: the devices' count when they leave the factory.
    #[arg(long, default_value_t = 1)]
    count_start: u32,
    /// The Hardware Model column.
    #[arg(long, default_value = "")]
    hardware_model: String,
    /// The Version column.
    #[arg(long, default_value = "")]
    version: String,
    /// Write to this new file (never overwritten; owner-only on Unix) instead of stdout.
    #[arg(long, short)]
    output: Option<PathBuf>,
}

pub fn run(cmd: Command) -> Result<ExitCode, String> {
    match cmd {
        Command::New(n) => new(&n),
        Command::Check { file } => check_file(&file),
    }
}

fn new(n: &New) -> Result<ExitCode, String> {
    if n.count_start >= COUNT_CEILING {
        return Err(format!(
            "--count-start must be below the count ceiling {COUNT_CEILING}"
        ));
    }
    let mut text = line(&HEADER);
    for i in 0..n.count {
        let number = n
            .serial_start
            .checked_add(i)
            .ok_or("serial numbers overflow")?;
        let row = [
            format!("{}{number:05}", n.serial_prefix),
            keys::random_in(MAX_STARTING_CODE)?.to_string(),
            keys::new_key_hex()?,
            n.count_start.to_string(),
            n.time_divider.to_string(),
            u8::from(n.restricted).to_string(),
            n.hardware_model.clone(),
            n.version.clone(),
            String::new(),
        ];
        text.push_str(&line(&row));
    }
    match &n.output {
        Some(path) => create_new(path)?
            .write_all(text.as_bytes())
            .map_err(|e| format!("{}: {e}", path.display()))?,
        None => io::stdout()
            .lock()
            .write_all(text.as_bytes())
            .map_err(|e| format!("stdout: {e}"))?,
    }
    Ok(ExitCode::SUCCESS)
}

/// A new file only the owner can read: it holds device keys.
fn create_new(path: &Path) -> Result<File, String> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path).map_err(|e| match e.kind() {
        io::ErrorKind::AlreadyExists => format!(
            "{} exists: factory-csv new never overwrites a file (it holds device keys)",
            path.display()
        ),
        _ => format!("{}: {e}", path.display()),
    })
}

/// One CSV line with its CRLF, quoting fields that need it.
fn line<S: AsRef<str>>(fields: &[S]) -> String {
    let mut out = String::new();
    for (i, field) in fields.iter().enumerate() {
        let field = field.as_ref();
        if i > 0 {
            out.push(',');
        }
        if field.contains([',', '"', '\r', '\n']) {
            out.push('"');
            out.push_str(&field.replace('"', "\"\""));
            out.push('"');
        } else {
            out.push_str(field);
        }
    }
    out.push_str("\r\n");
    out
}

/// The fields of one line (without its line end).
fn split(line: &str) -> Result<Vec<String>, String> {
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut chars = line.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (false, '"') if field.is_empty() => quoted = true,
            (false, ',') => fields.push(core::mem::take(&mut field)),
            _ => field.push(c),
        }
    }
    if quoted {
        return Err("a quoted field is not closed".to_owned());
    }
    fields.push(field);
    Ok(fields)
}

/// What a check found: devices read and one message per problem.
#[derive(Debug, Default)]
pub struct Report {
    pub devices: usize,
    pub problems: Vec<String>,
}

fn check_file(file: &Path) -> Result<ExitCode, String> {
    let text = std::fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))?;
    let report = check(&text);
    for problem in &report.problems {
        println!("{}: {problem}", file.display());
    }
    let rows = if report.devices == 1 { "row" } else { "rows" };
    if report.problems.is_empty() {
        println!(
            "OK {}: {} device {rows}, every row valid",
            file.display(),
            report.devices
        );
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "FAIL {}: {} device {rows}, {} problems",
        file.display(),
        report.devices,
        report.problems.len()
    );
    Ok(ExitCode::FAILURE)
}

/// Checks a whole device list: the header, every row, and that no serial number or key repeats.
pub fn check(text: &str) -> Report {
    let mut report = Report::default();
    let mut lines = text
        .strip_prefix('\u{feff}')
        .unwrap_or(text)
        .lines()
        .zip(1..)
        .filter(|(l, _)| !l.trim().is_empty());
    match lines.next() {
        Some((header, n)) => {
            if let Err(why) = check_header(header) {
                report.problems.push(format!("line {n}: {why}"));
                return report;
            }
        }
        None => {
            report.problems.push("the file is empty".to_owned());
            return report;
        }
    }
    let mut seen = Seen::default();
    for (text, n) in lines {
        report.devices += 1;
        for why in check_row(text, n, &mut seen) {
            report.problems.push(format!("line {n}: {why}"));
        }
    }
    if report.devices == 0 {
        report.problems.push("no device rows".to_owned());
    }
    report
}

fn check_header(line: &str) -> Result<(), String> {
    let fields = split(line)?;
    let names: Vec<&str> = fields.iter().map(|f| f.trim()).collect();
    if names == HEADER {
        return Ok(());
    }
    let differs = match names
        .iter()
        .zip(HEADER)
        .position(|(found, want)| *found != want)
    {
        Some(at) => format!(
            "column {} is not {:?}",
            at + 1,
            HEADER.get(at).unwrap_or(&"")
        ),
        None => format!("it has {} columns, not {}", names.len(), HEADER.len()),
    };
    Err(format!(
        "the first line must be the header {}; {differs} (cells are not printed: they may \
         hold keys)",
        HEADER.join(","),
    ))
}

/// Serial numbers and keys met so far, with their lines.
#[derive(Debug, Default)]
struct Seen {
    serials: HashMap<String, usize>,
    keys: HashMap<String, usize>,
}

/// The line `value` first appeared on, recording it at `line` if it is new.
fn first_line(map: &mut HashMap<String, usize>, value: &str, line: usize) -> Option<usize> {
    match map.get(value) {
        Some(&first) => Some(first),
        None => {
            map.insert(value.to_owned(), line);
            None
        }
    }
}

/// Every problem of one device row.
fn check_row(line: &str, n: usize, seen: &mut Seen) -> Vec<String> {
    let fields = match split(line) {
        Ok(f) if f.len() == HEADER.len() => f,
        Ok(f) => {
            return vec![format!(
                "has {} fields, a row has {} (the last, Test Code, may be empty)",
                f.len(),
                HEADER.len()
            )];
        }
        Err(why) => return vec![why],
    };
    let cell = |i: usize| fields.get(i).map_or("", |f| f.trim());
    let mut problems: Vec<String> = [
        serial(cell(0)),
        number(cell(1), 0, MAX_STARTING_CODE.into()),
        key(cell(2)),
        number(cell(3), 0, u64::from(COUNT_CEILING) - 1),
        number(cell(4), 1, 255),
        number(cell(5), 0, 1),
    ]
    .into_iter()
    .zip(HEADER)
    .filter_map(|(result, column)| result.err().map(|why| format!("{column}: {why}")))
    .collect();
    if !cell(0).is_empty()
        && let Some(first) = first_line(&mut seen.serials, cell(0), n)
    {
        problems.push(format!("Serial Number: the same as line {first}"));
    }
    if key(cell(2)).is_ok()
        && let Some(first) = first_line(&mut seen.keys, &cell(2).to_ascii_lowercase(), n)
    {
        problems.push(format!("Key: the same key as line {first}"));
    }
    problems
}

fn serial(text: &str) -> Result<(), String> {
    if text.is_empty() {
        Err("is empty".to_owned())
    } else {
        Ok(())
    }
}

/// A decimal integer in `min..=max`.
fn number(text: &str, min: u64, max: u64) -> Result<(), String> {
    let digits = !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit());
    match text.parse::<u64>() {
        Ok(v) if digits && (min..=max).contains(&v) => Ok(()),
        _ if digits => Err(format!("is outside {min}-{max}")),
        _ => Err(format!("is not a whole number {min}-{max}")),
    }
}

fn key(text: &str) -> Result<(), String> {
    Key::from_hex(text).map(drop).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_fields_round_trip() {
        let fields = ["a,b", "say \"hi\"", "", "plain"];
        let text = line(&fields);
        assert_eq!(text, "\"a,b\",\"say \"\"hi\"\"\",,plain\r\n");
        assert_eq!(
            split(text.trim_end()),
            Ok(fields.map(String::from).to_vec())
        );
        assert!(split("\"open").is_err());
    }

    #[test]
    fn every_bad_cell_is_named() {
        let rows = [
            "A1,1000000000,00,1,0,2,,,",
            ",5,000102030405060708090a0b0c0d0e0f,x,1,1,,,",
            "A1,5,000102030405060708090A0B0C0D0E0F,+1,1,1,,,",
        ];
        let text = format!("{}\n{}\n", HEADER.join(","), rows.join("\n"));
        let report = check(&text);
        assert_eq!(report.devices, 3);
        let all = report.problems.join("\n");
        for needle in [
            "line 2: Starting Code: is outside 0-999999999",
            "line 2: Key: a key is 32 hex characters",
            "line 2: Time Divider: is outside 1-255",
            "line 2: Restricted Digit Mode: is outside 0-1",
            "line 3: Serial Number: is empty",
            "line 3: Count: is not a whole number",
            "line 4: Count: is not a whole number",
            "line 4: Serial Number: the same as line 2",
            "line 4: Key: the same key as line 3",
        ] {
            assert!(all.contains(needle), "{needle:?} not in\n{all}");
        }
        for cell in ["1000000000", "\"x\"", "+1", "A1"] {
            assert!(!all.contains(cell), "{cell} printed in\n{all}");
        }
    }
}
