//! Singular value decomposition by one-sided Jacobi rotations (Hestenes' method), in f64.
//!
//! Why Jacobi: it orthogonalises the columns of the matrix directly with plane rotations, so
//! it needs none of the bidiagonalisation and implicit-shift QR machinery of LAPACK's drivers,
//! is short enough to check by reading, and computes even tiny singular values to high
//! relative accuracy. It costs more flops than divide-and-conquer on large matrices, which is
//! acceptable for the norms and moderate sizes it serves here.

/// `A = U diag(s) Vt` for one row-major `m x n` matrix; `s` descending. `u` is `m x ku`
/// and `vt` is `kv x n` (row-major), with `ku = kv = min(m, n)` for the reduced form or
/// `ku = m`, `kv = n` for the full one. Both are empty when vectors were not requested.
pub struct Svd {
    pub u: Vec<f64>,
    pub s: Vec<f64>,
    pub vt: Vec<f64>,
}

/// Sweeps after which the iteration stops even if some pair is still (by rounding) not
/// orthogonal to working precision; convergence is quadratic, so real inputs need ~6-12.
const MAX_SWEEPS: usize = 60;

/// The SVD of the row-major `m x n` matrix `a`. Inputs must be finite.
pub fn svd(a: &[f64], m: usize, n: usize, vectors: bool, full: bool) -> Svd {
    debug_assert_eq!(a.len(), m * n);
    if m >= n {
        return svd_tall(a, m, n, vectors, full);
    }
    // A^T = U' S V'^T, so A = V' S U'^T: run on the transpose and swap the factors.
    let mut at = vec![0.0; m * n];
    for i in 0..m {
        for j in 0..n {
            at[j * m + i] = a[i * n + j];
        }
    }
    let t = svd_tall(&at, n, m, vectors, full);
    if !vectors {
        return t;
    }
    // The transposed problem is n x m: U' is n x ku, V'^T is m x m. Here U = V' (m x m)
    // and Vt = U'^T (ku x n).
    let (ku, kv) = (if full { n } else { m }, m);
    let mut u = vec![0.0; m * kv];
    for r in 0..kv {
        for i in 0..m {
            u[i * kv + r] = t.vt[r * m + i];
        }
    }
    let mut vt = vec![0.0; ku * n];
    for r in 0..ku {
        for j in 0..n {
            vt[r * n + j] = t.u[j * ku + r];
        }
    }
    Svd { u, s: t.s, vt }
}

