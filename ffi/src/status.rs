//! Status codes shared by every entry point, and the guard that keeps panics out of C.

/// The token is valid and was applied to the state.
pub const PAYLOCK_VALID: i32 = 0;
/// The token matches nothing this device could accept; the state is unchanged.
pub const PAYLOCK_INVALID: i32 = 1;
/// A genuine token whose count is spent; the state is unchanged.
pub const PAYLOCK_ALREADY_USED: i32 = 2;
/// A required pointer was null; nothing was read or written.
pub const PAYLOCK_ERR_NULL: i32 = -1;
/// The token text is malformed (wrong length, a character outside the form's digits).
pub const PAYLOCK_ERR_FORMAT: i32 = -2;
/// An argument is out of range (a starting code above 999,999,999, an unknown form, a buffer
/// too short); the state is unchanged.
pub const PAYLOCK_ERR_ARGUMENT: i32 = -3;
/// An internal error was caught at the boundary instead of unwinding into C (none is known;
/// the state is unchanged).
pub const PAYLOCK_ERR_INTERNAL: i32 = -4;

/// Runs `f`, turning a panic into `fallback` on hosted targets (C cannot unwind).
#[cfg(not(target_os = "none"))]
pub(crate) fn guard<T>(fallback: T, f: impl FnOnce() -> T) -> T {
    std::panic::catch_unwind(core::panic::AssertUnwindSafe(f)).unwrap_or(fallback)
}

/// Bare metal has no unwinding (`panic = "abort"`): `f` runs as is.
#[cfg(target_os = "none")]
pub(crate) fn guard<T>(_fallback: T, f: impl FnOnce() -> T) -> T {
    f()
}
