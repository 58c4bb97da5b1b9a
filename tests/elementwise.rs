//! Rust-side checks of the elementwise family: gradients against finite differences and
//! errors instead of panics.

use ferrograd::autograd::{GradcheckOptions, gradcheck};
use ferrograd::ops::activation::GeluApprox;
use ferrograd::ops::binary::RoundingMode;
use ferrograd::{DType, Error, Scalar, Tensor};

fn leaf(v: &[f64], shape: &[usize]) -> Tensor {
    Tensor::from_slice(v, shape)
        .unwrap()
        .requires_grad_(true)
        .unwrap()
}

fn check(f: impl Fn(&[Tensor]) -> ferrograd::Result<Tensor>, inputs: &[Tensor]) {
    gradcheck(|xs| f(xs)?.sum(), inputs, GradcheckOptions::default()).unwrap();
}

#[test]
fn activation_gradients() {
    let x = leaf(&[-2.3, -0.7, 0.4, 1.9, 3.6, -4.2], &[2, 3]);
    check(|t| t[0].gelu(GeluApprox::None), std::slice::from_ref(&x));
    check(|t| t[0].gelu(GeluApprox::Tanh), std::slice::from_ref(&x));
    check(|t| t[0].silu(), std::slice::from_ref(&x));
    check(|t| t[0].mish(), std::slice::from_ref(&x));
    check(|t| t[0].softplus(1.5, 2.0), std::slice::from_ref(&x));
    check(|t| t[0].elu(0.5), std::slice::from_ref(&x));
    check(|t| t[0].selu(), std::slice::from_ref(&x));
    check(|t| t[0].logsigmoid(), std::slice::from_ref(&x));
    check(|t| t[0].hardswish(), std::slice::from_ref(&x));
    check(
        |t| t[0].transpose(0, 1)?.leaky_relu(0.1),
        std::slice::from_ref(&x),
    );
}

#[test]
fn binary_gradients_with_broadcasting() {
    let a = leaf(&[0.5, -1.2, 2.0, 0.9, -0.3, 1.4], &[2, 3]);
    let b = leaf(&[1.3, -0.8, 0.6], &[3]);
    check(|t| t[0].atan2(&t[1]), &[a.clone(), b.clone()]);
    check(|t| t[0].hypot(&t[1]), &[a.clone(), b.clone()]);
    check(|t| t[0].logaddexp(&t[1]), &[a.clone(), b.clone()]);
    check(|t| t[0].fmod(&t[1]), &[a.clone(), b.clone()]);
    check(|t| t[0].remainder(&t[1]), &[a.clone(), b.clone()]);
    check(
        |t| Tensor::where_(&t[0].gt_scalar(0.0)?, &t[0], &t[1]),
        &[a.clone(), b.clone()],
    );
    check(
        |t| t[0].clamp_tensor(Some(&t[1]), None),
        &[a.clone(), b.clone()],
    );
}

#[test]
fn integer_division_by_zero_is_an_error() {
    let a = Tensor::from_slice(&[4i64, 5], &[2]).unwrap();
    let z = Tensor::from_slice(&[2i64, 0], &[2]).unwrap();
    for r in [
        a.floor_divide(&z),
        a.remainder(&z),
        a.fmod(&z),
        a.div_mode(&z, Some(RoundingMode::Trunc)),
    ] {
        assert!(
            matches!(r, Err(Error::Invalid { .. })),
            "{:?}",
            r.as_ref().err()
        );
    }
}

#[test]
fn clamp_promotes_and_keeps_int() {
    let a = Tensor::from_slice(&[-3i64, 0, 7], &[3]).unwrap();
    let c = a
        .clamp(Some(Scalar::Int(-1)), Some(Scalar::Int(5)))
        .unwrap();
    assert_eq!(c.dtype(), DType::I64);
    assert_eq!(c.to_vec::<i64>().unwrap(), vec![-1, 0, 5]);
    assert_eq!(
        a.clamp(Some(Scalar::Float(0.5)), None).unwrap().dtype(),
        DType::F32
    );
    assert!(a.clamp(None, None).is_err());
}
