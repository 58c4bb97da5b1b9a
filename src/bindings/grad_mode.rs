//! `no_grad`, `enable_grad`, `set_grad_enabled` and `inference_mode`: context managers and
//! decorators over the per-thread mode.
//!
//! Every enter saves the mode it replaced on a per-thread stack, tagged with the id of the
//! object that entered; its exit restores the newest entry with that id on the same thread. So
//! one object can be reused, nested and shared between threads, and every exit restores exactly
//! what its own enter replaced (PyTorch keeps one `prev` field per object and leaks the mode
//! when an object is nested). Decorating goes through `ferrograd._decorate`, which applies the
//! mode around each call, each generator step and each coroutine step.
//!
//! `__enter__`/`__exit__` are the hot path (`with no_grad():` in a training loop): no Python
//! work, no locks, one thread-local access each.

use crate::autograd::grad_mode::GradMode;
use parking_lot::Mutex;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyTuple, PyType};
use std::cell::RefCell;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::ThreadId;

thread_local! {
    /// The modes replaced by enters on this thread that have not exited yet, with the id of
    /// the object that entered.
    static SAVED: RefCell<Vec<(u64, GradMode)>> = const { RefCell::new(Vec::new()) };
}

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

fn fresh_id() -> u64 {
    NEXT_ID.fetch_add(1, Ordering::Relaxed)
}

/// Remembers `prev` as the mode the enter of `id` replaced on this thread.
#[inline]
fn save(id: u64, prev: GradMode) {
    SAVED.with_borrow_mut(|s| s.push((id, prev)));
}

/// Restores the mode the newest enter of `id` on this thread replaced; nothing if there was
/// none (an exit without an enter).
#[inline]
fn restore(id: u64) {
    SAVED.with_borrow_mut(|s| {
        // Almost always the last entry; an object's exits interleave with another's only when
        // blocks are not properly nested (generators, coroutines).
        if let Some(pos) = s.iter().rposition(|e| e.0 == id) {
            s.remove(pos).1.set();
        }
    });
}

/// Packs a mode into the small int the Python generator and coroutine drivers pass around.
fn encode(m: GradMode) -> u8 {
    m.grad_enabled as u8 | (m.inference as u8) << 1
}

fn decode(bits: u8) -> GradMode {
    GradMode {
        grad_enabled: bits & 1 != 0,
        inference: bits & 2 != 0,
    }
}

/// What `set_grad_enabled(mode)` changed when it was constructed, so that the `with` form
/// (or decorating) can take it back.
struct Construction {
    thread: ThreadId,
    before: GradMode,
    /// The thread's mode-change count right after the construction set the mode: if it is
    /// still the same at enter, nothing else has touched the mode in between.
    changes: u64,
}

/// The state behind every mode class: what it switches to, and its id on the stack.
struct Switch {
    id: u64,
    target: fn(GradMode, bool) -> GradMode,
    flag: bool,
    /// Set while `construction` holds something (saves a lock on every enter).
    pending: AtomicBool,
    construction: Mutex<Option<Construction>>,
}

impl Switch {
    fn new(target: fn(GradMode, bool) -> GradMode, flag: bool) -> Switch {
        Switch {
            id: fresh_id(),
            target,
            flag,
            pending: AtomicBool::new(false),
            construction: Mutex::new(None),
        }
    }

    /// The mode the construction replaced, if nothing has set this thread's mode since.
    fn take_construction(&self) -> Option<GradMode> {
        if !self.pending.load(Ordering::Relaxed) {
            return None;
        }
        let c = self.construction.lock().take();
        self.pending.store(false, Ordering::Relaxed);
        let c = c?;
        (c.thread == std::thread::current().id() && c.changes == GradMode::change_count())
            .then_some(c.before)
    }

    #[inline]
    fn enter(&self) {
        let now = GradMode::current();
        // `with set_grad_enabled(m):` restores what was in effect before the call.
        let prev = self.take_construction().unwrap_or(now);
        (self.target)(now, self.flag).set();
        save(self.id, prev);
    }

    #[inline]
    fn exit(&self) {
        restore(self.id);
    }

    /// Undoes a construction-time switch (the object turned out to be a decorator).
    fn undo_construction(&self) {
        if let Some(before) = self.take_construction() {
            before.set();
        }
    }
}

fn is_class(obj: &Bound<'_, PyAny>) -> bool {
    obj.is_instance_of::<PyType>()
}

fn class_error(name: &str) -> PyErr {
    PyTypeError::new_err(format!(
        "{name} cannot decorate a class (it is ambiguous whether only the constructor or every \
         method should run under the mode); decorate the methods instead"
    ))
}

