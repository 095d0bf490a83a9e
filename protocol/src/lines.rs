//! Request lines as bytes: each one capped at [`MAX_LINE`] and checked to be UTF-8 before it is
//! parsed, so a huge or binary line costs one error answer, not the memory of its JSON tree.

use std::io::{self, BufRead, BufReader, Read};

use crate::error::{Error, ErrorKind};

/// The longest request line (1 MiB, its line end not counted). A longer line is answered
/// `line_too_long` and skipped without being held in memory.
pub const MAX_LINE: usize = 1 << 20;

/// A line of `len` bytes, longer than [`MAX_LINE`].
fn too_long(len: u64) -> Error {
    Error::new(
        ErrorKind::LineTooLong,
        format!("the line is {len} bytes, longer than the {MAX_LINE}-byte (1 MiB) limit"),
    )
}

/// The text of one line (without its line end): refused when too long or not UTF-8.
///
/// # Errors
/// `line_too_long` or `invalid_utf8`.
pub fn text(line: &[u8]) -> Result<&str, Error> {
    if line.len() > MAX_LINE {
        return Err(too_long(u64::try_from(line.len()).unwrap_or(u64::MAX)));
    }
    core::str::from_utf8(line).map_err(|e| {
        Error::new(
            ErrorKind::InvalidUtf8,
            format!(
                "the line is not UTF-8: byte {} starts an invalid sequence",
                e.valid_up_to()
            ),
        )
    })
}

/// Refuses, unparsed, a line longer than [`MAX_LINE`].
///
/// # Errors
/// `line_too_long`.
pub fn check_len(line: &str) -> Result<&str, Error> {
    if line.len() > MAX_LINE {
        return Err(too_long(u64::try_from(line.len()).unwrap_or(u64::MAX)));
    }
    Ok(line)
}

/// The lines of `text` as `str::lines` splits them (`\n` or `\r\n`; a last line needs no line
/// end), as bytes.
pub fn split(text: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = text;
    core::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let Some(at) = memchr::memchr(b'\n', rest) else {
            return Some(core::mem::take(&mut rest));
        };
        let (line, tail) = rest.split_at(at);
        rest = tail.get(1..).unwrap_or_default();
        Some(line.strip_suffix(b"\r").unwrap_or(line))
    })
}

/// Reads lines from a stream through a buffer of at most [`MAX_LINE`] + 1 bytes, however long
/// the lines are.
#[derive(Debug)]
pub(crate) struct Reader<R> {
    input: R,
    /// A line that did not lie whole in the input's buffer.
    line: Vec<u8>,
    /// The bytes of the last line given out from the input's buffer, consumed on the next read.
    pending: usize,
}

impl<R: BufRead> Reader<R> {
    pub(crate) const fn new(input: R) -> Self {
        Self {
            input,
            line: Vec::new(),
            pending: 0,
        }
    }

