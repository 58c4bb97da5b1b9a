"""nn.Module behaviour: registration order, state_dict keys, strict loading, modes, hooks,
conversion and repr."""

from collections import OrderedDict

import numpy as np
import pytest

import ferrograd as fg
import ferrograd.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.layer1 = nn.Linear(4, 3)
        self.act = nn.ReLU()
        self.layer2 = nn.Linear(3, 2, bias=False)
        self.scale = nn.Parameter(fg.ones(2))
        self.register_buffer("steps", fg.zeros(1))
        self.register_buffer("scratch", fg.zeros(2), persistent=False)

    def forward(self, x):
        return self.layer2(self.act(self.layer1(x))) * self.scale


def test_parameter_is_a_tensor_that_requires_grad_and_shares_storage():
    t = fg.zeros(3)
    p = nn.Parameter(t)
    assert isinstance(p, fg.Tensor) and isinstance(p, nn.Parameter)
    assert p.requires_grad and p.is_leaf
    with fg.no_grad():
        t.add_(1.0)
    assert p.tolist() == [1.0, 1.0, 1.0]
    assert not nn.Parameter(fg.zeros(2), requires_grad=False).requires_grad
    assert repr(p).startswith("Parameter containing:\n")
    with pytest.raises(TypeError):
        nn.Parameter([1.0, 2.0])


def test_registration_order_and_names():
    net = Net()
    names = [n for n, _ in net.named_parameters()]
    assert names == ["scale", "layer1.weight", "layer1.bias", "layer2.weight"]
    assert [n for n, _ in net.named_buffers()] == ["steps", "scratch"]
    assert [n for n, _ in net.named_children()] == ["layer1", "act", "layer2"]
    assert [n for n, _ in net.named_modules()] == ["", "layer1", "act", "layer2"]
    assert len(list(net.modules())) == 4
    assert all(isinstance(p, nn.Parameter) for p in net.parameters())
    assert len(list(net.parameters(recurse=False))) == 1


def test_shared_parameters_are_listed_once():
    lin = nn.Linear(2, 2)
    seq = nn.Sequential(lin, lin)
    assert len(list(seq.parameters())) == 2
    assert list(seq.state_dict()) == ["0.weight", "0.bias", "1.weight", "1.bias"]


def test_state_dict_keys_and_values_share_storage():
    net = Net()
    sd = net.state_dict()
    assert list(sd) == ["scale", "steps", "layer1.weight", "layer1.bias", "layer2.weight"]
    assert isinstance(sd, OrderedDict)
    assert not sd["layer1.weight"].requires_grad
    assert "scratch" not in sd  # non-persistent buffers are not saved
    seq = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
    assert list(seq.state_dict()) == [
        "0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean", "1.running_var", "1.num_batches_tracked",
    ]


def test_load_state_dict_round_trip():
    a, b = Net(), Net()
    b.load_state_dict(a.state_dict())
    for (na, pa), (nb, pb) in zip(a.named_parameters(), b.named_parameters()):
        assert na == nb
        np.testing.assert_array_equal(pa.detach().numpy(), pb.detach().numpy())
    x = fg.randn(5, 4)
    np.testing.assert_allclose(a(x).detach().numpy(), b(x).detach().numpy())


def test_strict_loading_lists_missing_and_unexpected_keys():
    net = Net()
    sd = net.state_dict()
    del sd["layer1.bias"]
    sd["extra.weight"] = fg.zeros(1)
    with pytest.raises(RuntimeError) as e:
        net.load_state_dict(sd)
    msg = str(e.value)
    assert "Error(s) in loading state_dict for Net" in msg
    assert 'Missing key(s) in state_dict: "layer1.bias"' in msg
    assert 'Unexpected key(s) in state_dict: "extra.weight"' in msg
    res = net.load_state_dict(sd, strict=False)
    assert res.missing_keys == ["layer1.bias"] and res.unexpected_keys == ["extra.weight"]


def test_shape_mismatch_raises_and_leaves_the_model_untouched():
    net = Net()
    before = {k: v.clone() for k, v in net.state_dict().items()}
    sd = {k: fg.full(tuple(v.shape), 7.0) for k, v in net.state_dict().items()}
    sd["layer2.weight"] = fg.zeros(5, 5)
    with pytest.raises(RuntimeError, match="size mismatch for layer2.weight"):
        net.load_state_dict(sd)
    for k, v in net.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), before[k].numpy())


def test_train_eval_flags_propagate():
    net = nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.Dropout(0.5)))
    assert all(m.training for m in net.modules())
    assert net.eval() is net
    assert not any(m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())
    with pytest.raises(ValueError):
        net.train("yes")


def test_requires_grad_and_zero_grad():
    net = Net()
    net(fg.randn(3, 4)).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad(set_to_none=False)
    assert all(p.grad is not None and float(p.grad.abs().sum()) == 0.0 for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())
    net.requires_grad_(False)
    assert not any(p.requires_grad for p in net.parameters())


def test_apply_visits_children_first():
    seen = []
    net = nn.Sequential(nn.Linear(1, 1), nn.ReLU())
    net.apply(lambda m: seen.append(type(m).__name__))
    assert seen == ["Linear", "ReLU", "Sequential"]


