//! Finite-difference gradient checks (float64) for every differentiable op of the first op
//! set: each case compares the Jacobian autograd computes with central differences.
//! Inputs include broadcast operands and negative dims.

use ferrograd::autograd::{GradcheckOptions, gradcheck};
use ferrograd::{IndexItem, Result, Tensor};

/// Deterministic, irregular values in roughly [-1.5, 1.5] (no ties, none exactly zero).
fn values(n: usize, salt: f64) -> Vec<f64> {
    (0..n)
        .map(|i| ((i as f64 + 1.0) * 0.7381 + salt).sin() * 1.5 + 0.013 * i as f64)
        .collect()
}

fn leaf(shape: &[usize], salt: f64) -> Tensor {
    let n = shape.iter().product();
    Tensor::from_vec(values(n, salt), shape)
        .unwrap()
        .requires_grad_(true)
        .unwrap()
}

/// Strictly positive values (for log, sqrt, pow bases, divisors).
fn positive(shape: &[usize], salt: f64) -> Tensor {
    let n = shape.iter().product();
    let v = values(n, salt).into_iter().map(|x| x.abs() + 0.5).collect();
    Tensor::from_vec(v, shape)
        .unwrap()
        .requires_grad_(true)
        .unwrap()
}

fn check(f: impl Fn(&[Tensor]) -> Result<Tensor>, inputs: &[Tensor]) {
    gradcheck(f, inputs, GradcheckOptions::default()).unwrap();
}

