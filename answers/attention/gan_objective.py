# %% [markdown]
# # The GAN objective on a 1-D toy problem: the proof
#
# **Question.** What is the idea behind GANs, what does the discriminator converge to, and does training
# reach an equilibrium?
#
# A generator $G$ maps noise to samples; a discriminator $D$ outputs the probability that a sample is real.
# They play $\min_G \max_D V(D, G) = \mathbb{E}_{x\sim p_{data}}[\log D(x)] + \mathbb{E}_{x\sim p_g}[\log(1 - D(x))]$
# (Goodfellow et al., 2014). Everything below is one-dimensional, so every density and integral is exact.
# Claims:
#
# 1. a discriminator trained on samples converges to the closed form $D^*(x) = p_{data}(x)/(p_{data}(x) + p_g(x))$
#    (`test_trained_discriminator_matches_the_optimum`);
# 2. at $D^*$ the value is $-\log 4 + 2\,\mathrm{JS}(p_{data}\,\|\,p_g)$, so the generator minimises a
#    Jensen–Shannon divergence, 0 only when $p_g = p_{data}$ (`test_value_at_the_optimum_is_a_js_divergence`);
# 3. when $p_g = p_{data}$ the trained discriminator outputs about $1/2$ (`test_discriminator_is_half_at_equilibrium`);
# 4. when $D$ confidently rejects a fake, the original generator loss $\log(1 - D)$ has a vanishing gradient
#    and the non-saturating loss $-\log D$ does not (`test_saturating_generator_loss_vanishes`).
#
# Where it stops holding:
#
# 5. the equilibrium exists, but simultaneous gradient steps need not reach it: on the "Dirac GAN" of
#    Mescheder et al. (2018) the iterates spiral outwards, and a gradient penalty on $D$ makes them converge
#    (`test_gradient_steps_spiral_away_without_a_penalty`).

# %% [markdown]
# ## The optimal discriminator for two Gaussians
#
# Real data $N(0, 1)$, a fixed generator $N(1.5, 1)$. For each $x$, $D$ maximises
# $p_{data}(x)\log D + p_g(x)\log(1 - D)$, which gives $D^*(x) = p_{data}/(p_{data} + p_g)$; here
# $\log(p_{data}/p_g) = -1.5x + 1.125$, so $D^* = \sigma(-1.5x + 1.125)$. A small MLP is trained on 4,000 samples of
# each with the binary cross-entropy, which is $-V$.

# %%
import math

import matplotlib.pyplot as plt
import torch
from torch import nn
from torch.nn import functional as F


def normal_pdf(x, mean):
    return torch.exp(-((x - mean) ** 2) / 2) / math.sqrt(2 * math.pi)


def train_discriminator(real, fake, steps=300, seed=0):
    torch.manual_seed(seed)
    D = nn.Sequential(nn.Linear(1, 16), nn.Tanh(), nn.Linear(16, 1))  # outputs a logit
    opt = torch.optim.Adam(D.parameters(), lr=0.02)
    for _ in range(steps):
        opt.zero_grad()
        loss = F.binary_cross_entropy_with_logits(D(real), torch.ones_like(real))
        loss = loss + F.binary_cross_entropy_with_logits(D(fake), torch.zeros_like(fake))
        loss.backward()
        opt.step()
    return lambda x: torch.sigmoid(D(x)).detach()


g = torch.Generator().manual_seed(0)
REAL = torch.randn(4000, 1, generator=g)
FAKE = torch.randn(4000, 1, generator=g) + 1.5
D_TRAINED = train_discriminator(REAL, FAKE)
GRID = torch.linspace(-2, 3.5, 111).unsqueeze(1)
D_STAR = normal_pdf(GRID, 0) / (normal_pdf(GRID, 0) + normal_pdf(GRID, 1.5))

fig, ax = plt.subplots(figsize=(5.5, 3.2))
ax.plot(GRID, normal_pdf(GRID, 0), "--", label="p_data = N(0, 1)")
ax.plot(GRID, normal_pdf(GRID, 1.5), "--", label="p_g = N(1.5, 1)")
ax.plot(GRID, D_STAR, label="D* = p_data / (p_data + p_g)")
ax.plot(GRID, D_TRAINED(GRID), ":", linewidth=3, label="D trained on samples")
ax.set_xlabel("x")
ax.legend(fontsize=8)
fig.tight_layout()

# %% [markdown]
# ## Claims: the optimum
#
# The trained network against the closed form; the value function against a divergence computed separately.

# %%
def test_trained_discriminator_matches_the_optimum():
    """A discriminator trained on samples is within 0.03 of p_data/(p_data + p_g) = sigmoid(-1.5x + 1.125) on [-2, 3.5]."""
    torch.testing.assert_close(D_STAR, torch.sigmoid(-1.5 * GRID + 1.125))
    assert (D_TRAINED(GRID) - D_STAR).abs().max() < 0.03


