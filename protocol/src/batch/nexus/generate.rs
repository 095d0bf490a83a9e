//! The `generate` op: one keycode per request, any message type of the test vectors.
//!
//! | protocol | message_type | keys | params |
//! |---|---|---|---|
//! | full | ADD_CREDIT, SET_CREDIT | key, ID | `hours` |
//! | full | UNLOCK | key, ID | (`hours`: 99999) |
//! | full | WIPE_STATE | key, ID | `target` 0-3 and/or `flags` (`TARGET_FLAGS_0`, `TARGET_FLAGS_1`, `WIPE_IDS_ALL`, `WIPE_RESTRICTED_FLAG`) |
//! | full | DEMO (with `"allow_demo_codes":true`) | key, ID | `minutes` |
//! | full | FACTORY_ALLOW_TEST, FACTORY_DISPLAY_PAYG_ID, FACTORY_OQC_TEST_LEGACY | — | — |
//! | full | FACTORY_OQC_TEST | — | `minutes` 1-99 |
//! | full | NOMAC_DEVICE_ID_CONFIRMATION | — | `device_id` |
//! | full | PASSTHROUGH_COMMAND | — | `application_id` 0-9, `passthrough_digits` |
//! | full | PASSTHROUGH_UART_KEY | key | (`application_id`: 0) |
//! | small | ADD_CREDIT | key, ID | `days` 1-405 or `"UNLOCK"` |
//! | small | UNLOCK | key, ID | (`days`: `"UNLOCK"`) |
//! | small | SET_CREDIT | key, ID | `days` 0-960 or `"UNLOCK"` |
//! | small | SET_CREDIT_LOCK / SET_CREDIT_UNLOCK | key, ID | (`days`: 0 / `"UNLOCK"`) |
//! | small | CUSTOM_WIPE_RESTRICTED_FLAG | key, ID | (`increment_id`: 253) |
//! | small | EXTENDED_SET_CREDIT_WIPE_RESTRICTED_FLAG | key, ID | `days` 0-960 or `"UNLOCK"` |
//! | small | MAINTENANCE_WIPE_STATE_0 / _1, MAINTENANCE_WIPE_IDS_ALL | key | (`function`: 0 / 1 / 2) |
//! | small | TEST_SHORT_TEST / TEST_OQC_TEST | — | (`function`: 0 / 1) |
//! | small | PASSTHROUGH | — | `bits26`: 26 binary digits |
//! | full/channel_origin | CHANNEL_ORIGIN_LINK_ACCESSORY_MODE_3 | `controller_key_hex`, `accessory_key_hex` | `controller_command_count`, `accessory_command_count` |
//! | full/channel_origin | CHANNEL_ORIGIN_UNLINK_ALL_ACCESSORIES | `controller_key_hex` | `controller_command_count` (`controller_action`: 0) |
//! | full/channel_origin | CHANNEL_ORIGIN_UNLINK_ACCESSORY, CHANNEL_ORIGIN_UNLOCK_ACCESSORY | `controller_key_hex` | `controller_command_count`, `accessory_nexus_id` (hex, 48 bits) |
//!
//! "key" is `secret_key_hex`, "ID" `message_id`. Every small type also takes `prefix` and
//! `key_dict` (`{"0":"2","1":"3","2":"4","3":"5"}`) to show the code with other keys.
//! Parenthesised params restate the message type: optional, refused (`conflicting_field`) when
//! they disagree. Values the vectors derive (`increment_id` and `device_days` of credit codes,
//! `device_user_facing_id`, `uart_security_key_hex`) are not read.

use alloc::format;
use alloc::string::{String, ToString};

use serde::Serialize;
use serde_json::{Value, json};

use super::{BatchError, Fields, conflicting, one_of, optional, to_json, within};
use crate::batch::fields::too_large;
use paylock::key::Key;
use paylock::nexus::channel::{self, OriginCommand};
use paylock::nexus::full::UNLOCK_HOURS;
use paylock::nexus::{
    Activation, FactoryCode, FullIssuer, Keycode, Maintenance, NexusIssueError, SetTarget,
    SmallIssuer, SmallKeymap, TestCode, WipeTarget,
};

