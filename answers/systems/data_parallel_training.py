# %% [markdown]
# # Data-parallel training: the proof
#
# **Question.** How does multi-GPU (and multi-machine) data-parallel training work, how are parameters kept
# shared, and are the communicated gradients averaged, summed or maxed?
#
# Each of $K$ workers holds a full replica of the model, computes the gradient of the mean loss on its own shard
# of the batch, and an all-reduce makes every worker hold the *average* of those gradients; every replica then
# takes the same optimizer step. This module simulates $K$ workers in one process (the arithmetic of an all-reduce
# is a sum), checks the result against full-batch training, and then repeats the key step with a real
# `torch.distributed` all-reduce between two processes. Claims:
#
# 1. the average of the shard gradients equals the full-batch gradient
#    (`test_averaged_shard_gradients_equal_the_full_batch_gradient`); the sum is $K$ times it and the element-wise
#    max is neither (`test_sum_scales_by_k_and_max_is_wrong`);
# 2. replicas that start equal and apply the averaged gradient stay identical and follow full-batch training
#    step for step (`test_replicas_stay_in_sync_and_match_full_batch_training`);
# 3. a ring all-reduce computes the sum while each worker sends $2(K-1)/K$ of the gradient
#    (`test_ring_all_reduce_sums_and_sends_2_k_minus_1_over_k`), and a real gloo all-reduce between two processes
#    gives both the full-batch gradient (`test_gloo_all_reduce_gives_every_rank_the_full_batch_gradient`);
# 4. where it stops holding: shards of unequal size need a weighted average
#    (`test_unequal_shards_need_a_weighted_average`), and batch norm computes per-shard statistics, so the
#    replicas no longer match full-batch training (`test_batch_norm_breaks_the_equivalence`).

# %% [markdown]
# ## Simulating the workers
#
# `shard_gradients` runs the replica on each shard and returns one flat gradient per worker. Everything a real
# implementation adds (buckets, overlapping communication with backward, NCCL rings) changes the speed, not these
# numbers.

# %%
import copy

import torch
from torch import nn
from torch.nn import functional as F

from answers._distributed import ring_all_reduce  # reduce-scatter, then all-gather, around a ring


class MomentumSGD:
    """PyTorch's SGD rule with momentum (dampening 0): v ← μv + g, p ← p − lr·v. Written out because torch.optim's
    first step imports torch._dynamo, which costs seconds."""

    def __init__(self, params, lr, momentum):
        self.params, self.lr, self.momentum = list(params), lr, momentum
        self.velocity = [torch.zeros_like(p) for p in self.params]

    @torch.no_grad()
    def step(self):
        for p, v in zip(self.params, self.velocity, strict=True):
            v.mul_(self.momentum).add_(p.grad)
            p -= self.lr * v


def make_model(seed=0, batch_norm=False):
    torch.manual_seed(seed)
    layers = [nn.Linear(6, 16)] + ([nn.BatchNorm1d(16)] if batch_norm else []) + [nn.Tanh(), nn.Linear(16, 3)]
    return nn.Sequential(*layers)


def make_data(n=32, seed=1):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, 6, generator=g), torch.randint(0, 3, (n,), generator=g)


def flat_grad(model, x, y):
    model.zero_grad()
    F.cross_entropy(model(x), y).backward()
    return torch.cat([p.grad.flatten() for p in model.parameters()])


def shard_gradients(model, x, y, k):
    return [flat_grad(model, xs, ys) for xs, ys in zip(x.chunk(k), y.chunk(k), strict=True)]


# %% [markdown]
# ## Claims

# %%
def test_averaged_shard_gradients_equal_the_full_batch_gradient():
    """For 4 equal shards of a 32-sample batch, the mean of the 4 shard gradients equals the full-batch gradient."""
    model = make_model().double()
    x, y = make_data()
    x = x.double()
    average = torch.stack(shard_gradients(model, x, y, 4)).mean(0)
    torch.testing.assert_close(average, flat_grad(model, x, y), rtol=1e-12, atol=1e-12)


