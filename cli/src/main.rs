//! `paylock`: issue and check PAYGO tokens from a shell, a batch pipe, or a vector file.

// Reading a `serde_json::Value` by key yields `Null` when absent and never panics; the only
// writes by key are on objects this tool has just built.
#![allow(clippy::indexing_slicing)]

extern crate alloc;

mod access;
mod demo;
mod json;
mod keys;
mod metrics;
mod nexus;
mod openpaygo;
mod secrets;
mod simulate;
mod vectors;

use core::num::NonZeroUsize;
use std::io;
use std::process::ExitCode;

use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::{CommandFactory, Parser, Subcommand};
use paylock_server::cli::{AdminArgs, ServeArgs, run_admin, run_serve};

/// Issue and verify pay-as-you-go unlock tokens.
#[derive(Debug, Parser)]
#[command(
    name = "paylock",
    version,
    about,
    after_help = "Secrets (keys, starting codes) are read from a file (--key-file PATH, \
                  --batch-key-file PATH, …) or an environment variable (PAYLOCK_KEY, \
                  PAYLOCK_BATCH_KEY, …). The flags taking them directly (--key HEX, …) are for \
                  tests: they show in `ps` and the shell history. Errors never print a value \
                  given, which may be a secret typed in the wrong place."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// OpenPAYGO Token: generate on the server, decode as a device would.
    #[command(subcommand)]
    Openpaygo(openpaygo::Command),
    /// Angaza Nexus keycodes: issue on the server, enter on a simulated device.
    #[command(subcommand)]
    Nexus(nexus::Command),
    /// AST v1 tokens: derive device keys, generate on the server, verify as a device would.
    #[command(subcommand)]
    Access(access::Command),
    /// OpenPAYGO Metrics: verify a device's report and answer it, as the CRM would.
    #[command(subcommand)]
    Metrics(metrics::Command),
    /// Fresh random keys from the operating system.
    #[command(subcommand)]
    Keys(keys::Command),
    /// JSON Lines on stdin, one JSON answer per line on stdout, never stopping on a bad line.
    Batch(BatchArgs),
    /// Published test vectors.
    #[command(subcommand)]
    Vectors(vectors::Command),
    /// Run a provisioned device of any scheme through timed events (entries, power off/on,
    /// power cuts mid-write) and print its timeline: why a code was or was not accepted.
    Simulate(simulate::Simulate),
    /// Provision a device, issue tokens after payments and enter them on a simulated device.
    Demo,
    /// Run the issuer service: device ledger, idempotent issuance, PaygOps and native HTTP APIs.
    Serve(ServeArgs),
    /// Maintenance on the service's database: API keys, device imports, the audit chain.
    Admin(AdminArgs),
}

/// A closed stdout (`paylock demo | head`) ends the tool quietly, as SIGPIPE does for C tools,
/// instead of a panic message from `println!`.
fn main() -> ExitCode {
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if !panic_message(info.payload()).is_some_and(is_broken_pipe) {
            default_hook(info);
        }
    }));
    std::panic::catch_unwind(run).unwrap_or_else(|payload| {
        if panic_message(payload.as_ref()).is_some_and(is_broken_pipe) {
            ExitCode::from(141)
        } else {
            ExitCode::from(101)
        }
    })
}

fn panic_message(payload: &(dyn core::any::Any + Send)) -> Option<&str> {
    payload
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| payload.downcast_ref::<&str>().copied())
}

fn is_broken_pipe(message: &str) -> bool {
    message.contains("Broken pipe")
}

fn run() -> ExitCode {
    let cli = Cli::try_parse().unwrap_or_else(|e| without_values(e).exit());
    let result = match cli.command {
        Command::Openpaygo(cmd) => openpaygo::run(cmd),
        Command::Nexus(cmd) => nexus::run(cmd),
        Command::Access(cmd) => access::run(cmd),
        Command::Metrics(cmd) => metrics::run(cmd),
        Command::Keys(cmd) => keys::run(cmd),
        Command::Batch(args) => batch(&args),
        Command::Vectors(cmd) => vectors::run(cmd),
        Command::Simulate(args) => simulate::run(&args),
        Command::Demo => demo::run(),
        Command::Serve(args) => return service(run_serve(args)),
        Command::Admin(args) => return service(run_admin(args)),
    };
    match result {
        Ok(code) => code,
        Err(message) => {
            eprintln!("paylock: {message}");
            ExitCode::from(2)
        }
    }
}

/// The service's exit: 1 when it fails (`admin audit verify` on an edited chain, a database
/// that cannot be opened), as its `--help` says.
fn service(result: Result<(), String>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("paylock: {message}");
            ExitCode::FAILURE
        }
    }
}

/// A command-line error without the text typed for a value, an argument or a subcommand: it
/// may be a key or a starting code given in the wrong place. Flags are still named.
fn without_values(mut e: clap::Error) -> clap::Error {
    const HIDDEN: &str = "<value not shown>";
    let hide = |e: &mut clap::Error, kind| {
        e.insert(kind, ContextValue::String(HIDDEN.to_owned()));
        e.remove(ContextKind::Suggested);
    };
    match e.kind() {
        ErrorKind::InvalidValue | ErrorKind::TooManyValues => {
            let empty = matches!(e.get(ContextKind::InvalidValue),
                Some(ContextValue::String(v)) if v.is_empty());
            if !empty {
                hide(&mut e, ContextKind::InvalidValue);
            }
        }
        ErrorKind::InvalidSubcommand => hide(&mut e, ContextKind::InvalidSubcommand),
        // A mistyped flag is not shown either (`--batch-kye=…`); clap's tip names the flag
        // meant.
        ErrorKind::UnknownArgument => {
            e.insert(
                ContextKind::InvalidArg,
                ContextValue::String(HIDDEN.to_owned()),
            );
        }
        ErrorKind::ValueValidation => {
            // The parser's own reason may quote the value: only a number parser's is kept.
            let arg = match e.get(ContextKind::InvalidArg) {
                Some(ContextValue::String(arg)) => arg.clone(),
                _ => "an argument".to_owned(),
            };
            let source = core::error::Error::source(&e);
            let why = source
                .and_then(|s| s.downcast_ref::<core::num::ParseIntError>())
                .map(ToString::to_string)
                .unwrap_or_else(|| "out of the range --help gives".to_owned());
            let message = format!("invalid value for '{arg}' ({HIDDEN}): {why}\n");
            return clap::Error::raw(ErrorKind::ValueValidation, message).with_cmd(&Cli::command());
        }
        _ => {}
    }
    e
}

/// `paylock batch`'s options.
#[derive(Debug, clap::Args)]
struct BatchArgs {
    /// Threads answering the lines that arrive together (default: one per core). The answers
    /// and their order do not depend on it.
    #[arg(long, env = "PAYLOCK_THREADS")]
    threads: Option<NonZeroUsize>,
}

fn batch(args: &BatchArgs) -> Result<ExitCode, String> {
    let stdin = io::stdin().lock();
    let stdout = io::stdout().lock();
    let threads = args
        .threads
        .unwrap_or_else(paylock_protocol::many::default_threads);
    paylock_protocol::batch::run_on(stdin, stdout, threads)
        .map_err(|e| format!("batch I/O: {e}"))?;
    Ok(ExitCode::SUCCESS)
}
