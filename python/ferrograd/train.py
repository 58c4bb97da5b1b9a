"""``Trainer``: the training loop most scripts write by hand, with PyTorch's semantics.

``fit`` trains with grad on and the model in train mode; validation, ``evaluate`` and
``predict`` run under ``no_grad`` with the model in eval mode, and the model's previous
mode is restored afterwards. A tqdm bar per epoch shows the running loss and metrics
(only on a terminal, and never with ``progress=False``)."""

from __future__ import annotations

import math
import os
import sys
import time

import numpy as np

from . import _core
from ._core import Tensor

__all__ = ["Callback", "EarlyStopping", "History", "ModelCheckpoint", "Trainer", "accuracy"]


def accuracy(output: Tensor, target: Tensor) -> float:
    """Fraction of rows whose arg-max matches the integer target (or, for one output
    column, whose logit sign matches a 0/1 target)."""
    with _core.no_grad():
        if output.dim() >= 2 and output.shape[-1] > 1:
            pred = output.argmax(-1)
        else:
            pred = (output.reshape(-1) > 0).long()
            target = target.reshape(-1)
        return float((pred == target.long()).float().mean().item())


_BUILTIN_METRICS = {"accuracy": accuracy, "acc": accuracy}


class History:
    """Per-epoch values: ``history["loss"]``, ``history["val_accuracy"]``, ..."""

    def __init__(self):
        self.history: dict[str, list[float]] = {}
        self.epochs: list[int] = []

    def _add(self, epoch: int, logs: dict):
        self.epochs.append(epoch)
        for k, v in logs.items():
            self.history.setdefault(k, []).append(float(v))

    def __getitem__(self, key):
        return self.history[key]

    def __contains__(self, key):
        return key in self.history

    def keys(self):
        return self.history.keys()

    def __repr__(self):
        return f"History(epochs={len(self.epochs)}, keys={list(self.history)})"

    def plot(self, path=None):
        """Draws the loss curves and each metric's curves (train and validation), one panel
        each, and saves them to ``path`` (a PNG, say). Without a path the figure is made with
        pyplot and returned for the caller to show. Needs the optional ``matplotlib``
        dependency (``pip install ferrograd[plot]``)."""
        try:
            from matplotlib.figure import Figure
        except ImportError as e:
            raise ImportError(
                "History.plot needs matplotlib, which is not installed; install it with "
                "`pip install matplotlib` (or the `ferrograd[plot]` extra)"
            ) from e
        names = [k for k in self.history if not k.startswith("val_") and k != "lr"]
        size = (5 * max(1, len(names)), 3.5)
        if path is not None:
            # A standalone Figure renders through Agg when saved: it works headless and
            # leaves pyplot's backend and figure list (a notebook's, say) alone.
            fig = Figure(figsize=size)
            axes = fig.subplots(1, max(1, len(names)), squeeze=False)
        else:
            import matplotlib.pyplot as plt

            fig, axes = plt.subplots(1, max(1, len(names)), figsize=size, squeeze=False)
        for ax, name in zip(axes[0], names):
            ax.plot(self.epochs, self.history[name], marker="o", label=f"train {name}")
            if f"val_{name}" in self.history:
                ax.plot(self.epochs, self.history[f"val_{name}"], marker="o", label=f"val {name}")
            ax.set_xlabel("epoch")
            ax.set_title(name)
            ax.grid(alpha=0.3)
            ax.legend()
        fig.tight_layout()
        if path is not None:
            fig.savefig(os.fspath(path), dpi=100)
        return fig


class Callback:
    """Hooks called by ``Trainer.fit``; set ``trainer.stop_training = True`` to stop."""

    def on_train_begin(self, trainer):
        pass

    def on_epoch_end(self, trainer, epoch: int, logs: dict):
        pass

    def on_train_end(self, trainer):
        pass


class _Monitor(Callback):
    def __init__(self, monitor, mode, min_delta=0.0):
        if mode not in ("min", "max", "auto"):
            raise ValueError(f"mode must be 'min', 'max' or 'auto', got {mode!r}")
        if mode == "auto":
            mode = "max" if "acc" in monitor else "min"
        self.monitor = monitor
        self.mode = mode
        self.min_delta = abs(min_delta)
        self.best = math.inf if mode == "min" else -math.inf

    def _value(self, logs):
        if self.monitor not in logs:
            raise KeyError(f"{type(self).__name__}: monitored value {self.monitor!r} is not logged; available: {sorted(logs)}")
        return float(logs[self.monitor])

    def _improved(self, v):
        if self.mode == "min":
            return v < self.best - self.min_delta
        return v > self.best + self.min_delta


