//! JSON on the command line: answers printed as the batch protocol prints them, and
//! `--state-json` read as the batch reads a request's `state`.

use paylock_protocol::{Error, ErrorKind, read};
use serde::{Deserialize, Serialize};

/// An answer as the batch protocol prints it.
pub fn print(answer: &impl Serialize) -> Result<(), String> {
    println!("{}", text(answer)?);
    Ok(())
}

/// A value's one-line JSON text.
pub fn text(value: &impl Serialize) -> Result<String, String> {
    serde_json::to_string(value).map_err(|e| e.to_string())
}

/// `--state-json` read into its typed form; a refusal names the flag when the text is not
/// JSON, else the field as the batch `state` object's.
pub fn state<'a, T: Deserialize<'a>>(text: &'a str) -> Result<T, String> {
    read::from_str(text).map_err(|e: Error| {
        if e.kind == ErrorKind::InvalidJson {
            format!("--state-json: {e}")
        } else {
            e.within("state").to_string()
        }
    })
}
