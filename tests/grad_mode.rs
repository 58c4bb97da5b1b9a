//! The grad mode from Rust: guards restore on drop and on panic, the mode is per thread, and
//! ops follow it (no graph under no_grad, inference tensors under inference_mode).

use ferrograd::{
    GradMode, GradModeGuard, Tensor, enable_grad, inference_mode, is_grad_enabled,
    is_inference_mode_enabled, no_grad, no_grad_scope, set_grad_enabled,
};
use std::panic::{AssertUnwindSafe, catch_unwind};

/// A guard must be restored on the thread that made it, so it must not be `Send`. This fails
/// to compile if `GradModeGuard: Send` (the two impls below become ambiguous).
mod guard_is_not_send {
    use super::GradModeGuard;
    trait AmbiguousIfSend<A> {
        fn check() {}
    }
    impl<T: ?Sized> AmbiguousIfSend<()> for T {}
    #[allow(dead_code)]
    struct IfSend;
    impl<T: ?Sized + Send> AmbiguousIfSend<IfSend> for T {}
    #[allow(dead_code)]
    const _: fn() = || <GradModeGuard as AmbiguousIfSend<_>>::check();
}

fn mode() -> (bool, bool) {
    (is_grad_enabled(), is_inference_mode_enabled())
}

fn error_of<T>(r: ferrograd::Result<T>) -> String {
    match r {
        Ok(_) => panic!("expected an error"),
        Err(e) => e.to_string(),
    }
}

fn leaf(v: &[f32]) -> Tensor {
    Tensor::from_slice(v, &[v.len()])
        .unwrap()
        .requires_grad_(true)
        .unwrap()
}

#[test]
fn default_mode_is_grad_on_inference_off() {
    assert_eq!(mode(), (true, false));
    assert_eq!(GradMode::current(), GradMode::DEFAULT);
    assert!(GradMode::DEFAULT.is_recording());
}

#[test]
fn guards_restore_on_drop_in_any_nesting() {
    {
        let _a = no_grad();
        assert_eq!(mode(), (false, false));
        {
            let _b = enable_grad();
            assert_eq!(mode(), (true, false));
            {
                let _c = inference_mode(true);
                assert_eq!(mode(), (false, true));
                {
                    let _d = set_grad_enabled(true);
                    // enable_grad inside inference mode: the flag is on, but nothing records.
                    assert_eq!(mode(), (true, true));
                    assert!(!GradMode::current().is_recording());
                }
                assert_eq!(mode(), (false, true));
            }
            assert_eq!(mode(), (true, false));
        }
        assert_eq!(mode(), (false, false));
    }
    assert_eq!(mode(), (true, false));
}

#[test]
fn guard_reports_the_mode_it_restores() {
    let g = no_grad();
    assert_eq!(g.previous(), GradMode::DEFAULT);
    let h = inference_mode(true);
    assert_eq!(
        h.previous(),
        GradMode {
            grad_enabled: false,
            inference: false
        }
    );
    drop(h);
    drop(g);
    assert_eq!(GradMode::current(), GradMode::DEFAULT);
}

#[test]
fn guard_restores_while_unwinding_from_a_panic() {
    let r = catch_unwind(AssertUnwindSafe(|| {
        let _g = no_grad();
        let _h = inference_mode(true);
        assert_eq!(mode(), (false, true));
        panic!("boom");
    }));
    assert!(r.is_err());
    assert_eq!(mode(), (true, false));

    // The same through scope() and no_grad_scope().
    let r = catch_unwind(|| no_grad_scope(|| panic!("inside no_grad_scope")));
    assert!(r.is_err());
    assert_eq!(mode(), (true, false));
    let r = catch_unwind(|| {
        GradMode {
            grad_enabled: false,
            inference: true,
        }
        .scope(|| panic!("in scope"))
    });
    assert!(r.is_err());
    assert_eq!(mode(), (true, false));
}

#[test]
fn inference_mode_false_inside_no_grad_keeps_grad_off() {
    // PyTorch turns grad on here (its guard sets grad = !enabled); leaving inference mode
    // when it was not on should change nothing.
    let _g = no_grad();
    {
        let _i = inference_mode(false);
        assert_eq!(mode(), (false, false));
    }
    assert_eq!(mode(), (false, false));
}

#[test]
fn inference_mode_false_inside_inference_mode_turns_grad_on() {
    let _i = inference_mode(true);
    {
        let _o = inference_mode(false);
        assert_eq!(mode(), (true, false));
        assert!(GradMode::current().is_recording());
    }
    assert_eq!(mode(), (false, true));
}

#[test]
fn set_and_scope() {
    let prev = GradMode {
        grad_enabled: false,
        inference: false,
    }
    .set();
    assert_eq!(prev, GradMode::DEFAULT);
    assert_eq!(mode(), (false, false));
    let inner = GradMode::DEFAULT.scope(mode);
    assert_eq!(inner, (true, false));
    assert_eq!(mode(), (false, false));
    prev.set();
    assert_eq!(mode(), (true, false));
}

