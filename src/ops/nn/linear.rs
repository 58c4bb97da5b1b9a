//! Affine maps: `linear` (x W^T + b, one fused `addmm` GEMM pass with the bias) and
//! `bilinear` (x1^T A x2 + b), on the GEMM.

use crate::autograd::saved::SavedTensor;
use crate::error::{Error, Result};
use crate::kernels::matmul::{MatRef, addmm};
use crate::ops::record;
use crate::tensor::Tensor;
use crate::with_float;

/// `x2 @ w^T + bias` for a 2-D `x2` and `w`, everything one float dtype: the weight is read
/// transposed through its strides and the bias is the GEMM's initial output.
fn linear_fused(x2: &Tensor, w: &Tensor, bias: Option<&Tensor>) -> Result<Tensor> {
    let (m, k, n) = (x2.shape()[0], x2.shape()[1], w.shape()[0]);
    let (xl, wl) = (x2.layout(), w.layout());
    let a_mat = MatRef {
        offset: xl.offset,
        rs: xl.strides[0],
        cs: xl.strides[1],
    };
    let b_mat = MatRef {
        offset: wl.offset,
        rs: wl.strides[1],
        cs: wl.strides[0],
    };
    let out = with_float!(x2.dtype(), T => {
        let bias_v: Option<Vec<T>> = bias.map(|b| b.to_vec::<T>()).transpose()?;
        let (xb, wb) = (x2.storage().read(), w.storage().read());
        let v = addmm(bias_v.as_deref(), T::slice(&xb), a_mat, T::slice(&wb), b_mat, m, k, n);
        Tensor::from_buffer_vec(v, &[m, n])
    }, _ => unreachable!("checked float"));
    let inputs: Vec<&Tensor> = match bias {
        Some(b) => vec![x2, w, b],
        None => vec![x2, w],
    };
    if !crate::ops::will_record(&inputs) {
        return Ok(out);
    }
    let save_x = if w.requires_grad() {
        Some(SavedTensor::new(x2)?)
    } else {
        None
    };
    let save_w = if x2.requires_grad() {
        Some(SavedTensor::new(w)?)
    } else {
        None
    };
    let has_bias = bias.is_some();
    record(out, "AddmmBackward", &inputs, move |_| {
        Ok(move |g: &Tensor, needs: &[bool]| {
            let gx = match (&save_w, needs[0]) {
                (Some(w), true) => Some(g.matmul(&w.get()?)?),
                _ => None,
            };
            let gw = match (&save_x, needs[1]) {
                (Some(x), true) => Some(g.t()?.matmul(&x.get()?)?),
                _ => None,
            };
            let mut out: crate::autograd::node::Grads = [gx, gw].into_iter().collect();
            if has_bias {
                out.push(if needs[2] {
                    Some(g.sum_dims(Some(&[0]), false)?)
                } else {
                    None
                });
            }
            Ok(out)
        })
    })
}

impl Tensor {
    /// `x @ weight^T + bias` for `x` of shape `[..., in]`, weight `[out, in]`, bias `[out]`.
    pub fn linear(&self, weight: &Tensor, bias: Option<&Tensor>) -> Result<Tensor> {
        const OP: &str = "linear";
        if weight.ndim() != 2 && weight.ndim() != 1 {
            return Err(Error::shape(
                OP,
                format!("weight must be 1D or 2D, got shape {:?}", weight.shape()),
            ));
        }
        if self.ndim() == 0 {
            return Err(Error::shape(OP, "input must have at least 1 dimension"));
        }
        let fusable = weight.ndim() == 2
            && self.dtype().is_float()
            && self.dtype() == weight.dtype()
            && bias.is_none_or(|b| b.dtype() == self.dtype() && b.shape() == [weight.shape()[0]]);
        if fusable {
            let k = weight.shape()[1];
            let last = self.shape()[self.ndim() - 1];
            if last != k {
                let rows: usize = self.shape()[..self.ndim() - 1].iter().product();
                return Err(Error::shape(
                    OP,
                    format!(
                        "mat1 and mat2 shapes cannot be multiplied ({rows}x{last} and {k}x{}); input {:?}, weight {:?}",
                        weight.shape()[0],
                        self.shape(),
                        weight.shape()
                    ),
                ));
            }
            if self.ndim() == 2 {
                return linear_fused(self, weight, bias);
            }
            let x2 = self.reshape(&[-1, k as isize])?;
            let y = linear_fused(&x2, weight, bias)?;
            let mut shape = self.shape()[..self.ndim() - 1].to_vec();
            shape.push(weight.shape()[0]);
            return y.reshape_to(&shape);
        }
        let wt = if weight.ndim() == 2 {
            weight.t()?
        } else {
            weight.clone()
        };
        let y = self.matmul(&wt)?;
        match bias {
            Some(b) => y.add(b),
            None => Ok(y),
        }
    }

    /// `y[..., o] = sum_ij x1[..., i] A[o, i, j] x2[..., j] + b[o]`.
    pub fn bilinear(&self, x2: &Tensor, weight: &Tensor, bias: Option<&Tensor>) -> Result<Tensor> {
        const OP: &str = "bilinear";
        if weight.ndim() != 3 {
            return Err(Error::shape(
                OP,
                format!(
                    "weight must be 3D [out, in1, in2], got {:?}",
                    weight.shape()
                ),
            ));
        }
        let (o, i1, i2) = (weight.shape()[0], weight.shape()[1], weight.shape()[2]);
        if self.ndim() == 0
            || x2.ndim() == 0
            || self.shape()[..self.ndim() - 1] != x2.shape()[..x2.ndim() - 1]
        {
            return Err(Error::shape(
                OP,
                format!(
                    "input1 {:?} and input2 {:?} must have the same batch dims",
                    self.shape(),
                    x2.shape()
                ),
            ));
        }
        if self.shape()[self.ndim() - 1] != i1 || x2.shape()[x2.ndim() - 1] != i2 {
            return Err(Error::shape(
                OP,
                format!(
                    "input1 {:?} and input2 {:?} do not match the weight's in1_features={i1} and in2_features={i2}",
                    self.shape(),
                    x2.shape()
                ),
            ));
        }
        let batch = self.shape()[..self.ndim() - 1].to_vec();
        let a = self.reshape(&[-1, i1 as isize])?; // [B, i1]
        let b = x2.reshape(&[-1, i2 as isize])?; // [B, i2]
        // t[o, B, j] = sum_i a[B, i] A[o, i, j]
        let t = a.unsqueeze(0)?.matmul(weight)?;
        let y = t.mul(&b.unsqueeze(0)?)?.sum_dims(Some(&[-1]), false)?.t()?; // [B, o]
        let y = match bias {
            Some(bias) => y.add(bias)?,
            None => y,
        };
        let mut shape = batch;
        shape.push(o);
        y.reshape_to(&shape)
    }
}
