//! The memory behind tensors: one typed buffer shared by every view of it, with the version
//! counter that in-place ops move and saved tensors check.

use crate::dtype::{DType, Element};
use crate::kernels::alloc;
use crate::memory;
use parking_lot::{RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Debug, Clone)]
pub enum Buffer {
    F32(Vec<f32>),
    F64(Vec<f64>),
    I64(Vec<i64>),
    Bool(Vec<bool>),
}

impl Buffer {
    pub fn dtype(&self) -> DType {
        match self {
            Buffer::F32(_) => DType::F32,
            Buffer::F64(_) => DType::F64,
            Buffer::I64(_) => DType::I64,
            Buffer::Bool(_) => DType::Bool,
        }
    }

    pub fn len(&self) -> usize {
        match self {
            Buffer::F32(v) => v.len(),
            Buffer::F64(v) => v.len(),
            Buffer::I64(v) => v.len(),
            Buffer::Bool(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn nbytes(&self) -> usize {
        self.len() * self.dtype().size_in_bytes()
    }
}

/// A buffer plus its version. `inference` marks storage made inside inference mode.
#[derive(Debug)]
pub struct Storage {
    data: RwLock<Buffer>,
    version: AtomicU64,
    nbytes: usize,
    inference: bool,
}

impl Storage {
    pub fn new(buf: Buffer, inference: bool) -> Storage {
        let nbytes = buf.nbytes();
        memory::on_alloc(nbytes);
        Storage {
            data: RwLock::new(buf),
            version: AtomicU64::new(0),
            nbytes,
            inference,
        }
    }

    pub fn from_vec<T: Element>(v: Vec<T>, inference: bool) -> Storage {
        Storage::new(T::into_buffer(v), inference)
    }

    /// Read access. Recursive, so an op may read the same storage twice (`x * x`) without
    /// waiting behind a queued writer.
    pub fn read(&self) -> RwLockReadGuard<'_, Buffer> {
        self.data.read_recursive()
    }

    /// Write access. Callers that also read another tensor must make sure it is not this
    /// storage (or copy it first): a read and a write guard on one lock deadlock.
    pub fn write(&self) -> RwLockWriteGuard<'_, Buffer> {
        self.data.write()
    }

    pub fn version(&self) -> u64 {
        self.version.load(Ordering::Acquire)
    }

    pub fn bump_version(&self) {
        self.version.fetch_add(1, Ordering::AcqRel);
    }

    pub fn is_inference(&self) -> bool {
        self.inference
    }

    pub fn nbytes(&self) -> usize {
        self.nbytes
    }
}

impl Drop for Storage {
    fn drop(&mut self) {
        memory::on_free(self.nbytes);
        // Large buffers go back to the caching allocator for the next result of their size.
        match std::mem::replace(self.data.get_mut(), Buffer::Bool(Vec::new())) {
            Buffer::F32(v) => alloc::recycle(v),
            Buffer::F64(v) => alloc::recycle(v),
            Buffer::I64(v) => alloc::recycle(v),
            Buffer::Bool(v) => alloc::recycle(v),
        }
    }
}
