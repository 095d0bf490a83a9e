//! The JSON Lines batch protocol: one request object per line in, one answer object per line
//! out, in order. A bad line gets an `{"ok":false,"error":{kind,message,field}}` answer and the
//! run goes on. The contract is public (`paylock batch`, Python `issue_many`); names never
//! change.
//!
//! Every request names its `scheme` and `op`; the [`Registry`] looks the scheme up and the
//! scheme reads the request into its typed form. `simulate` (any scheme with a device side)
//! and `issue` (any scheme's model) are answered for every scheme.

use alloc::borrow::Cow;
use core::num::NonZeroUsize;
use std::io::{self, BufReader, Read, Write};

use rayon::prelude::*;

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

/// The `scheme` and `op` of a request object whose top-level members are read without being
/// parsed: each key a string without escapes, `scheme` and `op` each once and each a plain word
/// (letters, digits and `_`), every other value skipped by its quotes and brackets. The
/// envelope's full parse costs as much as the request's own (a fifth of a light request's
/// time, more for a Metrics report, which travels as an escaped string). `None` for any other
/// form. Sound only for a scheme that reads every request it answers whole, which proves the
/// text is JSON; a request it refuses is read again the full way, so refusals do not change.
fn plain_envelope(text: &str) -> Option<(&str, &str)> {
    let mut rest = token(text, "{")?;
    let (mut scheme, mut op) = (None, None);
    loop {
        let (key, after) = plain_string(token(rest, "\"")?)?;
        rest = token(after, ":")?.trim_start_matches(JSON_SPACE);
        let slot = match key {
            "scheme" => Some(&mut scheme),
            "op" => Some(&mut op),
            _ => None,
        };
        if let Some(slot) = slot {
            let (value, after) = word(rest.strip_prefix('"')?)?;
            if slot.replace(value).is_some() {
                return None;
            }
            rest = after.strip_prefix('"')?;
        } else {
            rest = skip_value(rest)?;
        }
        rest = rest.trim_start_matches(JSON_SPACE);
        match rest.as_bytes().first()? {
            b',' => rest = rest.get(1..)?,
            b'}' => return Some((scheme?, op?)),
            _ => return None,
        }
    }
}

/// A string without escapes whose opening quote was read, and the text after its closing one.
fn plain_string(text: &str) -> Option<(&str, &str)> {
    let end = memchr::memchr2(b'"', b'\\', text.as_bytes())?;
    if text.as_bytes().get(end) != Some(&b'"') {
        return None;
    }
    Some((text.get(..end)?, text.get(end + 1..)?))
}

/// The text after the value `text` starts with, found by quotes and brackets only (the value
/// is checked by the scheme's own parse).
fn skip_value(text: &str) -> Option<&str> {
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut at = 0;
    loop {
        let byte = *bytes.get(at)?;
        match byte {
            b'"' => at = string_end(bytes, at + 1)?,
            b'{' | b'[' => depth += 1,
            b'}' | b']' if depth == 0 => return text.get(at..),
            b'}' | b']' => depth -= 1,
            b',' | b' ' | b'\t' | b'\n' | b'\r' if depth == 0 => return text.get(at..),
            _ => {}
        }
        at += 1;
        if depth == 0 && matches!(byte, b'"' | b'}' | b']') {
            return text.get(at..);
        }
    }
}

/// The index of the closing quote of the string whose content starts at `at`.
fn string_end(bytes: &[u8], mut at: usize) -> Option<usize> {
    loop {
        at += memchr::memchr2(b'"', b'\\', bytes.get(at..)?)?;
        if bytes.get(at) == Some(&b'"') {
            return Some(at);
        }
        at += 2;
    }
}

/// JSON's insignificant whitespace.
const JSON_SPACE: [char; 4] = [' ', '\t', '\n', '\r'];