def integrate(values, x):
    return torch.trapezoid(values, x).item()


def test_value_at_the_optimum_is_a_js_divergence():
    """V(D*, G) computed by quadrature equals -log 4 + 2 JS(p_data, p_g) computed from KL to the mixture; both give -log 4 when p_g = p_data."""
    x = torch.linspace(-12, 14, 20001, dtype=torch.float64)
    for mean in (0.0, 0.5, 1.5, 4.0):
        p, q = normal_pdf(x, 0.0), normal_pdf(x, mean)
        d_star = p / (p + q)
        value = integrate(p * torch.log(d_star) + q * torch.log(q / (p + q)), x)  # 1 - D* = q / (p + q), without rounding
        m = (p + q) / 2
        js = 0.5 * integrate(p * torch.log(p / m), x) + 0.5 * integrate(q * torch.log(q / m), x)
        assert math.isclose(value, -math.log(4) + 2 * js, abs_tol=1e-9)
        assert -1e-12 <= js <= math.log(2)
        if mean == 0.0:
            assert math.isclose(value, -math.log(4), abs_tol=1e-9)


def test_discriminator_is_half_at_equilibrium():
    """With generator samples drawn from p_data itself, the trained discriminator stays within 0.05 of 1/2 on [-1.5, 1.5]."""
    fake = torch.randn(4000, 1, generator=torch.Generator().manual_seed(1))
    D = train_discriminator(REAL, fake)
    x = torch.linspace(-1.5, 1.5, 61).unsqueeze(1)
    assert (D(x) - 0.5).abs().max() < 0.05


def test_saturating_generator_loss_vanishes():
    """At a fake the discriminator scores with logit -6 (D = 0.0025), d log(1 - D)/d logit is -0.0025 while d(-log D)/d logit is -0.9975."""
    logit = torch.tensor(-6.0, requires_grad=True)
    torch.log(1 - torch.sigmoid(logit)).backward()
    saturating = logit.grad.item()
    logit.grad = None
    (-torch.log(torch.sigmoid(logit))).backward()
    non_saturating = logit.grad.item()
    d = 1 / (1 + math.exp(6))
    assert math.isclose(saturating, -d, rel_tol=1e-4)
    assert math.isclose(non_saturating, -(1 - d), rel_tol=1e-4)


# %% [markdown]
# ## Where it stops holding: reaching the equilibrium
#
# The Dirac GAN: data is a point mass at 0, the generator a point mass at $\theta$, the discriminator
# $D(x) = \sigma(\psi x)$. The unique equilibrium is $\theta = \psi = 0$. Simultaneous gradient steps rotate
# around it and, being an explicit Euler scheme for a rotation, move outwards. An R1 penalty
# $\frac{\gamma}{2}\|\nabla_x \mathrm{logit}\,D(x)\|^2 = \frac{\gamma}{2}\psi^2$ on real data damps the rotation.

# %%
def dirac_gan(steps=500, lr=0.2, gamma=0.0):
    theta = torch.tensor(1.0, requires_grad=True)
    psi = torch.tensor(1.0, requires_grad=True)
    radii = []
    for _ in range(steps):
        real = torch.zeros(())
        value = F.logsigmoid(psi * real) + F.logsigmoid(-psi * theta)  # log D(real) + log(1 - D(fake))
        d_loss = -value + gamma / 2 * psi**2  # D ascends V; R1 penalty on the real point
        g_loss = value  # the zero-sum game: G descends the same V
        d_grad = torch.autograd.grad(d_loss, psi, retain_graph=True)[0]
        g_grad = torch.autograd.grad(g_loss, theta)[0]
        with torch.no_grad():  # simultaneous update
            psi -= lr * d_grad
            theta -= lr * g_grad
        radii.append(math.hypot(theta.item(), psi.item()))
    return radii


def test_gradient_steps_spiral_away_without_a_penalty():
    """On the Dirac GAN, 500 simultaneous gradient steps end farther from the equilibrium than they started; with an R1 penalty (gamma = 1) they end within 0.05 of it."""
    plain, penalised = dirac_gan(), dirac_gan(gamma=1.0)
    start = math.hypot(1.0, 1.0)
    assert plain[-1] > start and all(b >= a - 1e-9 for a, b in zip(plain, plain[1:]))  # never moves inwards
    assert penalised[-1] < 0.05


# %% [markdown]
# ## Conclusion
#
# For a fixed generator the best discriminator is $p_{data}/(p_{data} + p_g)$, which a small network
# recovers from samples; against it, the generator minimises $2\,\mathrm{JS}(p_{data}\|p_g) - \log 4$, whose
# minimum is $p_g = p_{data}$, where $D = 1/2$. The game has that equilibrium, but plain gradient play does not
# necessarily converge to it; regularisers (gradient penalties), the non-saturating loss and careful
# step sizes are what make GANs train.

# %%
if __name__ == "__main__":
    from qed.claims import run_claims

    run_claims(globals())