class EarlyStopping(_Monitor):
    """Stops when ``monitor`` has not improved by ``min_delta`` for ``patience`` epochs;
    with ``restore_best_weights`` the model gets the best epoch's weights back."""

    def __init__(self, monitor="val_loss", patience=3, mode="auto", min_delta=0.0, restore_best_weights=False):
        super().__init__(monitor, mode, min_delta)
        self.patience = patience
        self.restore_best_weights = restore_best_weights
        self.wait = 0
        self.stopped_epoch = None
        self.best_epoch = None
        self._best_state = None

    def on_train_begin(self, trainer):
        self.wait = 0
        self.best = math.inf if self.mode == "min" else -math.inf
        self.stopped_epoch = None

    def on_epoch_end(self, trainer, epoch, logs):
        v = self._value(logs)
        if self._improved(v):
            self.best, self.best_epoch, self.wait = v, epoch, 0
            if self.restore_best_weights:
                self._best_state = {k: t.clone() for k, t in trainer.model.state_dict().items()}
            return
        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = epoch
            trainer.stop_training = True

    def on_train_end(self, trainer):
        if self.restore_best_weights and self._best_state is not None:
            trainer.model.load_state_dict(self._best_state)


class ModelCheckpoint(_Monitor):
    """Saves the model's state dict to ``path`` (with ``ferrograd.save``) whenever
    ``monitor`` improves (or every epoch with ``save_best_only=False``)."""

    def __init__(self, path, monitor="val_loss", mode="auto", save_best_only=True):
        super().__init__(monitor, mode)
        self.path = os.fspath(path)
        self.save_best_only = save_best_only
        self.best_epoch = None

    def on_epoch_end(self, trainer, epoch, logs):
        from .serialization import save

        v = self._value(logs)
        if self._improved(v) or not self.save_best_only:
            if self._improved(v):
                self.best, self.best_epoch = v, epoch
            save(trainer.model.state_dict(), self.path)


def _split(batch):
    if isinstance(batch, (list, tuple)) and len(batch) == 2:
        return batch[0], batch[1]
    if isinstance(batch, dict) and {"input", "target"} <= set(batch):
        return batch["input"], batch["target"]
    raise TypeError("Trainer expects batches of (input, target); got " + type(batch).__name__)


def _batch_size(x):
    if isinstance(x, Tensor):
        return x.shape[0] if x.dim() else 1
    if isinstance(x, (list, tuple)) and x:
        return _batch_size(x[0])
    return 1


def _is_tty():
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


