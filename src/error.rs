//! The one error type of the crate. Every variant names the op and carries what a user needs
//! to fix the call; the Python bindings map each variant to its own exception class.

use crate::dtype::DType;

pub type Result<T> = std::result::Result<T, Error>;

#[derive(Debug, Clone, thiserror::Error)]
pub enum Error {
    /// Shapes that do not fit the op (broadcasting, matmul, reshape, ...).
    #[error("{op}: {msg}")]
    Shape { op: &'static str, msg: String },

    /// A dtype the op does not accept.
    #[error("{op}: {msg}")]
    DType { op: &'static str, msg: String },

    /// A dimension argument outside `[-ndim, ndim)`.
    #[error(
        "{op}: dimension out of range (expected to be in range of [{lo}, {hi}], but got {dim})",
        lo = -(*ndim.max(&1) as isize),
        hi = *ndim.max(&1) as isize - 1
    )]
    DimOutOfRange {
        op: &'static str,
        dim: isize,
        ndim: usize,
    },

    /// An index outside a dimension's size.
    #[error("{op}: index {index} is out of bounds for dimension {dim} with size {size}")]
    IndexOutOfRange {
        op: &'static str,
        index: i64,
        dim: usize,
        size: usize,
    },

    /// Any other bad index (maps to Python's IndexError).
    #[error("{op}: {msg}")]
    Index { op: &'static str, msg: String },

    /// A saved tensor changed in place between the forward and the backward pass.
    #[error(
        "one of the variables needed for gradient computation has been modified by an inplace \
         operation: [{dtype} {shape:?}], which is saved by {node}, is at version {found}; expected \
         version {expected} instead. Compute the value out of place (e.g. `x = x * 2` rather than \
         `x *= 2`) or clone it before the in-place update."
    )]
    InplaceModified {
        node: &'static str,
        dtype: DType,
        shape: Vec<usize>,
        expected: u64,
        found: u64,
    },

    /// Misuse of autograd: backward twice, no graph, in-place on a leaf, inference tensors...
    #[error("{0}")]
    Autograd(String),

    /// A bad argument value (not a type error, not a shape).
    #[error("{op}: {msg}")]
    Invalid { op: &'static str, msg: String },

    /// An argument of the wrong kind (maps to Python's TypeError).
    #[error("{op}: {msg}")]
    Type { op: &'static str, msg: String },
}

impl Error {
    pub(crate) fn shape(op: &'static str, msg: impl Into<String>) -> Self {
        Error::Shape {
            op,
            msg: msg.into(),
        }
    }
    pub(crate) fn dtype(op: &'static str, msg: impl Into<String>) -> Self {
        Error::DType {
            op,
            msg: msg.into(),
        }
    }
    pub(crate) fn invalid(op: &'static str, msg: impl Into<String>) -> Self {
        Error::Invalid {
            op,
            msg: msg.into(),
        }
    }
    pub(crate) fn autograd(msg: impl Into<String>) -> Self {
        Error::Autograd(msg.into())
    }
}
