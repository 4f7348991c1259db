# %% [markdown]
# # Threads, processes and the GIL: the proof
#
# **Question.** C++ has OpenMP; isn't Python's `multiprocessing` just as good? Does `multiprocessing` spread the
# work over the cores?
#
# CPython's global interpreter lock (GIL) lets one thread execute Python bytecode at a time, so threads do not
# parallelize Python code, although they do overlap native code that releases the lock (PyTorch kernels, I/O).
# `multiprocessing` sidesteps the GIL with separate interpreters, one GIL each, which the operating system schedules
# on the available cores, but it pays for process start-up and for copying data between address spaces, where
# OpenMP threads share memory for free. Claims:
#
# 1. two threads running Python code use at most about one core: CPU time over wall time stays near 1
#    (`test_python_threads_use_one_core_at_a_time`, slow);
# 2. a PyTorch matmul releases the GIL and a builtin `sum` does not: the main thread runs during the first and is
#    frozen during the second (`test_native_torch_ops_release_the_gil`);
# 3. a process pool computes the same results in other processes, each with its own interpreter
#    (`test_process_pool_runs_tasks_in_other_processes`);
# 4. sending an array to another process pickles all its bytes; `torch.multiprocessing` instead moves a tensor to
#    shared memory and sends a handle of a few hundred bytes (`test_sending_data_to_a_process_copies_it_unless_shared`);
# 5. where it stops holding: for small tasks, starting a pool costs more than the work
#    (`test_process_start_up_dominates_small_tasks`, slow).

# %% [markdown]
# ## Helpers
#
# `busy` is pure-Python arithmetic, the kind of work the GIL serializes. `main_loop_turns_during` starts a thread
# that runs `fn` and reads how many times the main thread went round a Python loop meanwhile: if `fn` holds the
# GIL the main thread cannot run at all. The switch interval (how long a thread may keep the GIL when another one
# asks for it, 5 ms by default) is raised to 0.2 s so that only a voluntary release lets the main thread in.

# %%
import io
import multiprocessing
import os
import pickle
import sys
import threading
import time

import numpy as np
import pytest
import torch
import torch.multiprocessing  # registers the reductions that share tensors instead of copying them
from multiprocessing.reduction import ForkingPickler


def busy(n=200_000):
    total = 0
    for k in range(n):
        total += k * k
    return total


def busy_with_pid(n):
    return busy(n), os.getpid()


def main_loop_turns_during(fn, switch_interval=0.2):
    """Turns of a Python loop in the main thread while another thread runs fn (counted by that thread)."""
    state = {"turns": 0, "during": None, "done": False}

    def work():
        before = state["turns"]
        fn()
        state["during"] = state["turns"] - before  # read before anything else can run: fn just returned
        state["done"] = True

    previous = sys.getswitchinterval()
    sys.setswitchinterval(switch_interval)  # a thread keeps the GIL up to 0.2 s unless it releases it itself
    try:
        worker = threading.Thread(target=work)
        worker.start()
        while not state["done"]:
            state["turns"] += 1
        worker.join()
    finally:
        sys.setswitchinterval(previous)
    return state["during"]


# %% [markdown]
# ## Claims

# %%
@pytest.mark.slow
def test_python_threads_use_one_core_at_a_time():
    """Two threads running a pure-Python loop consume at most 1.25 seconds of CPU (summed over the two threads) per second of wall time, however many cores there are."""
    cpu_seconds = []

    def timed_busy():
        start = time.thread_time()  # this thread's CPU time only: idle library threads do not count
        busy(400_000)
        cpu_seconds.append(time.thread_time() - start)

    threads = [threading.Thread(target=timed_busy) for _ in range(2)]
    wall = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - wall
    assert sum(cpu_seconds) / wall < 1.25


@pytest.mark.slow
def test_native_torch_ops_release_the_gil():
    """While another thread runs a torch matmul the main thread's Python loop turns over 10,000 times; while it runs the builtin sum(range(2e6)) it does not turn at all."""
    torch.manual_seed(0)
    a = torch.randn(1000, 1000)  # tens of ms: on a busy machine the main thread needs time to wake up and take the GIL
    during_builtin = main_loop_turns_during(lambda: sum(range(2_000_000)))
    during_torch = main_loop_turns_during(lambda: a @ a)
    assert during_torch > 10_000 and during_builtin == 0


def test_process_pool_runs_tasks_in_other_processes():
    """A 2-process pool returns the same results as a serial loop, computed in processes other than this one."""
    context = multiprocessing.get_context("fork")  # children run only pure Python here, so fork is safe
    with context.Pool(2) as pool:
        results = pool.map(busy_with_pid, [10_000, 20_000, 30_000, 40_000])
    assert [value for value, _ in results] == [busy(n) for n in (10_000, 20_000, 30_000, 40_000)]
    assert os.getpid() not in {pid for _, pid in results}


def test_sending_data_to_a_process_copies_it_unless_shared():
    """Pickling a 1000×1000 float32 NumPy array takes at least its 4,000,000 bytes; torch's ForkingPickler moves a tensor to shared memory and sends under 1,000 bytes."""
    array = np.zeros((1000, 1000), dtype=np.float32)
    assert len(pickle.dumps(array)) >= array.nbytes
    tensor = torch.zeros(1000, 1000)
    buffer = io.BytesIO()
    ForkingPickler(buffer).dump(tensor)
    assert len(buffer.getvalue()) < 1000 and tensor.is_shared()


# %% [markdown]
# ## Where it stops holding: start-up and transfer costs
#
# A pool must fork (or spawn) its workers and pickle every argument and result. For tasks of microseconds that
# overhead is all there is.

# %%
@pytest.mark.slow
def test_process_start_up_dominates_small_tasks():
    """Squaring 100 numbers through a fresh 2-process pool takes over 50 times as long as a list comprehension."""
    serial_times = []
    for _ in range(5):  # best of 5: a single pre-emption of a microseconds-long loop would swamp it
        start = time.perf_counter()
        serial = [k * k for k in range(100)]
        serial_times.append(time.perf_counter() - start)
    serial_time = min(serial_times)
    start = time.perf_counter()
    with multiprocessing.get_context("fork").Pool(2) as pool:
        parallel = pool.starmap(pow, [(k, 2) for k in range(100)])
    pool_time = time.perf_counter() - start
    assert parallel == serial
    assert pool_time / serial_time > 50


# %% [markdown]
# ## Conclusion
#
# Threads in Python parallelize waiting and native code that releases the GIL (which includes PyTorch's kernels,
# themselves multi-threaded with OpenMP), not Python bytecode. Processes parallelize Python code, one interpreter
# and GIL each, scheduled by the operating system on whatever cores are free (not necessarily evenly, and pinnable
# with `os.sched_setaffinity`), at the price of start-up and of copying data unless it is placed in shared memory.
# OpenMP threads in C++ have neither cost, which is why numeric inner loops belong in native code and Python
# parallelism belongs at the level of whole tasks: data loading workers, one process per GPU.

# %%
if __name__ == "__main__":
    from qed.claims import run_claims

    run_claims(globals())
