//! A device's report, written into a caller's buffer in the exact bytes `openpaygo` 0.6.3's
//! `MetricsRequestHandler` produces for the same values, then signed.
//!
//! The parts go in 0.6.3's order, enforced: serial number, data format id, timestamp, request
//! count, data, historical data, auth. What 0.6.3 writes for a part never set is written too
//! (`"data":{}` and `"historical_data":{}` in the simple form, `"d":[]` and `"hd":[]` in the
//! condensed one), and a condensed list drops its trailing nulls, as 0.6.3 does.

use super::auth::{self, AuthMethod, Dialect, RequestParts, SignError};
use super::text::{self, Buffer, Digits, Full, Sink};
use crate::key::Key;

/// How the report names its parts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Layout {
    /// Full key names (`serial_number`, `data`…) and named data values.
    #[default]
    Simple,
    /// Short key names (`sn`, `d`…) and positional data, in the order of the data format
    /// registered with the server (`data_order`, `historical_data_order`).
    Condensed,
}

impl Layout {
    const fn key(self, simple: &'static str, condensed: &'static str) -> &'static str {
        match self {
            Self::Simple => simple,
            Self::Condensed => condensed,
        }
    }
}

/// Why a report cannot be built.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// The buffer is too small for the report.
    #[error("the output buffer is full")]
    Full,
    /// A part was written after one that follows it in a report.
    #[error("{field} comes before the parts already written")]
    Order {
        /// The part written too late (its simple key name).
        field: &'static str,
    },
    /// A fixed-point value with more than 15 significant digits.
    #[error("a decimal value has more than 15 significant digits")]
    InexactDecimal,
    /// The auth method's part is missing.
    #[error(transparent)]
    Sign(#[from] SignError),
}

impl From<Full> for BuildError {
    fn from(Full: Full) -> Self {
        Self::Full
    }
}

/// The report's parts in their order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Stage {
    Serial,
    DataFormat,
    Timestamp,
    RequestCount,
    Data,
    HistoricalData,
}

/// A report being written. Finish it with [`Request::sign`].
#[derive(Debug)]
pub struct Request<'b, 's> {
    out: Buffer<'b>,
    form: Layout,
    serial_number: &'s str,
    timestamp: u64,
    request_count: u64,
    stage: Stage,
    data: Option<(usize, usize)>,
    historical_data: Option<(usize, usize)>,
}

impl<'b, 's> Request<'b, 's> {
    /// Starts a report of the device `serial_number` in `buf`.
    ///
    /// # Errors
    /// [`BuildError::Full`] when `buf` is too small.
    pub fn new(
        buf: &'b mut [u8],
        form: Layout,
        serial_number: &'s str,
    ) -> Result<Self, BuildError> {
        let mut out = Buffer::new(buf);
        out.put(b"{\"")?;
        out.put(form.key("serial_number", "sn").as_bytes())?;
        out.put(b"\":")?;
        text::string(&mut out, serial_number)?;
        Ok(Self {
            out,
            form,
            serial_number,
            timestamp: 0,
            request_count: 0,
            stage: Stage::Serial,
            data: None,
            historical_data: None,
        })
    }

    /// Moves to `stage` and writes its key, refusing to go back.
    fn part(
        &mut self,
        stage: Stage,
        simple: &'static str,
        condensed: &'static str,
    ) -> Result<(), BuildError> {
        if stage <= self.stage {
            return Err(BuildError::Order { field: simple });
        }
        self.stage = stage;
        self.out.put(b",\"")?;
        self.out.put(self.form.key(simple, condensed).as_bytes())?;
        self.out.put(b"\":")?;
        Ok(())
    }

    /// The id of the data format registered with the server (`data_format_id`, `df`).
    ///
    /// # Errors
    /// [`BuildError::Full`], or [`BuildError::Order`] after a later part.
    pub fn data_format_id(&mut self, id: u64) -> Result<(), BuildError> {
        self.part(Stage::DataFormat, "data_format_id", "df")?;
        text::uint(&mut self.out, id)?;
        Ok(())
    }

