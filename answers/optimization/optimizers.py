# %% [markdown]
# # Optimizers from SGD to Adam: the proof
#
# **Question.** Which optimizers do you know besides SGD and Adam, how do they differ, what does
# stochastic gradient descent buy over full-batch gradient descent, and why does Adam sometimes lose to SGD?
#
# Every optimizer in `torch.optim` is a few lines of arithmetic on the gradient. This module writes SGD,
# momentum, Nesterov, AdaGrad, RMSProp, Adam and AdamW by hand and matches them step for step against
# `torch.optim`, then measures what mini-batches change and where Adam and SGD part ways. Claims:
#
# 1. the seven hand-written update rules reproduce `torch.optim` step for step, for 25 steps (`test_hand_written_optimizers_match_torch_optim`);
# 2. the mini-batch gradient, averaged over all batches of size 2, is the full-batch gradient
#    (`test_minibatch_gradient_is_unbiased`);
# 3. a step on a batch of $B$ costs $B/N$ of a full-batch step, while an epoch costs the same for every $B$
#    (`test_minibatch_step_is_cheaper_but_an_epoch_costs_the_same`);
# 4. Adam's steps do not change when the loss is multiplied by 1000, SGD's grow 1000 times
#    (`test_adam_is_invariant_to_gradient_scale_sgd_is_not`);
# 5. on an under-determined least-squares problem, gradient descent from zero finds the minimum-norm solution
#    and Adam finds another, larger one (`test_gd_finds_min_norm_solution_adam_does_not`);
# 6. with a zero loss gradient, AdamW shrinks weights by the factor $1 - \eta\lambda$ per step, while Adam's
#    L2 `weight_decay` moves every weight by about $\eta$, whatever its size (`test_adam_l2_decay_is_not_proportional`).

# %% [markdown]
# ## The update rules, by hand
#
# Each rule takes the parameters, their gradients and a state dictionary and updates the parameters in place.
# They follow the formulas in the `torch.optim` documentation: momentum keeps a running sum of gradients,
# AdaGrad divides by the root of the *sum* of squared gradients, RMSProp by the root of their exponential
# moving *average*, and Adam combines a momentum average $m$ with an RMSProp average $v$, both bias-corrected.

# %%
import torch

DTYPE = torch.float64


def sgd(params, grads, state, lr, momentum=0.0, nesterov=False):
    for i, (p, g) in enumerate(zip(params, grads)):
        if momentum:
            buf = state[i] = g.clone() if i not in state else momentum * state[i] + g
            g = g + momentum * buf if nesterov else buf
        p -= lr * g


def adagrad(params, grads, state, lr, eps=1e-10):
    for i, (p, g) in enumerate(zip(params, grads)):
        state[i] = state.get(i, 0) + g * g  # the sum never forgets: the step only shrinks
        p -= lr * g / (state[i].sqrt() + eps)


def rmsprop(params, grads, state, lr, alpha=0.99, eps=1e-8):
    for i, (p, g) in enumerate(zip(params, grads)):
        state[i] = alpha * state.get(i, 0) + (1 - alpha) * g * g  # a moving average forgets
        p -= lr * g / (state[i].sqrt() + eps)


def adam(params, grads, state, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, decoupled=False):
    b1, b2 = betas
    state["t"] = t = state.get("t", 0) + 1
    for i, (p, g) in enumerate(zip(params, grads)):
        if weight_decay and decoupled:
            p *= 1 - lr * weight_decay  # AdamW: decay outside the adaptive step
        elif weight_decay:
            g = g + weight_decay * p  # Adam: L2 term added to the gradient
        m, v = state.get(("m", i), 0), state.get(("v", i), 0)
        m = state[("m", i)] = b1 * m + (1 - b1) * g
        v = state[("v", i)] = b2 * v + (1 - b2) * g * g
        m_hat, v_hat = m / (1 - b1**t), v / (1 - b2**t)
        p -= lr * m_hat / (v_hat.sqrt() + eps)


