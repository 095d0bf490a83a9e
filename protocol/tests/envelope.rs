//! A request in the form clients write (`{"scheme":"…","op":"…",` first) is read the same as
//! the same fields in any other order: the leading envelope is a shortcut, never a different
//! reading, for valid requests and for every refusal the full parse finds.

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)] // test code

use paylock_protocol::{Error, Input, Model, Registry, Scheme, process_line};

const KEY: &str = "38b4e652e44da7f2370d9e260e271365";

/// A full ADD_CREDIT request with its envelope leading (the shortcut), then `tail`.
fn leading(tail: &str) -> String {
    format!(
        r#"{{"scheme":"nexus","op":"generate","protocol":"full","message_type":"ADD_CREDIT","secret_key_hex":"{KEY}","message_id":2666,"params":{{"hours":6329}}{tail}"#
    )
}

/// The same text with `op` first and `scheme` after it (the full parse).
fn reordered(lead: &str) -> String {
    let rest = lead.trim_start_matches(r#"{"scheme":"nexus","op":"generate","#);
    format!(r#"{{"op":"generate","scheme":"nexus",{rest}"#)
}

fn kind(answer: &str) -> String {
    let v: serde_json::Value = serde_json::from_str(answer).unwrap();
    v["error"]["kind"].as_str().unwrap_or("none").to_owned()
}

#[test]
fn a_valid_request_reads_the_same_in_either_order() {
    let lead = leading("}");
    let answer = process_line(&lead);
    assert!(answer.starts_with(r#"{"ok":true,"keycode":"*"#), "{answer}");
    assert_eq!(answer, process_line(&reordered(&lead)));
    assert_eq!(answer, process_line(&spaced(&lead)));
}

/// The text as Python's `json.dumps` spaces it (`", "` and `": "`), after a leading newline.
fn spaced(lead: &str) -> String {
    format!("\n {}", lead.replace("\":", "\": ").replace(",\"", ", \""))
}

#[test]
fn spaced_refusals_are_those_of_the_full_parse() {
    for (tail, want) in [
        ("} trailing", "invalid_json"),
        (r#","scheme":"access"}"#, "invalid_request"),
        (r#","allow_demo_codes":"yes"}"#, "wrong_type"),
    ] {
        let lead = spaced(&leading(tail));
        let answer = process_line(&lead);
        assert_eq!(kind(&answer), want, "{lead}: {answer}");
    }
}

#[test]
fn refusals_are_those_of_the_full_parse() {
    for (tail, want) in [
        ("} trailing", "invalid_json"),
        ("", "invalid_json"),
        (r#","scheme":"access"}"#, "invalid_request"),
        (r#","\u0073cheme":"nexus"}"#, "invalid_request"),
        (r#","\u006fp":"generate"}"#, "invalid_request"),
        // Escapes in values before a key that spells `scheme` with one.
        (r#","x":"a\"b:","\u0073cheme":"nexus"}"#, "invalid_request"),
        (r#","k\":\"":"\\","\u006fp":"generate"}"#, "invalid_request"),
        (
            r#","x":{"scheme":["}"]},"scheme":"access"}"#,
            "invalid_request",
        ),
        (r#","op":"enter"}"#, "invalid_request"),
        (r#","params":{"hours":1}}"#, "invalid_request"),
        (r#","allow_demo_codes":"yes"}"#, "wrong_type"),
    ] {
        let lead = leading(tail);
        let answer = process_line(&lead);
        assert_eq!(kind(&answer), want, "{lead}: {answer}");
        assert_eq!(answer, process_line(&reordered(&lead)), "{lead}");
    }
}

/// A scheme that answers without reading its request.
#[derive(Debug)]
struct Deaf;

impl Scheme for Deaf {
    fn model(&self, _: Input<'_>) -> Result<Box<dyn Model>, Error> {
        unreachable!("no models in this test")
    }

    fn ops(&self) -> &'static [&'static str] {
        &["generate"]
    }

    fn answer(&self, _: &str, _: Input<'_>, out: &mut Vec<u8>) -> Result<(), Error> {
        out.extend_from_slice(br#"{"ok":true}"#);
        Ok(())
    }
}

#[test]
fn a_scheme_registered_over_a_builtin_one_gets_the_full_parse() {
    let mut registry = Registry::with_builtin_schemes();
    registry.register_scheme("nexus", Deaf);
    assert_eq!(
        kind(&registry.process_line(&leading("} trailing"))),
        "invalid_json"
    );
    assert_eq!(registry.process_line(&leading("}")), r#"{"ok":true}"#);
}
