# %% [markdown]
# # Batch size: the proof
#
# **Question.** How does the batch size affect training, and can gradient accumulation replace a large batch?
#
# The batch size sets two things: how noisy each gradient is and how many updates an epoch gives. This
# module measures the noise against its closed form, compares small and large batches per epoch, checks the
# linear scaling rule, and shows that gradient accumulation reproduces a large batch exactly, until a
# BatchNorm layer sees the micro-batches. Claims:
#
# 1. the variance of a mini-batch gradient is $\frac{\sigma^2}{B}\cdot\frac{N-B}{N-1}$, by enumerating every batch
#    (`test_minibatch_gradient_variance_matches_formula`);
# 2. with the same learning rate, batches of 4 reach a lower loss after one epoch than the full batch
#    (`test_small_batches_progress_more_per_epoch`);
# 3. one step on a $k$ times larger batch with a $k$ times larger learning rate matches $k$ small steps up to
#    an error that falls 4× when $\eta$ halves (`test_linear_scaling_rule_holds_to_first_order`);
# 4. accumulating the gradients of 4 micro-batches of 8, each loss divided by 4, gives the gradient of the
#    batch of 32 (`test_gradient_accumulation_equals_large_batch`);
# 5. with a BatchNorm layer in training mode it does not (`test_accumulation_breaks_with_batch_norm`).

# %% [markdown]
# ## Gradient noise shrinks like 1/B
#
# Take a linear model on $N = 12$ samples and compute each sample's gradient $g_i$. A batch of $B$ samples
# drawn without replacement has mean gradient $\bar g_B$, and sampling theory gives its covariance trace as
#
# $$\mathbb{E}\lVert \bar g_B - \bar g\rVert^2 = \frac{\sigma^2}{B}\cdot\frac{N-B}{N-1},\qquad \sigma^2 = \frac1N\sum_i \lVert g_i - \bar g\rVert^2 .$$
#
# The module enumerates all $\binom{12}{B}$ batches for every $B$ and compares.

# %%
import itertools
import math

import matplotlib.pyplot as plt
import torch
from torch import nn

DTYPE = torch.float64


def regression_data(n=12, d=3, seed=0):
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(n, d, generator=gen, dtype=DTYPE)
    y = x @ torch.tensor([1.0, -2.0, 0.5], dtype=DTYPE) + 0.5 * torch.randn(n, generator=gen, dtype=DTYPE)
    return x, y


def per_sample_gradients(w, x, y):
    return torch.stack([torch.autograd.grad(0.5 * (xi @ w - yi) ** 2, w)[0] for xi, yi in zip(x, y)])  # (N, d)


def enumerated_variance(grads, batch_size):
    mean = grads.mean(0)
    batch_means = torch.stack([grads[list(b)].mean(0) for b in itertools.combinations(range(len(grads)), batch_size)])
    return ((batch_means - mean) ** 2).sum(1).mean()


def formula_variance(grads, batch_size):
    n = len(grads)
    sigma2 = ((grads - grads.mean(0)) ** 2).sum(1).mean()
    return sigma2 / batch_size * (n - batch_size) / (n - 1)


x, y = regression_data()
w0 = torch.zeros(3, dtype=DTYPE, requires_grad=True)
grads0 = per_sample_gradients(w0, x, y)
sizes = list(range(1, 13))
measured = [enumerated_variance(grads0, b).item() for b in sizes]

# %% [markdown]
# ## Loss per epoch for three batch sizes
#
# With the same learning rate, a smaller batch makes more updates per epoch. The figure shows the gradient
# noise against the formula (left) and the loss after each epoch for batches of 1, 4 and 12 (right).

# %%
def train_linear(batch_size, lr, epochs, seed=0):
    x, y = regression_data(n=48, seed=seed)
    w = torch.zeros(3, dtype=DTYPE, requires_grad=True)
    optimizer = torch.optim.SGD([w], lr=lr)
    losses = []
    for _ in range(epochs):
        for i in range(0, len(x), batch_size):  # a fixed order keeps it deterministic
            optimizer.zero_grad()
            (0.5 * ((x[i : i + batch_size] @ w - y[i : i + batch_size]) ** 2).mean()).backward()
            optimizer.step()
        with torch.no_grad():
            losses.append((0.5 * ((x @ w - y) ** 2).mean()).item())
    return losses


fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.5))
ax1.loglog(sizes[:-1], measured[:-1], "o", label="all batches enumerated")
ax1.loglog(sizes[:-1], [formula_variance(grads0, b).item() for b in sizes[:-1]], "-", label=r"$\sigma^2/B \cdot (N-B)/(N-1)$")
ax1.set(xlabel="batch size B (N = 12)", ylabel="gradient variance", title="noise of a mini-batch gradient")
ax1.legend(fontsize=8)
for b in (1, 4, 48):
    ax2.semilogy(range(1, 11), train_linear(b, lr=0.05, epochs=10), "o-", markersize=3, label=f"B = {b}")
ax2.set(xlabel="epoch", ylabel="training loss", title="same η = 0.05, 48 samples")
ax2.legend(fontsize=8)
fig.tight_layout()