def test_sum_scales_by_k_and_max_is_wrong():
    """The sum of the 4 shard gradients is 4 times the full-batch gradient, and the element-wise max differs from it by more than 1e-2."""
    model = make_model().double()
    x, y = make_data()
    x = x.double()
    grads = torch.stack(shard_gradients(model, x, y, 4))
    full = flat_grad(model, x, y)
    torch.testing.assert_close(grads.sum(0), 4 * full, rtol=1e-12, atol=1e-12)
    assert (grads.max(0).values - full).abs().max() > 1e-2


def test_replicas_stay_in_sync_and_match_full_batch_training():
    """Four replicas doing 5 SGD-momentum steps on averaged shard gradients stay bitwise identical and match single-process full-batch training to 1e-10."""
    x, y = make_data()
    x = x.double()
    reference = make_model().double()
    reference_opt = MomentumSGD(reference.parameters(), lr=0.1, momentum=0.9)
    replicas = [copy.deepcopy(reference) for _ in range(4)]  # what DDP's initial broadcast achieves
    optimizers = [MomentumSGD(r.parameters(), lr=0.1, momentum=0.9) for r in replicas]
    for _ in range(5):
        reference.zero_grad()
        F.cross_entropy(reference(x), y).backward()
        reference_opt.step()
        local = [flat_grad(r, xs, ys) for r, xs, ys in zip(replicas, x.chunk(4), y.chunk(4), strict=True)]
        averaged = torch.stack(local).mean(0)  # the all-reduce (sum), then divide by world size
        for replica, optimizer in zip(replicas, optimizers, strict=True):
            torch.nn.utils.vector_to_parameters(averaged, [p.grad for p in replica.parameters()])
            optimizer.step()
    flat = [torch.nn.utils.parameters_to_vector(r.parameters()) for r in replicas]
    assert all(torch.equal(flat[0], other) for other in flat[1:])
    torch.testing.assert_close(flat[0], torch.nn.utils.parameters_to_vector(reference.parameters()), rtol=1e-10, atol=1e-10)


