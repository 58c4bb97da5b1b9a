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


class Backbone(nn.Module):
    """Nested containers with batch-norm buffers, as in a small CNN."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.ReLU())
        self.heads = nn.ModuleDict({"cls": nn.Linear(2, 3), "aux": nn.Sequential(nn.BatchNorm1d(2, affine=False))})
        self.gains = nn.ParameterList([fg.ones(2)])

    def forward(self, x):
        h = self.features(x).mean(dim=(2, 3))
        return self.heads["cls"](self.heads["aux"](h) * self.gains[0])


def test_nested_state_dict_keys_include_batchnorm_buffers():
    assert list(Backbone().state_dict()) == [
        "features.0.weight", "features.0.bias",
        "features.1.weight", "features.1.bias",
        "features.1.running_mean", "features.1.running_var", "features.1.num_batches_tracked",
        "heads.cls.weight", "heads.cls.bias",
        "heads.aux.0.running_mean", "heads.aux.0.running_var", "heads.aux.0.num_batches_tracked",
        "gains.0",
    ]
    # Without running statistics there are no buffers to save.
    assert list(nn.BatchNorm1d(3, track_running_stats=False).state_dict()) == ["weight", "bias"]


def test_nested_round_trip_restores_running_statistics_and_batch_count():
    fg.manual_seed(0)
    a = Backbone()
    for _ in range(3):
        a(fg.randn(4, 1, 5, 5))
    sd = a.state_dict()
    assert sd["features.1.num_batches_tracked"].dtype == fg.int64
    assert sd["features.1.num_batches_tracked"].item() == 3
    assert sd["heads.aux.0.num_batches_tracked"].item() == 3
    b = Backbone()
    b.load_state_dict(sd)
    for k, v in b.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), sd[k].numpy(), err_msg=k)
    assert b.features[1].num_batches_tracked.dtype == fg.int64
    a.eval()
    b.eval()
    x = fg.randn(2, 1, 5, 5)
    np.testing.assert_allclose(a(x).detach().numpy(), b(x).detach().numpy(), rtol=1e-6)


def test_strict_error_lists_every_missing_and_unexpected_nested_key_in_pytorch_order():
    net = Backbone()
    sd = net.state_dict()
    del sd["features.1.num_batches_tracked"]
    del sd["heads.cls.bias"]
    sd["heads.cls.scale"] = fg.ones(1)
    sd["gains.1"] = fg.ones(2)
    sd["features.0.weight"] = fg.zeros(1)
    before = {k: v.clone() for k, v in net.state_dict().items()}
    with pytest.raises(RuntimeError) as e:
        net.load_state_dict(sd)
    msg = str(e.value)
    lines = msg.split("\n\t")
    assert lines[0] == "Error(s) in loading state_dict for Backbone:"
    assert lines[1] == 'Missing key(s) in state_dict: "features.1.num_batches_tracked", "heads.cls.bias". '
    assert lines[2] == 'Unexpected key(s) in state_dict: "heads.cls.scale", "gains.1". '
    assert lines[3].startswith("size mismatch for features.0.weight: copying a param with shape [1] from checkpoint")
    for k, v in net.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), before[k].numpy(), err_msg=k)
    # Non-strict loading still refuses a wrong shape, but reports the key lists otherwise.
    del sd["features.0.weight"]
    res = net.load_state_dict(sd, strict=False)
    assert res.missing_keys == ["features.0.weight", "features.1.num_batches_tracked", "heads.cls.bias"]
    assert res.unexpected_keys == ["heads.cls.scale", "gains.1"]


def test_hook_handles_remove_only_their_hook():
    lin = nn.Linear(2, 2)
    log = []
    h1 = lin.register_forward_hook(lambda m, a, o: log.append("first"))
    h2 = lin.register_forward_hook(lambda m, a, o: log.append("second"))
    h0 = lin.register_forward_hook(lambda m, a, o: log.append("prepended"), prepend=True)
    lin(fg.ones(1, 2))
    assert log == ["prepended", "first", "second"]
    h1.remove()
    h1.remove()  # removing twice is harmless
    log.clear()
    lin(fg.ones(1, 2))
    assert log == ["prepended", "second"]
    h0.remove()
    h2.remove()
    log.clear()
    lin(fg.ones(1, 2))
    assert log == []
    # A handle is a context manager: the hook lives for the block only.
    with lin.register_forward_pre_hook(lambda m, args: log.append("pre")):
        lin(fg.ones(1, 2))
    lin(fg.ones(1, 2))
    assert log == ["pre"]


def test_hooks_run_for_submodules_and_see_modified_args():
    net = nn.Sequential(nn.Linear(2, 3), nn.ReLU())
    seen = []
    net[0].register_forward_pre_hook(lambda m, args: args[0] * 2)  # a bare value becomes (value,)
    net[0].register_forward_hook(lambda m, args, out: seen.append(args[0].tolist()))
    net(fg.ones(1, 2))
    assert seen == [[[2.0, 2.0]]]


def test_hooks_with_kwargs():
    class Scale(nn.Module):
        def forward(self, x, *, factor=1.0):
            return x * factor

    m = Scale()
    calls = []

    def pre(mod, args, kwargs):
        return args, {**kwargs, "factor": 3.0}

    def post(mod, args, kwargs, out):
        calls.append(kwargs["factor"])
        return out + 1

    m.register_forward_pre_hook(pre, with_kwargs=True)
    h = m.register_forward_hook(post, with_kwargs=True)
    assert m(fg.ones(2), factor=2.0).tolist() == [4.0, 4.0]
    assert calls == [3.0]
    h.remove()
    assert m(fg.ones(2)).tolist() == [3.0, 3.0]
    m.register_forward_pre_hook(lambda mod, args, kwargs: "bad", with_kwargs=True)
    with pytest.raises(RuntimeError, match="forward pre-hook must return None or a tuple"):
        m(fg.ones(2))


def test_to_dtype_details():
    lin = nn.Linear(2, 2)
    frozen = nn.Linear(2, 2)
    frozen.requires_grad_(False)
    net = nn.Sequential(lin, frozen)
    lin(fg.ones(1, 2)).sum().backward()
    same = net.to(fg.float32)
    assert same is net and net[0].weight is lin.weight  # no conversion needed: same objects
    assert net.to(dtype=fg.float64) is net
    assert lin.weight.grad is not None and lin.weight.grad.dtype == fg.float64
    assert not frozen.weight.requires_grad and frozen.weight.dtype == fg.float64
    assert [n for n, _ in net.named_parameters()] == ["0.weight", "0.bias", "1.weight", "1.bias"]
    net.to(fg.zeros(1, dtype=fg.float32))  # a tensor argument supplies the dtype
    assert all(p.dtype == fg.float32 for p in net.parameters())
    assert net(fg.ones(3, 2)).dtype == fg.float32
    with pytest.raises(TypeError, match="CPU only"):
        net.to("cuda")
    with pytest.raises(TypeError, match="floating point"):
        net.to(dtype=fg.int64)


def test_module_list_repr_compresses_repeats_like_pytorch():
    ml = nn.ModuleList([nn.Linear(2, 2), nn.Linear(2, 2), nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 2)])
    assert repr(ml) == (
        "ModuleList(\n"
        "  (0-2): 3 x Linear(in_features=2, out_features=2, bias=True)\n"
        "  (3): ReLU()\n"
        "  (4): Linear(in_features=2, out_features=2, bias=True)\n"
        ")"
    )
    assert repr(nn.ModuleList()) == "ModuleList()"
    nested = nn.ModuleList([nn.Sequential(nn.Linear(1, 1)), nn.Sequential(nn.Linear(1, 1))])
    assert repr(nested) == (
        "ModuleList(\n"
        "  (0-1): 2 x Sequential(\n"
        "    (0): Linear(in_features=1, out_features=1, bias=True)\n"
        "  )\n"
        ")"
    )


def test_container_reprs_match_pytorch():
    md = nn.ModuleDict({"enc": nn.Linear(2, 2), "act": nn.Tanh()})
    assert repr(md) == (
        "ModuleDict(\n"
        "  (enc): Linear(in_features=2, out_features=2, bias=True)\n"
        "  (act): Tanh()\n"
        ")"
    )
    pl = nn.ParameterList([fg.zeros(2, 3), fg.zeros(4, dtype=fg.float64)])
    assert repr(pl) == (
        "ParameterList(\n"
        "    (0): Parameter containing: [ferrograd.float32 of size 2x3]\n"
        "    (1): Parameter containing: [ferrograd.float64 of size 4]\n"
        ")"
    )
    net = Backbone()
    r = repr(net)
    assert r.startswith("Backbone(\n  (features): Sequential(\n    (0): Conv2d(1, 2, kernel_size=(3, 3), stride=(1, 1))\n")
    assert "    (1): BatchNorm2d(2, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)\n" in r
    assert "  (heads): ModuleDict(\n    (cls): Linear(in_features=2, out_features=3, bias=True)\n" in r
    assert "      (0): BatchNorm1d(2, eps=1e-05, momentum=0.1, affine=False, track_running_stats=True)\n" in r
    assert r.endswith("  (gains): ParameterList(  (0): Parameter containing: [ferrograd.float32 of size 2])\n)")


def test_sequential_slicing_append_and_friends():
    layers = [nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 2), nn.Tanh()]
    seq = nn.Sequential(*layers)
    assert list(seq[::2]) == [layers[0], layers[2]]
    assert [n for n, _ in seq[::2].named_children()] == ["0", "2"]
    assert list(seq[-2:]) == layers[2:] and len(seq[5:]) == 0
    assert seq[-4] is layers[0]
    with pytest.raises(IndexError):
        seq[-5]
    assert seq.append(nn.Identity()) is seq and len(seq) == 5
    assert [n for n, _ in seq.named_children()] == ["0", "1", "2", "3", "4"]
    seq.insert(1, nn.Sigmoid())
    assert isinstance(seq[1], nn.Sigmoid) and seq[2] is layers[1] and len(seq) == 6
    seq.extend([nn.ReLU()])
    assert isinstance(seq[-1], nn.ReLU)
    del seq[1:3]
    assert [type(m).__name__ for m in seq] == ["Linear", "Linear", "Tanh", "Identity", "ReLU"]
    assert list(seq.state_dict()) == ["0.weight", "0.bias", "1.weight", "1.bias"]
    seq[1] = nn.Linear(2, 1)
    assert seq(fg.ones(3, 2)).shape == (3, 1)
    last = seq[-1]
    assert seq.pop(-1) is last and len(seq) == 4
    first = seq.pop(0)
    assert isinstance(first, nn.Linear) and [n for n, _ in seq.named_children()] == ["0", "1", "2"]
    ml = nn.ModuleList([nn.ReLU(), nn.Tanh()])
    assert isinstance(ml.pop(0), nn.ReLU) and isinstance(ml[0], nn.Tanh) and len(ml) == 1


def test_module_dict_and_parameter_list_behaviour():
    md = nn.ModuleDict()
    md["b"] = nn.Linear(1, 1)
    md.update([("a", nn.ReLU())])
    md.update({"c": nn.Tanh()})
    assert list(md) == ["b", "a", "c"] and len(md) == 3
    assert [k for k, _ in md.items()] == ["b", "a", "c"]
    assert isinstance(md.pop("a"), nn.ReLU) and "a" not in md
    del md["c"]
    assert list(md.keys()) == ["b"]
    with pytest.raises(KeyError):
        md["missing"]
    holder = nn.Module()
    holder.blocks = md
    assert [n for n, _ in holder.named_parameters()] == ["blocks.b.weight", "blocks.b.bias"]

    pl = nn.ParameterList()
    pl.append(fg.zeros(1))
    pl.extend([fg.ones(2), nn.Parameter(fg.ones(3), requires_grad=False)])
    assert len(pl) == 3 and all(isinstance(p, nn.Parameter) for p in pl)
    assert not pl[2].requires_grad
    assert [n for n, _ in pl.named_parameters()] == ["0", "1", "2"]  # frozen ones included
    pl[0] = fg.full((1,), 5.0)
    assert isinstance(pl[0], nn.Parameter) and pl[0].tolist() == [5.0]
    assert list(pl[1:]) == [pl[1], pl[2]]
    with pytest.raises(IndexError):
        pl[3]


def test_load_state_dict_copies_by_default_and_assigns_on_request():
    src = nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2)).double()
    sd = src.state_dict()
    dst = nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2))
    w = dst[0].weight
    dst.load_state_dict(sd)
    assert dst[0].weight is w and w.dtype == fg.float32  # copied into the existing float32 tensor
    np.testing.assert_allclose(w.detach().numpy(), sd["0.weight"].numpy(), rtol=1e-6)

    dst[0].bias.requires_grad_(False)
    dst.load_state_dict(sd, assign=True)
    p = dst[0].weight
    assert p is not w and isinstance(p, nn.Parameter) and p.dtype == fg.float64 and p.requires_grad
    assert not dst[0].bias.requires_grad  # the module's requires_grad is kept
    with fg.no_grad():
        sd["0.weight"].add_(1.0)
        sd["1.running_mean"].add_(1.0)
    # assigned tensors share storage with the state dict's
    np.testing.assert_array_equal(p.detach().numpy(), sd["0.weight"].numpy())
    np.testing.assert_array_equal(dst[1].running_mean.numpy(), sd["1.running_mean"].numpy())
    assert [n for n, _ in dst.named_parameters()] == ["0.weight", "0.bias", "1.weight", "1.bias"]
