//! `ferrograd.nn.functional` ops implemented in Rust. These are private `_core._nn_*`
//! functions with plain positional arguments; python/ferrograd/nn/functional.py gives them
//! PyTorch's signatures, defaults and argument normalisation (ints vs tuples, 'same', ...).

use super::tensor::{PyTensor, compute};
use crate::ops::nn::Reduction;
use crate::ops::nn::conv::Conv2dGeometry;
use crate::ops::nn::embedding::EmbeddingOptions;
use crate::ops::nn::loss::ClassLossOptions;
use crate::ops::nn::pool::{InterpMode, PoolArgs};
use crate::tensor::Tensor;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyTuple;

type T<'py> = Bound<'py, PyTensor>;

fn t(x: &T<'_>) -> Tensor {
    x.get().inner.clone()
}
fn ot(x: Option<&T<'_>>) -> Option<Tensor> {
    x.map(t)
}
fn wrap(py: Python<'_>, r: crate::error::Result<Tensor>) -> PyResult<Py<PyAny>> {
    PyTensor::wrap(py, r?)
}
fn reduction(s: &str) -> PyResult<Reduction> {
    Reduction::parse("loss", s)
        .map_err(|_| PyValueError::new_err(format!("{s} is not a valid value for reduction")))
}

#[pyfunction]
#[pyo3(name = "_nn_linear", signature = (input, weight, bias = None))]
fn linear(
    py: Python<'_>,
    input: &T<'_>,
    weight: &T<'_>,
    bias: Option<&T<'_>>,
) -> PyResult<Py<PyAny>> {
    let (x, w, b) = (t(input), t(weight), ot(bias));
    let work = x.numel() * w.shape().first().copied().unwrap_or(1);
    wrap(py, compute(py, work, || x.linear(&w, b.as_ref())))
}

#[pyfunction]
#[pyo3(name = "_nn_bilinear", signature = (input1, input2, weight, bias = None))]
fn bilinear(
    py: Python<'_>,
    input1: &T<'_>,
    input2: &T<'_>,
    weight: &T<'_>,
    bias: Option<&T<'_>>,
) -> PyResult<Py<PyAny>> {
    let (a, b, w, bias) = (t(input1), t(input2), t(weight), ot(bias));
    wrap(
        py,
        compute(py, a.numel() * w.numel(), || {
            a.bilinear(&b, &w, bias.as_ref())
        }),
    )
}

#[pyfunction]
#[pyo3(name = "_nn_dropout")]
fn dropout(py: Python<'_>, input: &T<'_>, p: f64, training: bool) -> PyResult<Py<PyAny>> {
    let x = t(input);
    wrap(py, compute(py, x.numel(), || x.dropout(p, training)))
}

#[pyfunction]
#[pyo3(name = "_nn_class_loss")]
#[allow(clippy::too_many_arguments)]
fn class_loss(
    py: Python<'_>,
    input: &T<'_>,
    target: &T<'_>,
    weight: Option<&T<'_>>,
    ignore_index: i64,
    reduction_: &str,
    label_smoothing: f64,
    softmax: bool,
) -> PyResult<Py<PyAny>> {
    let (x, y) = (t(input), t(target));
    let opts = ClassLossOptions {
        weight: ot(weight),
        ignore_index,
        reduction: reduction(reduction_)?,
        label_smoothing,
    };
    wrap(
        py,
        compute(py, x.numel(), || {
            if softmax {
                x.cross_entropy_with(&y, &opts)
            } else {
                x.nll_loss(&y, &opts)
            }
        }),
    )
}

