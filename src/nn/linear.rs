//! Fully connected layer.

use super::Module;
use super::init::{default_bound, uniform_param};
use crate::error::{Error, Result};
use crate::tensor::Tensor;

/// `y = x W^T + b`, initialised like torch.nn.Linear (kaiming-uniform with a = sqrt(5), so
/// weights and bias are uniform in +-1/sqrt(in_features)).
pub struct Linear {
    pub weight: Tensor,
    pub bias: Option<Tensor>,
}

impl Linear {
    pub fn new(in_features: usize, out_features: usize, bias: bool) -> Result<Linear> {
        let bound = default_bound(in_features);
        let weight = uniform_param(&[out_features, in_features], bound)?;
        let bias = if bias {
            Some(uniform_param(&[out_features], bound)?)
        } else {
            None
        };
        Ok(Linear { weight, bias })
    }
}

impl Module for Linear {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let in_f = self.weight.shape()[1];
        if x.ndim() == 0 || x.shape()[x.ndim() - 1] != in_f {
            return Err(Error::shape(
                "Linear",
                format!(
                    "input shape {:?} does not end in in_features={in_f}",
                    x.shape()
                ),
            ));
        }
        x.linear(&self.weight, self.bias.as_ref())
    }
    fn named_parameters(&self) -> Vec<(String, Tensor)> {
        let mut v = vec![("weight".to_string(), self.weight.clone())];
        if let Some(b) = &self.bias {
            v.push(("bias".to_string(), b.clone()));
        }
        v
    }
}
