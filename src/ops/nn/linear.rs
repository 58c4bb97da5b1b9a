//! Affine maps: `linear` (x W^T + b) and `bilinear` (x1^T A x2 + b), on the GEMM.

use crate::error::{Error, Result};
use crate::tensor::Tensor;

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
