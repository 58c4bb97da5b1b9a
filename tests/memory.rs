//! Memory: live-bytes accounting and freeing. `ferrograd::memory` is one process-wide counter,
//! so every test here takes `SERIAL` first (cargo runs a file's tests on several threads).

use ferrograd::{DType, Tensor, memory, no_grad};
use std::sync::{Mutex, MutexGuard};

static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

fn leaf(shape: &[usize], dtype: DType) -> Tensor {
    Tensor::randn(shape, dtype)
        .unwrap()
        .requires_grad_(true)
        .unwrap()
}

#[test]
fn allocation_counts_storage_bytes_and_views_add_nothing() {
    let _s = serial();
    let base = memory::allocated();
    let a = Tensor::zeros(&[100, 10], DType::F32).unwrap();
    assert_eq!(memory::allocated() - base, 4000);
    let b = Tensor::zeros(&[10], DType::F64).unwrap();
    let c = Tensor::zeros(&[3], DType::I64).unwrap();
    let d = Tensor::zeros(&[5], DType::Bool).unwrap();
    assert_eq!(memory::allocated() - base, 4000 + 80 + 24 + 5);
    // Views share storage: no new bytes.
    let v = a
        .transpose(0, 1)
        .unwrap()
        .index(&[ferrograd::IndexItem::Int(3)])
        .unwrap();
    let r = a.reshape(&[1000]).unwrap();
    let det = a.detach();
    assert_eq!(memory::allocated() - base, 4000 + 80 + 24 + 5);
    drop((a, b, c, d));
    // The views keep the buffer alive.
    assert_eq!(memory::allocated() - base, 4000);
    drop((v, r, det));
    assert_eq!(memory::allocated(), base);
}

#[test]
fn peak_and_reset_peak() {
    let _s = serial();
    let base = memory::allocated();
    memory::reset_peak();
    assert_eq!(memory::peak_allocated(), base);
    let big = Tensor::zeros(&[1 << 16], DType::F32).unwrap();
    drop(big);
    assert_eq!(memory::allocated(), base);
    assert_eq!(memory::peak_allocated(), base + (1 << 18));
    memory::reset_peak();
    assert_eq!(memory::peak_allocated(), base);
}

#[test]
fn weak_handles_die_after_forward_backward_drop_loops() {
    let _s = serial();
    let w = leaf(&[8, 8], DType::F64);
    let base = memory::allocated();
    for _ in 0..20 {
        let x = Tensor::randn(&[4, 8], DType::F64).unwrap();
        let h = x.matmul(&w).unwrap();
        let a = h.tanh().unwrap();
        let y = a.mul(&a).unwrap().sum().unwrap();
        let weak_h = h.downgrade();
        let weak_a = a.downgrade();
        let weak_node = std::sync::Arc::downgrade(&y.grad_fn().unwrap());
        let weak_tanh = std::sync::Arc::downgrade(&a.grad_fn().unwrap());
        drop((h, a));
        y.backward().unwrap();
        drop((x, y));
        assert!(weak_h.upgrade().is_none());
        assert!(weak_a.upgrade().is_none());
        assert!(weak_node.upgrade().is_none());
        assert!(weak_tanh.upgrade().is_none());
        // Only w's gradient survives the iteration.
        assert_eq!(memory::allocated() - base, 8 * 8 * 8);
    }
    assert!(w.grad().is_some());
    w.set_grad(None).unwrap();
    assert_eq!(memory::allocated(), base);
}

#[test]
fn dropping_an_unused_graph_frees_everything_it_saved() {
    let _s = serial();
    let w = leaf(&[64, 64], DType::F32);
    let base = memory::allocated();
    let x = Tensor::randn(&[32, 64], DType::F32).unwrap();
    let y = x
        .matmul(&w)
        .unwrap()
        .relu()
        .unwrap()
        .exp()
        .unwrap()
        .sum()
        .unwrap();
    assert!(memory::allocated() > base);
    drop((x, y));
    assert_eq!(memory::allocated(), base);
    assert!(w.grad().is_none());
}

#[test]
fn backward_frees_saved_tensors_unless_retain_graph() {
    let _s = serial();
    let w = leaf(&[64, 64], DType::F32);
    let x = Tensor::randn(&[32, 64], DType::F32).unwrap();
    let run = |retain: bool| {
        let h = x.matmul(&w).unwrap().tanh().unwrap();
        let loss = h.mul(&h).unwrap().sum().unwrap();
        drop(h);
        let before = memory::allocated();
        loss.backward_with(None, retain).unwrap();
        w.set_grad(None).unwrap();
        // `loss` (and its graph) is still alive here.
        let after = memory::allocated();
        (before, after, loss)
    };
    let (before, after, loss) = run(false);
    // The tanh output saved twice by MulBackward (one buffer) and by TanhBackward: freed.
    assert!(before - after >= 32 * 64 * 4, "{before} -> {after}");
    drop(loss);
    let (before, after, loss) = run(true);
    assert_eq!(before, after, "retain_graph keeps every saved tensor");
    loss.backward().unwrap();
    w.set_grad(None).unwrap();
}

#[test]
fn no_grad_forward_keeps_only_its_output() {
    let _s = serial();
    let w = leaf(&[128, 128], DType::F32);
    let x = Tensor::randn(&[64, 128], DType::F32).unwrap();
    let act = 64 * 128 * 4;
    let forward = || {
        let mut h = x.clone();
        for _ in 0..6 {
            h = h.matmul(&w).unwrap().relu().unwrap();
        }
        h
    };
    let base = memory::allocated();
    let out = {
        let _g = no_grad();
        forward()
    };
    assert_eq!(memory::allocated() - base, act);
    drop(out);
    assert_eq!(memory::allocated(), base);
    // Recording keeps each layer's relu output (saved for backward, and the next matmul's input).
    let out = forward();
    assert!(memory::allocated() - base >= 6 * act);
    drop(out);
    assert_eq!(memory::allocated(), base);
}

#[test]
fn a_deep_unused_graph_is_freed_without_stack_overflow() {
    let _s = serial();
    let base = memory::allocated();
    let x = leaf(&[1], DType::F32);
    let mut y = x.clone();
    // Test threads have 2 MiB stacks: a recursive drop would overflow long before this depth.
    // (tests/engine.rs runs the 1,000,000-op chain through backward.)
    for _ in 0..200_000 {
        y = y.mul_scalar(1.0).unwrap();
    }
    // Never run backward: the whole unconsumed graph is torn down by the drop.
    drop(y);
    drop(x);
    assert_eq!(memory::allocated(), base);
}
