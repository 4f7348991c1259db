# %% [markdown]
# # The DataLoader: parameters and speed, the proof
#
# **Question.** What are the main parameters of PyTorch's `DataLoader`, and how do you make data loading fast?
#
# A `DataLoader` combines a *dataset* (how to fetch sample `i`), a *sampler* (which indices, in what order), a
# *batch size* and a *collate function* (how to merge samples into a batch), and optionally worker processes
# that fetch batches in parallel with training. This module checks the semantics of each parameter and times
# the ways of going faster, on a dataset whose `__getitem__` sleeps to imitate reading a file. Claims:
#
# 1. any object with `__len__` and `__getitem__` is a dataset (a Python list works), and `len(loader)` is
#    $\lceil N/B \rceil$, or $\lfloor N/B \rfloor$ with `drop_last=True` (`test_any_indexable_is_a_dataset`);
# 2. `shuffle=True` with a seeded `generator` visits every sample once per epoch, in a new order each epoch and
#    reproducibly across runs (`test_shuffle_is_a_reproducible_permutation_per_epoch`);
# 3. the default `collate_fn` stacks tensors and converts numbers; a custom one can pad variable-length samples
#    (`test_collate_stacks_and_a_custom_collate_pads`);
# 4. fetching a whole batch with one indexing call (a `BatchSampler` with `batch_size=None`) returns the same
#    batches as per-sample fetching (`test_batched_fetch_equals_per_sample_fetch`), and is faster (slow);
# 5. with persistent worker processes, an I/O-bound epoch runs faster and in the same order
#    (`test_workers_overlap_io_bound_loading`, slow), and so does a thread pool
#    (`test_threads_also_overlap_io_bound_loading`, slow), but threads do not speed up work done in Python
#    (`test_threads_do_not_speed_up_python_level_work`, slow);
# 6. where it stops holding: for a small in-memory dataset, worker processes are slower than none
#    (`test_workers_are_slower_for_in_memory_data`, slow).

# %% [markdown]
# ## A dataset that waits like a disk
#
# `SlowDataset.__getitem__` sleeps 5 ms, as if it read and decoded a file. Sleeping releases the CPU (and the
# GIL), as I/O does, so the timings hold on a busy two-core machine.

# %%
import math
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import torch
from torch.nn.utils.rnn import pad_sequence
from torch.utils.data import BatchSampler, DataLoader, Dataset, SequentialSampler, TensorDataset


class SlowDataset(Dataset):
    def __init__(self, n=32, delay=0.005):
        self.n, self.delay = n, delay

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        time.sleep(self.delay)  # reading and decoding a file
        return torch.full((3,), float(i))


def epoch_time(loader):
    start = time.perf_counter()
    batches = list(loader)
    return time.perf_counter() - start, batches


# %% [markdown]
# ## Claims about the parameters

# %%
def test_any_indexable_is_a_dataset():
    """A plain list of 10 numbers is a valid dataset: batch_size=4 gives ceil(10/4) = 3 batches, drop_last=True gives 2."""
    data = list(range(10))
    loader = DataLoader(data, batch_size=4)
    assert len(loader) == math.ceil(10 / 4) and [b.tolist() for b in loader][-1] == [8, 9]
    assert len(DataLoader(data, batch_size=4, drop_last=True)) == 10 // 4


def test_shuffle_is_a_reproducible_permutation_per_epoch():
    """With shuffle=True each epoch is a permutation of all 20 indices, two epochs differ, and a second loader seeded alike repeats both."""

    def two_epochs(seed):
        loader = DataLoader(list(range(20)), batch_size=5, shuffle=True, generator=torch.Generator().manual_seed(seed))
        return [torch.cat(list(loader)).tolist() for _ in range(2)]

    first, second = two_epochs(0)
    assert sorted(first) == list(range(20)) and sorted(second) == list(range(20))
    assert first != second
    assert two_epochs(0) == [first, second]


def test_collate_stacks_and_a_custom_collate_pads():
    """The default collate turns (tensor, int) samples into a stacked tensor and an int64 tensor; a pad_sequence collate batches lengths 2, 4, 3 into a (3, 4) tensor."""
    samples = [(torch.full((2,), float(i)), i) for i in range(3)]
    x, y = next(iter(DataLoader(samples, batch_size=3)))
    assert torch.equal(x, torch.stack([s[0] for s in samples])) and torch.equal(y, torch.tensor([0, 1, 2]))
    ragged = [torch.ones(2), torch.ones(4), torch.ones(3)]
    padded = next(iter(DataLoader(ragged, batch_size=3, collate_fn=lambda b: pad_sequence(b, batch_first=True))))
    assert padded.shape == (3, 4) and padded.sum().item() == 9.0


def batched_and_per_sample_loaders(n=4096, batch_size=64):
    data = TensorDataset(torch.arange(n * 2.0).reshape(n, 2), torch.arange(n))
    per_sample = DataLoader(data, batch_size=batch_size)
    batched = DataLoader(data, sampler=BatchSampler(SequentialSampler(data), batch_size, drop_last=False), batch_size=None)
    return per_sample, batched


