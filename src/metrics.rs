//! OpenPAYGO Metrics, device side: signed reports built into a caller's buffer, signed answers
//! read back, byte-compatible with `openpaygo` 0.6.3 (feature `metrics`).
//!
//! A device reports its state as JSON (`{"sn":…,"ts":…,"d":[…],"hd":[[…],…],"a":"ra…"}`), signed
//! with the 16-byte key of its tokens. The signature is a SipHash-2-4 over texts the server
//! rebuilds with Python's `json.dumps(…, separators=(",", ":"))`, so the builder writes exactly
//! that form: Python's key order, `ensure_ascii` escapes and float repr. The server's answer
//! carries tokens, the credit time and settings under a `da` signature that [`Answer::verify`]
//! checks before any field is handed out.
//!
//! No heap, no panics, bounded work: the reader validates at most [`json::MAX_DEPTH`] levels of
//! nesting in one pass over the text.
//!
//! ```
//! use paylock::Key;
//! use paylock::metrics::{AuthMethod, Layout, Request};
//!
//! let key = Key::from_hex("dac86b1a29ab82edc5fbbc41ec9530f6")?;
//! let mut buf = [0u8; 256];
//! let mut request = Request::new(&mut buf, Layout::Condensed, "aaa111222")?;
//! request.data_format_id(1234)?;
//! request.timestamp(1_611_583_070)?;
//! request.request_count(42)?;
//! request.data(|d| {
//!     d.int("token_count", 3)?;
//!     d.bool("tampered", false)?;
//!     d.str("firmware_version", "1.2.3")
//! })?;
//! request.historical_data(|hd| {
//!     hd.row(|r| {
//!         r.decimal("panel_voltage", 1231, 2)?;
//!         r.decimal("battery_voltage", 1232, 2)?;
//!         r.decimal("panel_current", 123, 2)?;
//!         r.decimal("battery_current", -123, 2)
//!     })?;
//!     hd.row(|r| {
//!         r.float("panel_voltage", 12.3)?;
//!         r.float("battery_voltage", 12.31)?;
//!         r.float("panel_current", 1.22)?;
//!         r.float("battery_current", -1.21)
//!     })
//! })?;
//! let text = request.sign(&key, AuthMethod::RecursiveData)?;
//! assert_eq!(
//!     text,
//!     r#"{"sn":"aaa111222","df":1234,"ts":1611583070,"rc":42,"d":[3,false,"1.2.3"],"#.to_owned()
//!         + r#""hd":[[12.31,12.32,1.23,-1.23],[12.3,12.31,1.22,-1.21]],"a":"rab238345b463539c4"}"#
//! );
//! # Ok::<(), Box<dyn core::error::Error>>(())
//! ```

mod answer;
mod auth;
pub mod json;
mod request;
pub mod text;

pub use answer::{Answer, AnswerError, AnswerField, Object, Sent, Tokens, Unverified, Value};
pub use auth::{
    AuthMethod, Dialect, HashHex, RequestParts, ResponseParts, SignError, Signature, hash_hex,
    sign_request, sign_response,
};
pub use request::{BuildError, Layout, Request, Rows, Values};
