//! The grad mode: a per-thread pair of flags (grad enabled, inference mode) read once per op.
//!
//! Every change goes through a [`GradModeGuard`] that puts back the mode it replaced when it is
//! dropped, also while unwinding from a panic. Guards are `!Send`: a mode saved on one thread
//! must be restored on that thread.

use std::cell::Cell;
use std::marker::PhantomData;

/// A snapshot of both flags of the calling thread.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct GradMode {
    pub grad_enabled: bool,
    pub inference: bool,
}

impl GradMode {
    /// The mode of a new thread: grad on, inference off.
    pub const DEFAULT: GradMode = GradMode {
        grad_enabled: true,
        inference: false,
    };

    /// The calling thread's mode.
    #[inline]
    pub fn current() -> GradMode {
        STATE.with(|s| s.get().mode)
    }

    /// How many times the calling thread's mode has been set so far (whether or not the value
    /// changed). Lets a caller tell that nobody set the mode since it last looked.
    #[inline]
    pub fn change_count() -> u64 {
        STATE.with(|s| s.get().changes)
    }

    /// Ops record a graph only when grad is on outside inference mode
    /// (`enable_grad` inside `inference_mode` still records nothing, as in PyTorch).
    #[inline]
    pub fn is_recording(self) -> bool {
        self.grad_enabled && !self.inference
    }

    /// The mode `inference_mode(enabled)` switches to from `self`. Leaving inference mode turns
    /// grad back on (entering it had turned grad off); outside inference mode,
    /// `inference_mode(false)` leaves the grad flag alone instead of forcing it on.
    pub fn with_inference(self, enabled: bool) -> GradMode {
        if enabled {
            GradMode {
                grad_enabled: false,
                inference: true,
            }
        } else if self.inference {
            GradMode {
                grad_enabled: true,
                inference: false,
            }
        } else {
            self
        }
    }

    pub fn with_grad(self, enabled: bool) -> GradMode {
        GradMode {
            grad_enabled: enabled,
            ..self
        }
    }

    /// Makes this the calling thread's mode until it is changed again; returns the old mode.
    /// Prefer the guards, which restore by themselves.
    pub fn set(self) -> GradMode {
        STATE.with(|s| {
            let old = s.get();
            s.set(ThreadState {
                mode: self,
                changes: old.changes.wrapping_add(1),
            });
            old.mode
        })
    }

    /// Runs `f` in this mode on the calling thread, then restores the thread's mode.
    pub fn scope<R>(self, f: impl FnOnce() -> R) -> R {
        let _guard = GradModeGuard::enter(self);
        f()
    }
}

#[derive(Clone, Copy)]
struct ThreadState {
    mode: GradMode,
    changes: u64,
}

thread_local! {
    static STATE: Cell<ThreadState> = const { Cell::new(ThreadState { mode: GradMode::DEFAULT, changes: 0 }) };
}

/// Restores the mode it replaced when dropped (also while unwinding from a panic).
///
/// Not `Send`: the mode belongs to the thread that made the guard, so the guard cannot be
/// moved to another thread:
///
/// ```compile_fail
/// let guard = ferrograd::no_grad();
/// std::thread::spawn(move || drop(guard));
/// ```
///
/// Guards must be dropped in the reverse order of their creation (as scopes do); dropping an
/// outer guard before an inner one leaves the inner guard's saved mode in effect.
#[must_use = "the mode is restored as soon as the guard is dropped"]
pub struct GradModeGuard {
    prev: GradMode,
    _not_send: PhantomData<*const ()>,
}

impl GradModeGuard {
    /// Switches the calling thread to `mode`.
    pub fn enter(mode: GradMode) -> GradModeGuard {
        GradModeGuard {
            prev: mode.set(),
            _not_send: PhantomData,
        }
    }

    /// The mode this guard will restore.
    pub fn previous(&self) -> GradMode {
        self.prev
    }
}

impl Drop for GradModeGuard {
    fn drop(&mut self) {
        self.prev.set();
    }
}

pub fn is_grad_enabled() -> bool {
    GradMode::current().grad_enabled
}

pub fn is_inference_mode_enabled() -> bool {
    GradMode::current().inference
}

/// Turns recording off until the guard drops.
pub fn no_grad() -> GradModeGuard {
    set_grad_enabled(false)
}

/// Turns recording on until the guard drops (inside `no_grad`, for example).
pub fn enable_grad() -> GradModeGuard {
    set_grad_enabled(true)
}

pub fn set_grad_enabled(enabled: bool) -> GradModeGuard {
    GradModeGuard::enter(GradMode::current().with_grad(enabled))
}

/// Inference mode: grad off, and tensors made inside are inference tensors.
pub fn inference_mode(enabled: bool) -> GradModeGuard {
    GradModeGuard::enter(GradMode::current().with_inference(enabled))
}

/// Runs `f` with grad off.
pub fn no_grad_scope<R>(f: impl FnOnce() -> R) -> R {
    let _guard = no_grad();
    f()
}
