//! The JSON Lines batch protocol: one request object per line in, one answer object per line
//! out, in order. A bad line gets an `{"ok":false,"error":{kind,message,field}}` answer and the
//! run goes on. The contract is public (`paylock batch`, Python `issue_many`); names never
//! change.
//!
//! Every request names its `scheme` and `op`; the [`Registry`] looks the scheme up and the
//! scheme reads the request into its typed form. `simulate` (any scheme with a device side)
//! and `issue` (any scheme's model) are answered for every scheme.

use alloc::borrow::Cow;
use std::io::{self, BufReader, Read, Write};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Error, ErrorKind};
use crate::field;
use crate::lines::{self, Reader};
use crate::read::{Input, invalid_json};
use crate::registry::Registry;

/// Bytes read and written at a time by [`run`]: answers go out in blocks, not line by line,
/// except when no further request is waiting (see [`Registry::run`]).
const IO_BLOCK: usize = 64 * 1024;

/// Which operations a batch may carry: a batch that issues tokens refuses a verification and the
/// other way round, so a job cannot do what its name does not say.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Ops {
    /// `generate`, `derive_key` and `issue`: the server side.
    Issue,
    /// `decode`, `enter`, `verify` and `simulate`: a device's answer to entries, from the state
    /// it persisted.
    Verify,
    /// Every operation of the protocol.
    Any,
}

impl Ops {
    /// The operations allowed, and what the batch does (for the refusal); `None`: all of them.
    const fn names(self) -> Option<(&'static [&'static str], &'static str)> {
        match self {
            Self::Issue => Some((&["generate", "derive_key", "issue"], "issues tokens")),
            Self::Verify => Some((
                &["decode", "enter", "verify", "simulate"],
                "verifies entries",
            )),
            Self::Any => None,
        }
    }

    /// Refuses an `op` outside [`Self::names`]; a missing one is left for the scheme to report.
    fn check(self, op: Option<&str>) -> Result<(), Error> {
        let (Some(op), Some((names, what))) = (op, self.names()) else {
            return Ok(());
        };
        if names.contains(&op) {
            return Ok(());
        }
        Err(Error::not_one_of("op", names, ErrorKind::UnknownOp)
            .and(format_args!(" (this batch {what})")))
    }
}

/// What every request names: its scheme and its operation.
#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(default, borrow, deserialize_with = "field::opt_text")]
    scheme: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    op: Option<OpName<'a>>,
}

/// The `scheme` and `op` of a request that begins `{"scheme":"<name>","op":"<op>"` (the form
/// clients write, with or without JSON whitespace between the tokens, as Python's `json.dumps`
/// puts it), read without parsing the rest: the envelope's full parse costs as much as the
/// request's own (a fifth of a light request's time). `None` for any other form, and when the
/// rest may name `scheme` or `op` again (the full parse refuses a field given twice).
/// Sound only for a scheme that reads every request it answers whole, which proves the text
/// is JSON; a request it refuses is read again the full way, so refusals do not change.
fn leading_envelope(text: &str) -> Option<(&str, &str)> {
    let rest = token(text, "{")?;
    let (scheme, rest) = member(rest, "\"scheme\"")?;
    let (op, rest) = member(token(rest, ",")?, "\"op\"")?;
    let rest = rest.trim_start_matches(JSON_SPACE);
    let plain = (rest.starts_with(',') || rest.starts_with('}'))
        && !rest.contains('\\')
        && !rest.contains(r#""scheme""#)
        && !rest.contains(r#""op""#);
    plain.then_some((scheme, op))
}

/// JSON's insignificant whitespace.
const JSON_SPACE: [char; 4] = [' ', '\t', '\n', '\r'];

/// The text after `expected`, itself after optional whitespace.
fn token<'a>(text: &'a str, expected: &str) -> Option<&'a str> {
    text.trim_start_matches(JSON_SPACE).strip_prefix(expected)
}

/// `"<name>": "<word>"`: the word, and the text after its closing quote.
fn member<'a>(text: &'a str, name: &str) -> Option<(&'a str, &'a str)> {
    let rest = token(token(token(text, name)?, ":")?, "\"")?;
    let (word, rest) = word(rest)?;
    Some((word, rest.strip_prefix('"')?))
}

