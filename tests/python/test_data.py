"""Datasets, samplers, collation and DataLoader (determinism, drop_last, workers under
fork and spawn inheriting the grad mode)."""

import multiprocessing as mp
from collections import namedtuple

import numpy as np
import pytest

import ferrograd as fg
from ferrograd.utils.data import (
    DataLoader, Dataset, Generator, IterableDataset, Subset, TensorDataset, default_collate, get_worker_info,
    random_split,
)

START_METHODS = [m for m in ("fork", "spawn") if m in mp.get_all_start_methods()]


class Squares(Dataset):
    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if not 0 <= i < self.n:
            raise IndexError(i)
        return {"x": np.array([i, i * i], dtype=np.float32), "y": i}


class GradModeProbe(Dataset):
    """Reports the grad mode its items were loaded under, and the worker that loaded them."""

    def __len__(self):
        return 4

    def __getitem__(self, i):
        info = get_worker_info()
        return (fg.is_grad_enabled(), fg.is_inference_mode_enabled(), -1 if info is None else info.id)


class MatmulInWorker(Dataset):
    def __len__(self):
        return 4

    def __getitem__(self, i):
        a = fg.ones(256, 256)
        return float((a @ a).sum().item())


class Stream(IterableDataset):
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        info = get_worker_info()
        start, step = (0, 1) if info is None else (info.id, info.num_workers)
        return iter(range(start, self.n, step))


class Broken(Dataset):
    def __len__(self):
        return 3

    def __getitem__(self, i):
        if i == 1:
            raise KeyError("sample 1 is broken")
        return i


def test_tensor_dataset_and_subset():
    x, y = fg.arange(10).reshape(5, 2), fg.arange(5)
    ds = TensorDataset(x, y)
    assert len(ds) == 5
    xi, yi = ds[3]
    assert xi.tolist() == [6, 7] and yi.item() == 3
    with pytest.raises(ValueError, match="Size mismatch"):
        TensorDataset(x, fg.arange(4))
    sub = Subset(ds, [4, 0])
    assert len(sub) == 2 and sub[0][1].item() == 4


def test_default_collate_kinds():
    b = default_collate([(fg.tensor([1.0, 2.0]), 1, 0.5, True, "a"), (fg.tensor([3.0, 4.0]), 2, 1.5, False, "b")])
    assert isinstance(b, list) and len(b) == 5
    assert b[0].shape == (2, 2) and b[0].dtype == fg.float32
    assert b[1].dtype == fg.int64 and b[1].tolist() == [1, 2]
    assert b[2].dtype == fg.float64 and b[3].dtype == fg.bool
    assert b[4] == ["a", "b"]
    d = default_collate([{"a": np.zeros(3, dtype=np.float64)}, {"a": np.ones(3, dtype=np.float64)}])
    assert d["a"].shape == (2, 3) and d["a"].dtype == fg.float64
    assert default_collate([np.int32(1), np.int32(2)]).dtype == fg.int64
    P = namedtuple("P", "u v")
    p = default_collate([P(1, 2.0), P(3, 4.0)])
    assert isinstance(p, P) and p.u.tolist() == [1, 3]
    with pytest.raises(TypeError, match="default_collate"):
        default_collate([object(), object()])
    with pytest.raises(RuntimeError, match="equal size"):
        default_collate([fg.zeros(2), fg.zeros(3)])


def test_batches_and_drop_last():
    ds = Squares(10)
    loader = DataLoader(ds, batch_size=4)
    batches = list(loader)
    assert len(loader) == 3 and [b["y"].tolist() for b in batches] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert batches[0]["x"].shape == (4, 2)
    loader = DataLoader(ds, batch_size=4, drop_last=True)
    assert len(loader) == 2 and len(list(loader)) == 2
    assert [b["y"] for b in DataLoader(ds, batch_size=None)][:2] == [0, 1]


def order(loader):
    return [v for b in loader for v in b["y"].tolist()]


def test_shuffle_is_deterministic_with_a_seeded_generator():
    ds = Squares(20)
    a = order(DataLoader(ds, batch_size=6, shuffle=True, generator=Generator().manual_seed(7)))
    b = order(DataLoader(ds, batch_size=6, shuffle=True, generator=Generator().manual_seed(7)))
    c = order(DataLoader(ds, batch_size=6, shuffle=True, generator=Generator().manual_seed(8)))
    assert a == b and sorted(a) == list(range(20)) and a != list(range(20)) and a != c
    # the global seed fixes shuffles without an explicit generator
    fg.manual_seed(3)
    d = order(DataLoader(ds, batch_size=6, shuffle=True))
    fg.manual_seed(3)
    assert order(DataLoader(ds, batch_size=6, shuffle=True)) == d
    # each epoch reshuffles
    loader = DataLoader(ds, batch_size=20, shuffle=True, generator=Generator().manual_seed(1))
    assert order(loader) != order(loader)