/// `m >= n`: rotate pairs of columns of A (kept as n contiguous columns of length m) until
/// all are mutually orthogonal; then the column norms are the singular values, the
/// normalised columns are U and the accumulated rotations are V.
fn svd_tall(a: &[f64], m: usize, n: usize, vectors: bool, full: bool) -> Svd {
    // Scale to max |a| = 1 so the squared column norms can neither overflow nor underflow.
    let scale = a.iter().fold(0.0f64, |acc, &x| acc.max(x.abs()));
    let inv = if scale > 0.0 { 1.0 / scale } else { 1.0 };
    let mut w = vec![0.0; m * n];
    for i in 0..m {
        for j in 0..n {
            w[j * m + i] = a[i * n + j] * inv;
        }
    }
    let mut v = if vectors {
        let mut v = vec![0.0; n * n];
        for j in 0..n {
            v[j * n + j] = 1.0;
        }
        v
    } else {
        Vec::new()
    };
    let tol = f64::EPSILON * m as f64;
    for _ in 0..MAX_SWEEPS {
        let mut rotated = false;
        for p in 0..n {
            for q in p + 1..n {
                let (wp, wq) = pair(&mut w, m, p, q);
                let (mut alpha, mut beta, mut gamma) = (0.0, 0.0, 0.0);
                for (x, y) in wp.iter().zip(wq.iter()) {
                    alpha += x * x;
                    beta += y * y;
                    gamma += x * y;
                }
                if gamma == 0.0 || gamma.abs() <= tol * (alpha * beta).sqrt() {
                    continue;
                }
                rotated = true;
                // The rotation that zeroes the pair's inner product (the smaller root, so
                // |angle| <= pi/4 and the iteration converges).
                let zeta = (beta - alpha) / (2.0 * gamma);
                let t = zeta.signum() / (zeta.abs() + (1.0 + zeta * zeta).sqrt());
                let c = 1.0 / (1.0 + t * t).sqrt();
                let s = c * t;
                rotate(wp, wq, c, s);
                if vectors {
                    let (vp, vq) = pair(&mut v, n, p, q);
                    rotate(vp, vq, c, s);
                }
            }
        }
        if !rotated {
            break;
        }
    }
    let norms: Vec<f64> = (0..n)
        .map(|j| {
            w[j * m..(j + 1) * m]
                .iter()
                .map(|x| x * x)
                .sum::<f64>()
                .sqrt()
        })
        .collect();
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| norms[b].total_cmp(&norms[a]).then(a.cmp(&b)));
    let s: Vec<f64> = order.iter().map(|&j| norms[j] * scale).collect();
    if !vectors {
        return Svd {
            u: Vec::new(),
            s,
            vt: Vec::new(),
        };
    }
    // U's columns: normalised columns of W. Those of (numerically) zero singular values carry
    // no direction; they are completed to an orthonormal set below, like the extra columns of
    // the full form.
    let ku = if full { m } else { n };
    let smax = order.first().map_or(0.0, |&j| norms[j]);
    let negligible = smax * f64::EPSILON * m as f64;
    let mut ucols: Vec<Option<Vec<f64>>> = Vec::with_capacity(ku);
    for &j in &order {
        let nj = norms[j];
        ucols.push(if nj > negligible && nj > 0.0 {
            Some(w[j * m..(j + 1) * m].iter().map(|x| x / nj).collect())
        } else {
            None
        });
    }
    ucols.resize(ku, None);
    let ucols = complete_orthonormal(ucols, m);
    let mut u = vec![0.0; m * ku];
    for (r, col) in ucols.iter().enumerate() {
        for i in 0..m {
            u[i * ku + r] = col[i];
        }
    }
    // Vt's rows: the columns of V in the same order (V is square and orthogonal already).
    let mut vt = vec![0.0; n * n];
    for (r, &j) in order.iter().enumerate() {
        vt[r * n..(r + 1) * n].copy_from_slice(&v[j * n..(j + 1) * n]);
    }
    Svd { u, s, vt }
}

/// Columns `p < q` of a column-major buffer with columns of length `len`, both mutable.
fn pair(buf: &mut [f64], len: usize, p: usize, q: usize) -> (&mut [f64], &mut [f64]) {
    let (head, tail) = buf.split_at_mut(q * len);
    (&mut head[p * len..(p + 1) * len], &mut tail[..len])
}

fn rotate(x: &mut [f64], y: &mut [f64], c: f64, s: f64) {
    for (a, b) in x.iter_mut().zip(y.iter_mut()) {
        let (p, q) = (*a, *b);
        *a = c * p - s * q;
        *b = s * p + c * q;
    }
}

