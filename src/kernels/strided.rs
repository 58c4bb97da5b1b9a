//! Reading tensors in any layout: ndarray views over (slice, layout) and gathering a strided
//! layout into a fresh row-major buffer.

use crate::shape::Layout;
use ndarray::{ArrayViewD, ArrayViewMutD, IxDyn, ShapeBuilder};

/// A read-only ndarray view of `layout` into `data`.
pub fn view<'a, T>(data: &'a [T], layout: &Layout) -> ArrayViewD<'a, T> {
    let (start, end) = layout.span();
    assert!(end <= data.len() && start <= end, "layout {layout:?} outside a buffer of {}", data.len());
    let shape = IxDyn(&layout.shape).strides(IxDyn(&layout.strides));
    // SAFETY: the span check above keeps every element inside `data`; strides are non-negative
    // and read-only views may alias (zero strides).
    unsafe { ArrayViewD::from_shape_ptr(shape, data.as_ptr().add(layout.offset)) }
}

/// A mutable view; `layout` must not alias (no zero strides over size > 1 dims).
pub fn view_mut<'a, T>(data: &'a mut [T], layout: &Layout) -> ArrayViewMutD<'a, T> {
    let (start, end) = layout.span();
    assert!(end <= data.len() && start <= end, "layout {layout:?} outside a buffer of {}", data.len());
    debug_assert!(layout.shape.iter().zip(&layout.strides).all(|(&n, &s)| n <= 1 || s > 0));
    let shape = IxDyn(&layout.shape).strides(IxDyn(&layout.strides));
    // SAFETY: in bounds (checked), non-aliasing (callers only pass layouts of real tensors
    // that were not expanded), and `data` is borrowed mutably for 'a.
    unsafe { ArrayViewMutD::from_shape_ptr(shape, data.as_mut_ptr().add(layout.offset)) }
}

/// The contiguous run `layout` covers, if its elements are exactly `data[start..start+numel]`
/// in row-major order.
#[inline]
pub fn contiguous_slice<'a, T>(data: &'a [T], layout: &Layout) -> Option<&'a [T]> {
    if layout.is_contiguous() {
        let n = layout.numel();
        Some(&data[layout.offset..layout.offset + n])
    } else {
        None
    }
}

/// The elements of `layout` in row-major order, as a new vector.
pub fn to_contiguous<T: Copy + Send + Sync>(data: &[T], layout: &Layout) -> Vec<T> {
    if let Some(s) = contiguous_slice(data, layout) {
        return s.to_vec();
    }
    // Last dim contiguous (e.g. a row slice or a permutation of leading dims): copy runs.
    let nd = layout.ndim();
    if nd >= 1 && layout.strides[nd - 1] == 1 && layout.shape[nd - 1] >= 8 {
        let row = layout.shape[nd - 1];
        let n = layout.numel();
        let mut out = Vec::with_capacity(n);
        let outer = Layout {
            shape: layout.shape[..nd - 1].into(),
            strides: layout.strides[..nd - 1].into(),
            offset: layout.offset,
        };
        for_each_offset(&outer, |off| out.extend_from_slice(&data[off..off + row]));
        return out;
    }
    view(data, layout).iter().copied().collect()
}

/// Calls `f` with the storage offset of every element of `layout`, in row-major order.
pub fn for_each_offset(layout: &Layout, mut f: impl FnMut(usize)) {
    let nd = layout.ndim();
    if layout.numel() == 0 {
        return;
    }
    if nd == 0 {
        f(layout.offset);
        return;
    }
    let mut idx = vec![0usize; nd];
    let mut off = layout.offset;
    loop {
        f(off);
        let mut d = nd;
        loop {
            if d == 0 {
                return;
            }
            d -= 1;
            idx[d] += 1;
            off += layout.strides[d];
            if idx[d] < layout.shape[d] {
                break;
            }
            off -= layout.strides[d] * idx[d];
            idx[d] = 0;
        }
    }
}
