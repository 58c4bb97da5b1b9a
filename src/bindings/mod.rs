//! The Python extension `ferrograd._core`. The only code in the crate that names PyO3.

mod convert;
mod errors;
mod functions;
mod grad_mode;
mod nn_functional;
mod ops_elementwise;
mod ops_reduce;
mod ops_shape;
mod optim;
mod tensor;

use pyo3::prelude::*;

#[pymodule]
mod _core {
    #[pymodule_export]
    use super::convert::PyDType;
    #[pymodule_export]
    use super::errors::{AutogradError, DTypeError, FerrogradError, ShapeError};
    #[pymodule_export]
    use super::functions::{
        arange, as_tensor, backward, cross_entropy, dtype_of, empty, empty_like, eye, from_numpy,
        full, full_like, get_num_threads, grad, initial_seed, linspace, manual_seed,
        memory_allocated, memory_peak_allocated, memory_reset_peak, ones, ones_like, rand,
        rand_like, randint, randn, randn_like, set_num_threads, tensor, zeros, zeros_like,
    };
    #[pymodule_export]
    use super::grad_mode::{
        _get_mode, _set_mode, EnableGrad, ExactMode, InferenceMode, NoGrad, SetGradEnabled,
        is_grad_enabled, is_inference_mode_enabled,
    };
    #[pymodule_export]
    use super::tensor::{PyGradFn, PyTensor};

    use super::*;

    #[pymodule_init]
    fn init(m: &Bound<'_, PyModule>) -> PyResult<()> {
        use crate::dtype::DType;
        for (name, d) in [
            ("float32", DType::F32),
            ("float", DType::F32),
            ("float64", DType::F64),
            ("double", DType::F64),
            ("int64", DType::I64),
            ("long", DType::I64),
            ("bool", DType::Bool),
        ] {
            m.add(name, convert::PyDType(d))?;
        }
        m.add("__version__", env!("CARGO_PKG_VERSION"))?;
        // Each family of ops registers its own module-level functions.
        ops_elementwise::register(m)?;
        ops_reduce::register(m)?;
        ops_shape::register(m)?;
        nn_functional::register(m)?;
        optim::register(m)?;
        Ok(())
    }
}
