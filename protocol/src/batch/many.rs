//! Many batch requests at once, on every core: what a nightly re-issue across a fleet needs.
//!
//! The answers are exactly those of [`super::process_line`] / [`super::handle`], one per request
//! and in the order of the requests, whatever the number of threads. Requests are handed out in
//! small blocks from a shared cursor, so a thread that drew cheap requests takes more of them.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::num::NonZeroUsize;
use core::sync::atomic::{AtomicUsize, Ordering};
use std::thread;

use serde_json::Value;

use super::{BatchError, failure, handle, lines};

/// Requests a thread takes from the shared cursor at a time.
const BLOCK: usize = 32;

/// One request of a batch.
#[derive(Clone, Debug, PartialEq)]
pub enum Request {
    /// A JSON line, parsed by the thread that answers it.
    Line(String),
    /// A request already parsed.
    Parsed(Value),
    /// A request a binding could not read into JSON (a cycle, a NaN, bytes…): answered with
    /// this error, so the rest of the batch is answered all the same.
    Refused(BatchError),
}

/// Which operations a batch may carry: a batch that issues tokens refuses a verification and the
/// other way round, so a job cannot do what its name does not say.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Ops {
    /// `generate` and `derive_key`: the server side.
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
            Self::Issue => Some((&["generate", "derive_key"], "issues tokens")),
            Self::Verify => Some((
                &["decode", "enter", "verify", "simulate"],
                "verifies entries",
            )),
            Self::Any => None,
        }
    }

    /// Refuses a request whose `op` is a string outside [`Self::names`]; anything else (no `op`,
    /// not an object, an unknown op in an [`Ops::Any`] batch) is left for [`handle`] to report.
    fn check(self, request: &Value) -> Result<(), BatchError> {
        let (Some(op), Some((names, what))) =
            (request.get("op").and_then(Value::as_str), self.names())
        else {
            return Ok(());
        };
        if names.contains(&op) {
            return Ok(());
        }
        let mut e = super::fields::not_one_of("op", names, "unknown_op");
        e.message.push_str(&format!(" (this batch {what})"));
        Err(e)
    }
}

/// The answer line (without the newline) to one request, as [`super::process_line`] gives it.
#[must_use]
pub fn answer(request: &Request, ops: Ops) -> String {
    match request {
        Request::Parsed(value) => answer_value(value, ops),
        Request::Line(line) => answer_line(line, ops),
        Request::Refused(error) => failure(error),
    }
}

/// The answer to one JSON line.
fn answer_line(line: &str, ops: Ops) -> String {
    match lines::parse(line) {
        Ok(value) => answer_value(&value, ops),
        Err(error) => failure(&error),
    }
}

/// The answer to one parsed request.
fn answer_value(value: &Value, ops: Ops) -> String {
    match ops.check(value).and_then(|()| handle(value)) {
        Ok(json) => json,
        Err(error) => failure(&error),
    }
}

/// The threads [`handle_many`] uses when not told: one per core the OS gives this process.
#[must_use]
pub fn default_threads() -> NonZeroUsize {
    thread::available_parallelism().unwrap_or(NonZeroUsize::MIN)
}

/// Answers every request on `threads` threads (the calling thread alone for 1, or for a batch
/// too small to share). The answers are in the order of `requests`.
#[must_use]
pub fn handle_many(requests: &[Request], ops: Ops, threads: NonZeroUsize) -> Vec<String> {
    in_blocks(requests, threads, |block| {
        block.iter().map(|r| answer(r, ops)).collect::<Vec<_>>()
    })
    .into_iter()
    .flatten()
    .collect()
}

/// Answers JSON Lines text: one answer line per request line (a blank line gets an error answer,
/// as in `paylock batch`), in order. Each thread writes its block's answers into one string, so
/// the calling thread only splits the text and joins the blocks.
#[must_use]
pub fn handle_lines(text: &str, ops: Ops, threads: NonZeroUsize) -> String {
    handle_line_bytes(text.as_bytes(), ops, threads)
}

/// [`handle_lines`] over bytes, as `paylock batch` reads them: a line that is not UTF-8 is
/// answered `invalid_utf8`, one longer than [`super::MAX_LINE`] `line_too_long`.
#[must_use]
pub fn handle_line_bytes(text: &[u8], ops: Ops, threads: NonZeroUsize) -> String {
    let lines: Vec<&[u8]> = lines::split(text).collect();
    let blocks = in_blocks(&lines, threads, |block| {
        let mut out = String::new();
        for line in block {
            match lines::text(line) {
                Ok(line) => out.push_str(&answer_line(line, ops)),
                Err(error) => out.push_str(&failure(&error)),
            }
            out.push('\n');
        }
        out
    });
    blocks.concat()
}

