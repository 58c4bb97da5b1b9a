//! Flatten as a layer, the glue between convolutional and fully connected parts.

use super::Module;
use crate::error::Result;
use crate::tensor::Tensor;

/// torch.nn.Flatten: merges dims `start_dim..=end_dim` (default 1..=-1, keeping the batch
/// dim). `Flatten::default()` is PyTorch's `Flatten()`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Flatten {
    pub start_dim: isize,
    pub end_dim: isize,
}

impl Default for Flatten {
    fn default() -> Self {
        Flatten {
            start_dim: 1,
            end_dim: -1,
        }
    }
}

impl Flatten {
    pub fn new(start_dim: isize, end_dim: isize) -> Flatten {
        Flatten { start_dim, end_dim }
    }
}

impl Module for Flatten {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        x.flatten(self.start_dim, self.end_dim)
    }
}
