"""MultiheadAttention and TransformerEncoderLayer, composed from differentiable ops with
PyTorch's parameter names (``in_proj_weight``, ``out_proj.weight``, ``linear1``, ``norm1`` ...)."""

from __future__ import annotations

import math

import numpy as np

from ... import _core
from ..._core import Tensor
from .. import functional as F
from .. import init
from ..parameter import Parameter
from .activation import GELU, ReLU
from .dropout import Dropout
from .linear import Linear
from .module import Module
from .normalization import LayerNorm

__all__ = ["MultiheadAttention", "TransformerEncoderLayer"]


def _additive_mask(mask, dtype):
    """A bool mask (True = not allowed) becomes 0 / -inf; a float mask is used as is."""
    if mask is None:
        return None
    if mask.dtype == _core.bool:
        return _core.tensor(np.where(mask.numpy(), -np.inf, 0.0), dtype=dtype)
    return mask.to(dtype)


class MultiheadAttention(Module):
    def __init__(self, embed_dim, num_heads, dropout=0.0, bias=True, add_bias_kv=False, add_zero_attn=False,
                 kdim=None, vdim=None, batch_first=False, device=None, dtype=None):
        super().__init__()
        if embed_dim <= 0 or num_heads <= 0:
            raise ValueError(f"embed_dim and num_heads must be greater than 0, got embed_dim={embed_dim} and num_heads={num_heads} instead")
        if embed_dim % num_heads:
            raise AssertionError("embed_dim must be divisible by num_heads")
        if add_bias_kv or add_zero_attn or (kdim not in (None, embed_dim)) or (vdim not in (None, embed_dim)):
            raise NotImplementedError("MultiheadAttention: add_bias_kv, add_zero_attn and kdim/vdim != embed_dim are not supported")
        dt = _core.float32 if dtype is None else dtype
        self.embed_dim = embed_dim
        self.kdim = self.vdim = embed_dim
        self.num_heads = num_heads
        self.dropout = dropout
        self.batch_first = batch_first
        self.head_dim = embed_dim // num_heads
        self.in_proj_weight = Parameter(_core.empty(3 * embed_dim, embed_dim, dtype=dt))
        if bias:
            self.in_proj_bias = Parameter(_core.empty(3 * embed_dim, dtype=dt))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = Linear(embed_dim, embed_dim, bias=bias, dtype=dt)
        self._reset_parameters()

    def _reset_parameters(self):
        init.xavier_uniform_(self.in_proj_weight)
        if self.in_proj_bias is not None:
            init.constant_(self.in_proj_bias, 0.0)
            init.constant_(self.out_proj.bias, 0.0)

    def forward(self, query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None,
                average_attn_weights=True, is_causal=False):
        batched = query.dim() == 3
        if not batched:
            query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
            if key_padding_mask is not None:
                key_padding_mask = key_padding_mask.unsqueeze(0)
        elif self.batch_first:
            query, key, value = (t.transpose(0, 1) for t in (query, key, value))
        tgt_len, bsz, e = query.shape
        src_len = key.shape[0]
        if e != self.embed_dim:
            raise ValueError(f"was expecting embedding dimension of {self.embed_dim}, but got {e}")
        w, b = self.in_proj_weight, self.in_proj_bias

        def proj(x, i):
            y = x.matmul(w.narrow(0, i * e, e).t())
            return y if b is None else y + b.narrow(0, i * e, e)

        h, d = self.num_heads, self.head_dim
        # [L, N, E] -> [N, h, L, d]
        q = proj(query, 0).reshape(tgt_len, bsz, h, d).permute(1, 2, 0, 3)
        k = proj(key, 1).reshape(src_len, bsz, h, d).permute(1, 2, 0, 3)
        v = proj(value, 2).reshape(src_len, bsz, h, d).permute(1, 2, 0, 3)
        scores = q.matmul(k.transpose(-2, -1)) * (1.0 / math.sqrt(d))
        if is_causal and attn_mask is None:
            attn_mask = _core.tensor(np.triu(np.ones((tgt_len, src_len), dtype=bool), 1))
        am = _additive_mask(attn_mask, scores.dtype)
        if am is not None:
            if am.dim() == 3:  # [N*h, L, S]
                am = am.reshape(bsz, h, tgt_len, src_len)
            scores = scores + am
        kpm = _additive_mask(key_padding_mask, scores.dtype)
        if kpm is not None:
            scores = scores + kpm.reshape(bsz, 1, 1, src_len)
        attn = scores.softmax(-1)
        if self.dropout > 0.0 and self.training:
            attn = F.dropout(attn, self.dropout, True)
        out = attn.matmul(v)  # [N, h, L, d]
        out = out.permute(2, 0, 1, 3).reshape(tgt_len, bsz, e)
        out = self.out_proj(out)
        if not batched:
            out = out.squeeze(1)
        elif self.batch_first:
            out = out.transpose(0, 1)
        weights = None
        if need_weights:
            weights = attn.mean(1) if average_attn_weights else attn
            if not batched:
                weights = weights.squeeze(0)
        return out, weights


class TransformerEncoderLayer(Module):
    """Self-attention then a feed-forward block, each with dropout, a residual and
    LayerNorm (post-norm by default, pre-norm with ``norm_first=True``)."""

    def __init__(self, d_model, nhead, dim_feedforward=2048, dropout=0.1, activation="relu",
                 layer_norm_eps=1e-5, batch_first=False, norm_first=False, bias=True, device=None, dtype=None):
        super().__init__()
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias, batch_first=batch_first, dtype=dtype)
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, dtype=dtype)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, dtype=dtype)
        self.norm_first = norm_first
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        if isinstance(activation, str):
            if activation not in ("relu", "gelu"):
                raise RuntimeError(f"activation should be relu/gelu, not {activation}")
            self.activation = ReLU() if activation == "relu" else GELU()
        else:
            self.activation = activation

    def _sa_block(self, x, attn_mask, key_padding_mask, is_causal):
        x = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask,
                           need_weights=False, is_causal=is_causal)[0]
        return self.dropout1(x)

    def _ff_block(self, x):
        return self.dropout2(self.linear2(self.dropout(self.activation(self.linear1(x)))))

    def forward(self, src: Tensor, src_mask=None, src_key_padding_mask=None, is_causal=False):
        x = src
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), src_mask, src_key_padding_mask, is_causal)
            x = x + self._ff_block(self.norm2(x))
        else:
            x = self.norm1(x + self._sa_block(x, src_mask, src_key_padding_mask, is_causal))
            x = self.norm2(x + self._ff_block(x))
        return x
