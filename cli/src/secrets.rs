//! Secrets on the command line: each one from exactly one of a file (`--key-file PATH`), an
//! environment variable (`PAYLOCK_KEY`) or the flag itself (`--key HEX`). The flag shows in `ps`
//! and the shell history, so it is for tests; errors name the source, never its content.

use std::ffi::OsString;
use std::fs::File;
use std::io::Read;
use std::path::Path;

use paylock::{Key, KeyError};
use zeroize::Zeroizing;

/// The most bytes a secret file is read for: a key and its line end, with room to tell a file
/// that holds more.
const MAX_FILE: u64 = 64;

/// One secret's three sources, as the user names them.
#[derive(Debug, Clone, Copy)]
pub struct Spec {
    /// What it is, for messages: `the device key`.
    pub what: &'static str,
    /// The flag taking the value itself: `--key`.
    pub flag: &'static str,
    /// The flag taking a file: `--key-file`.
    pub file_flag: &'static str,
    /// The environment variable: `PAYLOCK_KEY`.
    pub env: &'static str,
}

/// A device's key (OpenPAYGO, Nexus, AST device key).
pub const KEY: Spec = Spec {
    what: "the key",
    flag: "--key",
    file_flag: "--key-file",
    env: "PAYLOCK_KEY",
};

/// An AST batch key.
pub const BATCH_KEY: Spec = Spec {
    what: "the batch key",
    flag: "--batch-key",
    file_flag: "--batch-key-file",
    env: "PAYLOCK_BATCH_KEY",
};

/// A Nexus Channel controller's origin key.
pub const CONTROLLER_KEY: Spec = Spec {
    what: "the controller key",
    flag: "--controller-key",
    file_flag: "--controller-key-file",
    env: "PAYLOCK_CONTROLLER_KEY",
};

/// A Nexus Channel accessory's key.
pub const ACCESSORY_KEY: Spec = Spec {
    what: "the accessory key",
    flag: "--accessory-key",
    file_flag: "--accessory-key-file",
    env: "PAYLOCK_ACCESSORY_KEY",
};

/// An OpenPAYGO starting code (with the key, what lets tokens be forged).
pub const STARTING_CODE: Spec = Spec {
    what: "the starting code",
    flag: "--starting-code",
    file_flag: "--starting-code-file",
    env: "PAYLOCK_STARTING_CODE",
};

/// Where a secret came from, for messages.
#[derive(Debug)]
enum Origin<'a> {
    Flag(&'static str),
    File(&'static str, &'a Path),
    Env(&'static str),
}

impl core::fmt::Display for Origin<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Flag(flag) | Self::Env(flag) => f.write_str(flag),
            Self::File(flag, path) => write!(f, "{flag} {}", path.display()),
        }
    }
}

/// The text of the one source given, `None` when none is; more than one is an error naming
/// them. An empty environment variable counts as unset.
fn text<'a>(
    spec: &Spec,
    arg: Option<&str>,
    file: Option<&'a Path>,
) -> Result<Option<(Zeroizing<String>, Origin<'a>)>, String> {
    let env = std::env::var_os(spec.env).filter(|v| !v.is_empty());
    let given: Vec<&str> = [
        arg.map(|_| spec.flag),
        file.map(|_| spec.file_flag),
        env.as_ref().map(|_| spec.env),
    ]
    .into_iter()
    .flatten()
    .collect();
    if given.len() > 1 {
        return Err(format!(
            "{} is given by {}: give exactly one of {}, {} or {}",
            spec.what,
            given.join(" and "),
            spec.file_flag,
            spec.env,
            spec.flag
        ));
    }
    if let Some(arg) = arg {
        return Ok(Some((
            Zeroizing::new(arg.to_owned()),
            Origin::Flag(spec.flag),
        )));
    }
    if let Some(path) = file {
        let origin = Origin::File(spec.file_flag, path);
        return match read_file(path) {
            Ok(text) => Ok(Some((text, origin))),
            Err(why) => Err(format!("{origin}: {why}")),
        };
    }
    match env {
        Some(value) => from_env(spec, value).map(|t| Some((t, Origin::Env(spec.env)))),
        None => Ok(None),
    }
}

/// A secret file's text without one trailing line end (`\n` or `\r\n`).
fn read_file(path: &Path) -> Result<Zeroizing<String>, String> {
    let mut bytes = Zeroizing::new(Vec::new());
    File::open(path)
        .and_then(|f| f.take(MAX_FILE + 1).read_to_end(&mut bytes))
        .map_err(|e| e.to_string())?;
    if bytes.len() > usize::try_from(MAX_FILE).unwrap_or(usize::MAX) {
        return Err(format!(
            "more than {MAX_FILE} bytes: the file must hold only the secret"
        ));
    }
    let text = core::str::from_utf8(&bytes).map_err(|_| "the file is not text".to_owned())?;
    let text = text.strip_suffix('\n').unwrap_or(text);
    let text = text.strip_suffix('\r').unwrap_or(text);
    Ok(Zeroizing::new(text.to_owned()))
}

fn from_env(spec: &Spec, value: OsString) -> Result<Zeroizing<String>, String> {
    value
        .into_string()
        .map(Zeroizing::new)
        .map_err(|_| format!("{} is not valid text", spec.env))
}

/// A 16-byte key in hex from one of its sources, checked; `None` when none is given.
///
/// # Errors
/// Two sources, an unreadable file or text that is not a key, naming the source only.
pub fn key(spec: &Spec, arg: Option<&str>, file: Option<&Path>) -> Result<Option<String>, String> {
    let Some((text, origin)) = text(spec, arg, file)? else {
        return Ok(None);
    };
    let why = match Key::from_hex(&text) {
        Ok(_) => return Ok(Some(text.to_string())),
        Err(KeyError::Length(n)) => {
            format!("must be 32 hex characters (16 bytes), got {n} characters")
        }
        Err(KeyError::NotHex { position }) => format!("character {position} is not a hex digit"),
    };
    Err(format!("{origin}: {} {why}", spec.what))
}

/// [`key`] for a secret the command cannot do without.
///
/// # Errors
/// As [`key`], and none of the sources given.
pub fn required_key(spec: &Spec, arg: Option<&str>, file: Option<&Path>) -> Result<String, String> {
    key(spec, arg, file)?.ok_or_else(|| missing(spec))
}

/// A starting code (up to 9 digits) from one of its sources.
///
/// # Errors
/// None or two sources, an unreadable file or text that is not a starting code.
pub fn starting_code(arg: Option<&str>, file: Option<&Path>) -> Result<u32, String> {
    let spec = &STARTING_CODE;
    let (text, origin) = text(spec, arg, file)?.ok_or_else(|| missing(spec))?;
    let digits = !text.is_empty() && text.len() <= 9 && text.bytes().all(|b| b.is_ascii_digit());
    match text.parse::<u32>() {
        Ok(code) if digits => Ok(code),
        _ => Err(format!(
            "{origin}: the starting code must be a whole number of up to 9 digits"
        )),
    }
}

fn missing(spec: &Spec) -> String {
    format!(
        "{} is required: give {} PATH or {} ({} is for tests: it shows in ps and the shell \
         history)",
        spec.what, spec.file_flag, spec.env, spec.flag
    )
}

/// A key's hex text (from one of the sources above) as a key; the error never repeats the text.
pub fn parse_key(hex: &str) -> Result<Key, String> {
    Key::from_hex(hex).map_err(|e| e.to_string())
}