#[pyfunction]
#[pyo3(name = "_nn_pointwise_loss", signature = (kind, input, target, reduction_, param = 1.0))]
fn pointwise_loss(
    py: Python<'_>,
    kind: &str,
    input: &T<'_>,
    target: &T<'_>,
    reduction_: &str,
    param: f64,
) -> PyResult<Py<PyAny>> {
    let (x, y, r) = (t(input), t(target), reduction(reduction_)?);
    let run = || match kind {
        "mse" => x.mse_loss(&y, r),
        "l1" => x.l1_loss(&y, r),
        "smooth_l1" => x.smooth_l1_loss(&y, r, param),
        "huber" => x.huber_loss(&y, r, param),
        _ => unreachable!("unknown loss kind"),
    };
    if !["mse", "l1", "smooth_l1", "huber"].contains(&kind) {
        return Err(PyValueError::new_err(format!("unknown loss {kind}")));
    }
    wrap(py, compute(py, x.numel(), run))
}

#[pyfunction]
#[pyo3(name = "_nn_binary_cross_entropy")]
fn binary_cross_entropy(
    py: Python<'_>,
    input: &T<'_>,
    target: &T<'_>,
    weight: Option<&T<'_>>,
    reduction_: &str,
) -> PyResult<Py<PyAny>> {
    let (x, y, w, r) = (t(input), t(target), ot(weight), reduction(reduction_)?);
    wrap(
        py,
        compute(py, x.numel(), || x.binary_cross_entropy(&y, w.as_ref(), r)),
    )
}

#[pyfunction]
#[pyo3(name = "_nn_binary_cross_entropy_with_logits")]
fn binary_cross_entropy_with_logits(
    py: Python<'_>,
    input: &T<'_>,
    target: &T<'_>,
    weight: Option<&T<'_>>,
    pos_weight: Option<&T<'_>>,
    reduction_: &str,
) -> PyResult<Py<PyAny>> {
    let (x, y, w, pw, r) = (
        t(input),
        t(target),
        ot(weight),
        ot(pos_weight),
        reduction(reduction_)?,
    );
    wrap(
        py,
        compute(py, x.numel(), || {
            x.binary_cross_entropy_with_logits(&y, w.as_ref(), pw.as_ref(), r)
        }),
    )
}

#[pyfunction]
#[pyo3(name = "_nn_kl_div")]
fn kl_div(
    py: Python<'_>,
    input: &T<'_>,
    target: &T<'_>,
    reduction_: &str,
    log_target: bool,
) -> PyResult<Py<PyAny>> {
    if reduction_ != "batchmean" {
        reduction(reduction_)?;
    }
    let (x, y) = (t(input), t(target));
    wrap(
        py,
        compute(py, x.numel(), || x.kl_div(&y, reduction_, log_target)),
    )
}

#[pyfunction]
#[pyo3(name = "_nn_cosine_similarity")]
fn cosine_similarity(
    py: Python<'_>,
    x1: &T<'_>,
    x2: &T<'_>,
    dim: isize,
    eps: f64,
) -> PyResult<Py<PyAny>> {
    let (a, b) = (t(x1), t(x2));
    wrap(
        py,
        compute(py, a.numel(), || a.cosine_similarity(&b, dim, eps)),
    )
}

#[pyfunction]
#[pyo3(name = "_nn_pairwise_distance")]
fn pairwise_distance(
    py: Python<'_>,
    x1: &T<'_>,
    x2: &T<'_>,
    p: f64,
    eps: f64,
    keepdim: bool,
) -> PyResult<Py<PyAny>> {
    let (a, b) = (t(x1), t(x2));
    wrap(
        py,
        compute(py, a.numel(), || a.pairwise_distance(&b, p, eps, keepdim)),
    )
}

#[pyfunction]
#[pyo3(name = "_nn_normalize")]
fn normalize(py: Python<'_>, input: &T<'_>, p: f64, dim: isize, eps: f64) -> PyResult<Py<PyAny>> {
    let x = t(input);
    wrap(py, compute(py, x.numel(), || x.normalize(p, dim, eps)))
}

