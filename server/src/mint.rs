//! Everything that computes a token: (device parameters, secret, counter, scheme state, order)
//! → (token text, new counter, new scheme state). Pure and synchronous; the rest of the
//! service never names a scheme's issuer.
//!
//! OpenPAYGO keeps, in the scheme state, the chain points of the values it issued last (at most
//! [`KEPT_POINTS`], all moved to the device's current count after every token), so a token at
//! count 30,000 costs what one at count 10 does unless its value is new to the device.

use paylock::nexus::{FullIssuer, Maintenance, SmallIssuer, WipeTarget};
use paylock::openpaygo::{self, ChainPoint, Form, OpenPaygoIssuer, OpenPaygoMessage};
use paylock::{Command, Credit, IssueError, Issuer, TimeUnit, access};
use serde::{Deserialize, Serialize};

use crate::device::{Params, Secret};

/// Chain points kept per OpenPAYGO device.
pub const KEPT_POINTS: usize = 8;

/// What to issue, in the device's own credit unit ([`Params::unit_seconds`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "snake_case")]
pub enum Order {
    /// Add this many units.
    AddCredit {
        /// Units.
        units: u32,
    },
    /// Set the credit to this many units from entry.
    SetCredit {
        /// Units.
        units: u32,
    },
    /// End pay-as-you-go (OpenPAYGO's DISABLE_PAYG).
    Unlock,
    /// Move the device's counter forward (OpenPAYGO, AST).
    CounterSync,
    /// Nexus: clear credit and/or the used-ID window or the restricted flag.
    Wipe {
        /// What to clear.
        target: Wipe,
    },
    /// AST: set a device parameter.
    SetParam {
        /// Parameter id (0-15).
        id: u16,
        /// Value.
        value: u32,
    },
    /// AST: a public test code (uses no counter).
    Test {
        /// Test id.
        id: u16,
    },
}

/// Nexus wipe targets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Wipe {
    /// Credit only.
    Credit,
    /// Credit and the used-ID window.
    CreditAndWindow,
    /// The used-ID window only (factory use).
    Window,
    /// The restricted flag.
    RestrictedFlag,
}

/// Per-device scheme state kept with the counter.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct State {
    /// OpenPAYGO chain points, most recent first: (value, count, code).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub chain: Vec<(u32, u32, u64)>,
}

/// A token and what to store after it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Minted {
    /// The text for an SMS: grouped digits, Nexus in its `*…#` form.
    pub token: String,
    /// The keys to press.
    pub keys: String,
    /// The token's own sequence number (OpenPAYGO count, Nexus message ID, AST counter), `None`
    /// for codes without one (Nexus maintenance codes, AST test codes).
    pub sequence: Option<u32>,
    /// The device counter to store.
    pub counter: u32,
    /// The scheme state to store.
    pub state: State,
}

/// Why no token was minted (the message never holds a secret).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct MintError(pub String);

fn refused(order: &Order, e: &IssueError) -> MintError {
    let what = match order {
        Order::AddCredit { .. } => "add_credit",
        Order::SetCredit { .. } => "set_credit",
        Order::Unlock => "unlock",
        Order::CounterSync => "counter_sync",
        Order::Wipe { .. } => "wipe",
        Order::SetParam { .. } => "set_param",
        Order::Test { .. } => "test",
    };
    match e {
        IssueError::Unsupported => MintError(format!(
            "{what} is not supported by this device's token scheme"
        )),
        IssueError::OutOfRange { field, found, max } => MintError(format!(
            "{what}: {field} {found} is more than the {max} this device's tokens carry"
        )),
        IssueError::Unit => MintError(format!(
            "{what}: the amount cannot be carried exactly by this device's tokens"
        )),
        _ => MintError(format!("{what}: {e}")),
    }
}

/// Mints the token for `order` on a device with `params` and `secret` at `counter`.
///
/// # Errors
/// [`MintError`] when the scheme cannot express the order or its amount.
pub fn mint(
    params: &Params,
    secret: &Secret,
    counter: u32,
    state: &State,
    order: Order,
) -> Result<Minted, MintError> {
    match params {
        Params::Openpaygo {
            time_divider: _,
            restricted_digit_set,
            extended_token,
            test_code,
        } => openpaygo(
            Form {
                extended: *extended_token,
                restricted_digit_set: *restricted_digit_set,
            },
            test_code.as_deref(),
            secret,
            counter,
            state,
            order,
        ),
        Params::NexusFull => nexus_full(secret, counter, order),
        Params::NexusSmall => nexus_small(secret, counter, order),
        Params::Ast1 { .. } => ast(params, secret, counter, order),
    }
}

