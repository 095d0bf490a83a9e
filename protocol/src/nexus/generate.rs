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
//! Parenthesised parameters follow from the type: optional, refused (`conflicting_field`) when
//! they disagree.

use alloc::borrow::Cow;
use core::fmt;

use paylock::nexus::channel::{self, OriginCommand};
use paylock::nexus::full::UNLOCK_HOURS;
use paylock::nexus::{
    Activation, FactoryCode, FullIssuer, Keycode, Maintenance, NexusIssueError, SetTarget,
    SmallIssuer, SmallKeymap, TestCode, WipeTarget,
};
use paylock::{Key, TokenText};
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize};

use super::{full_issuer, small_issuer};
use crate::error::{Error, ErrorKind};
use crate::field::{self, True, names, refuse};

names! {
    /// The keypad protocol a keycode is for.
    pub enum GenerateProtocol (ErrorKind::InvalidProtocol) {
        /// Keys 0-9, `*` and `#`.
        Full = "full",
        /// Keys 1-5.
        Small = "small",
        /// Nexus Channel origin commands (full-protocol passthrough).
        ChannelOrigin = "full/channel_origin",
    }
}

names! {
    /// What a full WIPE_STATE code clears, as upstream names it.
    pub enum WipeFlags (ErrorKind::InvalidFlags) {
        /// Credit only.
        TargetFlags0 = "TARGET_FLAGS_0",
        /// Credit, the used-ID window and the QC counters.
        TargetFlags1 = "TARGET_FLAGS_1",
        /// The used-ID window and the QC counters.
        WipeIdsAll = "WIPE_IDS_ALL",
        /// The restricted flag.
        WipeRestrictedFlag = "WIPE_RESTRICTED_FLAG",
    }
}

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

/// A `generate` request.
#[derive(Clone, Debug, Deserialize)]
pub struct Generate<'a> {
    /// The keypad protocol.
    pub protocol: GenerateProtocol,
    /// The message type, as the vectors name it.
    #[serde(borrow, deserialize_with = "field::text")]
    pub message_type: Cow<'a, str>,
    /// The device key of codes that carry one.
    #[serde(default, deserialize_with = "field::opt_key")]
    pub secret_key_hex: Option<Key>,
    /// The message ID of codes that carry one (0 counts as absent elsewhere).
    #[serde(default)]
    pub message_id: Option<u32>,
    /// Channel: the controller's origin key.
    #[serde(default, deserialize_with = "field::opt_key")]
    pub controller_key_hex: Option<Key>,
    /// Channel: the accessory's key (link commands).
    #[serde(default, deserialize_with = "field::opt_key")]
    pub accessory_key_hex: Option<Key>,
    /// Issue IDs above 65534 (devices not running nexus-embedded 2.0.1).
    #[serde(default)]
    pub allow_ids_above_65534: Option<bool>,
    /// Issue DEMO codes (showroom and test devices).
    #[serde(default)]
    pub allow_demo_codes: Option<bool>,
    /// The message type's parameters.
    #[serde(default, borrow, deserialize_with = "field::opt_object")]
    pub params: Option<Params<'a>>,
}

