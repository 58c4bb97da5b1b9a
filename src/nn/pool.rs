//! Pooling layers: no parameters, just the window options.

use super::{Module, Pair};
use crate::error::Result;
use crate::ops::nn::pool::PoolArgs;
use crate::tensor::Tensor;

/// torch.nn.MaxPool2d over the last two dims of `[N, C, H, W]` or `[C, H, W]`. `stride`
/// defaults to the kernel size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MaxPool2d {
    pub kernel_size: [usize; 2],
    pub stride: [usize; 2],
    pub padding: [usize; 2],
    pub dilation: [usize; 2],
    pub ceil_mode: bool,
}

impl MaxPool2d {
    pub fn new(kernel_size: impl Pair) -> MaxPool2d {
        let k = kernel_size.pair();
        MaxPool2d {
            kernel_size: k,
            stride: k,
            padding: [0, 0],
            dilation: [1, 1],
            ceil_mode: false,
        }
    }
    pub fn stride(mut self, s: impl Pair) -> Self {
        self.stride = s.pair();
        self
    }
    pub fn padding(mut self, p: impl Pair) -> Self {
        self.padding = p.pair();
        self
    }
    pub fn dilation(mut self, d: impl Pair) -> Self {
        self.dilation = d.pair();
        self
    }
    pub fn ceil_mode(mut self, c: bool) -> Self {
        self.ceil_mode = c;
        self
    }
}

impl Module for MaxPool2d {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let args = PoolArgs {
            kernel: self.kernel_size,
            stride: self.stride,
            padding: self.padding,
            dilation: self.dilation,
            ceil_mode: self.ceil_mode,
        };
        Ok(x.max_pool2d_with_indices(&args)?.0)
    }
}

/// torch.nn.AvgPool2d: `stride` defaults to the kernel size; zero padding counts towards
/// the divisor unless `count_include_pad` is false; `divisor_override` replaces it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AvgPool2d {
    pub kernel_size: [usize; 2],
    pub stride: [usize; 2],
    pub padding: [usize; 2],
    pub ceil_mode: bool,
    pub count_include_pad: bool,
    pub divisor_override: Option<i64>,
}

impl AvgPool2d {
    pub fn new(kernel_size: impl Pair) -> AvgPool2d {
        let k = kernel_size.pair();
        AvgPool2d {
            kernel_size: k,
            stride: k,
            padding: [0, 0],
            ceil_mode: false,
            count_include_pad: true,
            divisor_override: None,
        }
    }
    pub fn stride(mut self, s: impl Pair) -> Self {
        self.stride = s.pair();
        self
    }
    pub fn padding(mut self, p: impl Pair) -> Self {
        self.padding = p.pair();
        self
    }
    pub fn ceil_mode(mut self, c: bool) -> Self {
        self.ceil_mode = c;
        self
    }
    pub fn count_include_pad(mut self, c: bool) -> Self {
        self.count_include_pad = c;
        self
    }
    pub fn divisor_override(mut self, d: Option<i64>) -> Self {
        self.divisor_override = d;
        self
    }
}

impl Module for AvgPool2d {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let args = PoolArgs {
            kernel: self.kernel_size,
            stride: self.stride,
            padding: self.padding,
            dilation: [1, 1],
            ceil_mode: self.ceil_mode,
        };
        x.avg_pool(&args, self.count_include_pad, self.divisor_override, false)
    }
}
