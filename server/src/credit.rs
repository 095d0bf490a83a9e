//! PaygOps credit updates: the request as PaygOps' client sends it, and what it means for a
//! device whose recorded expiry ("active until") the ledger keeps.
//!
//! `ABSOLUTE_TIME` is desired state: the device should be active until that time. From the
//! recorded expiry that becomes an ADD token (the extension), a SET token (the expiry moves
//! back), or no token at all (`NO_TOKEN_NEEDED`). `DAYS` and `HOURS` are relative amounts.
//! A time without a zone is UTC; `DISABLE_PAYG` ignores any unit and value sent with it.

use serde_json::{Map, Value, json};

use crate::device::Params;
use crate::mint::Order;
use crate::time;

/// The update type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `ADD_CREDIT`.
    Add,
    /// `SET_CREDIT`.
    Set,
    /// `DISABLE_PAYG`.
    Disable,
}

impl Kind {
    /// The PaygOps name.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Add => "ADD_CREDIT",
            Self::Set => "SET_CREDIT",
            Self::Disable => "DISABLE_PAYG",
        }
    }
}

/// The amount of a credit update.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Amount {
    /// `ABSOLUTE_TIME`: active until this Unix time.
    Until(i64),
    /// `DAYS` / `HOURS`: this many seconds.
    Seconds(f64),
    /// `DISABLE_PAYG`: none.
    None,
}

/// A checked `POST /credit_updates/{uuid}` body.
#[derive(Clone, Debug, PartialEq)]
pub struct Request {
    /// `device_serial_number`.
    pub serial: String,
    /// `credit_update_type`.
    pub kind: Kind,
    /// `credit_unit` as given (default `ABSOLUTE_TIME`).
    pub unit: String,
    /// The amount.
    pub amount: Amount,
    /// `credit_value` as it is echoed back (a time normalized to UTC without zone).
    pub value_echo: Value,
    /// `credit_update_mode` (default `AUTO`).
    pub mode: String,
    /// `status`: `PENDING` (an offline token, committed later by PUT) or `COMMITTED`.
    pub pending: bool,
}

fn text<'a>(body: &'a Map<String, Value>, field: &str) -> Result<Option<&'a str>, String> {
    match body.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(format!("field {field:?} must be a string")),
    }
}

impl Request {
    /// Reads a JSON body.
    ///
    /// # Errors
    /// The first missing or wrong field, in words PaygOps shows its user.
    pub fn parse(body: &Value) -> Result<Self, String> {
        let body = body.as_object().ok_or("the body must be a JSON object")?;
        let serial = text(body, "device_serial_number")?
            .ok_or("field \"device_serial_number\" is required")?
            .to_owned();
        let kind = match text(body, "credit_update_type")?.unwrap_or("ADD_CREDIT") {
            "ADD_CREDIT" => Kind::Add,
            "SET_CREDIT" => Kind::Set,
            "DISABLE_PAYG" => Kind::Disable,
            other => {
                return Err(format!(
                    "field \"credit_update_type\" is {other:?}, not one of ADD_CREDIT, SET_CREDIT, DISABLE_PAYG"
                ));
            }
        };
        let unit = text(body, "credit_unit")?
            .unwrap_or("ABSOLUTE_TIME")
            .to_owned();
        let mode = text(body, "credit_update_mode")?
            .unwrap_or("AUTO")
            .to_owned();
        if !["AUTO", "TOKEN"].contains(&mode.as_str()) {
            return Err(format!(
                "field \"credit_update_mode\" is {mode:?}, not one of AUTO, TOKEN"
            ));
        }
        let pending = match text(body, "status")?.unwrap_or("COMMITTED") {
            "COMMITTED" => false,
            "PENDING" => true,
            other => {
                return Err(format!(
                    "field \"status\" is {other:?}, not one of PENDING, COMMITTED"
                ));
            }
        };
        let raw = body.get("credit_value").filter(|v| !v.is_null());
        let (amount, value_echo) = match (kind, unit.as_str()) {
            (Kind::Disable, _) => (Amount::None, raw.cloned().unwrap_or(Value::Null)),
            (_, "ABSOLUTE_TIME") => {
                let t = match raw {
                    Some(Value::String(s)) => time::parse(s),
                    Some(_) => None,
                    None => return Err("field \"credit_value\" is required".into()),
                }
                .ok_or("field \"credit_value\" must be a date and time (ISO 8601) for credit_unit ABSOLUTE_TIME")?;
                (Amount::Until(t), Value::String(time::naive(t)))
            }
            (_, "DAYS" | "HOURS") => {
                let n = raw
                    .and_then(|v| match v {
                        Value::Number(n) => n.as_f64(),
                        Value::String(s) => s.trim().parse::<f64>().ok(),
                        _ => None,
                    })
                    .filter(|n| n.is_finite() && *n >= 0.0 && *n <= 1.0e7)
                    .ok_or_else(|| {
                        format!(
                            "field \"credit_value\" must be a number of {} (0 or more)",
                            unit.to_lowercase()
                        )
                    })?;
                let per = if unit == "DAYS" { 86_400.0 } else { 3_600.0 };
                (Amount::Seconds(n * per), json!(n))
            }
            (_, other) => {
                return Err(format!(
                    "field \"credit_unit\" is {other:?}, not one of ABSOLUTE_TIME, DAYS, HOURS"
                ));
            }
        };
        Ok(Self {
            serial,
            kind,
            unit,
            amount,
            value_echo,
            mode,
            pending,
        })
    }

