//! JSON text exactly as Python's `json.dumps(…, separators=(",", ":"))` writes it: integers in
//! decimal, strings with `ensure_ascii` escapes, floats in `float.__repr__` form (`1.0`,
//! `1e+16`, `1e-05`, `-0.0`) and `NaN` / `Infinity` / `-Infinity`.
//!
//! Shared by the device's request builder and the server's serializer, so both write the same
//! bytes for the same value, and a signature computed on one side holds on the other.

#[cfg(feature = "std")]
use alloc::vec::Vec;
use core::fmt;

/// Where text goes: a fixed buffer on a device, a growable one on a server.
pub trait Sink {
    /// What a full sink reports.
    type Error;

    /// Appends `bytes`.
    ///
    /// # Errors
    /// When the sink cannot take them all; it may then hold part of them.
    fn put(&mut self, bytes: &[u8]) -> Result<(), Self::Error>;
}

/// A [`Buffer`] has no room left.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the output buffer is full")]
pub struct Full;

/// A caller's byte buffer, filled from the start.
#[derive(Debug)]
pub struct Buffer<'b> {
    buf: &'b mut [u8],
    len: usize,
}

impl<'b> Buffer<'b> {
    /// An empty text over `buf`.
    pub fn new(buf: &'b mut [u8]) -> Self {
        Self { buf, len: 0 }
    }

    /// Bytes written so far.
    #[must_use]
    pub const fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing was written.
    #[must_use]
    pub const fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The text written so far.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8] {
        self.buf.get(..self.len).unwrap_or_default()
    }

    /// The written bytes from `start`.
    #[must_use]
    pub fn since(&self, start: usize) -> &[u8] {
        self.buf.get(start..self.len).unwrap_or_default()
    }

    /// Gives the written text back with the buffer's lifetime.
    #[must_use]
    pub fn into_bytes(self) -> &'b [u8] {
        let Self { buf, len } = self;
        buf.get(..len).unwrap_or_default()
    }
}

impl Sink for Buffer<'_> {
    type Error = Full;

    /// Out of line on bare metal: a report makes dozens of calls, inlined they cost ~1 KB.
    #[cfg_attr(target_os = "none", inline(never))]
    fn put(&mut self, bytes: &[u8]) -> Result<(), Full> {
        let end = self.len.checked_add(bytes.len()).ok_or(Full)?;
        self.buf
            .get_mut(self.len..end)
            .ok_or(Full)?
            .copy_from_slice(bytes);
        self.len = end;
        Ok(())
    }
}

#[cfg(feature = "std")]
impl Sink for Vec<u8> {
    type Error = core::convert::Infallible;

    fn put(&mut self, bytes: &[u8]) -> Result<(), Self::Error> {
        self.extend_from_slice(bytes);
        Ok(())
    }
}

impl fmt::Write for Buffer<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.put(s.as_bytes()).map_err(|Full| fmt::Error)
    }
}

/// An integer's decimal text, kept on the stack.
#[derive(Clone, Copy, Debug)]
pub struct Decimal {
    bytes: [u8; 20],
    start: u8,
}

impl Decimal {
    /// The digits of `value`.
    #[must_use]
    pub fn new(value: u64) -> Self {
        Self::digits(value, false)
    }

    /// The text of a signed `value`.
    #[must_use]
    pub fn signed(value: i64) -> Self {
        Self::digits(value.unsigned_abs(), value < 0)
    }

    fn digits(value: u64, negative: bool) -> Self {
        let mut bytes = [0u8; 20];
        let mut start = bytes.len();
        // Nine digits at a time in 32 bits: a 64-bit division would link a 0.9 KB routine on
        // Cortex-M. 20 digits hold u64::MAX; i64's magnitude has 19, leaving room for the sign.
        let (high, low) = div_rem_1e9(value);
        let (top, middle) = div_rem_1e9(high);
        for (chunk, last) in [
            (low, high == 0),
            (middle, top == 0),
            (u32::try_from(top).unwrap_or(0), true),
        ] {
            let mut chunk = chunk;
            for _ in 0..9 {
                let Some(slot) = start.checked_sub(1).and_then(|i| bytes.get_mut(i)) else {
                    break;
                };
                *slot = b'0' + u8::try_from(chunk % 10).unwrap_or(0);
                start -= 1;
                chunk /= 10;
                if last && chunk == 0 {
                    break;
                }
            }
            if last {
                break;
            }
        }
        if negative && let Some(slot) = start.checked_sub(1).and_then(|i| bytes.get_mut(i)) {
            *slot = b'-';
            start -= 1;
        }
        Self {
            bytes,
            start: u8::try_from(start).unwrap_or(0),
        }
    }

