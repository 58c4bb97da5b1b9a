"""``DataLoader``: batches from a dataset, optionally shuffled and loaded by worker processes.

Workers (``num_workers > 0``) are separate processes (``multiprocessing_context`` "fork",
"spawn" or "forkserver"; the platform default otherwise). Each runs its loads in the grad
mode the DataLoader's iterator was created under, whichever start method is used, and with
one kernel thread (a forked child must not touch the parent's thread pool, whose threads
do not exist in the child; PyTorch likewise runs workers single-threaded). Batches come
back in sampler order."""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import queue
import traceback
from collections.abc import Mapping, Sequence

import numpy as np

from ... import _core
from ..._core import Tensor
from .dataset import IterableDataset
from .sampler import BatchSampler, RandomSampler, SequentialSampler, _numpy_rng

__all__ = ["DataLoader", "default_collate", "get_worker_info"]

_NP_KINDS = {"f": None, "i": np.int64, "u": np.int64, "b": np.bool_}


def _array_to_tensor(arr: np.ndarray) -> Tensor:
    if arr.dtype.kind not in _NP_KINDS:
        raise TypeError(f"default_collate: can't make a tensor from numpy arrays of dtype {arr.dtype}")
    if arr.dtype.kind == "f" and arr.dtype not in (np.float32, np.float64):
        arr = arr.astype(np.float32)
    elif _NP_KINDS[arr.dtype.kind] is not None:
        arr = arr.astype(_NP_KINDS[arr.dtype.kind], copy=False)
    return _core.from_numpy(np.asarray(arr, order="C"))


def default_collate(batch):
    """Stacks a list of samples into a batch: tensors and numpy arrays gain a leading batch
    dimension; Python floats become float64, ints int64 and bools bool tensors; strings stay
    a list; dicts, tuples and lists are collated field by field (tuples come back as lists,
    as in PyTorch)."""
    if not batch:
        raise ValueError("default_collate: got an empty batch")
    elem = batch[0]
    if isinstance(elem, Tensor):
        if any(not isinstance(b, Tensor) or tuple(b.shape) != tuple(elem.shape) for b in batch):
            raise RuntimeError("default_collate: stack expects each tensor to be equal size")
        return _array_to_tensor(np.stack([b.detach().numpy() for b in batch]))
    if isinstance(elem, np.ndarray):
        return _array_to_tensor(np.stack(batch))
    if isinstance(elem, np.generic):
        return _array_to_tensor(np.array(batch))
    if isinstance(elem, bool):
        return _core.tensor(batch, dtype=_core.bool)
    if isinstance(elem, float):
        return _core.tensor(batch, dtype=_core.float64)
    if isinstance(elem, int):
        return _core.tensor(batch, dtype=_core.int64)
    if isinstance(elem, (str, bytes)):
        return list(batch)
    if isinstance(elem, Mapping):
        return type(elem)({k: default_collate([d[k] for d in batch]) for k in elem}) if type(elem) is not dict else {
            k: default_collate([d[k] for d in batch]) for k in elem
        }
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):
        return type(elem)(*(default_collate(list(s)) for s in zip(*batch)))
    if isinstance(elem, Sequence):
        if any(len(e) != len(elem) for e in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        return [default_collate(list(s)) for s in zip(*batch)]
    raise TypeError(
        f"default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found {type(elem).__name__}"
    )


def default_convert(data):
    """What a DataLoader without batching returns: numpy arrays become tensors."""
    if isinstance(data, np.ndarray) and data.dtype.kind in _NP_KINDS:
        return _array_to_tensor(data)
    if isinstance(data, Mapping):
        return {k: default_convert(v) for k, v in data.items()}
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, (list, tuple)):
        return [default_convert(d) for d in data]
    return data


class WorkerInfo:
    def __init__(self, id, num_workers, seed, dataset):
        self.id = id
        self.num_workers = num_workers
        self.seed = seed
        self.dataset = dataset

    def __repr__(self):
        return f"WorkerInfo(id={self.id}, num_workers={self.num_workers}, seed={self.seed})"


_worker_info = None


def get_worker_info():
    """Inside a worker process: its ``WorkerInfo`` (id, num_workers, seed, dataset);
    ``None`` in the main process."""
    return _worker_info


def _grad_mode(grad_enabled: bool, inference: bool):
    """A context re-entering a captured (grad, inference) pair exactly."""
    stack = contextlib.ExitStack()
    if inference:
        stack.enter_context(_core.inference_mode(True))
        if grad_enabled:
            stack.enter_context(_core.enable_grad())
    else:
        stack.enter_context(_core.inference_mode(False))
        stack.enter_context(_core.set_grad_enabled(grad_enabled))
    return stack


