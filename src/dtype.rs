//! Element types, the promotion table and the `Element` trait kernels are generic over.

use crate::storage::Buffer;
use std::fmt;

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
pub enum DType {
    Bool,
    I64,
    F32,
    F64,
}

impl DType {
    pub fn name(self) -> &'static str {
        match self {
            DType::Bool => "bool",
            DType::I64 => "int64",
            DType::F32 => "float32",
            DType::F64 => "float64",
        }
    }

    pub fn size_in_bytes(self) -> usize {
        match self {
            DType::Bool => 1,
            DType::I64 | DType::F64 => 8,
            DType::F32 => 4,
        }
    }

    pub fn is_float(self) -> bool {
        matches!(self, DType::F32 | DType::F64)
    }

    /// The dtype of a binary op on two tensors: bool < int64 < float32 < float64.
    pub fn promote(a: DType, b: DType) -> DType {
        a.max(b)
    }

    /// The dtype a true division or a float-only op computes in.
    pub fn to_float(self) -> DType {
        if self.is_float() { self } else { DType::F32 }
    }

    pub fn parse(name: &str) -> Option<DType> {
        Some(match name {
            "bool" => DType::Bool,
            "int64" | "long" | "int" => DType::I64,
            "float32" | "float" => DType::F32,
            "float64" | "double" => DType::F64,
            _ => return None,
        })
    }
}

impl fmt::Display for DType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A Python-style scalar: how it promotes depends on its kind, not on a width
/// (a float scalar never widens a float32 tensor to float64).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Scalar {
    Bool(bool),
    Int(i64),
    Float(f64),
}

impl Scalar {
    pub fn as_f64(self) -> f64 {
        match self {
            Scalar::Bool(b) => b as u8 as f64,
            Scalar::Int(i) => i as f64,
            Scalar::Float(f) => f,
        }
    }

    /// The dtype a tensor of `dtype` combined with this scalar computes in.
    pub fn promote_with(self, dtype: DType) -> DType {
        match self {
            Scalar::Bool(_) => dtype,
            Scalar::Int(_) => dtype.max(DType::I64),
            Scalar::Float(_) => dtype.to_float(),
        }
    }

    /// The dtype of a tensor made from this scalar alone.
    pub fn default_dtype(self) -> DType {
        match self {
            Scalar::Bool(_) => DType::Bool,
            Scalar::Int(_) => DType::I64,
            Scalar::Float(_) => DType::F32,
        }
    }
}

impl From<f64> for Scalar {
    fn from(v: f64) -> Self {
        Scalar::Float(v)
    }
}
impl From<f32> for Scalar {
    fn from(v: f32) -> Self {
        Scalar::Float(v as f64)
    }
}
impl From<i64> for Scalar {
    fn from(v: i64) -> Self {
        Scalar::Int(v)
    }
}
impl From<i32> for Scalar {
    fn from(v: i32) -> Self {
        Scalar::Int(v as i64)
    }
}
impl From<bool> for Scalar {
    fn from(v: bool) -> Self {
        Scalar::Bool(v)
    }
}

/// A Rust type stored in a tensor buffer.
pub trait Element:
    Copy + Send + Sync + PartialOrd + PartialEq + fmt::Debug + Default + 'static
{
    const DTYPE: DType;
    fn to_f64(self) -> f64;
    fn from_f64(v: f64) -> Self;
    const ZERO: Self;
    const ONE: Self;
    fn into_buffer(v: Vec<Self>) -> Buffer;
    fn slice(b: &Buffer) -> &[Self];
    fn slice_mut(b: &mut Buffer) -> &mut [Self];
}

