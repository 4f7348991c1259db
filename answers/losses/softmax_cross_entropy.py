# %% [markdown]
# # Softmax and the softmax + cross-entropy gradient: the proof
#
# **Question.** What is the derivative of softmax, and what is the gradient of cross-entropy with respect to the
# logits when it follows a softmax? How is it computed without overflow?
#
# Softmax maps logits $z \in \mathbb R^C$ to probabilities $s_i = e^{z_i}/\sum_j e^{z_j}$. Its derivative is a
# $C \times C$ Jacobian, and composed with cross-entropy it collapses to $s - y$. This module derives both, checks them
# against autograd, and shows why frameworks fuse the two into one numerically stable op. Claims:
#
# 1. the Jacobian of softmax is $\mathrm{diag}(s) - s s^\top$, equal to `torch.autograd.functional.jacobian`
#    (`test_softmax_jacobian_is_diag_minus_outer`); it is singular, because softmax ignores a constant added to every
#    logit (`test_softmax_is_shift_invariant_and_its_jacobian_singular`);
# 2. the gradient of cross-entropy with respect to the logits is $(s - y)/N$ for a batch of $N$, with hard or soft
#    targets $y$, equal to autograd through `F.cross_entropy` (`test_cross_entropy_gradient_is_softmax_minus_target`);
# 3. the naive formula overflows for logits near 1000 and returns `nan`, the max-subtracted form and `F.softmax` do not
#    (`test_naive_softmax_overflows_stable_softmax_does_not`);
# 4. computing the loss as `log(softmax(z))` underflows to `inf` once a wrong class's probability is below float32's
#    range, while `F.cross_entropy` (log-sum-exp) returns the exact margin (`test_log_of_softmax_underflows_cross_entropy_does_not`).

# %% [markdown]
# ## The Jacobian of softmax
#
# Differentiate $s_i = e^{z_i}/\sum_k e^{z_k}$ with respect to $z_j$ by the quotient rule:
#
# $$\frac{\partial s_i}{\partial z_j} = \frac{\delta_{ij}e^{z_i}\sum_k e^{z_k} - e^{z_i}e^{z_j}}{(\sum_k e^{z_k})^2}
# = s_i(\delta_{ij} - s_j), \qquad J = \mathrm{diag}(s) - s s^\top .$$
#
# The diagonal is $s_i(1-s_i)$, the off-diagonal $-s_is_j$. Each row sums to $s_i - s_i\sum_j s_j = 0$: adding the same
# constant to every logit changes nothing, so $J\mathbf 1 = 0$ and $J$ has rank $C-1$.
#
# ## Cross-entropy on top
#
# With a target distribution $y$ ($\sum_i y_i = 1$, one-hot for a hard label), $L = -\sum_i y_i \log s_i$ and
# $\partial L/\partial s_i = -y_i/s_i$. The chain rule gives
#
# $$\frac{\partial L}{\partial z_j} = \sum_i -\frac{y_i}{s_i}\, s_i(\delta_{ij} - s_j) = -y_j + s_j\sum_i y_i = s_j - y_j .$$
#
# With `reduction="mean"` over a batch of $N$, each row is divided by $N$. The plot shows the two parts of the gradient
# for logits $(z, 0, 0)$ of a sample of class 0: the correct class's component $s_0 - 1$ rises to 0 as $z$ grows.

# %%
import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F


def softmax_jacobian(z):
    s = torch.softmax(z, dim=-1)  # (C,)
    return torch.diag(s) - torch.outer(s, s)  # (C, C)


z_grid = torch.linspace(-6, 6, 121, dtype=torch.float64)
logits = torch.stack([z_grid, torch.zeros_like(z_grid), torch.zeros_like(z_grid)], 1)  # (121, 3)
probabilities = torch.softmax(logits, 1)
fig, ax = plt.subplots(figsize=(6, 3.2))
ax.plot(z_grid, probabilities[:, 0] - 1, label="∂L/∂z₀ = s₀ − 1 (correct class)")
ax.plot(z_grid, probabilities[:, 1], label="∂L/∂z₁ = s₁ (a wrong class)")
ax.plot(z_grid, F.cross_entropy(logits, torch.zeros(121, dtype=torch.long), reduction="none"), "k--", label="loss")
ax.set(xlabel="logit z₀ of the correct class (others 0)", title="softmax + cross-entropy, 3 classes")
ax.legend(fontsize=8)
fig.tight_layout()


# %% [markdown]
# ## Claims: the derivatives

# %%
def test_softmax_jacobian_is_diag_minus_outer():
    """For random logits in 7 classes, diag(s) − s sᵀ equals autograd's Jacobian of torch.softmax, in float64."""
    z = torch.randn(7, dtype=torch.float64, generator=torch.Generator().manual_seed(0)) * 3
    expected = torch.autograd.functional.jacobian(lambda v: torch.softmax(v, dim=0), z)
    torch.testing.assert_close(softmax_jacobian(z), expected, rtol=1e-12, atol=1e-14)