def test_attribute_rules():
    net = Net()
    with pytest.raises(TypeError):
        net.scale = fg.ones(2)  # a plain tensor cannot replace a parameter
    net.scale = None
    assert "scale" not in dict(net.named_parameters())
    net.steps = fg.ones(1)
    assert net.state_dict()["steps"].tolist() == [1.0]
    with pytest.raises(AttributeError, match="has no attribute 'nope'"):
        net.nope
    del net.layer2
    assert "layer2" not in dict(net.named_children())
    with pytest.raises(KeyError):
        net.register_buffer("a.b", fg.zeros(1))

    class Early(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(fg.zeros(1))

    with pytest.raises(AttributeError, match="before Module.__init__"):
        Early()


def test_call_runs_forward_with_hooks():
    lin = nn.Linear(2, 2)
    calls = []
    h1 = lin.register_forward_pre_hook(lambda m, args: (args[0] * 0,))
    h2 = lin.register_forward_hook(lambda m, args, out: calls.append(out.shape) or out + 1)
    y = lin(fg.ones(3, 2))
    assert calls == [(3, 2)]
    expected = lin.bias.detach().numpy() + 1
    np.testing.assert_allclose(y.detach().numpy(), np.broadcast_to(expected, (3, 2)), rtol=1e-6)
    h1.remove()
    h2.remove()
    np.testing.assert_allclose(lin(fg.zeros(1, 2)).detach().numpy()[0], lin.bias.detach().numpy(), rtol=1e-6)


def test_to_dtype_converts_parameters_and_buffers():
    net = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2))
    net.to(fg.float64)
    assert all(p.dtype == fg.float64 and isinstance(p, nn.Parameter) and p.requires_grad for p in net.parameters())
    assert net[1].running_mean.dtype == fg.float64
    assert net[1].num_batches_tracked.dtype == fg.int64  # integer buffers keep their dtype
    net.float()
    assert net[0].weight.dtype == fg.float32
    with pytest.raises(TypeError):
        net.to(fg.int64)
    assert net.to("cpu") is net


def test_repr_matches_pytorch_layout():
    net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Sequential(nn.Linear(8, 2, bias=False)))
    assert repr(net) == (
        "Sequential(\n"
        "  (0): Linear(in_features=4, out_features=8, bias=True)\n"
        "  (1): ReLU()\n"
        "  (2): Sequential(\n"
        "    (0): Linear(in_features=8, out_features=2, bias=False)\n"
        "  )\n"
        ")"
    )
    assert repr(nn.Dropout(0.2)) == "Dropout(p=0.2, inplace=False)"


def test_sequential_indexing_slicing_append():
    a, b, c = nn.Linear(1, 2), nn.ReLU(), nn.Linear(2, 1)
    seq = nn.Sequential(a, b)
    assert seq[0] is a and seq[-1] is b and len(seq) == 2
    seq.append(c)
    assert seq[2] is c
    sub = seq[1:]
    assert isinstance(sub, nn.Sequential) and list(sub) == [b, c]
    assert list(sub.state_dict()) == ["2.weight", "2.bias"]  # names are kept, as in PyTorch
    del seq[0]
    assert list(seq) == [b, c] and list(seq.state_dict()) == ["1.weight", "1.bias"]
    with pytest.raises(IndexError):
        seq[5]
    named = nn.Sequential(OrderedDict(fc=nn.Linear(1, 1), act=nn.Tanh()))
    assert [n for n, _ in named.named_children()] == ["fc", "act"]
    assert named(fg.ones(2, 1)).shape == (2, 1)


def test_module_list_dict_parameter_list():
    ml = nn.ModuleList([nn.Linear(1, 1) for _ in range(3)])
    assert len(ml) == 3 and [n for n, _ in ml.named_parameters()][:2] == ["0.weight", "0.bias"]
    ml.append(nn.ReLU())
    assert isinstance(ml[-1], nn.ReLU)
    md = nn.ModuleDict({"enc": nn.Linear(2, 2), "dec": nn.Linear(2, 2)})
    assert list(md.keys()) == ["enc", "dec"] and "enc" in md
    assert [n for n, _ in md.named_parameters()] == ["enc.weight", "enc.bias", "dec.weight", "dec.bias"]
    pl = nn.ParameterList([fg.zeros(2), nn.Parameter(fg.ones(3))])
    assert all(isinstance(p, nn.Parameter) for p in pl) and len(pl) == 2

    class Holder(nn.Module):
        def __init__(self):
            super().__init__()
            self.ps = pl

    assert list(Holder().state_dict()) == ["ps.0", "ps.1"]


def test_identity_flatten_unflatten():
    x = fg.randn(2, 3, 4)
    assert nn.Identity(54, unused=True)(x) is x
    assert nn.Flatten()(x).shape == (2, 12)
    assert nn.Flatten(0, -1)(x).shape == (24,)
    assert nn.Unflatten(1, (3, 1))(fg.randn(2, 3)).shape == (2, 3, 1)


def test_subclass_without_forward_raises():
    class NoForward(nn.Module):
        pass

    with pytest.raises(NotImplementedError, match="forward"):
        NoForward()(fg.ones(1))
