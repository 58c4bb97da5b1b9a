"""Optimizers against hand-written NumPy versions of their update rules (and against
torch.optim when torch is installed), parameter groups, zero_grad and state_dict."""

import math

import numpy as np
import pytest

import ferrograd as fg
import ferrograd.nn as nn
import ferrograd.optim as optim

RNG = np.random.default_rng(0)
P0 = RNG.standard_normal((3, 4))
GRADS = [RNG.standard_normal((3, 4)) for _ in range(5)]


def run_ferrograd(cls, dtype=np.float64, **kw):
    p = nn.Parameter(fg.tensor(P0.astype(dtype)))
    opt = cls([p], **kw)
    out = []
    for g in GRADS:
        p.grad = fg.tensor(g.astype(dtype))
        opt.step()
        out.append(p.detach().numpy().copy())
    return out


def ref_sgd(lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False, maximize=False):
    p, buf, out = P0.copy(), None, []
    for g in GRADS:
        d = -g if maximize else g.copy()
        d = d + weight_decay * p
        if momentum:
            buf = d.copy() if buf is None else momentum * buf + (1 - dampening) * d
            d = d + momentum * buf if nesterov else buf
        p = p - lr * d
        out.append(p.copy())
    return out


def ref_adam(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False, maximize=False, decoupled=False):
    p = P0.copy()
    m = np.zeros_like(p)
    v = np.zeros_like(p)
    vmax = np.zeros_like(p)
    out = []
    for t, g in enumerate(GRADS, 1):
        g = -g if maximize else g
        if weight_decay:
            if decoupled:
                p = p * (1 - lr * weight_decay)
            else:
                g = g + weight_decay * p
        m = betas[0] * m + (1 - betas[0]) * g
        v = betas[1] * v + (1 - betas[1]) * g * g
        vhat = v
        if amsgrad:
            vmax = np.maximum(vmax, v)
            vhat = vmax
        denom = np.sqrt(vhat) / math.sqrt(1 - betas[1] ** t) + eps
        p = p - lr / (1 - betas[0] ** t) * m / denom
        out.append(p.copy())
    return out


def ref_rmsprop(lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False, maximize=False):
    p = P0.copy()
    sq = np.zeros_like(p)
    ga = np.zeros_like(p)
    buf = np.zeros_like(p)
    out = []
    for g in GRADS:
        g = -g if maximize else g
        g = g + weight_decay * p
        sq = alpha * sq + (1 - alpha) * g * g
        if centered:
            ga = alpha * ga + (1 - alpha) * g
            avg = np.sqrt(sq - ga * ga) + eps
        else:
            avg = np.sqrt(sq) + eps
        if momentum > 0:
            buf = momentum * buf + g / avg
            p = p - lr * buf
        else:
            p = p - lr * g / avg
        out.append(p.copy())
    return out


def ref_adagrad(lr=1e-2, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0, eps=1e-10, maximize=False):
    p = P0.copy()
    s = np.full_like(p, initial_accumulator_value)
    out = []
    for t, g in enumerate(GRADS, 1):
        g = -g if maximize else g
        g = g + weight_decay * p
        clr = lr / (1 + (t - 1) * lr_decay)
        s = s + g * g
        p = p - clr * g / (np.sqrt(s) + eps)
        out.append(p.copy())
    return out


