//! `no_grad`, `enable_grad`, `set_grad_enabled` and `inference_mode`: context managers and
//! decorators over the per-thread mode.
//!
//! An instance keeps a stack of the modes its enters replaced, tagged by thread, so one
//! instance can be reused, nested and shared between threads and every exit restores exactly
//! what its own enter replaced. Decorating goes through `ferrograd._decorate`, which applies
//! the mode around each call, each generator step and each coroutine step.

use crate::autograd::grad_mode::GradMode;
use parking_lot::Mutex;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyType};
use std::thread::ThreadId;

/// The calling thread's id, cached: `thread::current()` clones an `Arc` on every call, and
/// `with no_grad():` asks twice.
fn current_thread() -> ThreadId {
    thread_local! {
        static ME: ThreadId = std::thread::current().id();
    }
    ME.with(|t| *t)
}

/// The state behind every mode class: what it switches to, and the modes to restore.
struct Switch {
    target: fn(GradMode, bool) -> GradMode,
    flag: bool,
    saved: Mutex<Vec<(ThreadId, GradMode)>>,
    /// `set_grad_enabled` applies its mode when constructed; the mode it replaced then, on
    /// which thread, and what it set — so the first `with` (or decoration) can restore it.
    applied_at_construction: Mutex<Option<(ThreadId, GradMode, GradMode)>>,
}

impl Switch {
    fn new(target: fn(GradMode, bool) -> GradMode, flag: bool) -> Switch {
        Switch { target, flag, saved: Mutex::new(Vec::new()), applied_at_construction: Mutex::new(None) }
    }

    fn enter(&self) {
        let me = current_thread();
        let now = GradMode::current();
        let prev = match self.applied_at_construction.lock().take() {
            Some((tid, before, applied)) if tid == me && applied == now => before,
            _ => now,
        };
        (self.target)(now, self.flag).set();
        self.saved.lock().push((me, prev));
    }

    fn exit(&self) {
        let me = current_thread();
        let mut saved = self.saved.lock();
        if let Some(pos) = saved.iter().rposition(|(t, _)| *t == me) {
            let (_, prev) = saved.remove(pos);
            prev.set();
        }
    }

    /// Undoes a construction-time switch (used when the object turns out to be a decorator).
    fn undo_construction(&self) {
        let me = current_thread();
        if let Some((tid, before, applied)) = self.applied_at_construction.lock().take() {
            if tid == me && GradMode::current() == applied {
                before.set();
            }
        }
    }
}

fn is_class(obj: &Bound<'_, PyAny>) -> bool {
    obj.is_instance_of::<PyType>()
}

/// Checks what a decorator was given and wraps it through `ferrograd._decorate.wrap`.
fn decorate(ctx: &Bound<'_, PyAny>, func: &Bound<'_, PyAny>, name: &str) -> PyResult<Py<PyAny>> {
    if is_class(func) {
        return Err(PyTypeError::new_err(format!(
            "{name} cannot decorate a class (it is ambiguous whether only the constructor or every method \
             should run under the mode); decorate the methods instead"
        )));
    }
    if !func.is_callable() {
        return Err(PyTypeError::new_err(format!(
            "{name} can only decorate a function, got {} of type {}",
            func.repr()?,
            func.get_type().name()?
        )));
    }
    let wrap = func.py().import("ferrograd._decorate")?.getattr("wrap")?;
    Ok(wrap.call1((ctx, func))?.unbind())
}

fn bool_arg(obj: &Bound<'_, PyAny>, cls: &str, arg: &str) -> PyResult<bool> {
    if obj.is_instance_of::<PyBool>() {
        return obj.extract();
    }
    Err(PyTypeError::new_err(format!(
        "{cls}(): argument '{arg}' (position 1) must be bool, not {}",
        obj.get_type().name()?
    )))
}

