//! The JSON Lines batch protocol: one request object per line in, one response object per line
//! out, in order. A bad line gets an `{"ok":false,"error":{kind,message}}` answer and the run goes
//! on. The contract is public (CLI `paylock batch`, Python `issue_many`); names never change.

pub(crate) mod access;
pub(crate) mod fields;
pub mod lines;
pub mod many;
mod nexus;
mod openpaygo;
pub mod simulate;

use alloc::format;
use alloc::string::{String, ToString};
use std::io::{self, BufRead, Write};

pub use lines::MAX_LINE;

use serde::Serialize;
use serde_json::Value;

pub use fields::Fields;

/// A refused request: a stable snake_case `kind` and a message naming the field and the reason.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{kind}: {message}")]
pub struct BatchError {
    /// Machine-readable class, e.g. `missing_field`, `out_of_range`, `malformed_token`.
    pub kind: &'static str,
    /// What was wrong, naming the field.
    pub message: String,
    /// For a refused message ID (`id_collision`, `id_reserved`): the next ID that works.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_valid_id: Option<u32>,
}

impl BatchError {
    /// An error of `kind` with `message`.
    pub fn new(kind: &'static str, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            next_valid_id: None,
        }
    }

    /// The same error naming the next message ID that works.
    #[must_use]
    pub const fn with_next_valid_id(mut self, id: u32) -> Self {
        self.next_valid_id = Some(id);
        self
    }
}

#[derive(Serialize)]
struct Failure<'a> {
    ok: bool,
    error: &'a BatchError,
}

/// Answers one request line with one response line (without the newline). A line longer than
/// [`MAX_LINE`] is refused (`line_too_long`) without being parsed.
#[must_use]
pub fn process_line(line: &str) -> String {
    match lines::parse(line).and_then(|v| handle(&v)) {
        Ok(json) => json,
        Err(error) => failure(&error),
    }
}

/// The answer line of a refused request.
pub(crate) fn failure(error: &BatchError) -> String {
    to_json(&Failure { ok: false, error })
}

/// Answers one parsed request.
///
/// # Errors
/// [`BatchError`] for any malformed request or field.
pub fn handle(request: &Value) -> Result<String, BatchError> {
    let map = request
        .as_object()
        .ok_or_else(|| BatchError::new("invalid_request", "a request is a JSON object"))?;
    let fields = Fields::new(map);
    if fields.get("op").and_then(Value::as_str) == Some("simulate") {
        return simulate::handle(&fields);
    }
    match fields.str("scheme")? {
        "openpaygo" => openpaygo::handle(&fields),
        "nexus" => nexus::handle(&fields),
        "access" => access::handle(&fields),
        _ => Err(unknown_scheme()),
    }
}

/// The schemes of the protocol.
const SCHEMES: [&str; 3] = ["openpaygo", "nexus", "access"];

/// A `scheme` the protocol does not know.
pub(crate) fn unknown_scheme() -> BatchError {
    fields::not_one_of("scheme", &SCHEMES, "unknown_scheme")
}

/// An `op` that `scheme` does not have (named without repeating it).
fn unknown_op(scheme: &str, ops: &[&str]) -> BatchError {
    let mut e = fields::not_one_of("op", ops, "unknown_op");
    e.message.push_str(&format!(" (scheme {scheme})"));
    e
}

/// Processes every line of `input`, writing (and flushing) one answer per line, so a long-running
/// co-process can be fed line by line. Returns (lines answered, lines refused).
///
/// A line that is not UTF-8 is answered `invalid_utf8`, one longer than [`MAX_LINE`]
/// `line_too_long`; the run goes on. Memory stays bounded whatever the input: a long line is
/// read through a buffer of [`MAX_LINE`] bytes and the rest of it skipped.
///
/// # Errors
/// Only I/O errors of `input` or `output`.
pub fn run(input: impl BufRead, mut output: impl Write) -> io::Result<(u64, u64)> {
    let (mut answered, mut refused) = (0, 0);
    let mut input = lines::Reader::new(input);
    while let Some(line) = input.next_line()? {
        let answer = match line {
            Ok(text) => process_line(text),
            Err(error) => failure(&error),
        };
        if answer.starts_with("{\"ok\":false") {
            refused += 1;
        }
        answered += 1;
        output.write_all(answer.as_bytes())?;
        output.write_all(b"\n")?;
        output.flush()?;
    }
    Ok((answered, refused))
}

/// Serialises a response; our response types cannot fail to serialise.
pub(crate) fn to_json(value: &impl Serialize) -> String {
    serde_json::to_string(value).unwrap_or_else(|e| e.to_string())
}
