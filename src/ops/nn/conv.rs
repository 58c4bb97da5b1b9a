//! Convolutions as GEMMs over im2col columns: `unfold` (im2col) and `fold` (col2im) are ops
//! with each other as backward, and conv1d/conv2d/conv_transpose2d are a batched matmul of
//! the weight with those columns, so their gradients come from the matmul and fold/unfold
//! rules.

use crate::error::{Error, Result};
use crate::kernels::conv::{Window2d, col2im, im2col};
use crate::ops::{grads, record};
use crate::tensor::Tensor;
use crate::with_float;

/// Geometry of a 2-D sliding window: `padding` is (top, bottom, left, right).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Conv2dGeometry {
    pub kernel: [usize; 2],
    pub stride: [usize; 2],
    pub padding: [usize; 4],
    pub dilation: [usize; 2],
}

impl Conv2dGeometry {
    pub fn symmetric(
        kernel: [usize; 2],
        stride: [usize; 2],
        padding: [usize; 2],
        dilation: [usize; 2],
    ) -> Self {
        Conv2dGeometry {
            kernel,
            stride,
            padding: [padding[0], padding[0], padding[1], padding[1]],
            dilation,
        }
    }

    /// The window over an `h x w` input, checking every size.
    pub fn window(&self, op: &'static str, h: usize, w: usize) -> Result<Window2d> {
        let [kh, kw] = self.kernel;
        let [sh, sw] = self.stride;
        let [dh, dw] = self.dilation;
        if kh == 0 || kw == 0 || sh == 0 || sw == 0 || dh == 0 || dw == 0 {
            return Err(Error::invalid(
                op,
                format!(
                    "kernel size, stride and dilation must be positive, got kernel {:?}, stride {:?}, dilation {:?}",
                    self.kernel, self.stride, self.dilation
                ),
            ));
        }
        let out = |n: usize, p0: usize, p1: usize, k: usize, s: usize, d: usize| -> Result<usize> {
            let span = d * (k - 1) + 1;
            let padded = n + p0 + p1;
            if padded < span {
                return Err(Error::shape(
                    op,
                    format!(
                        "input size ({h}x{w}, padded by {:?}) is smaller than the kernel's extent ({}x{}): kernel size can't be greater than actual input size",
                        self.padding,
                        dh * (kh - 1) + 1,
                        dw * (kw - 1) + 1
                    ),
                ));
            }
            Ok((padded - span) / s + 1)
        };
        let oh = out(h, self.padding[0], self.padding[1], kh, sh, dh)?;
        let ow = out(w, self.padding[2], self.padding[3], kw, sw, dw)?;
        Ok(Window2d {
            h,
            w,
            kh,
            kw,
            sh,
            sw,
            pad_top: self.padding[0],
            pad_left: self.padding[2],
            dh,
            dw,
            oh,
            ow,
        })
    }
}

fn check_float(op: &'static str, t: &Tensor) -> Result<()> {
    if !t.dtype().is_float() {
        return Err(Error::dtype(
            op,
            format!("expected a floating point tensor, got {}", t.dtype()),
        ));
    }
    Ok(())
}

/// `[N, C, H, W]` -> `[N, C*kh*kw, L]`.
fn im2col_op(x: &Tensor, win: Window2d) -> Result<Tensor> {
    let (n, c) = (x.shape()[0], x.shape()[1]);
    let out = with_float!(x.dtype(), T => {
        let v = x.with_contiguous(|s: &[T]| im2col(s, n * c, &win))?;
        Tensor::from_buffer_vec(v, &[n, c * win.k(), win.l()])
    }, _ => unreachable!());
    record(out, "Im2ColBackward", &[x], move |_| {
        Ok(move |g: &Tensor, _: &[bool]| Ok(grads([Some(col2im_op(g, c, win)?)])))
    })
}

/// `[N, C*kh*kw, L]` -> `[N, C, H, W]` (overlapping taps add up).
fn col2im_op(cols: &Tensor, c: usize, win: Window2d) -> Result<Tensor> {
    let n = cols.shape()[0];
    let out = with_float!(cols.dtype(), T => {
        let v = cols.with_contiguous(|s: &[T]| col2im(s, n * c, &win))?;
        Tensor::from_buffer_vec(v, &[n, c, win.h, win.w])
    }, _ => unreachable!());
    record(out, "Col2ImBackward", &[cols], move |_| {
        Ok(move |g: &Tensor, _: &[bool]| Ok(grads([Some(im2col_op(g, win)?)])))
    })
}

/// Runs `f` on a batched view of `x`, adding a batch dim to an unbatched input of rank
/// `batched_rank - 1` and removing it from the result.
fn batched(
    op: &'static str,
    x: &Tensor,
    batched_rank: usize,
    f: impl FnOnce(&Tensor) -> Result<Tensor>,
) -> Result<Tensor> {
    if x.ndim() == batched_rank {
        f(x)
    } else if x.ndim() + 1 == batched_rank {
        f(&x.unsqueeze(0)?)?.squeeze_dims(&[0])
    } else {
        Err(Error::shape(
            op,
            format!(
                "expected {}D (unbatched) or {batched_rank}D (batched) input, but got input of size: {:?}",
                batched_rank - 1,
                x.shape()
            ),
        ))
    }
}

