//! The singular value decomposition (`linalg.svd`, `linalg.svdvals`) over the last two dims,
//! batched over the leading ones, through the Jacobi kernel in `kernels::svd` (f64 for every
//! float dtype). The spectral and nuclear matrix norms are built on `svdvals`.

use super::{grads, record, will_record};
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::kernels::svd::{Svd, svd};
use crate::tensor::Tensor;
use crate::with_float;

/// Factors of a batch, each as one flat f64 buffer (matrix after matrix).
struct Factors {
    u: Vec<f64>,
    s: Vec<f64>,
    vt: Vec<f64>,
}

fn check_input(op: &'static str, a: &Tensor) -> Result<(usize, usize, usize)> {
    if !a.dtype().is_float() {
        return Err(Error::dtype(
            op,
            format!(
                "expected a floating point input (float32 or float64), got {}",
                a.dtype()
            ),
        ));
    }
    if a.ndim() < 2 {
        return Err(Error::shape(
            op,
            format!(
                "the input must have at least 2 dimensions, got shape {:?}",
                a.shape()
            ),
        ));
    }
    let nd = a.ndim();
    let (m, n) = (a.shape()[nd - 2], a.shape()[nd - 1]);
    let batch = a.shape()[..nd - 2].iter().product();
    Ok((batch, m, n))
}

/// Runs the kernel on every matrix of `a` (in parallel over the batch when it pays).
fn decompose(
    op: &'static str,
    a: &Tensor,
    vectors: bool,
    full: bool,
) -> Result<(Factors, usize, usize, usize)> {
    let (batch, m, n) = check_input(op, a)?;
    let values = a.to_vec_f64();
    if values.iter().any(|x| !x.is_finite()) {
        return Err(Error::invalid(
            op,
            "the input contains non-finite values (NaN or inf); the decomposition is undefined",
        ));
    }
    let one = |b: usize| svd(&values[b * m * n..(b + 1) * m * n], m, n, vectors, full);
    let work = batch * m * n * m.min(n);
    let parts: Vec<Svd> = if batch > 1 && crate::kernels::parallel_for(work, 1 << 16) {
        let mut slots: Vec<Option<Svd>> = (0..batch).map(|_| None).collect();
        crate::kernels::for_each_chunk(&mut slots, 1, |slot, b| slot[0] = Some(one(b)));
        // Every slot was filled: for_each_chunk runs the closure on each of them.
        slots.into_iter().flatten().collect()
    } else {
        (0..batch).map(one).collect()
    };
    let mut f = Factors {
        u: Vec::new(),
        s: Vec::new(),
        vt: Vec::new(),
    };
    for p in parts {
        f.u.extend(p.u);
        f.s.extend(p.s);
        f.vt.extend(p.vt);
    }
    Ok((f, batch, m, n))
}

fn typed(v: Vec<f64>, shape: &[usize], dtype: DType) -> Tensor {
    with_float!(dtype, T => Tensor::from_buffer_vec(v.into_iter().map(T::from_f64).collect::<Vec<T>>(), shape), _ => unreachable!("checked float"))
}

/// `shape[..nd-2]` followed by `tail`.
fn batched(a: &Tensor, tail: &[usize]) -> Vec<usize> {
    let mut s = a.shape()[..a.ndim() - 2].to_vec();
    s.extend_from_slice(tail);
    s
}

impl Tensor {
    /// The singular values of each matrix (last two dims), descending. Differentiable:
    /// the gradient is `U diag(g) Vh`.
    pub fn svdvals(&self) -> Result<Tensor> {
        const OP: &str = "linalg.svdvals";
        let recording = will_record(&[self]);
        let (f, _, m, n) = decompose(OP, self, recording, false)?;
        let k = m.min(n);
        let dtype = self.dtype();
        let s = typed(f.s, &batched(self, &[k]), dtype);
        if !recording {
            return Ok(s);
        }
        let u = typed(f.u, &batched(self, &[m, k]), dtype);
        let vh = typed(f.vt, &batched(self, &[k, n]), dtype);
        record(s, "LinalgSvdvalsBackward", &[self], move |_| {
            Ok(move |g: &Tensor, _: &[bool]| {
                let ga = u.mul(&g.unsqueeze(-2)?)?.matmul(&vh)?;
                Ok(grads([Some(ga)]))
            })
        })
    }