    /// The length of the input's buffer, filled if empty, and where its first line ends.
    fn buffered(&mut self) -> io::Result<(usize, Option<usize>)> {
        loop {
            match self.input.fill_buf() {
                Ok(buf) => return Ok((buf.len(), memchr::memchr(b'\n', buf))),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// The next line's text (or why it has none); `None` at the end of the input.
    ///
    /// # Errors
    /// Only I/O errors of the input.
    pub(crate) fn next_line(&mut self) -> io::Result<Option<Result<&str, Error>>> {
        // One byte over the limit: a `\r` before the `\n` is not part of the line.
        const KEEP: usize = MAX_LINE + 1;
        self.input.consume(core::mem::take(&mut self.pending));
        let (buffered, line_end) = self.buffered()?;
        if buffered == 0 {
            return Ok(None);
        }
        // The common case: the whole line is in the buffer, and is read from there, uncopied
        // (a non-empty buffer is given again without reading).
        if let Some(at) = line_end {
            self.pending = at + 1;
            let line = self.input.fill_buf()?.get(..at).unwrap_or_default();
            return Ok(Some(text(line.strip_suffix(b"\r").unwrap_or(line))));
        }
        self.line.clear();
        let (mut len, mut last, mut any, mut ended) = (0u64, None, false, false);
        while !ended {
            let chunk = match self.input.fill_buf() {
                Ok(chunk) => chunk,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if chunk.is_empty() {
                break;
            }
            any = true;
            let (part, used) = match memchr::memchr(b'\n', chunk) {
                Some(at) => (chunk.get(..at).unwrap_or_default(), at + 1),
                None => (chunk, chunk.len()),
            };
            ended = used > part.len();
            let room = KEEP.saturating_sub(self.line.len()).min(part.len());
            self.line
                .extend_from_slice(part.get(..room).unwrap_or_default());
            len += u64::try_from(part.len()).unwrap_or(u64::MAX);
            last = part.last().copied().or(last);
            self.input.consume(used);
        }
        if !any {
            return Ok(None);
        }
        if ended && last == Some(b'\r') {
            len -= 1;
        }
        if len > MAX_LINE as u64 {
            return Ok(Some(Err(too_long(len))));
        }
        self.line.truncate(usize::try_from(len).unwrap_or(MAX_LINE));
        Ok(Some(text(&self.line)))
    }
}

impl<R: BufRead> Reader<R> {
    /// The whole lines already in the input's buffer (each with its `\n`), when there are at
    /// least two: they can be answered together. `None` when one line or none is buffered.
    /// Mark what was used with [`Self::consume`].
    ///
    /// # Errors
    /// Only I/O errors of the input.
    pub(crate) fn buffered_lines(&mut self) -> io::Result<Option<&[u8]>> {
        self.input.consume(core::mem::take(&mut self.pending));
        let (_, Some(first)) = self.buffered()? else {
            return Ok(None);
        };
        let buffer = self.input.fill_buf()?;
        Ok(match memchr::memrchr(b'\n', buffer) {
            Some(last) if last > first => buffer.get(..=last),
            _ => None,
        })
    }

    /// Marks `len` bytes of [`Self::buffered_lines`] as read.
    pub(crate) const fn consume(&mut self, len: usize) {
        self.pending = len;
    }
}

impl<R: Read> Reader<BufReader<R>> {
    /// Whether a whole line is already buffered: the next one is answered without waiting for
    /// input.
    pub(crate) fn line_waiting(&self) -> bool {
        let unread = self.input.buffer().get(self.pending..).unwrap_or_default();
        memchr::memchr(b'\n', unread).is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every line a reader gives, errors as their kind, read through a small buffer so lines
    /// span many reads.
    fn read_all(input: &[u8]) -> Vec<Result<String, &'static str>> {
        let mut reader = Reader::new(BufReader::with_capacity(7, input));
        let mut out = Vec::new();
        while let Some(line) = reader.next_line().unwrap() {
            out.push(line.map(String::from).map_err(|e| e.kind.name()));
        }
        out
    }

    #[test]
    fn splits_like_str_lines() {
        for text in [
            "",
            "\n",
            "a",
            "a\n",
            "a\r\nb",
            "a\n\nb\r\n",
            "a\rb\r",
            "\r\n\r\n",
        ] {
            let want: Vec<Result<String, &str>> = text.lines().map(|l| Ok(l.into())).collect();
            assert_eq!(read_all(text.as_bytes()), want, "{text:?}");
            let split: Vec<&[u8]> = split(text.as_bytes()).collect();
            let lines: Vec<&[u8]> = text.lines().map(str::as_bytes).collect();
            assert_eq!(split, lines, "{text:?}");
        }
    }

    #[test]
    fn refuses_long_and_binary_lines_and_goes_on() {
        let mut input = vec![b'x'; MAX_LINE];
        input.extend_from_slice(b"\r\n");
        input.extend(vec![b'y'; MAX_LINE + 1]);
        input.extend_from_slice(b"\n\xff\xfe\nok\n");
        input.extend(vec![b'z'; MAX_LINE + 5]);
        let lines = read_all(&input);
        assert_eq!(lines.len(), 5);
        assert_eq!(lines[0].as_ref().map(String::len), Ok(MAX_LINE));
        assert_eq!(lines[1], Err("line_too_long"));
        assert_eq!(lines[2], Err("invalid_utf8"));
        assert_eq!(lines[3], Ok("ok".into()));
        assert_eq!(lines[4], Err("line_too_long"));
        assert_eq!(
            text(&input).map_err(|e| e.kind.name()),
            Err("line_too_long")
        );
    }

    #[test]
    fn messages_give_sizes_and_positions_only() {
        let e = text(b"{\"key\":\"\xc3\x28\"}").unwrap_err();
        assert_eq!(e.kind, "invalid_utf8");
        assert!(e.message.contains("byte 8"), "{}", e.message);
        let long = "k".repeat(MAX_LINE + 1);
        let e = check_len(&long).unwrap_err();
        assert_eq!(e.kind, "line_too_long");
        assert!(!e.message.contains("kk"), "{}", e.message);
    }
}