#[pyfunction]
#[pyo3(name = "_nn_vector_norm")]
fn vector_norm(
    py: Python<'_>,
    input: &T<'_>,
    p: f64,
    dim: isize,
    keepdim: bool,
) -> PyResult<Py<PyAny>> {
    let x = t(input);
    wrap(
        py,
        compute(py, x.numel(), || x.vector_norm_dim(p, dim, keepdim)),
    )
}

#[pyfunction]
#[pyo3(name = "_nn_one_hot")]
fn one_hot(py: Python<'_>, input: &T<'_>, num_classes: Option<usize>) -> PyResult<Py<PyAny>> {
    wrap(py, t(input).one_hot(num_classes))
}

#[pyfunction]
#[pyo3(name = "_nn_layer_norm")]
fn layer_norm(
    py: Python<'_>,
    input: &T<'_>,
    normalized_shape: Vec<usize>,
    weight: Option<&T<'_>>,
    bias: Option<&T<'_>>,
    eps: f64,
) -> PyResult<Py<PyAny>> {
    let (x, w, b) = (t(input), ot(weight), ot(bias));
    wrap(
        py,
        compute(py, x.numel(), || {
            x.layer_norm(&normalized_shape, w.as_ref(), b.as_ref(), eps)
        }),
    )
}

#[pyfunction]
#[pyo3(name = "_nn_group_norm")]
fn group_norm(
    py: Python<'_>,
    input: &T<'_>,
    num_groups: usize,
    weight: Option<&T<'_>>,
    bias: Option<&T<'_>>,
    eps: f64,
) -> PyResult<Py<PyAny>> {
    let (x, w, b) = (t(input), ot(weight), ot(bias));
    wrap(
        py,
        compute(py, x.numel(), || {
            x.group_norm(num_groups, w.as_ref(), b.as_ref(), eps)
        }),
    )
}

#[pyfunction]
#[pyo3(name = "_nn_batch_norm")]
#[allow(clippy::too_many_arguments)]
fn batch_norm(
    py: Python<'_>,
    input: &T<'_>,
    running_mean: Option<&T<'_>>,
    running_var: Option<&T<'_>>,
    weight: Option<&T<'_>>,
    bias: Option<&T<'_>>,
    training: bool,
    momentum: f64,
    eps: f64,
) -> PyResult<Py<PyAny>> {
    let (x, rm, rv, w, b) = (
        t(input),
        ot(running_mean),
        ot(running_var),
        ot(weight),
        ot(bias),
    );
    wrap(
        py,
        compute(py, x.numel(), || {
            x.batch_norm(
                rm.as_ref(),
                rv.as_ref(),
                w.as_ref(),
                b.as_ref(),
                training,
                momentum,
                eps,
            )
        }),
    )
}

#[pyfunction]
#[pyo3(name = "_nn_embedding")]
fn embedding(
    py: Python<'_>,
    input: &T<'_>,
    weight: &T<'_>,
    padding_idx: Option<i64>,
    max_norm: Option<f64>,
    norm_type: f64,
    scale_grad_by_freq: bool,
) -> PyResult<Py<PyAny>> {
    let (x, w) = (t(input), t(weight));
    let opts = EmbeddingOptions {
        padding_idx,
        max_norm,
        norm_type,
        scale_grad_by_freq,
    };
    wrap(
        py,
        compute(
            py,
            x.numel() * w.shape().get(1).copied().unwrap_or(1),
            || x.embedding(&w, &opts),
        ),
    )
}

#[pyfunction]
#[pyo3(name = "_nn_conv2d")]
#[allow(clippy::too_many_arguments)]
fn conv2d(
    py: Python<'_>,
    input: &T<'_>,
    weight: &T<'_>,
    bias: Option<&T<'_>>,
    stride: [usize; 2],
    padding: [usize; 4],
    dilation: [usize; 2],
    groups: usize,
) -> PyResult<Py<PyAny>> {
    let (x, w, b) = (t(input), t(weight), ot(bias));
    wrap(
        py,
        compute(py, x.numel() * w.numel(), || {
            x.conv2d(&w, b.as_ref(), stride, padding, dilation, groups)
        }),
    )
}