    /// `A = U diag(S) Vh` for each matrix (last two dims): U is `[.., m, k]` and Vh
    /// `[.., k, n]` with `k = min(m, n)`, or `[.., m, m]` and `[.., n, n]` with
    /// `full_matrices`. The signs of singular vectors are arbitrary, as in every SVD.
    /// Differentiable in all three outputs for distinct non-zero singular values (the
    /// extra columns of the full form get no gradient, as in PyTorch).
    pub fn svd(&self, full_matrices: bool) -> Result<(Tensor, Tensor, Tensor)> {
        const OP: &str = "linalg.svd";
        let (f, _, m, n) = decompose(OP, self, true, full_matrices)?;
        let k = m.min(n);
        let (ku, kv) = if full_matrices { (m, n) } else { (k, k) };
        let dtype = self.dtype();
        let (us, ss, vs) = (
            batched(self, &[m, ku]),
            batched(self, &[k]),
            batched(self, &[kv, n]),
        );
        if !will_record(&[self]) {
            return Ok((
                typed(f.u, &us, dtype),
                typed(f.s, &ss, dtype),
                typed(f.vt, &vs, dtype),
            ));
        }
        // One recorded node must feed three outputs: pack them along one last dim, record
        // the pack, and hand out views of it. Their gradients meet again in the pack's.
        let b = self.shape()[..self.ndim() - 2].to_vec();
        let batch: usize = b.iter().product();
        let (nu, nv) = (m * ku, kv * n);
        let width = nu + k + nv;
        let mut packed = Vec::with_capacity(batch * width);
        for i in 0..batch {
            packed.extend_from_slice(&f.u[i * nu..(i + 1) * nu]);
            packed.extend_from_slice(&f.s[i * k..(i + 1) * k]);
            packed.extend_from_slice(&f.vt[i * nv..(i + 1) * nv]);
        }
        let mut pshape = b.clone();
        pshape.push(width);
        let p = typed(packed, &pshape, dtype);
        // Backward reads its own copy: the outputs are views a user may change in place.
        let factors = p.contiguous_copy()?;
        let unpack = move |t: &Tensor| -> Result<(Tensor, Tensor, Tensor)> {
            let last = t.ndim() as isize - 1;
            Ok((
                t.narrow(last, 0, nu)?.reshape_to(&us)?,
                t.narrow(last, nu as i64, k)?.reshape_to(&ss)?,
                t.narrow(last, (nu + k) as i64, nv)?.reshape_to(&vs)?,
            ))
        };
        let (u0, s0, vh0) = unpack(&factors)?;
        let p = record(p, "LinalgSvdBackward", &[self], move |_| {
            Ok(move |g: &Tensor, _: &[bool]| {
                let (gu, gs, gvh) = unpack(g)?;
                Ok(grads([Some(svd_backward(
                    &u0, &s0, &vh0, &gu, &gs, &gvh, m, n,
                )?)]))
            })
        })?;
        let last = p.ndim() as isize - 1;
        Ok((
            p.narrow(last, 0, nu)?
                .reshape_to(&batched(self, &[m, ku]))?,
            p.narrow(last, nu as i64, k)?
                .reshape_to(&batched(self, &[k]))?,
            p.narrow(last, (nu + k) as i64, nv)?
                .reshape_to(&batched(self, &[kv, n]))?,
        ))
    }
}

/// Whether every element is exactly zero (an output of the decomposition that was not used).
fn all_zero(t: &Tensor) -> bool {
    t.to_vec_f64().iter().all(|&x| x == 0.0)
}