/// A leading run of letters, digits and `_`, and what follows it.
fn word(text: &str) -> Option<(&str, &str)> {
    let end = text
        .bytes()
        .position(|b| !(b.is_ascii_alphanumeric() || b == b'_'))?;
    Some(text.split_at(end))
}

/// The `op` as given: read before the scheme, whose absence is reported first, so an `op`
/// that is not a string is refused only once the scheme is known.
enum OpName<'a> {
    Text(Cow<'a, str>),
    NotText,
}

impl<'de: 'a, 'a> Deserialize<'de> for OpName<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match field::text(d) {
            Ok(text) => Ok(Self::Text(text)),
            Err(_) => Ok(Self::NotText),
        }
    }
}

impl Registry {
    /// Answers one request, appending its answer object (`{"ok":true,…}`) to `out`.
    ///
    /// # Errors
    /// The request's refusal; `out` may then hold part of an answer.
    pub fn answer(&self, request: Input<'_>, ops: Ops, out: &mut Vec<u8>) -> Result<(), Error> {
        if let Input::Text(text) = request {
            too_deep(text)?;
        }
        if !request.is_object() {
            if let Input::Text(text) = request
                && let Err(e) = serde_json::from_str::<serde::de::IgnoredAny>(text)
            {
                return Err(invalid_json(&e));
            }
            return Err(Error::new(
                ErrorKind::InvalidRequest,
                "a request is a JSON object",
            ));
        }
        if let Input::Text(text) = request
            && let Some((scheme, op)) = leading_envelope(text)
            && self.is_builtin(scheme)
        {
            let start = out.len();
            let op = Some(OpName::Text(Cow::Borrowed(op)));
            if self
                .dispatch(Some(Cow::Borrowed(scheme)), op, request, ops, out)
                .is_ok()
            {
                return Ok(());
            }
            // A refusal is answered as the full parse finds it (it may see invalid JSON first).
            out.truncate(start);
        }
        let envelope: Envelope<'_> = request.read()?;
        self.dispatch(envelope.scheme, envelope.op, request, ops, out)
    }

    /// Answers `request` of `scheme` and `op`, as read from its envelope.
    fn dispatch(
        &self,
        scheme: Option<Cow<'_, str>>,
        op_name: Option<OpName<'_>>,
        request: Input<'_>,
        ops: Ops,
        out: &mut Vec<u8>,
    ) -> Result<(), Error> {
        let op = match &op_name {
            Some(OpName::Text(op)) => Some(op.as_ref()),
            _ => None,
        };
        ops.check(op)?;
        if op == Some("simulate") {
            let scheme = scheme.ok_or_else(|| Error::missing("scheme"))?;
            return crate::simulate::answer(self, &scheme, request, out);
        }
        let name = scheme.ok_or_else(|| Error::missing("scheme"))?;
        let scheme = self.scheme(&name)?;
        match op {
            None if matches!(op_name, Some(OpName::NotText)) => {
                Err(Error::wrong_type("op", "a string"))
            }
            None => Err(Error::missing("op")),
            Some("issue") => self.answer_issue(&name, request, out),
            Some(op) if scheme.ops().contains(&op) => scheme.answer(op, request, out),
            Some(_) => {
                let mut names = scheme.ops().to_vec();
                names.push("issue");
                Err(Error::not_one_of("op", &names, ErrorKind::UnknownOp)
                    .and(format_args!(" (scheme {name})")))
            }
        }
    }

    /// The answer line (without its line end) to one request line. A line longer than
    /// [`lines::MAX_LINE`] is refused (`line_too_long`) without being parsed.
    #[must_use]
    pub fn process_line(&self, line: &str) -> String {
        let mut out = Vec::new();
        self.answer_line(line, Ops::Any, &mut out);
        String::from_utf8(out).unwrap_or_default()
    }

    /// Appends the answer to one request line to `out`; `false` when it is a refusal.
    pub(crate) fn answer_line(&self, line: &str, ops: Ops, out: &mut Vec<u8>) -> bool {
        let start = out.len();
        let answered =
            lines::check_len(line).and_then(|line| self.answer(Input::Text(line), ops, out));
        match answered {
            Ok(()) => true,
            Err(e) => {
                out.truncate(start);
                write_failure(out, &e);
                false
            }
        }
    }

