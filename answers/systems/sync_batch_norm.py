# %% [markdown]
# # Synchronized batch norm: the proof
#
# **Question.** How is batch norm handled on several GPUs (SyncBN), what has to be synchronized, and how many
# exchanges does it take?
#
# Plain BN on $K$ GPUs normalizes each shard with its own mean and variance. SyncBN normalizes with the statistics
# of the whole global batch: each GPU computes its sample count, $\sum x$ and $\sum x^2$ per channel, one
# all-reduce sums them, and every GPU derives the global mean and variance from the totals. Backward needs one
# more all-reduce, of two per-channel sums of the incoming gradient. This module simulates the $K$ shards in one
# process and checks everything against BN on the full batch. Claims:
#
# 1. statistics from one exchange of (count, sum, sum of squares) give exactly full-batch BN's output
#    (`test_one_exchange_of_sums_gives_full_batch_statistics`), while unsynchronized BN does not
#    (`test_per_shard_statistics_differ_with_small_shards`);
# 2. gradients through the synchronized statistics equal full-batch BN's gradients
#    (`test_synchronized_backward_equals_full_batch_gradient`);
# 3. the running variance is updated with the unbiased variance of the global batch
#    (`test_running_stats_use_the_global_batch`);
# 4. `nn.SyncBatchNorm.convert_sync_batchnorm` swaps every BN layer and keeps the state dict
#    (`test_convert_sync_batchnorm_keeps_the_state`);
# 5. where it stops holding: $E[x^2] - E[x]^2$ in float32 loses the variance when the mean is large; exchanging
#    per-shard (count, mean, $M_2$) and merging them (Chan et al.) does not (`test_sum_of_squares_cancels_in_float32`).

# %% [markdown]
# ## Simulated all-reduce
#
# An all-reduce is a sum over workers that every worker receives. Stacking the per-shard tensors and summing is
# the same arithmetic, and autograd flows through it as it does through SyncBN's backward.

# %%
import torch
from torch import nn
from torch.nn import functional as F


def sync_bn(shards, weight, bias, eps=1e-5):
    """Normalize each (N_k, C) shard with global statistics from one all-reduce of [count, Σx, Σx²] per channel."""
    local = torch.stack(
        [torch.stack([torch.full_like(s[0], s.shape[0]), s.sum(0), (s * s).sum(0)]) for s in shards]
    )  # (K, 3, C): what each worker contributes
    count, total, total_sq = local.sum(0)  # the single all-reduce
    mean = total / count
    var = total_sq / count - mean * mean  # biased, as BN uses for normalization
    return [(s - mean) / torch.sqrt(var + eps) * weight + bias for s in shards], mean, var * count / (count - 1)


def make_batch(n=16, c=3, seed=0, dtype=torch.float64):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, c, generator=g, dtype=dtype) * torch.tensor([1.0, 3.0, 0.5], dtype=dtype) + 2.0
    weight = torch.rand(c, generator=g, dtype=dtype) + 0.5
    bias = torch.randn(c, generator=g, dtype=dtype)
    return x, weight, bias


# %% [markdown]
# ## Claims

# %%
def test_one_exchange_of_sums_gives_full_batch_statistics():
    """Four shards of 4 samples normalized with statistics from one all-reduce of (count, Σx, Σx²) reproduce F.batch_norm on the full 16-sample batch."""
    x, weight, bias = make_batch()
    outputs, _, _ = sync_bn(list(x.chunk(4)), weight, bias)
    expected = F.batch_norm(x, None, None, weight, bias, training=True)
    torch.testing.assert_close(torch.cat(outputs), expected, rtol=1e-10, atol=1e-10)


def test_per_shard_statistics_differ_with_small_shards():
    """Unsynchronized BN on 8 shards of 2 samples differs from full-batch BN by more than 0.1."""
    x, weight, bias = make_batch()
    per_shard = torch.cat([F.batch_norm(s, None, None, weight, bias, training=True) for s in x.chunk(8)])
    expected = F.batch_norm(x, None, None, weight, bias, training=True)
    assert (per_shard - expected).abs().max() > 0.1


