"""Trains an MLP and a small CNN on scikit-learn's bundled 8x8 handwritten digits (no
download) with ferrograd's Trainer, then compares evaluation with and without no_grad and
saves the model and its learning curves.

    make demo          # or: .venv/bin/python examples/train_digits.py [--out artifacts]
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

import ferrograd as fg
import ferrograd.nn as nn
import ferrograd.optim as optim
from ferrograd.train import Trainer
from ferrograd.utils.data import DataLoader, Generator, TensorDataset


def load_digits(seed: int):
    from sklearn.datasets import load_digits as sk_load
    from sklearn.model_selection import train_test_split

    d = sk_load()
    x = (d.data / 16.0).astype(np.float32)  # pixel values 0..16 -> 0..1
    y = d.target.astype(np.int64)
    x_tr, x_te, y_tr, y_te = train_test_split(x, y, test_size=0.25, random_state=seed, stratify=y)
    # Standardise each pixel with the training set's statistics.
    mean, std = x_tr.mean(0), x_tr.std(0) + 0.1
    return (x_tr - mean) / std, (x_te - mean) / std, y_tr, y_te


def mlp():
    return nn.Sequential(nn.Linear(64, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 10))


def cnn():
    return nn.Sequential(
        nn.Unflatten(1, (1, 8, 8)),
        nn.Conv2d(1, 16, kernel_size=3, padding=1), nn.ReLU(), nn.MaxPool2d(2),  # 16 x 4 x 4
        nn.Conv2d(16, 32, kernel_size=3, padding=1), nn.ReLU(), nn.MaxPool2d(2),  # 32 x 2 x 2
        nn.Flatten(), nn.Linear(128, 10),
    )


def measure(model, loader, grad_mode):
    """Evaluates ``model`` on ``loader`` under ``grad_mode`` (a context manager factory):
    seconds taken, peak live tensor bytes, and bytes still held once the outputs are
    computed (with grad on, the graph keeps every saved activation alive), both measured
    above the starting point."""
    model.eval()
    start = fg.memory.allocated()
    fg.memory.reset_peak()
    t0 = time.perf_counter()
    with grad_mode():
        outs = [model(x) for x, _ in loader]  # keep the outputs alive, like a real eval loop
    seconds = time.perf_counter() - t0
    peak = fg.memory.peak_allocated() - start
    held = fg.memory.allocated() - start
    del outs
    model.train()
    return seconds, peak, held


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="artifacts", help="where the model and curves go")
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--cnn-epochs", type=int, default=12)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--quiet", action="store_true", help="no progress bars")
    args = ap.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)

    fg.manual_seed(args.seed)
    x_tr, x_te, y_tr, y_te = load_digits(args.seed)
    train_ds = TensorDataset(fg.tensor(x_tr), fg.tensor(y_tr))
    test_ds = TensorDataset(fg.tensor(x_te), fg.tensor(y_te))
    train_loader = DataLoader(train_ds, batch_size=64, shuffle=True, generator=Generator().manual_seed(args.seed))
    test_loader = DataLoader(test_ds, batch_size=256)
    print(f"digits: {len(train_ds)} training and {len(test_ds)} held-out images of 8x8 pixels, 10 classes")

    # ----- MLP -----
    model = mlp()
    opt = optim.AdamW(model.parameters(), lr=3e-3, weight_decay=1e-4)
    sched = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=args.epochs)
    trainer = Trainer(model, opt, nn.CrossEntropyLoss(), metrics=["accuracy"], scheduler=sched, progress=not args.quiet)
    print(f"\nMLP ({sum(p.numel() for p in model.parameters())} parameters)\n{model}")
    t0 = time.perf_counter()
    hist = trainer.fit(train_loader, test_loader, epochs=args.epochs)
    mlp_secs = time.perf_counter() - t0
    for e in range(0, len(hist.epochs), max(1, len(hist.epochs) // 5)):
        print(f"  epoch {hist.epochs[e]:2d}  loss {hist['loss'][e]:.4f}  val_loss {hist['val_loss'][e]:.4f}  "
              f"val_accuracy {hist['val_accuracy'][e]:.4f}")
    mlp_acc = trainer.evaluate(test_loader)["accuracy"]
    print(f"MLP held-out accuracy: {mlp_acc:.4f}  (trained in {mlp_secs:.1f}s)")

    # ----- CNN -----
    fg.manual_seed(args.seed)
    net = cnn()
    copt = optim.Adam(net.parameters(), lr=3e-3)
    ctrainer = Trainer(net, copt, nn.CrossEntropyLoss(), metrics=["accuracy"], progress=not args.quiet)
    print(f"\nCNN ({sum(p.numel() for p in net.parameters())} parameters)")
    t0 = time.perf_counter()
    ctrainer.fit(train_loader, test_loader, epochs=args.cnn_epochs)
    cnn_acc = ctrainer.evaluate(test_loader)["accuracy"]
    print(f"CNN held-out accuracy: {cnn_acc:.4f}  (trained in {time.perf_counter() - t0:.1f}s)")

    # ----- evaluation with and without no_grad -----
    import contextlib

    big_loader = DataLoader(test_ds, batch_size=len(test_ds))
    measure(model, big_loader, contextlib.nullcontext)  # warm up
    rows = [("grad on", contextlib.nullcontext), ("no_grad", fg.no_grad), ("inference_mode", fg.inference_mode)]
    print("\nevaluating the MLP on the held-out set (one batch, outputs kept alive):")
    print(f"  {'mode':<15}{'time (ms)':>10}{'peak memory (KiB)':>19}{'held after (KiB)':>18}")
    for name, mode in rows:
        secs, peak, held = min((measure(model, big_loader, mode) for _ in range(5)), key=lambda r: r[0])
        print(f"  {name:<15}{secs * 1e3:>10.2f}{peak / 1024:>19.1f}{held / 1024:>18.1f}")

    # ----- save -----
    path = os.path.join(args.out, "digits_mlp.safetensors")
    fg.save(model.state_dict(), path)
    reloaded = mlp()
    reloaded.load_state_dict(fg.load(path))
    assert Trainer(reloaded, opt, nn.CrossEntropyLoss(), metrics=["accuracy"], progress=False).evaluate(test_loader)["accuracy"] == mlp_acc
    print(f"\nsaved the MLP to {path} (reloaded: same accuracy)")
    try:
        png = os.path.join(args.out, "digits_mlp_curves.png")
        hist.plot(png)
        print(f"saved learning curves to {png}")
    except ImportError as e:
        print(f"no curves: {e}")
    return mlp_acc, cnn_acc


if __name__ == "__main__":
    acc, _ = main()
    sys.exit(0 if acc >= 0.97 else 1)
