//! The registry end to end: the `custom_adapter` example's fleet (three built-in schemes and
//! ACME-8, a scheme defined outside the crate) issued through one registry and verified on each
//! scheme's own verifier; payment plans; capabilities that agree with the issuers; and the
//! errors a CRM sees for a bad config, device record or command.

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)] // test code

#[path = "../examples/custom_adapter/acme.rs"]
mod acme;
#[path = "../examples/custom_adapter/fleet.rs"]
mod fleet;

use fleet::{PLANS, SALE, days};
use paylock::capability::{CheckError, CommandKind, CreditRange};
use paylock::{Command, Credit, IssueError, Outcome, TimeUnit};
use paylock_protocol::Error as BatchError;
use paylock_protocol::registry::{PlanError, PlanRefusal, Registry};
use serde_json::{Value, json};

fn registry() -> Registry {
    fleet::registry().unwrap()
}

/// The error of `result`, which must have failed.
fn error<T: core::fmt::Debug>(result: Result<T, BatchError>) -> BatchError {
    result.unwrap_err()
}

fn configure(model: Value) -> Result<(), BatchError> {
    registry().configure(&json!({"models": {"m": model}}))
}

#[test]
fn every_scheme_issues_through_the_registry_and_verifies_once() {
    let registry = registry();
    let devices = fleet::devices().unwrap();
    assert_eq!(devices.len(), registry.models().count());
    for mut device in devices {
        let caps = registry.model(device.model).unwrap().capabilities();
        let mut counter = caps.first_counter;
        let mut keys = Vec::new();
        for command in &SALE {
            let issued = registry
                .issue(device.model, &device.record, counter, command)
                .unwrap();
            assert_eq!(issued.keys.len(), usize::from(caps.token_len), "{issued:?}");
            assert!(issued.keys.chars().all(|c| caps.keypad.keys().contains(c)));
            // OpenPAYGO reports the token's new count, the others the counter they used.
            let sequence = if caps.scheme == "openpaygo" {
                issued.counter
            } else {
                counter
            };
            let Outcome::Applied {
                command: applied,
                sequence: got,
                spent: true,
            } = device.keypad.enter(&issued.keys)
            else {
                panic!("{}: {command:?} was not applied", device.model);
            };
            assert_eq!(applied.kind(), command.kind(), "{}", device.model);
            assert_eq!(
                fleet::seconds(&applied),
                fleet::seconds(command),
                "{}",
                device.model
            );
            assert_eq!(got, sequence, "{}", device.model);
            assert!(issued.counter > counter);
            counter = issued.counter;
            keys.push(issued.keys);
        }
        for keys in &keys {
            assert_eq!(
                device.keypad.enter(keys),
                Outcome::Duplicate,
                "{}",
                device.model
            );
        }
    }
}

#[test]
fn issuing_is_pure_and_the_counter_is_the_callers() {
    let registry = registry();
    let record = json!({"secret_key_hex": "deadbeefdeadbeefdeadbeefdeadbeef"});
    let week = Command::AddCredit(days(7));
    let a = registry
        .issue("lamp-nexus-small", &record, 5, &week)
        .unwrap();
    let b = registry
        .issue("lamp-nexus-small", &record, 5, &week)
        .unwrap();
    assert_eq!(a, b);
    assert_eq!(a.counter, 6);
    assert_eq!(a.keys, a.token.replace(' ', ""));
}

#[test]
fn plans_are_refused_where_a_model_cannot_carry_them() {
    let registry = registry();
    let small = registry.model("lamp-nexus-small").unwrap().capabilities();
    let range = small.add_credit.unwrap();
    let refusal = |model: &str, plan: &[Command]| match registry.check_plan(model, plan) {
        Err(PlanError::Refused {
            index,
            command,
            reason,
        }) => Some((index, command, reason)),
        Ok(()) => None,
        Err(e) => panic!("{e}"),
    };
    assert_eq!(
        refusal("lamp-nexus-small", PLANS[2].1),
        Some((
            0,
            Command::AddCredit(days(500)),
            CheckError::OutOfRange { found: 500, range }.into()
        ))
    );
    assert_eq!(
        refusal("lamp-nexus-small", PLANS[1].1),
        Some((
            0,
            Command::AddCredit(days(365)),
            CheckError::Inexact {
                found: 365,
                below: 363,
                above: 366,
                unit: TimeUnit::Days
            }
            .into()
        ))
    );
    assert_eq!(
        refusal("lamp-nexus-small", &[Command::AddCredit(days(366))]),
        None
    );
    for model in ["home-kit-opg", "tv-nexus-full", "pump-ast"] {
        for (plan, commands) in PLANS {
            assert_eq!(refusal(model, commands), None, "{model} {plan}");
        }
    }
    let sync = [Command::AddCredit(days(7)), Command::CounterSync];
    assert_eq!(
        refusal("tv-nexus-full", &sync),
        Some((
            1,
            Command::CounterSync,
            CheckError::Unsupported(CommandKind::CounterSync).into()
        ))
    );
    let e = registry.check_plan("tv-nexus-full", &sync).unwrap_err();
    assert_eq!(
        e.to_string(),
        "command 2 (COUNTER_SYNC): the scheme has no COUNTER_SYNC command"
    );
    assert_eq!(
        registry.check_plan("no-such-model", &sync),
        Err(PlanError::UnknownModel("no-such-model".into()))
    );
}