/// The parameters of a `generate` request, by name (see the table above for which each type
/// takes).
#[derive(Clone, Debug, Default, Deserialize)]
pub struct Params<'a> {
    /// Hours (full ADD / SET; 99999 restates UNLOCK).
    #[serde(default)]
    pub hours: Option<u32>,
    /// Minutes (DEMO, FACTORY_OQC_TEST).
    #[serde(default)]
    pub minutes: Option<u32>,
    /// Days, or `"UNLOCK"` (small codes).
    #[serde(default)]
    pub days: Option<Days>,
    /// WIPE_STATE target, 0-3.
    #[serde(default)]
    pub target: Option<u32>,
    /// WIPE_STATE target by upstream's name.
    #[serde(default)]
    pub flags: Option<WipeFlags>,
    /// The user-facing ID of a NOMAC_DEVICE_ID_CONFIRMATION code.
    #[serde(default)]
    pub device_id: Option<u32>,
    /// Passthrough application ID, 0-9.
    #[serde(default)]
    pub application_id: Option<u32>,
    /// Passthrough digits.
    #[serde(default, borrow, deserialize_with = "field::opt_text")]
    pub passthrough_digits: Option<Cow<'a, str>>,
    /// 26 binary digits (small PASSTHROUGH).
    #[serde(default, borrow, deserialize_with = "field::opt_text")]
    pub bits26: Option<Cow<'a, str>>,
    /// Small codes: the start key to show.
    #[serde(default, borrow, deserialize_with = "field::opt_text")]
    pub prefix: Option<Cow<'a, str>>,
    /// Small codes: the keys of the symbol values 0-3.
    #[serde(default, borrow, deserialize_with = "field::opt_object")]
    pub key_dict: Option<KeyDict<'a>>,
    /// CUSTOM_WIPE_RESTRICTED_FLAG restated (253).
    #[serde(default)]
    pub increment_id: Option<u32>,
    /// Maintenance and test codes restated.
    #[serde(default)]
    pub function: Option<u32>,
    /// Channel: the controller's origin command count.
    #[serde(default)]
    pub controller_command_count: Option<u32>,
    /// Channel: the accessory's command count (link commands).
    #[serde(default)]
    pub accessory_command_count: Option<u32>,
    /// Channel: the accessory's Nexus ID in hex (48 bits).
    #[serde(default, borrow, deserialize_with = "field::opt_text")]
    pub accessory_nexus_id: Option<Cow<'a, str>>,
    /// CHANNEL_ORIGIN_UNLINK_ALL_ACCESSORIES restated (0).
    #[serde(default)]
    pub controller_action: Option<u32>,
}

/// The keys of a small keypad's symbol values 0-3.
#[derive(Clone, Debug, Deserialize)]
pub struct KeyDict<'a> {
    /// Symbol 0.
    #[serde(rename = "0", borrow, deserialize_with = "field::text")]
    pub zero: Cow<'a, str>,
    /// Symbol 1.
    #[serde(rename = "1", borrow, deserialize_with = "field::text")]
    pub one: Cow<'a, str>,
    /// Symbol 2.
    #[serde(rename = "2", borrow, deserialize_with = "field::text")]
    pub two: Cow<'a, str>,
    /// Symbol 3.
    #[serde(rename = "3", borrow, deserialize_with = "field::text")]
    pub three: Cow<'a, str>,
}

/// `params.days`: a number of days or `"UNLOCK"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Days {
    /// Days.
    Days(u64),
    /// `"UNLOCK"`.
    Unlock,
}

impl fmt::Display for Days {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Days(n) => write!(f, "{n}"),
            Self::Unlock => f.write_str("\"UNLOCK\""),
        }
    }
}