const PROTOCOLS: [&str; 3] = ["full", "small", "full/channel_origin"];

const FULL_TYPES: &[&str] = &[
    "ADD_CREDIT",
    "SET_CREDIT",
    "UNLOCK",
    "WIPE_STATE",
    "DEMO",
    "FACTORY_ALLOW_TEST",
    "FACTORY_OQC_TEST",
    "FACTORY_OQC_TEST_LEGACY",
    "FACTORY_DISPLAY_PAYG_ID",
    "NOMAC_DEVICE_ID_CONFIRMATION",
    "PASSTHROUGH_COMMAND",
    "PASSTHROUGH_UART_KEY",
];

const SMALL_TYPES: &[&str] = &[
    "ADD_CREDIT",
    "UNLOCK",
    "SET_CREDIT",
    "SET_CREDIT_LOCK",
    "SET_CREDIT_UNLOCK",
    "CUSTOM_WIPE_RESTRICTED_FLAG",
    "EXTENDED_SET_CREDIT_WIPE_RESTRICTED_FLAG",
    "MAINTENANCE_WIPE_STATE_0",
    "MAINTENANCE_WIPE_STATE_1",
    "MAINTENANCE_WIPE_IDS_ALL",
    "TEST_SHORT_TEST",
    "TEST_OQC_TEST",
    "PASSTHROUGH",
];

const CHANNEL_TYPES: &[&str] = &[
    "CHANNEL_ORIGIN_LINK_ACCESSORY_MODE_3",
    "CHANNEL_ORIGIN_UNLINK_ALL_ACCESSORIES",
    "CHANNEL_ORIGIN_UNLINK_ACCESSORY",
    "CHANNEL_ORIGIN_UNLOCK_ACCESSORY",
];

/// The wipe flags by target digit, as upstream names them.
const WIPE_FLAGS: [&str; 4] = [
    "TARGET_FLAGS_0",
    "TARGET_FLAGS_1",
    "WIPE_IDS_ALL",
    "WIPE_RESTRICTED_FLAG",
];

#[derive(Serialize)]
struct Generated<'a> {
    ok: bool,
    keycode: &'a str,
    keycode_keys: &'a str,
}

pub(super) fn generate(f: &Fields<'_>) -> Result<String, BatchError> {
    let protocol = one_of(f, "protocol", &PROTOCOLS, "invalid_protocol")?;
    let types = match protocol {
        "full" => FULL_TYPES,
        "small" => SMALL_TYPES,
        _ => CHANNEL_TYPES,
    };
    let r = Request {
        f: *f,
        params: optional(f, "params", Fields::object)?,
        kind: one_of(f, "message_type", types, "invalid_message_type")?,
    };
    let high_ids = optional(f, "allow_ids_above_65534", Fields::bool)?.unwrap_or(false);
    let demo_codes = optional(f, "allow_demo_codes", Fields::bool)?.unwrap_or(false);
    let code = match protocol {
        "full" => full(&r, full_issuer(high_ids, demo_codes))?,
        "small" => small(&r, small_issuer(high_ids))?,
        _ => origin_command(&r)?,
    };
    Ok(to_json(&Generated {
        ok: true,
        keycode: code.display().as_str(),
        keycode_keys: code.keys().as_str(),
    }))
}

fn full_issuer(high_ids: bool, demo_codes: bool) -> FullIssuer {
    let issuer = if high_ids {
        FullIssuer::new().allowing_ids_above_65534()
    } else {
        FullIssuer::new()
    };
    if demo_codes {
        issuer.allowing_demo_codes()
    } else {
        issuer
    }
}

fn small_issuer(high_ids: bool) -> SmallIssuer {
    if high_ids {
        SmallIssuer::new().allowing_ids_above_65534()
    } else {
        SmallIssuer::new()
    }
}

