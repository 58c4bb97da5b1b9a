//! `einsum` for any number of operands, built from views and `matmul`: repeated subscripts
//! in one operand take a diagonal, subscripts needed nowhere else are summed early, and each
//! pair of operands is contracted as one batched matrix product (batch, kept, contracted dims
//! moved into place by permute + reshape). Gradients come from those ops.

use super::{grads, record};
use crate::error::{Error, Result};
use crate::tensor::Tensor;

/// A subscript: a letter, or one dim of the broadcast `...` block (numbered from its left).
#[derive(Clone, Copy, PartialEq, Eq, Debug, PartialOrd, Ord)]
enum Label {
    Ell(usize),
    Letter(char),
}

impl std::fmt::Display for Label {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Label::Letter(c) => write!(f, "'{c}'"),
            Label::Ell(i) => write!(f, "'...'[{i}]"),
        }
    }
}

/// One term's letters, split around its ellipsis: (before, has_ellipsis, after).
fn parse_term(term: &str) -> Result<(Vec<char>, bool, Vec<char>)> {
    let (before, after, ell) = match term.find("...") {
        Some(p) => (&term[..p], &term[p + 3..], true),
        None => (term, "", false),
    };
    let letters = |s: &str| -> Result<Vec<char>> {
        s.chars()
            .map(|c| {
                if c.is_ascii_alphabetic() {
                    Ok(c)
                } else {
                    Err(Error::invalid("einsum", format!("invalid subscript '{c}' in \"{term}\": subscripts must be letters in [a-zA-Z] or '...'")))
                }
            })
            .collect()
    };
    Ok((letters(before)?, ell, letters(after)?))
}

/// The diagonal over dims `a < b` (equal sizes) as a view with dim `b` removed.
fn diagonal(t: &Tensor, a: usize, b: usize) -> Result<Tensor> {
    let diag = move |l: &crate::shape::Layout| {
        let mut l = l.clone();
        l.strides[a] += l.strides[b];
        l.shape.remove(b);
        l.strides.remove(b);
        l
    };
    let out = t.view_with_layout(diag(t.layout()));
    let shape = t.shape().to_vec();
    record(out, "DiagonalBackward", &[t], move |_| {
        Ok(move |g: &Tensor, _: &[bool]| {
            let z = Tensor::zeros(&shape, g.dtype())?;
            z.view_with_layout(diag(z.layout())).copy_(g)?;
            Ok(grads([Some(z)]))
        })
    })
}

/// Sums the dims of `t` whose labels are not in `keep`.
fn sum_unneeded(
    t: Tensor,
    labels: Vec<Label>,
    keep: impl Fn(Label) -> bool,
) -> Result<(Tensor, Vec<Label>)> {
    let drop: Vec<isize> = (0..labels.len())
        .filter(|&i| !keep(labels[i]))
        .map(|i| i as isize)
        .collect();
    if drop.is_empty() {
        return Ok((t, labels));
    }
    let kept = labels
        .iter()
        .enumerate()
        .filter(|(i, _)| !drop.contains(&(*i as isize)))
        .map(|(_, &l)| l)
        .collect();
    Ok((t.sum_dims(Some(&drop), false)?, kept))
}

fn position(labels: &[Label], l: Label) -> usize {
    labels.iter().position(|&x| x == l).expect("label present")
}

