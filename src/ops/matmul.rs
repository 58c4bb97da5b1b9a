//! Matrix products with PyTorch's rank rules: 1-D operands gain and then lose a dim, batch
//! dims broadcast. Computed by the GEMM in kernels/matmul.rs.

use super::{grads, record, will_record};
use crate::autograd::saved::SavedTensor;
use crate::error::{Error, Result};
use crate::kernels::matmul::{MatRef, matmul as gemm_batched};
use crate::kernels::strided::for_each_offset;
use crate::shape::{Layout, broadcast_shapes};
use crate::tensor::Tensor;

fn batch_offsets(l: &Layout) -> Vec<usize> {
    let nd = l.ndim();
    let batch = Layout {
        shape: l.shape[..nd - 2].into(),
        strides: l.strides[..nd - 2].into(),
        offset: 0,
    };
    let mut v = Vec::with_capacity(batch.numel());
    for_each_offset(&batch, |o| v.push(o));
    v
}

/// The product of two tensors of rank >= 2 (batch dims broadcast).
fn matmul_nd(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    let (ra, rb) = (a.ndim(), b.ndim());
    let (m, k) = (a.shape()[ra - 2], a.shape()[ra - 1]);
    let (k2, n) = (b.shape()[rb - 2], b.shape()[rb - 1]);
    if k != k2 {
        return Err(Error::shape(
            "matmul",
            format!(
                "mat1 and mat2 shapes cannot be multiplied ({m}x{k} and {k2}x{n}); operand shapes {:?} and {:?}",
                a.shape(),
                b.shape()
            ),
        ));
    }
    let batch = broadcast_shapes("matmul", &a.shape()[..ra - 2], &b.shape()[..rb - 2])?;
    let mut sa = batch.clone();
    sa.extend([m, k]);
    let mut sb = batch.clone();
    sb.extend([k, n]);
    let la = a.layout().broadcast_to(&sa).expect("batch dims broadcast");
    let lb = b.layout().broadcast_to(&sb).expect("batch dims broadcast");
    let (ao, bo) = (batch_offsets(&la), batch_offsets(&lb));
    let am = MatRef {
        offset: la.offset,
        rs: la.strides[ra.max(rb) - 2],
        cs: la.strides[ra.max(rb) - 1],
    };
    let bm = MatRef {
        offset: lb.offset,
        rs: lb.strides[ra.max(rb) - 2],
        cs: lb.strides[ra.max(rb) - 1],
    };
    let mut out_shape = batch.clone();
    out_shape.extend([m, n]);
    let out = match a.dtype() {
        crate::DType::F32 => {
            let (x, y) = (a.storage().read(), b.storage().read());
            Tensor::from_buffer_vec(
                gemm_batched(f32_slice(&x), am, &ao, f32_slice(&y), bm, &bo, m, k, n),
                &out_shape,
            )
        }
        crate::DType::F64 => {
            let (x, y) = (a.storage().read(), b.storage().read());
            Tensor::from_buffer_vec(
                gemm_batched(f64_slice(&x), am, &ao, f64_slice(&y), bm, &bo, m, k, n),
                &out_shape,
            )
        }
        crate::DType::I64 => {
            let (x, y) = (a.storage().read(), b.storage().read());
            Tensor::from_buffer_vec(
                int_matmul(i64_slice(&x), am, &ao, i64_slice(&y), bm, &bo, m, k, n),
                &out_shape,
            )
        }
        crate::DType::Bool => {
            return Err(Error::dtype(
                "matmul",
                "matmul is not implemented for bool tensors",
            ));
        }
    };
    if !will_record(&[a, b]) {
        return Ok(super::untracked(out, &[a, b]));
    }
    let save_a = if b.requires_grad() {
        Some(SavedTensor::new(a)?)
    } else {
        None
    };
    let save_b = if a.requires_grad() {
        Some(SavedTensor::new(b)?)
    } else {
        None
    };
    let (shape_a, shape_b) = (a.shape().to_vec(), b.shape().to_vec());
    record(out, "MmBackward", &[a, b], move |_| {
        Ok(move |g: &Tensor, needs: &[bool]| {
            let ga = match (&save_b, needs[0]) {
                (Some(b), true) => {
                    Some(matmul_nd(g, &b.get()?.transpose(-1, -2)?)?.sum_to_shape(&shape_a)?)
                }
                _ => None,
            };
            let gb = match (&save_a, needs[1]) {
                (Some(a), true) => {
                    Some(matmul_nd(&a.get()?.transpose(-1, -2)?, g)?.sum_to_shape(&shape_b)?)
                }
                _ => None,
            };
            Ok(grads([ga, gb]))
        })
    })
}

fn i64_slice(b: &crate::storage::Buffer) -> &[i64] {
    <i64 as crate::dtype::Element>::slice(b)
}

/// Integer products (no GEMM for int64): wrapping, like PyTorch's int matmul.
#[allow(clippy::too_many_arguments)]
fn int_matmul(
    a: &[i64],
    am: MatRef,
    ao: &[usize],
    b: &[i64],
    bm: MatRef,
    bo: &[usize],
    m: usize,
    k: usize,
    n: usize,
) -> Vec<i64> {
    let mut out = vec![0i64; ao.len() * m * n];
    for (bi, (&oa, &ob)) in ao.iter().zip(bo).enumerate() {
        for i in 0..m {
            let row = &mut out[(bi * m + i) * n..(bi * m + i + 1) * n];
            for p in 0..k {
                let x = a[am.offset + oa + i * am.rs + p * am.cs];
                for (j, o) in row.iter_mut().enumerate() {
                    *o = o.wrapping_add(x.wrapping_mul(b[bm.offset + ob + p * bm.rs + j * bm.cs]));
                }
            }
        }
    }
    out
}

fn f32_slice(b: &crate::storage::Buffer) -> &[f32] {
    <f32 as crate::dtype::Element>::slice(b)
}
fn f64_slice(b: &crate::storage::Buffer) -> &[f64] {
    <f64 as crate::dtype::Element>::slice(b)
}

impl Tensor {
    /// The matrix product (`@`): 1-D x 1-D is a dot product, 1-D operands are treated as a
    /// row (left) or column (right) vector, and leading batch dims broadcast.
    pub fn matmul(&self, other: &Tensor) -> Result<Tensor> {
        let (ra, rb) = (self.ndim(), other.ndim());
        if ra == 0 || rb == 0 {
            return Err(Error::shape(
                "matmul",
                format!(
                    "both arguments to matmul need to be at least 1D, but they are {ra}D and {rb}D"
                ),
            ));
        }
        if self.dtype() != other.dtype() {
            return Err(Error::dtype(
                "matmul",
                format!(
                    "expected both operands to have the same dtype, but got {} and {}",
                    self.dtype(),
                    other.dtype()
                ),
            ));
        }
        let a = if ra == 1 {
            self.unsqueeze(0)?
        } else {
            self.clone()
        };
        let b = if rb == 1 {
            other.unsqueeze(-1)?
        } else {
            other.clone()
        };
        let mut out = matmul_nd(&a, &b)?;
        if rb == 1 {
            out = out.squeeze_dims(&[-1])?;
        }
        if ra == 1 {
            out = out.squeeze_dims(&[if rb == 1 { -1 } else { -2 }])?;
        }
        Ok(out)
    }
}
