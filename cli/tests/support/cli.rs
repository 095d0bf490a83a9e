//! Running the `paylock` binary from the CLI tests. Each test binary uses part of this.

#![allow(dead_code, clippy::unwrap_used)]

use std::io::Write;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

/// Runs `paylock args…` with `stdin` piped in.
pub fn paylock(args: &[&str], stdin: &str) -> Output {
    paylock_bytes(args, stdin.as_bytes())
}

/// Runs `paylock args…` with raw bytes (which may not be UTF-8) piped in.
pub fn paylock_bytes(args: &[&str], stdin: &[u8]) -> Output {
    paylock_env(args, stdin, &[])
}

/// The environment variables `paylock` reads secrets from; a test run starts without them.
pub const SECRET_VARS: [&str; 5] = [
    "PAYLOCK_KEY",
    "PAYLOCK_BATCH_KEY",
    "PAYLOCK_CONTROLLER_KEY",
    "PAYLOCK_ACCESSORY_KEY",
    "PAYLOCK_STARTING_CODE",
];

/// Runs `paylock args…` with `stdin` piped in and only the secret variables of `vars` set.
pub fn paylock_env(args: &[&str], stdin: &[u8], vars: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_paylock"));
    for var in SECRET_VARS {
        command.env_remove(var);
    }
    let mut child = command
        .envs(vars.iter().copied())
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    let stdin = stdin.to_vec();
    // Written from a thread: the answers of a long input fill the stdout pipe meanwhile.
    let writer = std::thread::spawn(move || input.write_all(&stdin));
    let out = child.wait_with_output().unwrap();
    // A command that refuses its arguments exits without reading its input: the pipe is then
    // closed under the writer, which is expected, not a failure.
    if let Err(e) = writer.join().unwrap() {
        assert_eq!(
            e.kind(),
            std::io::ErrorKind::BrokenPipe,
            "writing stdin: {e}"
        );
    }
    out
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
