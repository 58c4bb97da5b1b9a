//! Dropout with the crate's seeded generator (`manual_seed` makes masks reproducible).

use crate::error::{Error, Result};
use crate::random::with_rng;
use crate::tensor::Tensor;
use crate::with_float;
use rand::RngExt;

impl Tensor {
    /// Zeroes each element with probability `p` and scales the rest by `1 / (1 - p)` when
    /// `training`; the identity otherwise.
    pub fn dropout(&self, p: f64, training: bool) -> Result<Tensor> {
        if !(0.0..=1.0).contains(&p) {
            return Err(Error::invalid(
                "dropout",
                format!("dropout probability has to be between 0 and 1, but got {p}"),
            ));
        }
        if !training || p == 0.0 {
            return Ok(self.clone());
        }
        if !self.dtype().is_float() {
            return Err(Error::dtype(
                "dropout",
                format!("dropout needs a floating point input, got {}", self.dtype()),
            ));
        }
        let n = self.numel();
        let scale = if p == 1.0 { 0.0 } else { 1.0 / (1.0 - p) };
        let mask = with_float!(self.dtype(), T => {
            let keep: Vec<T> = with_rng(|r| (0..n).map(|_| if r.random::<f64>() >= p { T::from_f64(scale) } else { T::ZERO }).collect());
            Tensor::from_vec(keep, self.shape())?
        }, _ => unreachable!());
        self.mul(&mask)
    }
}
