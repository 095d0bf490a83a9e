//! A scheme registered by a manufacturer (ACME-8, the `custom_adapter` example, built on the
//! public API alone) is answered by the batch protocol's entry points exactly as the built-in
//! schemes are: `Registry::run` (`paylock batch`), and `Registry::handle_many` /
//! `handle_lines` (what Python's `issue_many` / `verify_many` run), on more than one thread.

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)] // test code

// The example's modules, of which this test uses the ACME-8 scheme and the registry.
#[allow(dead_code)]
#[path = "../examples/custom_adapter/acme.rs"]
mod acme;
#[allow(dead_code)]
#[path = "../examples/custom_adapter/fleet.rs"]
mod fleet;

use core::num::NonZeroUsize;

use paylock::{Command, Context, Issuer, Outcome, Verifier};
use paylock_protocol::many::Request;
use paylock_protocol::{Ops, Registry};
use serde_json::{Value, json};

const ACME_KEY: &str = "0f1e2d3c4b5a69788796a5b4c3d2e1f0";
const ACME_SERIAL: u32 = 7_001_234;

fn issue_request(counter: u32, days: u32) -> Value {
    json!({
        "scheme": "acme8", "op": "issue", "model": {},
        "device": {"key": ACME_KEY, "serial": ACME_SERIAL},
        "counter": counter,
        "command": {"type": "ADD_CREDIT", "amount": days, "unit": "days"},
    })
}

fn answers(text: &str) -> Vec<Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// The token the example's own issuer gives at `counter`, checked to apply on its verifier.
fn acme_token(counter: u32, days: u32) -> String {
    let secret = fleet::acme_secret().unwrap();
    let mut next = counter;
    let command = Command::AddCredit(fleet::days(days));
    let token = acme::AcmeIssuer
        .issue(&secret, &mut next, &command)
        .unwrap();
    // A device whose last token was the one before.
    let mut state = acme::AcmeState { last: counter - 1 };
    let outcome = acme::AcmeVerifier.verify(
        &secret,
        &mut state,
        token.as_str().as_bytes(),
        &Context::at(0),
    );
    assert!(matches!(outcome, Outcome::Applied { .. }), "{outcome:?}");
    token.as_str().to_owned()
}

#[test]
fn paylock_batch_answers_a_registered_scheme_issue_and_simulate() {
    let registry = fleet::registry().unwrap();
    let week = acme_token(1, 7);
    let simulate = json!({
        "scheme": "acme8", "op": "simulate",
        "device": {"key": ACME_KEY, "serial": ACME_SERIAL},
        "events": [{"at": 0, "enter": week}, {"at": 60, "enter": week}],
    });
    let input = [
        issue_request(1, 7).to_string(),
        simulate.to_string(),
        json!({"scheme": "acme8", "op": "generate"}).to_string(),
        json!({"scheme": "acme8", "op": "issue", "model": {}, "device": {"key": ACME_KEY},
               "counter": 1, "command": {"type": "UNLOCK"}})
        .to_string(),
    ]
    .join("\n");
    let mut out = Vec::new();
    let (answered, refused) = registry.run(input.as_bytes(), &mut out).unwrap();
    assert_eq!((answered, refused), (4, 2));
    let a = answers(core::str::from_utf8(&out).unwrap());
    assert_eq!(a[0]["ok"], true, "{}", a[0]);
    assert_eq!(a[0]["keys"], week.replace(' ', ""));
    assert_eq!(
        (&a[0]["sequence"], &a[0]["counter"]),
        (&json!(1), &json!(2))
    );
    let outcomes: Vec<_> = a[1]["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(outcomes, ["APPLIED", "DUPLICATE"], "{}", a[1]);
    assert_eq!(a[2]["error"]["kind"], "unknown_op");
    assert_eq!(a[2]["error"]["field"], "op");
    assert_eq!(a[3]["error"]["kind"], "missing_field");
    assert_eq!(a[3]["error"]["field"], "device.serial");
}

#[test]
fn issue_many_answers_a_registered_scheme_on_two_threads() {
    let registry = fleet::registry().unwrap();
    let two = NonZeroUsize::new(2).unwrap();
    let requests: Vec<Request> = (1..=100)
        .map(|counter| {
            let request = issue_request(counter, 1 + counter % 90);
            if counter % 2 == 0 {
                Request::Parsed(Box::new(request))
            } else {
                Request::Line(request.to_string().into())
            }
        })
        .collect();
    let got = registry.handle_many(&requests, Ops::Issue, two);
    let got: Vec<&str> = got.iter().collect();
    assert_eq!(got.len(), 100);
    for (counter, answer) in (1..=100).zip(&got) {
        let answer: Value = serde_json::from_str(answer).unwrap();
        let want = acme_token(counter, 1 + counter % 90).replace(' ', "");
        assert_eq!(answer["keys"], want, "counter {counter}");
    }
    let lines: Vec<String> = requests
        .iter()
        .map(|r| match r {
            Request::Line(line) => line.to_string(),
            Request::Parsed(v) => v.to_string(),
            Request::Refused(_) => unreachable!(),
        })
        .collect();
    let text = registry.handle_lines(&lines.join("\n"), Ops::Issue, two);
    assert_eq!(text.lines().collect::<Vec<_>>(), got);
    // A batch that verifies refuses the issue op, whatever the scheme.
    let refused = registry.handle_many(&requests[..1], Ops::Verify, two);
    let refused = refused.iter().next().unwrap();
    assert!(refused.contains("\"kind\":\"unknown_op\""), "{refused}");
}

#[test]
fn the_built_in_registry_does_not_know_a_scheme_registered_elsewhere() {
    let answer: Value =
        serde_json::from_str(&Registry::builtin().process_line(&issue_request(1, 7).to_string()))
            .unwrap();
    assert_eq!(answer["error"]["kind"], "unknown_scheme");
    assert_eq!(
        answer["error"]["message"],
        "field \"scheme\" must be one of: openpaygo, nexus, access"
    );
}