/// Contracts two operands over their shared labels not in `needed`.
fn contract(
    a: (Tensor, Vec<Label>),
    b: (Tensor, Vec<Label>),
    needed: &dyn Fn(Label) -> bool,
    size: &dyn Fn(Label) -> usize,
) -> Result<(Tensor, Vec<Label>)> {
    let (ta, la) = a;
    let (tb, lb) = b;
    let batch: Vec<Label> = la
        .iter()
        .copied()
        .filter(|l| lb.contains(l) && needed(*l))
        .collect();
    let summed: Vec<Label> = la
        .iter()
        .copied()
        .filter(|l| lb.contains(l) && !needed(*l))
        .collect();
    let left: Vec<Label> = la.iter().copied().filter(|l| !lb.contains(l)).collect();
    let right: Vec<Label> = lb.iter().copied().filter(|l| !la.contains(l)).collect();
    let perm_of = |labels: &[Label], order: &[&[Label]]| -> Vec<isize> {
        order
            .iter()
            .flat_map(|g| g.iter())
            .map(|&l| position(labels, l) as isize)
            .collect()
    };
    let prod = |ls: &[Label]| -> isize { ls.iter().map(|&l| size(l)).product::<usize>() as isize };
    let a3 = permuted(&ta, &perm_of(&la, &[&batch, &left, &summed]))?.reshape(&[
        prod(&batch),
        prod(&left),
        prod(&summed),
    ])?;
    let b3 = permuted(&tb, &perm_of(&lb, &[&batch, &summed, &right]))?.reshape(&[
        prod(&batch),
        prod(&summed),
        prod(&right),
    ])?;
    let out = a3.matmul(&b3)?;
    let labels: Vec<Label> = batch.iter().chain(&left).chain(&right).copied().collect();
    let shape: Vec<usize> = labels.iter().map(|&l| size(l)).collect();
    Ok((out.reshape_to(&shape)?, labels))
}