#[pyfunction]
#[pyo3(name = "_nn_conv1d")]
#[allow(clippy::too_many_arguments)]
fn conv1d(
    py: Python<'_>,
    input: &T<'_>,
    weight: &T<'_>,
    bias: Option<&T<'_>>,
    stride: usize,
    padding: [usize; 2],
    dilation: usize,
    groups: usize,
) -> PyResult<Py<PyAny>> {
    let (x, w, b) = (t(input), t(weight), ot(bias));
    wrap(
        py,
        compute(py, x.numel() * w.numel(), || {
            x.conv1d(&w, b.as_ref(), stride, padding, dilation, groups)
        }),
    )
}

#[pyfunction]
#[pyo3(name = "_nn_conv_transpose2d")]
#[allow(clippy::too_many_arguments)]
fn conv_transpose2d(
    py: Python<'_>,
    input: &T<'_>,
    weight: &T<'_>,
    bias: Option<&T<'_>>,
    stride: [usize; 2],
    padding: [usize; 2],
    output_padding: [usize; 2],
    groups: usize,
    dilation: [usize; 2],
) -> PyResult<Py<PyAny>> {
    let (x, w, b) = (t(input), t(weight), ot(bias));
    wrap(
        py,
        compute(py, x.numel() * w.numel(), || {
            x.conv_transpose2d(
                &w,
                b.as_ref(),
                stride,
                padding,
                output_padding,
                groups,
                dilation,
            )
        }),
    )
}

#[pyfunction]
#[pyo3(name = "_nn_max_pool")]
#[allow(clippy::too_many_arguments)]
fn max_pool(
    py: Python<'_>,
    input: &T<'_>,
    kernel: [usize; 2],
    stride: [usize; 2],
    padding: [usize; 2],
    dilation: [usize; 2],
    ceil_mode: bool,
    one_d: bool,
) -> PyResult<Py<PyTuple>> {
    let x = t(input);
    let a = PoolArgs {
        kernel,
        stride,
        padding,
        dilation,
        ceil_mode,
    };
    let (v, i) = compute(py, x.numel(), || {
        if one_d {
            x.max_pool1d_with_indices(&a)
        } else {
            x.max_pool2d_with_indices(&a)
        }
    })?;
    PyTuple::new(py, [PyTensor::wrap(py, v)?, PyTensor::wrap(py, i)?]).map(Bound::unbind)
}

#[pyfunction]
#[pyo3(name = "_nn_avg_pool")]
#[allow(clippy::too_many_arguments)]
fn avg_pool(
    py: Python<'_>,
    input: &T<'_>,
    kernel: [usize; 2],
    stride: [usize; 2],
    padding: [usize; 2],
    ceil_mode: bool,
    count_include_pad: bool,
    divisor_override: Option<i64>,
    one_d: bool,
) -> PyResult<Py<PyAny>> {
    let x = t(input);
    let a = PoolArgs {
        kernel,
        stride,
        padding,
        dilation: [1, 1],
        ceil_mode,
    };
    wrap(
        py,
        compute(py, x.numel(), || {
            x.avg_pool(&a, count_include_pad, divisor_override, one_d)
        }),
    )
}

#[pyfunction]
#[pyo3(name = "_nn_adaptive_avg_pool2d")]
fn adaptive_avg_pool2d(
    py: Python<'_>,
    input: &T<'_>,
    output_size: [Option<usize>; 2],
) -> PyResult<Py<PyAny>> {
    let x = t(input);
    wrap(
        py,
        compute(py, x.numel(), || x.adaptive_avg_pool2d(output_size)),
    )
}

