//! Elementwise maps over one or two inputs in any layout, writing a fresh row-major output.
//! Contiguous inputs (and the common broadcasts: a scalar, a trailing row) run as plain slice
//! loops the compiler vectorises; anything else goes through ndarray's strided iteration.

use super::strided::{contiguous_slice, view, view_mut};
use super::{ELEMENTWISE_PAR_MIN, elementwise_chunk, fill_new, for_each_chunk, parallel_for, simd};
use crate::shape::Layout;
use ndarray::{ArrayViewMutD, IxDyn, Zip};
use std::mem::MaybeUninit;

/// `f` applied to every element of `layout`, in row-major order.
pub fn map<T, U>(
    data: &[T],
    layout: &Layout,
    par_min: usize,
    f: impl Fn(T) -> U + Sync + Send,
) -> Vec<U>
where
    T: Copy + Send + Sync,
    U: Copy + Send + Sync,
{
    map_slices(data, layout, par_min, &f, |out, src| {
        simd::map(out, src, &f)
    })
}

/// `map` with a whole-slice kernel `fs` for contiguous data (a hand-vectorised loop), and `f`
/// per element otherwise.
pub fn map_slices<T, U>(
    data: &[T],
    layout: &Layout,
    par_min: usize,
    f: impl Fn(T) -> U,
    fs: impl Fn(&mut [MaybeUninit<U>], &[T]) + Sync + Send,
) -> Vec<U>
where
    T: Copy + Send + Sync,
    U: Copy + Send + Sync,
{
    let n = layout.numel();
    if let Some(src) = contiguous_slice(data, layout) {
        return fill_new(n, par_min, |out, start| {
            let len = out.len();
            fs(out, &src[start..start + len])
        });
    }
    let v = view(data, layout);
    let mut out = Vec::with_capacity(n);
    out.extend(v.iter().map(|&x| f(x)));
    out
}

/// `f(a, b)` over the broadcast of both layouts to `shape` (which the caller computed).
pub fn zip<A, B, O>(
    a: &[A],
    la: &Layout,
    b: &[B],
    lb: &Layout,
    shape: &[usize],
    f: impl Fn(A, B) -> O + Sync + Send,
) -> Vec<O>
where
    A: Copy + Send + Sync,
    B: Copy + Send + Sync,
    O: Copy + Send + Sync + Default,
{
    let n: usize = shape.iter().product();
    let full_a = la.shape.as_slice() == shape;
    let full_b = lb.shape.as_slice() == shape;
    let ca = contiguous_slice(a, la);
    let cb = contiguous_slice(b, lb);
    let par = ELEMENTWISE_PAR_MIN;

    match (ca, cb) {
        (Some(sa), Some(sb)) if full_a && full_b => {
            return fill_new(n, par, |out, s| {
                let e = s + out.len();
                simd::zip(out, &sa[s..e], &sb[s..e], &f)
            });
        }
        (Some(sa), _) if full_a && lb.numel() == 1 => {
            let y = b[lb.offset];
            return fill_new(n, par, |out, s| {
                let len = out.len();
                simd::map(out, &sa[s..s + len], &|x| f(x, y))
            });
        }
        (_, Some(sb)) if full_b && la.numel() == 1 => {
            let x = a[la.offset];
            return fill_new(n, par, |out, s| {
                let len = out.len();
                simd::map(out, &sb[s..s + len], &|y| f(x, y))
            });
        }
        (Some(sa), Some(sb)) if full_a && is_trailing(&lb.shape, shape) && !sb.is_empty() => {
            // [.., m] op [m]: the bias-add pattern; walk `a` in rows of b's size.
            let m = sb.len();
            return fill_new(n, par.max(m), |out, s| {
                let len = out.len();
                simd::rows(out, &sa[s..s + len], sb, s, &f)
            });
        }
        (Some(sa), Some(sb)) if full_b && is_trailing(&la.shape, shape) && !sa.is_empty() => {
            let m = sa.len();
            return fill_new(n, par.max(m), |out, s| {
                let len = out.len();
                simd::rows(out, &sb[s..s + len], sa, s, &|y, x| f(x, y))
            });
        }
        _ => {}
    }

    let (Some(ba), Some(bb)) = (la.broadcast_to(shape), lb.broadcast_to(shape)) else {
        unreachable!("zip called with layouts that do not broadcast to {shape:?}");
    };
    let va = view(a, &ba);
    let vb = view(b, &bb);
    let mut out = vec![O::default(); n];
    let mut vo = ArrayViewMutD::from_shape(IxDyn(shape), &mut out[..]).expect("row-major output");
    Zip::from(&mut vo)
        .and(&va)
        .and(&vb)
        .for_each(|o, &x, &y| *o = f(x, y));
    out
}

/// `dst[i] = f(dst[i], src[i])` in place, over a contiguous `dst` of shape `shape` and a `src`
/// that broadcasts to it: the optimizer update `p -= lr * g` without a temporary and a copy.
pub fn update<T, B>(
    dst: &mut [T],
    shape: &[usize],
    src: &[B],
    ls: &Layout,
    f: impl Fn(T, B) -> T + Sync + Send,
) where
    T: Copy + Send + Sync,
    B: Copy + Send + Sync,
{
    let n = dst.len();
    let full = ls.shape.as_slice() == shape;
    if let (Some(s), true) = (contiguous_slice(src, ls), full) {
        return for_chunks(dst, |d, start| {
            simd::update(d, &s[start..start + d.len()], &f)
        });
    }
    if ls.numel() == 1 && n > 0 {
        let y = src[ls.offset];
        return for_chunks(dst, |d, _| simd::map_inplace(d, &|x| f(x, y)));
    }
    let Some(bs) = ls.broadcast_to(shape) else {
        unreachable!("update called with a source that does not broadcast to {shape:?}");
    };
    let dl = Layout::contiguous(shape);
    Zip::from(&mut view_mut(dst, &dl))
        .and(&view(src, &bs))
        .for_each(|d, &y| *d = f(*d, y));
}

/// Runs `body(chunk, start)` over `dst`, split across the pool when it is large.
fn for_chunks<T: Send>(dst: &mut [T], body: impl Fn(&mut [T], usize) + Sync + Send) {
    let n = dst.len();
    if parallel_for(n, ELEMENTWISE_PAR_MIN) {
        for_each_chunk(dst, elementwise_chunk(n), body);
    } else {
        body(dst, 0);
    }
}

/// Whether `small` (after dropping leading 1s) is the trailing part of `shape`.
fn is_trailing(small: &[usize], shape: &[usize]) -> bool {
    let first = small.iter().position(|&d| d != 1).unwrap_or(small.len());
    let small = &small[first..];
    small.len() <= shape.len() && &shape[shape.len() - small.len()..] == small
}
