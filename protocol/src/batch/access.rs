//! `"scheme":"access"` requests (AST v1, `docs/access.md`): `derive_key`, `generate` and
//! `verify`, with the names and shapes of `test-vectors/access/`.
//!
//! `derive_key` is the factory's KDF:
//! `{"scheme":"access","op":"derive_key","suite":0,"batch_key_hex":"…","device_id":123456789,
//! "key_rev":0}` → `{"ok":true,"device_key_hex":"…"}`.
//!
//! `generate` issues one token (see [`generate`] for the value fields of each type):
//! `{"scheme":"access","op":"generate","suite":0,"profile":"L","device_key_hex":"…",
//! "device_id":123456789,"key_rev":0,"counter":1,"type":"ADD_CREDIT","value":72}`
//! → `{"ok":true,"text":"3359 3381 3865 7142 9876","digits":"33593381386571429876"}`.
//! TEST codes take `"type":"TEST","test_id":0` and no device fields.
//!
//! `verify` enters a token on a device (see [`verify`]):
//! `{"scheme":"access","op":"verify","config":{…},"state":{…},"input":"…","now":1000}`
//! → `{"ok":true,"result":{…},"state":{…}}`, where `config`, `state` and `result` are the
//! objects of `ast_v1_decode.json`. A MALFORMED entry is a result like any other.
//!
//! `derive_key` and `generate` also take `"trace":true`, which adds a `trace` object with the
//! intermediates under the vector files' names (`kdf_inputs_hex`, `mac_input_hex`, `body`, …).

mod generate;
mod verify;

pub(super) use verify::secret as device_secret;

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use serde_json::json;

use super::fields::{conflicting, not_one_of, one_of, optional};
use super::{BatchError, Fields, to_json};
use paylock::access::{self, AstConfigError, Profile, Suite, SuiteUnavailable, TEST_DEVICE_ID};

pub(super) fn handle(f: &Fields<'_>) -> Result<String, BatchError> {
    match f.str("op")? {
        "derive_key" => derive_key(f),
        "generate" => generate::generate(f),
        "verify" => verify::verify(f),
        _ => Err(super::unknown_op(
            "access",
            &["derive_key", "generate", "verify"],
        )),
    }
}

/// `suite`: 0, 1 or 2, and compiled into this build.
pub(crate) fn suite(f: &Fields<'_>) -> Result<Suite, BatchError> {
    let code = f.uint("suite", u64::MAX)?;
    let suite = u8::try_from(code)
        .ok()
        .and_then(Suite::from_code)
        .ok_or_else(|| {
            not_one_of(
                "suite",
                &["0 (AES-128-CMAC)", "1 (HMAC-SHA-256)", "2 (SipHash-2-4)"],
                "invalid_suite",
            )
        })?;
    suite.check().map_err(unavailable)
}

/// `profile`: `L`, `M` or `S`.
pub(crate) fn profile(f: &Fields<'_>) -> Result<Profile, BatchError> {
    let letter = one_of(f, "profile", &["L", "M", "S"], "invalid_profile")?;
    letter
        .bytes()
        .next()
        .and_then(Profile::from_letter)
        .ok_or_else(|| BatchError::new("invalid_profile", "field \"profile\" is empty"))
}

/// `device_id`: any `u32` but `0xFFFFFFFF`, which TEST codes use.
fn device_id(f: &Fields<'_>) -> Result<u32, BatchError> {
    f.u32("device_id", TEST_DEVICE_ID - 1).map_err(|mut e| {
        if e.kind == "out_of_range" {
            e.message
                .push_str(" (0xFFFFFFFF is reserved for TEST codes)");
        }
        e
    })
}

/// `key_rev`: the full key revision, 0-255.
fn key_rev(f: &Fields<'_>) -> Result<u8, BatchError> {
    let rev = f.u32("key_rev", u8::MAX.into())?;
    Ok(u8::try_from(rev).unwrap_or(u8::MAX))
}

/// The optional `trace` flag.
fn traced(f: &Fields<'_>) -> Result<bool, BatchError> {
    Ok(optional(f, "trace", Fields::bool)?.unwrap_or(false))
}

fn unavailable(e: SuiteUnavailable) -> BatchError {
    BatchError::new("suite_unavailable", format!("field \"suite\": {e}"))
}

pub(crate) fn config_error(e: AstConfigError) -> BatchError {
    match e {
        AstConfigError::Suite(e) => unavailable(e),
        AstConfigError::TestDeviceId => BatchError::new(
            "out_of_range",
            "field \"device_id\" is 0xFFFFFFFF, which is reserved for TEST codes",
        ),
    }
}

fn derive_key(f: &Fields<'_>) -> Result<String, BatchError> {
    let suite = suite(f)?;
    let batch_key = f.key("batch_key_hex")?;
    let device_id = device_id(f)?;
    let key_rev = key_rev(f)?;
    let key =
        access::derive_device_key(suite, &batch_key, device_id, key_rev).map_err(unavailable)?;
    let device_key_hex = hex::encode(key.as_bytes());
    if !traced(f)? {
        return Ok(to_json(
            &json!({ "ok": true, "device_key_hex": device_key_hex }),
        ));
    }
    let mut inputs = Vec::new();
    let mut outputs = Vec::new();
    for i in 1..=access::kdf_blocks(suite) {
        let x = access::kdf_input(i, suite, device_id, key_rev);
        let y = suite.prf(&batch_key, &x).map_err(unavailable)?;
        inputs.push(hex::encode(x));
        outputs.push(hex::encode(y.as_bytes()));
    }
    Ok(to_json(&json!({
        "ok": true,
        "device_key_hex": device_key_hex,
        "trace": { "kdf_inputs_hex": inputs, "kdf_outputs_hex": outputs },
    })))
}

/// Hex of `x`, zero-padded to the whole nibbles of a `bits`-wide field.
fn hex_bits(x: impl Into<u128>, bits: u32) -> String {
    let width = usize::try_from(bits.div_ceil(4)).unwrap_or(0);
    format!("{:0width$x}", x.into())
}

/// The value given in `name` for a type that fixes it: optional, and then it must be `want`.
fn restated(f: &Fields<'_>, name: &str, want: u32, why: &str) -> Result<(), BatchError> {
    match optional(f, name, |f, n| f.u32(n, u32::MAX))? {
        Some(given) if given != want => {
            Err(conflicting(name, &format!("{why}, which carries {want}")))
        }
        _ => Ok(()),
    }
}

/// `e` with the profile that sets the limit, for range errors.
fn in_profile(mut e: BatchError, profile: Profile) -> BatchError {
    if e.kind == "out_of_range" {
        e.message.push_str(&format!(" in profile {profile}"));
    }
    e
}
