//! Many batch requests at once, on every core: what a nightly re-issue across a fleet needs.
//!
//! The answers are exactly those of [`Registry::process_line`] / [`Registry::answer`], one per
//! request and in the order of the requests, whatever the number of threads. Requests are
//! handed out in small blocks from a shared cursor, so a thread that drew cheap requests takes
//! more of them.

use alloc::borrow::Cow;
use alloc::collections::BTreeMap;
use core::convert::Infallible;
use core::num::NonZeroUsize;
use core::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
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
pub enum Request<'a> {
    /// A JSON line, read by the thread that answers it: borrowed from the caller's text where
    /// it can be, so handing a batch over costs no copy.
    Line(Cow<'a, str>),
    /// A request already parsed (boxed, as is the error: a batch holds thousands of requests,
    /// most of them lines, and each costs the size of the largest form).
    Parsed(Box<Value>),
    /// A request a binding could not read into JSON (a cycle, a NaN, bytes…): answered with
    /// this error, so the rest of the batch is answered all the same.
    Refused(Box<Error>),
}

impl Registry {
    /// Appends the answer to one request to `out`.
    pub fn answer_request(&self, request: &Request<'_>, ops: Ops, out: &mut Vec<u8>) {
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
        requests: &[Request<'_>],
        ops: Ops,
        threads: NonZeroUsize,
    ) -> Answers {
        let mut blocks = Vec::with_capacity(requests.len().div_ceil(BLOCK));
        let done: Result<(), Infallible> = self.handle_many_each(
            requests,
            ops,
            threads,
            |next| next(),
            |block| {
                blocks.push(block);
                Ok(())
            },
        );
        match done {
            Ok(()) => Answers { blocks },
        }
    }

    /// [`Self::handle_many`], handing each block of answers to `take` on the calling thread, in
    /// order, as soon as it and the blocks before it are done, while the other threads go on:
    /// a binding turns answers into its own objects (under its interpreter lock) at the same
    /// time as the next ones are computed. The calling thread waits for a block only inside
    /// `wait(next)`, which must call `next` (a binding releases its lock around it). The first
    /// error of `take` stops the batch and is returned.
    ///
    /// # Errors
    /// The first error `take` returns.
    pub fn handle_many_each<E>(
        &self,
        requests: &[Request<'_>],
        ops: Ops,
        threads: NonZeroUsize,
        wait: impl FnMut(&mut Next<'_, Block>) -> Option<Block>,
        take: impl FnMut(Block) -> Result<(), E>,
    ) -> Result<(), E> {
        let work = |block: &[Request<'_>]| {
            let mut out = Vec::with_capacity(block.len() * 64);
            let ends = block
                .iter()
                .map(|r| {
                    self.answer_request(r, ops, &mut out);
                    out.len()
                })
                .collect();
            Block {
                text: utf8(out),
                ends,
            }
        };
        in_order(requests, threads, work, wait, take)
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
        let mut blocks = Vec::with_capacity(lines.len().div_ceil(BLOCK));
        let work = |block: &[&[u8]]| {
            let mut out = Vec::with_capacity(block.len() * 64);
            self.answer_lines(block, ops, &mut out);
            out
        };
        let done: Result<(), Infallible> = in_order(
            &lines,
            threads,
            work,
            |next| next(),
            |b| {
                blocks.push(b);
                Ok(())
            },
        );
        match done {
            Ok(()) => utf8(blocks.concat()),
        }
    }
}

/// Answers as text: every answer is UTF-8 (a request that is not is answered `invalid_utf8`).
fn utf8(out: Vec<u8>) -> String {
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// The answers to a batch, in the order of its requests. Each thread writes a block's answers
/// into one buffer, so a batch of thousands makes a few allocations, not one per answer.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Answers {
    blocks: Vec<Block>,
}

impl Answers {
    /// The number of answers.
    #[must_use]
    pub fn len(&self) -> usize {
        self.blocks.iter().map(Block::len).sum()
    }

    /// Whether there is no answer.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The answer lines (without a newline), in order.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.blocks.iter().flat_map(Block::iter)
    }
}

/// The answers to consecutive requests of a batch, written by one thread into one buffer.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Block {
    /// The answers, one after the other.
    text: String,
    /// Where each answer ends in `text`.
    ends: Vec<usize>,
}

impl Block {
    /// The number of answers.
    #[must_use]
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether there is no answer.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The answer lines (without a newline), in order.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        let starts = core::iter::once(0).chain(self.ends.iter().copied());
        starts
            .zip(&self.ends)
            .map(|(start, &end)| self.text.get(start..end).unwrap_or_default())
    }
}

/// What [`Registry::handle_many_each`] hands its `wait`: the wait for the next result.
pub type Next<'a, R> = dyn FnMut() -> Option<R> + Send + 'a;

