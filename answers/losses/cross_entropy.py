# %% [markdown]
# # Why cross-entropy is the classification loss: the proof
#
# **Question.** Why can cross-entropy serve as a loss function, and why is it preferred to mean squared error for
# classification?
#
# Cross-entropy $H(p, q) = -\sum_i p_i \log q_i$ measures a model distribution $q$ against the data's $p$. This module
# checks the identity that links it to KL divergence, and then compares it with MSE on a sigmoid output, where the
# difference shows up as a gradient that does or does not vanish. Claims:
#
# 1. $H(p, q) = H(p) + \mathrm{KL}(p\,\Vert\,q)$, with PyTorch's `kl_div` and `Categorical.entropy` as references; for
#    one-hot labels $H(p) = 0$ and cross-entropy *is* the KL divergence (`test_cross_entropy_is_entropy_plus_kl`);
# 2. for a fixed $p$, KL and cross-entropy have the same gradient with respect to the model
#    (`test_kl_and_cross_entropy_have_the_same_gradient`);
# 3. the mean cross-entropy over a dataset is the negative log-likelihood per sample
#    (`test_cross_entropy_is_the_negative_log_likelihood`);
# 4. on a sigmoid output MSE's gradient vanishes when the prediction is confidently wrong, cross-entropy's does not
#    (`test_mse_gradient_vanishes_when_confidently_wrong`), so from a bad start logistic regression with MSE stays stuck
#    where cross-entropy recovers (`test_cross_entropy_recovers_from_a_bad_start_mse_does_not`);
# 5. as a function of the logit, cross-entropy on a sigmoid is convex and MSE is not
#    (`test_mse_on_a_sigmoid_is_not_convex_cross_entropy_is`); but in the weights of a network with a hidden layer
#    cross-entropy is not convex either (`test_cross_entropy_is_not_convex_in_a_hidden_layer`).

# %% [markdown]
# ## Cross-entropy, entropy and KL divergence
#
# $$H(p, q) = -\sum_i p_i\log q_i = \underbrace{-\sum_i p_i \log p_i}_{H(p)} + \underbrace{\sum_i p_i\log\frac{p_i}{q_i}}_{\mathrm{KL}(p\Vert q)} .$$
#
# The data distribution $p$ is fixed during training, so $H(p)$ is a constant: minimizing cross-entropy and minimizing
# KL are the same problem with the same gradients. For a hard label $p$ is one-hot, $H(p) = 0$ and the two are equal.
# Averaged over a dataset, $-\log q(y_n \mid x_n)$ is the negative log-likelihood: cross-entropy training is maximum
# likelihood.

# %%
import math

import torch
import torch.nn.functional as F
from torch.distributions import Categorical


def cross_entropy(p, q):
    return -(p * q.log()).sum(-1)


def test_cross_entropy_is_entropy_plus_kl():
    """For random p and q over 5 classes, −Σ p log q equals Categorical(p).entropy() + F.kl_div(log q, p), and for one-hot p it equals the KL divergence alone."""
    generator = torch.Generator().manual_seed(0)
    p = torch.softmax(torch.randn(8, 5, dtype=torch.float64, generator=generator), -1)
    q = torch.softmax(torch.randn(8, 5, dtype=torch.float64, generator=generator), -1)
    kl = F.kl_div(q.log(), p, reduction="none").sum(-1)  # kl_div takes log q and p
    torch.testing.assert_close(cross_entropy(p, q), Categorical(probs=p).entropy() + kl)
    one_hot = F.one_hot(torch.arange(8) % 5, 5).double()
    torch.testing.assert_close(cross_entropy(one_hot, q), F.kl_div(q.log(), one_hot, reduction="none").sum(-1))


