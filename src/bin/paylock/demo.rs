//! `paylock demo`: a CRM issues OpenPAYGO tokens after payments; a simulated device enters them.

use std::process::ExitCode;

use paylock::Key;
use paylock::openpaygo::{
    Activation, Decoder, DeviceState, Encoder, Form, Meaning, Message, Secret, Verdict,
};

/// The key and starting code of the OpenPAYGO documentation's quick test, so the first tokens
/// below can be checked against that document.
const DEMO_KEY: &str = "a29ab82edc5fbbc41ec9530f6dac86b1";
const DEMO_STARTING_CODE: u32 = 123_456_789;

/// The device as its firmware sees it: replay state and credit in days.
struct Device {
    secret: Secret,
    decoder: Decoder,
    state: DeviceState,
    days_left: u32,
    payg: bool,
}

impl Device {
    fn enter(&mut self, typed: &str) {
        print!("  device <- {typed:<12} ");
        match self
            .decoder
            .decode(&self.secret, &mut self.state, typed.as_bytes())
        {
            Ok(Verdict::Valid(a)) => {
                self.apply(a);
                println!(
                    "APPLIED  {} {} (count {})",
                    a.meaning.name(),
                    a.value,
                    a.count
                );
            }
            Ok(Verdict::AlreadyUsed) => println!("REFUSED  already used (replay)"),
            Ok(Verdict::Invalid) => println!("REFUSED  invalid (typo or wrong device)"),
            Err(e) => println!("REFUSED  malformed: {e}"),
        }
        self.show();
    }

    fn apply(&mut self, a: Activation) {
        match a.meaning {
            Meaning::AddTime => self.days_left = self.days_left.saturating_add(a.value),
            Meaning::SetTime => (self.days_left, self.payg) = (a.value, true),
            Meaning::DisablePayg => self.payg = false,
            Meaning::CounterSync | Meaning::Reserved => {}
        }
    }

    fn show(&self) {
        let credit = if self.payg {
            format!("{} days of credit", self.days_left)
        } else {
            "PAYG off (paid off)".into()
        };
        println!(
            "             state: max_count {:>2}, used_counts {:#06x}; {credit}",
            self.state.max_count, self.state.used_counts
        );
    }
}

pub fn run() -> Result<ExitCode, String> {
    let key = Key::from_hex(DEMO_KEY).map_err(|e| e.to_string())?;
    let secret = Secret::new(key.clone(), DEMO_STARTING_CODE).map_err(|e| e.to_string())?;
    let form = Form::STANDARD;
    println!(
        "Provisioning: key {DEMO_KEY}, starting code {DEMO_STARTING_CODE}, 9-digit tokens, count 0"
    );
    let mut device = Device {
        secret: Secret::new(key, DEMO_STARTING_CODE).map_err(|e| e.to_string())?,
        decoder: Decoder::new(form),
        state: DeviceState::default(),
        days_left: 0,
        payg: true,
    };
    let encoder = Encoder::new(form);
    let mut server_count = 0;
    let mut issued = Vec::new();
    let payments = [
        ("payment of 1 day", Message::AddTime(1)),
        ("payment of 29 days", Message::AddTime(29)),
        ("support resets credit to 7 days", Message::SetTime(7)),
        ("final instalment: unlock for good", Message::DisablePayg),
    ];
    for (why, message) in payments {
        let g = encoder
            .generate(&secret, server_count, message)
            .map_err(|e| e.to_string())?;
        server_count = g.count;
        println!(
            "\nCRM: {why} -> SMS token {} (count {})",
            g.token.grouped(3).unwrap_or(g.token),
            g.count
        );
        device.enter(g.token.as_str());
        issued.push(g.token);
    }
    println!("\nCustomer re-enters the first token:");
    if let Some(first) = issued.first() {
        device.enter(first.as_str());
    }
    println!("\nCustomer mistypes a fresh token (one digit changed):");
    let fresh = encoder
        .generate(&secret, server_count, Message::SetTime(30))
        .map_err(|e| e.to_string())?;
    device.enter(&with_typo(fresh.token.as_str()));
    println!("\nCustomer types a letter:");
    device.enter("66248679O");
    println!("\nThen enters the fresh token correctly (re-locks PAYG with 30 days):");
    device.enter(fresh.token.as_str());
    Ok(ExitCode::SUCCESS)
}

/// The token with its fifth digit changed, as a customer might mistype it.
fn with_typo(token: &str) -> String {
    token
        .char_indices()
        .map(|(i, c)| match c.to_digit(10) {
            Some(d) if i == 4 => char::from_digit((d + 1) % 10, 10).unwrap_or(c),
            _ => c,
        })
        .collect()
}