CASES = [
    (optim.SGD, ref_sgd, dict(lr=0.1)),
    (optim.SGD, ref_sgd, dict(lr=0.1, momentum=0.9)),
    (optim.SGD, ref_sgd, dict(lr=0.05, momentum=0.9, dampening=0.3, weight_decay=0.01)),
    (optim.SGD, ref_sgd, dict(lr=0.05, momentum=0.8, nesterov=True, weight_decay=0.1)),
    (optim.SGD, ref_sgd, dict(lr=0.1, maximize=True)),
    (optim.Adam, ref_adam, dict()),
    (optim.Adam, ref_adam, dict(lr=0.01, betas=(0.8, 0.9), weight_decay=0.1, amsgrad=True)),
    (optim.Adam, ref_adam, dict(lr=0.01, maximize=True, eps=1e-6)),
    (optim.AdamW, lambda **kw: ref_adam(decoupled=True, weight_decay=kw.pop("weight_decay", 1e-2), **kw), dict(lr=0.01)),
    (optim.AdamW, lambda **kw: ref_adam(decoupled=True, **kw), dict(lr=0.01, weight_decay=0.3, amsgrad=True)),
    (optim.RMSprop, ref_rmsprop, dict()),
    (optim.RMSprop, ref_rmsprop, dict(lr=0.01, momentum=0.9, centered=True, weight_decay=0.1)),
    (optim.RMSprop, ref_rmsprop, dict(lr=0.01, alpha=0.9, maximize=True)),
    (optim.Adagrad, ref_adagrad, dict()),
    (optim.Adagrad, ref_adagrad, dict(lr=0.1, lr_decay=0.1, weight_decay=0.05, initial_accumulator_value=0.5)),
    # each option on its own, and the combinations PyTorch treats specially
    (optim.SGD, ref_sgd, dict(lr=0.1, weight_decay=0.2)),
    (optim.SGD, ref_sgd, dict(lr=0.05, momentum=0.9, nesterov=True)),
    (optim.SGD, ref_sgd, dict(lr=0.05, momentum=0.5, dampening=0.9)),
    (optim.SGD, ref_sgd, dict(lr=0.05, momentum=0.7, nesterov=True, maximize=True, weight_decay=0.05)),
    (optim.Adam, ref_adam, dict(lr=0.01, weight_decay=0.2)),
    (optim.Adam, ref_adam, dict(lr=0.01, amsgrad=True)),
    (optim.Adam, ref_adam, dict(lr=0.01, amsgrad=True, maximize=True, weight_decay=0.05)),
    (optim.AdamW, lambda **kw: ref_adam(decoupled=True, **kw), dict(lr=0.01, weight_decay=0.1, maximize=True)),
    (optim.AdamW, lambda **kw: ref_adam(decoupled=True, **kw), dict(lr=0.02, weight_decay=0.0, betas=(0.5, 0.6))),
    (optim.RMSprop, ref_rmsprop, dict(lr=0.01, centered=True)),
    (optim.RMSprop, ref_rmsprop, dict(lr=0.01, momentum=0.8)),
    (optim.RMSprop, ref_rmsprop, dict(lr=0.01, weight_decay=0.3, eps=1e-3)),
    (optim.Adagrad, ref_adagrad, dict(lr=0.1, lr_decay=0.5)),
    (optim.Adagrad, ref_adagrad, dict(lr=0.1, eps=1e-2, maximize=True)),
]


@pytest.mark.parametrize("cls,ref,kw", CASES, ids=[f"{c.__name__}-{i}" for i, (c, _, _) in enumerate(CASES)])
def test_matches_reference_update_rule(cls, ref, kw):
    got = run_ferrograd(cls, **kw)
    want = ref(**kw)
    for step, (g, w) in enumerate(zip(got, want)):
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-12, err_msg=f"step {step}")