def test_random_split():
    parts = random_split(range(10), [7, 3], generator=Generator().manual_seed(0))
    assert [len(p) for p in parts] == [7, 3]
    assert sorted(list(parts[0]) + list(parts[1])) == list(range(10))
    again = random_split(range(10), [7, 3], generator=Generator().manual_seed(0))
    assert list(again[0]) == list(parts[0])
    assert [len(p) for p in random_split(range(10), [0.5, 0.3, 0.2])] == [5, 3, 2]
    with pytest.raises(ValueError):
        random_split(range(10), [5, 4])


def test_iterable_dataset_single_process():
    assert [b.tolist() for b in DataLoader(Stream(7), batch_size=3)] == [[0, 1, 2], [3, 4, 5], [6]]
    assert len(list(DataLoader(Stream(7), batch_size=3, drop_last=True))) == 2
    with pytest.raises(ValueError):
        DataLoader(Stream(3), shuffle=True)


@pytest.mark.timeout(120)
@pytest.mark.parametrize("method", START_METHODS)
def test_workers_keep_order_and_match_single_process(method):
    ds = Squares(23)
    gen = Generator().manual_seed(5)
    want = order(DataLoader(ds, batch_size=4, shuffle=True, generator=Generator().manual_seed(5)))
    got = order(DataLoader(ds, batch_size=4, shuffle=True, generator=gen, num_workers=2, multiprocessing_context=method))
    assert got == want


@pytest.mark.timeout(120)
@pytest.mark.parametrize("method", START_METHODS)
def test_workers_inherit_the_grad_mode(method):
    loader = DataLoader(GradModeProbe(), batch_size=None, num_workers=2, multiprocessing_context=method)
    on = list(loader)
    assert [tuple(s[:2]) for s in on] == [(True, False)] * 4
    assert sorted({s[2] for s in on}) == [0, 1]  # loaded in workers
    with fg.no_grad():
        off = list(loader)
    assert [tuple(s[:2]) for s in off] == [(False, False)] * 4
    with fg.inference_mode():
        inf = list(loader)
    assert [tuple(s[:2]) for s in inf] == [(False, True)] * 4


@pytest.mark.timeout(120)
def test_forked_worker_can_run_kernels_after_the_parent_used_its_thread_pool():
    if "fork" not in START_METHODS:
        pytest.skip("fork is not available")
    big = fg.ones(512, 512)
    (big @ big).sum()  # the parent's kernel thread pool is now running
    loader = DataLoader(MatmulInWorker(), batch_size=None, num_workers=2, multiprocessing_context="fork")
    assert list(loader) == [256.0**3] * 4


@pytest.mark.timeout(120)
@pytest.mark.parametrize("method", START_METHODS)
def test_iterable_dataset_with_workers(method):
    got = [v for b in DataLoader(Stream(10), batch_size=2, num_workers=2, multiprocessing_context=method) for v in b.tolist()]
    assert sorted(got) == list(range(10))


@pytest.mark.timeout(120)
def test_worker_errors_are_reraised_with_their_type():
    with pytest.raises(KeyError, match="sample 1 is broken"):
        list(DataLoader(Broken(), batch_size=None, num_workers=1))
    with pytest.raises(KeyError):
        list(DataLoader(Broken(), batch_size=None))


def test_tensors_pickle():
    import copy
    import pickle

    t = fg.tensor([[1.0, 2.0]], requires_grad=True)
    u = pickle.loads(pickle.dumps(t))
    assert u.tolist() == [[1.0, 2.0]] and u.requires_grad and u.dtype == fg.float32
    v = copy.deepcopy(t)
    assert v.tolist() == t.tolist()
    with pytest.raises(RuntimeError, match="non-leaf"):
        pickle.dumps(t * 2)


def test_argument_validation():
    with pytest.raises(ValueError):
        DataLoader(Squares(3), num_workers=-1)
    with pytest.raises(ValueError):
        DataLoader(Squares(3), batch_size=0)
    with pytest.raises(ValueError):
        DataLoader(Squares(3), sampler=[0, 1], shuffle=True)
