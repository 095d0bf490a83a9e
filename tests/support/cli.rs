//! Running the `paylock` binary from the CLI tests. Each test binary uses part of this.

#![allow(dead_code, clippy::unwrap_used)]

use std::io::Write;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

/// Runs `paylock args…` with `stdin` piped in.
pub fn paylock(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_paylock"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

/// Standard output as text.
pub fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).unwrap()
}

/// `paylock batch` over raw lines (which may be bad JSON on purpose): one answer per line.
pub fn batch_lines(lines: &[String]) -> Vec<Value> {
    let out = paylock(&["batch"], &(lines.join("\n") + "\n"));
    assert!(out.status.success());
    stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// `paylock batch` over requests.
pub fn batch(requests: &[Value]) -> Vec<Value> {
    batch_lines(&requests.iter().map(Value::to_string).collect::<Vec<_>>())
}

/// Asserts `answer` refuses `request` with `kind`, a message containing `needle`, and no secret.
pub fn assert_refused(
    request: &dyn core::fmt::Display,
    answer: &Value,
    kind: &str,
    needle: &str,
    secrets: &[&str],
) {
    assert_eq!(answer["ok"], false, "{request}");
    assert_eq!(answer["error"]["kind"], kind, "{request} -> {answer}");
    let message = answer["error"]["message"].as_str().unwrap();
    assert!(
        message.contains(needle),
        "{request} -> {message:?} lacks {needle:?}"
    );
    for secret in secrets {
        assert!(
            !message.contains(secret),
            "a message leaks a key: {message:?}"
        );
    }
}
