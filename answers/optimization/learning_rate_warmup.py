# %% [markdown]
# # Learning-rate warmup: the proof
#
# **Question.** Why do training recipes start with a warmup of the learning rate, and what does it do?
#
# Warmup raises the learning rate from a small value to its target over the first steps, usually followed by
# a decay. It addresses two measurable problems of the first steps: the loss is often sharpest (highest
# curvature) at initialization, so a rate that is stable later is unstable at the start, and Adam's
# second-moment estimate rests on very few gradients, so its first updates are as large as the learning rate
# whatever the gradient says. Claims:
#
# 1. linear warmup followed by cosine decay, built from `LinearLR`, `CosineAnnealingLR` and `SequentialLR`,
#    matches the closed-form schedule (`test_warmup_cosine_schedule_matches_closed_form`);
# 2. on a loss whose curvature is 26 at the start and 2 at the minimum, a constant $\eta = 0.5$ diverges, the
#    same $\eta$ reached by a 20-step warmup converges, and so does the constant rate started where the
#    curvature is low (`test_warmup_survives_high_initial_curvature`);
# 3. Adam's first step moves every weight by exactly $\eta$, whether its gradient is $10^{-6}$ or $10^{3}$
#    (`test_adam_first_step_is_lr_whatever_the_gradient`);
# 4. on pure-noise gradients Adam's first updates are about 4× larger than its steady-state updates, whose
#    size $\eta\sqrt{(1-\beta_1)/(1+\beta_1)}$ follows from the moving average
#    (`test_adam_early_updates_on_noise_exceed_steady_state`).

# %% [markdown]
# ## The schedule
#
# With base rate $\eta$, warmup length $W$ starting at a fraction $s$, and $T$ steps in all:
#
# $$\eta_t = \eta\Big(s + (1-s)\frac{t}{W}\Big) \text{ for } t < W, \qquad
# \eta_t = \frac{\eta}{2}\Big(1 + \cos\frac{\pi (t - W)}{T - W}\Big) \text{ for } t \ge W.$$
#
# PyTorch builds it from two schedulers chained by `SequentialLR`.

# %%
import math

import matplotlib.pyplot as plt
import torch

DTYPE = torch.float64


def torch_schedule(base_lr=0.1, warmup=5, total=40, start_factor=0.2):
    w = torch.zeros(1, requires_grad=True)
    optimizer = torch.optim.SGD([w], lr=base_lr)
    scheduler = torch.optim.lr_scheduler.SequentialLR(
        optimizer,
        [
            torch.optim.lr_scheduler.LinearLR(optimizer, start_factor=start_factor, end_factor=1.0, total_iters=warmup),
            torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=total - warmup, eta_min=0.0),
        ],
        milestones=[warmup],
    )
    lrs = []
    for _ in range(total):
        lrs.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    return torch.tensor(lrs, dtype=DTYPE)


def closed_form_schedule(base_lr=0.1, warmup=5, total=40, start_factor=0.2):
    return torch.tensor(
        [
            base_lr * (start_factor + (1 - start_factor) * t / warmup)
            if t < warmup
            else base_lr / 2 * (1 + math.cos(math.pi * (t - warmup) / (total - warmup)))
            for t in range(total)
        ],
        dtype=DTYPE,
    )


# %% [markdown]
# ## Why: the first steps see the sharpest loss
#
# Take $L(w) = \tfrac14(w^2 - 1)^2$. Its curvature $L''(w) = 3w^2 - 1$ is 26 at the start $w_0 = 3$ and 2 at the
# minimum $w = 1$. Gradient descent is stable where $\eta < 2/L''$, that is, $\eta < 0.077$ at the start but
# $\eta < 1$ at the minimum. So $\eta = 0.5$ suits the end of training and blows up at the start, while a
# warmup lets the first small steps carry the weight into the flatter region before the rate is raised.
# Gilmer et al. (2022, "A Loss Curvature Perspective on Training Instabilities of Deep Learning Models")
# measured the same pattern, high initial sharpness reduced during warmup, in real networks.

# %%
def descend(w0, lr, warmup_steps, steps=100):
    w = torch.tensor(w0, dtype=DTYPE, requires_grad=True)
    optimizer = torch.optim.SGD([w], lr=lr)
    factor = (lambda t: min(1.0, (t + 1) / warmup_steps)) if warmup_steps else (lambda t: 1.0)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
    path = [w0]
    for _ in range(steps):
        optimizer.zero_grad()
        (0.25 * (w**2 - 1) ** 2).backward()
        optimizer.step()
        scheduler.step()
        path.append(w.item())
        if abs(path[-1]) > 1e6:  # diverged
            break
    return path


fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.5))
ax1.plot(torch_schedule(), "o-", markersize=3, label="SequentialLR(LinearLR, CosineAnnealingLR)")
ax1.plot(closed_form_schedule(), "--", label="closed form")
ax1.set(xlabel="step", ylabel="learning rate", ylim=(0, 0.135), title="warmup then cosine decay")  # legend above the curve
ax1.legend(fontsize=8, loc="upper right")
ax2.plot(descend(3.0, 0.5, 20)[:40], "o-", markersize=3, label="η = 0.5 after a 20-step warmup")
ax2.plot(descend(3.0, 0.5, 0)[:3], "x-", label="η = 0.5 from step 1: 3 → −9 → 351 → …")
ax2.set(xlabel="step", ylabel="w", ylim=(-10, 10), title=r"$L(w) = (w^2-1)^2/4$ from $w_0 = 3$")
ax2.legend(fontsize=8)
fig.tight_layout()