fn openpaygo(
    form: Form,
    test_code: Option<&str>,
    secret: &Secret,
    counter: u32,
    state: &State,
    order: Order,
) -> Result<Minted, MintError> {
    let message = match order {
        Order::AddCredit { units } => OpenPaygoMessage::AddTime(units),
        Order::SetCredit { units } => OpenPaygoMessage::SetTime(units),
        Order::Unlock if !form.extended => OpenPaygoMessage::DisablePayg,
        Order::CounterSync if !form.extended => OpenPaygoMessage::CounterSync,
        _ => return Err(refused(&order, &IssueError::Unsupported)),
    };
    let encoder = OpenPaygoIssuer::new(form);
    let secret = openpaygo::OpenPaygoSecret::new(secret.key.clone(), secret.starting_code)
        .map_err(|e| MintError(e.to_string()))?;
    let mut points: Vec<ChainPoint> = state
        .chain
        .iter()
        .map(|&(v, c, code)| ChainPoint::new(v, c, code))
        .collect();
    let mut count = counter;
    // A token equal to the Test Code is skipped: the next count of the same parity is used.
    for _ in 0..4 {
        let from = points
            .iter()
            .find(|p| p.value() == message.value())
            .copied();
        let (generated, point) = encoder
            .generate_from(&secret, count, message, from.as_ref())
            .map_err(|e| refused(&order, &e.into()))?;
        points.retain(|p| p.value() != message.value());
        points.truncate(KEPT_POINTS - 1);
        for p in &mut points {
            *p = encoder.advance(&secret, *p, generated.count);
        }
        points.insert(0, point);
        count = generated.count;
        let keys = generated.token.as_str().to_owned();
        if test_code == Some(keys.as_str()) {
            continue;
        }
        let token = generated
            .token
            .grouped(3)
            .map(|t| t.as_str().to_owned())
            .unwrap_or_else(|_| keys.clone());
        return Ok(Minted {
            token,
            keys,
            sequence: Some(count),
            counter: count,
            state: State {
                chain: points
                    .iter()
                    .map(|p| (p.value(), p.count(), p.code()))
                    .collect(),
            },
        });
    }
    Err(MintError("no count free of the device's Test Code".into()))
}

fn nexus_full(secret: &Secret, counter: u32, order: Order) -> Result<Minted, MintError> {
    let issuer = FullIssuer::new();
    let code = match order {
        Order::Wipe { target } => {
            let target = match target {
                Wipe::Credit => WipeTarget::Credit,
                Wipe::CreditAndWindow => WipeTarget::CreditAndWindow,
                Wipe::Window => WipeTarget::Window,
                Wipe::RestrictedFlag => WipeTarget::RestrictedFlag,
            };
            issuer
                .wipe_state(&secret.key, counter, target)
                .map_err(|e| refused(&order, &e.into()))?
        }
        _ => {
            let command = command(order, TimeUnit::Hours)?;
            let mut next = counter;
            let code = issuer
                .issue(&secret.key, &mut next, &command)
                .map_err(|e| refused(&order, &e))?;
            return Ok(keycode(&code, next.checked_sub(1), next));
        }
    };
    Ok(keycode(&code, Some(counter), counter.saturating_add(1)))
}

fn nexus_small(secret: &Secret, counter: u32, order: Order) -> Result<Minted, MintError> {
    let issuer = SmallIssuer::new();
    let maintenance = |m| {
        let code = issuer.maintenance(&secret.key, m);
        keycode(&code, None, counter)
    };
    match order {
        Order::Wipe {
            target: Wipe::Credit,
        } => Ok(maintenance(Maintenance::WipeState0)),
        Order::Wipe {
            target: Wipe::CreditAndWindow,
        } => Ok(maintenance(Maintenance::WipeState1)),
        Order::Wipe {
            target: Wipe::Window,
        } => Ok(maintenance(Maintenance::WipeIdsAll)),
        Order::Wipe {
            target: Wipe::RestrictedFlag,
        } => {
            let code = issuer
                .wipe_restricted_flag(&secret.key, counter)
                .map_err(|e| refused(&order, &e.into()))?;
            Ok(keycode(&code, Some(counter), counter.saturating_add(1)))
        }
        _ => {
            let command = command(order, TimeUnit::Days)?;
            let mut next = counter;
            let code = issuer
                .issue(&secret.key, &mut next, &command)
                .map_err(|e| refused(&order, &e))?;
            Ok(keycode(&code, next.checked_sub(1), next))
        }
    }
}