    /// The text.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8] {
        self.bytes
            .get(usize::from(self.start)..)
            .unwrap_or_default()
    }
}

const BILLION: u64 = 1_000_000_000;

/// `value / 10^9` and `value % 10^9`: a division where the CPU has a 64-bit one.
#[cfg(target_pointer_width = "64")]
fn div_rem_1e9(value: u64) -> (u64, u32) {
    (value / BILLION, u32::try_from(value % BILLION).unwrap_or(0))
}

/// `value / 10^9` and `value % 10^9` on 32-bit targets, where a 64-bit division links a
/// 0.9 KB routine.
#[cfg(not(target_pointer_width = "64"))]
fn div_rem_1e9(value: u64) -> (u64, u32) {
    shift_div_rem_1e9(value)
}

/// `value / 10^9` and `value % 10^9` by shifts and subtractions.
#[cfg_attr(target_pointer_width = "64", allow(dead_code))]
fn shift_div_rem_1e9(value: u64) -> (u64, u32) {
    if value < BILLION {
        return (0, u32::try_from(value).unwrap_or(0));
    }
    let (mut rest, mut quotient) = (value, 0u64);
    // 10^9 << 34 is below 2^64.
    for shift in (0..=34).rev() {
        let step = BILLION << shift;
        if rest >= step {
            rest -= step;
            quotient |= 1 << shift;
        }
    }
    (quotient, u32::try_from(rest).unwrap_or(0))
}

/// Writes `value` in decimal.
///
/// # Errors
/// The sink's error.
pub fn uint<S: Sink + ?Sized>(sink: &mut S, value: u64) -> Result<(), S::Error> {
    sink.put(Decimal::new(value).as_bytes())
}

/// Writes `value` in decimal.
///
/// # Errors
/// The sink's error.
pub fn int<S: Sink + ?Sized>(sink: &mut S, value: i64) -> Result<(), S::Error> {
    sink.put(Decimal::signed(value).as_bytes())
}

/// Writes `s` as a JSON string the way Python's `json.dumps` does with `ensure_ascii`: `\"`,
/// `\\`, `\b`, `\f`, `\n`, `\r`, `\t`, every other byte outside ` `..=`~` as `\u00xx`, and
/// every non-ASCII character as `\uxxxx` (a surrogate pair above U+FFFF), hex in lowercase.
///
/// # Errors
/// The sink's error.
pub fn string<S: Sink + ?Sized>(sink: &mut S, s: &str) -> Result<(), S::Error> {
    sink.put(b"\"")?;
    let bytes = s.as_bytes();
    let mut run = 0;
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if (b' '..=b'~').contains(&b) && b != b'"' && b != b'\\' {
            i += 1;
            continue;
        }
        sink.put(bytes.get(run..i).unwrap_or_default())?;
        let short: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x08 => b"\\b",
            0x0c => b"\\f",
            _ => b"",
        };
        if short.is_empty() {
            let c = s
                .get(i..)
                .and_then(|rest| rest.chars().next())
                .unwrap_or('\u{fffd}');
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                sink.put(&unicode_escape(*unit))?;
            }
            i += c.len_utf8();
        } else {
            sink.put(short)?;
            i += 1;
        }
        run = i;
    }
    sink.put(bytes.get(run..).unwrap_or_default())?;
    sink.put(b"\"")
}

fn unicode_escape(unit: u16) -> [u8; 6] {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let nibble = |shift: u16| {
        HEX.get(usize::from((unit >> shift) & 0xf))
            .copied()
            .unwrap_or(b'0')
    };
    [b'\\', b'u', nibble(12), nibble(8), nibble(4), nibble(0)]
}

