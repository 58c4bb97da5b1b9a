//! Autograd: the grad mode, graph nodes, saved tensors, the backward engine and gradcheck.

pub mod check;
pub mod engine;
pub mod grad_mode;
pub mod node;
pub mod saved;

pub use check::{GradcheckOptions, gradcheck};
pub use engine::{backward, grad};
pub use grad_mode::{
    GradMode, GradModeGuard, enable_grad, inference_mode, is_grad_enabled,
    is_inference_mode_enabled, no_grad, no_grad_scope, set_grad_enabled,
};
pub use node::Node;
