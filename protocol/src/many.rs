//! Many batch requests at once, on every core: what a nightly re-issue across a fleet needs.
//!
//! The answers are exactly those of [`Registry::process_line`] / [`Registry::answer`], one per
//! request and in the order of the requests, whatever the number of threads. Requests are
//! handed out in small blocks from a shared cursor, so a thread that drew cheap requests takes
//! more of them.

use core::num::NonZeroUsize;
use core::sync::atomic::{AtomicUsize, Ordering};
use std::thread;

use serde_json::Value;

use crate::batch::{Ops, write_failure};
use crate::error::Error;
use crate::lines;
use crate::read::Input;
use crate::registry::Registry;

/// Requests a thread takes from the shared cursor at a time.
const BLOCK: usize = 32;

/// One request of a batch.
#[derive(Clone, Debug, PartialEq)]
pub enum Request {
    /// A JSON line, read by the thread that answers it.
    Line(String),
    /// A request already parsed.
    Parsed(Value),
    /// A request a binding could not read into JSON (a cycle, a NaN, bytes…): answered with
    /// this error, so the rest of the batch is answered all the same.
    Refused(Error),
}

impl Registry {
    /// Appends the answer to one request to `out`.
    pub fn answer_request(&self, request: &Request, ops: Ops, out: &mut Vec<u8>) {
        match request {
            Request::Line(line) => {
                self.answer_line(line, ops, out);
            }
            Request::Parsed(value) => {
                let start = out.len();
                if let Err(e) = self.answer(Input::Value(value), ops, out) {
                    out.truncate(start);
                    write_failure(out, &e);
                }
            }
            Request::Refused(error) => write_failure(out, error),
        }
    }

    /// Answers every request on `threads` threads (the calling thread alone for 1, or for a
    /// batch too small to share). The answers are in the order of `requests`.
    #[must_use]
    pub fn handle_many(
        &self,
        requests: &[Request],
        ops: Ops,
        threads: NonZeroUsize,
    ) -> Vec<String> {
        in_blocks(requests, threads, |block| {
            let mut out = Vec::with_capacity(256);
            block
                .iter()
                .map(|r| {
                    out.clear();
                    self.answer_request(r, ops, &mut out);
                    String::from_utf8_lossy(&out).into_owned()
                })
                .collect::<Vec<_>>()
        })
        .into_iter()
        .flatten()
        .collect()
    }

    /// Answers JSON Lines text: one answer line per request line (a blank line gets an error
    /// answer, as in `paylock batch`), in order. Each thread writes its block's answers into
    /// one buffer, so the calling thread only splits the text and joins the blocks.
    #[must_use]
    pub fn handle_lines(&self, text: &str, ops: Ops, threads: NonZeroUsize) -> String {
        self.handle_line_bytes(text.as_bytes(), ops, threads)
    }

    /// [`Self::handle_lines`] over bytes, as `paylock batch` reads them: a line that is not
    /// UTF-8 is answered `invalid_utf8`, one longer than [`lines::MAX_LINE`] `line_too_long`.
    #[must_use]
    pub fn handle_line_bytes(&self, text: &[u8], ops: Ops, threads: NonZeroUsize) -> String {
        let lines: Vec<&[u8]> = lines::split(text).collect();
        let blocks = in_blocks(&lines, threads, |block| {
            let mut out = Vec::with_capacity(block.len() * 64);
            for line in block {
                match lines::text(line) {
                    Ok(line) => {
                        self.answer_line(line, ops, &mut out);
                    }
                    Err(error) => write_failure(&mut out, &error),
                }
                out.push(b'\n');
            }
            out
        });
        String::from_utf8(blocks.concat()).unwrap_or_default()
    }
}

/// The answer line (without the newline) to one request, with the built-in schemes.
#[must_use]
pub fn answer(request: &Request, ops: Ops) -> String {
    let mut out = Vec::new();
    Registry::builtin().answer_request(request, ops, &mut out);
    String::from_utf8(out).unwrap_or_default()
}

/// The threads [`handle_many`] uses when not told: one per core the OS gives this process.
#[must_use]
pub fn default_threads() -> NonZeroUsize {
    thread::available_parallelism().unwrap_or(NonZeroUsize::MIN)
}

/// [`Registry::handle_many`] with the built-in schemes.
#[must_use]
pub fn handle_many(requests: &[Request], ops: Ops, threads: NonZeroUsize) -> Vec<String> {
    Registry::builtin().handle_many(requests, ops, threads)
}

/// [`Registry::handle_lines`] with the built-in schemes.
#[must_use]
pub fn handle_lines(text: &str, ops: Ops, threads: NonZeroUsize) -> String {
    Registry::builtin().handle_lines(text, ops, threads)
}

/// [`Registry::handle_line_bytes`] with the built-in schemes.
#[must_use]
pub fn handle_line_bytes(text: &[u8], ops: Ops, threads: NonZeroUsize) -> String {
    Registry::builtin().handle_line_bytes(text, ops, threads)
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
    use crate::error::ErrorKind;

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
            assert_eq!(*answer, crate::batch::process_line(line));
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
            assert_eq!(*answer, crate::batch::process_line(line));
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
        text.extend(vec![b' '; lines::MAX_LINE + 1]);
        text.push(b'\n');
        text.extend_from_slice(good.as_bytes());
        let out = handle_line_bytes(&text, Ops::Issue, NonZeroUsize::MIN);
        let answers: Vec<&str> = out.lines().collect();
        assert_eq!(answers.len(), 3);
        assert!(answers[0].contains("\"invalid_utf8\""), "{}", answers[0]);
        assert!(answers[1].contains("\"line_too_long\""), "{}", answers[1]);
        assert_eq!(answers[2], crate::batch::process_line(&good));
        let refused = Request::Refused(Error::at(ErrorKind::WrongType, "x", "is bytes"));
        let both = handle_many(&[refused, generate(0)], Ops::Issue, NonZeroUsize::MIN);
        assert_eq!(
            both[0],
            r#"{"ok":false,"error":{"kind":"wrong_type","message":"field \"x\" is bytes","field":"x"}}"#
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