/// Checks what a decorator was given and wraps it through `ferrograd._decorate.wrap`.
fn decorate(ctx: &Bound<'_, PyAny>, func: &Bound<'_, PyAny>, name: &str) -> PyResult<Py<PyAny>> {
    if is_class(func) {
        return Err(class_error(name));
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

fn not_bool(obj: &Bound<'_, PyAny>, cls: &str, arg: &str) -> PyErr {
    let ty = obj
        .get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "?".into());
    PyTypeError::new_err(format!(
        "{cls}(): argument '{arg}' (position 1) must be bool, not {ty}"
    ))
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

            fn __exit__(
                &self,
                _ty: &Bound<'_, PyAny>,
                _value: &Bound<'_, PyAny>,
                _tb: &Bound<'_, PyAny>,
            ) -> bool {
                self.switch.exit();
                false
            }

            fn __call__(slf: &Bound<'_, Self>, func: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
                slf.get().switch.undo_construction();
                decorate(slf.as_any(), func, $py)
            }

            /// A fresh instance with the same mode.
            fn clone(&self) -> Self {
                $rust { switch: Switch::new(self.switch.target, self.switch.flag) }
            }

            /// The mode (packed as an int) this object switches to from `mode`; used by the
            /// generator and coroutine drivers in `ferrograd._decorate`.
            fn _target(&self, mode: u8) -> u8 {
                encode((self.switch.target)(decode(mode), self.switch.flag))
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
    /// Sets gradient recording on or off: at once when called (and it stays so), restored by
    /// `with` to what it was before the call, applied only during calls when decorating.
    SetGradEnabled, "set_grad_enabled", {
    #[new]
    fn py_new(mode: &Bound<'_, PyAny>) -> PyResult<Self> {
        if !mode.is_instance_of::<PyBool>() {
            return Err(not_bool(mode, "set_grad_enabled", "mode"));
        }
        let enabled = mode.extract::<bool>()?;
        let s = Switch::new(|m, on| m.with_grad(on), enabled);
        let before = GradMode::current();
        before.with_grad(enabled).set();
        let changes = GradMode::change_count();
        *s.construction.lock() = Some(Construction { thread: std::thread::current().id(), before, changes });
        s.pending.store(true, Ordering::Relaxed);
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
    #[pyo3(signature = (*args, **kwargs))]
    fn py_new(py: Python<'_>, args: &Bound<'_, PyTuple>, kwargs: Option<&Bound<'_, PyDict>>) -> PyResult<Py<PyAny>> {
        // `mode` is taken raw so that an explicit `None` is refused like any other non-bool.
        if args.len() > 1 {
            return Err(PyTypeError::new_err(format!(
                "inference_mode() takes at most 1 argument ({} given)",
                args.len()
            )));
        }
        let mut mode = args.iter().next();
        if let Some(kw) = kwargs {
            for (k, v) in kw.iter() {
                if !k.eq("mode")? {
                    return Err(PyTypeError::new_err(format!(
                        "inference_mode() got an unexpected keyword argument {}",
                        k.repr()?
                    )));
                }
                if mode.is_some() {
                    return Err(PyTypeError::new_err("inference_mode() got multiple values for argument 'mode'"));
                }
                mode = Some(v);
            }
        }
        // `@inference_mode` (bare) passes the function as `mode`.
        let (enabled, func) = match &mode {
            None => (true, None),
            Some(m) if m.is_instance_of::<PyBool>() => (m.extract::<bool>()?, None),
            Some(m) if is_class(m) => return Err(class_error("inference_mode")),
            Some(m) if m.is_callable() => (true, Some(m)),
            Some(m) => return Err(not_bool(m, "inference_mode", "mode")),
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
    id: u64,
    mode: GradMode,
}

#[pymethods]
impl ExactMode {
    /// Captures the calling thread's mode.
    #[staticmethod]
    fn capture() -> Self {
        ExactMode {
            id: fresh_id(),
            mode: GradMode::current(),
        }
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
        save(self.id, self.mode.set());
    }

    fn __exit__(
        &self,
        _ty: &Bound<'_, PyAny>,
        _value: &Bound<'_, PyAny>,
        _tb: &Bound<'_, PyAny>,
    ) -> bool {
        restore(self.id);
        false
    }

    fn __repr__(&self) -> String {
        let b = |v: bool| if v { "True" } else { "False" };
        format!(
            "ferrograd._ExactMode(grad_enabled={}, inference={})",
            b(self.mode.grad_enabled),
            b(self.mode.inference)
        )
    }
}

/// The calling thread's mode packed as an int (bit 0: grad enabled, bit 1: inference); for the
/// generator and coroutine drivers.
#[pyfunction]
pub fn _get_mode() -> u8 {
    encode(GradMode::current())
}

/// Sets the calling thread's mode from its packed form and returns the packed old mode.
#[pyfunction]
pub fn _set_mode(mode: u8) -> PyResult<u8> {
    if mode > 3 {
        return Err(PyTypeError::new_err(format!(
            "_set_mode(): not a packed grad mode: {mode}"
        )));
    }
    Ok(encode(decode(mode).set()))
}

#[pyfunction]
pub fn is_grad_enabled() -> bool {
    crate::is_grad_enabled()
}

#[pyfunction]
pub fn is_inference_mode_enabled() -> bool {
    crate::is_inference_mode_enabled()
}