    /// The canonical form that decides whether two requests with one key are the same.
    #[must_use]
    pub fn canonical(&self) -> Value {
        let amount = match self.amount {
            Amount::Until(t) => json!(t),
            Amount::Seconds(s) => json!(s),
            Amount::None => Value::Null,
        };
        json!([
            self.serial,
            self.kind.name(),
            self.unit,
            amount,
            self.mode,
            self.pending
        ])
    }
}

/// What a credit update does to a device.
#[derive(Clone, Debug, PartialEq)]
pub struct Decision {
    /// The token to mint, or none (`NO_TOKEN_NEEDED`).
    pub order: Option<Order>,
    /// `effective_credit_update_type`.
    pub effective_type: Kind,
    /// `effective_credit_value`.
    pub effective_value: Value,
}

/// Whole device units in `seconds`, rounded half up.
fn units(seconds: i64, unit: i64) -> i64 {
    (seconds + unit / 2).div_euclid(unit)
}

/// Decides the token for `request` on a device with `params` whose recorded expiry is `expiry`.
///
/// # Errors
/// A relative amount that is not a whole number of the device's units, or a unit the device
/// does not take.
pub fn decide(
    request: &Request,
    params: &Params,
    expiry: Option<i64>,
    now: i64,
) -> Result<Decision, String> {
    let unit = params.unit_seconds();
    let to_u32 =
        |n: i64| u32::try_from(n).map_err(|_| format!("credit_value is too large: {n} units"));
    match request.amount {
        Amount::None => Ok(Decision {
            order: Some(Order::Unlock),
            effective_type: Kind::Disable,
            effective_value: Value::Null,
        }),
        Amount::Seconds(seconds) => {
            if request.unit != "DAYS" && !params.relative_units().contains(&request.unit.as_str()) {
                return Err(format!(
                    "credit_unit {} is not supported by this device: use ABSOLUTE_TIME or {}",
                    request.unit,
                    params.relative_units().join(", ")
                ));
            }
            #[allow(clippy::cast_precision_loss)]
            let exact = seconds / unit as f64;
            if (exact - exact.round()).abs() > 1e-9 {
                return Err(format!(
                    "credit_value {} {} is not a whole number of this device's {}-second credit units",
                    request.value_echo, request.unit, unit
                ));
            }
            #[allow(clippy::cast_possible_truncation)]
            let n = to_u32(exact.round() as i64)?;
            let order = match request.kind {
                Kind::Add if n == 0 => None,
                Kind::Add => Some(Order::AddCredit { units: n }),
                _ => Some(Order::SetCredit { units: n }),
            };
            Ok(Decision {
                order,
                effective_type: request.kind,
                effective_value: request.value_echo.clone(),
            })
        }
        Amount::Until(target) => {
            let base = expiry.unwrap_or(now).max(now);
            let add = units(target - base, unit);
            if add > 0 {
                return Ok(Decision {
                    order: Some(Order::AddCredit {
                        units: to_u32(add)?,
                    }),
                    effective_type: Kind::Add,
                    effective_value: Value::String(time::naive(base + add * unit)),
                });
            }
            let active = expiry.filter(|e| *e > now);
            if let Some(e) = active
                && units(e - target, unit) > 0
            {
                let set = units(target - now, unit).max(0);
                return Ok(Decision {
                    order: Some(Order::SetCredit {
                        units: to_u32(set)?,
                    }),
                    effective_type: Kind::Set,
                    effective_value: Value::String(time::naive(now + set * unit)),
                });
            }
            Ok(Decision {
                order: None,
                effective_type: request.kind,
                effective_value: Value::String(time::naive(
                    active.unwrap_or(now).max(target.min(now)),
                )),
            })
        }
    }
}