@pytest.mark.parametrize("cls,ref,kw", CASES[:2] + CASES[5:7], ids=["sgd", "sgd-mom", "adam", "adam-ams"])
def test_float32_parameters(cls, ref, kw):
    got = run_ferrograd(cls, dtype=np.float32, **kw)
    assert got[-1].dtype == np.float32
    np.testing.assert_allclose(got[-1], ref(**kw)[-1], rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("cls,ref,kw", CASES, ids=[f"torch-{c.__name__}-{i}" for i, (c, _, _) in enumerate(CASES)])
def test_matches_torch_optim(cls, ref, kw):
    torch = pytest.importorskip("torch")
    p = torch.nn.Parameter(torch.tensor(P0))
    topt = getattr(torch.optim, cls.__name__)([p], **kw)
    got = run_ferrograd(cls, **kw)
    for step, g in enumerate(GRADS):
        p.grad = torch.tensor(g)
        topt.step()
        np.testing.assert_allclose(got[step], p.detach().numpy(), rtol=1e-10, atol=1e-12)


def test_step_runs_under_no_grad_and_moves_the_version():
    p = nn.Parameter(fg.ones(3))
    v0 = p._version
    (p * 2).sum().backward()
    opt = optim.SGD([p], lr=0.5)
    opt.step()
    assert p.tolist() == [0.0, 0.0, 0.0]
    assert p._version > v0
    assert p.is_leaf and p.requires_grad and p.grad_fn is None


def test_a_saved_parameter_changed_by_step_is_detected_in_backward():
    p = nn.Parameter(fg.ones(2))
    y = (p * p).sum()  # saves p
    p.grad = fg.ones(2)
    optim.SGD([p], lr=0.1).step()
    with pytest.raises(fg.AutogradError, match="modified by an inplace operation"):
        y.backward()


def test_parameters_without_grad_are_skipped():
    a, b = nn.Parameter(fg.ones(2)), nn.Parameter(fg.ones(2))
    a.grad = fg.ones(2)
    opt = optim.Adam([a, b], lr=0.1)
    opt.step()
    assert b.tolist() == [1.0, 1.0] and b not in opt.state
    assert a.tolist() != [1.0, 1.0]


def test_param_groups_have_their_own_options():
    a, b = nn.Parameter(fg.ones(2)), nn.Parameter(fg.ones(2))
    opt = optim.SGD([{"params": [a]}, {"params": [b], "lr": 1.0}], lr=0.1, momentum=0.5)
    assert opt.param_groups[0]["lr"] == 0.1 and opt.param_groups[1]["lr"] == 1.0
    assert opt.param_groups[1]["momentum"] == 0.5
    a.grad = fg.ones(2)
    b.grad = fg.ones(2)
    opt.step()
    np.testing.assert_allclose(a.detach().numpy(), [0.9, 0.9])
    np.testing.assert_allclose(b.detach().numpy(), [0.0, 0.0])
    c = nn.Parameter(fg.ones(1))
    opt.add_param_group({"params": c, "lr": 0.01})
    assert opt.param_groups[2]["momentum"] == 0.5 and opt.param_groups[2]["params"] == [c]
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [a]})


def test_argument_validation():
    p = nn.Parameter(fg.ones(1))
    with pytest.raises(ValueError):
        optim.SGD([p], lr=-1)
    with pytest.raises(ValueError, match="Nesterov"):
        optim.SGD([p], lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="beta"):
        optim.Adam([p], betas=(1.0, 0.9))
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.SGD([], lr=0.1)
    with pytest.raises(TypeError):
        optim.SGD(p, lr=0.1)
    with pytest.raises(ValueError, match="non-leaf"):
        optim.SGD([p * 2], lr=0.1)


def test_zero_grad():
    p = nn.Parameter(fg.ones(2))
    opt = optim.SGD([p], lr=0.1)
    p.grad = fg.ones(2)
    opt.zero_grad(set_to_none=False)
    assert p.grad.tolist() == [0.0, 0.0]
    opt.zero_grad()
    assert p.grad is None


def test_state_dict_round_trip_continues_identically():
    def make():
        p = nn.Parameter(fg.tensor(P0))
        return p, optim.Adam([p], lr=0.05, amsgrad=True)

    p1, o1 = make()
    for g in GRADS[:2]:
        p1.grad = fg.tensor(g)
        o1.step()
    sd = o1.state_dict()
    assert sd["param_groups"][0]["params"] == [0]
    assert set(sd["state"][0]) == {"step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"}
    p2, o2 = make()
    with fg.no_grad():
        p2.copy_(p1)
    o2.load_state_dict(sd)
    for g in GRADS[2:]:
        for p, o in ((p1, o1), (p2, o2)):
            p.grad = fg.tensor(g)
            o.step()
    np.testing.assert_array_equal(p1.detach().numpy(), p2.detach().numpy())
    with pytest.raises(ValueError, match="different number of parameter groups"):
        o2.load_state_dict({"state": {}, "param_groups": []})


