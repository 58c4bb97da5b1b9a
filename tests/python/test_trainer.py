"""Trainer: grad and module modes during fit/evaluate/predict, history, callbacks,
schedulers, progress output and plotting."""

import numpy as np
import pytest

import ferrograd as fg
import ferrograd.nn as nn
import ferrograd.optim as optim
from ferrograd.train import EarlyStopping, History, ModelCheckpoint, Trainer, accuracy
from ferrograd.utils.data import DataLoader, TensorDataset


class Recorder(nn.Module):
    """A linear classifier that records the modes each forward ran under."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(2, 2)
        self.log = []

    def forward(self, x):
        self.log.append((self.training, fg.is_grad_enabled()))
        return self.fc(x)


def blobs(n=64, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    x = rng.standard_normal((n, 2)).astype(np.float32) + np.where(y[:, None] == 1, 2.0, -2.0).astype(np.float32)
    return TensorDataset(fg.tensor(x), fg.tensor(y))


def make(model=None, **kw):
    model = model or Recorder()
    opt = optim.SGD(model.parameters(), lr=0.1)
    return Trainer(model, opt, nn.CrossEntropyLoss(), metrics=["accuracy"], progress=False, **kw)


def test_fit_trains_in_train_mode_with_grad_and_validates_in_eval_mode_without():
    tr = make()
    loader = DataLoader(blobs(), batch_size=16)
    with fg.no_grad():  # fit turns grad on for training even when called under no_grad
        tr.fit(loader, DataLoader(blobs(seed=1), batch_size=32), epochs=2)
    log = tr.model.log
    train_calls = [m for m in log if m[0]]
    eval_calls = [m for m in log if not m[0]]
    assert train_calls == [(True, True)] * 8
    assert eval_calls == [(False, False)] * 4
    assert tr.model.training  # restored
    assert fg.is_grad_enabled()


def test_evaluate_and_predict_run_under_no_grad_and_restore_the_mode():
    tr = make()
    ds = blobs()
    tr.model.train()
    res = tr.evaluate(DataLoader(ds, batch_size=10))
    assert set(res) == {"loss", "accuracy"}
    assert tr.model.training
    tr.model.eval()
    out = tr.predict(DataLoader(ds, batch_size=10))
    assert not tr.model.training  # an eval-mode model stays in eval mode
    assert out.shape == (64, 2) and not out.requires_grad
    assert all(m == (False, False) for m in tr.model.log)


def test_history_and_learning():
    fg.manual_seed(0)
    tr = make(scheduler=None)
    hist = tr.fit(DataLoader(blobs(), batch_size=8, shuffle=True), DataLoader(blobs(seed=2), batch_size=64), epochs=5)
    assert hist is tr.history and hist.epochs == [1, 2, 3, 4, 5]
    assert set(hist.keys()) == {"loss", "accuracy", "val_loss", "val_accuracy", "lr"}
    assert hist["loss"][-1] < hist["loss"][0]
    assert hist["val_accuracy"][-1] > 0.9


def test_scheduler_steps_per_epoch():
    model = Recorder()
    opt = optim.SGD(model.parameters(), lr=1.0)
    tr = Trainer(model, opt, nn.CrossEntropyLoss(), scheduler=optim.lr_scheduler.StepLR(opt, 1, gamma=0.5), progress=False)
    tr.fit(DataLoader(blobs(), batch_size=32), epochs=3)
    assert tr.history["lr"] == [1.0, 0.5, 0.25]
    assert opt.param_groups[0]["lr"] == 0.125


def test_one_cycle_steps_per_batch():
    model = Recorder()
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    sched = optim.lr_scheduler.OneCycleLR(opt, max_lr=0.5, total_steps=8)
    Trainer(model, opt, nn.CrossEntropyLoss(), scheduler=sched, progress=False).fit(DataLoader(blobs(), batch_size=16), epochs=2)
    assert sched.last_epoch == 8


def test_early_stopping_and_checkpoint(tmp_path):
    tr = make()
    vals = iter([1.0, 0.5, 0.6, 0.7, 0.8, 0.9])
    tr.evaluate = lambda loader: {"loss": next(vals), "accuracy": 0.0}
    stop = EarlyStopping(monitor="val_loss", patience=2, restore_best_weights=True)
    ck = ModelCheckpoint(tmp_path / "best.safetensors", monitor="val_loss")
    saved_at = {}
    orig = ck.on_epoch_end

    def spy(trainer, epoch, logs):
        orig(trainer, epoch, logs)
        if ck.best_epoch == epoch:
            saved_at[epoch] = {k: v.clone() for k, v in trainer.model.state_dict().items()}

    ck.on_epoch_end = spy
    tr.callbacks = [stop, ck]
    tr.fit(DataLoader(blobs(), batch_size=16), val_loader=[None], epochs=10)
    assert tr.history.epochs == [1, 2, 3, 4]
    assert stop.stopped_epoch == 4 and stop.best_epoch == 2 and ck.best_epoch == 2
    best = fg.load(tmp_path / "best.safetensors")
    for k, v in best.items():
        np.testing.assert_array_equal(v.numpy(), saved_at[2][k].numpy())
        np.testing.assert_array_equal(tr.model.state_dict()[k].numpy(), saved_at[2][k].numpy())  # restored


def test_progress_bar_is_quiet_off_a_terminal_and_with_progress_false(capsys):
    tr = make()
    tr.progress = True  # stderr under pytest is not a terminal
    tr.fit(DataLoader(blobs(), batch_size=16), epochs=1)
    captured = capsys.readouterr()
    assert captured.err == "" and captured.out == ""


def test_progress_bar_on_a_terminal(monkeypatch, capsys):
    pytest.importorskip("tqdm")
    import ferrograd.train as train_mod

    monkeypatch.setattr(train_mod, "_is_tty", lambda: True)
    tr = make()
    tr.progress = True
    tr.fit(DataLoader(blobs(), batch_size=16), epochs=1)
    err = capsys.readouterr().err
    assert "epoch 1/1" in err and "loss=" in err and "accuracy=" in err
    tr.progress = False
    tr.fit(DataLoader(blobs(), batch_size=16), epochs=1)
    assert capsys.readouterr().err == ""


def test_history_plot_writes_a_png_with_loss_and_metric_curves(tmp_path):
    # matplotlib is in the dev environment (the `plot` extra); without it this must fail.
    import matplotlib.image
    import matplotlib.pyplot as plt

    h = History()
    h._add(1, {"loss": 1.0, "val_loss": 1.2, "accuracy": 0.5, "val_accuracy": 0.4, "lr": 0.1})
    h._add(2, {"loss": 0.5, "val_loss": 0.7, "accuracy": 0.8, "val_accuracy": 0.7, "lr": 0.05})
    h._add(3, {"loss": 0.3, "val_loss": 0.6, "accuracy": 0.9, "val_accuracy": 0.8, "lr": 0.01})
    path = tmp_path / "curves.png"
    open_figures = plt.get_fignums()
    fig = h.plot(path)
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000
    assert plt.get_fignums() == open_figures  # saving leaves pyplot's figure list alone

    # One panel per quantity (lr is not plotted), each with its train and val curves.
    axes = fig.get_axes()
    assert [ax.get_title() for ax in axes] == ["loss", "accuracy"]
    for ax, name in zip(axes, ["loss", "accuracy"]):
        lines = {line.get_label(): line for line in ax.get_lines()}
        assert set(lines) == {f"train {name}", f"val {name}"}
        assert list(lines[f"train {name}"].get_xdata()) == [1, 2, 3]
        assert list(lines[f"train {name}"].get_ydata()) == h[name]
        assert list(lines[f"val {name}"].get_ydata()) == h[f"val_{name}"]
        assert ax.get_xlabel() == "epoch"

    # Read back, the image has the figure's size (2 panels of 5 x 3.5 inches at 100 dpi)
    # and is not blank.
    img = matplotlib.image.imread(path)
    assert img.shape[:2] == (350, 1000)
    assert img[..., :3].std() > 0.05

    # Without a path the figure is returned open, for the caller to show or save.
    fig2 = h.plot()
    assert fig2.number in plt.get_fignums()
    plt.close(fig2)


def test_plot_without_matplotlib_gives_a_clear_message(monkeypatch, tmp_path):
    import builtins

    real = builtins.__import__

    def no_mpl(name, *a, **k):
        if name.startswith("matplotlib"):
            raise ImportError("No module named 'matplotlib'")
        return real(name, *a, **k)

    monkeypatch.setattr(builtins, "__import__", no_mpl)
    h = History()
    h._add(1, {"loss": 1.0})
    with pytest.raises(ImportError, match="History.plot needs matplotlib"):
        h.plot(tmp_path / "c.png")


def test_accuracy_metric():
    assert accuracy(fg.tensor([[0.1, 0.9], [0.8, 0.2]]), fg.tensor([1, 1])) == 0.5
    assert accuracy(fg.tensor([[2.0], [-1.0]]), fg.tensor([1.0, 0.0])) == 1.0


def test_bad_batches_and_metrics():
    with pytest.raises(ValueError, match="unknown metric"):
        make().__class__(Recorder(), None, None, metrics=["f1"])
    with pytest.raises(TypeError, match="batches of"):
        make().fit([fg.ones(2, 2)], epochs=1)