#[test]
fn the_dry_run_catches_what_capabilities_leave_to_the_issuer() {
    // Capabilities do not bound SET_PARAM values; profile L carries 12 bits of them.
    let plan = [Command::SetParam {
        id: 2,
        value: 5_000,
    }];
    let e = registry().check_plan("pump-ast", &plan).unwrap_err();
    assert_eq!(
        e,
        PlanError::Refused {
            index: 0,
            command: plan[0],
            reason: PlanRefusal::Issuer(IssueError::OutOfRange {
                field: "param_value",
                found: 5_000,
                max: 4_095
            })
        }
    );
}

/// Commands across every kind, with credit amounts around each scheme's limits and steps.
fn sweep() -> Vec<Command> {
    let mut commands = vec![
        Command::Unlock,
        Command::CounterSync,
        Command::SetParam { id: 1, value: 5 },
        Command::Test(1),
        Command::Scheme { kind: 1, arg: 0 },
        Command::AddCredit(Credit::new(90, TimeUnit::Minutes)),
        Command::AddCredit(Credit::new(3, TimeUnit::DayFraction(4))),
        Command::AddCredit(Credit::new(1, TimeUnit::DayFraction(0))),
        Command::SetCredit(Credit::new(100_000, TimeUnit::Hours)),
        Command::AddCredit(Credit::new(70_000, TimeUnit::Days)),
    ];
    for n in (0..=1_000).chain([2_000, 4_095, 4_096, 65_535, 65_536]) {
        commands.extend([Command::AddCredit(days(n)), Command::SetCredit(days(n))]);
        let hours = Credit::new(n * 7, TimeUnit::Hours);
        commands.extend([Command::AddCredit(hours), Command::SetCredit(hours)]);
    }
    commands
}

#[test]
fn capabilities_agree_with_the_issuers() {
    let mut registry = registry();
    registry
        .configure(&json!({"models": {
            "opg-extended": {"scheme": "openpaygo", "restricted_digit_set": true,
                             "extended_token": true, "time_divider": 1},
            "opg-quarter-days": {"scheme": "openpaygo", "restricted_digit_set": false,
                                 "extended_token": false, "time_divider": 4},
            "ast-m-hours": {"scheme": "access", "suite": 0, "profile": "M", "unit": "hours"},
            "ast-s-days": {"scheme": "access", "suite": 1, "profile": "S", "unit": "days"},
        }}))
        .unwrap();
    for (name, model) in registry.models() {
        let caps = model.capabilities();
        for command in sweep() {
            let checked = caps.check(&command);
            let issued = model.dry_run(caps.first_counter, &command);
            assert_eq!(
                checked.is_ok(),
                issued.is_ok(),
                "{name} {command:?}: {checked:?} vs {issued:?}"
            );
            if let Err(e) = checked {
                assert!(
                    matches!(
                        IssueError::from(e),
                        IssueError::Unsupported | IssueError::Unit | IssueError::OutOfRange { .. }
                    ),
                    "{name}"
                );
            }
        }
    }
}

#[test]
fn extended_openpaygo_tokens_carry_no_unlock() {
    use paylock::Issuer;
    use paylock::openpaygo::{Form, OpenPaygoIssuer, OpenPaygoSecret};
    let secret = OpenPaygoSecret::new(paylock::Key::new([7; 16]), 1).unwrap();
    let mut count = 0;
    for command in [Command::Unlock, Command::CounterSync] {
        assert_eq!(
            OpenPaygoIssuer::new(Form::EXTENDED).issue(&secret, &mut count, &command),
            Err(IssueError::Unsupported)
        );
        assert!(
            OpenPaygoIssuer::new(Form::STANDARD)
                .issue(&secret, &mut count, &command)
                .is_ok()
        );
    }
    let caps = paylock::openpaygo::capabilities(Form::EXTENDED, 1);
    assert!(!caps.supports(CommandKind::Unlock));
    assert_eq!(caps.token_len, 12);
}