    /// The device's clock, Unix seconds (`timestamp`, `ts`). The server refuses a timestamp not
    /// above the last one it accepted. 0 is written but, as in 0.6.3, counts as no timestamp.
    ///
    /// # Errors
    /// [`BuildError::Full`], or [`BuildError::Order`] after a later part.
    pub fn timestamp(&mut self, timestamp: u64) -> Result<(), BuildError> {
        self.part(Stage::Timestamp, "timestamp", "ts")?;
        text::uint(&mut self.out, timestamp)?;
        self.timestamp = timestamp;
        Ok(())
    }

    /// The report's number, one more on every report (`request_count`, `rc`). The server
    /// refuses a count not above the last one it accepted. 0 counts as no count.
    ///
    /// # Errors
    /// [`BuildError::Full`], or [`BuildError::Order`] after a later part.
    pub fn request_count(&mut self, count: u64) -> Result<(), BuildError> {
        self.part(Stage::RequestCount, "request_count", "rc")?;
        text::uint(&mut self.out, count)?;
        self.request_count = count;
        Ok(())
    }

    /// The current values (`data`, `d`), written by `write` in the data format's `data_order`.
    ///
    /// # Errors
    /// [`BuildError::Full`], [`BuildError::Order`] after a later part, or `write`'s error.
    pub fn data(
        &mut self,
        write: impl FnOnce(&mut Values<'_, 'b>) -> Result<(), BuildError>,
    ) -> Result<(), BuildError> {
        self.part(Stage::Data, "data", "d")?;
        let start = self.out.len();
        let mut fields = Values::open(&mut self.out, self.form)?;
        write(&mut fields)?;
        fields.close()?;
        self.data = Some((start, self.out.len()));
        Ok(())
    }

    /// Past values, oldest first (`historical_data`, `hd`): `write` adds each row with
    /// [`Rows::row`], in the data format's `historical_data_order`.
    ///
    /// # Errors
    /// [`BuildError::Full`], [`BuildError::Order`] after a later part, or `write`'s error.
    pub fn historical_data(
        &mut self,
        write: impl FnOnce(&mut Rows<'_, 'b>) -> Result<(), BuildError>,
    ) -> Result<(), BuildError> {
        if self.stage < Stage::Data {
            self.data(|_| Ok(()))?;
        }
        self.part(Stage::HistoricalData, "historical_data", "hd")?;
        let start = self.out.len();
        self.out.put(b"[")?;
        let mut rows = Rows {
            out: &mut self.out,
            form: self.form,
            count: 0,
        };
        write(&mut rows)?;
        self.out.put(b"]")?;
        self.historical_data = Some((start, self.out.len()));
        Ok(())
    }

    /// Writes the parts 0.6.3 always sends: empty data and historical data.
    fn defaults(&mut self) -> Result<(), BuildError> {
        if self.stage < Stage::Data {
            self.data(|_| Ok(()))?;
        }
        if self.stage < Stage::HistoricalData {
            self.part(Stage::HistoricalData, "historical_data", "hd")?;
            let start = self.out.len();
            // 0.6.3 starts historical data as a dict; the condensed form turns it into a list.
            self.out.put(self.form.key("{}", "[]").as_bytes())?;
            self.historical_data = Some((start, self.out.len()));
        }
        Ok(())
    }

    /// Signs the report with `key` and `method`, closes it and returns its text.
    ///
    /// # Errors
    /// [`BuildError::Full`], or [`BuildError::Sign`] when the method's part is missing (`ta`
    /// without a timestamp, `ca` without a request count).
    pub fn sign(mut self, key: &Key, method: AuthMethod) -> Result<&'b str, BuildError> {
        self.defaults()?;
        let span = |range: Option<(usize, usize)>| {
            range.map(|(start, end)| self.out.as_bytes().get(start..end).unwrap_or_default())
        };
        let parts = RequestParts {
            serial_number: self.serial_number,
            timestamp: self.timestamp,
            request_count: self.request_count,
            data: span(self.data),
            historical_data: span(self.historical_data),
        };
        let signature = auth::sign_request(key, method, Dialect::Standard, &parts)?;
        self.out.put(b",\"")?;
        self.out.put(self.form.key("auth", "a").as_bytes())?;
        self.out.put(b"\":\"")?;
        signature.write_to(&mut self.out)?;
        self.out.put(b"\"}")?;
        Ok(self.into_text())
    }

    /// Closes the report without a signature (0.6.3 without an auth method).
    ///
    /// # Errors
    /// [`BuildError::Full`].
    pub fn finish_unsigned(mut self) -> Result<&'b str, BuildError> {
        self.defaults()?;
        self.out.put(b"}")?;
        Ok(self.into_text())
    }

    fn into_text(self) -> &'b str {
        // Everything written came from `&str`s and ASCII.
        core::str::from_utf8(self.out.into_bytes()).unwrap_or_default()
    }
}

