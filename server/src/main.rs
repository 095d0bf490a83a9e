//! `paylock-server serve | admin …`: the service until the `paylock` CLI mounts it.

#![allow(clippy::std_instead_of_core, clippy::std_instead_of_alloc)] // a std shell: core/alloc paths buy nothing here

use std::process::ExitCode;

use clap::Parser;
use paylock_server::cli::{AdminArgs, ServeArgs, run_admin, run_serve};

/// The paylock issuer ledger.
#[derive(Parser, Debug)]
#[command(name = "paylock-server", version)]
enum Cli {
    /// Run the HTTP service.
    Serve(ServeArgs),
    /// Maintenance on the same database.
    Admin(AdminArgs),
}

fn main() -> ExitCode {
    let result = match Cli::parse() {
        Cli::Serve(args) => run_serve(args),
        Cli::Admin(args) => run_admin(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