#[test]
fn gradcheck_itself_catches_a_wrong_gradient() {
    // A "function" whose recorded backward is wrong: x * x.detach() has gradient x, not 2x.
    let x = leaf(&[3], 0.1);
    let err = gradcheck(
        |t| t[0].mul(&t[0].detach()),
        &[x],
        GradcheckOptions::default(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("Jacobian mismatch"), "{err}");
}

// ----- binary arithmetic, with broadcasting and scalars on either side -----

#[test]
fn add_sub_broadcast() {
    let (a, b) = (leaf(&[2, 3], 0.1), leaf(&[3], 0.2));
    check(|t| t[0].add(&t[1]), &[a.clone(), b.clone()]);
    check(|t| t[0].sub(&t[1]), &[a.clone(), b.clone()]);
    check(|t| t[1].sub(&t[0]), &[a, b]);
    // [2,1] with [1,3] -> [2,3]: both operands broadcast.
    let (c, d) = (leaf(&[2, 1], 0.3), leaf(&[1, 3], 0.4));
    check(|t| t[0].sub(&t[1]), &[c, d]);
}

#[test]
fn mul_div_broadcast() {
    let (a, b) = (leaf(&[2, 3], 0.5), positive(&[2, 1], 0.6));
    check(|t| t[0].mul(&t[1]), &[a.clone(), b.clone()]);
    check(|t| t[0].div(&t[1]), &[a.clone(), b.clone()]);
    check(|t| t[1].div(&t[0].abs()?.add_scalar(0.5)?), &[a, b]);
    // A 0-d operand.
    let (s, m) = (leaf(&[], 0.7), leaf(&[4], 0.8));
    check(|t| t[0].mul(&t[1]), &[s.clone(), m.clone()]);
    check(|t| t[1].div(&t[0]), &[s, m]);
}

#[test]
fn same_tensor_on_both_sides() {
    let a = leaf(&[3], 0.9);
    check(|t| t[0].mul(&t[0]), std::slice::from_ref(&a));
    check(|t| t[0].sub(&t[0].mul_scalar(3.0)?), &[a]);
}

#[test]
fn scalar_on_either_side() {
    let a = positive(&[2, 2], 1.0);
    check(|t| t[0].add_scalar(2.5), std::slice::from_ref(&a));
    check(|t| t[0].radd_scalar(2.5), std::slice::from_ref(&a));
    check(|t| t[0].sub_scalar(2.5), std::slice::from_ref(&a));
    check(|t| t[0].rsub_scalar(2.5), std::slice::from_ref(&a));
    check(|t| t[0].mul_scalar(-1.5), std::slice::from_ref(&a));
    check(|t| t[0].rmul_scalar(-1.5), std::slice::from_ref(&a));
    check(|t| t[0].div_scalar(4.0), std::slice::from_ref(&a));
    check(|t| t[0].rdiv_scalar(4.0), std::slice::from_ref(&a));
    check(|t| t[0].pow_scalar(3.0), std::slice::from_ref(&a));
    check(|t| t[0].pow_scalar(0.5), std::slice::from_ref(&a));
    check(|t| t[0].pow_scalar(-2.0), std::slice::from_ref(&a));
    check(|t| t[0].pow_scalar(2i64), std::slice::from_ref(&a));
    check(|t| t[0].rpow_scalar(1.7), &[a]);
}

#[test]
fn pow_tensor_tensor_broadcast() {
    let (base, exp) = (positive(&[2, 3], 1.1), leaf(&[3], 1.2));
    check(|t| t[0].pow(&t[1]), &[base, exp]);
}

#[test]
fn neg() {
    check(|t| t[0].neg(), &[leaf(&[2, 3], 1.3)]);
}

// ----- unary -----

#[test]
fn exp_log_sqrt() {
    check(|t| t[0].exp(), &[leaf(&[2, 3], 1.4)]);
    check(|t| t[0].log(), &[positive(&[2, 3], 1.5)]);
    check(|t| t[0].sqrt(), &[positive(&[2, 3], 1.6)]);
}

#[test]
fn tanh_sigmoid_relu() {
    check(|t| t[0].tanh(), &[leaf(&[2, 3], 1.7)]);
    check(|t| t[0].sigmoid(), &[leaf(&[2, 3], 1.8)]);
    // values() keeps clear of 0, where relu has a kink.
    let x = leaf(&[3, 4], 1.9);
    assert!(x.to_vec::<f64>().unwrap().iter().all(|v| v.abs() > 1e-3));
    check(|t| t[0].relu(), &[x]);
}

#[test]
fn sigmoid_is_stable_for_large_inputs() {
    let x = Tensor::from_vec(vec![-800.0f64, 800.0], &[2])
        .unwrap()
        .requires_grad_(true)
        .unwrap();
    let y = x.sigmoid().unwrap();
    assert_eq!(y.to_vec::<f64>().unwrap(), vec![0.0, 1.0]);
    y.sum().unwrap().backward().unwrap();
    assert!(
        x.grad()
            .unwrap()
            .to_vec::<f64>()
            .unwrap()
            .iter()
            .all(|g| g.is_finite())
    );
}

// ----- reductions -----

#[test]
fn sum_all_dims_and_keepdim() {
    let x = leaf(&[2, 3, 4], 2.0);
    check(|t| t[0].sum(), std::slice::from_ref(&x));
    check(
        |t| t[0].sum_dims(Some(&[1]), false),
        std::slice::from_ref(&x),
    );
    check(
        |t| t[0].sum_dims(Some(&[-1]), true),
        std::slice::from_ref(&x),
    );
    check(
        |t| t[0].sum_dims(Some(&[0, -1]), false),
        std::slice::from_ref(&x),
    );
    check(|t| t[0].sum_dims(Some(&[-3, 1]), true), &[x]);
}

#[test]
fn mean_all_dims_and_keepdim() {
    let x = leaf(&[2, 3, 4], 2.1);
    check(|t| t[0].mean(), std::slice::from_ref(&x));
    check(
        |t| t[0].mean_dims(Some(&[0]), false),
        std::slice::from_ref(&x),
    );
    check(
        |t| t[0].mean_dims(Some(&[-2]), true),
        std::slice::from_ref(&x),
    );
    check(|t| t[0].mean_dims(Some(&[0, 2]), true), &[x]);
}

#[test]
fn max_min_over_a_dim() {
    let x = leaf(&[3, 4], 2.2);
    check(
        |t| Ok(t[0].max_min_dim(1, false, true)?.0),
        std::slice::from_ref(&x),
    );
    check(
        |t| Ok(t[0].max_min_dim(-2, true, true)?.0),
        std::slice::from_ref(&x),
    );
    check(
        |t| Ok(t[0].max_min_dim(0, false, false)?.0),
        std::slice::from_ref(&x),
    );
    check(
        |t| Ok(t[0].max_min_dim(-1, true, false)?.0),
        std::slice::from_ref(&x),
    );
    check(|t| t[0].max_all(), std::slice::from_ref(&x));
    check(|t| t[0].min_all(), &[x]);
}

#[test]
fn max_dim_indices_and_argmax() {
    let x = Tensor::from_vec(vec![1.0f64, 5.0, 2.0, 7.0, 0.0, 3.0], &[2, 3]).unwrap();
    let (v, i) = x.max_min_dim(1, false, true).unwrap();
    assert_eq!(v.to_vec::<f64>().unwrap(), vec![5.0, 7.0]);
    assert_eq!(i.to_vec::<i64>().unwrap(), vec![1, 0]);
    assert_eq!(
        x.argmax(Some(-1), false).unwrap().to_vec::<i64>().unwrap(),
        vec![1, 0]
    );
    assert_eq!(
        x.argmin(Some(0), false).unwrap().to_vec::<i64>().unwrap(),
        vec![0, 1, 0]
    );
    assert_eq!(
        x.argmax(None, false).unwrap().to_vec::<i64>().unwrap(),
        vec![3]
    );
    assert_eq!(x.argmin(None, true).unwrap().shape(), &[1, 1]);
}

// ----- matmul -----

#[test]
fn matmul_2d_and_vectors() {
    check(
        |t| t[0].matmul(&t[1]),
        &[leaf(&[2, 3], 2.3), leaf(&[3, 4], 2.4)],
    );
    check(|t| t[0].matmul(&t[1]), &[leaf(&[3], 2.5), leaf(&[3], 2.6)]); // dot
    check(
        |t| t[0].matmul(&t[1]),
        &[leaf(&[3], 2.7), leaf(&[3, 2], 2.8)],
    ); // vector @ matrix
    check(
        |t| t[0].matmul(&t[1]),
        &[leaf(&[2, 3], 2.9), leaf(&[3], 3.0)],
    ); // matrix @ vector
}

#[test]
fn matmul_batched_with_broadcasting() {
    check(
        |t| t[0].matmul(&t[1]),
        &[leaf(&[2, 2, 3], 3.1), leaf(&[2, 3, 2], 3.2)],
    );
    // Batch dims broadcast: [2,1,2,3] @ [3,3,2] -> [2,3,2,2].
    check(
        |t| t[0].matmul(&t[1]),
        &[leaf(&[2, 1, 2, 3], 3.3), leaf(&[3, 3, 2], 3.4)],
    );
    // A shared weight against a batch.
    check(
        |t| t[0].matmul(&t[1]),
        &[leaf(&[3, 2, 3], 3.5), leaf(&[3, 2], 3.6)],
    );
    check(
        |t| t[0].matmul(&t[1]),
        &[leaf(&[3], 3.7), leaf(&[2, 3, 2], 3.8)],
    );
    check(
        |t| t[0].matmul(&t[1]),
        &[leaf(&[2, 2, 3], 3.9), leaf(&[3], 4.0)],
    );
}

#[test]
fn matmul_of_transposed_views() {
    let (a, b) = (leaf(&[3, 2], 4.1), leaf(&[4, 3], 4.2));
    check(|t| t[0].transpose(0, 1)?.matmul(&t[1].t()?), &[a, b]);
}

// ----- views -----

#[test]
fn reshape_and_view() {
    let x = leaf(&[2, 3, 2], 4.3);
    check(
        |t| t[0].reshape(&[3, -1])?.mul_scalar(2.0),
        std::slice::from_ref(&x),
    );
    check(
        |t| t[0].view(&[-1])?.mul(&t[0].view(&[12])?),
        std::slice::from_ref(&x),
    );
    // Reshape of a non-contiguous tensor copies.
    check(|t| t[0].transpose(0, 2)?.reshape(&[4, 3]), &[x]);
}

#[test]
fn transpose_permute_negative_dims() {
    let x = leaf(&[2, 3, 4], 4.4);
    let w = Tensor::from_vec(values(24, 9.0), &[4, 3, 2]).unwrap();
    // Multiply by fixed weights so each output position has its own coefficient.
    check(|t| t[0].transpose(0, -1)?.mul(&w), std::slice::from_ref(&x));
    check(
        |t| t[0].permute(&[2, 1, 0])?.mul(&w),
        std::slice::from_ref(&x),
    );
    let w2 = Tensor::from_vec(values(24, 9.5), &[3, 4, 2]).unwrap();
    check(|t| t[0].permute(&[-2, -1, 0])?.mul(&w2), &[x]);
}

#[test]
fn unsqueeze_squeeze() {
    let x = leaf(&[2, 1, 3], 4.5);
    check(
        |t| t[0].unsqueeze(0)?.mul_scalar(3.0),
        std::slice::from_ref(&x),
    );
    check(|t| t[0].unsqueeze(-1)?.exp(), std::slice::from_ref(&x));
    check(|t| t[0].squeeze()?.exp(), std::slice::from_ref(&x));
    check(|t| t[0].squeeze_dims(&[-2])?.exp(), &[x]);
}

#[test]
fn expand_gradient_sums_back() {
    let x = leaf(&[3, 1], 4.6);
    let w = Tensor::from_vec(values(12, 3.3), &[2, 3, 2]).unwrap();
    check(|t| t[0].expand(&[2, 3, 2])?.mul(&w), &[x]);
}

#[test]
fn basic_indexing() {
    let x = leaf(&[4, 5, 3], 4.7);
    use IndexItem::*;
    let s = |start, stop, step| Slice { start, stop, step };
    check(|t| t[0].index(&[Int(1)])?.exp(), std::slice::from_ref(&x));
    check(
        |t| t[0].index(&[Int(-1), Int(2)])?.exp(),
        std::slice::from_ref(&x),
    );
    check(
        |t| {
            t[0].index(&[s(Some(1), None, 2), s(None, Some(-1), 3)])?
                .exp()
        },
        std::slice::from_ref(&x),
    );
    check(
        |t| t[0].index(&[Ellipsis, Int(0)])?.exp(),
        std::slice::from_ref(&x),
    );
    check(
        |t| t[0].index(&[NewAxis, Int(2), Ellipsis, NewAxis])?.exp(),
        std::slice::from_ref(&x),
    );
    // Overlapping reads of one input add up.
    check(
        |t| {
            t[0].index(&[Int(0)])?
                .add(&t[0].index(&[s(None, Some(1), 1)])?)
        },
        &[x],
    );
}

// ----- nn -----

#[test]
fn softmax_and_log_softmax() {
    let x = leaf(&[3, 4], 4.8);
    check(|t| t[0].softmax(1), std::slice::from_ref(&x));
    check(|t| t[0].softmax(-2), std::slice::from_ref(&x));
    check(|t| t[0].log_softmax(-1), std::slice::from_ref(&x));
    check(|t| t[0].log_softmax(0), &[x]);
    let y = leaf(&[2, 3, 2], 4.9);
    check(|t| t[0].log_softmax(1), &[y]);
}

#[test]
fn log_softmax_is_stable_on_large_logits() {
    let x = Tensor::from_vec(vec![1000.0f64, 0.0, -1000.0, 1e4, 1e4 + 1.0, 0.0], &[2, 3])
        .unwrap()
        .requires_grad_(true)
        .unwrap();
    let y = x.log_softmax(1).unwrap().to_vec::<f64>().unwrap();
    assert!(y.iter().all(|v| v.is_finite()), "{y:?}");
    assert!((y[0] - 0.0).abs() < 1e-12 && (y[1] + 1000.0).abs() < 1e-9);
    let s = x.softmax(1).unwrap().to_vec::<f64>().unwrap();
    assert!(s.iter().all(|v| v.is_finite()));
    let x32 = Tensor::from_vec(vec![100.0f32, 200.0, 300.0], &[3]).unwrap();
    assert!(
        x32.log_softmax(0)
            .unwrap()
            .to_vec::<f32>()
            .unwrap()
            .iter()
            .all(|v| v.is_finite())
    );
}

#[test]
fn cross_entropy_mean_over_int_targets() {
    let logits = leaf(&[4, 3], 5.0);
    let target = Tensor::from_vec(vec![0i64, 2, 1, 2], &[4]).unwrap();
    check(
        |t| t[0].cross_entropy(&target),
        std::slice::from_ref(&logits),
    );
    // Value: mean of -log_softmax at the targets.
    let lp = logits
        .detach()
        .log_softmax(1)
        .unwrap()
        .to_vec::<f64>()
        .unwrap();
    let want = -(lp[0] + lp[3 + 2] + lp[6 + 1] + lp[9 + 2]) / 4.0;
    let got = logits.cross_entropy(&target).unwrap().item_f64().unwrap();
    assert!((got - want).abs() < 1e-12);
    // A loss composed with upstream ops.
    let w = leaf(&[3, 3], 5.1);
    check(|t| t[0].matmul(&t[1])?.cross_entropy(&target), &[logits, w]);
}

// ----- in-place ops while recording (on non-leaves) -----

#[test]
fn inplace_ops_on_non_leaves() {
    let (x, y) = (leaf(&[2, 3], 5.2), positive(&[3], 5.3));
    check(
        |t| {
            let h = t[0].mul_scalar(1.0)?;
            h.add_(&t[1])?;
            Ok(h)
        },
        &[x.clone(), y.clone()],
    );
    check(
        |t| {
            // (Not exp: it saves its output, so changing that in place must fail, see below.)
            let h = t[0].mul_scalar(2.0)?;
            h.sub_(&t[1])?;
            h.mul_(&t[1])?;
            h.div_(&t[1].add_scalar(1.0)?)?;
            Ok(h)
        },
        &[x.clone(), y.clone()],
    );
    check(
        |t| {
            let h = t[0].mul_scalar(2.0)?;
            h.add_scalar_(1.0)?;
            h.mul_scalar_(3.0)?;
            h.sub_scalar_(0.5)?;
            h.div_scalar_(2.0)?;
            Ok(h)
        },
        std::slice::from_ref(&x),
    );
    // Modifying a tensor an op saved is refused at backward time, as in PyTorch.
    let h = x.exp().unwrap();
    h.sub_(&y).unwrap();
    let err = h.sum().unwrap().backward().unwrap_err();
    assert!(
        matches!(
            err,
            ferrograd::Error::InplaceModified {
                node: "ExpBackward",
                ..
            }
        ),
        "{err}"
    );
    // copy_ routes the gradient to the source and cuts the old value off.
    check(
        |t| {
            let h = t[0].mul_scalar(2.0)?;
            h.copy_(&t[1])?;
            h.mul(&t[0])
        },
        &[x, y],
    );
}

#[test]
fn clone_and_float_casts() {
    let x = leaf(&[3], 5.4);
    check(
        |t| t[0].clone_tensor()?.mul(&t[0]),
        std::slice::from_ref(&x),
    );
    // Through float32 the finite differences are too coarse for gradcheck: check by hand that
    // the gradient comes back in float64 with exp's value.
    let y = x
        .to_dtype(ferrograd::DType::F32)
        .unwrap()
        .exp()
        .unwrap()
        .sum()
        .unwrap();
    assert_eq!(y.grad_fn_name(), Some("SumBackward"));
    y.backward().unwrap();
    let g = x.grad().unwrap();
    assert_eq!(g.dtype(), ferrograd::DType::F64);
    for (g, v) in g
        .to_vec::<f64>()
        .unwrap()
        .iter()
        .zip(x.to_vec::<f64>().unwrap())
    {
        assert!((g - v.exp()).abs() < 1e-5 * v.exp());
    }
}

#[test]
fn a_small_mlp_end_to_end() {
    let x = leaf(&[5, 4], 5.5);
    let w1 = leaf(&[4, 6], 5.6);
    let b1 = leaf(&[6], 5.7);
    let w2 = leaf(&[6, 3], 5.8);
    let target = Tensor::from_vec(vec![0i64, 1, 2, 1, 0], &[5]).unwrap();
    check(
        |t| {
            t[0].matmul(&t[1])?
                .add(&t[2])?
                .tanh()?
                .matmul(&t[3])?
                .cross_entropy(&target)
        },
        &[x, w1, b1, w2],
    );
}