/// The historical rows being written.
#[derive(Debug)]
pub struct Rows<'r, 'b> {
    out: &'r mut Buffer<'b>,
    form: Layout,
    count: usize,
}

impl<'b> Rows<'_, 'b> {
    /// Adds one row, its values written by `write`.
    ///
    /// # Errors
    /// [`BuildError::Full`] or `write`'s error.
    pub fn row(
        &mut self,
        write: impl FnOnce(&mut Values<'_, 'b>) -> Result<(), BuildError>,
    ) -> Result<(), BuildError> {
        if self.count > 0 {
            self.out.put(b",")?;
        }
        self.count += 1;
        let mut fields = Values::open(self.out, self.form)?;
        write(&mut fields)?;
        fields.close()
    }
}

/// The values of `data` or of one historical row. In the simple form each is written under its
/// name; in the condensed form only its position counts (the name is ignored) and trailing
/// nulls are dropped, as 0.6.3 does. Names must be distinct.
#[derive(Debug)]
pub struct Values<'r, 'b> {
    out: &'r mut Buffer<'b>,
    form: Layout,
    count: usize,
    /// Condensed nulls not written yet: only a later value makes them part of the list.
    nulls: usize,
}

impl<'r, 'b> Values<'r, 'b> {
    fn open(out: &'r mut Buffer<'b>, form: Layout) -> Result<Self, BuildError> {
        out.put(form.key("{", "[").as_bytes())?;
        Ok(Self {
            out,
            form,
            count: 0,
            nulls: 0,
        })
    }

    fn close(self) -> Result<(), BuildError> {
        self.out.put(self.form.key("}", "]").as_bytes())?;
        Ok(())
    }