#[test]
fn an_unknown_scheme_is_named_and_nothing_is_configured() {
    let mut registry = registry();
    let config = json!({"models": {
        "good": {"scheme": "nexus", "protocol": "full"},
        "bad": {"scheme": "acme9"},
    }});
    let e = error(registry.configure(&config));
    assert_eq!(e.kind, "unknown_scheme");
    assert_eq!(
        e.message,
        "model \"bad\": field \"scheme\" must be one of: openpaygo, nexus, access, acme8"
    );
    assert_eq!(error(registry.model("good")).kind, "unknown_model");
}

#[test]
fn a_bad_model_config_names_the_model_and_field() {
    let cases = [
        (
            json!({"scheme": "openpaygo", "restricted_digit_set": false, "extended_token": false}),
            "missing_field",
            "model \"m\": field \"time_divider\" is required",
        ),
        (
            json!({"scheme": "openpaygo", "restricted_digit_set": false, "extended_token": false, "time_divider": 0}),
            "out_of_range",
            "model \"m\": field \"time_divider\" must be 1-255",
        ),
        (
            json!({"scheme": "openpaygo", "restricted_digit_set": "no", "extended_token": false, "time_divider": 1}),
            "wrong_type",
            "model \"m\": field \"restricted_digit_set\" must be true or false",
        ),
        (
            json!({"scheme": "nexus", "protocol": "medium"}),
            "invalid_protocol",
            "model \"m\": field \"protocol\" must be one of: full, small",
        ),
        (
            json!({"scheme": "access", "suite": 3, "profile": "L", "unit": "days"}),
            "invalid_suite",
            "model \"m\": field \"suite\" must be one of: 0 (AES-128-CMAC), 1 (HMAC-SHA-256), \
             2 (SipHash-2-4)",
        ),
        (
            json!({"scheme": "access", "suite": 0, "profile": "X", "unit": "days"}),
            "invalid_profile",
            "model \"m\": field \"profile\" must be one of: L, M, S",
        ),
        (
            json!({"scheme": "access", "suite": 0, "profile": "L"}),
            "missing_field",
            "model \"m\": field \"unit\" is required",
        ),
        (
            json!({"scheme": "access", "suite": 0, "profile": "L", "unit": "weeks"}),
            "invalid_unit",
            "model \"m\": field \"unit\" must be one of: hours, days",
        ),
        (
            json!({"protocol": "full"}),
            "missing_field",
            "model \"m\": field \"scheme\" is required",
        ),
        (
            json!("nexus"),
            "wrong_type",
            "model \"m\": field \"m\" must be an object",
        ),
    ];
    for (config, kind, message) in cases {
        let e = error(configure(config));
        assert_eq!((e.kind.name(), e.message.as_str()), (kind, message));
    }
    assert_eq!(
        error(registry().configure(&json!({"model": {}}))).message,
        "field \"models\" is required"
    );
    assert_eq!(
        error(registry().configure(&json!([]))).kind,
        "invalid_config"
    );
}

const ZERO_KEY: &str = "00000000000000000000000000000000";

#[test]
fn a_bad_device_record_names_the_field() {
    let registry = registry();
    let week = Command::AddCredit(days(7));
    let cases = [
        (
            "home-kit-opg",
            json!({"key": "a29ab82edc5fbbc41ec9530f6dac86b1"}),
            "missing_field",
            "field \"starting_code\" is required",
        ),
        (
            "home-kit-opg",
            json!({"key": "a29ab82edc5fbbc41ec9530f6dac86b1", "starting_code": 1_000_000_000u32}),
            "out_of_range",
            "field \"starting_code\" must be at most 999999999",
        ),
        (
            "tv-nexus-full",
            json!({"secret_key_hex": "deadbeef"}),
            "invalid_key",
            "field \"secret_key_hex\" must be 32 hex characters (16 bytes), got 8",
        ),
        (
            "pump-ast",
            json!({"device_id": 1, "key_rev": 0}),
            "missing_field",
            "field \"device_key_hex\" or \"batch_key_hex\" is required",
        ),
        (
            "pump-ast",
            json!({"device_key_hex": ZERO_KEY, "batch_key_hex": ZERO_KEY, "device_id": 1, "key_rev": 0}),
            "conflicting_field",
            "fields \"device_key_hex\" and \"batch_key_hex\" exclude each other",
        ),
        (
            "pump-ast",
            json!({"device_key_hex": ZERO_KEY, "device_id": 0xFFFF_FFFFu32, "key_rev": 0}),
            "out_of_range",
            "field \"device_id\" is 0xFFFFFFFF, which is reserved for TEST codes",
        ),
        (
            "pump-ast",
            json!({"device_key_hex": ZERO_KEY, "device_id": 1, "key_rev": 256}),
            "out_of_range",
            "field \"key_rev\" must be at most 255",
        ),
        (
            "fan-acme8",
            json!({"key": "0f1e2d3c4b5a69788796a5b4c3d2e1f0"}),
            "missing_field",
            "field \"serial\" is required",
        ),
        (
            "fan-acme8",
            json!([1, 2]),
            "invalid_device",
            "the device record is a JSON object",
        ),
    ];
    for (model, record, kind, message) in cases {
        let e = error(registry.issue(model, &record, 1, &week));
        assert_eq!(
            (e.kind.name(), e.message.as_str()),
            (kind, message),
            "{model}"
        );
    }
}

