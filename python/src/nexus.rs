//! `paylock.nexus`: Nexus keycodes from the core's `FullIssuer`, `SmallIssuer` and Channel origin
//! commands, and a simulated device for validation. Each issuing function returns the keycode
//! as `to_keycode()` prints it; the Python facade keeps `nexus-keycode`'s class names.

use paylock::Key;
use paylock::nexus::channel::{self, MAX_NEXUS_ID, OriginCommand};
use paylock::nexus::sim::{SimProduct, payg_state_name};
use paylock::nexus::small::{MAX_ADD_DAYS, MAX_SET_DAYS};
use paylock::nexus::{
    Activation, FactoryCode, FullIssuer, Keycode, KeycodeProcessor, Maintenance, NexusConfig,
    NexusIssueError, NexusState, Platform, Processed, Protocol, SetTarget, SmallIssuer, TestCode,
    Window, WipeTarget,
};
use paylock_protocol::nexus::{full_issuer, small_issuer};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::args::{opt_u32, raw_key, required, text, u32_in, uint};
use crate::errors;

/// The keycode as `to_keycode()` prints it (grouped, obscured).
fn shown(code: Keycode) -> String {
    code.display().as_str().to_owned()
}

/// The issuer's refusal, naming the facade's argument.
fn refused(py: Python<'_>, e: NexusIssueError) -> PyErr {
    match e {
        NexusIssueError::IdTooHigh { id, max } => errors::out_of_range(
            py,
            "id_",
            id,
            Some(0),
            Some(max.into()),
            format!(
                "id_ must be at most {max}: nexus-embedded 2.0.1 keeps message IDs in 16 bits and \
                 lets higher ones be replayed (allow_ids_above_65534=True lifts this for devices \
                 that do not)"
            ),
        ),
        NexusIssueError::OutOfRange {
            field,
            found,
            min,
            max,
        } => {
            let field = match field {
                "subtype" => "application_id",
                "passthrough digits" => "passthrough_digits",
                "passthrough bits" => "bits",
                "accessory Nexus ID" => "accessory_nexus_id",
                "type" => "message_type",
                other => other,
            };
            let what = if field == "passthrough_digits" {
                format!("{field} has {found} digits, allowed {min}-{max}")
            } else {
                format!("{field} must be {min}-{max}")
            };
            errors::out_of_range(py, field, found, Some(min), Some(max), what)
        }
        NexusIssueError::NotADigit { position } => errors::malformed(
            py,
            "passthrough_digits",
            Some(position),
            format!("passthrough_digits: character {position} is not a digit"),
        ),
        NexusIssueError::PassthroughBody13 => errors::invalid(
            py,
            "passthrough_digits",
            "passthrough_digits has 12 digits: with the application ID they make a 14-digit \
             frame, which devices read as an activation code",
        ),
        NexusIssueError::SetCreditId63 { next, .. } => errors::id_collision(
            py,
            true,
            "id_",
            Some(next),
            format!(
                "id_: a 1-day SET_CREDIT cannot use an ID whose low 6 bits are 63 (it reads as an \
                 old test code), next valid ID is {next}"
            ),
        ),
        NexusIssueError::ExtendedCollision { next_valid, .. } => errors::id_collision(
            py,
            false,
            "id_",
            Some(next_valid),
            format!("id_ yields a MAC collision, next valid ID is {next_valid}"),
        ),
        NexusIssueError::DemoNotAllowed => errors::unsupported(
            py,
            "message_type",
            "message_type RESERVED_TYPE_ID_3 (DEMO): a demo code adds credit every time it is \
             entered (the device records no ID for it), so it is issued only with \
             allow_demo_codes=True (showroom and test devices)",
        ),
        NexusIssueError::CounterExhausted { id } => errors::counter_exhausted(
            py,
            "id_",
            id,
            None,
            "id_ is too high: the code needs a later message ID and none is left (IDs never \
             wrap back to used ones): the ID space is exhausted"
                .to_owned(),
        ),
        NexusIssueError::NoCollisionFreeId { .. } => errors::id_collision(
            py,
            false,
            "id_",
            None,
            "id_: no collision-free ID in the 40 IDs from this one",
        ),
        other => errors::invalid(py, "id_", other.to_string()),
    }
}

