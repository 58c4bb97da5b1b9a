//! Rust-side checks of the fused nn ops: gradcheck of conv2d, pooling, norms and the class
//! losses through the crate's own `gradcheck`.

use ferrograd::autograd::{GradcheckOptions, gradcheck};
use ferrograd::ops::nn::Reduction;
use ferrograd::ops::nn::loss::ClassLossOptions;
use ferrograd::ops::nn::pool::PoolArgs;
use ferrograd::{DType, Tensor};

fn leaf(shape: &[usize], seed: u64) -> Tensor {
    let n: usize = shape.iter().product();
    let v: Vec<f64> = (0..n)
        .map(|i| ((i as f64 + 1.0) * (seed as f64 + 0.37)).sin())
        .collect();
    Tensor::from_vec(v, shape)
        .unwrap()
        .requires_grad_(true)
        .unwrap()
}

fn check(f: impl Fn(&[Tensor]) -> ferrograd::Result<Tensor>, inputs: &[Tensor]) {
    gradcheck(f, inputs, GradcheckOptions::default()).unwrap();
}

#[test]
fn conv2d_with_groups_stride_padding_dilation() {
    let (x, w, b) = (
        leaf(&[1, 4, 5, 4], 1),
        leaf(&[2, 2, 2, 3], 2),
        leaf(&[2], 3),
    );
    check(
        |t| t[0].conv2d(&t[1], Some(&t[2]), [2, 1], [1, 0, 2, 1], [1, 2], 2),
        &[x, w, b],
    );
}

#[test]
fn pools_and_norms() {
    let x = leaf(&[1, 2, 4, 5], 4);
    let a = PoolArgs {
        kernel: [2, 3],
        stride: [1, 2],
        padding: [1, 1],
        dilation: [1, 1],
        ceil_mode: true,
    };
    check(
        |t| Ok(t[0].max_pool2d_with_indices(&a)?.0),
        std::slice::from_ref(&x),
    );
    check(
        |t| t[0].avg_pool(&a, false, None, false),
        std::slice::from_ref(&x),
    );
    check(
        |t| t[0].group_norm(2, None, None, 1e-5),
        std::slice::from_ref(&x),
    );
    check(
        |t| t[0].batch_norm(None, None, None, None, true, 0.1, 1e-5),
        std::slice::from_ref(&x),
    );
}

#[test]
fn class_losses_with_weights_and_smoothing() {
    let x = leaf(&[3, 4], 5);
    let y = Tensor::from_vec(vec![1i64, -100, 3], &[3]).unwrap();
    let opts = ClassLossOptions {
        weight: Some(Tensor::from_vec(vec![1.0, 2.0, 0.5, 1.5], &[4]).unwrap()),
        label_smoothing: 0.2,
        reduction: Reduction::Mean,
        ..Default::default()
    };
    check(
        |t| t[0].cross_entropy_with(&y, &opts),
        std::slice::from_ref(&x),
    );
    let nll = ClassLossOptions {
        label_smoothing: 0.0,
        reduction: Reduction::None,
        ..opts.clone()
    };
    check(|t| t[0].nll_loss(&y, &nll), &[x]);
}

#[test]
fn float32_cross_entropy_is_exact_at_large_logits() {
    let x = Tensor::from_vec(vec![1e4f32, -1e4, 0.0], &[1, 3]).unwrap();
    let y = Tensor::from_vec(vec![1i64], &[1]).unwrap();
    let l = x.cross_entropy(&y).unwrap();
    assert_eq!(l.dtype(), DType::F32);
    assert_eq!(l.item_f64().unwrap(), 2e4);
}

#[test]
fn fused_linear_with_bias_and_transposed_input() {
    let (x, w, b) = (leaf(&[4, 3], 6), leaf(&[2, 3], 7), leaf(&[2], 8));
    check(
        |t| t[0].linear(&t[1], Some(&t[2])),
        &[x.clone(), w.clone(), b],
    );
    check(|t| t[0].t()?.linear(&t[1], None), &[leaf(&[3, 4], 9), w]);
    assert_eq!(
        x.detach()
            .linear(&leaf(&[2, 3], 1).detach(), None)
            .unwrap()
            .grad_fn_name(),
        None
    );
}