#[test]
fn a_command_the_model_cannot_carry_is_refused_before_the_record_is_read() {
    let registry = registry();
    let nothing = json!({});
    let cases = [
        (
            "tv-nexus-full",
            Command::CounterSync,
            "unsupported_command",
            "COUNTER_SYNC cannot be issued: the scheme has no COUNTER_SYNC command",
        ),
        (
            "fan-acme8",
            Command::SetCredit(days(1)),
            "unsupported_command",
            "SET_CREDIT 1 day cannot be issued: the scheme has no SET_CREDIT command",
        ),
        (
            "lamp-nexus-small",
            Command::AddCredit(days(181)),
            "inexact_credit",
            "ADD_CREDIT 181 days cannot be issued: 181 days is not carried exactly; the nearest amounts are 180 days and 183 days",
        ),
        (
            "tv-nexus-full",
            Command::AddCredit(Credit::new(90, TimeUnit::Minutes)),
            "inexact_credit",
            "ADD_CREDIT 90 minutes cannot be issued: 90 minutes is not a whole number of hours",
        ),
        (
            "home-kit-opg",
            Command::SetCredit(days(996)),
            "out_of_range",
            "SET_CREDIT 996 days cannot be issued: 996 days is outside 0-995 days",
        ),
    ];
    for (model, command, kind, message) in cases {
        let e = error(registry.issue(model, &nothing, 0, &command));
        assert_eq!(
            (e.kind.name(), e.message.as_str()),
            (kind, message),
            "{model}"
        );
    }
    let e = error(registry.issue("pump-ast", &json!({}), 0, &Command::AddCredit(days(1))));
    assert_eq!(e.kind, "missing_field");
    assert_eq!(
        error(registry.issue("nope", &nothing, 0, &Command::Unlock)).kind,
        "unknown_model"
    );
}

#[test]
fn quantised_ranges_say_so() {
    let registry = registry();
    let small = registry.model("lamp-nexus-small").unwrap().capabilities();
    let set: CreditRange = small.set_credit.unwrap();
    assert!(set.is_quantised());
    assert_eq!((set.min, set.max, set.nearest(700)), (0, 960, (696, 704)));
    let full = registry.model("tv-nexus-full").unwrap().capabilities();
    assert!(!full.add_credit.unwrap().is_quantised());
    assert_eq!(full.set_credit.unwrap().max, 99_998);
}

/// Every model's counter ends in `counter_exhausted`, never in a wrapped counter: Nexus after
/// ID 65534 (the default issuer's last), OpenPAYGO where the next count passes the ceiling,
/// AST and ACME-8 at `u32::MAX`.
#[test]
fn last_counters_are_counter_exhausted() {
    let registry = registry();
    let add = Command::AddCredit(days(1));
    let devices = fleet::devices().unwrap();
    let lasts = [
        ("home-kit-opg", 131_072),
        ("lamp-nexus-small", 65_535),
        ("tv-nexus-full", 65_535),
        ("pump-ast", u32::MAX),
        ("fan-acme8", u32::MAX),
    ];
    for (model, last) in lasts {
        let device = devices.iter().find(|d| d.model == model).unwrap();
        let e = error(registry.issue(model, &device.record, last, &add));
        assert_eq!(e.kind, "counter_exhausted", "{model}: {e}");
        assert!(e.message.contains(&last.to_string()), "{model}: {e}");
        let plan = registry.model(model).unwrap();
        assert!(
            matches!(
                plan.dry_run(last, &add),
                Err(IssueError::CounterExhausted { counter, .. }) if counter == last
            ),
            "{model}"
        );
        assert!(
            registry
                .issue(model, &device.record, last - 2, &add)
                .is_ok(),
            "{model}"
        );
    }
}