# %% [markdown]
# ## Claims: schedule and stability

# %%
def test_warmup_cosine_schedule_matches_closed_form():
    """LinearLR then CosineAnnealingLR chained by SequentialLR give exactly the closed-form warmup-cosine learning rates for 40 steps."""
    actual, expected = torch_schedule(), closed_form_schedule()
    torch.testing.assert_close(actual, expected, rtol=1e-6, atol=1e-9)
    assert actual.argmax() == 5 and actual[0] == 0.2 * actual.max()


def test_warmup_survives_high_initial_curvature():
    """On L(w) = (w²−1)²/4 from w₀ = 3, a constant η = 0.5 diverges, while a 20-step warmup to η = 0.5 converges to 1, as does constant η = 0.5 started at w₀ = 1.2."""
    curvature = lambda w: 3 * w**2 - 1  # noqa: E731  (L'' by hand)
    w = torch.tensor(3.0, dtype=DTYPE, requires_grad=True)
    (g,) = torch.autograd.grad(0.25 * (w**2 - 1) ** 2, w, create_graph=True)
    (h,) = torch.autograd.grad(g, w)
    assert h.item() == curvature(3.0) == 26  # the autograd Hessian agrees
    assert 2 / curvature(3.0) < 0.5 < 2 / curvature(1.0)  # unstable at the start, stable at the end
    assert abs(descend(3.0, 0.5, 0)[-1]) > 1e6
    assert abs(descend(3.0, 0.5, 20)[-1] - 1) < 1e-10
    assert 2 / curvature(1.2) > 0.5 and abs(descend(1.2, 0.5, 0)[-1] - 1) < 1e-10


# %% [markdown]
# ## Why, for Adam: the first steps are as large as the learning rate
#
# Adam's update is $\eta\,\hat m_t / (\sqrt{\hat v_t} + \epsilon)$. At $t = 1$ the bias corrections make
# $\hat m_1 = g_1$ and $\hat v_1 = g_1^2$, so every weight moves by $\eta\,\mathrm{sign}(g_1)$, whether its gradient
# is tiny noise or large signal. Later, for zero-mean noise of variance $\sigma^2$, $v$ tracks $\sigma^2$ while
# $m$ averages the noise away: its variance falls to $\frac{1-\beta_1}{1+\beta_1}\sigma^2$, so updates shrink to
# $\eta\sqrt{0.1/1.9} \approx 0.23\,\eta$. The first steps are thus about 4× larger than the steady state, built on
# a second-moment estimate from one or two samples: this is the variance argument for warmup in RAdam
# (Liu et al. 2020, "On the Variance of the Adaptive Learning Rate and Beyond").

# %%
def adam_update_sizes(steps, coords=4000, lr=0.01, seed=0):
    gen = torch.Generator().manual_seed(seed)
    w = torch.zeros(coords, dtype=DTYPE, requires_grad=True)
    optimizer = torch.optim.Adam([w], lr=lr)
    sizes = []
    for _ in range(steps):
        before = w.detach().clone()
        w.grad = torch.randn(coords, generator=gen, dtype=DTYPE)  # pure noise: no signal at all
        optimizer.step()
        sizes.append((w.detach() - before).pow(2).mean().sqrt().item())  # RMS update
    return torch.tensor(sizes, dtype=DTYPE)


def test_adam_first_step_is_lr_whatever_the_gradient():
    """Adam's first step moves weights whose gradients are 1e-6, 1 and 1e3 by the same amount, the learning rate."""
    w = torch.zeros(3, dtype=DTYPE, requires_grad=True)
    optimizer = torch.optim.Adam([w], lr=0.01, eps=1e-12)
    w.grad = torch.tensor([1e-6, -1.0, 1e3], dtype=DTYPE)
    optimizer.step()
    torch.testing.assert_close(w.detach(), torch.tensor([-0.01, 0.01, -0.01], dtype=DTYPE), rtol=1e-5, atol=0)


def test_adam_early_updates_on_noise_exceed_steady_state():
    """On pure-noise gradients Adam's first RMS update is η and its steady state is η·√((1−β₁)/(1+β₁)) ≈ 0.23η within 10%."""
    lr = 0.01
    sizes = adam_update_sizes(steps=300, lr=lr)
    torch.testing.assert_close(sizes[0].item(), lr, rtol=1e-6, atol=0)
    steady = sizes[200:].mean().item()
    torch.testing.assert_close(steady, lr * math.sqrt(0.1 / 1.9), rtol=0.1, atol=0)
    assert sizes[0] > 4 * steady and sizes[:5].mean() > 2.5 * steady  # the first five steps are the largest


# %% [markdown]
# ## Conclusion
#
# Warmup is a stability device. The learning rate a run can use at its end is often unstable at its start,
# because curvature is highest at initialization (and with large batches and linearly scaled rates even more
# so), and because Adam's first updates have full size $\eta$ regardless of how noisy the gradient is. A short
# ramp (a few hundred to a few thousand steps, or a few epochs) lets the weights reach a flatter region and
# the optimizer statistics settle before the full rate is applied. PyTorch ships the pieces (`LinearLR`,
# `LambdaLR`, `SequentialLR`, `CosineAnnealingLR`).

# %%
if __name__ == "__main__":
    from qed.claims import run_claims

    run_claims(globals())