/// One generate request: its top-level fields, its `params` and its message type.
struct Request<'a> {
    f: Fields<'a>,
    params: Option<Fields<'a>>,
    kind: &'a str,
}

impl<'a> Request<'a> {
    /// The raw value of `params.<name>`, if present and not null.
    fn param_value(&self, name: &str) -> Option<&'a Value> {
        self.params.as_ref().and_then(|p| p.get(name))
    }

    /// A required parameter read with `read`; errors name it `params.<name>`.
    fn param<T>(
        &self,
        name: &str,
        read: impl FnOnce(&Fields<'a>, &str) -> Result<T, BatchError>,
    ) -> Result<T, BatchError> {
        let missing = || {
            BatchError::new(
                "missing_field",
                format!("field \"params.{name}\" is required for {}", self.kind),
            )
        };
        match &self.params {
            Some(p) if p.get(name).is_some() => read(p, name).map_err(|e| within("params", e)),
            _ => Err(missing()),
        }
    }

    fn u32_param(&self, name: &str, max: u32) -> Result<u32, BatchError> {
        self.param(name, |p, n| p.u32(n, max))
    }

    fn str_param(&self, name: &str) -> Result<&'a str, BatchError> {
        self.param(name, Fields::str)
    }

    /// A parameter that restates the message type: optional, and then it must be `want`.
    fn restated(&self, name: &str, want: &Value) -> Result<(), BatchError> {
        match self.param_value(name) {
            Some(v) if v != want => Err(conflicting(
                &format!("params.{name}"),
                &format!("{}, which means {want}", self.kind),
            )),
            _ => Ok(()),
        }
    }

    /// The device key and the message ID of a code that carries both.
    fn keyed(&self) -> Result<(Key, u32), BatchError> {
        Ok((
            self.f.key("secret_key_hex")?,
            self.f.u32("message_id", u32::MAX)?,
        ))
    }

    /// Refuses a top-level field this message type does not use (0 counts as an absent ID).
    fn unused(&self, name: &str, why: &str) -> Result<(), BatchError> {
        match self.f.get(name) {
            Some(v) if !(name == "message_id" && *v == 0) => Err(BatchError::new(
                "field_not_allowed",
                format!(
                    "field {name:?} must be null or absent for {}: {why}",
                    self.kind
                ),
            )),
            _ => Ok(()),
        }
    }

    fn no_id(&self) -> Result<(), BatchError> {
        self.unused("message_id", "the code carries no message ID")
    }

    /// A code that is the same on every device: no key, no ID.
    fn universal(&self) -> Result<(), BatchError> {
        self.unused("secret_key_hex", "the code is the same on every device")?;
        self.no_id()
    }
}

fn full(r: &Request<'_>, issuer: FullIssuer) -> Result<Keycode, BatchError> {
    if let Some(message) = activation(r)? {
        let (key, id) = r.keyed()?;
        return issuer.activation(&key, id, message).map_err(refused);
    }
    if r.kind == "PASSTHROUGH_UART_KEY" {
        r.no_id()?;
        r.restated("application_id", &json!(0))?;
        return Ok(FullIssuer::uart_key_passthrough(
            &r.f.key("secret_key_hex")?,
        ));
    }
    r.universal()?;
    let factory = |code| FullIssuer::factory(code).map_err(refused);
    match r.kind {
        "FACTORY_ALLOW_TEST" => factory(FactoryCode::AllowTest),
        "FACTORY_OQC_TEST_LEGACY" => factory(FactoryCode::OqcTestLegacy151),
        "FACTORY_DISPLAY_PAYG_ID" => factory(FactoryCode::DisplayPaygId),
        "FACTORY_OQC_TEST" => {
            let minutes = r.u32_param("minutes", 99)?;
            factory(FactoryCode::OqcTest {
                minutes: u8::try_from(minutes).unwrap_or(u8::MAX),
            })
        }
        "NOMAC_DEVICE_ID_CONFIRMATION" => Ok(FullIssuer::device_id_confirmation(
            r.u32_param("device_id", u32::MAX)?,
        )),
        _ => {
            let app = r.u32_param("application_id", 9)?;
            let digits = r.str_param("passthrough_digits")?;
            FullIssuer::passthrough(u8::try_from(app).unwrap_or(u8::MAX), digits).map_err(refused)
        }
    }
}