impl Tensor {
    /// Sliding local blocks (`F.unfold`): `[N, C, H, W]` -> `[N, C*kh*kw, L]`.
    pub fn unfold2d(&self, geom: &Conv2dGeometry) -> Result<Tensor> {
        const OP: &str = "unfold";
        check_float(OP, self)?;
        batched(OP, self, 4, |x| {
            let win = geom.window(OP, x.shape()[2], x.shape()[3])?;
            im2col_op(x, win)
        })
    }

    /// Sums sliding local blocks back into an image (`F.fold`): `[N, C*kh*kw, L]` ->
    /// `[N, C, H, W]` with `(H, W) = output_size`.
    pub fn fold2d(&self, output_size: [usize; 2], geom: &Conv2dGeometry) -> Result<Tensor> {
        const OP: &str = "fold";
        check_float(OP, self)?;
        batched(OP, self, 3, |x| {
            let win = geom.window(OP, output_size[0], output_size[1])?;
            let (ck, l) = (x.shape()[1], x.shape()[2]);
            if ck % win.k() != 0 {
                return Err(Error::shape(
                    OP,
                    format!(
                        "expected size of input's dimension 1 to be divisible by the product of kernel_size ({}), but got input.size(1)={ck}",
                        win.k()
                    ),
                ));
            }
            if l != win.l() {
                return Err(Error::shape(
                    OP,
                    format!(
                        "given output_size={output_size:?}, kernel_size={:?}, dilation={:?}, padding={:?}, stride={:?}, expected size of input's dimension 2 to match the calculated number of sliding blocks {} * {} = {}, but got input.size(2)={l}",
                        geom.kernel,
                        geom.dilation,
                        geom.padding,
                        geom.stride,
                        win.oh,
                        win.ow,
                        win.l()
                    ),
                ));
            }
            col2im_op(x, ck / win.k(), win)
        })
    }

    /// 2-D convolution (cross-correlation, as in PyTorch): input `[N, C, H, W]` (or
    /// unbatched `[C, H, W]`), weight `[O, C/groups, kh, kw]`, optional bias `[O]`.
    pub fn conv2d(
        &self,
        weight: &Tensor,
        bias: Option<&Tensor>,
        stride: [usize; 2],
        padding: [usize; 4],
        dilation: [usize; 2],
        groups: usize,
    ) -> Result<Tensor> {
        const OP: &str = "conv2d";
        check_conv_args(OP, self, weight, bias, groups, 4)?;
        batched(OP, self, 4, |x| {
            let (n, c, h, w) = (x.shape()[0], x.shape()[1], x.shape()[2], x.shape()[3]);
            let (o, cg, kh, kw) = (
                weight.shape()[0],
                weight.shape()[1],
                weight.shape()[2],
                weight.shape()[3],
            );
            if cg * groups != c {
                return Err(Error::shape(
                    OP,
                    format!(
                        "Given groups={groups}, weight of size {:?}, expected input{:?} to have {} channels, but got {c} channels instead",
                        weight.shape(),
                        x.shape(),
                        cg * groups
                    ),
                ));
            }
            let geom = Conv2dGeometry {
                kernel: [kh, kw],
                stride,
                padding,
                dilation,
            };
            let win = geom.window(OP, h, w)?;
            let g = groups as isize;
            let k = (cg * kh * kw) as isize;
            // [N, g, C/g*K, L]; weight [g, O/g, C/g*K]; product [N, g, O/g, L]
            let cols = im2col_op(x, win)?.reshape(&[n as isize, g, k, win.l() as isize])?;
            let wm = weight.reshape(&[g, (o / groups) as isize, k])?;
            let mut y = wm.matmul(&cols)?.reshape_to(&[n, o, win.oh, win.ow])?;
            if let Some(b) = bias {
                y = y.add(&b.reshape_to(&[1, o, 1, 1])?)?;
            }
            Ok(y)
        })
    }

    /// 1-D convolution: input `[N, C, L]` (or `[C, L]`), weight `[O, C/groups, k]`.
    pub fn conv1d(
        &self,
        weight: &Tensor,
        bias: Option<&Tensor>,
        stride: usize,
        padding: [usize; 2],
        dilation: usize,
        groups: usize,
    ) -> Result<Tensor> {
        const OP: &str = "conv1d";
        check_conv_args(OP, self, weight, bias, groups, 3)?;
        batched(OP, self, 3, |x| {
            let y = x.unsqueeze(2)?.conv2d(
                &weight.unsqueeze(2)?,
                bias,
                [1, stride],
                [0, 0, padding[0], padding[1]],
                [1, dilation],
                groups,
            )?;
            y.squeeze_dims(&[2])
        })
    }