    /// The separator and the name (simple form), or the pending nulls (condensed form).
    fn name(&mut self, name: &str) -> Result<&mut Buffer<'b>, BuildError> {
        match self.form {
            Layout::Simple => {
                if self.count > 0 {
                    self.out.put(b",")?;
                }
                text::string(self.out, name)?;
                self.out.put(b":")?;
            }
            Layout::Condensed => {
                for _ in 0..self.nulls {
                    self.out
                        .put(if self.count > 0 { b",null" } else { b"null" })?;
                    self.count += 1;
                }
                self.nulls = 0;
                if self.count > 0 {
                    self.out.put(b",")?;
                }
            }
        }
        self.count += 1;
        Ok(self.out)
    }

    /// An integer.
    ///
    /// # Errors
    /// [`BuildError::Full`].
    pub fn int(&mut self, name: &str, value: i64) -> Result<(), BuildError> {
        text::int(self.name(name)?, value)?;
        Ok(())
    }

    /// A non-negative integer.
    ///
    /// # Errors
    /// [`BuildError::Full`].
    pub fn uint(&mut self, name: &str, value: u64) -> Result<(), BuildError> {
        text::uint(self.name(name)?, value)?;
        Ok(())
    }

    /// `true` or `false`.
    ///
    /// # Errors
    /// [`BuildError::Full`].
    pub fn bool(&mut self, name: &str, value: bool) -> Result<(), BuildError> {
        let out = self.name(name)?;
        out.put(if value { b"true" } else { b"false" })?;
        Ok(())
    }

    /// A string.
    ///
    /// # Errors
    /// [`BuildError::Full`].
    pub fn str(&mut self, name: &str, value: &str) -> Result<(), BuildError> {
        text::string(self.name(name)?, value)?;
        Ok(())
    }

    /// A float, written as Python's repr (`12.31`, `1e-05`, `1.0`). Links `core`'s float
    /// formatting; [`Values::decimal`] does not.
    ///
    /// # Errors
    /// [`BuildError::Full`].
    pub fn float(&mut self, name: &str, value: f64) -> Result<(), BuildError> {
        text::float(self.name(name)?, value)?;
        Ok(())
    }

    /// The fixed-point value `mantissa × 10^-scale` (`1231, 2` writes `12.31`), as Python writes
    /// the float it reads: a float field without float code on the device.
    ///
    /// # Errors
    /// [`BuildError::InexactDecimal`] beyond 15 significant digits, or [`BuildError::Full`].
    pub fn decimal(&mut self, name: &str, mantissa: i64, scale: u8) -> Result<(), BuildError> {
        let digits = Digits::fixed(mantissa, scale).map_err(|_| BuildError::InexactDecimal)?;
        digits.write_repr(self.name(name)?)?;
        Ok(())
    }

    /// No value (`null`); in the condensed form a trailing one is dropped.
    ///
    /// # Errors
    /// [`BuildError::Full`].
    pub fn null(&mut self, name: &str) -> Result<(), BuildError> {
        if self.form == Layout::Condensed {
            self.nulls += 1;
            return Ok(());
        }
        self.name(name)?.put(b"null")?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> Key {
        Key::from_hex("dac86b1a29ab82edc5fbbc41ec9530f6").unwrap()
    }

    #[test]
    fn empty_parts_as_0_6_3_sends_them() {
        let mut buf = [0u8; 128];
        let request = Request::new(&mut buf, Layout::Simple, "s1").unwrap();
        assert_eq!(
            request.finish_unsigned().unwrap(),
            r#"{"serial_number":"s1","data":{},"historical_data":{}}"#
        );
        let mut buf = [0u8; 128];
        let mut request = Request::new(&mut buf, Layout::Condensed, "s1").unwrap();
        request.request_count(7).unwrap();
        assert_eq!(
            request.finish_unsigned().unwrap(),
            r#"{"sn":"s1","rc":7,"d":[],"hd":[]}"#
        );
    }

    #[test]
    fn condensed_drops_trailing_nulls_only() {
        let mut buf = [0u8; 128];
        let mut request = Request::new(&mut buf, Layout::Condensed, "s").unwrap();
        request
            .data(|d| {
                d.null("a")?;
                d.int("b", 1)?;
                d.null("c")?;
                d.null("d")?;
                d.bool("e", true)?;
                d.null("f")
            })
            .unwrap();
        request
            .historical_data(|hd| {
                hd.row(|r| r.null("x"))?;
                hd.row(|r| r.decimal("y", 5, 1))
            })
            .unwrap();
        assert_eq!(
            request.finish_unsigned().unwrap(),
            r#"{"sn":"s","d":[null,1,null,null,true],"hd":[[],[0.5]]}"#
        );
    }

    #[test]
    fn parts_out_of_order_are_refused() {
        let mut buf = [0u8; 128];
        let mut request = Request::new(&mut buf, Layout::Simple, "s").unwrap();
        request.request_count(1).unwrap();
        assert_eq!(
            request.timestamp(5),
            Err(BuildError::Order { field: "timestamp" })
        );
        request.historical_data(|_| Ok(())).unwrap();
        assert_eq!(
            request.data(|_| Ok(())),
            Err(BuildError::Order { field: "data" })
        );
    }

    #[test]
    fn methods_need_their_part() {
        let mut buf = [0u8; 128];
        let request = Request::new(&mut buf, Layout::Simple, "s").unwrap();
        assert_eq!(
            request.sign(&key(), AuthMethod::Timestamp),
            Err(BuildError::Sign(SignError::MissingTimestamp))
        );
    }

    #[test]
    fn a_small_buffer_is_an_error() {
        for len in 0..60 {
            let mut buf = [0u8; 60];
            let built = Request::new(&mut buf[..len], Layout::Simple, "aaa").and_then(|mut r| {
                r.timestamp(1)?;
                r.sign(&key(), AuthMethod::Data)
            });
            if let Ok(text) = built {
                assert!(text.len() <= len);
            } else {
                assert_eq!(built, Err(BuildError::Full));
            }
        }
    }
}