def test_trains_a_tiny_regression():
    fg.manual_seed(0)
    x = fg.randn(64, 3)
    w_true = fg.tensor([[1.0], [-2.0], [0.5]])
    y = x @ w_true
    model = nn.Linear(3, 1)
    opt = optim.Adam(model.parameters(), lr=0.1)
    for _ in range(200):
        opt.zero_grad()
        loss = ((model(x) - y) ** 2).mean()
        loss.backward()
        opt.step()
    assert loss.item() < 1e-3


def run_groups(cls, groups, defaults, grads_for):
    """Steps one parameter per group (each starting at P0) and returns their trajectories."""
    params = [nn.Parameter(fg.tensor(P0)) for _ in groups]
    opt = cls([{"params": [p], **g} for p, g in zip(params, groups)], **defaults)
    out = [[] for _ in groups]
    for step in range(len(GRADS)):
        for i, p in enumerate(params):
            p.grad = fg.tensor(grads_for(i, step))
        opt.step()
        for i, p in enumerate(params):
            out[i].append(p.detach().numpy().copy())
    return opt, out


GROUP_CASES = [
    (optim.SGD, ref_sgd, dict(lr=0.1, momentum=0.5),
     [dict(), dict(lr=0.02, momentum=0.9, nesterov=True), dict(dampening=0.4, weight_decay=0.1, maximize=True)]),
    (optim.Adam, ref_adam, dict(lr=0.01),
     [dict(amsgrad=True), dict(betas=(0.5, 0.9), weight_decay=0.2), dict(lr=0.05, maximize=True, eps=1e-4)]),
    (optim.RMSprop, ref_rmsprop, dict(lr=0.01),
     [dict(centered=True), dict(momentum=0.9, alpha=0.8), dict(centered=True, momentum=0.5, weight_decay=0.1)]),
    (optim.Adagrad, ref_adagrad, dict(lr=0.1),
     [dict(lr_decay=0.2), dict(initial_accumulator_value=1.0, weight_decay=0.1), dict(maximize=True)]),
]


@pytest.mark.parametrize("cls,ref,defaults,groups", GROUP_CASES, ids=[c[0].__name__ for c in GROUP_CASES])
def test_each_param_group_follows_its_own_options(cls, ref, defaults, groups):
    # Every group sees the same gradients, so each must match the reference run with the
    # defaults overridden by that group's options, and nothing else.
    opt, got = run_groups(cls, groups, defaults, lambda i, step: GRADS[step])
    for i, g in enumerate(groups):
        want = ref(**{**defaults, **g})
        for step in range(len(GRADS)):
            np.testing.assert_allclose(got[i][step], want[step], rtol=1e-12, atol=1e-12, err_msg=f"group {i} step {step}")
        for k, v in {**defaults, **g}.items():
            assert opt.param_groups[i][k] == v


def test_add_param_group_steps_with_its_own_options_and_the_defaults():
    a = nn.Parameter(fg.tensor(P0))
    opt = optim.SGD([a], lr=0.1, momentum=0.9)
    b = nn.Parameter(fg.tensor(P0))
    opt.add_param_group({"params": [b], "lr": 0.05, "weight_decay": 0.1})
    assert opt.param_groups[1]["momentum"] == 0.9 and opt.param_groups[1]["nesterov"] is False
    for g in GRADS:
        a.grad = fg.tensor(g)
        b.grad = fg.tensor(g)
        opt.step()
    np.testing.assert_allclose(a.detach().numpy(), ref_sgd(lr=0.1, momentum=0.9)[-1], rtol=1e-12)
    np.testing.assert_allclose(b.detach().numpy(), ref_sgd(lr=0.05, momentum=0.9, weight_decay=0.1)[-1], rtol=1e-12)
    # The new group's options are validated like the constructor's.
    with pytest.raises(ValueError, match="Invalid learning rate"):
        opt.add_param_group({"params": [nn.Parameter(fg.ones(1))], "lr": -1.0})
    with pytest.raises(TypeError):
        opt.add_param_group([nn.Parameter(fg.ones(1))])


