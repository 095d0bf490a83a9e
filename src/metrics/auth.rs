//! The five request signatures and the answer's `da` signature, over JSON texts given as they
//! are sent, so that device and server compute them from the same bytes.
//!
//! Every rule here is `openpaygo` 0.6.3's: a part is hashed only when Python finds it "truthy"
//! (a timestamp of 0, an empty list or object is left out), `ra` always hashes the data (`[]`
//! when the key is missing), and a hash is written as lowercase hex without zero padding.

use core::fmt;

use super::json::{self, JsonError, Kind};
use super::text::{self, Sink};
use crate::key::Key;
use crate::siphash::{SipHash24, SipStream};

/// How a request is signed: the two letters that start its `auth` value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AuthMethod {
    /// `sa`: the serial number alone. The same on every request: it proves nothing fresh.
    Simple,
    /// `ta`: serial number and timestamp.
    Timestamp,
    /// `ca`: serial number and request count.
    Counter,
    /// `da`: serial number, timestamp, request count, data and historical data in one hash.
    Data,
    /// `ra`: the same parts hashed one after the other, each step over the previous step's hex;
    /// a device needs no buffer for the whole text. The spec's recommendation.
    RecursiveData,
}

impl AuthMethod {
    /// Every method, in the spec's order.
    pub const ALL: [Self; 5] = [
        Self::Simple,
        Self::Timestamp,
        Self::Counter,
        Self::Data,
        Self::RecursiveData,
    ];

    /// The two-letter prefix of the `auth` value.
    #[must_use]
    pub const fn prefix(self) -> &'static str {
        match self {
            Self::Simple => "sa",
            Self::Timestamp => "ta",
            Self::Counter => "ca",
            Self::Data => "da",
            Self::RecursiveData => "ra",
        }
    }

    /// The method a prefix names (exact, lowercase), if any.
    #[must_use]
    pub fn from_prefix(prefix: &[u8]) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|m| m.prefix().as_bytes() == prefix)
    }

    /// Whether the signature covers the data and historical data (`da`, `ra`).
    #[must_use]
    pub const fn covers_data(self) -> bool {
        matches!(self, Self::Data | Self::RecursiveData)
    }
}

/// What the device's firmware feeds SipHash. The server must know which one a device uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Dialect {
    /// The text's UTF-8 bytes, as `openpaygo` 0.6.3 and the spec do.
    #[default]
    Standard,
    /// The text and a trailing NUL byte, as the OpenPAYGO-HDK firmware does (it hashes a C
    /// string with `sizeof`, terminator included). Applies to every hashed message.
    HdkTrailingNul,
}

/// A SipHash-2-4 value as lowercase hex without leading zeros (Python's `"{:x}"`), 1 to 16
/// ASCII characters.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct HashHex {
    bytes: [u8; 16],
    len: u8,
}

impl HashHex {
    fn new(hash: u64) -> Self {
        let mut bytes = [0u8; 16];
        // Number of hex digits: at least one, for zero.
        let digits = (16 - hash.leading_zeros() / 4).max(1);
        let mut rest = hash;
        for slot in bytes
            .iter_mut()
            .take(usize::try_from(digits).unwrap_or(16))
            .rev()
        {
            let nibble = usize::try_from(rest & 0xf).unwrap_or(0);
            *slot = HEX.get(nibble).copied().unwrap_or(b'0');
            rest >>= 4;
        }
        Self {
            bytes,
            len: u8::try_from(digits).unwrap_or(16),
        }
    }

    /// The hex text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        let bytes = self.bytes.get(..usize::from(self.len)).unwrap_or_default();
        core::str::from_utf8(bytes).unwrap_or_default()
    }
}

impl fmt::Debug for HashHex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

const HEX: [u8; 16] = *b"0123456789abcdef";

/// The SipHash-2-4 of `message` under `key`, as the Metrics signatures write it.
#[must_use]
pub fn hash_hex(key: &Key, message: &[u8]) -> HashHex {
    HashHex::new(SipHash24::new(key).hash(message))
}

/// An `auth` value: the method's two letters and the hash's hex, at most 18 ASCII characters.
/// Not secret (it travels in the clear), so `Debug` shows it.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Signature {
    method: AuthMethod,
    hex: HashHex,
}

impl Signature {
    /// The method that made it.
    #[must_use]
    pub const fn method(&self) -> AuthMethod {
        self.method
    }

    /// The hash part, without the method's letters.
    #[must_use]
    pub const fn hex(&self) -> &HashHex {
        &self.hex
    }

    /// Writes the full value (`"ra"` + hex) to `sink`.
    ///
    /// # Errors
    /// The sink's error when it is full.
    pub fn write_to<S: Sink + ?Sized>(&self, sink: &mut S) -> Result<(), S::Error> {
        sink.put(self.method.prefix().as_bytes())?;
        sink.put(self.hex.as_str().as_bytes())
    }

