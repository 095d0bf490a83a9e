//! A CRM selling devices of four token schemes: the three built in and ACME-8, a proprietary
//! one defined in `custom_adapter/acme.rs` with nothing but paylock's public API.
//!
//! It registers ACME-8 next to the built-in schemes, configures every model from one JSON
//! config, checks the payment plans on offer against each model, then sells each device a
//! week, a month and the device itself, entering every token on the device's own verifier.
//! Last, an ACME-8 fan runs its verifier inside paylock's device-lock engine, which persists
//! ACME-8's state and adds the wrong-code lockout the scheme lacks.
//!
//! Run: `cargo run -p paylock-protocol --example custom_adapter`.

#[path = "custom_adapter/acme.rs"]
mod acme;
#[path = "custom_adapter/fleet.rs"]
mod fleet;

use core::error::Error;

use paylock::capability::{Amount, Capabilities, CreditRange};
use paylock::device::{ClockModel, Config, Engine, Entry, Lockout, MemStorage};
use paylock::{Command, Issuer, Outcome};
use paylock_protocol::registry::Registry;

fn main() -> Result<(), Box<dyn Error>> {
    let registry = fleet::registry()?;
    println!(
        "Schemes: {}",
        registry.schemes().collect::<Vec<_>>().join(", ")
    );
    println!("\nModels");
    for (name, model) in registry.models() {
        println!("  {name:<17} {}", describe(&model.capabilities()));
    }
    println!("\nPayment plans");
    for (plan, commands) in fleet::PLANS {
        let (mut sellable, mut refused) = (Vec::new(), Vec::new());
        for (name, _) in registry.models() {
            match registry.check_plan(name, commands) {
                Ok(()) => sellable.push(name),
                Err(e) => refused.push(format!("    not for {name}: {e}")),
            }
        }
        println!("  {plan}: for {}", sellable.join(", "));
        refused.iter().for_each(|line| println!("{line}"));
    }
    println!("\nSales");
    for mut device in fleet::devices()? {
        sell(&registry, &mut device)?;
    }
    println!("\nOn the device-lock engine");
    on_the_engine()
}

/// An ACME-8 fan whose firmware runs `AcmeVerifier` inside `paylock::device::Engine`: its
/// `AcmeState` goes into the engine's record (`Persist`, tag 128), with OpenPAYGO's lockout.
fn on_the_engine() -> Result<(), Box<dyn Error>> {
    let secret = fleet::acme_secret()?;
    let mut counter = acme::CAPABILITIES.first_counter;
    let token =
        acme::AcmeIssuer.issue(&secret, &mut counter, &Command::AddCredit(fleet::days(7)))?;
    let config = Config::new(ClockModel::Rtc, Lockout::OPENPAYGO);
    let flash = MemStorage::<64>::new();
    let (mut fan, _) = Engine::boot(acme::AcmeVerifier, secret, config, flash, 0)?;
    let Entry::Applied {
        command, sequence, ..
    } = fan.enter(token.as_bytes(), 0)?
    else {
        return Err("the engine refused a genuine ACME-8 token".into());
    };
    let days = fan.status(0).credit_seconds_left / 86_400;
    println!(
        "  {:<17} {:<13} {:<26} applied #{sequence}: {days} days of credit, {}-byte record",
        "fan-acme8",
        command.kind(),
        token.as_str(),
        Engine::<acme::AcmeVerifier, MemStorage<64>>::record_len()
    );
    Ok(())
}

/// Issues the sale's tokens for `device` and enters each on it, then the first one again.
fn sell(registry: &Registry, device: &mut fleet::Device) -> Result<(), Box<dyn Error>> {
    let mut counter = registry.model(device.model)?.capabilities().first_counter;
    let mut first = None;
    for command in &fleet::SALE {
        let issued = registry.issue(device.model, &device.record, counter, command)?;
        let outcome = device.keypad.enter(&issued.keys);
        println!(
            "  {:<17} {:<13} {:<26} {}",
            device.model,
            command.kind(),
            issued.token,
            outcome_text(&outcome)
        );
        counter = issued.counter;
        first.get_or_insert(issued.keys);
    }
    if let Some(keys) = first {
        let again = device.keypad.enter(&keys);
        println!(
            "  {:<17} {:<13} {keys:<26} {}",
            device.model,
            "(replay)",
            outcome_text(&again)
        );
    }
    Ok(())
}

/// `nexus  15 keys of 12345  ADD 1-405 days (quantised)  SET 0-960 days (quantised)`.
fn describe(caps: &Capabilities) -> String {
    let range = |name: &str, r: Option<CreditRange>| match r {
        Some(r) => format!(
            "  {name} {}-{}{}",
            r.min,
            Amount::new(r.max.into(), r.unit),
            if r.is_quantised() { " (quantised)" } else { "" }
        ),
        None => String::new(),
    };
    let commands: Vec<_> = caps.commands.iter().map(|k| k.name()).collect();
    format!(
        "{:<9} {:>2} keys of {:<12}{}{}  [{}]",
        caps.scheme,
        caps.token_len,
        caps.keypad.keys(),
        range("ADD", caps.add_credit),
        range("SET", caps.set_credit),
        commands.join(" ")
    )
}

fn outcome_text(outcome: &Outcome) -> String {
    match outcome {
        Outcome::Applied {
            command, sequence, ..
        } => match fleet::seconds(command) {
            Some(s) => format!(
                "applied #{sequence}: {} {} days",
                command.kind(),
                s / 86_400
            ),
            None => format!("applied #{sequence}: {}", command.kind()),
        },
        Outcome::Duplicate => "duplicate, ignored".into(),
        Outcome::Rejected(why) => format!("rejected: {why}"),
    }
}
