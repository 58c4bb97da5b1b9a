"""SGD, Adam, AdamW, RMSprop and Adagrad. Each step hands a whole parameter group to one
fused Rust kernel per parameter (``ferrograd._core._*_step``), the same code the Rust
``ferrograd::optim`` types run."""

from __future__ import annotations

from .. import _core
from .optimizer import Optimizer

__all__ = ["SGD", "Adagrad", "Adam", "AdamW", "RMSprop"]


def _no_foreach(kw):
    # foreach/fused/capturable/differentiable select PyTorch implementations; the fused
    # kernel is the only one here, and differentiable steps are not supported.
    if kw.pop("differentiable", False):
        raise NotImplementedError("differentiable=True is not supported")
    for k in ("foreach", "fused", "capturable"):
        kw.pop(k, None)
    if kw:
        raise TypeError(f"unexpected keyword arguments {sorted(kw)}")


class SGD(Optimizer):
    def __init__(self, params, lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False, *, maximize=False, **kw):
        _no_foreach(kw)
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                                      nesterov=nesterov, maximize=maximize))

    def _step_group(self, g):
        ps, grads = self._with_grads(g)
        if not ps:
            return
        bufs, first = [], []
        for p in ps:
            st = self.state[p]
            buf = st.get("momentum_buffer")
            if g["momentum"] != 0 and buf is None:
                buf = self._zeros(p)
                st["momentum_buffer"] = buf
                first.append(True)
            else:
                first.append(False)
            bufs.append(buf if g["momentum"] != 0 else None)
        _core._sgd_step(ps, grads, bufs, first, lr=float(g["lr"]), momentum=float(g["momentum"]),
                        dampening=float(g["dampening"]), weight_decay=float(g["weight_decay"]),
                        nesterov=bool(g["nesterov"]), maximize=bool(g["maximize"]))


class Adam(Optimizer):
    _decoupled = False

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False, *, maximize=False, **kw):
        _no_foreach(kw)
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if eps < 0.0:
            raise ValueError(f"Invalid epsilon value: {eps}")
        for i in (0, 1):
            if not 0.0 <= betas[i] < 1.0:
                raise ValueError(f"Invalid beta parameter at index {i}: {betas[i]}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay, amsgrad=amsgrad, maximize=maximize))

    def _step_group(self, g):
        ps, grads = self._with_grads(g)
        if not ps:
            return
        m, v, vmax, steps = [], [], [], []
        for p in ps:
            st = self.state[p]
            if not st:
                st["step"] = 0
                st["exp_avg"] = self._zeros(p)
                st["exp_avg_sq"] = self._zeros(p)
                if g["amsgrad"]:
                    st["max_exp_avg_sq"] = self._zeros(p)
            if g["amsgrad"] and "max_exp_avg_sq" not in st:
                st["max_exp_avg_sq"] = self._zeros(p)
            st["step"] = int(st["step"]) + 1
            m.append(st["exp_avg"])
            v.append(st["exp_avg_sq"])
            vmax.append(st.get("max_exp_avg_sq") if g["amsgrad"] else None)
            steps.append(st["step"])
        b1, b2 = g["betas"]
        _core._adam_step(ps, grads, m, v, vmax, steps, lr=float(g["lr"]), beta1=float(b1), beta2=float(b2),
                         eps=float(g["eps"]), weight_decay=float(g["weight_decay"]), amsgrad=bool(g["amsgrad"]),
                         maximize=bool(g["maximize"]), decoupled=self._decoupled)


class AdamW(Adam):
    """Adam with decoupled weight decay (default 0.01)."""

    _decoupled = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False, *, maximize=False, **kw):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize, **kw)


class RMSprop(Optimizer):
    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False, *, maximize=False, **kw):
        _no_foreach(kw)
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if eps < 0.0:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if alpha < 0.0:
            raise ValueError(f"Invalid alpha value: {alpha}")
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum,
                                      centered=centered, maximize=maximize))

    def _step_group(self, g):
        ps, grads = self._with_grads(g)
        if not ps:
            return
        sq, mb, ga = [], [], []
        for p in ps:
            st = self.state[p]
            if not st:
                st["step"] = 0
                st["square_avg"] = self._zeros(p)
            if g["momentum"] > 0 and "momentum_buffer" not in st:
                st["momentum_buffer"] = self._zeros(p)
            if g["centered"] and "grad_avg" not in st:
                st["grad_avg"] = self._zeros(p)
            st["step"] = int(st["step"]) + 1
            sq.append(st["square_avg"])
            mb.append(st["momentum_buffer"] if g["momentum"] > 0 else None)
            ga.append(st["grad_avg"] if g["centered"] else None)
        _core._rmsprop_step(ps, grads, sq, mb, ga, lr=float(g["lr"]), alpha=float(g["alpha"]), eps=float(g["eps"]),
                            weight_decay=float(g["weight_decay"]), momentum=float(g["momentum"]),
                            centered=bool(g["centered"]), maximize=bool(g["maximize"]))


class Adagrad(Optimizer):
    def __init__(self, params, lr=1e-2, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0, eps=1e-10, *, maximize=False, **kw):
        _no_foreach(kw)
        for name, v in (("learning rate", lr), ("lr_decay", lr_decay), ("weight_decay", weight_decay),
                        ("initial_accumulator_value", initial_accumulator_value), ("epsilon", eps)):
            if v < 0.0:
                raise ValueError(f"Invalid {name} value: {v}")
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value, eps=eps, maximize=maximize))
        # PyTorch creates Adagrad's state eagerly.
        for g in self.param_groups:
            for p in g["params"]:
                st = self.state[p]
                st["step"] = 0
                st["sum"] = _core.full(tuple(p.shape), float(g["initial_accumulator_value"]), dtype=p.dtype)

    def _step_group(self, g):
        ps, grads = self._with_grads(g)
        if not ps:
            return
        sums, steps = [], []
        for p in ps:
            st = self.state[p]
            if "sum" not in st:
                st["step"] = 0
                st["sum"] = _core.full(tuple(p.shape), float(g["initial_accumulator_value"]), dtype=p.dtype)
            st["step"] = int(st["step"]) + 1
            sums.append(st["sum"])
            steps.append(st["step"])
        _core._adagrad_step(ps, grads, sums, steps, lr=float(g["lr"]), lr_decay=float(g["lr_decay"]),
                            weight_decay=float(g["weight_decay"]), eps=float(g["eps"]), maximize=bool(g["maximize"]))