def test_synchronized_backward_equals_full_batch_gradient():
    """Autograd through the simulated all-reduce gives the same input, weight and bias gradients as full-batch BN, for an arbitrary upstream gradient."""
    x, weight, bias = make_batch()
    upstream = torch.randn(16, 3, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    grads = []
    for synced in (True, False):
        xs, w, b = (t.clone().requires_grad_() for t in (x, weight, bias))
        if synced:
            y = torch.cat(sync_bn(list(xs.chunk(4)), w, b)[0])
        else:
            y = F.batch_norm(xs, None, None, w, b, training=True)
        grads.append(torch.autograd.grad((y * upstream).sum(), (xs, w, b)))
    for actual, expected in zip(*grads, strict=True):
        torch.testing.assert_close(actual, expected, rtol=1e-10, atol=1e-10)


def test_running_stats_use_the_global_batch():
    """The running mean and var after one step equal nn.BatchNorm1d's on the full batch: momentum 0.1 towards the global mean and unbiased global variance."""
    x, weight, bias = make_batch()
    _, mean, unbiased_var = sync_bn(list(x.chunk(4)), weight, bias)
    bn = nn.BatchNorm1d(3).double()
    bn(x)
    torch.testing.assert_close(0.9 * torch.zeros(3, dtype=torch.float64) + 0.1 * mean, bn.running_mean)
    torch.testing.assert_close(0.9 * torch.ones(3, dtype=torch.float64) + 0.1 * unbiased_var, bn.running_var)


def test_convert_sync_batchnorm_keeps_the_state():
    """nn.SyncBatchNorm.convert_sync_batchnorm replaces both BN layers of a model by SyncBatchNorm and keeps every state_dict entry."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.Conv2d(4, 4, 3), nn.BatchNorm2d(4))
    model(torch.randn(2, 3, 8, 8))  # non-trivial running statistics
    before = {k: v.clone() for k, v in model.state_dict().items()}
    converted = nn.SyncBatchNorm.convert_sync_batchnorm(model)
    assert sum(isinstance(m, nn.SyncBatchNorm) for m in converted.modules()) == 2
    assert not any(type(m) is nn.BatchNorm2d for m in converted.modules())
    after = converted.state_dict()
    assert list(after) == list(before) and all(torch.equal(after[k], before[k]) for k in before)


# %% [markdown]
# ## Where it stops holding: the sum of squares in float32
#
# $\mathrm{Var} = E[x^2] - E[x]^2$ subtracts two nearly equal numbers when the mean is large compared with the
# spread: with mean $10^4$ and standard deviation 1 both terms are about $10^8$, and float32 keeps only about 7
# significant digits. Exchanging per-shard counts, means and sums of squared deviations $M_2$ and merging them
# pairwise ($M_2 = M_{2,a} + M_{2,b} + \delta^2 n_a n_b / n$, Chan, Golub and LeVeque, 1979) avoids the cancellation. PyTorch's
# SyncBatchNorm likewise gathers each rank's mean, inverse standard deviation and count rather than raw sums.

# %%
def merged_variance(shards):
    """Merge per-shard (count, mean, M2) pairwise, Chan et al.; returns the biased variance."""
    count, mean, m2 = 0, torch.zeros(()), torch.zeros(())
    for s in shards:
        n_b, mean_b = s.numel(), s.mean()
        m2_b = ((s - mean_b) ** 2).sum()
        delta = mean_b - mean
        total = count + n_b
        mean = mean + delta * n_b / total
        m2 = m2 + m2_b + delta**2 * count * n_b / total
        count = total
    return m2 / count


def test_sum_of_squares_cancels_in_float32():
    """For float32 data with mean 1e4 and std 1, `E[x²] − E[x]²` is off by more than 10% of the true variance, while merging per-shard (count, mean, M2) is within 1%."""
    g = torch.Generator().manual_seed(2)
    x = (torch.randn(4096, generator=g, dtype=torch.float64) + 1e4).float()
    expected = x.double().var(correction=0).item()
    naive = ((x * x).sum() / x.numel() - (x.sum() / x.numel()) ** 2).item()
    merged = merged_variance(x.chunk(8)).item()
    assert abs(naive - expected) / expected > 0.1
    assert abs(merged - expected) / expected < 0.01


# %% [markdown]
# ## Conclusion
#
# SyncBN makes $K$ GPUs normalize as one large batch. The forward pass needs one all-reduce of three per-channel
# numbers (count, sum, sum of squares, or better, count, mean and $M_2$), not two rounds; the backward pass needs one
# more, of $\sum \partial L/\partial y$ and $\sum \partial L/\partial y \cdot \hat x$. It matters when the per-GPU
# batch is small (detection, segmentation, video); with dozens of samples per GPU, per-GPU statistics are already
# good estimates and the synchronization is mostly cost.

# %%
if __name__ == "__main__":
    from qed.claims import run_claims

    run_claims(globals())
