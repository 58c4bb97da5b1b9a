//! Reading a tensor's elements out in row-major order.

use super::Tensor;
use crate::dtype::{DType, Element, Scalar};
use crate::error::{Error, Result};
use crate::kernels::{cast::CastFrom, strided};
use crate::with_dtype;

impl Tensor {
    /// Runs `f` on the elements in row-major order (borrowed when already contiguous).
    pub fn with_contiguous<T: Element, R>(&self, f: impl FnOnce(&[T]) -> R) -> Result<R> {
        if self.dtype() != T::DTYPE {
            return Err(Error::dtype(
                "to_vec",
                format!("tensor has dtype {}, not {}", self.dtype(), T::DTYPE),
            ));
        }
        let buf = self.storage().read();
        let data = T::slice(&buf);
        Ok(match strided::contiguous_slice(data, self.layout()) {
            Some(s) => f(s),
            None => f(&strided::to_contiguous(data, self.layout())),
        })
    }

    /// The elements as a `Vec<T>`; `T` must be the tensor's dtype.
    pub fn to_vec<T: Element>(&self) -> Result<Vec<T>> {
        self.with_contiguous(|s: &[T]| s.to_vec())
    }

    /// The elements converted to f64 (any dtype).
    pub fn to_vec_f64(&self) -> Vec<f64> {
        with_dtype!(self.dtype(), T => {
            self.with_contiguous(|s: &[T]| s.iter().map(|&x| f64::cast_from(x)).collect()).unwrap_or_default()
        })
    }

    /// The value of a one-element tensor.
    pub fn item(&self) -> Result<Scalar> {
        if self.numel() != 1 {
            return Err(Error::invalid(
                "item",
                format!(
                    "a Tensor with {} elements cannot be converted to Scalar",
                    self.numel()
                ),
            ));
        }
        let buf = self.storage().read();
        let off = self.storage_offset();
        Ok(match self.dtype() {
            DType::F32 => Scalar::Float(f32::slice(&buf)[off] as f64),
            DType::F64 => Scalar::Float(f64::slice(&buf)[off]),
            DType::I64 => Scalar::Int(i64::slice(&buf)[off]),
            DType::Bool => Scalar::Bool(bool::slice(&buf)[off]),
        })
    }

    /// `item()` as f64.
    pub fn item_f64(&self) -> Result<f64> {
        self.item().map(Scalar::as_f64)
    }
}