/// The activation message of an ADD / SET / UNLOCK / WIPE / DEMO request, `None` otherwise.
fn activation(r: &Request<'_>) -> Result<Option<Activation>, BatchError> {
    let hours = || r.u32_param("hours", u32::MAX);
    Ok(Some(match r.kind {
        "ADD_CREDIT" => Activation::AddCredit { hours: hours()? },
        "SET_CREDIT" => Activation::SetCredit { hours: hours()? },
        "UNLOCK" => {
            r.restated("hours", &json!(UNLOCK_HOURS))?;
            Activation::Unlock
        }
        "WIPE_STATE" => Activation::WipeState(wipe_target(r)?),
        "DEMO" => Activation::Demo {
            minutes: r.u32_param("minutes", u32::MAX)?,
        },
        _ => return Ok(None),
    }))
}

/// `params.target` (0-3) or `params.flags` (its name); both must agree when both are given.
fn wipe_target(r: &Request<'_>) -> Result<WipeTarget, BatchError> {
    let digit = match r.param_value("target") {
        Some(_) => r.u32_param("target", 3)?,
        None => {
            let flags = r.param("flags", |p, n| one_of(p, n, &WIPE_FLAGS, "invalid_flags"))?;
            let at = WIPE_FLAGS.iter().position(|&f| f == flags).unwrap_or(0);
            u32::try_from(at).unwrap_or(0)
        }
    };
    let index = usize::try_from(digit).unwrap_or(0);
    r.restated("flags", &json!(WIPE_FLAGS.get(index)))?;
    WipeTarget::from_digit(u8::try_from(digit).unwrap_or(u8::MAX))
        .ok_or_else(|| BatchError::new("out_of_range", "field \"params.target\" must be 0-3"))
}

fn small(r: &Request<'_>, issuer: SmallIssuer) -> Result<Keycode, BatchError> {
    let issuer = issuer.with_keymap(keymap(r)?);
    let maintenance = |function: Maintenance| -> Result<Keycode, BatchError> {
        r.no_id()?;
        r.restated("function", &json!(function as u8))?;
        Ok(issuer.maintenance(&r.f.key("secret_key_hex")?, function))
    };
    let test = |code: TestCode| -> Result<Keycode, BatchError> {
        r.universal()?;
        r.restated("function", &json!(code as u8))?;
        Ok(issuer.test(code))
    };
    match r.kind {
        "MAINTENANCE_WIPE_STATE_0" => maintenance(Maintenance::WipeState0),
        "MAINTENANCE_WIPE_STATE_1" => maintenance(Maintenance::WipeState1),
        "MAINTENANCE_WIPE_IDS_ALL" => maintenance(Maintenance::WipeIdsAll),
        "TEST_SHORT_TEST" => test(TestCode::ShortTest),
        "TEST_OQC_TEST" => test(TestCode::OqcTest),
        "PASSTHROUGH" => {
            r.universal()?;
            issuer.passthrough(bits26(r)?).map_err(refused)
        }
        _ => small_keyed(r, issuer)?.map_err(refused),
    }
}

/// The small codes that carry the device key and a message ID: the request's fields, then
/// the issuer's answer.
fn small_keyed(
    r: &Request<'_>,
    issuer: SmallIssuer,
) -> Result<Result<Keycode, NexusIssueError>, BatchError> {
    let (key, id) = r.keyed()?;
    let unlock = json!("UNLOCK");
    Ok(match r.kind {
        "ADD_CREDIT" => match days(r)? {
            SetTarget::Days(days) => issuer.add_credit(&key, id, days),
            SetTarget::Unlock => issuer.unlock(&key, id),
        },
        "UNLOCK" => {
            r.restated("days", &unlock)?;
            issuer.unlock(&key, id)
        }
        "SET_CREDIT" => issuer.set_credit(&key, id, days(r)?),
        "SET_CREDIT_LOCK" => {
            r.restated("days", &json!(0))?;
            issuer.set_credit(&key, id, SetTarget::Days(0))
        }
        "SET_CREDIT_UNLOCK" => {
            r.restated("days", &unlock)?;
            issuer.set_credit(&key, id, SetTarget::Unlock)
        }
        "CUSTOM_WIPE_RESTRICTED_FLAG" => {
            r.restated("increment_id", &json!(253))?;
            issuer.wipe_restricted_flag(&key, id)
        }
        _ => issuer.extended_set_credit_wipe_restricted(&key, id, days(r)?),
    })
}

