//! 2-D convolution layer over the `conv2d` op (im2col + batched matmul).

use super::init::{default_bound, uniform_param};
use super::{Module, Pair};
use crate::error::{Error, Result};
use crate::tensor::Tensor;

/// Options of [`Conv2d`] besides the channel counts and kernel size, with PyTorch's
/// defaults (stride 1, no padding, dilation 1, one group, with bias). Setters take a
/// single number (both axes) or a `[height, width]` pair:
/// `Conv2dConfig::default().stride(2).padding([1, 0])`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Conv2dConfig {
    pub stride: [usize; 2],
    pub padding: [usize; 2],
    pub dilation: [usize; 2],
    pub groups: usize,
    pub bias: bool,
}

impl Default for Conv2dConfig {
    fn default() -> Self {
        Conv2dConfig {
            stride: [1, 1],
            padding: [0, 0],
            dilation: [1, 1],
            groups: 1,
            bias: true,
        }
    }
}

impl Conv2dConfig {
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
    pub fn groups(mut self, g: usize) -> Self {
        self.groups = g;
        self
    }
    pub fn bias(mut self, b: bool) -> Self {
        self.bias = b;
        self
    }
}

/// torch.nn.Conv2d: input `[N, C_in, H, W]` (or unbatched `[C_in, H, W]`), weight
/// `[C_out, C_in / groups, kh, kw]`, bias `[C_out]`. Weight and bias start uniform in
/// +-1/sqrt(fan_in) with `fan_in = C_in / groups * kh * kw` (PyTorch's kaiming-uniform with
/// a = sqrt(5)).
pub struct Conv2d {
    pub weight: Tensor,
    pub bias: Option<Tensor>,
    pub stride: [usize; 2],
    pub padding: [usize; 2],
    pub dilation: [usize; 2],
    pub groups: usize,
}

impl Conv2d {
    pub fn new(
        in_channels: usize,
        out_channels: usize,
        kernel_size: impl Pair,
        config: Conv2dConfig,
    ) -> Result<Conv2d> {
        const OP: &str = "Conv2d";
        let kernel = kernel_size.pair();
        let Conv2dConfig {
            stride,
            padding,
            dilation,
            groups,
            bias,
        } = config;
        if groups == 0 {
            return Err(Error::invalid(OP, "groups must be a positive integer"));
        }
        if !in_channels.is_multiple_of(groups) {
            return Err(Error::invalid(
                OP,
                format!(
                    "in_channels must be divisible by groups (in_channels={in_channels}, groups={groups})"
                ),
            ));
        }
        if !out_channels.is_multiple_of(groups) {
            return Err(Error::invalid(
                OP,
                format!(
                    "out_channels must be divisible by groups (out_channels={out_channels}, groups={groups})"
                ),
            ));
        }
        if kernel.contains(&0) || stride.contains(&0) || dilation.contains(&0) {
            return Err(Error::invalid(
                OP,
                format!(
                    "kernel_size, stride and dilation must be positive, got kernel_size={kernel:?}, stride={stride:?}, dilation={dilation:?}"
                ),
            ));
        }
        let fan_in = in_channels / groups * kernel[0] * kernel[1];
        let bound = default_bound(fan_in);
        let weight = uniform_param(
            &[out_channels, in_channels / groups, kernel[0], kernel[1]],
            bound,
        )?;
        let bias = if bias {
            Some(uniform_param(&[out_channels], bound)?)
        } else {
            None
        };
        Ok(Conv2d {
            weight,
            bias,
            stride,
            padding,
            dilation,
            groups,
        })
    }

    pub fn in_channels(&self) -> usize {
        self.weight.shape()[1] * self.groups
    }
    pub fn out_channels(&self) -> usize {
        self.weight.shape()[0]
    }
    pub fn kernel_size(&self) -> [usize; 2] {
        [self.weight.shape()[2], self.weight.shape()[3]]
    }
}

impl Module for Conv2d {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let [ph, pw] = self.padding;
        x.conv2d(
            &self.weight,
            self.bias.as_ref(),
            self.stride,
            [ph, ph, pw, pw],
            self.dilation,
            self.groups,
        )
    }
    fn named_parameters(&self) -> Vec<(String, Tensor)> {
        let mut v = vec![("weight".to_string(), self.weight.clone())];
        if let Some(b) = &self.bias {
            v.push(("bias".to_string(), b.clone()));
        }
        v
    }
}
