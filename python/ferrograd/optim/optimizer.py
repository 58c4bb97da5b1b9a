"""The ``Optimizer`` base class: parameter groups with per-group options, per-parameter
state, ``zero_grad`` and ``state_dict``/``load_state_dict`` in PyTorch's layout."""

from __future__ import annotations

import copy
from collections import defaultdict

from .. import _core
from .._core import Tensor

__all__ = ["Optimizer", "required"]


class _Required:
    def __repr__(self):
        return "<required parameter>"


required = _Required()


class Optimizer:
    """Subclasses set ``defaults`` through ``__init__`` and implement ``_step_group(group)``;
    ``step()`` runs it for every group under no_grad."""

    def __init__(self, params, defaults: dict):
        self.defaults = defaults
        self.state = defaultdict(dict)
        self.param_groups = []
        if isinstance(params, Tensor):
            raise TypeError(
                "params argument given to the optimizer should be an iterable of Tensors or dicts, but got " + type(params).__name__
            )
        groups = list(params)
        if not groups:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for g in groups:
            self.add_param_group(g)

    def add_param_group(self, param_group: dict) -> None:
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group).__name__}")
        group = dict(param_group)
        params = group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections, but the ordering of tensors in sets will change between runs. Please use a list instead.")
        params = list(params)
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(f"optimizer can only optimize Tensors, but one of the params is {type(p).__name__}")
            if not p.is_leaf:
                raise ValueError("can't optimize a non-leaf Tensor")
        group["params"] = params
        for k, v in self.defaults.items():
            if v is required and k not in group:
                raise ValueError(f"parameter group didn't specify a value of required optimization parameter {k}")
            group.setdefault(k, v)
        existing = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in existing for p in params):
            raise ValueError("some parameters appear in more than one parameter group")
        if len({id(p) for p in params}) != len(params):
            raise ValueError("a parameter group contains duplicate parameters")
        self._validate(group)
        self.param_groups.append(group)

    def _validate(self, group):
        for k in ("lr", "weight_decay", "eps", "momentum"):
            v = group.get(k)
            if isinstance(v, (int, float)) and v < 0:
                raise ValueError(f"Invalid {'learning rate' if k == 'lr' else k} value: {v}")

    def zero_grad(self, set_to_none: bool = True) -> None:
        for g in self.param_groups:
            for p in g["params"]:
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    grad = p.grad
                    with _core.no_grad():
                        grad.zero_()

    def step(self, closure=None):
        loss = None
        if closure is not None:
            with _core.enable_grad():
                loss = closure()
        with _core.no_grad():
            for group in self.param_groups:
                self._step_group(group)
        return loss

    def _step_group(self, group):  # pragma: no cover - abstract
        raise NotImplementedError

    @staticmethod
    def _with_grads(group):
        ps = [p for p in group["params"] if p.grad is not None]
        return ps, [p.grad for p in ps]

    def _zeros(self, p):
        return _core.zeros(*p.shape, dtype=p.dtype)

    # ----- state -----

    def state_dict(self) -> dict:
        """``{"state": {index: {...}}, "param_groups": [{options..., "params": [index...]}]}``
        with parameters numbered in group order, as PyTorch does."""
        index = {}
        groups = []
        for g in self.param_groups:
            packed = {k: v for k, v in g.items() if k != "params"}
            ids = []
            for p in g["params"]:
                index.setdefault(id(p), len(index))
                ids.append(index[id(p)])
            packed["params"] = ids
            groups.append(packed)
        state = {}
        for g in self.param_groups:
            for p in g["params"]:
                st = self.state.get(p)
                if st:
                    state[index[id(p)]] = dict(st)
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restores options and per-parameter state (tensors are copied). The group count and
        sizes must match this optimizer's."""
        if not isinstance(state_dict, dict) or "param_groups" not in state_dict or "state" not in state_dict:
            raise ValueError("optimizer state_dict must be a dict with 'state' and 'param_groups'")
        saved = state_dict["param_groups"]
        if len(saved) != len(self.param_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        for mine, theirs in zip(self.param_groups, saved):
            if len(mine["params"]) != len(theirs["params"]):
                raise ValueError("loaded state dict contains a parameter group that doesn't match the size of optimizer's group")
        id_map = {}
        for mine, theirs in zip(self.param_groups, saved):
            for p, i in zip(mine["params"], theirs["params"]):
                id_map[int(i)] = p
        new_state = defaultdict(dict)
        for k, st in state_dict["state"].items():
            p = id_map.get(int(k))
            if p is None:
                continue
            entry = {}
            for name, v in st.items():
                if isinstance(v, Tensor):
                    if name != "step" and tuple(v.shape) != tuple(p.shape):
                        raise ValueError(f"state '{name}' for parameter {k} has shape {tuple(v.shape)}, expected {tuple(p.shape)}")
                    v = v.detach().to(p.dtype).clone() if v.is_floating_point() else v.detach().clone()
                else:
                    v = copy.deepcopy(v)
                entry[name] = v
            new_state[p] = entry
        for mine, theirs in zip(self.param_groups, saved):
            for k, v in theirs.items():
                if k != "params":
                    mine[k] = copy.deepcopy(v)
        self.state = new_state

    def __repr__(self):
        s = type(self).__name__ + " ("
        for i, g in enumerate(self.param_groups):
            s += f"\nParameter Group {i}"
            for k in sorted(g):
                if k != "params":
                    s += f"\n    {k}: {g[k]}"
        return s + "\n)"
