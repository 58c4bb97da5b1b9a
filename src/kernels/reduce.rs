//! Reductions over any set of dims, and per-lane maps along one dim (argmax, softmax rows).

use super::strided::{contiguous_slice, for_each_offset};
use super::{fill_new, for_each_chunk, parallel_for};
use crate::shape::Layout;

/// Work (elements read) below which a reduction stays on one thread.
pub const REDUCE_PAR_MIN: usize = 1 << 16;

/// The layout of the dims in `keep` (row-major order of the output) and of the dims in `dims`.
fn split(layout: &Layout, dims: &[usize]) -> (Layout, Layout) {
    let mut kept = Layout {
        shape: Default::default(),
        strides: Default::default(),
        offset: layout.offset,
    };
    let mut red = Layout {
        shape: Default::default(),
        strides: Default::default(),
        offset: 0,
    };
    for d in 0..layout.ndim() {
        let dst = if dims.contains(&d) {
            &mut red
        } else {
            &mut kept
        };
        dst.shape.push(layout.shape[d]);
        dst.strides.push(layout.strides[d]);
    }
    (kept, red)
}

/// Folds the elements of `dims` (sorted, unique) into one value per remaining position;
/// the result is row-major over the remaining dims. `fold` must be associative when the
/// reduced run is split (`combine` merges partial results).
pub fn reduce<T, A>(
    data: &[T],
    layout: &Layout,
    dims: &[usize],
    init: A,
    fold: impl Fn(A, T) -> A + Sync + Send,
    combine: impl Fn(A, A) -> A + Sync + Send,
) -> Vec<A>
where
    T: Copy + Send + Sync,
    A: Copy + Send + Sync,
{
    let (kept, red) = split(layout, dims);
    let n_out = kept.numel();
    let n_red = red.numel();
    // Empty reductions give `init` (sum 0, prod 1, all true); no element offset is read, and
    // offsets of empty layouts may point past the end of the buffer.
    if n_out == 0 || n_red == 0 {
        return vec![init; n_out];
    }

    // Whole contiguous tensor: chunked fold, chunks merged with `combine`.
    if n_out == 1
        && let Some(s) = contiguous_slice(data, layout)
    {
        return vec![fold_slice(s, init, &fold, &combine)];
    }

    let red_contig = red.is_contiguous() && red.ndim() > 0;
    let kept_contig_tail =
        kept.is_contiguous() && kept.ndim() > 0 && dims.iter().enumerate().all(|(i, &d)| i == d);

    // Reduced dims trailing and contiguous: one slice per output.
    if red_contig && red.strides.last() == Some(&1) {
        let offsets = offsets_of(&kept);
        return fill_new(
            n_out,
            (REDUCE_PAR_MIN / n_red.max(1)).max(1),
            |out, start| {
                for (i, o) in out.iter_mut().enumerate() {
                    let off = offsets[start + i];
                    let mut acc = init;
                    for &x in &data[off..off + n_red] {
                        acc = fold(acc, x);
                    }
                    o.write(acc);
                }
            },
        );
    }

    // Reduced dims leading, kept dims a contiguous block: fold whole rows into the output.
    if kept_contig_tail {
        let mut acc = vec![init; n_out];
        for_each_offset(
            &Layout {
                offset: layout.offset,
                ..red.clone()
            },
            |off| {
                for (a, &x) in acc.iter_mut().zip(&data[off..off + n_out]) {
                    *a = fold(*a, x);
                }
            },
        );
        return acc;
    }

    // General: walk the reduced sub-layout from each output's base offset.
    let offsets = offsets_of(&kept);
    fill_new(
        n_out,
        (REDUCE_PAR_MIN / n_red.max(1)).max(1),
        |out, start| {
            for (i, o) in out.iter_mut().enumerate() {
                let mut acc = init;
                for_each_offset(
                    &Layout {
                        offset: offsets[start + i],
                        ..red.clone()
                    },
                    |off| acc = fold(acc, data[off]),
                );
                o.write(acc);
            }
        },
    )
}

fn offsets_of(layout: &Layout) -> Vec<usize> {
    let mut v = Vec::with_capacity(layout.numel());
    for_each_offset(layout, |o| v.push(o));
    v
}

fn fold_slice<T: Copy + Send + Sync, A: Copy + Send + Sync>(
    s: &[T],
    init: A,
    fold: &(impl Fn(A, T) -> A + Sync),
    combine: &(impl Fn(A, A) -> A + Sync),
) -> A {
    const BLOCK: usize = 4096;
    let fold_block = |c: &[T]| c.iter().fold(init, |a, &x| fold(a, x));
    if parallel_for(s.len(), REDUCE_PAR_MIN * 4) {
        // Partial results per group of blocks, combined in order (the same grouping on any
        // number of threads, so results do not depend on the thread count).
        const GROUP: usize = BLOCK * 16;
        let mut partials = vec![init; s.len().div_ceil(GROUP)];
        for_each_chunk(&mut partials, 1, |p, g| {
            let c = &s[g * GROUP..s.len().min((g + 1) * GROUP)];
            p[0] = c.chunks(BLOCK).map(fold_block).fold(init, combine);
        });
        partials.into_iter().fold(init, combine)
    } else {
        s.chunks(BLOCK).map(fold_block).fold(init, combine)
    }
}

/// One lane of a tensor along a dim: `len` elements `stride` apart from `start`.
#[derive(Clone, Copy)]
pub struct Lane<'a, T> {
    pub data: &'a [T],
    pub start: usize,
    pub stride: usize,
    pub len: usize,
}

impl<'a, T: Copy> Lane<'a, T> {
    #[inline(always)]
    pub fn get(&self, i: usize) -> T {
        self.data[self.start + i * self.stride]
    }

    pub fn iter(&self) -> impl Iterator<Item = T> + '_ {
        (0..self.len).map(move |i| self.get(i))
    }
}

/// `f` applied to every lane along `dim`; one result per lane, row-major over the other dims.
pub fn map_lanes<T, R>(
    data: &[T],
    layout: &Layout,
    dim: usize,
    f: impl Fn(Lane<'_, T>) -> R + Sync + Send,
) -> Vec<R>
where
    T: Copy + Send + Sync,
    R: Copy + Send + Sync,
{
    let (kept, _) = split(layout, &[dim]);
    let len = layout.shape[dim];
    let stride = layout.strides[dim];
    let offsets = offsets_of(&kept);
    fill_new(
        offsets.len(),
        (REDUCE_PAR_MIN / len.max(1)).max(1),
        |out, s| {
            for (i, o) in out.iter_mut().enumerate() {
                o.write(f(Lane {
                    data,
                    start: offsets[s + i],
                    stride,
                    len,
                }));
            }
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reducing_an_empty_dim_gives_init_for_every_output() {
        // [2, 0] summed over dim 1: two empty runs. This used to index past the empty buffer.
        let l = Layout::contiguous(&[2, 0]);
        let data: [f64; 0] = [];
        assert_eq!(
            reduce(&data, &l, &[1], 0.0, |a, x| a + x, |a, b| a + b),
            vec![0.0, 0.0]
        );
        assert_eq!(
            reduce(&data, &l, &[0], 1.0, |a, x| a * x, |a, b| a * b),
            Vec::<f64>::new()
        );
        // Transposed: [0, 3] viewed as [3, 0].
        let t = Layout::contiguous(&[0, 3]).transpose(0, 1);
        assert_eq!(
            reduce(&data, &t, &[1], 0i64, |a, _| a + 1, |a, b| a + b),
            vec![0, 0, 0]
        );
    }
}