# %% [markdown]
# ## Claims: noise, progress per epoch, linear scaling
#
# The linear scaling rule (Goyal et al. 2017, "Accurate, Large Minibatch SGD") says: when the batch grows
# $k$ times, multiply the learning rate by $k$. It is a first-order statement: one step on the union of
# $k$ batches with rate $k\eta$ equals $k$ consecutive steps of rate $\eta$ up to $O(\eta^2)$ terms, because the
# small steps see gradients at slightly moved weights. Halving $\eta$ must quarter the gap.

# %%
def test_minibatch_gradient_variance_matches_formula():
    """The variance of the mean gradient over all C(12, B) batches equals σ²/B·(N−B)/(N−1) for every B, and is zero for the full batch."""
    x, y = regression_data()
    w = torch.randn(3, dtype=DTYPE, generator=torch.Generator().manual_seed(1)).requires_grad_()
    grads = per_sample_gradients(w, x, y)
    for b in range(1, 12):
        torch.testing.assert_close(enumerated_variance(grads, b), formula_variance(grads, b), rtol=1e-10, atol=0)
    assert enumerated_variance(grads, 12) < 1e-25
    assert enumerated_variance(grads, 1) > 8 * enumerated_variance(grads, 6)  # 1/B and the finite-population factor


def test_small_batches_progress_more_per_epoch():
    """With the same learning rate 0.05, one epoch of batches of 4 leaves a training loss over 2.5× lower than one full-batch step."""
    small = train_linear(4, lr=0.05, epochs=1)[0]
    full = train_linear(48, lr=0.05, epochs=1)[0]
    assert small * 2.5 < full


def test_linear_scaling_rule_holds_to_first_order():
    """One step with batch 4b and rate 4η differs from 4 steps of batch b and rate η by an error that drops about 4× when η halves."""
    x, y = regression_data(n=16)

    def gap(lr):
        w_small = torch.zeros(3, dtype=DTYPE, requires_grad=True)
        for i in range(0, 16, 4):
            (g,) = torch.autograd.grad(0.5 * ((x[i : i + 4] @ w_small - y[i : i + 4]) ** 2).mean(), w_small)
            w_small = (w_small - lr * g).detach().requires_grad_()
        w_big = torch.zeros(3, dtype=DTYPE, requires_grad=True)
        (g,) = torch.autograd.grad(0.5 * ((x @ w_big - y) ** 2).mean(), w_big)
        w_big = w_big - 4 * lr * g
        return (w_small - w_big).norm().item()

    ratios = [gap(lr) / gap(lr / 2) for lr in (0.02, 0.01, 0.005)]
    assert all(3.6 < r < 4.4 for r in ratios), ratios
    assert gap(0.02) > 1e-3  # the rule is not exact


# %% [markdown]
# ## Gradient accumulation
#
# When a batch of 32 does not fit in memory, run 4 micro-batches of 8, call `backward()` on each loss divided
# by 4 (`loss / accumulation_steps`), and step once: gradients add up in `.grad`, so the sum is the gradient of the
# mean loss over 32. This is exact for any model whose samples do not interact.
#
# BatchNorm in training mode breaks the independence: each micro-batch is normalized with its own mean and
# variance, so the accumulated gradient is not the large batch's. (GroupNorm/LayerNorm, or BN in eval mode,
# keep it exact.)

# %%
def accumulated_and_full_gradients(model):
    gen = torch.Generator().manual_seed(0)
    x, y = torch.randn(32, 5, generator=gen, dtype=DTYPE), torch.randn(32, 1, generator=gen, dtype=DTYPE)
    loss_fn = nn.MSELoss()
    model.zero_grad()
    loss_fn(model(x), y).backward()
    full = torch.cat([p.grad.flatten() for p in model.parameters()])
    model.zero_grad()
    for xb, yb in zip(x.chunk(4), y.chunk(4)):
        (loss_fn(model(xb), yb) / 4).backward()
    accumulated = torch.cat([p.grad.flatten() for p in model.parameters()])
    return accumulated, full


def test_gradient_accumulation_equals_large_batch():
    """Four micro-batches of 8, each loss divided by 4 and backpropagated before one step, give the gradient of the batch of 32."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(5, 16), nn.ReLU(), nn.Linear(16, 1)).to(DTYPE)
    actual, expected = accumulated_and_full_gradients(model)
    torch.testing.assert_close(actual, expected, rtol=1e-10, atol=1e-12)


def test_accumulation_breaks_with_batch_norm():
    """With BatchNorm1d in training mode, the accumulated gradient of 4 micro-batches differs from the batch-of-32 gradient by over 5%."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(5, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Linear(16, 1)).to(DTYPE)
    actual, expected = accumulated_and_full_gradients(model)
    assert (actual - expected).norm() > 0.05 * expected.norm()


# %% [markdown]
# ## Conclusion
#
# A larger batch gives a less noisy gradient (variance $\propto 1/B$, exactly zero for the full batch) but
# fewer updates per epoch; at equal learning rate small batches make more progress per epoch, and a large
# batch catches up only if its learning rate is scaled, which holds to first order. Gradient accumulation
# trades time for memory and reproduces the large batch exactly, except through BatchNorm's batch statistics.

# %%
if __name__ == "__main__":
    from qed.claims import run_claims

    run_claims(globals())
