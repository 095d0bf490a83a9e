//! `paylock._paylock`, the extension module behind the `paylock` Python package.
//!
//! It holds no logic of its own: each function converts its Python arguments, calls the paylock
//! core and converts the answer back, raising the exceptions of `paylock._errors` for refusals.
//! The public API (names, defaults, docstrings) is the Python package's; this module has one
//! submodule per Python module it serves.

extern crate alloc;

mod access;
mod args;
mod batch;
mod device;
mod errors;
mod metrics;
mod nexus;
mod openpaygo;
mod simple;

use pyo3::prelude::*;

/// Adds one submodule's functions and classes.
type Register = fn(&Bound<'_, PyModule>) -> PyResult<()>;

/// The extension module: submodules `openpaygo`, `nexus`, `access`, `batch`, `device` and `metrics`.
#[pymodule]
fn _paylock(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    let parts: [(&str, Register); 6] = [
        ("openpaygo", openpaygo::register),
        ("nexus", nexus::register),
        ("access", access::register),
        ("batch", batch::register),
        ("device", device::register),
        ("metrics", metrics::register),
    ];
    // Registered in `sys.modules` too, so `import paylock._paylock.<name>` works and the typed
    // stubs of each submodule (`_paylock/<name>.pyi`) are checked against it.
    let modules = py.import("sys")?.getattr("modules")?;
    for (name, register) in parts {
        let sub = PyModule::new(py, name)?;
        register(&sub)?;
        m.add_submodule(&sub)?;
        modules.set_item(format!("paylock._paylock.{name}"), &sub)?;
    }
    Ok(())
}
