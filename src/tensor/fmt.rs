//! PyTorch-style printing: `tensor([[1., 2.],\n        [3., 4.]], requires_grad=True)`.

use super::Tensor;
use crate::dtype::DType;

/// Above this many elements only the first and last three of each dim are shown.
const SUMMARIZE_OVER: usize = 1000;
const EDGE: usize = 3;
const LINE_WIDTH: usize = 80;

enum Style {
    /// Every value a whole number: `1.`
    Whole,
    Fixed(usize),
    Sci,
    Int,
    Bool,
}

fn style_for(dtype: DType, values: &[f64]) -> Style {
    match dtype {
        DType::Bool => return Style::Bool,
        DType::I64 => return Style::Int,
        _ => {}
    }
    let finite: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    // PyTorch looks at the nonzero finite magnitudes only.
    let nonzero: Vec<f64> = finite
        .iter()
        .filter(|v| **v != 0.0)
        .map(|v| v.abs())
        .collect();
    if nonzero.is_empty() {
        return Style::Whole;
    }
    let max = nonzero.iter().fold(0.0f64, |m, &v| m.max(v));
    let min = nonzero.iter().fold(f64::INFINITY, |m, &v| m.min(v));
    if finite.iter().all(|v| v.fract() == 0.0) {
        return if max / min > 1000.0 || max > 1e8 {
            Style::Sci
        } else {
            Style::Whole
        };
    }
    if max / min > 1000.0 || max > 1e8 || min < 1e-4 {
        Style::Sci
    } else {
        Style::Fixed(4)
    }
}

fn format_value(v: f64, style: &Style) -> String {
    if v.is_nan() {
        return "nan".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "inf".into() } else { "-inf".into() };
    }
    match style {
        Style::Whole => format!("{v:.0}."),
        Style::Fixed(p) => format!("{v:.p$}"),
        Style::Sci => {
            let s = format!("{v:.4e}");
            // Rust prints 1.2340e5; PyTorch prints 1.2340e+05.
            match s.split_once('e') {
                Some((m, e)) => {
                    let (sign, digits) = if let Some(d) = e.strip_prefix('-') {
                        ('-', d)
                    } else {
                        ('+', e)
                    };
                    format!("{m}e{sign}{digits:0>2}")
                }
                None => s,
            }
        }
        Style::Int => format!("{}", v as i64),
        Style::Bool => {
            if v != 0.0 {
                "True".into()
            } else {
                "False".into()
            }
        }
    }
}

impl Tensor {
    /// The text PyTorch's `repr` would print for this tensor.
    pub fn to_pytorch_string(&self) -> String {
        let values = self.to_vec_f64();
        let ints: Vec<i64> = if self.dtype() == DType::I64 {
            self.to_vec::<i64>().unwrap_or_default()
        } else {
            Vec::new()
        };
        let summarize = self.numel() > SUMMARIZE_OVER;
        let shown: Vec<f64> = if summarize {
            summary_values(&values, self.shape())
        } else {
            values.clone()
        };
        let style = style_for(self.dtype(), &shown);
        let fmt_at = |i: usize| -> String {
            if !ints.is_empty() {
                ints[i].to_string()
            } else {
                format_value(values[i], &style)
            }
        };
        // As PyTorch: for floats only finite nonzero values set the column width.
        let is_float = self.dtype().is_float();
        let width = shown
            .iter()
            .filter(|v| !is_float || (v.is_finite() && **v != 0.0))
            .map(|&v| format_value(v, &style).len())
            .max()
            .unwrap_or(1);
        let width = if ints.is_empty() {
            width
        } else {
            ints.iter().map(|v| v.to_string().len()).max().unwrap_or(1)
        };
        let mut body = String::new();
        if self.ndim() == 0 {
            body = fmt_at(0);
        } else {
            write_dim(
                &mut body,
                self.shape(),
                0,
                0,
                &fmt_at,
                width,
                summarize,
                "tensor(".len(),
            );
        }
        let mut out = format!("tensor({body}");
        // As PyTorch: an empty tensor prints `[]`, its size unless it is 1-D, and its dtype
        // unless it is the default (no values to tell int64 from float32).
        let empty = self.numel() == 0 && self.ndim() > 0;
        if empty {
            out = "tensor([]".to_string();
            if self.ndim() != 1 {
                let dims: Vec<String> = self.shape().iter().map(|d| d.to_string()).collect();
                let tuple = if dims.len() == 1 {
                    format!("({},)", dims[0])
                } else {
                    format!("({})", dims.join(", "))
                };
                out.push_str(&format!(", size={tuple}"));
            }
        }
        let show_dtype = if empty {
            self.dtype() != DType::F32
        } else {
            self.dtype() == DType::F64
        };
        if show_dtype {
            out.push_str(&format!(", dtype=ferrograd.{}", self.dtype().name()));
        }
        if let Some(name) = self.grad_fn_name() {
            out.push_str(&format!(", grad_fn=<{name}>"));
        } else if self.requires_grad() {
            out.push_str(", requires_grad=True");
        }
        out.push(')');
        out
    }
}

fn summary_values(values: &[f64], shape: &[usize]) -> Vec<f64> {
    // Approximation for width and style: the first and last EDGE rows of the flat data.
    let n = values.len();
    let k = (EDGE * shape.last().copied().unwrap_or(1)).min(n);
    values[..k]
        .iter()
        .chain(&values[n - k..])
        .copied()
        .collect()
}

#[allow(clippy::too_many_arguments)]
fn write_dim(
    out: &mut String,
    shape: &[usize],
    dim: usize,
    base: usize,
    fmt_at: &dyn Fn(usize) -> String,
    width: usize,
    summarize: bool,
    indent: usize,
) {
    let n = shape[dim];
    let inner: usize = shape[dim + 1..].iter().product();
    out.push('[');
    let idx: Vec<Option<usize>> = if summarize && n > 2 * EDGE {
        (0..EDGE)
            .map(Some)
            .chain([None])
            .chain((n - EDGE..n).map(Some))
            .collect()
    } else {
        (0..n).map(Some).collect()
    };
    let last_dim = dim + 1 == shape.len();
    // PyTorch wraps a row at 80 columns: each element takes its width plus ", ".
    let per_line = ((LINE_WIDTH.saturating_sub(indent + dim)) / (width + 2)).max(1);
    for (pos, i) in idx.iter().enumerate() {
        if pos > 0 {
            if last_dim && pos % per_line == 0 {
                out.push_str(",\n");
                out.push_str(&" ".repeat(indent + dim + 1));
            } else if last_dim {
                out.push_str(", ");
            } else {
                out.push(',');
                out.push_str(&"\n".repeat(shape.len() - dim - 1));
                out.push_str(&" ".repeat(indent + dim + 1));
            }
        }
        match i {
            None if last_dim => out.push_str(" ..."),
            None => out.push_str("..."),
            Some(i) if last_dim => out.push_str(&format!("{:>width$}", fmt_at(base + i))),
            Some(i) => write_dim(
                out,
                shape,
                dim + 1,
                base + i * inner,
                fmt_at,
                width,
                summarize,
                indent,
            ),
        }
    }
    out.push(']');
}