/// A message ID: any `u32` here; the issuer refuses IDs above its limit.
fn message_id(id: &Bound<'_, PyAny>) -> PyResult<u32> {
    u32_in(id, "id_", 0, u32::MAX)
}

/// A full-protocol activation keycode. `kind` is `"ADD_CREDIT"`, `"SET_CREDIT"`, `"UNLOCK"`,
/// `"WIPE_STATE"` or `"DEMO"` (only with `allow_demo_codes`); `amount` is the hours, the
/// minutes or the wipe target (0-3).
#[pyfunction]
#[pyo3(signature = (kind, secret_key, id_, amount, allow_ids_above_65534 = false, allow_demo_codes = false))]
fn full_activation(
    py: Python<'_>,
    kind: &Bound<'_, PyAny>,
    secret_key: &Bound<'_, PyAny>,
    id_: &Bound<'_, PyAny>,
    amount: &Bound<'_, PyAny>,
    allow_ids_above_65534: bool,
    allow_demo_codes: bool,
) -> PyResult<String> {
    let kind = text(kind, "message_type")?;
    let key = raw_key(secret_key, "secret_key")?;
    let id = message_id(id_)?;
    let message = match &*kind {
        "ADD_CREDIT" => Activation::AddCredit {
            hours: u32_in(amount, "hours", 0, u32::MAX)?,
        },
        "SET_CREDIT" => Activation::SetCredit {
            hours: u32_in(amount, "hours", 0, u32::MAX)?,
        },
        "UNLOCK" => Activation::Unlock,
        "WIPE_STATE" => {
            let digit = u32_in(amount, "flags", 0, 3)?;
            Activation::WipeState(
                u8::try_from(digit)
                    .ok()
                    .and_then(WipeTarget::from_digit)
                    .unwrap_or(WipeTarget::Credit),
            )
        }
        "DEMO" => Activation::Demo {
            minutes: u32_in(amount, "minutes", 0, u32::MAX)?,
        },
        _ => {
            return Err(errors::not_one_of(
                py,
                "message_type",
                &["ADD_CREDIT", "SET_CREDIT", "UNLOCK", "WIPE_STATE", "DEMO"],
            ));
        }
    };
    full_issuer(allow_ids_above_65534, allow_demo_codes)
        .activation(&key, id, message)
        .map(shown)
        .map_err(|e| refused(py, e))
}

/// A universal factory keycode: `"ALLOW_TEST"`, `"DISPLAY_PAYG_ID"`, `"OQC_TEST"` (the `5 000 MM`
/// form, `minutes` 1-99) or `"OQC_TEST_LEGACY"` (1.5.1's 7-digit form).
#[pyfunction]
#[pyo3(signature = (kind, minutes = None))]
fn factory(
    py: Python<'_>,
    kind: &Bound<'_, PyAny>,
    minutes: Option<&Bound<'_, PyAny>>,
) -> PyResult<String> {
    let code = match &*text(kind, "message_type")? {
        "ALLOW_TEST" => FactoryCode::AllowTest,
        "DISPLAY_PAYG_ID" => FactoryCode::DisplayPaygId,
        "OQC_TEST_LEGACY" => FactoryCode::OqcTestLegacy151,
        "OQC_TEST" => {
            let minutes = match minutes {
                Some(m) => u32_in(m, "num_min", 1, 99)?,
                None => 60,
            };
            FactoryCode::OqcTest {
                minutes: u8::try_from(minutes).unwrap_or(u8::MAX),
            }
        }
        _ => {
            return Err(errors::not_one_of(
                py,
                "message_type",
                &[
                    "ALLOW_TEST",
                    "DISPLAY_PAYG_ID",
                    "OQC_TEST",
                    "OQC_TEST_LEGACY",
                ],
            ));
        }
    };
    FullIssuer::factory(code)
        .map(shown)
        .map_err(|e| refused(py, e))
}

