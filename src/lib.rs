//! # ferrograd
//!
//! A CPU autograd engine: n-dimensional tensors over shared storage, a graph recorded as ops
//! run, an iterative backward engine, and a per-thread grad mode with guards that restore it.
//!
//! ```
//! use ferrograd::{Tensor, DType, no_grad};
//!
//! let x = Tensor::from_vec(vec![1.0f32, 2.0, 3.0], &[3])?.requires_grad_(true)?;
//! let y = x.mul(&x)?.sum()?;
//! y.backward()?;
//! assert_eq!(x.grad().unwrap().to_vec::<f32>()?, vec![2.0, 4.0, 6.0]);
//!
//! let _guard = no_grad();
//! assert!(!x.mul_scalar(2.0)?.requires_grad());
//! # Ok::<(), ferrograd::Error>(())
//! ```
//!
//! Layers: `storage` and `shape` (memory and views), `tensor` (the handle), `ops` (forward +
//! backward of every op), `autograd` (grad mode, nodes, engine), `kernels` (numerics).
//! The Python bindings live in `bindings` behind the `python` feature.

pub mod autograd;
pub mod dtype;
pub mod error;
pub mod kernels;
pub mod memory;
pub mod nn;
pub mod ops;
pub mod optim;
pub mod random;
pub mod shape;
pub mod storage;
pub mod tensor;

#[cfg(feature = "python")]
mod bindings;

pub use autograd::grad_mode::{
    GradMode, GradModeGuard, enable_grad, inference_mode, is_grad_enabled,
    is_inference_mode_enabled, no_grad, no_grad_scope, set_grad_enabled,
};
pub use dtype::{DType, Element, Scalar};
pub use error::{Error, Result};
pub use kernels::{get_num_threads, set_num_threads};
pub use ops::index::IndexItem;
pub use random::manual_seed;
pub use tensor::Tensor;
