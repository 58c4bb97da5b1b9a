//! The strict-rank matrix products (mm, bmm, mv, dot, outer) and the fused forms
//! addmm / baddbmm. Each validates ranks, sizes and dtypes with PyTorch's rules, then runs
//! through `matmul` (and so the GEMM) for the value and the gradient.

use crate::error::{Error, Result};
use crate::tensor::Tensor;

fn same_dtype(op: &'static str, a: &Tensor, b: &Tensor) -> Result<()> {
    if a.dtype() != b.dtype() {
        return Err(Error::dtype(
            op,
            format!(
                "expected both operands to have the same dtype, but got {} and {}",
                a.dtype(),
                b.dtype()
            ),
        ));
    }
    Ok(())
}

fn rank(op: &'static str, what: &str, t: &Tensor, want: usize) -> Result<()> {
    if t.ndim() != want {
        return Err(Error::shape(
            op,
            format!(
                "{what} must be a {want}-D tensor, got {}-D with shape {:?}",
                t.ndim(),
                t.shape()
            ),
        ));
    }
    Ok(())
}

/// `beta * input + alpha * product`, with `input` broadcast to the product's shape. With
/// `beta == 0` the input is not read (NaN and inf in it do not propagate), as in PyTorch.
fn add_scaled(
    op: &'static str,
    input: &Tensor,
    product: Tensor,
    beta: f64,
    alpha: f64,
) -> Result<Tensor> {
    if input.layout().broadcast_to(product.shape()).is_none() {
        return Err(Error::shape(
            op,
            format!(
                "input of shape {:?} cannot be broadcast to the product's shape {:?}",
                input.shape(),
                product.shape()
            ),
        ));
    }
    same_dtype(op, input, &product)?;
    let p = if alpha == 1.0 {
        product
    } else {
        product.mul_scalar(alpha)?
    };
    if beta == 0.0 {
        return Ok(p);
    }
    let i = if beta == 1.0 {
        input.clone()
    } else {
        input.mul_scalar(beta)?
    };
    i.add(&p)
}

impl Tensor {
    /// Matrix product of two 2-D tensors (no broadcasting).
    pub fn mm(&self, other: &Tensor) -> Result<Tensor> {
        rank("mm", "self", self, 2)?;
        rank("mm", "mat2", other, 2)?;
        same_dtype("mm", self, other)?;
        if self.shape()[1] != other.shape()[0] {
            return Err(Error::shape(
                "mm",
                format!(
                    "mat1 and mat2 shapes cannot be multiplied ({}x{} and {}x{})",
                    self.shape()[0],
                    self.shape()[1],
                    other.shape()[0],
                    other.shape()[1]
                ),
            ));
        }
        self.matmul(other)
    }

    /// Batched matrix product of two 3-D tensors with equal batch sizes.
    pub fn bmm(&self, other: &Tensor) -> Result<Tensor> {
        rank("bmm", "batch1", self, 3)?;
        rank("bmm", "batch2", other, 3)?;
        same_dtype("bmm", self, other)?;
        let (a, b) = (self.shape(), other.shape());
        if a[0] != b[0] || a[2] != b[1] {
            return Err(Error::shape(
                "bmm",
                format!(
                    "expected batch1 [b, n, m] and batch2 [b, m, p] to match, got {a:?} and {b:?}"
                ),
            ));
        }
        self.matmul(other)
    }

    /// Matrix-vector product.
    pub fn mv(&self, vec: &Tensor) -> Result<Tensor> {
        rank("mv", "self", self, 2)?;
        rank("mv", "vec", vec, 1)?;
        same_dtype("mv", self, vec)?;
        if self.shape()[1] != vec.shape()[0] {
            return Err(Error::shape(
                "mv",
                format!(
                    "size mismatch, got input ({:?}) and vec ({:?})",
                    self.shape(),
                    vec.shape()
                ),
            ));
        }
        self.matmul(vec)
    }

    /// Inner product of two 1-D tensors of the same length.
    pub fn dot(&self, other: &Tensor) -> Result<Tensor> {
        if self.ndim() != 1 || other.ndim() != 1 {
            return Err(Error::shape(
                "dot",
                format!(
                    "1D tensors expected, but got {}D and {}D tensors",
                    self.ndim(),
                    other.ndim()
                ),
            ));
        }
        same_dtype("dot", self, other)?;
        if self.shape()[0] != other.shape()[0] {
            return Err(Error::shape(
                "dot",
                format!(
                    "inconsistent tensor size, expected tensor [{}] and src [{}] to have the same number of elements",
                    self.shape()[0],
                    other.shape()[0]
                ),
            ));
        }
        self.matmul(other)
    }

    /// Outer product of two 1-D tensors (dtypes promote as in `mul`).
    pub fn outer(&self, other: &Tensor) -> Result<Tensor> {
        if self.ndim() != 1 || other.ndim() != 1 {
            return Err(Error::shape(
                "outer",
                format!(
                    "1D tensors expected, but got {}D and {}D tensors",
                    self.ndim(),
                    other.ndim()
                ),
            ));
        }
        self.unsqueeze(1)?.mul(&other.unsqueeze(0)?)
    }

    /// `beta * self + alpha * (mat1 @ mat2)`; `self` broadcasts to the product's shape.
    pub fn addmm(&self, mat1: &Tensor, mat2: &Tensor, beta: f64, alpha: f64) -> Result<Tensor> {
        let p = mat1.mm(mat2).map_err(|e| rename(e, "addmm"))?;
        add_scaled("addmm", self, p, beta, alpha)
    }

    /// `beta * self + alpha * bmm(batch1, batch2)`; `self` broadcasts to the product's shape.
    pub fn baddbmm(
        &self,
        batch1: &Tensor,
        batch2: &Tensor,
        beta: f64,
        alpha: f64,
    ) -> Result<Tensor> {
        let p = batch1.bmm(batch2).map_err(|e| rename(e, "baddbmm"))?;
        add_scaled("baddbmm", self, p, beta, alpha)
    }
}

/// Errors from an inner op reported under the name the user called.
fn rename(e: Error, op: &'static str) -> Error {
    match e {
        Error::Shape { msg, op: inner } => Error::Shape {
            op,
            msg: format!("{inner}: {msg}"),
        },
        Error::DType { msg, op: inner } => Error::DType {
            op,
            msg: format!("{inner}: {msg}"),
        },
        other => other,
    }
}
