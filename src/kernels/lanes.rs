//! Whole-lane kernels: functions that read every element of a lane along one dim and write a
//! lane of `k` outputs (scans, sorts, top-k). Lanes are read through their strides (no copy of
//! the input); results come back row-major with the dim resized to `k`.

use super::reduce::{Lane, REDUCE_PAR_MIN};
use super::{for_each_chunk, get_num_threads, parallel_for};
use crate::shape::Layout;

/// Offsets of the first element of every lane along `dim`, row-major over the other dims.
fn lane_starts(layout: &Layout, dim: usize) -> Vec<usize> {
    let mut kept = layout.clone();
    kept.shape.remove(dim);
    kept.strides.remove(dim);
    let mut v = Vec::with_capacity(kept.numel());
    super::strided::for_each_offset(&kept, |o| v.push(o));
    v
}

/// Runs `f(lane_index, dst)` for each of `n_lanes` lanes of `k` outputs into a lane-major
/// buffer, then reorders it row-major with the lane dim at `dim` (`inner` = product of the
/// dims after it).
fn run_lanes<R: Copy + Default + Send + Sync>(
    n_lanes: usize,
    k: usize,
    inner: usize,
    work_per_lane: usize,
    f: impl Fn(usize, &mut [R]) + Sync + Send,
) -> Vec<R> {
    let mut buf = vec![R::default(); n_lanes * k];
    if k == 0 || n_lanes == 0 {
        return buf;
    }
    if parallel_for(n_lanes * work_per_lane.max(1), REDUCE_PAR_MIN) && n_lanes > 1 {
        let per_task = n_lanes.div_ceil(get_num_threads() * 8).max(1);
        for_each_chunk(&mut buf, per_task * k, |c, start| {
            for (i, dst) in c.chunks_mut(k).enumerate() {
                f(start / k + i, dst)
            }
        });
    } else {
        for (i, dst) in buf.chunks_mut(k).enumerate() {
            f(i, dst);
        }
    }
    if inner == 1 {
        return buf;
    }
    // Lane l = o * inner + i holds out[o, :, i].
    let outer = n_lanes / inner;
    let mut out = vec![R::default(); n_lanes * k];
    for o in 0..outer {
        for j in 0..k {
            let row = &mut out[(o * k + j) * inner..(o * k + j + 1) * inner];
            for (i, d) in row.iter_mut().enumerate() {
                *d = buf[(o * inner + i) * k + j];
            }
        }
    }
    out
}

/// `f(lane, dst)` for every lane of `layout` along `dim`; `dst` holds the lane's `k` results.
/// The result is row-major over the shape with `shape[dim]` replaced by `k`.
pub fn map_lanes_to<T, R>(
    data: &[T],
    layout: &Layout,
    dim: usize,
    k: usize,
    f: impl Fn(Lane<'_, T>, &mut [R]) + Sync + Send,
) -> Vec<R>
where
    T: Copy + Send + Sync,
    R: Copy + Default + Send + Sync,
{
    let starts = lane_starts(layout, dim);
    let (len, stride) = (layout.shape[dim], layout.strides[dim]);
    let inner: usize = layout.shape[dim + 1..].iter().product();
    run_lanes(starts.len(), k, inner, len, |i, dst| {
        f(
            Lane {
                data,
                start: starts[i],
                stride,
                len,
            },
            dst,
        )
    })
}

/// Like [`map_lanes_to`] over two tensors of one shape, lane by lane.
#[allow(clippy::too_many_arguments)]
pub fn zip_lanes_to<A, B, R>(
    a: &[A],
    la: &Layout,
    b: &[B],
    lb: &Layout,
    dim: usize,
    k: usize,
    f: impl Fn(Lane<'_, A>, Lane<'_, B>, &mut [R]) + Sync + Send,
) -> Vec<R>
where
    A: Copy + Send + Sync,
    B: Copy + Send + Sync,
    R: Copy + Default + Send + Sync,
{
    debug_assert_eq!(la.shape, lb.shape);
    let (sa, sb) = (lane_starts(la, dim), lane_starts(lb, dim));
    let len = la.shape[dim];
    let (ta, tb) = (la.strides[dim], lb.strides[dim]);
    let inner: usize = la.shape[dim + 1..].iter().product();
    run_lanes(sa.len(), k, inner, len, |i, dst| {
        f(
            Lane {
                data: a,
                start: sa[i],
                stride: ta,
                len,
            },
            Lane {
                data: b,
                start: sb[i],
                stride: tb,
                len,
            },
            dst,
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lanes_of_a_middle_dim_come_back_row_major() {
        // shape [2, 3, 2], reversed along dim 1
        let data: Vec<i64> = (0..12).collect();
        let l = Layout::contiguous(&[2, 3, 2]);
        let out = map_lanes_to(&data, &l, 1, 3, |lane, dst: &mut [i64]| {
            for (j, d) in dst.iter_mut().enumerate() {
                *d = lane.get(lane.len - 1 - j);
            }
        });
        assert_eq!(out, vec![4, 5, 2, 3, 0, 1, 10, 11, 8, 9, 6, 7]);
    }
}