    /// Transposed 2-D convolution (the gradient of conv2d with respect to its input):
    /// input `[N, C, H, W]`, weight `[C, O/groups, kh, kw]`.
    #[allow(clippy::too_many_arguments)]
    pub fn conv_transpose2d(
        &self,
        weight: &Tensor,
        bias: Option<&Tensor>,
        stride: [usize; 2],
        padding: [usize; 2],
        output_padding: [usize; 2],
        groups: usize,
        dilation: [usize; 2],
    ) -> Result<Tensor> {
        const OP: &str = "conv_transpose2d";
        check_conv_args(OP, self, weight, bias, groups, 4)?;
        batched(OP, self, 4, |x| {
            let (n, c, h, w) = (x.shape()[0], x.shape()[1], x.shape()[2], x.shape()[3]);
            let (cw, og, kh, kw) = (
                weight.shape()[0],
                weight.shape()[1],
                weight.shape()[2],
                weight.shape()[3],
            );
            if cw != c {
                return Err(Error::shape(
                    OP,
                    format!(
                        "Given transposed=1, weight of size {:?}, expected input{:?} to have {cw} channels, but got {c} channels instead",
                        weight.shape(),
                        x.shape()
                    ),
                ));
            }
            for d in 0..2 {
                if output_padding[d] >= stride[d].max(dilation[d]) {
                    return Err(Error::invalid(
                        OP,
                        format!(
                            "output padding must be smaller than either stride or dilation, but got output_padding={output_padding:?}, stride={stride:?}, dilation={dilation:?}"
                        ),
                    ));
                }
            }
            if stride.contains(&0) || dilation.contains(&0) {
                return Err(Error::invalid(OP, "stride and dilation must be positive"));
            }
            let size = |i: usize, d: usize, k: usize| -> Result<usize> {
                let full = (i - 1) * stride[d] + dilation[d] * (k - 1) + output_padding[d] + 1;
                full.checked_sub(2 * padding[d]).filter(|&s| s > 0).ok_or_else(|| {
                    Error::shape(OP, format!("the output size for input {:?} with padding {padding:?} would be empty or negative", x.shape()))
                })
            };
            let (ho, wo) = (size(h, 0, kh)?, size(w, 1, kw)?);
            let o = og * groups;
            let g = groups as isize;
            // weight [g, C/g, O/g*K]^T @ x [N, g, C/g, H*W] -> columns [N, g, O/g*K, H*W]
            let wm = weight
                .reshape(&[g, (c / groups) as isize, (og * kh * kw) as isize])?
                .transpose(-1, -2)?;
            let xm = x.reshape(&[n as isize, g, (c / groups) as isize, (h * w) as isize])?;
            let cols = wm.matmul(&xm)?.reshape_to(&[n, o * kh * kw, h * w])?;
            let geom = Conv2dGeometry::symmetric([kh, kw], stride, padding, dilation);
            let win = geom.window(OP, ho, wo)?;
            debug_assert_eq!(win.l(), h * w);
            let mut y = col2im_op(&cols, o, win)?;
            if let Some(b) = bias {
                y = y.add(&b.reshape_to(&[1, o, 1, 1])?)?;
            }
            Ok(y)
        })
    }
}

fn check_conv_args(
    op: &'static str,
    x: &Tensor,
    weight: &Tensor,
    bias: Option<&Tensor>,
    groups: usize,
    rank: usize,
) -> Result<()> {
    check_float(op, x)?;
    if weight.ndim() != rank {
        return Err(Error::shape(
            op,
            format!(
                "expected {rank}D weight, got weight of size {:?}",
                weight.shape()
            ),
        ));
    }
    if groups == 0 {
        return Err(Error::invalid(op, "non-positive groups is not supported"));
    }
    let transposed = op.contains("transpose");
    let channels_out = if transposed {
        weight.shape()[1] * groups
    } else {
        weight.shape()[0]
    };
    if !weight.shape()[0].is_multiple_of(groups) {
        return Err(Error::shape(
            op,
            format!(
                "weight of size {:?} has a channel count not divisible by groups={groups}",
                weight.shape()
            ),
        ));
    }
    if x.dtype() != weight.dtype() {
        return Err(Error::dtype(
            op,
            format!(
                "Input type ({}) and weight type ({}) should be the same",
                x.dtype(),
                weight.dtype()
            ),
        ));
    }
    if let Some(b) = bias {
        if b.dtype() != x.dtype() {
            return Err(Error::dtype(
                op,
                format!(
                    "Input type ({}) and bias type ({}) should be the same",
                    x.dtype(),
                    b.dtype()
                ),
            ));
        }
        if b.shape() != [channels_out] {
            return Err(Error::shape(
                op,
                format!(
                    "expected bias of shape [{channels_out}], got {:?}",
                    b.shape()
                ),
            ));
        }
    }
    if x.shape().contains(&0) && x.ndim() == rank && x.shape()[0] != 0 {
        return Err(Error::shape(
            op,
            format!("expected non-empty input, got size {:?}", x.shape()),
        ));
    }
    Ok(())
}