HAND_AND_TORCH = {  # name: (our rule with its settings, the same settings in torch.optim)
    "SGD": (lambda *a: sgd(*a, lr=0.1), lambda ps: torch.optim.SGD(ps, lr=0.1)),
    "momentum": (lambda *a: sgd(*a, lr=0.1, momentum=0.9), lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9)),
    "Nesterov": (
        lambda *a: sgd(*a, lr=0.1, momentum=0.9, nesterov=True),
        lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True),
    ),
    "AdaGrad": (lambda *a: adagrad(*a, lr=0.1), lambda ps: torch.optim.Adagrad(ps, lr=0.1)),
    "RMSProp": (lambda *a: rmsprop(*a, lr=0.01), lambda ps: torch.optim.RMSprop(ps, lr=0.01)),
    "Adam": (lambda *a: adam(*a, lr=0.01), lambda ps: torch.optim.Adam(ps, lr=0.01)),
    "AdamW": (
        lambda *a: adam(*a, lr=0.01, weight_decay=0.1, decoupled=True),
        lambda ps: torch.optim.AdamW(ps, lr=0.01, weight_decay=0.1),
    ),
}

# %% [markdown]
# ## A small problem to optimize
#
# A two-layer network on 32 random points gives gradients that change from step to step. `run` trains it
# either with a hand-written rule or with a `torch.optim` optimizer and returns the loss curve and the final
# parameters, flattened.

# %%
from torch import nn


def make_problem(seed=0):
    gen = torch.Generator().manual_seed(seed)
    x, y = torch.randn(32, 4, generator=gen, dtype=DTYPE), torch.randn(32, 1, generator=gen, dtype=DTYPE)
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 1)).to(DTYPE)
    return model, x, y


def run(rule=None, make_optimizer=None, steps=25, seed=0):
    model, x, y = make_problem(seed)
    params = list(model.parameters())
    optimizer = make_optimizer(params) if make_optimizer else None
    state, losses, path = {}, [], []
    for _ in range(steps):
        loss = ((model(x) - y) ** 2).mean()
        grads = torch.autograd.grad(loss, params)
        losses.append(loss.item())
        if optimizer:
            for p, g in zip(params, grads):
                p.grad = g
            optimizer.step()
        else:
            with torch.no_grad():
                rule(params, grads, state)
        path.append(torch.cat([p.detach().flatten() for p in params]))
    return losses, torch.stack(path) if path else torch.cat([p.detach().flatten() for p in params])[None]  # (steps, P)


print(f"{'optimizer':<10} {'loss, step 1':>12} {'loss, step 25':>13}")
for name, (rule, _) in HAND_AND_TORCH.items():
    losses, _ = run(rule)
    print(f"{name:<10} {losses[0]:>12.4f} {losses[-1]:>13.4f}")

# %% [markdown]
# ## Paths on an elongated valley
#
# On the quadratic $f(w) = \tfrac12(w_1^2 + 25 w_2^2)$ the curvatures differ 25 times. Plain gradient
# descent must use a step small enough for the steep direction and crawls along the flat one; momentum
# builds up speed along the valley; the adaptive methods rescale each coordinate, so their first steps
# point diagonally (for Adam, $\eta\,\mathrm{sign}(g)$).

# %%
import matplotlib.pyplot as plt

CURVATURE = torch.tensor([1.0, 25.0], dtype=DTYPE)


def path_on_quadratic(rule, steps=40):
    w = torch.tensor([-4.0, 1.5], dtype=DTYPE)
    state, points = {}, [w.clone()]
    for _ in range(steps):
        rule([w], [CURVATURE * w], state)
        points.append(w.clone())
    return torch.stack(points)  # (steps + 1, 2)


quadratic_rules = {
    "SGD, η=0.07": lambda *a: sgd(*a, lr=0.07),
    "momentum 0.9, η=0.02": lambda *a: sgd(*a, lr=0.02, momentum=0.9),
    "AdaGrad, η=1": lambda *a: adagrad(*a, lr=1.0),
    "RMSProp, η=0.2": lambda *a: rmsprop(*a, lr=0.2),
    "Adam, η=0.3": lambda *a: adam(*a, lr=0.3),
}
grid = torch.stack(torch.meshgrid(torch.linspace(-4.5, 1.5, 80), torch.linspace(-2, 2, 80), indexing="xy"))
fig, ax = plt.subplots(figsize=(7, 4))
ax.contour(grid[0], grid[1], 0.5 * (grid[0] ** 2 + 25 * grid[1] ** 2), levels=15, colors="0.8", linewidths=0.7)
for label, rule in quadratic_rules.items():
    points = path_on_quadratic(rule)
    ax.plot(points[:, 0], points[:, 1], ".-", markersize=3, linewidth=1, label=label)
ax.set(xlabel="$w_1$ (curvature 1)", ylabel="$w_2$ (curvature 25)", title="40 steps from (-4, 1.5)")
ax.legend(fontsize=8)
fig.tight_layout()