class _WorkerError:
    def __init__(self, worker_id, exc):
        self.exc_type = type(exc)
        self.message = f"Caught {type(exc).__name__} in DataLoader worker process {worker_id}.\nOriginal " + "".join(
            traceback.format_exception(exc)
        )

    def reraise(self):
        try:
            err = self.exc_type(self.message)
        except Exception:
            err = RuntimeError(self.message)
        raise err


class _Exhausted:
    pass


def _worker_loop(dataset, index_queue, result_queue, collate_fn, auto_collation, iterable, batch_size, drop_last,
                 grad_enabled, inference, worker_id, num_workers, seed, worker_init_fn):
    global _worker_info
    try:
        _core.set_num_threads(1)
        _core.manual_seed(seed)
        np.random.seed(seed % (2**32))
        _worker_info = WorkerInfo(worker_id, num_workers, seed, dataset)
        init_error = None
        try:
            if worker_init_fn is not None:
                worker_init_fn(worker_id)
            it = iter(dataset) if iterable else None
        except Exception as e:  # reported with the first task
            init_error = _WorkerError(worker_id, e)
        with _grad_mode(grad_enabled, inference):
            while True:
                try:
                    task = index_queue.get(timeout=5.0)
                except queue.Empty:
                    continue
                if task is None:
                    break
                idx, indices = task
                if init_error is not None:
                    result_queue.put((idx, init_error))
                    continue
                try:
                    if iterable:
                        items = []
                        for _ in range(batch_size if auto_collation else 1):
                            try:
                                items.append(next(it))
                            except StopIteration:
                                break
                        if not items or (auto_collation and drop_last and len(items) < batch_size):
                            data = _Exhausted()
                        else:
                            data = collate_fn(items) if auto_collation else collate_fn(items[0])
                    elif auto_collation:
                        data = collate_fn([dataset[i] for i in indices])
                    else:
                        data = collate_fn(dataset[indices])
                except Exception as e:
                    data = _WorkerError(worker_id, e)
                result_queue.put((idx, data))
    except KeyboardInterrupt:
        pass


class DataLoader:
    """PyTorch's DataLoader: ``batch_size``, ``shuffle`` (drawn from ``generator``, or from
    ferrograd's seeded default generator), ``drop_last``, ``collate_fn``, ``num_workers``."""

    def __init__(self, dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None, num_workers=0,
                 collate_fn=None, pin_memory=False, drop_last=False, timeout=0, worker_init_fn=None,
                 multiprocessing_context=None, generator=None, *, prefetch_factor=None, persistent_workers=False,
                 pin_memory_device=""):
        if num_workers < 0:
            raise ValueError("num_workers option should be non-negative; use num_workers=0 to disable multiprocessing.")
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError("prefetch_factor option could only be specified in multiprocessing.")
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")
        self.dataset = dataset
        self.num_workers = num_workers
        self.prefetch_factor = 2 if prefetch_factor is None else prefetch_factor
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.generator = generator
        self.pin_memory = pin_memory
        self.persistent_workers = persistent_workers
        if isinstance(multiprocessing_context, str):
            multiprocessing_context = mp.get_context(multiprocessing_context)
        self.multiprocessing_context = multiprocessing_context
        self._iterable = isinstance(dataset, IterableDataset)
        if self._iterable:
            if shuffle:
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified shuffle option, but got shuffle={shuffle}")
            if sampler is not None or batch_sampler is not None:
                raise ValueError("DataLoader with IterableDataset: expected unspecified sampler/batch_sampler options")
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, shuffle, sampler, and drop_last")
            batch_size = None
            drop_last = False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually exclusive with drop_last")
        if sampler is None and not self._iterable:
            sampler = RandomSampler(dataset, generator=generator) if shuffle else SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None and not self._iterable:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self._auto_collation = batch_size is not None or batch_sampler is not None
        if collate_fn is None:
            collate_fn = default_collate if self._auto_collation else default_convert
        self.collate_fn = collate_fn

    def __len__(self):
        if self._iterable:
            n = len(self.dataset)
            if self.batch_size is None:
                return n
            return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
        return len(self.batch_sampler) if self._auto_collation else len(self.sampler)

    def _index_batches(self):
        return iter(self.batch_sampler) if self._auto_collation else iter(self.sampler)

    def __iter__(self):
        if self.num_workers == 0:
            return self._single_process()
        return _MultiProcessIter(self)

    def _single_process(self):
        if self._iterable:
            it = iter(self.dataset)
            while True:
                if not self._auto_collation:
                    try:
                        yield self.collate_fn(next(it))
                    except StopIteration:
                        return
                    continue
                items = []
                for _ in range(self.batch_size):
                    try:
                        items.append(next(it))
                    except StopIteration:
                        break
                if not items or (self.drop_last and len(items) < self.batch_size):
                    return
                yield self.collate_fn(items)
                if len(items) < self.batch_size:
                    return
        else:
            for indices in self._index_batches():
                if self._auto_collation:
                    yield self.collate_fn([self.dataset[i] for i in indices])
                else:
                    yield self.collate_fn(self.dataset[indices])