/// The recorded expiry and PAYG flag after `order` is committed at `now`.
#[must_use]
pub fn apply(
    order: &Order,
    unit: i64,
    expiry: Option<i64>,
    payg_disabled: bool,
    now: i64,
) -> (Option<i64>, bool) {
    match *order {
        Order::AddCredit { units } => (
            Some(expiry.unwrap_or(now).max(now) + i64::from(units) * unit),
            payg_disabled,
        ),
        Order::SetCredit { units } => (Some(now + i64::from(units) * unit), false),
        Order::Unlock => (expiry, true),
        _ => (expiry, payg_disabled),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 86_400;

    fn params() -> Params {
        Params::Openpaygo {
            time_divider: 1,
            restricted_digit_set: false,
            extended_token: false,
            test_code: None,
        }
    }

    fn req(body: Value) -> Request {
        Request::parse(&body).unwrap()
    }

    #[test]
    fn absolute_time_becomes_add_set_or_nothing() {
        let now = 1_700_000_000;
        let until = |t: i64| json!({"device_serial_number": "S", "credit_value": time::naive(t)});
        // Expired device: the days from now.
        let d = decide(&req(until(now + 7 * DAY)), &params(), None, now).unwrap();
        assert_eq!(d.order, Some(Order::AddCredit { units: 7 }));
        // Active until now+3d, wanted now+10d: add 7.
        let d = decide(
            &req(until(now + 10 * DAY)),
            &params(),
            Some(now + 3 * DAY),
            now,
        )
        .unwrap();
        assert_eq!(d.order, Some(Order::AddCredit { units: 7 }));
        // Same expiry: nothing.
        let d = decide(
            &req(until(now + 3 * DAY)),
            &params(),
            Some(now + 3 * DAY),
            now,
        )
        .unwrap();
        assert_eq!(d.order, None);
        // Earlier: SET from now.
        let d = decide(&req(until(now + DAY)), &params(), Some(now + 3 * DAY), now).unwrap();
        assert_eq!(d.order, Some(Order::SetCredit { units: 1 }));
        assert_eq!(d.effective_type, Kind::Set);
        // In the past, device expired: nothing.
        let d = decide(&req(until(now - DAY)), &params(), None, now).unwrap();
        assert_eq!(d.order, None);
    }

    #[test]
    fn relative_units_and_bad_input() {
        let now = 1_700_000_000;
        let r =
            req(json!({"device_serial_number": "S", "credit_unit": "DAYS", "credit_value": 7.0}));
        assert_eq!(
            decide(&r, &params(), None, now).unwrap().order,
            Some(Order::AddCredit { units: 7 })
        );
        let r =
            req(json!({"device_serial_number": "S", "credit_unit": "DAYS", "credit_value": 1.5}));
        assert!(
            decide(&r, &params(), None, now)
                .unwrap_err()
                .contains("whole number")
        );
        let r =
            req(json!({"device_serial_number": "S", "credit_unit": "HOURS", "credit_value": 5}));
        assert!(
            decide(&r, &params(), None, now)
                .unwrap_err()
                .contains("not supported")
        );
        let r = req(
            json!({"device_serial_number": "S", "credit_update_type": "DISABLE_PAYG", "credit_unit": "DAYS", "credit_value": 3}),
        );
        assert_eq!(
            decide(&r, &params(), None, now).unwrap().order,
            Some(Order::Unlock)
        );
        for (body, field) in [
            (
                json!({"credit_value": "2025-01-01"}),
                "device_serial_number",
            ),
            (json!({"device_serial_number": 5}), "device_serial_number"),
            (
                json!({"device_serial_number": "S", "credit_value": 3}),
                "credit_value",
            ),
            (
                json!({"device_serial_number": "S", "credit_unit": "WATTS", "credit_value": 3}),
                "credit_unit",
            ),
            (
                json!({"device_serial_number": "S", "status": "DONE", "credit_value": "2025-01-01"}),
                "status",
            ),
        ] {
            assert!(Request::parse(&body).unwrap_err().contains(field), "{body}");
        }
    }
}
