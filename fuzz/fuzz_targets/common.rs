//! Helpers shared by the OpenPAYGO targets.

use paylock::Key;
use paylock::openpaygo::{
    Form, MAX_STARTING_CODE, OpenPaygoActivation, OpenPaygoIssuer, OpenPaygoSecret,
};

/// The form a selector byte picks.
pub fn form(selector: u8) -> Form {
    let forms = [
        Form::STANDARD,
        Form::STANDARD_RESTRICTED,
        Form::EXTENDED,
        Form::EXTENDED_RESTRICTED,
    ];
    forms[usize::from(selector % 4)]
}

/// A secret with any key and any valid starting code.
pub fn secret(key: [u8; 16], starting_code: u32) -> OpenPaygoSecret {
    OpenPaygoSecret::new(Key::new(key), starting_code % (MAX_STARTING_CODE + 1))
        .expect("code in range")
}

/// True if `token` is the chain's token for this activation: the decoder accepted a real token.
pub fn is_chain_token(
    form: Form,
    secret: &OpenPaygoSecret,
    a: OpenPaygoActivation,
    token: &[u8],
) -> bool {
    OpenPaygoIssuer::new(form)
        .token_at(secret, a.count, a.value)
        .is_ok_and(|t| t.as_bytes() == token)
}
