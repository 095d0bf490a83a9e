//! `paylock batch --threads N` (`batch::run_on`): the lines a read brings in are answered on
//! several threads, and the output is that of one thread byte for byte, whatever the mix of
//! good, refused and unreadable lines and however the input arrives.

#![allow(clippy::unwrap_used, clippy::indexing_slicing, missing_docs)] // test code

use core::num::NonZeroUsize;
use std::io::{self, Read};

use paylock_protocol::batch;
use serde_json::{Value, json};

/// The quick test of docs/openpaygo.md: key, starting code and count 0 give `662486790`.
fn generate(count: u64) -> Value {
    json!({"scheme": "openpaygo", "op": "generate", "key": "a29ab82edc5fbbc41ec9530f6dac86b1",
           "starting_code": 123_456_789, "count": count, "token_type": "ADD_TIME", "value": 1,
           "restricted_digit_set": false, "extended_token": false})
}

/// A few hundred lines of every kind: answered, refused, not UTF-8, blank, CRLF, one longer
/// than a read (it spans several buffers) and one over the line cap.
fn input() -> Vec<u8> {
    let mut text = Vec::new();
    for i in 0..600u64 {
        let line: Vec<u8> = match i % 9 {
            0 => b"\xc3\x28".to_vec(),
            1 => Vec::new(),
            2 => b"{\"op\":1}".to_vec(),
            3 => b"not json".to_vec(),
            4 => format!("{}\r", generate(i)).into_bytes(),
            _ => generate(i).to_string().into_bytes(),
        };
        text.extend_from_slice(&line);
        text.push(b'\n');
        if i == 300 {
            let pad = "x".repeat(200_000);
            text.extend_from_slice(
                json!({"scheme": "openpaygo", "op": pad})
                    .to_string()
                    .as_bytes(),
            );
            text.push(b'\n');
            text.extend(core::iter::repeat_n(b'7', (1 << 20) + 10));
            text.push(b'\n');
        }
    }
    text
}

/// A reader that gives at most `step` bytes a call, so lines are cut at every place.
struct Trickle<'a> {
    rest: &'a [u8],
    step: usize,
}

impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.step.min(buf.len()).min(self.rest.len());
        buf[..n].copy_from_slice(&self.rest[..n]);
        self.rest = &self.rest[n..];
        Ok(n)
    }
}

fn run(step: usize, threads: usize) -> ((u64, u64), Vec<u8>) {
    let text = input();
    let mut out = Vec::new();
    let threads = NonZeroUsize::new(threads).unwrap();
    let counts = batch::run_on(Trickle { rest: &text, step }, &mut out, threads).unwrap();
    (counts, out)
}

#[test]
fn answers_on_many_threads_are_those_of_one() {
    let (counts, one) = run(usize::MAX, 1);
    assert_eq!(counts.0, 602);
    let answers: Vec<Value> = one
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_slice(l).unwrap())
        .collect();
    assert_eq!(answers.len(), 602);
    assert_eq!(answers[0]["error"]["kind"], "invalid_utf8");
    assert_eq!(answers[9]["error"]["kind"], "invalid_utf8");
    let ok = answers.iter().filter(|a| a["ok"] == true).count();
    assert_eq!(counts, (602, 602 - ok as u64));
    assert!(ok > 250, "{ok}");
    assert_eq!(answers[5]["ok"], true, "{}", answers[5]);
    assert_eq!(
        answers[301]["error"]["kind"], "unknown_op",
        "{}",
        answers[301]
    );
    assert_eq!(
        answers[302]["error"]["kind"], "line_too_long",
        "{}",
        answers[302]
    );
    for (step, threads) in [
        (usize::MAX, 2),
        (usize::MAX, 3),
        (4096, 2),
        (777, 2),
        (1, 2),
    ] {
        let (got_counts, got) = run(step, threads);
        assert_eq!(got_counts, counts, "step {step}, {threads} threads");
        assert!(
            got == one,
            "step {step}, {threads} threads: the answers differ"
        );
    }
}

#[test]
fn the_first_answer_is_the_quick_test() {
    let text = format!("{}\n{}\n", generate(0), generate(0));
    let mut out = Vec::new();
    let counts = batch::run_on(text.as_bytes(), &mut out, NonZeroUsize::new(2).unwrap()).unwrap();
    assert_eq!(counts, (2, 0));
    let out = String::from_utf8(out).unwrap();
    let answers: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(answers[0]["token"], "662486790");
    assert_eq!(answers[1]["token"], "662486790");
}