    /// Whether `given` is this signature, compared without an early exit on the first
    /// differing byte. (Lengths are public: the hex carries no padding.)
    #[must_use]
    pub fn matches(&self, given: &[u8]) -> bool {
        let prefix = self.method.prefix().as_bytes();
        let hex = self.hex.as_str().as_bytes();
        if given.len() != prefix.len() + hex.len() {
            return false;
        }
        let mut diff = 0u8;
        for (x, y) in prefix.iter().chain(hex).zip(given) {
            diff |= core::hint::black_box(x ^ y);
        }
        core::hint::black_box(diff) == 0
    }
}

impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.method.prefix(), self.hex.as_str())
    }
}

impl fmt::Display for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// Why a request cannot be signed (or, on the server, checked) with its method.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignError {
    /// `ta` needs a non-zero timestamp (0.6.3 raises the same).
    #[error("timestamp auth (ta) needs a non-zero timestamp")]
    MissingTimestamp,
    /// `ca` needs a non-zero request count (0.6.3 raises the same).
    #[error("counter auth (ca) needs a non-zero request_count")]
    MissingRequestCount,
    /// The historical data handed to `ra` is not JSON, or not a list or object to walk.
    #[error("historical_data: {0}")]
    HistoricalData(JsonError),
}

/// The signed parts of a request, each as sent. A number of 0 counts as absent, as in 0.6.3.
#[derive(Clone, Copy, Debug, Default)]
pub struct RequestParts<'a> {
    /// The serial number, unescaped.
    pub serial_number: &'a str,
    /// The timestamp (0: none).
    pub timestamp: u64,
    /// The request count (0: none).
    pub request_count: u64,
    /// The JSON text of the `data` value; `None` when the request has no `data` key.
    pub data: Option<&'a [u8]>,
    /// The JSON text of the `historical_data` value; `None` when the request has none.
    pub historical_data: Option<&'a [u8]>,
}

/// Signs a request's parts with `method`.
///
/// # Errors
/// [`SignError`] when the method's part is missing (`ta`, `ca`), or `ra` is given historical
/// data that is not valid JSON or is neither a list nor an object.
pub fn sign_request(
    key: &Key,
    method: AuthMethod,
    dialect: Dialect,
    parts: &RequestParts<'_>,
) -> Result<Signature, SignError> {
    let hasher = Hasher::new(key, dialect);
    let serial = parts.serial_number.as_bytes();
    let hash = match method {
        AuthMethod::Simple => hasher.hash(&[serial]),
        AuthMethod::Timestamp => {
            if parts.timestamp == 0 {
                return Err(SignError::MissingTimestamp);
            }
            hasher.hash(&[serial, text::Decimal::new(parts.timestamp).as_bytes()])
        }
        AuthMethod::Counter => {
            if parts.request_count == 0 {
                return Err(SignError::MissingRequestCount);
            }
            hasher.hash(&[serial, text::Decimal::new(parts.request_count).as_bytes()])
        }
        AuthMethod::Data => {
            let mut stream = hasher.stream();
            stream.write(serial);
            write_number(&mut stream, parts.timestamp);
            write_number(&mut stream, parts.request_count);
            for json in [parts.data, parts.historical_data].into_iter().flatten() {
                if json::is_truthy(json) {
                    stream.write(json);
                }
            }
            hasher.finish(stream)
        }
        AuthMethod::RecursiveData => recursive(&hasher, parts)?,
    };
    Ok(Signature {
        method,
        hex: HashHex::new(hash),
    })
}

/// `ra`: serial, then timestamp, request count, data and each historical row, every step over
/// the previous step's hex.
fn recursive(hasher: &Hasher, parts: &RequestParts<'_>) -> Result<u64, SignError> {
    let mut hash = hasher.hash(&[parts.serial_number.as_bytes()]);
    for number in [parts.timestamp, parts.request_count] {
        if number != 0 {
            let step = HashHex::new(hash);
            hash = hasher.hash(&[
                step.as_str().as_bytes(),
                text::Decimal::new(number).as_bytes(),
            ]);
        }
    }
    let step = HashHex::new(hash);
    hash = hasher.hash(&[step.as_str().as_bytes(), parts.data.unwrap_or(b"[]")]);
    let Some(rows) = parts.historical_data else {
        return Ok(hash);
    };
    // Python iterates the value: a list's items, an object's keys.
    let step_over = |part: &[u8]| {
        let step = HashHex::new(hash);
        hash = hasher.hash(&[step.as_str().as_bytes(), part]);
    };
    let first = rows.iter().copied().find(|b| !b.is_ascii_whitespace());
    match first.map(json::kind_of) {
        // A list's items, an object's keys (its own serializer's text: split, not validated).
        Some(Kind::Array | Kind::Object) => json::entries(rows).for_each(step_over),
        // Python walks an empty string's characters: none.
        Some(Kind::String) if rows.trim_ascii() == b"\"\"" => {}
        _ => return Err(SignError::HistoricalData(JsonError::not_iterable())),
    }
    Ok(hash)
}