class Trainer:
    """``Trainer(model, optimizer, loss_fn, metrics=["accuracy"], scheduler=None)``.

    ``metrics`` maps names to ``fn(output, target) -> float`` (a list may name the built-in
    "accuracy"). ``scheduler`` steps once per epoch (``ReduceLROnPlateau`` with the
    validation loss), or once per batch for ``OneCycleLR``."""

    def __init__(self, model, optimizer, loss_fn, metrics=None, scheduler=None, callbacks=None, progress=True):
        self.model = model
        self.optimizer = optimizer
        self.loss_fn = loss_fn
        self.metrics = self._metrics(metrics)
        self.scheduler = scheduler
        self.callbacks = list(callbacks or [])
        self.progress = progress
        self.history = History()
        self.stop_training = False

    @staticmethod
    def _metrics(metrics):
        if metrics is None:
            return {}
        if isinstance(metrics, dict):
            return dict(metrics)
        out = {}
        for m in metrics:
            if isinstance(m, str):
                if m not in _BUILTIN_METRICS:
                    raise ValueError(f"unknown metric {m!r}; built-in: {sorted(_BUILTIN_METRICS)}")
                out["accuracy" if m == "acc" else m] = _BUILTIN_METRICS[m]
            elif callable(m):
                out[getattr(m, "__name__", f"metric{len(out)}")] = m
            else:
                raise TypeError(f"metric must be a name or a function, got {m!r}")
        return out

    def _bar(self, loader, desc):
        if not self.progress or not _is_tty():
            return None
        try:
            from tqdm.auto import tqdm
        except ImportError:
            return None
        try:
            total = len(loader)
        except TypeError:
            total = None
        return tqdm(total=total, desc=desc, leave=True, dynamic_ncols=True)

    def _per_batch_scheduler(self):
        from .optim.lr_scheduler import OneCycleLR

        return isinstance(self.scheduler, OneCycleLR)

    def fit(self, train_loader, val_loader=None, epochs: int = 1) -> History:
        """Trains for ``epochs`` epochs; returns the History (also ``trainer.history``)."""
        if epochs < 0:
            raise ValueError(f"epochs must be non-negative, got {epochs}")
        self.stop_training = False
        for cb in self.callbacks:
            cb.on_train_begin(self)
        start = len(self.history.epochs)
        try:
            for e in range(start + 1, start + epochs + 1):
                logs = self._train_epoch(train_loader, f"epoch {e}/{start + epochs}")
                if val_loader is not None:
                    val = self.evaluate(val_loader)
                    logs.update({f"val_{k}": v for k, v in val.items()})
                logs["lr"] = float(self.optimizer.param_groups[0]["lr"])
                self._step_scheduler(logs)
                self.history._add(e, logs)
                for cb in self.callbacks:
                    cb.on_epoch_end(self, e, logs)
                if self.stop_training:
                    break
        finally:
            for cb in self.callbacks:
                cb.on_train_end(self)
        return self.history

    def _step_scheduler(self, logs):
        from .optim.lr_scheduler import ReduceLROnPlateau

        if self.scheduler is None or self._per_batch_scheduler():
            return
        if isinstance(self.scheduler, ReduceLROnPlateau):
            self.scheduler.step(logs.get("val_loss", logs["loss"]))
        else:
            self.scheduler.step()

    def _train_epoch(self, loader, desc):
        was_training = self.model.training
        self.model.train()
        per_batch = self._per_batch_scheduler()
        totals = {"loss": 0.0, **{k: 0.0 for k in self.metrics}}
        seen = 0
        bar = self._bar(loader, desc)
        try:
            with _core.enable_grad():
                for batch in loader:
                    x, y = _split(batch)
                    self.optimizer.zero_grad()
                    out = self.model(x)
                    loss = self.loss_fn(out, y)
                    loss.backward()
                    self.optimizer.step()
                    if per_batch:
                        self.scheduler.step()
                    n = _batch_size(x)
                    seen += n
                    totals["loss"] += float(loss.item()) * n
                    for k, fn in self.metrics.items():
                        totals[k] += float(fn(out.detach(), y)) * n
                    if bar is not None:
                        bar.update(1)
                        bar.set_postfix({k: f"{v / seen:.4f}" for k, v in totals.items()})
        finally:
            if bar is not None:
                bar.close()
            self.model.train(was_training)
        if seen == 0:
            raise ValueError("the training loader produced no batches")
        return {k: v / seen for k, v in totals.items()}

    def evaluate(self, loader) -> dict:
        """Mean loss and metrics over ``loader``, under no_grad with the model in eval mode."""
        was_training = self.model.training
        self.model.eval()
        totals = {"loss": 0.0, **{k: 0.0 for k in self.metrics}}
        seen = 0
        try:
            with _core.no_grad():
                for batch in loader:
                    x, y = _split(batch)
                    out = self.model(x)
                    n = _batch_size(x)
                    seen += n
                    totals["loss"] += float(self.loss_fn(out, y).item()) * n
                    for k, fn in self.metrics.items():
                        totals[k] += float(fn(out, y)) * n
        finally:
            self.model.train(was_training)
        if seen == 0:
            raise ValueError("the evaluation loader produced no batches")
        return {k: v / seen for k, v in totals.items()}

    def predict(self, loader) -> Tensor:
        """The model's outputs for every batch, concatenated along the first dimension
        (batches may be inputs alone or (input, target) pairs). Runs under no_grad in eval
        mode."""
        was_training = self.model.training
        self.model.eval()
        outs = []
        try:
            with _core.no_grad():
                for batch in loader:
                    x = batch[0] if isinstance(batch, (list, tuple)) else batch
                    outs.append(self.model(x).numpy())
        finally:
            self.model.train(was_training)
        if not outs:
            raise ValueError("the loader produced no batches")
        return _core.from_numpy(np.concatenate(outs, axis=0))