macro_rules! element {
    ($t:ty, $d:expr, $var:ident, $zero:expr, $one:expr, |$v:ident| $from:expr, |$s:ident| $to:expr) => {
        impl Element for $t {
            const DTYPE: DType = $d;
            #[inline(always)]
            fn into_buffer(v: Vec<Self>) -> Buffer {
                Buffer::$var(v)
            }
            #[inline(always)]
            fn slice(b: &Buffer) -> &[Self] {
                match b {
                    Buffer::$var(v) => v,
                    // Dispatch is by the tensor's own dtype, so a mismatch is a bug in the crate.
                    other => unreachable!("buffer holds {}, not {}", other.dtype(), $d),
                }
            }
            #[inline(always)]
            fn slice_mut(b: &mut Buffer) -> &mut [Self] {
                match b {
                    Buffer::$var(v) => v,
                    other => unreachable!("buffer holds {}, not {}", other.dtype(), $d),
                }
            }
            #[inline(always)]
            fn to_f64(self) -> f64 {
                let $s = self;
                $to
            }
            #[inline(always)]
            fn from_f64($v: f64) -> Self {
                $from
            }
            const ZERO: Self = $zero;
            const ONE: Self = $one;
        }
    };
}

element!(f32, DType::F32, F32, 0.0, 1.0, |v| v as f32, |s| s as f64);
element!(f64, DType::F64, F64, 0.0, 1.0, |v| v, |s| s);
element!(i64, DType::I64, I64, 0, 1, |v| v as i64, |s| s as f64);
element!(
    bool,
    DType::Bool,
    Bool,
    false,
    true,
    |v| v != 0.0,
    |s| s as u8 as f64
);

/// Float elements: what differentiable kernels are written over.
pub trait FloatElement:
    Element + num_traits::Float + num_traits::NumAssign + std::iter::Sum + Send + Sync
{
}
impl FloatElement for f32 {}
impl FloatElement for f64 {}

/// Runs `$body` with `$T` bound to the Rust element type of `$dtype`.
#[macro_export]
#[doc(hidden)]
macro_rules! with_dtype {
    ($dtype:expr, $T:ident => $body:expr) => {
        match $dtype {
            $crate::DType::F32 => {
                #[allow(unused_imports)]
                use $crate::dtype::Element as _;
                type $T = f32;
                $body
            }
            $crate::DType::F64 => {
                #[allow(unused_imports)]
                use $crate::dtype::Element as _;
                type $T = f64;
                $body
            }
            $crate::DType::I64 => {
                #[allow(unused_imports)]
                use $crate::dtype::Element as _;
                type $T = i64;
                $body
            }
            $crate::DType::Bool => {
                #[allow(unused_imports)]
                use $crate::dtype::Element as _;
                type $T = bool;
                $body
            }
        }
    };
}

/// Like `with_dtype!` for float dtypes; `$other` runs for int and bool.
#[macro_export]
#[doc(hidden)]
macro_rules! with_float {
    ($dtype:expr, $T:ident => $body:expr, _ => $other:expr) => {
        match $dtype {
            $crate::DType::F32 => {
                #[allow(unused_imports)]
                use $crate::dtype::Element as _;
                type $T = f32;
                $body
            }
            $crate::DType::F64 => {
                #[allow(unused_imports)]
                use $crate::dtype::Element as _;
                type $T = f64;
                $body
            }
            _ => $other,
        }
    };
}

/// Like `with_dtype!` for the numeric (non-bool) dtypes.
#[macro_export]
#[doc(hidden)]
macro_rules! with_numeric {
    ($dtype:expr, $T:ident => $body:expr, _ => $other:expr) => {
        match $dtype {
            $crate::DType::F32 => {
                #[allow(unused_imports)]
                use $crate::dtype::Element as _;
                type $T = f32;
                $body
            }
            $crate::DType::F64 => {
                #[allow(unused_imports)]
                use $crate::dtype::Element as _;
                type $T = f64;
                $body
            }
            $crate::DType::I64 => {
                #[allow(unused_imports)]
                use $crate::dtype::Element as _;
                type $T = i64;
                $body
            }
            _ => $other,
        }
    };
}