    /// Reads request lines from `input` and writes one answer line per request to `output`,
    /// until the input ends. Returns (lines answered, lines refused).
    ///
    /// A line that is not UTF-8 is answered `invalid_utf8`, one longer than [`lines::MAX_LINE`]
    /// `line_too_long`; the run goes on. Memory stays bounded whatever the input: a long line
    /// is read through a buffer of [`lines::MAX_LINE`] bytes and the rest of it skipped.
    ///
    /// Answers are written in blocks, and flushed whenever no complete request line is waiting
    /// in the input buffer: a co-process that writes a line and waits for its answer gets it at
    /// once, and a file or pipe full of requests costs one write per block, not per line.
    ///
    /// # Errors
    /// Only I/O errors of `input` or `output`.
    pub fn run(&self, input: impl Read, output: impl Write) -> io::Result<(u64, u64)> {
        let (mut answered, mut refused) = (0, 0);
        let mut input = Reader::new(BufReader::with_capacity(IO_BLOCK, input));
        let mut output = io::BufWriter::with_capacity(IO_BLOCK, output);
        let mut answer = Vec::with_capacity(512);
        loop {
            if !input.line_waiting() {
                output.flush()?;
            }
            let Some(line) = input.next_line()? else {
                break;
            };
            answer.clear();
            let ok = match line {
                Ok(text) => self.answer_line(text, Ops::Any, &mut answer),
                Err(e) => {
                    write_failure(&mut answer, &e);
                    false
                }
            };
            refused += u64::from(!ok);
            answered += 1;
            answer.push(b'\n');
            output.write_all(&answer)?;
        }
        output.flush()?;
        Ok((answered, refused))
    }
}

/// The containers serde_json nests when it builds a tree: a request nested deeper is not read
/// (`invalid_json`), even in fields a typed request skips without a tree, so a request reads
/// the same whichever fields its scheme reads (and as a dict of the bindings, which counts the
/// same way).
const MAX_DEPTH: usize = 127;

/// Refuses text nested deeper than [`MAX_DEPTH`], with serde_json's own refusal. Only a line
/// holding more brackets than that is parsed for it.
fn too_deep(text: &str) -> Result<(), Error> {
    if memchr::memchr2_iter(b'[', b'{', text.as_bytes())
        .nth(MAX_DEPTH)
        .is_none()
    {
        return Ok(());
    }
    match serde_json::from_str::<serde::de::IgnoredAny>(text) {
        Err(e) => Err(invalid_json(&e)),
        Ok(_) => match serde_json::from_str::<Value>(text) {
            Err(e) => Err(invalid_json(&e)),
            Ok(_) => Ok(()),
        },
    }
}

/// [`Registry::run`] with the built-in schemes: `paylock batch`.
///
/// # Errors
/// Only I/O errors of `input` or `output`.
pub fn run(input: impl Read, output: impl Write) -> io::Result<(u64, u64)> {
    Registry::builtin().run(input, output)
}

/// [`Registry::process_line`] with the built-in schemes.
#[must_use]
pub fn process_line(line: &str) -> String {
    Registry::builtin().process_line(line)
}

/// The answer line to one parsed request, with the built-in schemes.
///
/// # Errors
/// The request's refusal.
pub fn handle(request: &Value) -> Result<String, Error> {
    let mut out = Vec::new();
    Registry::builtin().answer(Input::Value(request), Ops::Any, &mut out)?;
    Ok(String::from_utf8(out).unwrap_or_default())
}

/// Appends `value` as JSON to `out`. Answers are plain data (no map with non-string keys, no
/// float that is not finite), which always serialises.
pub(crate) fn write(out: &mut Vec<u8>, value: &impl Serialize) {
    if serde_json::to_writer(&mut *out, value).is_err() {
        out.extend_from_slice(b"null");
    }
}

#[derive(Serialize)]
struct Failure<'a> {
    ok: bool,
    error: &'a Error,
}

/// Appends the answer of a refused request to `out`.
pub(crate) fn write_failure(out: &mut Vec<u8>, error: &Error) {
    write(out, &Failure { ok: false, error });
}

/// The answer line of a refused request.
#[must_use]
pub fn failure(error: &Error) -> String {
    let mut out = Vec::new();
    write_failure(&mut out, error);
    String::from_utf8(out).unwrap_or_default()
}