/// The text after `expected`, itself after optional whitespace.
fn token<'a>(text: &'a str, expected: &str) -> Option<&'a str> {
    text.trim_start_matches(JSON_SPACE).strip_prefix(expected)
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
            && let Some((scheme, op)) = plain_envelope(text)
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
        self.run_on(input, output, NonZeroUsize::MIN)
    }

    /// [`Self::run`] on `threads` threads: the whole lines a read brings in (up to
    /// [`IO_BLOCK`] bytes) are answered together, in small blocks shared out among the
    /// threads, and written in order. The answers are those of [`Self::run`], line for line;
    /// a line that arrives alone is answered at once on the calling thread.
    ///
    /// # Errors
    /// Only I/O errors of `input` or `output`, or a thread pool the OS refuses.
    pub fn run_on(
        &self,
        input: impl Read,
        output: impl Write,
        threads: NonZeroUsize,
    ) -> io::Result<(u64, u64)> {
        let pool = (threads.get() > 1)
            .then(|| {
                rayon::ThreadPoolBuilder::new()
                    .num_threads(threads.get())
                    .build()
                    .map_err(io::Error::other)
            })
            .transpose()?;
        let (mut answered, mut refused) = (0, 0);
        let mut input = Reader::new(BufReader::with_capacity(IO_BLOCK, input));
        let mut output = io::BufWriter::with_capacity(IO_BLOCK, output);
        let mut answer = Vec::with_capacity(512);
        loop {
            if !input.line_waiting() {
                output.flush()?;
            }
            if let Some(pool) = &pool
                && let Some(text) = input.buffered_lines()?
            {
                let (used, (lines, bad)) =
                    (text.len(), self.answer_shared(text, pool, &mut output)?);
                input.consume(used);
                (answered, refused) = (answered + lines, refused + bad);
                continue;
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

    /// Answers the lines of `text` on `pool`'s threads and writes the answers in order.
    /// Returns (lines answered, lines refused).
    fn answer_shared(
        &self,
        text: &[u8],
        pool: &rayon::ThreadPool,
        output: &mut impl Write,
    ) -> io::Result<(u64, u64)> {
        let lines: Vec<&[u8]> = lines::split(text).collect();
        let blocks: Vec<(Vec<u8>, u64)> = pool.install(|| {
            lines
                .par_chunks(SHARED_BLOCK)
                .map(|block| {
                    let mut out = Vec::with_capacity(block.len() * 128);
                    let refused = self.answer_lines(block, Ops::Any, &mut out);
                    (out, refused)
                })
                .collect()
        });
        let mut refused = 0;
        for (out, bad) in &blocks {
            output.write_all(out)?;
            refused += bad;
        }
        Ok((u64::try_from(lines.len()).unwrap_or(u64::MAX), refused))
    }

    /// Appends the answer line (with its `\n`) to each of `lines` to `out`; returns how many
    /// were refused.
    pub(crate) fn answer_lines(&self, lines: &[&[u8]], ops: Ops, out: &mut Vec<u8>) -> u64 {
        let mut refused = 0;
        for line in lines {
            let ok = match lines::text(line) {
                Ok(line) => self.answer_line(line, ops, out),
                Err(error) => {
                    write_failure(out, &error);
                    false
                }
            };
            refused += u64::from(!ok);
            out.push(b'\n');
        }
        refused
    }
}

/// Lines a thread of [`Registry::run_on`] takes at a time: a read of [`IO_BLOCK`] bytes holds
/// 100-1,000 lines, so small blocks keep both cores busy to the end of each read.
const SHARED_BLOCK: usize = 8;

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

/// [`Registry::run_on`] with the built-in schemes: `paylock batch --threads N`.
///
/// # Errors
/// Only I/O errors of `input` or `output`, or a thread pool the OS refuses.
pub fn run_on(
    input: impl Read,
    output: impl Write,
    threads: NonZeroUsize,
) -> io::Result<(u64, u64)> {
    Registry::builtin().run_on(input, output, threads)
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