fn write_number(stream: &mut SipStream, number: u64) {
    if number != 0 {
        stream.write(text::Decimal::new(number).as_bytes());
    }
}

/// The signed parts of an answer, each the JSON text as sent; a part is hashed only if it is
/// truthy (a zero, an empty list or object is left out).
#[derive(Clone, Copy, Debug, Default)]
pub struct ResponseParts<'a> {
    /// The request's serial number.
    pub serial_number: &'a str,
    /// The request's timestamp (0: none).
    pub timestamp: u64,
    /// The request's count (0: none).
    pub request_count: u64,
    /// `active_until_timestamp` (`auts`).
    pub active_until: Option<&'a [u8]>,
    /// `active_seconds_left` (`asl`).
    pub active_seconds_left: Option<&'a [u8]>,
    /// `token_list` (`tkl`).
    pub token_list: Option<&'a [u8]>,
    /// `settings` (`st`).
    pub settings: Option<&'a [u8]>,
    /// `extra_data` (`ed`).
    pub extra_data: Option<&'a [u8]>,
}

/// The `da` signature of an answer. 0.6.3 hashes `str()` of the two times; for the numbers a
/// server writes (integers, Python float repr) that is their JSON text.
#[must_use]
pub fn sign_response(key: &Key, parts: &ResponseParts<'_>) -> Signature {
    let hasher = Hasher::new(key, Dialect::Standard);
    let mut stream = hasher.stream();
    stream.write(parts.serial_number.as_bytes());
    write_number(&mut stream, parts.timestamp);
    write_number(&mut stream, parts.request_count);
    for json in [
        parts.active_until,
        parts.active_seconds_left,
        parts.token_list,
        parts.settings,
        parts.extra_data,
    ]
    .into_iter()
    .flatten()
    {
        if json::is_truthy(json) {
            stream.write(json);
        }
    }
    Signature {
        method: AuthMethod::Data,
        hex: HashHex::new(hasher.finish(stream)),
    }
}

/// The keyed hash and the dialect's terminator.
struct Hasher {
    sip: SipHash24,
    nul: bool,
}

impl Hasher {
    fn new(key: &Key, dialect: Dialect) -> Self {
        Self {
            sip: SipHash24::new(key),
            nul: dialect == Dialect::HdkTrailingNul,
        }
    }

    fn stream(&self) -> SipStream {
        SipStream::new(&self.sip)
    }

    fn finish(&self, mut stream: SipStream) -> u64 {
        if self.nul {
            stream.write(&[0]);
        }
        stream.finish()
    }

    fn hash(&self, pieces: &[&[u8]]) -> u64 {
        let mut stream = self.stream();
        for piece in pieces {
            stream.write(piece);
        }
        self.finish(stream)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_has_no_zero_padding() {
        assert_eq!(HashHex::new(0).as_str(), "0");
        assert_eq!(HashHex::new(0xf).as_str(), "f");
        assert_eq!(
            HashHex::new(0x0123_4567_89ab_cdef).as_str(),
            "123456789abcdef"
        );
        assert_eq!(HashHex::new(u64::MAX).as_str(), "ffffffffffffffff");
    }

    #[test]
    fn prefixes_round_trip() {
        for method in AuthMethod::ALL {
            assert_eq!(
                AuthMethod::from_prefix(method.prefix().as_bytes()),
                Some(method)
            );
        }
        assert_eq!(AuthMethod::from_prefix(b"RA"), None);
        assert_eq!(AuthMethod::from_prefix(b"r"), None);
    }

    #[test]
    fn signature_matches_only_itself() {
        let key = Key::new([1; 16]);
        let parts = RequestParts {
            serial_number: "x",
            ..RequestParts::default()
        };
        let sig = sign_request(&key, AuthMethod::Simple, Dialect::Standard, &parts).unwrap();
        let mut text = [0u8; 18];
        let mut out = text::Buffer::new(&mut text);
        sig.write_to(&mut out).unwrap();
        let written = out.as_bytes();
        assert!(sig.matches(written));
        assert!(!sig.matches(&written[..written.len() - 1]));
        let mut changed = [0u8; 18];
        changed[..written.len()].copy_from_slice(written);
        changed[0] = b'd';
        assert!(!sig.matches(&changed[..written.len()]));
    }
}