/// The answer line (without the newline) to one request, with the built-in schemes.
#[must_use]
pub fn answer(request: &Request<'_>, ops: Ops) -> String {
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
pub fn handle_many(requests: &[Request<'_>], ops: Ops, threads: NonZeroUsize) -> Answers {
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

/// `work` applied to consecutive blocks of `items` on up to `threads` threads, each result
/// handed to `take` on the calling thread in the order of the blocks, as soon as it and those
/// before it are done. Blocks are handed out from a shared cursor, so a thread that drew cheap
/// items takes more of them. The calling thread works too, and waits for another thread only
/// when no block is left to start: a sleep and a wake-up per block would cost more than a
/// block's work. Its work and its waits run inside `wait`.
fn in_order<T: Sync, R: Send, E>(
    items: &[T],
    threads: NonZeroUsize,
    work: impl Fn(&[T]) -> R + Sync,
    mut wait: impl FnMut(&mut Next<'_, R>) -> Option<R>,
    mut take: impl FnMut(R) -> Result<(), E>,
) -> Result<(), E> {
    let count = items.len().div_ceil(BLOCK);
    let cursor = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let claim = || {
        let index = cursor.fetch_add(1, Ordering::Relaxed);
        Some(index).zip(items.chunks(BLOCK).nth(index))
    };
    let (sender, mut receiver) = mpsc::channel();
    thread::scope(|s| {
        let helpers: Vec<_> = (1..threads.get().min(count))
            .map(|_| {
                let (sender, stop, work, claim) = (sender.clone(), &stop, &work, &claim);
                s.spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        let Some((index, items)) = claim() else {
                            return;
                        };
                        if sender.send((index, work(items))).is_err() {
                            return;
                        }
                    }
                })
            })
            .collect();
        drop(sender);
        let mut done: BTreeMap<usize, R> = BTreeMap::new();
        let mut taken = Ok(());
        for index in 0..count {
            let (done, receiver, work, claim) = (&mut done, &mut receiver, &work, &claim);
            let mut next = move || loop {
                done.extend(receiver.try_iter());
                if let Some(r) = done.remove(&index) {
                    return Some(r);
                }
                match claim() {
                    Some((i, items)) => {
                        done.insert(i, work(items));
                    }
                    None => {
                        let (i, r) = receiver.recv().ok()?;
                        done.insert(i, r);
                    }
                }
            };
            // `None`: every helper is gone and this block was not answered. The work does not
            // panic, but if a helper did, its block is done again here.
            if let Some(r) = wait(&mut next).or_else(|| items.chunks(BLOCK).nth(index).map(&work)) {
                taken = take(r);
                if taken.is_err() {
                    stop.store(true, Ordering::Relaxed);
                    break;
                }
            }
        }
        drop(receiver);
        for helper in helpers {
            // A helper that panicked has had its blocks done again above.
            let _ = helper.join();
        }
        taken
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    fn generate(count: u32) -> Request<'static> {
        Request::Line(Cow::Owned(format!(
            r#"{{"scheme":"openpaygo","op":"generate","key":"a29ab82edc5fbbc41ec9530f6dac86b1","starting_code":123456789,"count":{count},"token_type":"ADD_TIME","value":1,"restricted_digit_set":false,"extended_token":false}}"#
        )))
    }

    #[test]
    fn answers_in_order_on_any_number_of_threads() {
        let requests: Vec<Request> = (0..1_000).map(generate).collect();
        let answers = handle_many(&requests, Ops::Issue, NonZeroUsize::MIN);
        let one: Vec<&str> = answers.iter().collect();
        assert_eq!((one.len(), answers.len()), (1_000, 1_000));
        assert_eq!(one[0], r#"{"ok":true,"token":"662486790","count":2}"#);
        for threads in [2, 3, 8] {
            let n = NonZeroUsize::new(threads).unwrap();
            let answers = handle_many(&requests, Ops::Issue, n);
            assert_eq!(answers.iter().collect::<Vec<_>>(), one);
        }
        for (request, answer) in requests.iter().zip(one) {
            let Request::Line(line) = request else {
                unreachable!()
            };
            assert_eq!(answer, crate::batch::process_line(line));
        }
    }

    #[test]
    fn blocks_reach_the_caller_in_order_and_an_error_stops_the_batch() {
        let requests: Vec<Request> = (0..1_000).map(generate).collect();
        let want = handle_many(&requests, Ops::Issue, NonZeroUsize::MIN);
        let want: Vec<&str> = want.iter().collect();
        for threads in [1, 2, 3] {
            let n = NonZeroUsize::new(threads).unwrap();
            let (mut got, mut waits) = (Vec::new(), 0);
            let registry = Registry::builtin();
            let wait = |next: &mut Next<'_, Block>| {
                waits += 1;
                next()
            };
            let done: Result<(), ()> =
                registry.handle_many_each(&requests, Ops::Issue, n, wait, |b| {
                    got.extend(b.iter().map(String::from));
                    Ok(())
                });
            assert_eq!(done, Ok(()));
            assert_eq!(got, want, "{threads} threads");
            assert!(waits <= requests.len().div_ceil(BLOCK));
            let mut taken = 0;
            let stopped = registry.handle_many_each(
                &requests,
                Ops::Issue,
                n,
                |next| next(),
                |b| {
                    taken += b.len();
                    if taken > 2 * BLOCK {
                        Err(taken)
                    } else {
                        Ok(())
                    }
                },
            );
            assert_eq!(stopped, Err(3 * BLOCK), "{threads} threads");
        }
    }

    #[test]
    fn json_lines_text_answers_line_by_line() {
        let lines: Vec<String> = (0..100)
            .map(|c| match generate(c) {
                Request::Line(l) => l.into_owned(),
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
        let refused = Request::Refused(Box::new(Error::at(ErrorKind::WrongType, "x", "is bytes")));
        let both = handle_many(&[refused, generate(0)], Ops::Issue, NonZeroUsize::MIN);
        let both: Vec<&str> = both.iter().collect();
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
        let parsed = Request::Parsed(Box::new(serde_json::from_str(&line).unwrap()));
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
        let none = handle_many(&[], Ops::Any, NonZeroUsize::MIN);
        assert!(none.is_empty());
        assert_eq!(none.iter().count(), 0);
    }
}
