//! Tensors an op keeps for its backward rule: the data only (no history, so a node never
//! holds its own output's graph) and the storage version at the time it was saved.

use crate::error::{Error, Result};
use crate::tensor::Tensor;

pub struct SavedTensor {
    data: Tensor,
    version: u64,
}

impl SavedTensor {
    /// Saves `t` for backward. Inference tensors cannot be saved: their storage has no
    /// version history a later in-place change could be checked against.
    pub fn new(t: &Tensor) -> Result<SavedTensor> {
        if t.is_inference() {
            return Err(Error::autograd(
                "Inference tensors cannot be saved for backward: this tensor was created inside \
                 inference_mode and is now used in a computation that records a graph. Make a \
                 normal tensor with `t.clone()` outside inference_mode, or create it under \
                 no_grad instead of inference_mode.",
            ));
        }
        Ok(SavedTensor {
            data: t.detach(),
            version: t.version(),
        })
    }

    /// The saved data, if nothing changed it in place since it was saved.
    pub fn get(&self) -> Result<Tensor> {
        let found = self.data.version();
        if found != self.version {
            return Err(Error::InplaceModified {
                node: "",
                dtype: self.data.dtype(),
                shape: self.data.shape().to_vec(),
                expected: self.version,
                found,
            });
        }
        Ok(self.data.clone())
    }
}