/// `work` applied to consecutive blocks of `items` on up to `threads` threads, the results in
/// the order of the blocks. Blocks are handed out from a shared cursor, so a thread that drew
/// cheap items takes more of them.
fn in_blocks<T: Sync, R: Send>(
    items: &[T],
    threads: NonZeroUsize,
    work: impl Fn(&[T]) -> R + Sync,
) -> Vec<R> {
    let blocks = items.chunks(BLOCK);
    let threads = threads.get().min(blocks.len());
    if threads <= 1 {
        return blocks.map(&work).collect();
    }
    let cursor = AtomicUsize::new(0);
    let worker = || {
        let mut done: Vec<(usize, R)> = Vec::new();
        loop {
            let index = cursor.fetch_add(1, Ordering::Relaxed);
            let Some(block) = items.chunks(BLOCK).nth(index) else {
                return done;
            };
            done.push((index, work(block)));
        }
    };
    let mut done: Vec<(usize, R)> = thread::scope(|s| {
        let others: Vec<_> = (1..threads).map(|_| s.spawn(worker)).collect();
        let mut all = worker();
        for other in others {
            // The work does not panic; a worker that did would lose only its own blocks, and
            // the check below then does the whole batch again rather than return a short one.
            all.extend(other.join().unwrap_or_default());
        }
        all
    });
    if done.len() != items.len().div_ceil(BLOCK) {
        return items.chunks(BLOCK).map(&work).collect();
    }
    done.sort_unstable_by_key(|(index, _)| *index);
    done.into_iter().map(|(_, r)| r).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn generate(count: u32) -> Request {
        Request::Line(format!(
            r#"{{"scheme":"openpaygo","op":"generate","key":"a29ab82edc5fbbc41ec9530f6dac86b1","starting_code":123456789,"count":{count},"token_type":"ADD_TIME","value":1,"restricted_digit_set":false,"extended_token":false}}"#
        ))
    }

    #[test]
    fn answers_in_order_on_any_number_of_threads() {
        let requests: Vec<Request> = (0..1_000).map(generate).collect();
        let one = handle_many(&requests, Ops::Issue, NonZeroUsize::MIN);
        assert_eq!(one.len(), 1_000);
        assert_eq!(one[0], r#"{"ok":true,"token":"662486790","count":2}"#);
        for threads in [2, 3, 8] {
            let n = NonZeroUsize::new(threads).unwrap();
            assert_eq!(handle_many(&requests, Ops::Issue, n), one);
        }
        for (request, answer) in requests.iter().zip(&one) {
            let Request::Line(line) = request else {
                unreachable!()
            };
            assert_eq!(*answer, super::super::process_line(line));
        }
    }

    #[test]
    fn json_lines_text_answers_line_by_line() {
        let lines: Vec<String> = (0..100)
            .map(|c| match generate(c) {
                Request::Line(l) => l,
                _ => unreachable!(),
            })
            .collect();
        let text = lines.join("\n") + "\n\nnot json\n";
        let two = NonZeroUsize::new(2).unwrap();
        let out = handle_lines(&text, Ops::Issue, two);
        let answers: Vec<&str> = out.lines().collect();
        assert_eq!(answers.len(), 102);
        for (line, answer) in lines.iter().zip(&answers) {
            assert_eq!(*answer, super::super::process_line(line));
        }
        assert!(answers[100].contains("invalid_json"));
        assert!(answers[101].contains("invalid_json"));
        assert!(out.ends_with('\n'));
        assert_eq!(handle_lines("", Ops::Issue, two), "");
    }

    #[test]
    fn bad_bytes_and_refused_requests_cost_only_their_own_answer() {
        let Request::Line(good) = generate(0) else {
            unreachable!()
        };
        let mut text = Vec::from(b"\xed\xa0\x80\n".as_slice());
        text.extend(vec![b' '; crate::batch::MAX_LINE + 1]);
        text.push(b'\n');
        text.extend_from_slice(good.as_bytes());
        let out = handle_line_bytes(&text, Ops::Issue, NonZeroUsize::MIN);
        let answers: Vec<&str> = out.lines().collect();
        assert_eq!(answers.len(), 3);
        assert!(answers[0].contains("\"invalid_utf8\""), "{}", answers[0]);
        assert!(answers[1].contains("\"line_too_long\""), "{}", answers[1]);
        assert_eq!(answers[2], super::super::process_line(&good));
        let refused = Request::Refused(BatchError::new("wrong_type", "field \"x\" is bytes"));
        let both = handle_many(&[refused, generate(0)], Ops::Issue, NonZeroUsize::MIN);
        assert_eq!(
            both[0],
            r#"{"ok":false,"error":{"kind":"wrong_type","message":"field \"x\" is bytes"}}"#
        );
        assert_eq!(both[1], answers[2]);
    }

    #[test]
    fn parsed_requests_answer_like_lines() {
        let Request::Line(line) = generate(7) else {
            unreachable!()
        };
        let parsed = Request::Parsed(serde_json::from_str(&line).unwrap());
        assert_eq!(
            answer(&parsed, Ops::Any),
            answer(&Request::Line(line), Ops::Any)
        );
    }

    #[test]
    fn refuses_operations_outside_the_batch() {
        let decode = Request::Line(r#"{"scheme":"openpaygo","op":"decode"}"#.into());
        let refused = answer(&decode, Ops::Issue);
        assert!(refused.starts_with(r#"{"ok":false,"error":{"kind":"unknown_op""#));
        assert!(refused.contains("generate, derive_key"));
        let generate = generate(0);
        assert!(answer(&generate, Ops::Verify).contains("unknown_op"));
        assert!(answer(&decode, Ops::Verify).contains("missing_field"));
        let bad = Request::Line("not json".into());
        assert!(answer(&bad, Ops::Any).contains("invalid_json"));
        assert_eq!(
            handle_many(&[], Ops::Any, NonZeroUsize::MIN),
            Vec::<String>::new()
        );
    }
}
