"""Learning-rate schedulers against their closed-form formulas (and torch when present)."""

import math

import pytest

import ferrograd as fg
import ferrograd.nn as nn
import ferrograd.optim as optim
from ferrograd.optim import lr_scheduler as S


def make_opt(lr=0.1, cls=optim.SGD, **kw):
    return cls([nn.Parameter(fg.ones(1))], lr=lr, **kw)


def lrs(sched, steps):
    out = [sched.get_last_lr()[0]]
    for _ in range(steps):
        sched.optimizer.step()
        sched.step()
        out.append(sched.get_last_lr()[0])
    return out


def approx(a, b):
    assert a == pytest.approx(b, rel=1e-12, abs=1e-15)


def test_step_lr():
    approx(lrs(S.StepLR(make_opt(), step_size=3, gamma=0.5), 8), [0.1 * 0.5 ** (e // 3) for e in range(9)])


def test_multistep_lr():
    approx(lrs(S.MultiStepLR(make_opt(), milestones=[2, 5, 5], gamma=0.1), 7),
           [0.1 * 0.1 ** (int(e >= 2) + 2 * int(e >= 5)) for e in range(8)])


def test_exponential_lr():
    approx(lrs(S.ExponentialLR(make_opt(), gamma=0.9), 5), [0.1 * 0.9**e for e in range(6)])


def test_cosine_annealing_lr():
    got = lrs(S.CosineAnnealingLR(make_opt(), T_max=10, eta_min=0.001), 10)
    approx(got, [0.001 + (0.1 - 0.001) * (1 + math.cos(math.pi * e / 10)) / 2 for e in range(11)])


def test_linear_lr():
    got = lrs(S.LinearLR(make_opt(), start_factor=0.25, end_factor=1.0, total_iters=4), 6)
    approx(got, [0.1 * (0.25 + 0.75 * min(e, 4) / 4) for e in range(7)])
    with pytest.raises(ValueError):
        S.LinearLR(make_opt(), start_factor=0)


def test_lambda_lr_per_group():
    a, b = nn.Parameter(fg.ones(1)), nn.Parameter(fg.ones(1))
    opt = optim.SGD([{"params": [a]}, {"params": [b], "lr": 1.0}], lr=0.1)
    sched = S.LambdaLR(opt, [lambda e: 1 / (e + 1), lambda e: 0.5**e])
    for _ in range(3):
        opt.step()
        sched.step()
    approx(sched.get_last_lr(), [0.1 / 4, 1.0 * 0.5**3])


def test_one_cycle_lr_and_momentum():
    total, max_lr = 20, 1.0
    opt = make_opt(cls=optim.SGD, momentum=0.9)
    sched = S.OneCycleLR(opt, max_lr=max_lr, total_steps=total)
    initial, min_lr = max_lr / 25, max_lr / 25 / 1e4
    up_end = 0.3 * total - 1

    def cos(start, end, pct):
        return end + (start - end) / 2 * (math.cos(math.pi * pct) + 1)

    got, mom = [], []
    for step in range(total):
        got.append(opt.param_groups[0]["lr"])
        mom.append(opt.param_groups[0]["momentum"])
        opt.step()
        if step < total - 1:
            sched.step()
    want = [cos(initial, max_lr, s / up_end) if s <= up_end else cos(max_lr, min_lr, (s - up_end) / (total - 1 - up_end))
            for s in range(total)]
    want_m = [cos(0.95, 0.85, s / up_end) if s <= up_end else cos(0.85, 0.95, (s - up_end) / (total - 1 - up_end))
              for s in range(total)]
    approx(got, want)
    approx(mom, want_m)
    sched.step()
    with pytest.raises(ValueError, match="Tried to step"):
        sched.step()


def test_one_cycle_cycles_adam_beta1():
    opt = make_opt(cls=optim.Adam)
    S.OneCycleLR(opt, max_lr=0.01, epochs=2, steps_per_epoch=5)
    assert opt.param_groups[0]["betas"][0] == pytest.approx(0.95)
    with pytest.raises(ValueError):
        S.OneCycleLR(make_opt(cls=optim.Adagrad), max_lr=0.1, total_steps=10)


def test_reduce_lr_on_plateau():
    opt = make_opt(lr=1.0)
    sched = S.ReduceLROnPlateau(opt, mode="min", factor=0.5, patience=2, cooldown=1, min_lr=0.2)
    seen = []
    for metric in [1.0, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9]:
        sched.step(metric)
        seen.append(opt.param_groups[0]["lr"])
    # improvement, then 3 bad epochs -> halve; cooldown 1 epoch; 3 more bad -> halve; floor 0.2
    assert seen == [1.0, 1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25]
    assert min(seen) >= 0.2
    mx = S.ReduceLROnPlateau(make_opt(lr=1.0), mode="max", patience=0)
    mx.step(1.0)
    mx.step(0.5)
    assert mx.get_last_lr() == [0.1]


def test_scheduler_state_dict():
    s1 = S.StepLR(make_opt(), step_size=2)
    for _ in range(3):
        s1.step()
    s2 = S.StepLR(make_opt(), step_size=2)
    s2.load_state_dict(s1.state_dict())
    assert s2.last_epoch == 3


@pytest.mark.parametrize("name,kw", [("StepLR", dict(step_size=2, gamma=0.3)), ("ExponentialLR", dict(gamma=0.8)),
                                     ("CosineAnnealingLR", dict(T_max=5)), ("LinearLR", dict(total_iters=3)),
                                     ("MultiStepLR", dict(milestones=[1, 3]))])
def test_matches_torch(name, kw):
    torch = pytest.importorskip("torch")
    tp = torch.nn.Parameter(torch.ones(1))
    topt = torch.optim.SGD([tp], lr=0.1)
    tsched = getattr(torch.optim.lr_scheduler, name)(topt, **kw)
    sched = getattr(S, name)(make_opt(), **kw)
    for _ in range(8):
        topt.step()
        tsched.step()
        sched.optimizer.step()
        sched.step()
        assert sched.get_last_lr()[0] == pytest.approx(tsched.get_last_lr()[0], rel=1e-9)


def one_cycle_lrs(sched, total):
    opt = sched.optimizer
    got, mom = [], []
    for step in range(total):
        got.append(opt.param_groups[0]["lr"])
        mom.append(opt.param_groups[0].get("momentum"))
        opt.step()
        if step < total - 1:
            sched.step()
    return got, mom


def test_one_cycle_linear_anneal_with_custom_factors():
    total, max_lr, pct = 10, 0.5, 0.4
    opt = make_opt(momentum=0.9)
    sched = S.OneCycleLR(opt, max_lr=max_lr, total_steps=total, pct_start=pct, anneal_strategy="linear",
                         div_factor=10.0, final_div_factor=100.0, base_momentum=0.8, max_momentum=0.9)
    initial, min_lr = max_lr / 10, max_lr / 10 / 100
    up_end = pct * total - 1  # 3.0

    def lin(start, end, p):
        return start + (end - start) * p

    got, mom = one_cycle_lrs(sched, total)
    approx(got, [lin(initial, max_lr, s / up_end) if s <= up_end else lin(max_lr, min_lr, (s - up_end) / (total - 1 - up_end))
                 for s in range(total)])
    approx(mom, [lin(0.9, 0.8, s / up_end) if s <= up_end else lin(0.8, 0.9, (s - up_end) / (total - 1 - up_end))
                 for s in range(total)])
    assert got[0] == pytest.approx(0.05) and got[3] == pytest.approx(0.5) and got[-1] == pytest.approx(5e-4)


def test_one_cycle_three_phase_and_per_group_max_lr():
    total = 12
    a, b = nn.Parameter(fg.ones(1)), nn.Parameter(fg.ones(1))
    opt = optim.SGD([{"params": [a]}, {"params": [b]}], lr=0.1, momentum=0.9)
    sched = S.OneCycleLR(opt, max_lr=[1.0, 2.0], total_steps=total, pct_start=0.25, three_phase=True,
                         cycle_momentum=False)
    assert opt.param_groups[0]["momentum"] == 0.9  # cycle_momentum=False leaves it alone
    e1, e2, e3 = 0.25 * total - 1, 2 * 0.25 * total - 2, total - 1  # 2, 4, 11

    def cos(start, end, p):
        return end + (start - end) / 2 * (math.cos(math.pi * p) + 1)

    def want(s, m):
        init, mn = m / 25, m / 25 / 1e4
        if s <= e1:
            return cos(init, m, s / e1)
        if s <= e2:
            return cos(m, init, (s - e1) / (e2 - e1))
        return cos(init, mn, (s - e2) / (e3 - e2))

    seen = [[], []]
    for step in range(total):
        for i in range(2):
            seen[i].append(opt.param_groups[i]["lr"])
        opt.step()
        if step < total - 1:
            sched.step()
    approx(seen[0], [want(s, 1.0) for s in range(total)])
    approx(seen[1], [want(s, 2.0) for s in range(total)])
    assert opt.param_groups[0]["momentum"] == 0.9


def test_one_cycle_argument_checks():
    with pytest.raises(ValueError, match="total_steps OR"):
        S.OneCycleLR(make_opt(momentum=0.9), max_lr=1.0)
    with pytest.raises(ValueError, match="anneal_strategy"):
        S.OneCycleLR(make_opt(momentum=0.9), max_lr=1.0, total_steps=5, anneal_strategy="step")
    with pytest.raises(ValueError, match="pct_start"):
        S.OneCycleLR(make_opt(momentum=0.9), max_lr=1.0, total_steps=5, pct_start=1.5)


def run_plateau(sched, metrics):
    out = []
    for m in metrics:
        sched.step(m)
        out.append(sched.optimizer.param_groups[0]["lr"])
    return out


def test_reduce_lr_on_plateau_relative_and_absolute_thresholds():
    # rel: an improvement must beat best * (1 - threshold); 0.95 after 1.0 does not with 0.1.
    rel = S.ReduceLROnPlateau(make_opt(lr=1.0), mode="min", factor=0.5, patience=1, threshold=0.1)
    assert run_plateau(rel, [1.0, 0.95, 0.95, 0.85, 0.8]) == [1.0, 1.0, 0.5, 0.5, 0.5]
    assert rel.best == 0.85 and rel.num_bad_epochs == 1
    # abs: it must beat best - threshold; 0.95 after 1.0 does with 0.01.
    ab = S.ReduceLROnPlateau(make_opt(lr=1.0), mode="min", factor=0.5, patience=1, threshold=0.01, threshold_mode="abs")
    assert run_plateau(ab, [1.0, 0.95, 0.945, 0.94, 0.93]) == [1.0, 1.0, 1.0, 0.5, 0.5]
    # max mode: rel needs best * (1 + threshold), abs needs best + threshold.
    mx = S.ReduceLROnPlateau(make_opt(lr=1.0), mode="max", factor=0.1, patience=0, threshold=0.5)
    assert run_plateau(mx, [2.0, 2.9, 3.1]) == [1.0, 0.1, 0.1]
    mxa = S.ReduceLROnPlateau(make_opt(lr=1.0), mode="max", factor=0.1, patience=0, threshold=1.0,
                              threshold_mode="abs")
    assert run_plateau(mxa, [2.0, 2.9, 3.1]) == pytest.approx([1.0, 0.1, 0.1])
    assert mxa.best == 3.1


def test_reduce_lr_on_plateau_cooldown_min_lr_per_group_and_eps():
    a, b = nn.Parameter(fg.ones(1)), nn.Parameter(fg.ones(1))
    opt = optim.SGD([{"params": [a]}, {"params": [b], "lr": 0.1}], lr=1.0)
    sched = S.ReduceLROnPlateau(opt, factor=0.1, patience=0, cooldown=2, min_lr=[0.05, 0.0])
    seen = []
    for m in [1.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0]:
        sched.step(m)
        seen.append([g["lr"] for g in opt.param_groups])
    # reduce at epoch 2, two cooldown epochs ignore bad values, reduce again at epoch 5
    want = [[1.0, 0.1], [0.1, 0.01], [0.1, 0.01], [0.1, 0.01], [0.05, 0.001], [0.05, 0.001], [0.05, 0.001]]
    assert sum(seen, []) == pytest.approx(sum(want, []))
    assert sched.get_last_lr() == pytest.approx([0.05, 0.001])
    # A reduction smaller than eps is skipped.
    tiny = S.ReduceLROnPlateau(make_opt(lr=1e-9), factor=0.5, patience=0, eps=1e-8)
    assert run_plateau(tiny, [1.0, 1.0]) == [1e-9, 1e-9]
    with pytest.raises(ValueError, match="expected 2 min_lrs"):
        S.ReduceLROnPlateau(opt, min_lr=[0.1])
    with pytest.raises(ValueError, match="Factor"):
        S.ReduceLROnPlateau(opt, factor=1.0)
    with pytest.raises(ValueError, match="unknown"):
        S.ReduceLROnPlateau(opt, mode="up")


def test_schedulers_resume_from_state_dict():
    def fresh():
        return S.OneCycleLR(make_opt(momentum=0.9), max_lr=1.0, total_steps=10)

    s1 = fresh()
    for _ in range(4):
        s1.optimizer.step()
        s1.step()
    s2 = fresh()
    s2.load_state_dict(s1.state_dict())
    for _ in range(4):
        for s in (s1, s2):
            s.optimizer.step()
            s.step()
    assert s2.get_last_lr() == s1.get_last_lr()
    assert s2.optimizer.param_groups[0]["momentum"] == s1.optimizer.param_groups[0]["momentum"]

    p1 = S.ReduceLROnPlateau(make_opt(lr=1.0), patience=1)
    run_plateau(p1, [1.0, 2.0])
    p2 = S.ReduceLROnPlateau(make_opt(lr=1.0), patience=1)
    p2.load_state_dict(p1.state_dict())
    assert p2.num_bad_epochs == 1 and p2.best == 1.0
    run_plateau(p2, [2.0])  # the second bad epoch in a row: reduce
    assert p2.get_last_lr() == [0.1]