/// A finite float's shortest round-trip digits: `0.DIGITS × 10^point`, the first digit
/// non-zero and no trailing zeros; no digits for zero.
#[derive(Clone, Copy, Debug)]
pub struct Digits {
    negative: bool,
    digits: [u8; 24],
    len: u8,
    point: i32,
}

/// A decimal text that [`Digits::parse`] does not take (not a finite number, or more digits
/// than a float's shortest form has).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("not a short decimal number")]
pub struct NotDecimal;

impl Digits {
    /// Reads a decimal number such as `-1.25`, `0.0001`, `1e16` or `1.5E-7`: the form any
    /// shortest-float printer writes (`core::fmt`'s `{:e}`, `ryu`).
    ///
    /// # Errors
    /// [`NotDecimal`] for anything else, or more than 24 significant digits.
    pub fn parse(text: &[u8]) -> Result<Self, NotDecimal> {
        let (negative, text) = match text.split_first() {
            Some((b'-', rest)) => (true, rest),
            _ => (false, text),
        };
        let (mantissa, exponent) = match text.iter().position(|&b| b == b'e' || b == b'E') {
            Some(at) => (
                text.get(..at).unwrap_or_default(),
                parse_exponent(text.get(at + 1..).unwrap_or_default())?,
            ),
            None => (text, 0),
        };
        let mut out = Self {
            negative,
            digits: [0; 24],
            len: 0,
            point: exponent,
        };
        let (mut seen_dot, mut seen_digit) = (false, false);
        for &b in mantissa {
            match b {
                b'.' if !seen_dot => seen_dot = true,
                b'0'..=b'9' => {
                    seen_digit = true;
                    if out.len == 0 && b == b'0' {
                        // A leading zero: after the point it moves the point left.
                        if seen_dot {
                            out.point -= 1;
                        }
                        continue;
                    }
                    let slot = out.digits.get_mut(usize::from(out.len)).ok_or(NotDecimal)?;
                    *slot = b;
                    out.len += 1;
                    if !seen_dot {
                        out.point += 1;
                    }
                }
                _ => return Err(NotDecimal),
            }
        }
        if !seen_digit {
            return Err(NotDecimal);
        }
        while out.len > 0 && out.digits.get(usize::from(out.len - 1)) == Some(&b'0') {
            out.len -= 1;
        }
        Ok(out)
    }

    /// The shortest round-trip digits of a finite `value`, the nearest ones and ties to even
    /// as Python's repr (`ryu`; `core::fmt` breaks ties upwards), `None` for NaN and the
    /// infinities.
    #[must_use]
    pub fn of(value: f64) -> Option<Self> {
        if !value.is_finite() {
            return None;
        }
        let mut buffer = ryu::Buffer::new();
        Self::parse(buffer.format_finite(value).as_bytes()).ok()
    }

    /// The fixed-point number `mantissa × 10^-scale` (`1231, 2` is 12.31), exactly; its repr
    /// is the repr of the float Python parses it to.
    ///
    /// # Errors
    /// [`InexactDecimal`] beyond 15 significant digits: a float cannot carry every such
    /// value, so Python's repr of it could differ.
    pub fn fixed(mantissa: i64, scale: u8) -> Result<Self, InexactDecimal> {
        let mut out = Self {
            negative: mantissa < 0,
            digits: [0; 24],
            len: 0,
            point: 0,
        };
        if mantissa == 0 {
            out.negative = false;
            return Ok(out);
        }
        let magnitude = Decimal::new(mantissa.unsigned_abs());
        let text = magnitude.as_bytes();
        let significant = text.len() - text.iter().rev().take_while(|&&b| b == b'0').count();
        if significant > 15 {
            return Err(InexactDecimal);
        }
        for (slot, &b) in out.digits.iter_mut().zip(text.iter().take(significant)) {
            *slot = b;
        }
        out.len = u8::try_from(significant).unwrap_or(0);
        out.point = i32::try_from(text.len()).unwrap_or(0) - i32::from(scale);
        Ok(out)
    }

