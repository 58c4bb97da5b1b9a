//! Rust-side checks of the shape/indexing family: gradients by finite differences (float64),
//! in-place updates of views inside a graph, and typed errors.

use ferrograd::autograd::{GradcheckOptions, gradcheck};
use ferrograd::ops::view::PadMode;
use ferrograd::{DType, Error, IndexItem, Tensor};

fn leaf(shape: &[usize], seed: u64) -> Tensor {
    let n: usize = shape.iter().product();
    let v: Vec<f64> = (0..n)
        .map(|i| ((i as u64 * 7 + seed * 13) % 11) as f64 / 5.0 - 1.0)
        .collect();
    Tensor::from_vec(v, shape)
        .unwrap()
        .requires_grad_(true)
        .unwrap()
}

fn idx(v: &[i64], shape: &[usize]) -> Tensor {
    Tensor::from_vec(v.to_vec(), shape).unwrap()
}

fn check(f: impl Fn(&[Tensor]) -> ferrograd::Result<Tensor>, inputs: &[Tensor]) {
    gradcheck(f, inputs, GradcheckOptions::default()).unwrap();
}

#[test]
fn joins_and_reorderings_have_correct_gradients() {
    check(
        |x| Tensor::cat(&[x[0].t()?, x[1].clone()], -1),
        &[leaf(&[2, 3], 1), leaf(&[3, 2], 2)],
    );
    check(
        |x| Tensor::stack(&[x[0].clone(), x[1].expand(&[3, 2])?], 1),
        &[leaf(&[3, 2], 1), leaf(&[1, 2], 2)],
    );
    check(
        |x| x[0].t()?.flip(&[0, -1])?.roll(&[1], &[-1]),
        &[leaf(&[3, 4], 3)],
    );
    check(
        |x| x[0].movedim(&[0], &[-1])?.repeat(&[2, 1, 2]),
        &[leaf(&[2, 3], 4)],
    );
    check(|x| x[0].diagonal(-1, 0, 1)?.diag(1), &[leaf(&[4, 3], 5)]);
    check(|x| x[0].t()?.triu(0), &[leaf(&[3, 3], 6)]);
    check(
        |x| x[0].pad(&[1, 2, 2, 1], PadMode::Reflect),
        &[leaf(&[3, 4], 7)],
    );
    check(
        |x| x[0].pad(&[-1, 1], PadMode::Constant(2.0)),
        &[leaf(&[2, 3], 8)],
    );
}

#[test]
fn gathers_and_scatters_have_correct_gradients() {
    let i = idx(&[0, 2, 2, 1], &[2, 2]);
    check(|x| x[0].gather(1, &i), &[leaf(&[2, 3], 1)]);
    check(
        |x| x[0].scatter_add(1, &i, &x[1]),
        &[leaf(&[2, 3], 1), leaf(&[2, 2], 2)],
    );
    check(
        |x| x[0].scatter(0, &idx(&[1, 0], &[1, 2]), &x[1]),
        &[leaf(&[2, 3], 1), leaf(&[1, 2], 2)],
    );
    check(
        |x| x[0].index_add(0, &idx(&[1, 1], &[2]), &x[1], 0.5),
        &[leaf(&[3, 2], 1), leaf(&[2, 2], 2)],
    );
    let items = [
        IndexItem::Slice {
            start: None,
            stop: None,
            step: 2,
        },
        IndexItem::Tensor(idx(&[1, 1, 0], &[3])),
    ];
    check(|x| x[0].t()?.index(&items), &[leaf(&[2, 3], 3)]);
}

#[test]
fn inplace_on_view_of_nonleaf_rebases_history() {
    // y = 2x; y[1:] *= w; the gradient flows through the CopySlices node.
    check(
        |x| {
            let y = x[0].mul_scalar(2.0)?;
            let v = y.narrow(0, 1, 2)?;
            v.mul_(&x[1])?;
            Ok(y)
        },
        &[leaf(&[3, 2], 1), leaf(&[2, 2], 2)],
    );
    let x = leaf(&[3], 1);
    let y = x.mul_scalar(1.0).unwrap();
    let other = y.narrow(0, 1, 2).unwrap(); // made before the in-place op
    y.narrow(0, 0, 2).unwrap().mul_scalar_(3.0).unwrap();
    assert_eq!(y.grad_fn_name(), Some("CopySlices"));
    other.sum().unwrap().backward().unwrap();
    assert_eq!(
        x.grad().unwrap().to_vec::<f64>().unwrap(),
        vec![0.0, 3.0, 1.0]
    );
}

#[test]
fn view_of_leaf_and_bad_arguments_are_typed_errors() {
    let x = leaf(&[3], 1);
    assert!(matches!(
        x.narrow(0, 0, 1).unwrap().mul_scalar_(2.0),
        Err(Error::Autograd(_))
    ));
    let t = Tensor::zeros(&[2, 3], DType::F32).unwrap();
    assert!(matches!(
        t.gather(0, &idx(&[5], &[1, 1])),
        Err(Error::IndexOutOfRange { .. })
    ));
    assert!(matches!(
        Tensor::cat(&[t.clone(), t.t().unwrap()], 0),
        Err(Error::Shape { .. })
    ));
    assert!(matches!(
        t.movedim(&[0, 0], &[0, 1]),
        Err(Error::Invalid { .. })
    ));
    assert!(matches!(
        t.pad(&[3, 3], PadMode::Reflect),
        Err(Error::Shape { .. })
    ));
    assert!(matches!(
        t.index(&[IndexItem::Tensor(idx(&[2], &[1]))]),
        Err(Error::IndexOutOfRange { .. })
    ));
}