/// A full-protocol passthrough keycode: `*8`, the application ID, the digits, `#`.
#[pyfunction]
fn passthrough_command(
    py: Python<'_>,
    application_id: &Bound<'_, PyAny>,
    passthrough_digits: &Bound<'_, PyAny>,
) -> PyResult<String> {
    let subtype = u32_in(application_id, "application_id", 0, 9)?;
    let digits = text(passthrough_digits, "passthrough_digits")?;
    FullIssuer::passthrough(u8::try_from(subtype).unwrap_or(9), &digits)
        .map(shown)
        .map_err(|e| refused(py, e))
}

/// The UART key passthrough keycode of the device with `secret_key`.
#[pyfunction]
fn uart_key_passthrough(secret_key: &Bound<'_, PyAny>) -> PyResult<String> {
    Ok(shown(FullIssuer::uart_key_passthrough(&raw_key(
        secret_key,
        "secret_key",
    )?)))
}

/// The device-ID confirmation keycode (type 7, no MAC).
#[pyfunction]
fn device_id_confirmation(user_facing_id: &Bound<'_, PyAny>) -> PyResult<String> {
    let id = u32_in(user_facing_id, "user_facing_id", 0, u32::MAX)?;
    Ok(FullIssuer::device_id_confirmation(id)
        .display()
        .as_str()
        .to_owned())
}

/// A Nexus Channel origin command keycode. `action` is `"LINK_ACCESSORY_MODE_3"`,
/// `"UNLINK_ALL_ACCESSORIES"`, `"UNLINK_ACCESSORY"` or `"UNLOCK_ACCESSORY"`.
#[pyfunction]
#[pyo3(signature = (
    action,
    controller_sym_key,
    controller_command_count,
    accessory_sym_key = None,
    accessory_command_count = None,
    accessory_nexus_id = None,
))]
fn channel_origin_command(
    py: Python<'_>,
    action: &Bound<'_, PyAny>,
    controller_sym_key: &Bound<'_, PyAny>,
    controller_command_count: &Bound<'_, PyAny>,
    accessory_sym_key: Option<&Bound<'_, PyAny>>,
    accessory_command_count: Option<&Bound<'_, PyAny>>,
    accessory_nexus_id: Option<&Bound<'_, PyAny>>,
) -> PyResult<String> {
    let action = text(action, "channel_action")?;
    let action = &*action;
    let controller = raw_key(controller_sym_key, "controller_sym_key")?;
    let count = u32_in(
        controller_command_count,
        "controller_command_count",
        0,
        u32::MAX,
    )?;
    let nexus_id = |arg| -> PyResult<u64> {
        let id = required(py, arg, "accessory_nexus_id", action)?;
        uint(&id, "accessory_nexus_id", 0, MAX_NEXUS_ID)
    };
    let accessory_key;
    let command = match action {
        "LINK_ACCESSORY_MODE_3" => {
            accessory_key = raw_key(
                &required(py, accessory_sym_key, "accessory_sym_key", action)?,
                "accessory_sym_key",
            )?;
            OriginCommand::LinkAccessoryMode3 {
                accessory_key: &accessory_key,
                accessory_command_count: u32_in(
                    &required(
                        py,
                        accessory_command_count,
                        "accessory_command_count",
                        action,
                    )?,
                    "accessory_command_count",
                    0,
                    u32::MAX,
                )?,
            }
        }
        "UNLINK_ALL_ACCESSORIES" => OriginCommand::UnlinkAllAccessories,
        "UNLINK_ACCESSORY" => OriginCommand::UnlinkAccessory {
            nexus_id: nexus_id(accessory_nexus_id)?,
        },
        "UNLOCK_ACCESSORY" => OriginCommand::UnlockAccessory {
            nexus_id: nexus_id(accessory_nexus_id)?,
        },
        _ => {
            return Err(errors::not_one_of(
                py,
                "channel_action",
                &[
                    "LINK_ACCESSORY_MODE_3",
                    "UNLINK_ALL_ACCESSORIES",
                    "UNLINK_ACCESSORY",
                    "UNLOCK_ACCESSORY",
                ],
            ));
        }
    };
    channel::origin_command(&controller, count, command)
        .map(shown)
        .map_err(|e| refused(py, e))
}

