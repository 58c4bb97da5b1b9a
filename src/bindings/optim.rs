//! Optimizer update kernels for Python.

use pyo3::prelude::*;

/// Adds this family's module-level functions to `ferrograd._core`.
pub fn register(_m: &Bound<'_, PyModule>) -> PyResult<()> {
    Ok(())
}
