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

use super::{BatchError, Failure, handle, to_json};

/// Requests a thread takes from the shared cursor at a time.
const BLOCK: usize = 32;

/// One request of a batch.
#[derive(Clone, Debug, PartialEq)]
pub enum Request {
    /// A JSON line, parsed by the thread that answers it.
    Line(String),
    /// A request already parsed.
    Parsed(Value),
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
        Err(BatchError::new(
            "unknown_op",
            format!(
                "op {op:?} is not one of: {} (this batch {what})",
                names.join(", ")
            ),
        ))
    }
}

/// The answer line (without the newline) to one request, as [`super::process_line`] gives it.
#[must_use]
pub fn answer(request: &Request, ops: Ops) -> String {
    let parsed;
    let value = match request {
        Request::Parsed(value) => value,
        Request::Line(line) => match serde_json::from_str::<Value>(line) {
            Ok(value) => {
                parsed = value;
                &parsed
            }
            Err(e) => {
                return failure(&BatchError::new(
                    "invalid_json",
                    format!("line is not JSON: {e}"),
                ));
            }
        },
    };
    match ops.check(value).and_then(|()| handle(value)) {
        Ok(json) => json,
        Err(error) => failure(&error),
    }
}

fn failure(error: &BatchError) -> String {
    to_json(&Failure { ok: false, error })
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
    let threads = threads.get().min(requests.len().div_ceil(BLOCK));
    if threads <= 1 {
        return requests.iter().map(|r| answer(r, ops)).collect();
    }
    let cursor = AtomicUsize::new(0);
    let work = || {
        let mut done: Vec<(usize, Vec<String>)> = Vec::new();
        loop {
            let start = cursor.fetch_add(BLOCK, Ordering::Relaxed);
            let Some(block) = requests.get(start..requests.len().min(start + BLOCK)) else {
                return done;
            };
            if block.is_empty() {
                return done;
            }
            done.push((start, block.iter().map(|r| answer(r, ops)).collect()));
        }
    };
    let mut blocks: Vec<(usize, Vec<String>)> = thread::scope(|s| {
        let others: Vec<_> = (1..threads).map(|_| s.spawn(work)).collect();
        let mut all = work();
        for worker in others {
            // `answer` does not panic; a worker that did would lose only its own blocks, and the
            // length check below then answers the batch again rather than return a short one.
            all.extend(worker.join().unwrap_or_default());
        }
        all
    });
    blocks.sort_unstable_by_key(|(start, _)| *start);
    let mut answers: Vec<String> = blocks.into_iter().flat_map(|(_, block)| block).collect();
    if answers.len() != requests.len() {
        // Only reachable after a panic in a worker: answer everything again on this thread.
        answers = requests.iter().map(|r| answer(r, ops)).collect();
    }
    answers
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