fn keycode(code: &paylock::nexus::Keycode, sequence: Option<u32>, counter: u32) -> Minted {
    Minted {
        token: code.display().as_str().to_owned(),
        keys: code.keys().as_str().to_owned(),
        sequence,
        counter,
        state: State::default(),
    }
}

fn ast(params: &Params, secret: &Secret, counter: u32, order: Order) -> Result<Minted, MintError> {
    let Params::Ast1 {
        device_id, key_rev, ..
    } = params
    else {
        return Err(MintError("not an AST device".into()));
    };
    let (suite, profile, unit) = params
        .ast()
        .ok_or_else(|| MintError("stored AST parameters are invalid".into()))?;
    let config = access::AstConfig {
        suite,
        profile,
        device_id: *device_id,
        key_rev: *key_rev,
        unit,
    };
    let secret =
        access::AstSecret::new(secret.key.clone(), config).map_err(|e| MintError(e.to_string()))?;
    let time_unit = match unit {
        access::Unit::Days => TimeUnit::Days,
        access::Unit::Hours => TimeUnit::Hours,
    };
    let command = command(order, time_unit)?;
    let mut next = counter;
    let token = access::AstIssuer
        .issue(&secret, &mut next, &command)
        .map_err(|e| refused(&order, &e))?;
    let keys: String = token
        .as_str()
        .chars()
        .filter(char::is_ascii_digit)
        .collect();
    let sequence = (next != counter).then_some(counter);
    Ok(Minted {
        token: token.as_str().to_owned(),
        keys,
        sequence,
        counter: next,
        state: State::default(),
    })
}

/// The scheme-neutral command for `order` in `unit`.
fn command(order: Order, unit: TimeUnit) -> Result<Command, MintError> {
    Ok(match order {
        Order::AddCredit { units } => Command::AddCredit(Credit::new(units, unit)),
        Order::SetCredit { units } => Command::SetCredit(Credit::new(units, unit)),
        Order::Unlock => Command::Unlock,
        Order::CounterSync => Command::CounterSync,
        Order::SetParam { id, value } => Command::SetParam { id, value },
        Order::Test { id } => Command::Test(id),
        Order::Wipe { .. } => return Err(refused(&order, &IssueError::Unsupported)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use paylock::Key;

    fn opg() -> (Params, Secret) {
        (
            Params::Openpaygo {
                time_divider: 1,
                restricted_digit_set: false,
                extended_token: false,
                test_code: None,
            },
            Secret {
                key: Key::from_hex("a29ab82edc5fbbc41ec9530f6dac86b1").unwrap(),
                starting_code: 123_456_789,
            },
        )
    }

    #[test]
    fn openpaygo_doc_token_and_kept_points() {
        let (params, secret) = opg();
        let m = mint(
            &params,
            &secret,
            0,
            &State::default(),
            Order::AddCredit { units: 1 },
        )
        .unwrap();
        assert_eq!(
            (m.token.as_str(), m.keys.as_str(), m.counter),
            ("662 486 790", "662486790", 2)
        );
        assert_eq!(m.state.chain.len(), 1);
        // The next tokens, continued from kept points, are those of a walk from the start.
        let mut state = m.state;
        let mut counter = m.counter;
        for units in [30, 1, 7, 30, 1] {
            let m = mint(
                &params,
                &secret,
                counter,
                &state,
                Order::AddCredit { units },
            )
            .unwrap();
            let fresh = mint(
                &params,
                &secret,
                counter,
                &State::default(),
                Order::AddCredit { units },
            )
            .unwrap();
            assert_eq!(m.keys, fresh.keys);
            (counter, state) = (m.counter, m.state);
        }
        assert_eq!(state.chain.len(), 3);
        assert!(state.chain.iter().all(|p| p.1 == counter));
    }

    #[test]
    fn test_code_is_skipped_to_the_next_count_of_the_same_parity() {
        let (mut params, secret) = opg();
        let first = mint(
            &params,
            &secret,
            0,
            &State::default(),
            Order::AddCredit { units: 1 },
        )
        .unwrap();
        if let Params::Openpaygo { test_code, .. } = &mut params {
            *test_code = Some(first.keys.clone());
        }
        let skipped = mint(
            &params,
            &secret,
            0,
            &State::default(),
            Order::AddCredit { units: 1 },
        )
        .unwrap();
        assert_eq!(skipped.counter, 4);
        assert_ne!(skipped.keys, first.keys);
    }
}
