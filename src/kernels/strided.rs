//! Reading tensors in any layout: ndarray views over (slice, layout) and gathering a strided
//! layout into a fresh row-major buffer.

use crate::shape::Layout;
use ndarray::{ArrayViewD, ArrayViewMutD, IxDyn, ShapeBuilder};

/// A read-only ndarray view of `layout` into `data`.
pub fn view<'a, T>(data: &'a [T], layout: &Layout) -> ArrayViewD<'a, T> {
    let (start, end) = if layout.numel() == 0 {
        (0, 0)
    } else {
        layout.span()
    };
    assert!(
        end <= data.len() && start <= end,
        "layout {layout:?} outside a buffer of {}",
        data.len()
    );
    let shape = IxDyn(&layout.shape).strides(IxDyn(&layout.strides));
    // An empty view reads nothing: anchor it at the buffer start, since the offset of an empty
    // slice (e.g. the part of a zero-size output after the last copied block) may lie past it.
    let offset = if layout.numel() == 0 {
        0
    } else {
        layout.offset
    };
    // SAFETY: the span check above keeps every element inside `data`; strides are non-negative
    // and read-only views may alias (zero strides).
    unsafe { ArrayViewD::from_shape_ptr(shape, data.as_ptr().add(offset)) }
}

/// A mutable view; `layout` must not alias (no zero strides over size > 1 dims).
pub fn view_mut<'a, T>(data: &'a mut [T], layout: &Layout) -> ArrayViewMutD<'a, T> {
    let (start, end) = if layout.numel() == 0 {
        (0, 0)
    } else {
        layout.span()
    };
    assert!(
        end <= data.len() && start <= end,
        "layout {layout:?} outside a buffer of {}",
        data.len()
    );
    debug_assert!(
        layout
            .shape
            .iter()
            .zip(&layout.strides)
            .all(|(&n, &s)| n <= 1 || s > 0)
    );
    let shape = IxDyn(&layout.shape).strides(IxDyn(&layout.strides));
    let offset = if layout.numel() == 0 {
        0
    } else {
        layout.offset
    };
    // SAFETY: in bounds (checked), non-aliasing (callers only pass layouts of real tensors
    // that were not expanded), and `data` is borrowed mutably for 'a.
    unsafe { ArrayViewMutD::from_shape_ptr(shape, data.as_mut_ptr().add(offset)) }
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
    // Strided last dim (a transposed matrix, e.g. a weight gradient): gather each output row
    // with a plain strided loop. ndarray's n-d iterator costs ~15 ns per element here, which
    // made copying one 784x256 gradient slower than the whole MLP step around it.
    if nd >= 1 {
        let (row, step) = (layout.shape[nd - 1], layout.strides[nd - 1]);
        let mut out = super::alloc::vec_with_capacity(layout.numel());
        let outer = Layout {
            shape: layout.shape[..nd - 1].into(),
            strides: layout.strides[..nd - 1].into(),
            offset: layout.offset,
        };
        for_each_offset(&outer, |off| {
            out.extend((0..row).map(|j| data[off + j * step]))
        });
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn to_contiguous_gathers_strided_last_dims() {
        let data: Vec<i64> = (0..24).collect();
        // [2, 3, 4] transposed to [4, 3, 2] (a full reversal of the dims).
        let l = Layout {
            shape: [4, 3, 2].as_slice().into(),
            strides: [1, 4, 12].as_slice().into(),
            offset: 0,
        };
        let mut want = Vec::new();
        for i in 0..4 {
            for j in 0..3 {
                for k in 0..2 {
                    want.push((i + 4 * j + 12 * k) as i64);
                }
            }
        }
        assert_eq!(to_contiguous(&data, &l), want);
        // A column of a matrix at an offset, and a zero-stride (broadcast) last dim.
        let col = Layout {
            shape: [3].as_slice().into(),
            strides: [4].as_slice().into(),
            offset: 1,
        };
        assert_eq!(to_contiguous(&data, &col), vec![1, 5, 9]);
        let bc = Layout {
            shape: [2, 3].as_slice().into(),
            strides: [5, 0].as_slice().into(),
            offset: 2,
        };
        assert_eq!(to_contiguous(&data, &bc), vec![2, 2, 2, 7, 7, 7]);
    }
}