/// What a small SET_CREDIT carries: days 0-960, or `None` to unlock.
fn set_target(days: Option<&Bound<'_, PyAny>>) -> PyResult<SetTarget> {
    match days {
        None => Ok(SetTarget::Unlock),
        Some(d) => {
            let days = u32_in(d, "days", 0, MAX_SET_DAYS.into())?;
            Ok(SetTarget::Days(u16::try_from(days).unwrap_or(MAX_SET_DAYS)))
        }
    }
}

/// A small-protocol keycode. `kind` is `"ADD_CREDIT"` (`days` 1-405), `"UNLOCK"`,
/// `"SET_CREDIT"` (`days` 0-960, `None` to unlock), `"WIPE_RESTRICTED_FLAG"` or
/// `"EXTENDED_SET_CREDIT_WIPE_RESTRICTED_FLAG"` (`days` as SET_CREDIT).
#[pyfunction]
#[pyo3(signature = (kind, secret_key, id_, days = None, allow_ids_above_65534 = false))]
fn small_credit(
    py: Python<'_>,
    kind: &Bound<'_, PyAny>,
    secret_key: &Bound<'_, PyAny>,
    id_: &Bound<'_, PyAny>,
    days: Option<&Bound<'_, PyAny>>,
    allow_ids_above_65534: bool,
) -> PyResult<String> {
    let kind = text(kind, "message_type")?;
    let key = raw_key(secret_key, "secret_key")?;
    let id = message_id(id_)?;
    let issuer = small_issuer(allow_ids_above_65534);
    let code = match &*kind {
        "ADD_CREDIT" => {
            let days = days.ok_or_else(|| errors::invalid(py, "days", "days is required"))?;
            let days = u32_in(days, "days", 1, MAX_ADD_DAYS.into())?;
            issuer.add_credit(&key, id, u16::try_from(days).unwrap_or(MAX_ADD_DAYS))
        }
        "UNLOCK" => issuer.unlock(&key, id),
        "SET_CREDIT" => issuer.set_credit(&key, id, set_target(days)?),
        "WIPE_RESTRICTED_FLAG" => issuer.wipe_restricted_flag(&key, id),
        "EXTENDED_SET_CREDIT_WIPE_RESTRICTED_FLAG" => {
            issuer.extended_set_credit_wipe_restricted(&key, id, set_target(days)?)
        }
        _ => {
            return Err(errors::not_one_of(
                py,
                "message_type",
                &[
                    "ADD_CREDIT",
                    "UNLOCK",
                    "SET_CREDIT",
                    "WIPE_RESTRICTED_FLAG",
                    "EXTENDED_SET_CREDIT_WIPE_RESTRICTED_FLAG",
                ],
            ));
        }
    };
    code.map(shown).map_err(|e| refused(py, e))
}

/// The first ID at or after `id_` that an extended small code for `days` can use.
#[pyfunction]
#[pyo3(signature = (secret_key, id_, days = None, allow_ids_above_65534 = false))]
fn next_extended_id(
    py: Python<'_>,
    secret_key: &Bound<'_, PyAny>,
    id_: &Bound<'_, PyAny>,
    days: Option<&Bound<'_, PyAny>>,
    allow_ids_above_65534: bool,
) -> PyResult<u32> {
    let key = raw_key(secret_key, "secret_key")?;
    small_issuer(allow_ids_above_65534)
        .next_extended_id(&key, message_id(id_)?, set_target(days)?)
        .map_err(|e| refused(py, e))
}

/// A small maintenance keycode (`function` 0, 1 or 2: WIPE_STATE_0, WIPE_STATE_1,
/// WIPE_IDS_ALL).
#[pyfunction]
fn small_maintenance(
    secret_key: &Bound<'_, PyAny>,
    function: &Bound<'_, PyAny>,
) -> PyResult<String> {
    let key = raw_key(secret_key, "secret_key")?;
    let function = match u32_in(function, "type_", 0, 2)? {
        0 => Maintenance::WipeState0,
        1 => Maintenance::WipeState1,
        _ => Maintenance::WipeIdsAll,
    };
    Ok(shown(SmallIssuer::new().maintenance(&key, function)))
}