macro_rules! mode_class {
    ($(#[$doc:meta])* $rust:ident, $py:literal, { $($extra:tt)* }) => {
        $(#[$doc])*
        #[pyclass(name = $py, module = "ferrograd", frozen)]
        pub struct $rust {
            switch: Switch,
        }

        #[pymethods]
        impl $rust {
            fn __enter__(&self) {
                self.switch.enter();
            }

            #[pyo3(signature = (*_exc))]
            fn __exit__(&self, _exc: &Bound<'_, pyo3::types::PyTuple>) -> bool {
                self.switch.exit();
                false
            }

            fn __call__(slf: &Bound<'_, Self>, func: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
                slf.get().switch.undo_construction();
                decorate(slf.as_any(), func, $py)
            }

            /// A fresh instance with the same mode (used by the decorator for each call).
            fn clone(&self) -> Self {
                $rust { switch: Switch::new(self.switch.target, self.switch.flag) }
            }

            $($extra)*
        }
    };
}

mode_class!(
    /// Turns gradient recording off: ops inside record no graph and save nothing.
    NoGrad, "no_grad", {
    #[new]
    #[pyo3(signature = (func = None))]
    fn py_new(py: Python<'_>, func: Option<&Bound<'_, PyAny>>) -> PyResult<Py<PyAny>> {
        let ctx = Bound::new(py, NoGrad { switch: Switch::new(|m, _| m.with_grad(false), false) })?;
        match func {
            None => Ok(ctx.into_any().unbind()),
            Some(f) => decorate(ctx.as_any(), f, "no_grad"),
        }
    }

    fn __repr__(&self) -> &'static str {
        "ferrograd.no_grad()"
    }
    }
);
mode_class!(
    /// Turns gradient recording back on (inside `no_grad`, for example).
    EnableGrad, "enable_grad", {
    #[new]
    #[pyo3(signature = (func = None))]
    fn py_new(py: Python<'_>, func: Option<&Bound<'_, PyAny>>) -> PyResult<Py<PyAny>> {
        let ctx = Bound::new(py, EnableGrad { switch: Switch::new(|m, _| m.with_grad(true), true) })?;
        match func {
            None => Ok(ctx.into_any().unbind()),
            Some(f) => decorate(ctx.as_any(), f, "enable_grad"),
        }
    }

    fn __repr__(&self) -> &'static str {
        "ferrograd.enable_grad()"
    }
    }
);
mode_class!(
    /// Sets gradient recording on or off: at once when called, restored by `with`.
    SetGradEnabled, "set_grad_enabled", {
    #[new]
    fn py_new(mode: &Bound<'_, PyAny>) -> PyResult<Self> {
        let enabled = bool_arg(mode, "set_grad_enabled", "mode")?;
        let s = Switch::new(|m, on| m.with_grad(on), enabled);
        let before = GradMode::current();
        let applied = before.with_grad(enabled);
        applied.set();
        *s.applied_at_construction.lock() = Some((current_thread(), before, applied));
        Ok(SetGradEnabled { switch: s })
    }

    #[getter]
    fn mode(&self) -> bool {
        self.switch.flag
    }

    fn __repr__(&self) -> String {
        format!("ferrograd.set_grad_enabled(mode={})", if self.switch.flag { "True" } else { "False" })
    }
    }
);
mode_class!(
    /// Inference mode: no recording, and results are inference tensors.
    InferenceMode, "inference_mode", {
    #[new]
    #[pyo3(signature = (mode = None))]
    fn py_new(py: Python<'_>, mode: Option<&Bound<'_, PyAny>>) -> PyResult<Py<PyAny>> {
        // `@inference_mode` (bare) passes the function as `mode`.
        let (enabled, func) = match mode {
            None => (true, None),
            Some(m) if m.is_instance_of::<PyBool>() => (m.extract::<bool>()?, None),
            Some(m) if m.is_callable() && !is_class(m) => (true, Some(m)),
            Some(m) => {
                if is_class(m) {
                    return Err(PyTypeError::new_err("inference_mode cannot decorate a class; decorate its methods instead"));
                }
                bool_arg(m, "inference_mode", "mode")?;
                unreachable!("bool_arg rejects non-bools")
            }
        };
        let ctx = Bound::new(py, InferenceMode { switch: Switch::new(|m, on| m.with_inference(on), enabled) })?;
        match func {
            None => Ok(ctx.into_any().unbind()),
            Some(f) => decorate(ctx.as_any(), f, "inference_mode"),
        }
    }

    #[getter]
    fn mode(&self) -> bool {
        self.switch.flag
    }

    fn __repr__(&self) -> String {
        format!("ferrograd.inference_mode(mode={})", if self.switch.flag { "True" } else { "False" })
    }
    }
);





/// A captured (grad, inference) pair that can be re-entered on any thread; what
/// `autograd.inherit_grad_mode` uses.
#[pyclass(name = "_ExactMode", module = "ferrograd", frozen)]
pub struct ExactMode {
    mode: GradMode,
    saved: Mutex<Vec<(ThreadId, GradMode)>>,
}

#[pymethods]
impl ExactMode {
    /// Captures the calling thread's mode.
    #[staticmethod]
    fn capture() -> Self {
        ExactMode { mode: GradMode::current(), saved: Mutex::new(Vec::new()) }
    }

    #[getter]
    fn grad_enabled(&self) -> bool {
        self.mode.grad_enabled
    }

    #[getter]
    fn inference(&self) -> bool {
        self.mode.inference
    }

    fn __enter__(&self) {
        let prev = self.mode.set();
        self.saved.lock().push((current_thread(), prev));
    }

    #[pyo3(signature = (*_exc))]
    fn __exit__(&self, _exc: &Bound<'_, pyo3::types::PyTuple>) -> bool {
        let me = current_thread();
        let mut saved = self.saved.lock();
        if let Some(pos) = saved.iter().rposition(|(t, _)| *t == me) {
            saved.remove(pos).1.set();
        }
        false
    }
}

#[pyfunction]
pub fn is_grad_enabled() -> bool {
    crate::is_grad_enabled()
}

#[pyfunction]
pub fn is_inference_mode_enabled() -> bool {
    crate::is_inference_mode_enabled()
}
