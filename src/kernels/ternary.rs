//! Elementwise maps over three inputs broadcast to one shape (`where`, `lerp`, tensor-bound
//! `clamp`). All-contiguous same-shape inputs run as a slice loop; anything else is walked
//! through ndarray's strided iteration over the broadcast views.

use super::fill_new;
use super::strided::{contiguous_slice, view};
use crate::shape::Layout;
use ndarray::{ArrayViewMutD, IxDyn, Zip};

#[allow(clippy::too_many_arguments)]
pub fn zip3<A, B, C, O>(
    a: &[A],
    la: &Layout,
    b: &[B],
    lb: &Layout,
    c: &[C],
    lc: &Layout,
    shape: &[usize],
    par_min: usize,
    f: impl Fn(A, B, C) -> O + Sync + Send,
) -> Vec<O>
where
    A: Copy + Send + Sync,
    B: Copy + Send + Sync,
    C: Copy + Send + Sync,
    O: Copy + Send + Sync + Default,
{
    let n: usize = shape.iter().product();
    let full = |l: &Layout| l.shape.as_slice() == shape;
    if full(la)
        && full(lb)
        && full(lc)
        && let (Some(sa), Some(sb), Some(sc)) = (
            contiguous_slice(a, la),
            contiguous_slice(b, lb),
            contiguous_slice(c, lc),
        )
    {
        return fill_new(n, par_min, |out, s| {
            for (i, o) in out.iter_mut().enumerate() {
                o.write(f(sa[s + i], sb[s + i], sc[s + i]));
            }
        });
    }
    let (Some(ba), Some(bb), Some(bc)) = (
        la.broadcast_to(shape),
        lb.broadcast_to(shape),
        lc.broadcast_to(shape),
    ) else {
        unreachable!("zip3 called with layouts that do not broadcast to {shape:?}");
    };
    let (va, vb, vc) = (view(a, &ba), view(b, &bb), view(c, &bc));
    let mut out = vec![O::default(); n];
    let mut vo = ArrayViewMutD::from_shape(IxDyn(shape), &mut out[..]).expect("row-major output");
    Zip::from(&mut vo)
        .and(&va)
        .and(&vb)
        .and(&vc)
        .for_each(|o, &x, &y, &z| *o = f(x, y, z));
    out
}