/// `params.days`: a number of days or `"UNLOCK"`.
fn days(r: &Request<'_>) -> Result<SetTarget, BatchError> {
    match r.param_value("days").and_then(Value::as_str) {
        Some("UNLOCK") => Ok(SetTarget::Unlock),
        Some(_) => Err(BatchError::new(
            "wrong_type",
            "field \"params.days\" must be an integer or \"UNLOCK\"",
        )),
        None => {
            let days = r.u32_param("days", u16::MAX.into())?;
            Ok(SetTarget::Days(u16::try_from(days).unwrap_or(u16::MAX)))
        }
    }
}

/// `params.bits26`: exactly 26 binary digits.
fn bits26(r: &Request<'_>) -> Result<u32, BatchError> {
    let text = r.str_param("bits26")?;
    match u32::from_str_radix(text, 2) {
        Ok(bits) if text.len() == 26 && !text.starts_with('+') => Ok(bits),
        _ => Err(BatchError::new(
            "wrong_type",
            "field \"params.bits26\" must be a string of 26 binary digits",
        )),
    }
}

/// `params.prefix` and `params.key_dict`, each defaulting to the standard keys.
fn keymap(r: &Request<'_>) -> Result<SmallKeymap, BatchError> {
    let standard = SmallKeymap::STANDARD;
    let start = match r.param_value("prefix") {
        Some(_) => one_key(r.str_param("prefix")?, "params.prefix")?,
        None => standard.start(),
    };
    let mut symbols = standard.symbols();
    if r.param_value("key_dict").is_some() {
        let dict = r.param("key_dict", Fields::object)?;
        for (value, slot) in symbols.iter_mut().enumerate() {
            let name = value.to_string();
            let field = format!("params.key_dict.{name}");
            let text = dict.str(&name).map_err(|e| within("params.key_dict", e))?;
            *slot = one_key(text, &field)?;
        }
    }
    SmallKeymap::new(start, symbols).ok_or_else(|| {
        BatchError::new(
            "wrong_type",
            "fields \"params.prefix\" and \"params.key_dict\" must be printable ASCII keys",
        )
    })
}

fn one_key(text: &str, field: &str) -> Result<u8, BatchError> {
    match text.as_bytes() {
        [key] => Ok(*key),
        _ => Err(BatchError::new(
            "wrong_type",
            format!("field {field:?} must be exactly one key"),
        )),
    }
}

fn origin_command(r: &Request<'_>) -> Result<Keycode, BatchError> {
    r.unused(
        "secret_key_hex",
        "origin commands are authenticated with controller_key_hex",
    )?;
    r.unused(
        "message_id",
        "origin commands are counted by params.controller_command_count",
    )?;
    let controller = r.f.key("controller_key_hex")?;
    let count = r.u32_param("controller_command_count", u32::MAX)?;
    let accessory_key;
    let command = match r.kind {
        "CHANNEL_ORIGIN_LINK_ACCESSORY_MODE_3" => {
            accessory_key = r.f.key("accessory_key_hex")?;
            OriginCommand::LinkAccessoryMode3 {
                accessory_key: &accessory_key,
                accessory_command_count: r.u32_param("accessory_command_count", u32::MAX)?,
            }
        }
        "CHANNEL_ORIGIN_UNLINK_ALL_ACCESSORIES" => {
            r.restated("controller_action", &json!(0))?;
            OriginCommand::UnlinkAllAccessories
        }
        "CHANNEL_ORIGIN_UNLINK_ACCESSORY" => OriginCommand::UnlinkAccessory {
            nexus_id: nexus_id(r)?,
        },
        _ => OriginCommand::UnlockAccessory {
            nexus_id: nexus_id(r)?,
        },
    };
    channel::origin_command(&controller, count, command).map_err(refused)
}