/// Einstein summation over `operands` as described by `equation` (e.g. "bij,bjk->bik",
/// "ii->", "i,j->ij", "...ij->...ji"). Without "->" the output holds the broadcast dims then
/// the letters used exactly once, in alphabetical order. Size-1 dims broadcast.
pub fn einsum(equation: &str, operands: &[Tensor]) -> Result<Tensor> {
    let eq: String = equation.chars().filter(|c| !c.is_whitespace()).collect();
    let (lhs, rhs) = match eq.split_once("->") {
        Some((l, r)) => (l, Some(r)),
        None => (eq.as_str(), None),
    };
    let terms: Vec<&str> = lhs.split(',').collect();
    if terms.len() != operands.len() {
        return Err(Error::invalid(
            "einsum",
            format!(
                "the equation \"{equation}\" has {} input terms but {} operands were given",
                terms.len(),
                operands.len()
            ),
        ));
    }
    if operands.is_empty() {
        return Err(Error::invalid(
            "einsum",
            "must provide at least one operand",
        ));
    }
    for t in &operands[1..] {
        if t.dtype() != operands[0].dtype() {
            return Err(Error::dtype(
                "einsum",
                format!(
                    "operands must have the same dtype, got {} and {}",
                    operands[0].dtype(),
                    t.dtype()
                ),
            ));
        }
    }
    // Label every dim of every operand.
    let parsed: Vec<_> = terms.iter().map(|t| parse_term(t)).collect::<Result<_>>()?;
    let ell_dims: Vec<usize> = parsed
        .iter()
        .zip(operands)
        .enumerate()
        .map(|(i, ((before, ell, after), t))| {
            let n = before.len() + after.len();
            if (*ell && t.ndim() < n) || (!*ell && t.ndim() != n) {
                return Err(Error::shape(
                    "einsum",
                    format!("the term \"{}\" for operand {i} has {n} subscripts but the operand has {} dims (shape {:?})", terms[i], t.ndim(), t.shape()),
                ));
            }
            Ok(t.ndim() - n)
        })
        .collect::<Result<_>>()?;
    let n_ell = ell_dims.iter().copied().max().unwrap_or(0);
    let labels: Vec<Vec<Label>> = parsed
        .iter()
        .zip(&ell_dims)
        .map(|((before, _, after), &e)| {
            let mut v: Vec<Label> = before.iter().map(|&c| Label::Letter(c)).collect();
            v.extend((n_ell - e..n_ell).map(Label::Ell));
            v.extend(after.iter().map(|&c| Label::Letter(c)));
            v
        })
        .collect();
    // One size per label; size-1 occurrences broadcast.
    let mut sizes: Vec<(Label, usize)> = Vec::new();
    for (i, (ls, t)) in labels.iter().zip(operands).enumerate() {
        for (&l, &n) in ls.iter().zip(t.shape()) {
            match sizes.iter_mut().find(|(x, _)| *x == l) {
                None => sizes.push((l, n)),
                Some((_, m)) if *m == 1 => *m = n,
                Some((_, m)) if n != 1 && *m != n => {
                    return Err(Error::shape(
                        "einsum",
                        format!(
                            "subscript {l} has size {m} elsewhere but size {n} in operand {i} (shape {:?})",
                            t.shape()
                        ),
                    ));
                }
                Some(_) => {}
            }
        }
    }
    let size = |l: Label| {
        sizes
            .iter()
            .find(|(x, _)| *x == l)
            .map(|&(_, n)| n)
            .expect("every label has a size")
    };
    let count = |l: Label| labels.iter().flatten().filter(|&&x| x == l).count();
    // The output's labels.
    let output: Vec<Label> = match rhs {
        Some(r) => {
            let (before, ell, after) = parse_term(r)?;
            let mut out: Vec<Label> = before.iter().map(|&c| Label::Letter(c)).collect();
            if ell {
                out.extend((0..n_ell).map(Label::Ell));
            }
            out.extend(after.iter().map(|&c| Label::Letter(c)));
            for (i, &l) in out.iter().enumerate() {
                if out[..i].contains(&l) {
                    return Err(Error::invalid(
                        "einsum",
                        format!("output subscript {l} appears more than once in \"{equation}\""),
                    ));
                }
                if count(l) == 0 {
                    return Err(Error::invalid(
                        "einsum",
                        format!(
                            "output subscript {l} does not appear in the inputs of \"{equation}\""
                        ),
                    ));
                }
            }
            out
        }
        None => {
            let mut out: Vec<Label> = (0..n_ell).map(Label::Ell).collect();
            let mut once: Vec<Label> = sizes
                .iter()
                .map(|&(l, _)| l)
                .filter(|&l| matches!(l, Label::Letter(_)) && count(l) == 1)
                .collect();
            once.sort();
            out.extend(once);
            out
        }
    };
    // Per operand: diagonals for repeated labels, broadcast size-1 dims, sum private labels.
    let mut ops: Vec<(Tensor, Vec<Label>)> = Vec::with_capacity(operands.len());
    for (i, (t, ls)) in operands.iter().zip(&labels).enumerate() {
        let (mut t, mut ls) = (t.clone(), ls.clone());
        while let Some((a, b)) =
            (0..ls.len()).find_map(|b| ls[..b].iter().position(|&x| x == ls[b]).map(|a| (a, b)))
        {
            if t.shape()[a] != t.shape()[b] {
                return Err(Error::shape(
                    "einsum",
                    format!(
                        "subscript {} is repeated for operand {i} but the sizes don't match, {} != {}",
                        ls[a],
                        t.shape()[a],
                        t.shape()[b]
                    ),
                ));
            }
            t = diagonal(&t, a, b)?;
            ls.remove(b);
        }
        let full: Vec<usize> = ls.iter().map(|&l| size(l)).collect();
        if full != t.shape() {
            t = t.expand_to(&full)?;
        }
        let used_elsewhere = |l: Label| {
            output.contains(&l)
                || labels
                    .iter()
                    .enumerate()
                    .any(|(j, o)| j != i && o.contains(&l))
        };
        ops.push(sum_unneeded(t, ls, used_elsewhere)?);
    }
    // Contract left to right.
    let mut rest = ops.into_iter();
    let mut acc = rest.next().expect("at least one operand");
    let remaining: Vec<(Tensor, Vec<Label>)> = rest.collect();
    for (k, next) in remaining.iter().enumerate() {
        let later = &remaining[k + 1..];
        let needed = |l: Label| output.contains(&l) || later.iter().any(|(_, ls)| ls.contains(&l));
        acc = contract(acc, next.clone(), &needed, &size)?;
    }
    let (t, ls) = sum_unneeded(acc.0, acc.1, |l| output.contains(&l))?;
    let perm: Vec<isize> = output.iter().map(|&l| position(&ls, l) as isize).collect();
    permuted(&t, &perm)
}

/// `t.permute(perm)`, or `t` itself for the identity (no view needed; a 0-d permute would
/// also drop the history).
fn permuted(t: &Tensor, perm: &[isize]) -> Result<Tensor> {
    if perm.iter().enumerate().all(|(i, &p)| i as isize == p) {
        Ok(t.clone())
    } else {
        t.permute(perm)
    }
}