def test_batched_fetch_equals_per_sample_fetch():
    """Fetching each batch with one indexing call (BatchSampler, batch_size=None) yields exactly the batches of per-sample fetching and collating."""
    per_sample, batched = batched_and_per_sample_loaders(n=200, batch_size=64)
    for (xa, ya), (xb, yb) in zip(per_sample, batched, strict=True):
        assert torch.equal(xa, xb) and torch.equal(ya, yb)


# %% [markdown]
# ## Claims about speed
#
# Each ratio is measured in one run. Worker processes are started once (`persistent_workers=True`) and the
# second epoch is timed, which is the steady state of a long training run. Because the work is waiting, not
# computing, more workers than cores still help: the claim uses four on a two-core machine (PyTorch warns about
# it, but the warning is about CPU-bound work).

# %%
@pytest.mark.slow
def test_batched_fetch_is_faster():
    """For 4096 in-memory samples in batches of 256, one indexing call per batch is at least 3 times faster than fetching and collating samples one by one (best of 3)."""
    per_sample, batched = batched_and_per_sample_loaders(batch_size=256)
    slow = min(epoch_time(per_sample)[0] for _ in range(3))
    fast = min(epoch_time(batched)[0] for _ in range(3))
    assert slow / fast > 3


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:This DataLoader will create")  # more workers than cores, on purpose
def test_workers_overlap_io_bound_loading():
    """With 4 persistent workers, the second epoch over 16 samples of 20 ms each is at least 2 times faster than num_workers=0 (ideal: 4) and yields the same batches in the same order."""
    loader = DataLoader(SlowDataset(n=16, delay=0.02), batch_size=2, num_workers=4, persistent_workers=True)
    list(loader)  # start the workers
    parallel, parallel_batches = epoch_time(loader)
    del loader
    serial, serial_batches = epoch_time(DataLoader(SlowDataset(n=16, delay=0.02), batch_size=2))
    assert all(torch.equal(a, b) for a, b in zip(parallel_batches, serial_batches, strict=True))
    assert serial / parallel > 2


@pytest.mark.slow
def test_threads_also_overlap_io_bound_loading():
    """Fetching 32 samples of 5 ms each with 8 threads is at least 3 times faster than one by one, because sleeping (like I/O) releases the GIL."""
    dataset = SlowDataset()
    start = time.perf_counter()
    serial = [dataset[i] for i in range(len(dataset))]
    serial_time = time.perf_counter() - start
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=8) as pool:
        threaded = list(pool.map(dataset.__getitem__, range(len(dataset))))
    threaded_time = time.perf_counter() - start
    assert all(torch.equal(a, b) for a, b in zip(serial, threaded, strict=True))
    assert serial_time / threaded_time > 3


class PythonWorkDataset(Dataset):
    """__getitem__ does pure-Python arithmetic, as a Python-level augmentation would: it holds the GIL."""

    def __len__(self):
        return 16

    def __getitem__(self, i):
        return sum(k * k for k in range(20_000)) + i


@pytest.mark.slow
def test_threads_do_not_speed_up_python_level_work():
    """For a `__getitem__` that computes in pure Python, 4 threads take at least 0.7 times as long as one thread (best of 3 each): the GIL lets one run at a time."""
    dataset = PythonWorkDataset()
    serial_times, threaded_times = [], []
    for _ in range(3):  # interleaved, so that a burst of load on the machine hits both
        start = time.perf_counter()
        serial = [dataset[i] for i in range(len(dataset))]
        serial_times.append(time.perf_counter() - start)
        start = time.perf_counter()
        with ThreadPoolExecutor(max_workers=4) as pool:
            threaded = list(pool.map(dataset.__getitem__, range(len(dataset))))
        threaded_times.append(time.perf_counter() - start)
    assert serial == threaded
    assert min(threaded_times) > 0.7 * min(serial_times)


# %% [markdown]
# ## Where it stops holding: workers cost something
#
# Each worker is a separate process that must be started, and every batch it produces is pickled through shared
# memory to the main process. When a batch is a slice of a tensor already in memory, there is nothing to overlap
# and that overhead is all that remains.

# %%
@pytest.mark.slow
def test_workers_are_slower_for_in_memory_data():
    """For 256 in-memory samples, an epoch with one worker process (start-up included) takes at least 3 times as long as with num_workers=0."""
    data = TensorDataset(torch.randn(256, 4))
    serial = min(epoch_time(DataLoader(data, batch_size=32))[0] for _ in range(3))  # best of 3: one pre-emption is not noise
    parallel, _ = epoch_time(DataLoader(data, batch_size=32, num_workers=1))
    assert parallel / serial > 3


# %% [markdown]
# ## Conclusion
#
# The parameters describe a pipeline: `dataset` (anything indexable with a length, or an `IterableDataset`),
# `batch_size`/`drop_last`, `shuffle` or a `sampler`/`batch_sampler` (with a `generator` for reproducibility),
# `collate_fn`, and for speed `num_workers`, `persistent_workers`, `prefetch_factor` and `pin_memory`. Workers
# (processes) or threads help when fetching waits on I/O or does per-sample work in native code; for per-sample
# Python work only processes escape the GIL. Fetching a batch with one indexing call beats collating samples one
# by one, and worker processes are pure overhead when the data is already a tensor in memory.

# %%
if __name__ == "__main__":
    from qed.claims import run_claims

    run_claims(globals())