# %% [markdown]
# ## Claims: the rules are `torch.optim`
#
# Twenty-five steps of each hand-written rule and of the matching `torch.optim` optimizer, from the same
# initial network, must give the same parameters after every step, to float64 rounding.

# %%
def test_hand_written_optimizers_match_torch_optim():
    """SGD, momentum, Nesterov, AdaGrad, RMSProp, Adam and AdamW written by hand give the same parameters as torch.optim after each of 25 steps."""
    _, start = run(steps=0, rule=lambda *a: None)
    for name, (rule, make_optimizer) in HAND_AND_TORCH.items():
        _, actual = run(rule)  # (25, P): the parameters after every step
        _, expected = run(make_optimizer=make_optimizer)
        torch.testing.assert_close(actual, expected, rtol=1e-10, atol=1e-12, msg=name)
        assert (actual[-1] - start[0]).abs().max() > 1e-2, name  # the rule did move the weights


# %% [markdown]
# ## Claims: what a mini-batch buys
#
# A mini-batch gradient is an unbiased estimate of the full gradient: averaged over every possible batch
# it *is* the full gradient. Its cost is proportional to the batch size, so one step on $B$ of $N$ samples
# costs $B/N$ of a full step, but an epoch (all $N$ samples) costs the same FLOPs whatever $B$ is. What
# small batches buy is $N/B$ updates per pass over the data, not cheaper arithmetic.

# %%
import itertools

from torch.utils.flop_counter import FlopCounterMode


def batch_gradient(model, x, y):
    loss = ((model(x) - y) ** 2).mean()
    return torch.cat([g.flatten() for g in torch.autograd.grad(loss, list(model.parameters()))])


def test_minibatch_gradient_is_unbiased():
    """The average of the gradients of all 28 mini-batches of 2 out of 8 samples equals the full-batch gradient."""
    model, x, y = make_problem()
    x, y = x[:8], y[:8]
    batches = list(itertools.combinations(range(8), 2))
    actual = torch.stack([batch_gradient(model, x[list(b)], y[list(b)]) for b in batches]).mean(0)
    expected = batch_gradient(model, x, y)
    torch.testing.assert_close(actual, expected, rtol=1e-10, atol=1e-12)
    single = batch_gradient(model, x[:2], y[:2])
    assert (single - expected).norm() > 0.1 * expected.norm()  # one batch alone is noisy


def step_flops(model, x, y):
    with FlopCounterMode(display=False) as counter:
        batch_gradient(model, x, y)
    return counter.get_total_flops()


def test_minibatch_step_is_cheaper_but_an_epoch_costs_the_same():
    """Forward and backward on a batch of 4 costs 4/32 of the full batch's FLOPs, and 8 such steps cost exactly one full step."""
    model, x, y = make_problem()
    full = step_flops(model, x, y)
    small = step_flops(model, x[:4], y[:4])
    assert small * 32 == full * 4
    epoch = sum(step_flops(model, x[i : i + 4], y[i : i + 4]) for i in range(0, 32, 4))
    assert epoch == full


# %% [markdown]
# ## Claims: where Adam and SGD part ways
#
# Adam divides by $\sqrt{\hat v}$, so multiplying the loss by a constant changes nothing (up to $\epsilon$):
# its step size is set by $\eta$, not by the gradient's scale. SGD's step scales with the gradient.
#
# The price is the solution it finds. On a least-squares problem with more weights (20) than equations (5)
# there are infinitely many exact fits. Gradient descent from zero stays in the row space of $X$ and lands on
# the minimum-norm fit $X^{+}y$; Adam's per-coordinate rescaling leaves the row space and lands on a different,
# larger-norm fit. Wilson et al. (2017, "The Marginal Value of Adaptive Gradient Methods in Machine Learning")
# built their argument on exactly this effect.

# %%
def test_adam_is_invariant_to_gradient_scale_sgd_is_not():
    """Multiplying the loss by 1000 leaves Adam's 25 steps unchanged but multiplies SGD's first step by 1000."""
    def trajectory(make_optimizer, scale, steps):
        model, x, y = make_problem()
        optimizer = make_optimizer(model.parameters())
        start = torch.cat([p.detach().flatten() for p in model.parameters()])
        for _ in range(steps):
            optimizer.zero_grad()
            (scale * ((model(x) - y) ** 2).mean()).backward()
            optimizer.step()
        return torch.cat([p.detach().flatten() for p in model.parameters()]) - start

    adam_opt = lambda ps: torch.optim.Adam(ps, lr=0.01)  # noqa: E731
    torch.testing.assert_close(trajectory(adam_opt, 1000.0, 25), trajectory(adam_opt, 1.0, 25), rtol=1e-4, atol=1e-6)  # ε = 1e-8 is all that differs
    sgd_opt = lambda ps: torch.optim.SGD(ps, lr=1e-4)  # noqa: E731
    torch.testing.assert_close(trajectory(sgd_opt, 1000.0, 1), 1000 * trajectory(sgd_opt, 1.0, 1), rtol=1e-8, atol=1e-12)