    fn digits(&self) -> &[u8] {
        self.digits.get(..usize::from(self.len)).unwrap_or_default()
    }

    /// Writes the number as Python's `float.__repr__` does: positional notation while the
    /// decimal point is within 16 digits of the first digit (`0.0001`, `1e+16` is the first
    /// exponent form), otherwise `d.ddde±XX` with at least two exponent digits.
    ///
    /// # Errors
    /// The sink's error.
    pub fn write_repr<S: Sink + ?Sized>(&self, sink: &mut S) -> Result<(), S::Error> {
        if self.negative {
            sink.put(b"-")?;
        }
        let digits = self.digits();
        let Some((first, rest)) = digits.split_first() else {
            return sink.put(b"0.0");
        };
        let n = i32::from(self.len);
        let point = self.point;
        if point <= -4 || point > 16 {
            sink.put(core::slice::from_ref(first))?;
            if !rest.is_empty() {
                sink.put(b".")?;
                sink.put(rest)?;
            }
            let exponent = point - 1;
            sink.put(if exponent < 0 { b"e-" } else { b"e+" })?;
            if exponent.unsigned_abs() < 10 {
                sink.put(b"0")?;
            }
            return uint(sink, u64::from(exponent.unsigned_abs()));
        }
        if point <= 0 {
            sink.put(b"0.")?;
            zeros(sink, point.unsigned_abs())?;
            return sink.put(digits);
        }
        let whole = usize::try_from(point).unwrap_or(usize::MAX);
        match (digits.get(..whole), digits.get(whole..)) {
            (Some(int), Some(frac)) if !frac.is_empty() => {
                sink.put(int)?;
                sink.put(b".")?;
                sink.put(frac)
            }
            _ => {
                sink.put(digits)?;
                zeros(sink, (point - n).unsigned_abs())?;
                sink.put(b".0")
            }
        }
    }
}

fn parse_exponent(text: &[u8]) -> Result<i32, NotDecimal> {
    let (negative, digits) = match text.split_first() {
        Some((b'-', rest)) => (true, rest),
        Some((b'+', rest)) => (false, rest),
        _ => (false, text),
    };
    if digits.is_empty() || digits.len() > 4 {
        return Err(NotDecimal);
    }
    let mut value = 0i32;
    for &b in digits {
        if !b.is_ascii_digit() {
            return Err(NotDecimal);
        }
        value = value * 10 + i32::from(b - b'0');
    }
    Ok(if negative { -value } else { value })
}

fn zeros<S: Sink + ?Sized>(sink: &mut S, count: u32) -> Result<(), S::Error> {
    for _ in 0..count {
        sink.put(b"0")?;
    }
    Ok(())
}

/// Writes a float as Python's `json.dumps` does: its repr, or `NaN`, `Infinity`, `-Infinity`.
///
/// # Errors
/// The sink's error.
pub fn float<S: Sink + ?Sized>(sink: &mut S, value: f64) -> Result<(), S::Error> {
    if value.is_nan() {
        return sink.put(b"NaN");
    }
    if value.is_infinite() {
        return sink.put(if value < 0.0 {
            b"-Infinity"
        } else {
            b"Infinity"
        });
    }
    let mut buffer = ryu::Buffer::new();
    let shortest = buffer.format_finite(value).as_bytes();
    // From 1e-4 up to 1e16 ryu writes positional notation exactly as Python's repr does.
    let tiny = shortest.starts_with(b"0.0000") || shortest.starts_with(b"-0.0000");
    if !tiny && !shortest.contains(&b'e') {
        return sink.put(shortest);
    }
    match Digits::parse(shortest) {
        Ok(digits) => digits.write_repr(sink),
        Err(_) => sink.put(b"NaN"),
    }
}

