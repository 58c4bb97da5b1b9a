//! Conversions between element types, with PyTorch's rules (floats truncate toward zero when
//! cast to int64; any non-zero is true).

use crate::dtype::Element;

pub trait CastFrom<T> {
    fn cast_from(v: T) -> Self;
}

macro_rules! cast_num {
    ($($from:ty => $($to:ty),*);*) => {$($(
        impl CastFrom<$from> for $to {
            #[inline(always)]
            fn cast_from(v: $from) -> Self { v as $to }
        }
    )*)*};
}
cast_num!(f32 => f32, f64, i64; f64 => f32, f64, i64; i64 => f32, f64, i64);

macro_rules! cast_bool {
    ($($t:ty),*) => {$(
        impl CastFrom<bool> for $t {
            #[inline(always)]
            fn cast_from(v: bool) -> Self { (v as u8) as $t }
        }
        impl CastFrom<$t> for bool {
            #[inline(always)]
            fn cast_from(v: $t) -> Self { v != (0 as $t) }
        }
    )*};
}
cast_bool!(f32, f64, i64);

impl CastFrom<bool> for bool {
    #[inline(always)]
    fn cast_from(v: bool) -> Self {
        v
    }
}

/// Casts element by element (float to int64 truncates toward zero; NaN becomes 0).
#[inline(always)]
pub fn cast<T: Element, U: Element + CastFrom<T>>(v: T) -> U {
    U::cast_from(v)
}