/// A universal small test keycode (`function` 0: SHORT_TEST, 1: OQC_TEST).
#[pyfunction]
fn small_test(function: &Bound<'_, PyAny>) -> PyResult<String> {
    let code = match u32_in(function, "type_", 0, 1)? {
        0 => TestCode::ShortTest,
        _ => TestCode::OqcTest,
    };
    Ok(shown(SmallIssuer::new().test(code)))
}

/// A small passthrough keycode carrying 26 raw bits.
#[pyfunction]
fn small_passthrough(py: Python<'_>, bits: &Bound<'_, PyAny>) -> PyResult<String> {
    let bits = u32_in(bits, "bits", 0, (1 << 26) - 1)?;
    SmallIssuer::new()
        .passthrough(bits)
        .map(shown)
        .map_err(|e| refused(py, e))
}

/// A simulated Nexus device: the keycode engine of nexus-embedded 2.0.1 (with `u32` message
/// IDs) on a product with a credit counter in seconds, for checking keycodes before they are
/// sent and for support tools.
#[pyclass(module = "paylock.nexus", name = "Device")]
pub(crate) struct NexusDevice {
    key: Key,
    device: KeycodeProcessor,
    state: NexusState,
    product: SimProduct,
}

/// The outcome of one keycode on a [`NexusDevice`].
#[pyclass(module = "paylock.nexus", name = "Entry", frozen, get_all)]
pub(crate) struct Entry {
    /// `INVALID`, `VALID_DUPLICATE`, `VALID_APPLIED`, `DISPLAY_DEVICE_ID` or `NONE`.
    response: String,
    /// The feedback the product showed, in order (`MESSAGE_APPLIED`, `KEY_ACCEPTED`, ...).
    feedback: Vec<String>,
    /// The product calls, in order: `add:<seconds>`, `set:<seconds>`, `unlock`, `flag:0`,
    /// `passthrough:<digits>`.
    platform_calls: Vec<String>,
    /// The full message ID of an authentic code that carries one, applied or duplicate.
    message_id: Option<u32>,
}

#[pymethods]
impl Entry {
    fn __repr__(&self) -> String {
        let quoted = |items: &[String]| {
            let inner: Vec<String> = items.iter().map(|s| format!("'{s}'")).collect();
            format!("[{}]", inner.join(", "))
        };
        format!(
            "Entry(response='{}', feedback={}, platform_calls={}, message_id={})",
            self.response,
            quoted(&self.feedback),
            quoted(&self.platform_calls),
            self.message_id
                .map_or_else(|| "None".to_owned(), |id| id.to_string())
        )
    }
}

impl NexusDevice {
    /// The entry's outcome, with what the product recorded since the last one.
    fn entry(&mut self, processed: Processed) -> Entry {
        let (calls, feedback) = self.product.take();
        Entry {
            response: processed.response.name().to_owned(),
            feedback: feedback.into_iter().map(str::to_owned).collect(),
            platform_calls: calls,
            message_id: processed.message_id,
        }
    }
}

