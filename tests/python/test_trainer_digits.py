"""The main job end to end: examples/train_digits.py reaches its accuracy (slow; `make test`
runs it)."""

import importlib.util
import pathlib

import pytest

pytest.importorskip("sklearn")

EXAMPLE = pathlib.Path(__file__).resolve().parents[2] / "examples" / "train_digits.py"


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_digits_example_reaches_its_accuracy(tmp_path, capsys):
    spec = importlib.util.spec_from_file_location("train_digits", EXAMPLE)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    mlp_acc, cnn_acc = mod.main(["--quiet", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert mlp_acc >= 0.97, out
    assert cnn_acc >= 0.9, out
    assert (tmp_path / "digits_mlp.safetensors").exists()
    # matplotlib is part of the dev environment (the `plot` extra), so the curves are drawn.
    png = (tmp_path / "digits_mlp_curves.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000
    assert "saved learning curves to" in out
    assert "no_grad" in out and "peak memory" in out
