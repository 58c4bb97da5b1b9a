"""RNN, LSTM and GRU (unidirectional, any number of layers, batch_first), written with
differentiable tensor ops so backward runs through time automatically. Parameter names,
gate order and initialisation follow PyTorch (``weight_ih_l0``; LSTM gates i,f,g,o; GRU r,z,n;
everything uniform in +-1/sqrt(hidden_size))."""

from __future__ import annotations

import math

from ... import _core
from .. import functional as F
from .. import init
from ..parameter import Parameter
from .module import Module

__all__ = ["GRU", "LSTM", "RNN"]


def _stack(tensors, dim):
    import ferrograd

    return ferrograd.stack(tensors, dim)


class _RNNBase(Module):
    _gates = 1
    _mode = "RNN"

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, device=None, dtype=None, nonlinearity="tanh"):
        super().__init__()
        if bidirectional:
            raise NotImplementedError(f"{type(self).__name__}(bidirectional=True) is not supported yet")
        if not 0 <= dropout <= 1:
            raise ValueError("dropout should be a number in range [0, 1]")
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or 'relu'.")
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = False
        self.nonlinearity = nonlinearity
        dt = _core.float32 if dtype is None else dtype
        g = self._gates * hidden_size
        for layer in range(num_layers):
            in_size = input_size if layer == 0 else hidden_size
            setattr(self, f"weight_ih_l{layer}", Parameter(_core.empty(g, in_size, dtype=dt)))
            setattr(self, f"weight_hh_l{layer}", Parameter(_core.empty(g, hidden_size, dtype=dt)))
            if bias:
                setattr(self, f"bias_ih_l{layer}", Parameter(_core.empty(g, dtype=dt)))
                setattr(self, f"bias_hh_l{layer}", Parameter(_core.empty(g, dtype=dt)))
        self.reset_parameters()

    def reset_parameters(self):
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for w in self.parameters():
            init.uniform_(w, -stdv, stdv)

    def _layer_params(self, layer):
        w_ih = getattr(self, f"weight_ih_l{layer}")
        w_hh = getattr(self, f"weight_hh_l{layer}")
        b_ih = getattr(self, f"bias_ih_l{layer}") if self.bias else None
        b_hh = getattr(self, f"bias_hh_l{layer}") if self.bias else None
        return w_ih, w_hh, b_ih, b_hh

    def _zeros(self, batch, ref):
        return _core.zeros(self.num_layers, batch, self.hidden_size, dtype=ref.dtype)

    def forward(self, input, hx=None):
        batched = input.dim() == 3
        if input.dim() not in (2, 3):
            raise ValueError(f"{type(self).__name__}: Expected input to be 2D or 3D, got {input.dim()}D instead")
        if not batched:
            input = input.unsqueeze(1)
            hx = _unsqueeze_state(hx, 1)
        elif self.batch_first:
            input = input.transpose(0, 1)
        seq_len, batch, feat = input.shape
        if feat != self.input_size:
            raise ValueError(f"input.size(-1) must be equal to input_size. Expected {self.input_size}, got {feat}")
        state = self._init_state(hx, batch, input)
        layer_input = [input[t] for t in range(seq_len)]
        finals = []
        for layer in range(self.num_layers):
            params = self._layer_params(layer)
            h = tuple(s[layer] for s in state)
            outs = []
            for x in layer_input:
                h = self._cell(x, h, *params)
                outs.append(h[0])
            finals.append(h)
            layer_input = outs
            if self.dropout and self.training and layer < self.num_layers - 1:
                layer_input = [F.dropout(o, self.dropout, True) for o in layer_input]
        output = _stack(layer_input, 0) if seq_len else _core.zeros(0, batch, self.hidden_size, dtype=input.dtype)
        h_n = tuple(_stack([f[i] for f in finals], 0) for i in range(len(state)))
        if not batched:
            output = output.squeeze(1)
            h_n = tuple(s.squeeze(1) for s in h_n)
        elif self.batch_first:
            output = output.transpose(0, 1)
        return output, (h_n if self._mode == "LSTM" else h_n[0])

    def _init_state(self, hx, batch, ref):
        if hx is None:
            return (self._zeros(batch, ref),)
        if tuple(hx.shape) != (self.num_layers, batch, self.hidden_size):
            raise RuntimeError(f"Expected hidden size {(self.num_layers, batch, self.hidden_size)}, got {tuple(hx.shape)}")
        return (hx,)

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self._mode == "RNN" and self.nonlinearity != "tanh":
            s += f", nonlinearity={self.nonlinearity!r}"
        if not self.bias:
            s += ", bias=False"
        if self.batch_first:
            s += ", batch_first=True"
        if self.dropout:
            s += f", dropout={self.dropout}"
        return s


def _unsqueeze_state(hx, dim):
    if hx is None:
        return None
    if isinstance(hx, tuple):
        return tuple(h.unsqueeze(dim) for h in hx)
    return hx.unsqueeze(dim)


def _affine(x, w, b):
    y = x.matmul(w.t())
    return y if b is None else y + b


class RNN(_RNNBase):
    """Elman RNN: ``h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh)`` (or relu)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)

    def _cell(self, x, h, w_ih, w_hh, b_ih, b_hh):
        pre = _affine(x, w_ih, b_ih) + _affine(h[0], w_hh, b_hh)
        return (pre.tanh() if self.nonlinearity == "tanh" else pre.relu(),)


class LSTM(_RNNBase):
    _gates = 4
    _mode = "LSTM"

    def __init__(self, *args, **kwargs):
        if "nonlinearity" in kwargs:
            raise TypeError("LSTM got an unexpected keyword argument 'nonlinearity'")
        super().__init__(*args, **kwargs)

    def _init_state(self, hx, batch, ref):
        if hx is None:
            return (self._zeros(batch, ref), self._zeros(batch, ref))
        if not isinstance(hx, tuple) or len(hx) != 2:
            raise TypeError("LSTM expects hx as a tuple (h_0, c_0)")
        for s in hx:
            if tuple(s.shape) != (self.num_layers, batch, self.hidden_size):
                raise RuntimeError(f"Expected hidden size {(self.num_layers, batch, self.hidden_size)}, got {tuple(s.shape)}")
        return hx

    def _cell(self, x, state, w_ih, w_hh, b_ih, b_hh):
        h, c = state
        gates = _affine(x, w_ih, b_ih) + _affine(h, w_hh, b_hh)
        n = self.hidden_size
        i = gates.narrow(-1, 0, n).sigmoid()
        f = gates.narrow(-1, n, n).sigmoid()
        g = gates.narrow(-1, 2 * n, n).tanh()
        o = gates.narrow(-1, 3 * n, n).sigmoid()
        c = f * c + i * g
        return (o * c.tanh(), c)


class GRU(_RNNBase):
    _gates = 3

    def __init__(self, *args, **kwargs):
        if "nonlinearity" in kwargs:
            raise TypeError("GRU got an unexpected keyword argument 'nonlinearity'")
        super().__init__(*args, **kwargs)

    def _cell(self, x, state, w_ih, w_hh, b_ih, b_hh):
        h = state[0]
        gi = _affine(x, w_ih, b_ih)
        gh = _affine(h, w_hh, b_hh)
        n = self.hidden_size
        r = (gi.narrow(-1, 0, n) + gh.narrow(-1, 0, n)).sigmoid()
        z = (gi.narrow(-1, n, n) + gh.narrow(-1, n, n)).sigmoid()
        cand = (gi.narrow(-1, 2 * n, n) + r * gh.narrow(-1, 2 * n, n)).tanh()
        return ((1 - z) * cand + z * h,)