def test_kl_and_cross_entropy_have_the_same_gradient():
    """For a fixed soft target p, the gradients of KL(p‖softmax(z)) and of cross-entropy with respect to z are equal, while their values differ by H(p) > 0."""
    generator = torch.Generator().manual_seed(1)
    p = torch.softmax(torch.randn(4, 6, dtype=torch.float64, generator=generator), -1)
    z = torch.randn(4, 6, dtype=torch.float64, generator=generator, requires_grad=True)
    kl = F.kl_div(F.log_softmax(z, -1), p, reduction="batchmean")
    ce = F.cross_entropy(z, p)
    (kl_grad,) = torch.autograd.grad(kl, z)
    (ce_grad,) = torch.autograd.grad(ce, z)
    torch.testing.assert_close(kl_grad, ce_grad)
    torch.testing.assert_close(ce - kl, Categorical(probs=p).entropy().mean())


def test_cross_entropy_is_the_negative_log_likelihood():
    """The mean of F.cross_entropy over 50 samples equals −log of the product of the probabilities the model gives the true labels, divided by 50."""
    generator = torch.Generator().manual_seed(2)
    z = torch.randn(50, 3, dtype=torch.float64, generator=generator)
    labels = torch.randint(0, 3, (50,), generator=generator)
    likelihood = torch.prod(torch.softmax(z, -1)[torch.arange(50), labels])  # brute force, in float64
    torch.testing.assert_close(F.cross_entropy(z, labels), -torch.log(likelihood) / 50)


# %% [markdown]
# ## Cross-entropy versus MSE on a sigmoid output
#
# For a binary label $y$ and logit $z$ with $\hat y = \sigma(z)$:
#
# $$\frac{\partial}{\partial z}\mathrm{BCE} = \hat y - y, \qquad
# \frac{\partial}{\partial z}(\hat y - y)^2 = 2(\hat y - y)\,\hat y(1-\hat y).$$
#
# The MSE gradient carries the sigmoid's slope $\hat y(1-\hat y)$, which is nearly 0 exactly when the model is
# confidently wrong ($z = -10$ for $y = 1$): the worse the mistake, the weaker the push. Cross-entropy's $\log$ cancels
# that slope. The plot trains logistic regression started confidently wrong with both losses.

# %%
import matplotlib.pyplot as plt


def separable_data(seed=0, n=200):
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 2, dtype=torch.float64, generator=generator)
    y = (x @ torch.tensor([2.0, -1.0], dtype=torch.float64) > 0).double()
    return x, y


def train_logistic(loss_name, steps=200, lr=1.0):
    """Full-batch gradient descent from weights pointing the wrong way; returns accuracy after each step."""
    x, y = separable_data()
    w = (-10 * torch.tensor([2.0, -1.0], dtype=torch.float64)).requires_grad_()  # confidently wrong
    accuracy = []
    for _ in range(steps):
        z = x @ w
        if loss_name == "cross-entropy":
            loss = F.binary_cross_entropy_with_logits(z, y)
        else:
            loss = F.mse_loss(torch.sigmoid(z), y)
        (grad,) = torch.autograd.grad(loss, w)
        with torch.no_grad():
            w -= lr * grad
        accuracy.append(((x @ w > 0).double() == y).double().mean().item())
    return accuracy


fig, ax = plt.subplots(figsize=(6, 3.2))
for name in ("cross-entropy", "MSE"):
    ax.plot(train_logistic(name), label=name)
ax.set(xlabel="gradient step", ylabel="training accuracy", title="logistic regression started confidently wrong")
ax.legend()
fig.tight_layout()


# %% [markdown]
# ## Claims: the gradient and the training

# %%
def test_mse_gradient_vanishes_when_confidently_wrong():
    """At z = −10 with label 1, autograd gives ∂BCE/∂z = σ(z) − 1 ≈ −1 but ∂MSE/∂z = 2(σ − 1)σ(1 − σ) ≈ −9e-5, both equal to their closed forms."""
    z = torch.tensor(-10.0, dtype=torch.float64, requires_grad=True)
    y = torch.tensor(1.0, dtype=torch.float64)
    s = torch.sigmoid(z.detach())
    (bce,) = torch.autograd.grad(F.binary_cross_entropy_with_logits(z, y), z)
    (mse,) = torch.autograd.grad((torch.sigmoid(z) - y) ** 2, z)
    torch.testing.assert_close(bce, s - 1)
    torch.testing.assert_close(mse, 2 * (s - 1) * s * (1 - s))
    assert bce < -0.99 and -1e-4 < mse < 0


