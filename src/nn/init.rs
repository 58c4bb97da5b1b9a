//! PyTorch's default initialisation for the Rust layers: fresh f32 leaves that require grad.

use crate::dtype::DType;
use crate::error::Result;
use crate::tensor::Tensor;

/// Bound of `kaiming_uniform_(w, a)` for a weight with `fan_in` inputs per output:
/// `gain * sqrt(3 / fan_in)` with `gain = sqrt(2 / (1 + a^2))` (0 for an empty fan-in).
pub fn kaiming_uniform_bound(fan_in: usize, a: f64) -> f64 {
    if fan_in == 0 {
        return 0.0;
    }
    let gain = (2.0 / (1.0 + a * a)).sqrt();
    gain * (3.0 / fan_in as f64).sqrt()
}

/// The bound PyTorch's Linear and Conv layers use for both weight and bias: kaiming-uniform
/// with `a = sqrt(5)` works out to `1 / sqrt(fan_in)`.
pub fn default_bound(fan_in: usize) -> f64 {
    if fan_in == 0 {
        0.0
    } else {
        1.0 / (fan_in as f64).sqrt()
    }
}

/// Uniform values in `[-bound, bound)`, a fresh f32 leaf that requires grad.
pub fn uniform_param(shape: &[usize], bound: f64) -> Result<Tensor> {
    let t = {
        let _off = crate::no_grad();
        Tensor::rand(shape, DType::F32)?
            .mul_scalar(2.0 * bound)?
            .sub_scalar(bound)?
    };
    t.requires_grad_(true)
}