def test_ring_all_reduce_sums_and_sends_2_k_minus_1_over_k():
    """A simulated ring all-reduce over 4 workers leaves every worker with the sum, and each sends 2·(4−1)/4 = 1.5 times the gradient's size."""
    g = torch.Generator().manual_seed(0)
    grads = [torch.randn(1000, generator=g, dtype=torch.float64) for _ in range(4)]
    results, sent = ring_all_reduce(grads)
    expected = torch.stack(grads).sum(0)
    for result in results:
        torch.testing.assert_close(result, expected, rtol=1e-12, atol=1e-12)
    assert sent == [2 * (4 - 1) * 1000 // 4] * 4


# %% [markdown]
# ## The same with a real collective: `torch.distributed` over gloo
#
# The simulation above sums tensors in one process. To check it against the real thing, two processes (forked, so
# that they start in a fraction of a second) join a gloo process group over a file store, broadcast rank 0's
# parameters as `DistributedDataParallel` does when it is constructed, compute their shard's gradient, and
# `all_reduce` it. Each process builds its model from a *different* seed, so only the broadcast makes them equal.

# %%
import multiprocessing
import os
import tempfile

import torch.distributed as dist


def gloo_rank(rank, world_size, store_path, results):
    torch.set_num_threads(1)  # a forked child must not reuse the parent's OpenMP pool
    dist.init_process_group("gloo", init_method=f"file://{store_path}", rank=rank, world_size=world_size)
    try:
        model = make_model(seed=rank).double()  # different on each rank until the broadcast
        for p in model.parameters():
            dist.broadcast(p.data, src=0)
        x, y = make_data()
        grad = flat_grad(model, x.double().chunk(world_size)[rank], y.chunk(world_size)[rank])
        dist.all_reduce(grad, op=dist.ReduceOp.SUM)
        grad /= world_size  # what DDP does after its all-reduce
        results.put((rank, grad.tolist(), torch.nn.utils.parameters_to_vector(model.parameters()).tolist()))
    finally:
        dist.destroy_process_group()


def run_gloo(world_size=2):
    context = multiprocessing.get_context("fork")
    with tempfile.TemporaryDirectory() as directory:
        results = context.Queue()
        ranks = [
            context.Process(target=gloo_rank, args=(r, world_size, os.path.join(directory, "store"), results))
            for r in range(world_size)
        ]
        for process in ranks:
            process.start()
        outputs = sorted(results.get(timeout=60) for _ in ranks)
        for process in ranks:
            process.join(timeout=60)
    return outputs, [process.exitcode for process in ranks]


def test_gloo_all_reduce_gives_every_rank_the_full_batch_gradient():
    """Two processes on a gloo process group, after broadcasting rank 0's weights and averaging their all-reduced shard gradients, both hold rank 0's weights and the full-batch gradient."""
    outputs, exit_codes = run_gloo()
    assert exit_codes == [0, 0]
    reference = make_model(seed=0).double()
    x, y = make_data()
    expected = flat_grad(reference, x.double(), y)
    weights = torch.nn.utils.parameters_to_vector(reference.parameters()).detach()
    for _, grad, flat_weights in outputs:
        torch.testing.assert_close(torch.tensor(grad, dtype=torch.float64), expected, rtol=1e-12, atol=1e-12)
        assert torch.equal(torch.tensor(flat_weights, dtype=torch.float64), weights)


# %% [markdown]
# ## Where it stops holding
#
# The average of per-shard *means* equals the full-batch mean only when the shards are the same size. With
# shards of 20 and 12 samples (a last, partial batch split unevenly) the plain average over-weights the small
# shard; weighting by shard size restores the full-batch gradient. `DistributedSampler` pads or drops samples so
# that every rank gets the same number. Batch norm is the other exception: each replica normalizes with its own
# shard's statistics, which is not what a single process sees on the whole batch; SyncBN fixes that.

# %%
def test_unequal_shards_need_a_weighted_average():
    """With shards of 20 and 12 samples, the plain mean of the shard gradients misses the full-batch gradient, and the size-weighted mean matches it."""
    model = make_model().double()
    x, y = make_data()
    x = x.double()
    sizes = [20, 12]
    grads = [flat_grad(model, xs, ys) for xs, ys in zip(x.split(sizes), y.split(sizes), strict=True)]
    full = flat_grad(model, x, y)
    assert (torch.stack(grads).mean(0) - full).abs().max() > 1e-3
    weighted = sum(n * g for n, g in zip(sizes, grads)) / sum(sizes)
    torch.testing.assert_close(weighted, full, rtol=1e-12, atol=1e-12)


def test_batch_norm_breaks_the_equivalence():
    """With a BatchNorm1d layer in train mode, the averaged shard gradients differ from the full-batch gradient by more than 1e-3."""
    model = make_model(batch_norm=True).double()
    x, y = make_data()
    x = x.double()
    average = torch.stack(shard_gradients(model, x, y, 4)).mean(0)
    assert (average - flat_grad(model, x, y)).abs().max() > 1e-3


# %% [markdown]
# ## Conclusion
#
# Data parallelism keeps one full replica per worker, identical at the start (DDP broadcasts rank 0's weights) and
# identical after every step because every worker applies the same averaged gradient. The all-reduce sums; DDP
# divides by the world size, so the result is the mean, which equals the full-batch gradient for equal shards of a
# mean loss. Summing instead multiplies the learning rate by $K$; a max is not a gradient at all. A ring all-reduce
# moves $2(K-1)/K$ of the gradient per worker, nearly independent of $K$, which is why it scales across machines.

# %%
if __name__ == "__main__":
    from qed.claims import run_claims

    run_claims(globals())