#[test]
fn new_thread_starts_in_the_default_mode() {
    let _g = inference_mode(true);
    let seen = std::thread::spawn(mode).join().unwrap();
    assert_eq!(seen, (true, false));
    let _n = no_grad();
    let seen = std::thread::spawn(mode).join().unwrap();
    assert_eq!(seen, (true, false));
}

#[test]
fn a_change_in_one_thread_never_shows_in_another() {
    use std::sync::Arc;
    use std::sync::Barrier;
    let barrier = Arc::new(Barrier::new(2));
    let b = barrier.clone();
    let worker = std::thread::spawn(move || {
        let _g = no_grad();
        b.wait(); // the main thread checks its own mode while this one is off
        b.wait();
        mode()
    });
    barrier.wait();
    assert_eq!(mode(), (true, false));
    let _i = inference_mode(true);
    barrier.wait();
    assert_eq!(worker.join().unwrap(), (false, false));
    assert_eq!(mode(), (false, true));
}

#[test]
fn ops_record_nothing_under_no_grad() {
    let x = leaf(&[1.0, 2.0, 3.0]);
    let (y, v) = {
        let _g = no_grad();
        (
            x.mul(&x).unwrap().exp().unwrap(),
            x.reshape(&[3, 1]).unwrap(),
        )
    };
    for t in [&y, &v] {
        assert!(!t.requires_grad());
        assert!(t.grad_fn().is_none());
    }
    let err = y.sum().unwrap().backward().unwrap_err();
    assert!(err.to_string().contains("no_grad"), "{err}");
    // With grad on again the same op records.
    assert_eq!(x.mul(&x).unwrap().grad_fn_name(), Some("MulBackward"));
}

#[test]
fn enable_grad_inside_inference_mode_does_not_record() {
    let x = leaf(&[1.0, 2.0]);
    let _i = inference_mode(true);
    let _e = enable_grad();
    assert!(is_grad_enabled());
    let y = x.mul_scalar(2.0).unwrap();
    assert!(!y.requires_grad());
    assert!(y.is_inference());
}

#[test]
fn inplace_on_leaf_needs_no_grad() {
    let w = leaf(&[1.0, 2.0]);
    assert!(w.mul_scalar_(2.0).is_err());
    let before = w.version();
    {
        let _g = no_grad();
        w.sub_scalar_(1.0).unwrap();
    }
    assert_eq!(w.version(), before + 1);
    assert!(w.is_leaf() && w.requires_grad());
    assert_eq!(w.to_vec::<f32>().unwrap(), vec![0.0, 1.0]);
}

#[test]
fn inference_tensors_cannot_be_saved_or_updated_outside() {
    let t = {
        let _i = inference_mode(true);
        Tensor::from_slice(&[1.0f32, 2.0], &[2]).unwrap()
    };
    assert!(t.is_inference());
    let x = leaf(&[3.0, 4.0]);
    let err = error_of(x.mul(&t));
    assert!(err.contains("clone") && err.contains("no_grad"), "{err}");
    let err = error_of(t.add_scalar_(1.0));
    assert!(err.contains("clone"), "{err}");
    assert!(t.set_requires_grad(true).is_err());
    // A clone is a normal tensor that autograd can use.
    let c = t.clone_tensor().unwrap();
    assert!(!c.is_inference());
    x.mul(&c).unwrap().sum().unwrap().backward().unwrap();
    assert_eq!(x.grad().unwrap().to_vec::<f32>().unwrap(), vec![1.0, 2.0]);
}

#[test]
fn backward_inside_inference_mode_gives_normal_grads() {
    let x = leaf(&[1.0, 2.0]);
    let y = x.mul(&x).unwrap().sum().unwrap();
    let y2 = x.mul_scalar(3.0).unwrap().sum().unwrap();
    {
        let _i = inference_mode(true);
        y.backward().unwrap();
        // The engine's own mode does not leak out of backward.
        assert_eq!(mode(), (false, true));
    }
    let g = x.grad().unwrap();
    assert!(!g.is_inference());
    y2.backward().unwrap();
    assert_eq!(x.grad().unwrap().to_vec::<f32>().unwrap(), vec![5.0, 7.0]);
}

#[test]
fn change_count_moves_on_every_set() {
    let c0 = GradMode::change_count();
    {
        let _g = no_grad(); // set on enter and on drop
        assert_eq!(GradMode::change_count(), c0 + 1);
    }
    assert_eq!(GradMode::change_count(), c0 + 2);
    // Setting the same mode still counts: the count tells "nobody set it since".
    GradMode::current().set();
    assert_eq!(GradMode::change_count(), c0 + 3);
    // Per thread.
    let other = std::thread::spawn(GradMode::change_count).join().unwrap();
    assert_eq!(other, 0);
}
