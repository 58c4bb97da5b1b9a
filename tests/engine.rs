//! The backward engine: diamonds, reuse, retain_graph, backward twice, in-place after save,
//! deep chains and freeing.

use ferrograd::{DType, Error, Tensor, no_grad};

fn leaf(v: &[f64], shape: &[usize]) -> Tensor {
    Tensor::from_slice(v, shape)
        .unwrap()
        .requires_grad_(true)
        .unwrap()
}

fn grad_of(t: &Tensor) -> Vec<f64> {
    t.grad().expect("a gradient").to_vec::<f64>().unwrap()
}

#[test]
fn product_rule_and_broadcasting() {
    let a = leaf(&[1.0, 2.0, 3.0], &[3]);
    let b = leaf(&[4.0], &[1]);
    a.mul(&b).unwrap().sum().unwrap().backward().unwrap();
    assert_eq!(grad_of(&a), vec![4.0; 3]);
    assert_eq!(grad_of(&b), vec![6.0]);
}

#[test]
fn diamond_sums_both_paths() {
    // y = x*2 + x*3 -> dy/dx = 5
    let x = leaf(&[1.5], &[]);
    let y = x
        .mul_scalar(2.0)
        .unwrap()
        .add(&x.mul_scalar(3.0).unwrap())
        .unwrap();
    y.backward().unwrap();
    assert_eq!(grad_of(&x), vec![5.0]);
}

#[test]
fn tensor_reused_many_times() {
    let x = leaf(&[2.0], &[]);
    let mut y = x.clone();
    for _ in 0..9 {
        y = y.add(&x).unwrap();
    }
    y.backward().unwrap();
    assert_eq!(grad_of(&x), vec![10.0]);
}

#[test]
fn retain_graph_allows_a_second_backward_and_grads_accumulate() {
    let x = leaf(&[3.0], &[]);
    let y = x.mul(&x).unwrap();
    y.backward_with(None, true).unwrap();
    y.backward_with(None, false).unwrap();
    assert_eq!(grad_of(&x), vec![12.0]);
}

#[test]
fn backward_twice_without_retain_graph_is_an_error() {
    let x = leaf(&[3.0], &[]);
    let y = x.mul(&x).unwrap();
    y.backward().unwrap();
    let err = y.backward().unwrap_err();
    assert!(
        err.to_string()
            .contains("backward through the graph a second time"),
        "{err}"
    );
}

#[test]
fn inplace_change_of_a_saved_tensor_is_caught() {
    let x = leaf(&[1.0, 2.0], &[2]);
    let h = x.mul_scalar(1.0).unwrap();
    let y = h.mul(&h).unwrap();
    {
        let _g = no_grad();
        h.add_scalar_(1.0).unwrap();
    }
    match y.sum().unwrap().backward().unwrap_err() {
        Error::InplaceModified {
            node,
            expected,
            found,
            ..
        } => {
            assert_eq!(node, "MulBackward");
            assert_eq!((expected, found), (0, 1));
        }
        other => panic!("unexpected error {other}"),
    }
}

#[test]
fn non_scalar_root_needs_a_gradient() {
    let x = leaf(&[1.0, 2.0], &[2]);
    let y = x.mul_scalar(2.0).unwrap();
    assert!(y.backward().is_err());
    y.backward_with(
        Some(&Tensor::from_slice(&[1.0f64, 10.0], &[2]).unwrap()),
        false,
    )
    .unwrap();
    assert_eq!(grad_of(&x), vec![2.0, 20.0]);
}

#[test]
fn no_graph_error_mentions_no_grad() {
    let x = leaf(&[1.0], &[]);
    let y = {
        let _g = no_grad();
        x.mul_scalar(2.0).unwrap()
    };
    let msg = y.backward().unwrap_err().to_string();
    assert!(msg.contains("no_grad"), "{msg}");
    let z = Tensor::ones(&[], DType::F64).unwrap();
    let msg = z.backward().unwrap_err().to_string();
    assert!(msg.contains("does not require grad"), "{msg}");
}

#[test]
fn autograd_grad_returns_without_touching_dot_grad() {
    let x = leaf(&[2.0], &[]);
    let y = x.mul(&x).unwrap();
    let g =
        ferrograd::autograd::grad(&[y], std::slice::from_ref(&x), &[None], false, false).unwrap();
    assert_eq!(g[0].as_ref().unwrap().to_vec::<f64>().unwrap(), vec![4.0]);
    assert!(x.grad().is_none());
}

#[test]
fn retain_grad_keeps_a_non_leaf_gradient() {
    let x = leaf(&[2.0], &[]);
    let h = x.mul_scalar(3.0).unwrap();
    h.retain_grad().unwrap();
    h.mul(&h).unwrap().backward().unwrap();
    assert_eq!(grad_of(&h), vec![12.0]);
    assert_eq!(grad_of(&x), vec![36.0]);
}

#[test]
fn a_million_op_chain_runs_backward_and_frees() {
    let x = leaf(&[1.0], &[]);
    let mut y = x.clone();
    for _ in 0..1_000_000 {
        y = y.mul_scalar(1.0).unwrap();
    }
    y.backward().unwrap();
    assert_eq!(grad_of(&x), vec![1.0]);
    // Dropping the root frees the whole chain without recursion.
    let root_node = std::sync::Arc::downgrade(&y.grad_fn().unwrap());
    drop(y);
    assert!(root_node.upgrade().is_none());
}

#[test]
fn dropping_the_root_frees_intermediates_and_nodes() {
    let x = leaf(&[1.0, 2.0], &[2]);
    let h = x.exp().unwrap();
    let weak_h = h.downgrade();
    let y = h.mul(&h).unwrap().sum().unwrap();
    let weak_node = std::sync::Arc::downgrade(&y.grad_fn().unwrap());
    drop(h);
    // h is dead already: the graph saved its data, not the tensor handle.
    assert!(weak_h.upgrade().is_none());
    y.backward().unwrap();
    drop(y);
    assert!(weak_node.upgrade().is_none());
}