/// The gradient of `A = U diag(S) Vh` (Townsend, "Differentiating the singular value
/// decomposition", 2016), on the reduced factors; the full form's extra columns are dropped:
///
/// gA = U [ (F o (U^T gU - gU^T U)) S + diag(gS) + S (F o (V^T gV - gV^T V)) ] Vh
///      + (I - U U^T) gU S^-1 Vh + U S^-1 gVh (I - V Vh)
///
/// with `F[i, j] = 1 / (s_j^2 - s_i^2)` off the diagonal. The vector terms are skipped when
/// their gradients are zero, so using only S stays finite for repeated singular values.
#[allow(clippy::too_many_arguments)]
fn svd_backward(
    u: &Tensor,
    s: &Tensor,
    vh: &Tensor,
    gu: &Tensor,
    gs: &Tensor,
    gvh: &Tensor,
    m: usize,
    n: usize,
) -> Result<Tensor> {
    let k = m.min(n);
    let nd = u.ndim() as isize;
    // Reduced parts of the (possibly full) factors and their gradients.
    let (u, gu) = (u.narrow(nd - 1, 0, k)?, gu.narrow(nd - 1, 0, k)?);
    let (vh, gvh) = (vh.narrow(nd - 2, 0, k)?, gvh.narrow(nd - 2, 0, k)?);
    let g = gs.dtype();
    let mut inner = gs.diag_embed_last()?;
    let use_u = !all_zero(&gu);
    let use_v = !all_zero(&gvh);
    if use_u || use_v {
        let s2 = s.mul(s)?;
        // E[i, j] = s_j^2 - s_i^2, with 1 on the diagonal (where the skew parts are 0).
        let e = s2
            .unsqueeze(-2)?
            .sub(&s2.unsqueeze(-1)?)?
            .add(&Tensor::eye(k, k, g)?)?;
        let s_row = s.unsqueeze(-2)?; // scales columns
        let s_col = s.unsqueeze(-1)?; // scales rows
        let inv_s = s.reciprocal()?;
        let mut extra: Option<Tensor> = None;
        if use_u {
            let utgu = u.mt()?.matmul(&gu)?;
            let j = utgu.sub(&utgu.mt()?)?.div(&e)?;
            inner = inner.add(&j.mul(&s_row)?)?;
            if m > k {
                // (I - U U^T) gU S^-1 Vh
                let proj = gu.sub(&u.matmul(&utgu)?)?;
                let t = proj.mul(&inv_s.unsqueeze(-2)?)?.matmul(&vh)?;
                extra = Some(t);
            }
        }
        if use_v {
            let v = vh.mt()?;
            let gv = gvh.mt()?;
            let vtgv = v.mt()?.matmul(&gv)?;
            let kk = vtgv.sub(&vtgv.mt()?)?.div(&e)?;
            inner = inner.add(&s_col.mul(&kk)?)?;
            if n > k {
                // U S^-1 gVh (I - V Vh)
                let proj = gvh.sub(&gvh.matmul(&v)?.matmul(&vh)?)?;
                let t = u.matmul(&proj.mul(&inv_s.unsqueeze(-1)?)?)?;
                extra = Some(match extra {
                    Some(x) => x.add(&t)?,
                    None => t,
                });
            }
        }
        let core = u.matmul(&inner)?.matmul(&vh)?;
        return match extra {
            Some(x) => core.add(&x),
            None => Ok(core),
        };
    }
    u.matmul(&inner)?.matmul(&vh)
}

impl Tensor {
    /// The last two dims swapped (`.mT`).
    pub(crate) fn mt(&self) -> Result<Tensor> {
        self.transpose(-2, -1)
    }

    /// `[.., k] -> [.., k, k]` with the values on the diagonal.
    fn diag_embed_last(&self) -> Result<Tensor> {
        let k = *self.shape().last().unwrap_or(&1);
        self.unsqueeze(-1)?.mul(&Tensor::eye(k, k, self.dtype())?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn svdvals_match_known_values_in_both_float_dtypes() {
        for dtype in [DType::F32, DType::F64] {
            let a = Tensor::from_vec(vec![3.0f64, 0.0, 4.0, 5.0], &[2, 2])
                .unwrap()
                .to_dtype(dtype)
                .unwrap();
            let s = a.svdvals().unwrap();
            assert_eq!(s.dtype(), dtype);
            let v = s.to_vec_f64();
            assert!((v[0] - 45f64.sqrt()).abs() < 1e-5 && (v[1] - 5f64.sqrt()).abs() < 1e-5);
        }
        let i = Tensor::from_vec(vec![1i64, 2], &[1, 2]).unwrap();
        assert!(i.svdvals().is_err());
    }
}