def fit_underdetermined(make_optimizer, steps=800):
    gen = torch.Generator().manual_seed(0)
    X, y = torch.randn(5, 20, generator=gen, dtype=DTYPE), torch.randn(5, generator=gen, dtype=DTYPE)
    w = torch.zeros(20, dtype=DTYPE, requires_grad=True)
    optimizer = make_optimizer([w])
    for _ in range(steps):
        optimizer.zero_grad()
        (0.5 * ((X @ w - y) ** 2).sum()).backward()
        optimizer.step()
    return X, y, w.detach()


def test_gd_finds_min_norm_solution_adam_does_not():
    """From zero, gradient descent fits 5 equations in 20 unknowns with the minimum-norm solution pinv(X)·y, while Adam fits them with a larger norm."""
    X, y, w_gd = fit_underdetermined(lambda ps: torch.optim.SGD(ps, lr=0.02))
    _, _, w_adam = fit_underdetermined(lambda ps: torch.optim.Adam(ps, lr=0.01))
    min_norm = torch.linalg.pinv(X) @ y
    torch.testing.assert_close(w_gd, min_norm, rtol=1e-9, atol=1e-12)
    torch.testing.assert_close(X @ w_adam, y, rtol=1e-8, atol=1e-10)  # Adam fits the data exactly too
    assert w_adam.norm() > 1.1 * min_norm.norm()


# %% [markdown]
# ## Where it stops holding: Adam's L2 term is not weight decay
#
# A common remedy for Adam's weaker generalization is decoupled weight decay (AdamW, Loshchilov & Hutter,
# "Decoupled Weight Decay Regularization"). With a zero loss gradient the difference is stark: AdamW
# multiplies every weight by $1 - \eta\lambda$ per step, an exponential decay proportional to the weight,
# while the L2 term of `Adam(weight_decay=λ)` is normalized by $\sqrt{\hat v}$, so every weight, large or
# small, moves by about $\eta$ per step.

# %%
def test_adam_l2_decay_is_not_proportional():
    """With zero loss gradient, 10 AdamW steps scale weights by (1-ηλ)^10 while Adam's L2 decay moves a weight of 5 and a weight of 0.5 by the same 10η (within 2%)."""
    lr, wd = 0.01, 0.1
    start = torch.tensor([5.0, 0.5], dtype=DTYPE)
    w_adamw = start.clone().requires_grad_()
    w_adam = start.clone().requires_grad_()
    adamw = torch.optim.AdamW([w_adamw], lr=lr, weight_decay=wd)
    adam_l2 = torch.optim.Adam([w_adam], lr=lr, weight_decay=wd)
    for _ in range(10):
        w_adamw.grad = torch.zeros(2, dtype=DTYPE)
        w_adam.grad = torch.zeros(2, dtype=DTYPE)
        adamw.step()
        adam_l2.step()
    torch.testing.assert_close(w_adamw.detach(), start * (1 - lr * wd) ** 10, rtol=1e-12, atol=0)
    moved = start - w_adam.detach()  # the L2 gradient λw shrinks a little as w does, hence 2%
    torch.testing.assert_close(moved, torch.full((2,), 10 * lr, dtype=DTYPE), rtol=2e-2, atol=0)
    assert (start - w_adamw.detach())[0] > 9 * (start - w_adamw.detach())[1]  # AdamW: 10× the weight, 10× the decay


# %% [markdown]
# ## Conclusion
#
# The optimizers differ only in how they turn the gradient into a step: SGD uses it as is, momentum
# averages it over time, AdaGrad and RMSProp divide each coordinate by its gradient's size (a sum or a
# moving average), and Adam does both. Mini-batches give unbiased, cheaper steps and more of them per epoch.
# Adam's scale-invariance makes it easy to tune, but it finds different solutions than SGD (not the
# minimum-norm one on an under-determined problem) and turns an L2 penalty into a fixed-size drift, which is
# why AdamW, and SGD with momentum for some vision tasks, are the usual answers.

# %%
if __name__ == "__main__":
    from qed.claims import run_claims

    run_claims(globals())