class _MultiProcessIter:
    """Round-robin tasks to worker processes, results yielded in task order."""

    def __init__(self, loader: DataLoader):
        self._loader = loader
        ctx = loader.multiprocessing_context or mp.get_context()
        mode = _core._ExactMode.capture()
        # Worker seeds come from the default generator, so the shuffle order (drawn from
        # loader.generator) is the same with and without workers.
        base_seed = int(_numpy_rng(None).integers(0, 2**62))
        self._result_queue = ctx.Queue()
        self._index_queues = []
        self._workers = []
        n = loader.num_workers
        for wid in range(n):
            iq = ctx.Queue()
            w = ctx.Process(
                target=_worker_loop,
                args=(loader.dataset, iq, self._result_queue, loader.collate_fn, loader._auto_collation, loader._iterable,
                      loader.batch_size, loader.drop_last, mode.grad_enabled, mode.inference, wid, n, base_seed + wid,
                      loader.worker_init_fn),
                daemon=True,
            )
            w.start()
            self._index_queues.append(iq)
            self._workers.append(w)
        self._tasks = None if loader._iterable else loader._index_batches()
        self._alive = [True] * n  # for iterable datasets: workers whose stream is not exhausted
        self._owner = {}
        self._send_idx = 0
        self._rcvd_idx = 0
        self._buffer = {}
        self._next_worker = 0
        self._done_sending = False
        self._shutdown = False
        for _ in range(loader.prefetch_factor * n):
            self._try_put()

    def _try_put(self):
        if self._done_sending:
            return
        n = len(self._workers)
        for _ in range(n):
            wid = self._next_worker
            self._next_worker = (self._next_worker + 1) % n
            if self._alive[wid]:
                break
        else:
            self._done_sending = True
            return
        if self._tasks is not None:
            try:
                indices = next(self._tasks)
            except StopIteration:
                self._done_sending = True
                return
        else:
            indices = None
        self._index_queues[wid].put((self._send_idx, indices))
        self._owner[self._send_idx] = wid
        self._send_idx += 1

    def __iter__(self):
        return self

    def _get(self):
        timeout = self._loader.timeout or None
        waited = 0.0
        while True:
            try:
                return self._result_queue.get(timeout=1.0)
            except queue.Empty:
                waited += 1.0
                for w in self._workers:
                    if not w.is_alive():
                        self._close()
                        raise RuntimeError(f"DataLoader worker (pid {w.pid}) exited unexpectedly with exit code {w.exitcode}")
                if timeout is not None and waited >= timeout:
                    self._close()
                    raise RuntimeError(f"DataLoader timed out after {timeout} seconds")

    def __next__(self):
        while True:
            if self._rcvd_idx >= self._send_idx:
                self._close()
                raise StopIteration
            while self._rcvd_idx not in self._buffer:
                idx, data = self._get()
                self._buffer[idx] = data
            data = self._buffer.pop(self._rcvd_idx)
            wid = self._owner.pop(self._rcvd_idx)
            self._rcvd_idx += 1
            if isinstance(data, _Exhausted):
                # That worker's stream ended; keep the others busy.
                self._alive[wid] = False
                self._try_put()
                continue
            self._try_put()
            if isinstance(data, _WorkerError):
                self._close()
                data.reraise()
            return data

    def _close(self):
        if self._shutdown:
            return
        self._shutdown = True
        for q in self._index_queues:
            try:
                q.put(None)
            except Exception:
                pass
        for w in self._workers:
            w.join(timeout=5.0)
            if w.is_alive():
                w.terminate()
        for q in [*self._index_queues, self._result_queue]:
            q.cancel_join_thread()
            q.close()

    def __del__(self):
        try:
            self._close()
        except Exception:
            pass