/// A fixed-point value with more significant digits than a float carries exactly.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("more than 15 significant digits: a float would not keep them all")]
pub struct InexactDecimal;

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::String;

    fn render(write: impl FnOnce(&mut Buffer<'_>) -> Result<(), Full>) -> String {
        let mut raw = [0u8; 64];
        let mut buf = Buffer::new(&mut raw);
        write(&mut buf).unwrap();
        String::from_utf8(buf.as_bytes().to_vec()).unwrap()
    }

    fn repr(value: f64) -> String {
        render(|buf| float(buf, value))
    }

    #[test]
    fn floats_as_python_writes_them() {
        // Expected values: Python 3.11 `json.dumps` of each float.
        let cases = [
            (1.0, "1.0"),
            (-1.23, "-1.23"),
            (1e16, "1e+16"),
            (1e15, "1000000000000000.0"),
            (1.5e16, "1.5e+16"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (1.23e-5, "1.23e-05"),
            (-0.0, "-0.0"),
            (0.0, "0.0"),
            (123_456.0, "123456.0"),
            (1e22, "1e+22"),
            (1e100, "1e+100"),
            (5e-324, "5e-324"),
            (1.797_693_134_862_315_7e308, "1.7976931348623157e+308"),
            (0.1, "0.1"),
            // A tie between two 16-digit candidates: Python (and ryu) round to even.
            (-667_008_815_191_908.2, "-667008815191908.2"),
            (12.31, "12.31"),
            (1_611_583_070.0, "1611583070.0"),
            (f64::INFINITY, "Infinity"),
            (f64::NEG_INFINITY, "-Infinity"),
            (f64::NAN, "NaN"),
        ];
        for (value, want) in cases {
            assert_eq!(repr(value), want, "{value:e}");
        }
    }

    #[test]
    fn fixed_point_as_python_writes_the_float() {
        let cases = [
            (1231, 2, "12.31"),
            (-123, 2, "-1.23"),
            (5, 0, "5.0"),
            (1230, 2, "12.3"),
            (1, 5, "1e-05"),
            (1, 4, "0.0001"),
            (0, 3, "0.0"),
            (10_000_000_000_000_000, 0, "1e+16"),
            (-9_223_372_036_854_000, 3, "-9223372036854.0"),
        ];
        for (mantissa, scale, want) in cases {
            let digits = Digits::fixed(mantissa, scale).unwrap();
            assert_eq!(
                render(|buf| digits.write_repr(buf)),
                want,
                "{mantissa} {scale}"
            );
        }
        assert_eq!(
            Digits::fixed(1_234_567_890_123_456, 3).unwrap_err(),
            InexactDecimal
        );
    }

    #[test]
    fn strings_escaped_as_python_does() {
        let cases = [
            ("abc", r#""abc""#),
            ("a\"b\\c/", r#""a\"b\\c/""#),
            (
                "\n\r\t\u{8}\u{c}\u{0}\u{1f}\u{7f}",
                r#""\n\r\t\b\f\u0000\u001f\u007f""#,
            ),
            ("é€", r#""\u00e9\u20ac""#),
            ("😀x", r#""\ud83d\ude00x""#),
            ("", r#""""#),
        ];
        for (input, want) in cases {
            assert_eq!(render(|buf| string(buf, input)), want);
        }
    }

    #[test]
    fn integers() {
        for (value, want) in [(0, "0"), (-1, "-1"), (i64::MIN, "-9223372036854775808")] {
            assert_eq!(Decimal::signed(value).as_bytes(), want.as_bytes());
        }
        assert_eq!(Decimal::new(u64::MAX).as_bytes(), b"18446744073709551615");
        let mut value = 1u64;
        for _ in 0..40_000 {
            let text = alloc::format!("{value}");
            assert_eq!(Decimal::new(value).as_bytes(), text.as_bytes());
            for near in [
                value - 1,
                value.wrapping_add(1),
                value.wrapping_mul(10) / 10,
            ] {
                assert_eq!(
                    Decimal::new(near).as_bytes(),
                    alloc::format!("{near}").as_bytes()
                );
            }
            value = value
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407)
                >> (value % 64);
            value = value.max(1);
        }
    }

    #[test]
    fn buffer_refuses_overflow_without_a_partial_write() {
        let mut raw = [0u8; 4];
        let mut buf = Buffer::new(&mut raw);
        buf.put(b"abc").unwrap();
        assert_eq!(buf.put(b"de"), Err(Full));
        assert_eq!(buf.as_bytes(), b"abc");
    }
}