#[pyfunction]
#[pyo3(name = "_nn_interpolate")]
fn interpolate(
    py: Python<'_>,
    input: &T<'_>,
    size: Vec<usize>,
    scale: Vec<Option<f64>>,
    mode: &str,
    align_corners: bool,
) -> PyResult<Py<PyAny>> {
    let x = t(input);
    let mode = match mode {
        "nearest" => InterpMode::Nearest,
        "linear" | "bilinear" => InterpMode::Linear,
        other => {
            return Err(PyValueError::new_err(format!(
                "unsupported interpolation mode {other:?}"
            )));
        }
    };
    let work = size.iter().product::<usize>() * x.shape().iter().take(2).product::<usize>();
    wrap(
        py,
        compute(py, work, || {
            x.interpolate(&size, &scale, mode, align_corners)
        }),
    )
}

#[pyfunction]
#[pyo3(name = "_nn_unfold")]
fn unfold(
    py: Python<'_>,
    input: &T<'_>,
    kernel: [usize; 2],
    dilation: [usize; 2],
    padding: [usize; 2],
    stride: [usize; 2],
) -> PyResult<Py<PyAny>> {
    let x = t(input);
    let g = Conv2dGeometry::symmetric(kernel, stride, padding, dilation);
    wrap(
        py,
        compute(py, x.numel() * kernel[0] * kernel[1], || x.unfold2d(&g)),
    )
}

#[pyfunction]
#[pyo3(name = "_nn_fold")]
fn fold(
    py: Python<'_>,
    input: &T<'_>,
    output_size: [usize; 2],
    kernel: [usize; 2],
    dilation: [usize; 2],
    padding: [usize; 2],
    stride: [usize; 2],
) -> PyResult<Py<PyAny>> {
    let x = t(input);
    let g = Conv2dGeometry::symmetric(kernel, stride, padding, dilation);
    wrap(py, compute(py, x.numel(), || x.fold2d(output_size, &g)))
}

/// Adds this family's module-level functions to `ferrograd._core`.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(linear, m)?)?;
    m.add_function(wrap_pyfunction!(bilinear, m)?)?;
    m.add_function(wrap_pyfunction!(dropout, m)?)?;
    m.add_function(wrap_pyfunction!(class_loss, m)?)?;
    m.add_function(wrap_pyfunction!(pointwise_loss, m)?)?;
    m.add_function(wrap_pyfunction!(binary_cross_entropy, m)?)?;
    m.add_function(wrap_pyfunction!(binary_cross_entropy_with_logits, m)?)?;
    m.add_function(wrap_pyfunction!(kl_div, m)?)?;
    m.add_function(wrap_pyfunction!(cosine_similarity, m)?)?;
    m.add_function(wrap_pyfunction!(pairwise_distance, m)?)?;
    m.add_function(wrap_pyfunction!(normalize, m)?)?;
    m.add_function(wrap_pyfunction!(vector_norm, m)?)?;
    m.add_function(wrap_pyfunction!(one_hot, m)?)?;
    m.add_function(wrap_pyfunction!(layer_norm, m)?)?;
    m.add_function(wrap_pyfunction!(group_norm, m)?)?;
    m.add_function(wrap_pyfunction!(batch_norm, m)?)?;
    m.add_function(wrap_pyfunction!(embedding, m)?)?;
    m.add_function(wrap_pyfunction!(conv2d, m)?)?;
    m.add_function(wrap_pyfunction!(conv1d, m)?)?;
    m.add_function(wrap_pyfunction!(conv_transpose2d, m)?)?;
    m.add_function(wrap_pyfunction!(max_pool, m)?)?;
    m.add_function(wrap_pyfunction!(avg_pool, m)?)?;
    m.add_function(wrap_pyfunction!(adaptive_avg_pool2d, m)?)?;
    m.add_function(wrap_pyfunction!(interpolate, m)?)?;
    m.add_function(wrap_pyfunction!(unfold, m)?)?;
    m.add_function(wrap_pyfunction!(fold, m)?)?;
    Ok(())
}
