"""ferrograd.save / ferrograd.load: round trips, safetensors interop and corrupt files."""

import json
import struct
from collections import OrderedDict

import numpy as np
import pytest

import ferrograd as fg
import ferrograd.nn as nn
import ferrograd.optim as optim
from ferrograd.serialization import SerializationError


def mlp():
    return nn.Sequential(nn.Linear(4, 5), nn.ReLU(), nn.Linear(5, 3))


def test_state_dict_round_trip(tmp_path):
    a, b = mlp(), mlp()
    path = tmp_path / "model.safetensors"
    fg.save(a.state_dict(), path)
    sd = fg.load(path)
    assert isinstance(sd, OrderedDict) and list(sd) == list(a.state_dict())
    b.load_state_dict(sd)
    x = fg.randn(2, 4)
    np.testing.assert_array_equal(a(x).detach().numpy(), b(x).detach().numpy())


def test_files_are_readable_by_safetensors(tmp_path):
    st = pytest.importorskip("safetensors.numpy")
    model = mlp()
    path = str(tmp_path / "m.safetensors")
    fg.save(model.state_dict(), path)
    arrays = st.load_file(path)
    assert set(arrays) == {"0.weight", "0.bias", "2.weight", "2.bias"}
    np.testing.assert_array_equal(arrays["0.weight"], model[0].weight.detach().numpy())
    assert arrays["0.weight"].dtype == np.float32
    # and files written by safetensors load back
    other = str(tmp_path / "other.safetensors")
    st.save_file({"w": np.arange(6, dtype=np.float64).reshape(2, 3), "i": np.array([1, 2], dtype=np.int64)}, other)
    loaded = fg.load(other)
    assert loaded["w"].dtype == fg.float64 and loaded["w"].tolist() == [[0, 1, 2], [3, 4, 5]]
    assert loaded["i"].dtype == fg.int64


def test_optimizer_state_round_trip(tmp_path):
    model = mlp()
    opt = optim.Adam(model.parameters(), lr=0.01, amsgrad=True)
    model(fg.randn(3, 4)).sum().backward()
    opt.step()
    fg.save({"model": model.state_dict(), "optim": opt.state_dict(), "epoch": 3, "best": float("inf"),
             "tags": ("a", None, True)}, tmp_path / "ckpt")
    ck = fg.load(tmp_path / "ckpt")
    assert ck["epoch"] == 3 and ck["best"] == float("inf") and ck["tags"] == ("a", None, True)
    st = ck["optim"]["state"]
    assert set(st) == {0, 1, 2, 3} and st[0]["step"] == 1
    assert ck["optim"]["param_groups"][0]["betas"] == (0.9, 0.999)
    opt2 = optim.Adam(mlp().parameters(), lr=0.5, amsgrad=True)
    opt2.load_state_dict(ck["optim"])
    assert opt2.param_groups[0]["lr"] == 0.01
    np.testing.assert_array_equal(list(opt2.state.values())[0]["exp_avg"].numpy(), opt.state_dict()["state"][0]["exp_avg"].numpy())


def test_dtypes_parameters_and_empty_tensors(tmp_path):
    obj = {"f64": fg.ones(2, dtype=fg.float64), "b": fg.tensor([True, False]), "e": fg.zeros(0, 3),
           "p": nn.Parameter(fg.ones(2)), "s": fg.tensor(5)}
    fg.save(obj, tmp_path / "x")
    got = fg.load(tmp_path / "x")
    assert got["f64"].dtype == fg.float64 and got["b"].tolist() == [True, False]
    assert got["e"].shape == (0, 3) and got["s"].shape == () and got["s"].item() == 5
    assert isinstance(got["p"], nn.Parameter) and got["p"].requires_grad


def test_unsupported_objects_are_refused(tmp_path):
    with pytest.raises(TypeError, match="cannot store an object of type"):
        fg.save({"f": lambda: 0}, tmp_path / "bad")
    assert not (tmp_path / "bad").exists()


def write_raw(path, header: bytes, body: bytes = b""):
    path.write_bytes(struct.pack("<Q", len(header)) + header + body)


def test_corrupt_files_raise_clear_errors(tmp_path):
    good = tmp_path / "good"
    fg.save(mlp().state_dict(), good)
    blob = good.read_bytes()
    cases = {
        "short": b"\x01\x02",
        "huge_header": struct.pack("<Q", 10**12) + b"{}",
        "bad_json": struct.pack("<Q", 5) + b"{nope",
        "truncated": blob[:-7],
    }
    for name, data in cases.items():
        (tmp_path / name).write_bytes(data)
        with pytest.raises(SerializationError, match="not a valid ferrograd/safetensors file"):
            fg.load(tmp_path / name)
    write_raw(tmp_path / "bad_dtype", json.dumps({"w": {"dtype": "F16X", "shape": [1], "data_offsets": [0, 2]}}).encode())
    with pytest.raises(SerializationError, match="bad entry"):
        fg.load(tmp_path / "bad_dtype")
    write_raw(tmp_path / "bad_meta", json.dumps({"__metadata__": {"ferrograd": "{oops"}}).encode())
    with pytest.raises(SerializationError, match="corrupt ferrograd metadata"):
        fg.load(tmp_path / "bad_meta")
    assert issubclass(SerializationError, fg.FerrogradError)


def test_wrong_shapes_leave_the_model_untouched(tmp_path):
    fg.save(nn.Sequential(nn.Linear(4, 6), nn.ReLU(), nn.Linear(6, 3)).state_dict(), tmp_path / "other")
    model = mlp()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with pytest.raises(RuntimeError, match="size mismatch for 0.weight"):
        model.load_state_dict(fg.load(tmp_path / "other"))
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), before[k].numpy())