def test_cross_entropy_recovers_from_a_bad_start_mse_does_not():
    """From weights −10 times the true direction, 200 gradient steps of cross-entropy reach 99% training accuracy while MSE stays below 5%."""
    assert train_logistic("cross-entropy")[-1] >= 0.99
    assert train_logistic("MSE")[-1] < 0.05


def test_mse_on_a_sigmoid_is_not_convex_cross_entropy_is():
    """Autograd's second derivative in the logit is σ(1−σ) ≥ 0 for cross-entropy on [−8, 8], and 2σ(1−σ)²(3σ−1) for MSE with label 1, negative wherever σ < 1/3 (z < −log 2)."""
    z = torch.linspace(-8, 8, 161, dtype=torch.float64, requires_grad=True)
    y = torch.ones_like(z)

    def second_derivative(loss):
        (first,) = torch.autograd.grad(loss.sum(), z, create_graph=True)
        (second,) = torch.autograd.grad(first.sum(), z)
        return second

    s = torch.sigmoid(z.detach())
    torch.testing.assert_close(second_derivative(F.binary_cross_entropy_with_logits(z, y, reduction="none")), s * (1 - s))
    mse_curvature = second_derivative((torch.sigmoid(z) - y) ** 2)
    torch.testing.assert_close(mse_curvature, 2 * s * (1 - s) ** 2 * (3 * s - 1))
    below = z.detach() < -math.log(2)  # where σ < 1/3
    assert (mse_curvature[below] < 0).all() and (mse_curvature[~below] > 0).all()


# %% [markdown]
# ## Where it stops holding: convexity in the weights
#
# Convexity in the logit makes logistic (and softmax) regression a convex problem, because the logit is linear in
# the weights. With a hidden layer that is gone: permuting the hidden units gives a different weight vector with
# exactly the same loss, and the average of the two is a different network, typically a worse one. A convex function
# cannot be higher at a midpoint than at both ends, so cross-entropy is not convex in a network's weights, and neither
# is MSE. The real argument for cross-entropy is the gradient and the likelihood, not convexity.

# %%
def test_cross_entropy_is_not_convex_in_a_hidden_layer():
    """For a trained 2-layer MLP, the network with its hidden units permuted has the same cross-entropy (to 1e-12), and the average of the two weight vectors has a higher loss than both."""
    torch.manual_seed(0)
    x = torch.randn(100, 2, dtype=torch.float64)
    labels = (x[:, 0] * x[:, 1] > 0).long()  # XOR-like quadrants
    model = torch.nn.Sequential(torch.nn.Linear(2, 8), torch.nn.Tanh(), torch.nn.Linear(8, 2)).double()
    optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
    for _ in range(150):
        optimizer.zero_grad()
        F.cross_entropy(model(x), labels).backward()
        optimizer.step()
    permutation = torch.roll(torch.arange(8), 1)

    def loss_of(params):
        w1, b1, w2, b2 = params
        return F.cross_entropy(torch.tanh(x @ w1.T + b1) @ w2.T + b2, labels).item()

    original = [p.detach() for p in model.parameters()]
    w1, b1, w2, b2 = original
    permuted = [w1[permutation], b1[permutation], w2[:, permutation], b2]
    midpoint = [(a + b) / 2 for a, b in zip(original, permuted)]
    assert abs(loss_of(permuted) - loss_of(original)) < 1e-12
    assert loss_of(midpoint) > loss_of(original) + 0.05


# %% [markdown]
# ## Conclusion
#
# Cross-entropy is the negative log-likelihood of the labels under the model, and it differs from the KL divergence to
# the data distribution only by that distribution's entropy, a constant: minimizing one minimizes the other. For
# classification with a sigmoid or softmax output it beats MSE because its gradient is $\hat y - y$, large when the
# model is wrong, while MSE's is multiplied by the output's slope and vanishes when the model is confidently wrong.
# It is convex in the logits, hence for linear models, but not in the weights of a deep network.

# %%
if __name__ == "__main__":
    from qed.claims import run_claims

    run_claims(globals())