STATE_CASES = [
    (optim.SGD, dict(lr=0.05, momentum=0.9, nesterov=True), {"momentum_buffer"}),
    (optim.Adam, dict(lr=0.01, weight_decay=0.1), {"step", "exp_avg", "exp_avg_sq"}),
    (optim.AdamW, dict(lr=0.01, amsgrad=True), {"step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"}),
    (optim.RMSprop, dict(lr=0.01, momentum=0.5, centered=True), {"step", "square_avg", "momentum_buffer", "grad_avg"}),
    (optim.Adagrad, dict(lr=0.1, lr_decay=0.3), {"step", "sum"}),
]


@pytest.mark.parametrize("cls,kw,keys", STATE_CASES, ids=[c[0].__name__ for c in STATE_CASES])
def test_state_dict_round_trip_with_groups_continues_the_same_trajectory(cls, kw, keys, tmp_path):
    def make():
        ps = [nn.Parameter(fg.tensor(P0)), nn.Parameter(fg.tensor(P0[:2]))]
        return ps, cls([{"params": [ps[0]]}, {"params": [ps[1]], "lr": kw["lr"] / 2}], **kw)

    def step(ps, opt, g):
        ps[0].grad = fg.tensor(g)
        ps[1].grad = fg.tensor(g[:2] * 0.5)
        opt.step()

    ps1, o1 = make()
    for g in GRADS[:3]:
        step(ps1, o1, g)
    sd = o1.state_dict()
    assert [g["params"] for g in sd["param_groups"]] == [[0], [1]]
    assert sd["param_groups"][1]["lr"] == kw["lr"] / 2
    assert set(sd["state"]) == {0, 1} and set(sd["state"][0]) == keys
    # through a file as well: fg.save/fg.load keep tensors and plain values
    fg.save(sd, tmp_path / "opt.safetensors")
    loaded = fg.load(tmp_path / "opt.safetensors")

    ps2, o2 = make()
    with fg.no_grad():
        for a, b in zip(ps2, ps1):
            a.copy_(b)
    o2.load_state_dict(loaded)
    assert o2.param_groups[1]["lr"] == kw["lr"] / 2
    for g in GRADS[3:]:
        step(ps1, o1, g)
        step(ps2, o2, g)
    for a, b in zip(ps1, ps2):
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    # Loading copies the state: stepping the source does not move the loaded buffers.
    ps3, o3 = make()
    o3.load_state_dict(o1.state_dict())
    key = sorted(keys - {"step"})[0]
    before = o3.state[ps3[0]][key].clone()
    step(ps1, o1, GRADS[0])
    np.testing.assert_array_equal(o3.state[ps3[0]][key].numpy(), before.numpy())


def test_load_state_dict_rejects_mismatched_groups_and_shapes():
    p = nn.Parameter(fg.tensor(P0))
    opt = optim.SGD([p], lr=0.1, momentum=0.9)
    p.grad = fg.tensor(GRADS[0])
    opt.step()
    sd = opt.state_dict()
    other = optim.SGD([nn.Parameter(fg.ones(2)), nn.Parameter(fg.ones(2))], lr=0.1, momentum=0.9)
    with pytest.raises(ValueError, match="doesn't match the size"):
        other.load_state_dict(sd)
    small = optim.SGD([nn.Parameter(fg.ones(2))], lr=0.1, momentum=0.9)
    with pytest.raises(ValueError, match="has shape"):
        small.load_state_dict(sd)