/// Fills the missing columns so all columns form an orthonormal set in R^len: each gap takes
/// the standard basis vector that keeps the most after Gram-Schmidt against the columns
/// present (projected out twice, which is enough for orthogonality to working precision).
fn complete_orthonormal(cols: Vec<Option<Vec<f64>>>, len: usize) -> Vec<Vec<f64>> {
    let mut done: Vec<Vec<f64>> = cols.iter().flatten().cloned().collect();
    let mut out = Vec::with_capacity(cols.len());
    for c in cols {
        match c {
            Some(c) => out.push(c),
            None => {
                let mut best: Option<(f64, Vec<f64>)> = None;
                for e in 0..len {
                    let mut x = vec![0.0; len];
                    x[e] = 1.0;
                    for _ in 0..2 {
                        for d in &done {
                            let dot: f64 = d.iter().zip(&x).map(|(a, b)| a * b).sum();
                            for (xi, di) in x.iter_mut().zip(d) {
                                *xi -= dot * di;
                            }
                        }
                    }
                    let norm = x.iter().map(|v| v * v).sum::<f64>().sqrt();
                    if best.as_ref().is_none_or(|(b, _)| norm > *b) {
                        best = Some((norm, x));
                    }
                    // Over 1/2 is as good as any: stop looking.
                    if norm > 0.5 {
                        break;
                    }
                }
                let (norm, mut x) = best.expect("len > 0 when a column is missing");
                x.iter_mut().for_each(|v| *v /= norm);
                done.push(x.clone());
                out.push(x);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matmul(a: &[f64], b: &[f64], m: usize, k: usize, n: usize) -> Vec<f64> {
        let mut c = vec![0.0; m * n];
        for i in 0..m {
            for p in 0..k {
                for j in 0..n {
                    c[i * n + j] += a[i * k + p] * b[p * n + j];
                }
            }
        }
        c
    }

    fn check(a: &[f64], m: usize, n: usize, full: bool) -> Svd {
        let r = svd(a, m, n, true, full);
        let k = m.min(n);
        let (ku, kv) = if full { (m, n) } else { (k, k) };
        assert_eq!((r.u.len(), r.s.len(), r.vt.len()), (m * ku, k, kv * n));
        // U diag(s) Vt (first k columns/rows) reconstructs A.
        let mut us = vec![0.0; m * k];
        for i in 0..m {
            for j in 0..k {
                us[i * k + j] = r.u[i * ku + j] * r.s[j];
            }
        }
        let back = matmul(&us, &r.vt[..k * n], m, k, n);
        for (x, y) in back.iter().zip(a) {
            assert!((x - y).abs() < 1e-12, "{x} vs {y}");
        }
        // Orthonormal columns of U and rows of Vt.
        for (mat, rows, cols, stride_row) in [(&r.u, ku, m, false), (&r.vt, kv, n, true)] {
            for p in 0..rows {
                for q in 0..rows {
                    let dot: f64 = (0..cols)
                        .map(|i| {
                            if stride_row {
                                mat[p * n + i] * mat[q * n + i]
                            } else {
                                mat[i * ku + p] * mat[i * ku + q]
                            }
                        })
                        .sum();
                    let want = if p == q { 1.0 } else { 0.0 };
                    assert!((dot - want).abs() < 1e-12, "{dot} vs {want}");
                }
            }
        }
        assert!(r.s.windows(2).all(|w| w[0] >= w[1]));
        r
    }

    #[test]
    fn known_singular_values() {
        // [[3, 0], [4, 5]] has singular values sqrt(45) and sqrt(5).
        let r = check(&[3.0, 0.0, 4.0, 5.0], 2, 2, false);
        assert!((r.s[0] - 45f64.sqrt()).abs() < 1e-14 && (r.s[1] - 5f64.sqrt()).abs() < 1e-14);
    }

    #[test]
    fn tall_wide_rank_deficient_and_full() {
        let tall: Vec<f64> = (0..12).map(|i| ((i * 7) % 5) as f64 - 1.5).collect();
        check(&tall, 4, 3, false);
        check(&tall, 4, 3, true);
        check(&tall, 3, 4, false);
        check(&tall, 3, 4, true);
        // Rank 1: outer product; the zero singular values still get orthonormal vectors.
        let mut r1 = vec![0.0; 12];
        for i in 0..4 {
            for j in 0..3 {
                r1[i * 3 + j] = (i as f64 + 1.0) * (j as f64 - 0.5);
            }
        }
        let r = check(&r1, 4, 3, true);
        assert!(r.s[1].abs() < 1e-14 && r.s[2].abs() < 1e-14);
        let z = check(&[0.0; 6], 2, 3, true);
        assert!(z.s.iter().all(|&s| s == 0.0));
        check(&[], 0, 3, true);
        check(&[], 3, 0, true);
    }

    #[test]
    fn extreme_magnitudes_do_not_overflow() {
        let a = [1e300, 2e300, -3e300, 4e300];
        let r = svd(&a, 2, 2, false, false);
        assert!(r.s.iter().all(|s| s.is_finite()) && r.s[0] > 5e300);
        let t = [1e-300, 0.0, 0.0, 1e-300];
        let r = svd(&t, 2, 2, false, false);
        assert!((r.s[0] - 1e-300).abs() < 1e-310);
    }
}