def test_softmax_is_shift_invariant_and_its_jacobian_singular():
    """softmax(z + c) = softmax(z); the Jacobian's rows sum to 0 and its rank is C − 1."""
    z = torch.randn(5, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    torch.testing.assert_close(torch.softmax(z + 123.0, 0), torch.softmax(z, 0))
    jacobian = softmax_jacobian(z)
    torch.testing.assert_close(jacobian.sum(1), torch.zeros(5, dtype=torch.float64), rtol=0, atol=1e-15)
    assert torch.linalg.matrix_rank(jacobian).item() == 4


def test_cross_entropy_gradient_is_softmax_minus_target():
    """The gradient of F.cross_entropy (mean over N) with respect to the logits is (softmax(z) − y)/N, for hard labels and for soft targets, and equals Jᵀ(−y/s)/N by the chain rule."""
    generator = torch.Generator().manual_seed(2)
    z = torch.randn(4, 6, dtype=torch.float64, generator=generator, requires_grad=True)
    labels = torch.tensor([0, 3, 5, 3])
    soft = torch.softmax(torch.randn(4, 6, dtype=torch.float64, generator=generator), 1)
    for target, y in ((labels, F.one_hot(labels, 6).double()), (soft, soft)):
        (grad,) = torch.autograd.grad(F.cross_entropy(z, target), z)
        s = torch.softmax(z.detach(), 1)
        torch.testing.assert_close(grad, (s - y) / 4, rtol=1e-12, atol=1e-15)
        chain = torch.stack([softmax_jacobian(z.detach()[n]).T @ (-y[n] / s[n]) for n in range(4)]) / 4
        torch.testing.assert_close(grad, chain, rtol=1e-10, atol=1e-14)


# %% [markdown]
# ## Numerical stability
#
# $e^{z}$ overflows float32 for $z > 88.7$, so the textbook formula returns `inf/inf = nan` for large logits. Because
# softmax is shift-invariant, subtracting $\max_j z_j$ first changes nothing mathematically and keeps every exponent
# $\le 0$. For the loss, $-\log s_y = \log\sum_j e^{z_j} - z_y$ (log-sum-exp, again max-shifted) never takes the log of
# an underflowed probability. `F.cross_entropy` does exactly this (log-softmax, then negative log-likelihood), which
# is why it takes *logits*, not probabilities.

# %%
def naive_softmax(z):
    return torch.exp(z) / torch.exp(z).sum(-1, keepdim=True)


def stable_softmax(z):
    shifted = z - z.max(-1, keepdim=True).values  # every exponent <= 0
    return torch.exp(shifted) / torch.exp(shifted).sum(-1, keepdim=True)


def test_naive_softmax_overflows_stable_softmax_does_not():
    """For float32 logits (1000, 999, 998) the naive formula returns nan, the max-shifted one equals F.softmax and the float64 reference softmax of (2, 1, 0)."""
    z = torch.tensor([1000.0, 999.0, 998.0])
    assert torch.isnan(naive_softmax(z)).all()
    expected = torch.softmax(torch.tensor([2.0, 1.0, 0.0], dtype=torch.float64), 0).float()
    torch.testing.assert_close(stable_softmax(z), expected)
    torch.testing.assert_close(F.softmax(z, 0), expected)


def test_log_of_softmax_underflows_cross_entropy_does_not():
    """With float32 logits (0, 200) and label 0, log(softmax) gives an infinite loss and a nan gradient, while F.cross_entropy and log-sum-exp give 200 (= log(1 + e^200) to float32 precision)."""
    z = torch.tensor([[0.0, 200.0]])
    label = torch.tensor([0])
    assert torch.isinf(-torch.log(stable_softmax(z))[0, 0])  # e^-200 underflows to 0
    zi = z.clone().requires_grad_()
    (naive_grad,) = torch.autograd.grad(-torch.log(torch.softmax(zi, 1))[0, 0], zi)
    assert torch.isnan(naive_grad).all()
    expected = torch.logsumexp(z, 1) - z[:, 0]
    torch.testing.assert_close(F.cross_entropy(z, label), expected[0])
    assert abs(F.cross_entropy(z, label).item() - 200.0) < 1e-4


# %% [markdown]
# ## Conclusion
#
# The softmax Jacobian is $\mathrm{diag}(s) - ss^\top$: every output depends on every logit, so a derivative that keeps
# only $s_i(1-s_i)$ is wrong, and the Jacobian is singular because softmax ignores a common shift. Followed by
# cross-entropy, the Jacobian and the $-y/s$ from the log cancel into the simple gradient $s - y$ (divided by the
# batch size with mean reduction), bounded and never vanishing while the prediction is wrong. In floating point, compute
# softmax with the maximum subtracted and the loss from logits with log-sum-exp, which is what `F.cross_entropy` does.

# %%
if __name__ == "__main__":
    from qed.claims import run_claims

    run_claims(globals())