/// `params.accessory_nexus_id`: hex, as the vectors write it (`0102948372a4`).
fn nexus_id(r: &Request<'_>) -> Result<u64, BatchError> {
    let text = r.str_param("accessory_nexus_id")?;
    match u64::from_str_radix(text, 16) {
        Ok(id) if !text.starts_with('+') => Ok(id),
        _ => Err(BatchError::new(
            "wrong_type",
            "field \"params.accessory_nexus_id\" must be hex digits (48 bits)",
        )),
    }
}

/// The issuer's refusal, naming the request field.
fn refused(e: NexusIssueError) -> BatchError {
    match e {
        NexusIssueError::IdTooHigh { max, .. } => {
            let mut e = too_large("message_id", max);
            e.message.push_str(
                ": nexus-embedded 2.0.1 keeps IDs in 16 bits and lets higher ones be replayed \
                 (\"allow_ids_above_65534\":true lifts this for devices that do not)",
            );
            e
        }
        NexusIssueError::DemoNotAllowed => BatchError::new(
            "unsupported_command",
            "field \"message_type\" is DEMO: a demo code adds credit every time it is entered \
             (the device records no ID for it), so it is issued only when the request says \
             \"allow_demo_codes\":true (showroom and test devices)",
        ),
        NexusIssueError::OutOfRange {
            field: "passthrough digits",
            found,
            min,
            max,
        } => BatchError::new(
            "out_of_range",
            format!("field \"params.passthrough_digits\" has {found} digits, allowed {min}-{max}"),
        ),
        NexusIssueError::OutOfRange {
            field, min, max, ..
        } => BatchError::new(
            "out_of_range",
            format!(
                "field \"params.{}\" must be {min}-{max}",
                param_name(field)
            ),
        ),
        NexusIssueError::NotADigit { position } => BatchError::new(
            "wrong_type",
            format!("field \"params.passthrough_digits\": character {position} is not a digit"),
        ),
        NexusIssueError::PassthroughBody13 => BatchError::new(
            "invalid_length",
            "field \"params.passthrough_digits\" has 12 digits: with the application ID they make \
             a 14-digit frame, which devices read as an activation code",
        ),
        NexusIssueError::SetCreditId63 { next, .. } => BatchError::new(
            "id_reserved",
            format!(
                "field \"message_id\": a 1-day SET_CREDIT cannot use an ID whose low 6 bits \
                 are 63 (it reads as an old test code), next valid ID is {next}"
            ),
        )
        .with_next_valid_id(next),
        NexusIssueError::ExtendedCollision { next_valid, .. } => BatchError::new(
            "id_collision",
            format!("field \"message_id\": this ID yields a MAC collision, next valid ID is {next_valid}"),
        )
        .with_next_valid_id(next_valid),
        NexusIssueError::CounterExhausted { .. } => BatchError::new(
            "counter_exhausted",
            "field \"message_id\": this code needs a later message ID and there is none (IDs \
             never wrap back to used ones), the ID space is exhausted",
        ),
        NexusIssueError::NoCollisionFreeId { .. } => BatchError::new(
            "id_collision",
            "field \"message_id\": no collision-free ID in the 40 IDs from this one",
        ),
        _ => BatchError::new(
            "unsupported_command",
            "field \"message_type\": the issuer refused this code",
        ),
    }
}

/// The request name of a field the issuer names.
fn param_name(field: &str) -> &str {
    match field {
        "subtype" => "application_id",
        "passthrough bits" => "bits26",
        "accessory Nexus ID" => "accessory_nexus_id",
        other => other,
    }
}