impl<'de> Deserialize<'de> for Days {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct DaysVisitor;
        const EXPECTED: &str = "must be an integer or \"UNLOCK\"";
        impl Visitor<'_> for DaysVisitor {
            type Value = Days;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("days or \"UNLOCK\"")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Days, E> {
                Ok(Days::Days(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Days, E> {
                u64::try_from(v)
                    .map(Days::Days)
                    .map_err(|_| refuse(ErrorKind::OutOfRange, "must be 0 or more"))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Days, E> {
                match v {
                    "UNLOCK" => Ok(Days::Unlock),
                    _ => Err(refuse(ErrorKind::WrongType, EXPECTED)),
                }
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Days, E> {
                Err(refuse(ErrorKind::WrongType, EXPECTED))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Days, E> {
                Err(refuse(ErrorKind::WrongType, EXPECTED))
            }
        }
        d.deserialize_any(DaysVisitor)
    }
}

/// The answer to a `generate` request.
#[derive(Clone, Debug, Serialize)]
pub struct Generated {
    /// Always `true`.
    pub ok: True,
    /// The keycode as printed.
    #[serde(serialize_with = "field::token")]
    pub keycode: TokenText,
    /// The keys to press.
    #[serde(serialize_with = "field::token")]
    pub keycode_keys: TokenText,
}

impl From<Keycode> for Generated {
    fn from(code: Keycode) -> Self {
        Self {
            ok: True,
            keycode: *code.display(),
            keycode_keys: *code.keys(),
        }
    }
}

/// The keycode `request` asks for.
///
/// # Errors
/// A field missing, out of range or contradicting the message type, or the issuer's refusal.
pub fn generate(request: &Generate<'_>) -> Result<Generated, Error> {
    let protocol = request.protocol;
    let types = match protocol {
        GenerateProtocol::Full => FULL_TYPES,
        GenerateProtocol::Small => SMALL_TYPES,
        GenerateProtocol::ChannelOrigin => CHANNEL_TYPES,
    };
    let kind = &*request.message_type;
    if !types.contains(&kind) {
        return Err(Error::not_one_of(
            "message_type",
            types,
            ErrorKind::InvalidMessageType,
        ));
    }
    let r = Request {
        g: request,
        params: request.params.as_ref(),
        kind,
    };
    let high_ids = request.allow_ids_above_65534 == Some(true);
    let demo_codes = request.allow_demo_codes == Some(true);
    let code = match protocol {
        GenerateProtocol::Full => full(&r, full_issuer(high_ids, demo_codes))?,
        GenerateProtocol::Small => small(&r, small_issuer(high_ids))?,
        GenerateProtocol::ChannelOrigin => origin_command(&r)?,
    };
    Ok(code.into())
}

/// One generate request: its fields, its `params` and its message type.
struct Request<'r, 'a> {
    g: &'r Generate<'a>,
    params: Option<&'r Params<'a>>,
    kind: &'r str,
}

impl<'r, 'a> Request<'r, 'a> {
    /// A required parameter, taken from `params` by `get`; errors name it `params.<name>`.
    fn param<T>(
        &self,
        name: &str,
        get: impl FnOnce(&'r Params<'a>) -> Option<T>,
    ) -> Result<T, Error> {
        self.params.and_then(get).ok_or_else(|| {
            Error::at(
                ErrorKind::MissingField,
                format!("params.{name}"),
                format_args!("is required for {}", self.kind),
            )
        })
    }

    /// A numeric parameter, at most `max`.
    fn number(
        &self,
        name: &str,
        get: impl FnOnce(&'r Params<'a>) -> Option<u32>,
        max: u32,
    ) -> Result<u32, Error> {
        let value = self.param(name, get)?;
        if value > max {
            return Err(Error::too_large(format!("params.{name}"), max));
        }
        Ok(value)
    }

    /// A parameter that restates the message type: optional, and then it must be `want`.
    fn restated<T: PartialEq + fmt::Display>(
        &self,
        name: &str,
        given: Option<T>,
        want: T,
    ) -> Result<(), Error> {
        match given {
            Some(v) if v != want => Err(Error::conflicting(
                format!("params.{name}"),
                &format!("{}, which means {want}", self.kind),
            )),
            _ => Ok(()),
        }
    }

    fn given<T>(&self, get: impl FnOnce(&'r Params<'a>) -> Option<T>) -> Option<T> {
        self.params.and_then(get)
    }

    /// The device key and the message ID of a code that carries both.
    fn keyed(&self) -> Result<(&Key, u32), Error> {
        let key = self
            .g
            .secret_key_hex
            .as_ref()
            .ok_or_else(|| Error::missing("secret_key_hex"))?;
        let id = self
            .g
            .message_id
            .ok_or_else(|| Error::missing("message_id"))?;
        Ok((key, id))
    }

    /// Refuses a top-level field this message type does not use.
    fn unused(&self, name: &str, present: bool, why: &str) -> Result<(), Error> {
        if present {
            return Err(Error::at(
                ErrorKind::FieldNotAllowed,
                name,
                format_args!("must be null or absent for {}: {why}", self.kind),
            ));
        }
        Ok(())
    }

    /// A message ID of 0 counts as absent.
    fn no_id(&self) -> Result<(), Error> {
        let present = self.g.message_id.is_some_and(|id| id != 0);
        self.unused("message_id", present, "the code carries no message ID")
    }

    /// A code that is the same on every device: no key, no ID.
    fn universal(&self) -> Result<(), Error> {
        self.unused(
            "secret_key_hex",
            self.g.secret_key_hex.is_some(),
            "the code is the same on every device",
        )?;
        self.no_id()
    }

    fn secret_key(&self) -> Result<&Key, Error> {
        self.g
            .secret_key_hex
            .as_ref()
            .ok_or_else(|| Error::missing("secret_key_hex"))
    }
}

/// A restated value written as JSON: strings quoted.
struct Quoted(&'static str);

impl fmt::Display for Quoted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

impl PartialEq for Quoted {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0
    }
}

fn full(r: &Request<'_, '_>, issuer: FullIssuer) -> Result<Keycode, Error> {
    if let Some(message) = activation(r)? {
        let (key, id) = r.keyed()?;
        return issuer.activation(key, id, message).map_err(refused);
    }
    if r.kind == "PASSTHROUGH_UART_KEY" {
        r.no_id()?;
        r.restated("application_id", r.given(|p| p.application_id), 0)?;
        return Ok(FullIssuer::uart_key_passthrough(r.secret_key()?));
    }
    r.universal()?;
    let factory = |code| FullIssuer::factory(code).map_err(refused);
    match r.kind {
        "FACTORY_ALLOW_TEST" => factory(FactoryCode::AllowTest),
        "FACTORY_OQC_TEST_LEGACY" => factory(FactoryCode::OqcTestLegacy151),
        "FACTORY_DISPLAY_PAYG_ID" => factory(FactoryCode::DisplayPaygId),
        "FACTORY_OQC_TEST" => {
            let minutes = r.number("minutes", |p| p.minutes, 99)?;
            factory(FactoryCode::OqcTest {
                minutes: u8::try_from(minutes).unwrap_or(u8::MAX),
            })
        }
        "NOMAC_DEVICE_ID_CONFIRMATION" => Ok(FullIssuer::device_id_confirmation(
            r.param("device_id", |p| p.device_id)?,
        )),
        _ => {
            let app = r.number("application_id", |p| p.application_id, 9)?;
            let digits = r.param("passthrough_digits", |p| p.passthrough_digits.clone())?;
            FullIssuer::passthrough(u8::try_from(app).unwrap_or(u8::MAX), &digits).map_err(refused)
        }
    }
}

/// The activation message of an ADD / SET / UNLOCK / WIPE / DEMO request, `None` otherwise.
fn activation(r: &Request<'_, '_>) -> Result<Option<Activation>, Error> {
    let hours = || r.param("hours", |p| p.hours);
    Ok(Some(match r.kind {
        "ADD_CREDIT" => Activation::AddCredit { hours: hours()? },
        "SET_CREDIT" => Activation::SetCredit { hours: hours()? },
        "UNLOCK" => {
            r.restated("hours", r.given(|p| p.hours), UNLOCK_HOURS)?;
            Activation::Unlock
        }
        "WIPE_STATE" => Activation::WipeState(wipe_target(r)?),
        "DEMO" => Activation::Demo {
            minutes: r.param("minutes", |p| p.minutes)?,
        },
        _ => return Ok(None),
    }))
}

/// `params.target` (0-3) or `params.flags` (its name); both must agree when both are given.
fn wipe_target(r: &Request<'_, '_>) -> Result<WipeTarget, Error> {
    let digit = match r.given(|p| p.target) {
        Some(_) => r.number("target", |p| p.target, 3)?,
        None => {
            let flags = r.param("flags", |p| p.flags)?;
            let at = WipeFlags::NAMES.iter().position(|&f| f == flags.name());
            u32::try_from(at.unwrap_or(0)).unwrap_or(0)
        }
    };
    let name = WipeFlags::NAMES
        .get(usize::try_from(digit).unwrap_or(0))
        .copied()
        .unwrap_or_default();
    r.restated(
        "flags",
        r.given(|p| p.flags).map(|f| Quoted(f.name())),
        Quoted(name),
    )?;
    WipeTarget::from_digit(u8::try_from(digit).unwrap_or(u8::MAX))
        .ok_or_else(|| Error::at(ErrorKind::OutOfRange, "params.target", "must be 0-3"))
}

fn small(r: &Request<'_, '_>, issuer: SmallIssuer) -> Result<Keycode, Error> {
    let issuer = issuer.with_keymap(keymap(r)?);
    let maintenance = |function: Maintenance| -> Result<Keycode, Error> {
        r.no_id()?;
        r.restated("function", r.given(|p| p.function), function as u32)?;
        Ok(issuer.maintenance(r.secret_key()?, function))
    };
    let test = |code: TestCode| -> Result<Keycode, Error> {
        r.universal()?;
        r.restated("function", r.given(|p| p.function), code as u32)?;
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

/// The small codes that carry the device key and a message ID: the request's fields, then the
/// issuer's answer.
fn small_keyed(
    r: &Request<'_, '_>,
    issuer: SmallIssuer,
) -> Result<Result<Keycode, NexusIssueError>, Error> {
    let (key, id) = r.keyed()?;
    let days_given = r.given(|p| p.days);
    Ok(match r.kind {
        "ADD_CREDIT" => match days(r)? {
            SetTarget::Days(days) => issuer.add_credit(key, id, days),
            SetTarget::Unlock => issuer.unlock(key, id),
        },
        "UNLOCK" => {
            r.restated("days", days_given, Days::Unlock)?;
            issuer.unlock(key, id)
        }
        "SET_CREDIT" => issuer.set_credit(key, id, days(r)?),
        "SET_CREDIT_LOCK" => {
            r.restated("days", days_given, Days::Days(0))?;
            issuer.set_credit(key, id, SetTarget::Days(0))
        }
        "SET_CREDIT_UNLOCK" => {
            r.restated("days", days_given, Days::Unlock)?;
            issuer.set_credit(key, id, SetTarget::Unlock)
        }
        "CUSTOM_WIPE_RESTRICTED_FLAG" => {
            r.restated("increment_id", r.given(|p| p.increment_id), 253)?;
            issuer.wipe_restricted_flag(key, id)
        }
        _ => issuer.extended_set_credit_wipe_restricted(key, id, days(r)?),
    })
}

/// `params.days`: a number of days (at most 65535) or `"UNLOCK"`.
fn days(r: &Request<'_, '_>) -> Result<SetTarget, Error> {
    match r.param("days", |p| p.days)? {
        Days::Unlock => Ok(SetTarget::Unlock),
        Days::Days(days) => u16::try_from(days)
            .map(SetTarget::Days)
            .map_err(|_| Error::too_large("params.days", u16::MAX)),
    }
}

/// `params.bits26`: exactly 26 binary digits.
fn bits26(r: &Request<'_, '_>) -> Result<u32, Error> {
    let text = r.param("bits26", |p| p.bits26.clone())?;
    match u32::from_str_radix(&text, 2) {
        Ok(bits) if text.len() == 26 && !text.starts_with('+') => Ok(bits),
        _ => Err(Error::wrong_type(
            "params.bits26",
            "a string of 26 binary digits",
        )),
    }
}

/// `params.prefix` and `params.key_dict`, each defaulting to the standard keys.
fn keymap(r: &Request<'_, '_>) -> Result<SmallKeymap, Error> {
    let standard = SmallKeymap::STANDARD;
    let start = match r.given(|p| p.prefix.clone()) {
        Some(prefix) => one_key(&prefix, "params.prefix")?,
        None => standard.start(),
    };
    let mut symbols = standard.symbols();
    if let Some(dict) = r.given(|p| p.key_dict.clone()) {
        let keys = [&dict.zero, &dict.one, &dict.two, &dict.three];
        for (value, (slot, text)) in symbols.iter_mut().zip(keys).enumerate() {
            *slot = one_key(text, &format!("params.key_dict.{value}"))?;
        }
    }
    SmallKeymap::new(start, symbols).ok_or_else(|| {
        Error::about(
            ErrorKind::WrongType,
            "params.key_dict",
            "fields \"params.prefix\" and \"params.key_dict\" must be printable ASCII keys",
        )
    })
}

fn one_key(text: &str, field: &str) -> Result<u8, Error> {
    match text.as_bytes() {
        [key] => Ok(*key),
        _ => Err(Error::wrong_type(field, "exactly one key")),
    }
}

fn origin_command(r: &Request<'_, '_>) -> Result<Keycode, Error> {
    r.unused(
        "secret_key_hex",
        r.g.secret_key_hex.is_some(),
        "origin commands are authenticated with controller_key_hex",
    )?;
    r.unused(
        "message_id",
        r.g.message_id.is_some_and(|id| id != 0),
        "origin commands are counted by params.controller_command_count",
    )?;
    let controller =
        r.g.controller_key_hex
            .as_ref()
            .ok_or_else(|| Error::missing("controller_key_hex"))?;
    let count = r.param("controller_command_count", |p| p.controller_command_count)?;
    let command = match r.kind {
        "CHANNEL_ORIGIN_LINK_ACCESSORY_MODE_3" => OriginCommand::LinkAccessoryMode3 {
            accessory_key: r
                .g
                .accessory_key_hex
                .as_ref()
                .ok_or_else(|| Error::missing("accessory_key_hex"))?,
            accessory_command_count: r
                .param("accessory_command_count", |p| p.accessory_command_count)?,
        },
        "CHANNEL_ORIGIN_UNLINK_ALL_ACCESSORIES" => {
            r.restated("controller_action", r.given(|p| p.controller_action), 0)?;
            OriginCommand::UnlinkAllAccessories
        }
        "CHANNEL_ORIGIN_UNLINK_ACCESSORY" => OriginCommand::UnlinkAccessory {
            nexus_id: nexus_id(r)?,
        },
        _ => OriginCommand::UnlockAccessory {
            nexus_id: nexus_id(r)?,
        },
    };
    channel::origin_command(controller, count, command).map_err(refused)
}

/// `params.accessory_nexus_id`: hex, as the vectors write it (`0102948372a4`).
fn nexus_id(r: &Request<'_, '_>) -> Result<u64, Error> {
    let text = r.param("accessory_nexus_id", |p| p.accessory_nexus_id.clone())?;
    match u64::from_str_radix(&text, 16) {
        Ok(id) if !text.starts_with('+') => Ok(id),
        _ => Err(Error::wrong_type(
            "params.accessory_nexus_id",
            "hex digits (48 bits)",
        )),
    }
}

/// The issuer's refusal, naming the request field.
fn refused(e: NexusIssueError) -> Error {
    match e {
        NexusIssueError::IdTooHigh { max, .. } => Error::too_large("message_id", max).and(
            ": nexus-embedded 2.0.1 keeps IDs in 16 bits and lets higher ones be replayed \
             (\"allow_ids_above_65534\":true lifts this for devices that do not)",
        ),
        NexusIssueError::DemoNotAllowed => Error::about(
            ErrorKind::UnsupportedCommand,
            "message_type",
            "field \"message_type\" is DEMO: a demo code adds credit every time it is entered \
             (the device records no ID for it), so it is issued only when the request says \
             \"allow_demo_codes\":true (showroom and test devices)",
        ),
        NexusIssueError::OutOfRange {
            field: "passthrough digits",
            found,
            min,
            max,
        } => Error::at(
            ErrorKind::OutOfRange,
            "params.passthrough_digits",
            format_args!("has {found} digits, allowed {min}-{max}"),
        ),
        NexusIssueError::OutOfRange {
            field, min, max, ..
        } => Error::at(
            ErrorKind::OutOfRange,
            format!("params.{}", param_name(field)),
            format_args!("must be {min}-{max}"),
        ),
        NexusIssueError::NotADigit { position } => Error::about(
            ErrorKind::WrongType,
            "params.passthrough_digits",
            format!("field \"params.passthrough_digits\": character {position} is not a digit"),
        ),
        NexusIssueError::PassthroughBody13 => Error::at(
            ErrorKind::InvalidLength,
            "params.passthrough_digits",
            "has 12 digits: with the application ID they make a 14-digit frame, which devices \
             read as an activation code",
        ),
        NexusIssueError::SetCreditId63 { next, .. } => Error::about(
            ErrorKind::IdReserved,
            "message_id",
            format!(
                "field \"message_id\": a 1-day SET_CREDIT cannot use an ID whose low 6 bits \
                 are 63 (it reads as an old test code), next valid ID is {next}"
            ),
        )
        .with_next_valid_id(next),
        NexusIssueError::ExtendedCollision { next_valid, .. } => Error::about(
            ErrorKind::IdCollision,
            "message_id",
            format!(
                "field \"message_id\": this ID yields a MAC collision, next valid ID is {next_valid}"
            ),
        )
        .with_next_valid_id(next_valid),
        NexusIssueError::CounterExhausted { .. } => Error::about(
            ErrorKind::CounterExhausted,
            "message_id",
            "field \"message_id\": this code needs a later message ID and there is none (IDs \
             never wrap back to used ones), the ID space is exhausted",
        ),
        NexusIssueError::NoCollisionFreeId { .. } => Error::about(
            ErrorKind::IdCollision,
            "message_id",
            "field \"message_id\": no collision-free ID in the 40 IDs from this one",
        ),
        _ => Error::about(
            ErrorKind::UnsupportedCommand,
            "message_type",
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
