//! In-place forms of elementwise ops (`pow_`, `clamp_`, `exp_`, `neg_`, `masked_fill_`, ...).
//! All go through `update_with`: version bump, autograd recording on non-leaves, refusal on
//! leaves that require grad while recording, and no float results written into int tensors.

use crate::dtype::Scalar;
use crate::error::Result;
use crate::tensor::Tensor;

impl Tensor {
    /// `self = f(self)` for a unary op.
    pub fn apply_unary_(
        &self,
        op: &'static str,
        f: impl Fn(&Tensor) -> Result<Tensor>,
    ) -> Result<&Tensor> {
        let none = Tensor::scalar_of(Scalar::Int(0), self.dtype());
        self.update_with(op, &none, |a, _| f(a))
    }

    pub fn exp_(&self) -> Result<&Tensor> {
        self.apply_unary_("exp_", |a| a.exp())
    }

    pub fn neg_(&self) -> Result<&Tensor> {
        self.apply_unary_("neg_", |a| a.neg())
    }

    pub fn pow_(&self, exponent: &Tensor) -> Result<&Tensor> {
        self.update_with("pow_", exponent, |a, b| a.pow(b))
    }

    pub fn pow_scalar_(&self, exponent: impl Into<Scalar>) -> Result<&Tensor> {
        let e = exponent.into();
        self.apply_unary_("pow_", move |a| a.pow_scalar(e))
    }

    pub fn clamp_(&self, min: Option<Scalar>, max: Option<Scalar>) -> Result<&Tensor> {
        self.apply_unary_("clamp_", move |a| a.clamp(min, max))
    }

    pub fn clamp_tensor_(&self, min: Option<&Tensor>, max: Option<&Tensor>) -> Result<&Tensor> {
        // Bounds join the recorded op through the closure; check_inplace sees the first.
        let probe = min
            .or(max)
            .cloned()
            .unwrap_or_else(|| Tensor::scalar_of(Scalar::Int(0), self.dtype()));
        self.update_with("clamp_", &probe, |a, _| a.clamp_tensor(min, max))
    }

    pub fn masked_fill_(&self, mask: &Tensor, value: impl Into<Scalar>) -> Result<&Tensor> {
        let v = value.into();
        self.update_with("masked_fill_", mask, move |a, m| a.where_mask(m, v))
    }

    /// `masked_fill_` with a 0-d tensor value (recorded when the value requires grad).
    pub fn masked_fill_tensor_(&self, mask: &Tensor, value: &Tensor) -> Result<&Tensor> {
        self.update_with("masked_fill_", value, |a, v| a.masked_fill_tensor(mask, v))
    }
}