#[pymethods]
impl NexusDevice {
    #[new]
    #[pyo3(
        text_signature = "(secret_key, protocol, *, user_facing_id=0, credit_seconds=0, \
        unlocked=False, pd_index=23, received_flags=0, qc_short_count=0, qc_long_count=0, \
        restricted_flag=False, qc_short_max=5, qc_long_max=5, rate_limited=False, \
        extended_small_codes=True)"
    )]
    #[pyo3(signature = (
        secret_key,
        protocol,
        *,
        user_facing_id = None,
        credit_seconds = None,
        unlocked = false,
        pd_index = None,
        received_flags = None,
        qc_short_count = None,
        qc_long_count = None,
        restricted_flag = false,
        qc_short_max = None,
        qc_long_max = None,
        rate_limited = false,
        extended_small_codes = true,
    ))]
    #[allow(clippy::too_many_arguments)] // the device's build and its persisted state
    fn new(
        py: Python<'_>,
        secret_key: &Bound<'_, PyAny>,
        protocol: &Bound<'_, PyAny>,
        user_facing_id: Option<&Bound<'_, PyAny>>,
        credit_seconds: Option<&Bound<'_, PyAny>>,
        unlocked: bool,
        pd_index: Option<&Bound<'_, PyAny>>,
        received_flags: Option<&Bound<'_, PyAny>>,
        qc_short_count: Option<&Bound<'_, PyAny>>,
        qc_long_count: Option<&Bound<'_, PyAny>>,
        restricted_flag: bool,
        qc_short_max: Option<&Bound<'_, PyAny>>,
        qc_long_max: Option<&Bound<'_, PyAny>>,
        rate_limited: bool,
        extended_small_codes: bool,
    ) -> PyResult<Self> {
        let protocol = match &*text(protocol, "protocol")? {
            "full" => Protocol::Full,
            "small" => Protocol::Small,
            _ => return Err(errors::not_one_of(py, "protocol", &["full", "small"])),
        };
        let qc = |arg, name, default| -> PyResult<u8> {
            Ok(u8::try_from(opt_u32(arg, name, 0, 15, default)?).unwrap_or(15))
        };
        let mut config = NexusConfig::new(protocol).with_qc_limits(
            qc(qc_short_max, "qc_short_max", 5)?,
            qc(qc_long_max, "qc_long_max", 5)?,
        );
        config.extended_small_codes = extended_small_codes;
        if !rate_limited {
            config = config.without_rate_limit();
        }
        let state = NexusState {
            window: Window {
                pd_index: opt_u32(pd_index, "pd_index", 0, u32::MAX, Window::FRESH.pd_index)?,
                received: opt_u32(received_flags, "received_flags", 0, 0x00FF_FFFF, 0)?,
            },
            qc_short_count: qc(qc_short_count, "qc_short_count", 0)?,
            qc_long_count: qc(qc_long_count, "qc_long_count", 0)?,
            restricted: restricted_flag,
            ..NexusState::FRESH
        };
        Ok(Self {
            key: raw_key(secret_key, "secret_key")?,
            device: KeycodeProcessor::new(config, &state),
            state,
            product: SimProduct::new(
                credit_seconds.map_or(Ok(0), |c| uint(c, "credit_seconds", 0, u64::MAX >> 1))?,
                unlocked,
                opt_u32(user_facing_id, "user_facing_id", 0, u32::MAX, 0)?,
            ),
        })
    }

    /// Enters a whole keycode (separators and spaces are not keys: pass the keys, or the
    /// keycode as printed and it is read without its spaces). `now` is a monotonic clock in
    /// seconds, used by the rate limiter and the entry timeout.
    #[pyo3(signature = (keycode, now = 0))]
    fn enter(&mut self, keycode: &Bound<'_, PyAny>, now: u32) -> PyResult<Entry> {
        let keys: Vec<u8> = text(keycode, "keycode")?
            .bytes()
            .filter(|b| *b != b' ')
            .collect();
        let processed =
            self.device
                .enter_keycode(&keys, now, &self.key, &mut self.state, &mut self.product);
        Ok(self.entry(processed))
    }

    /// One key press; returns the outcome when the key finished a keycode, else `None` (the
    /// key's own feedback is kept for the next outcome).
    #[pyo3(signature = (key, now = 0))]
    fn press_key(
        &mut self,
        py: Python<'_>,
        key: &Bound<'_, PyAny>,
        now: u32,
    ) -> PyResult<Option<Entry>> {
        let key = text(key, "key")?;
        let [byte] = key.as_bytes() else {
            return Err(errors::invalid(
                py,
                "key",
                "key must be exactly one character",
            ));
        };
        let processed =
            self.device
                .press_key(*byte, now, &self.key, &mut self.state, &mut self.product);
        Ok(processed.map(|p| self.entry(p)))
    }

    /// Lets time pass (the rate limiter refills, a half-typed keycode times out).
    fn tick(&mut self, now: u32) {
        self.device.tick(now, &mut self.state);
    }

    /// The device's state in the form of the test vectors' `after` objects: `pd_index`,
    /// `received_flags` (6 hex digits), `credit_seconds`, `unlocked`, `payg_state`,
    /// `qc_short_count`, `qc_long_count`, `restricted_flag`.
    #[getter]
    fn state<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        d.set_item("pd_index", self.state.window.pd_index)?;
        d.set_item(
            "received_flags",
            format!("{:06x}", self.state.window.received & 0x00FF_FFFF),
        )?;
        d.set_item("credit_seconds", self.product.credit_seconds)?;
        d.set_item("unlocked", self.product.unlocked)?;
        d.set_item("payg_state", payg_state_name(self.product.payg_state()))?;
        d.set_item("qc_short_count", self.state.qc_short_count)?;
        d.set_item("qc_long_count", self.state.qc_long_count)?;
        d.set_item("restricted_flag", self.state.restricted)?;
        Ok(d)
    }

    /// Credit left, in seconds.
    #[getter]
    fn credit_seconds(&self) -> u64 {
        self.product.credit_seconds
    }

    /// True once an UNLOCK code was applied (until a SET).
    #[getter]
    fn unlocked(&self) -> bool {
        self.product.unlocked
    }

    /// `DISABLED`, `ENABLED` or `UNLOCKED`.
    #[getter]
    fn payg_state(&self) -> &'static str {
        payg_state_name(self.product.payg_state())
    }

    /// The 12 bytes a device persists, as numbers: `pd_index`, `received_flags` (24 bits),
    /// `qc_short_count`, `qc_long_count`, `restricted_flag`, `grace_keycodes`.
    #[getter]
    fn persisted<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        d.set_item("pd_index", self.state.window.pd_index)?;
        d.set_item("received_flags", self.state.window.received & 0x00FF_FFFF)?;
        d.set_item("qc_short_count", self.state.qc_short_count)?;
        d.set_item("qc_long_count", self.state.qc_long_count)?;
        d.set_item("restricted_flag", self.state.restricted)?;
        d.set_item("grace_keycodes", self.state.grace_keycodes)?;
        Ok(d)
    }

    /// The product's "restricted" flag: the product sets it, wipe codes clear it.
    #[getter]
    fn restricted_flag(&self) -> bool {
        self.state.restricted
    }

    #[setter]
    fn set_restricted_flag(&mut self, value: bool) {
        self.state.restricted = value;
    }

    /// Keycodes the rate limiter still lets through (`None` without rate limiting).
    #[getter]
    fn attempts_left(&self) -> Option<u32> {
        self.device.attempts_left()
    }

    fn __repr__(&self) -> String {
        format!(
            "Device(protocol='{}', payg_state='{}', credit_seconds={}, pd_index={})",
            match self.device.config().protocol {
                Protocol::Full => "full",
                Protocol::Small => "small",
            },
            payg_state_name(self.product.payg_state()),
            self.product.credit_seconds,
            self.state.window.pd_index,
        )
    }
}

/// Registers the constants, functions and classes.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("MAX_ISSUED_ID", paylock::nexus::MAX_ISSUED_ID)?;
    m.add_function(wrap_pyfunction!(full_activation, m)?)?;
    m.add_function(wrap_pyfunction!(factory, m)?)?;
    m.add_function(wrap_pyfunction!(passthrough_command, m)?)?;
    m.add_function(wrap_pyfunction!(uart_key_passthrough, m)?)?;
    m.add_function(wrap_pyfunction!(device_id_confirmation, m)?)?;
    m.add_function(wrap_pyfunction!(channel_origin_command, m)?)?;
    m.add_function(wrap_pyfunction!(small_credit, m)?)?;
    m.add_function(wrap_pyfunction!(next_extended_id, m)?)?;
    m.add_function(wrap_pyfunction!(small_maintenance, m)?)?;
    m.add_function(wrap_pyfunction!(small_test, m)?)?;
    m.add_function(wrap_pyfunction!(small_passthrough, m)?)?;
    m.add_class::<NexusDevice>()?;
    m.add_class::<Entry>()?;
    Ok(())
}
