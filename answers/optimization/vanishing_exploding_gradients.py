# %% [markdown]
# # Vanishing and exploding gradients: the proof
#
# **Question.** What causes vanishing and exploding gradients, and what prevents them?
#
# The gradient that reaches layer $l$ is the loss gradient multiplied by the transposed Jacobians of every
# layer above it: $\partial L/\partial h_l = J_{l+1}^\top \cdots J_L^\top\, \partial L/\partial h_L$. Each
# Jacobian is a weight matrix times the activation's derivative, so the gradient's size changes geometrically
# with depth unless each factor has gain close to 1. This module measures gradient norms layer by layer.
# Claims:
#
# 1. in a deep *linear* network with orthogonal weights scaled by $a$, the input gradient scales exactly as
#    $a^L$: no activation is needed to vanish or explode (`test_linear_network_gradient_scales_as_power_of_weight_scale`);
# 2. with norm-preserving weights, each sigmoid layer shrinks the gradient by at least 4×, since
#    $\sigma' \le 1/4$ (`test_sigmoid_shrinks_the_gradient_at_least_fourfold_per_layer`);
# 3. with Kaiming initialization a 20-layer ReLU network keeps its gradient norms within a factor of 3,
#    while a too-small or too-large initialization scale makes them vanish or explode by orders of magnitude
#    (`test_initialization_scale_decides_vanishing_or_exploding`);
# 4. residual connections keep the gradient alive where the same plain network loses it
#    (`test_residual_connections_keep_the_gradient`);
# 5. `clip_grad_norm_` rescales the whole gradient to the maximum norm, keeping its direction
#    (`test_clip_grad_norm_rescales_to_max_norm`).

# %% [markdown]
# ## Measuring gradient norms by layer
#
# A stack of `depth` linear layers of width 256, each followed by an activation, gets a random batch, and we
# backpropagate the same fixed gradient $\partial L/\partial h_{20}$ from the top. We record the norm of the
# gradient that reaches each layer's output $h_l$. (Weight gradients are the wrong thing to compare across
# layers of a ReLU net: $\partial L/\partial W_l$ multiplies the backward gradient by the forward activation
# $h_{l-1}$, which shrinks exactly as fast as the backward gradient grows.)

# %%
import math

import matplotlib.pyplot as plt
import torch
from torch import nn

WIDTH, DEPTH = 256, 20


def plain_mlp(activation, std, depth=DEPTH, residual=False, seed=0):
    torch.manual_seed(seed)
    layers = nn.ModuleList(nn.Linear(WIDTH, WIDTH, bias=False) for _ in range(depth))
    for layer in layers:
        nn.init.normal_(layer.weight, std=std)

    def net(x):
        inputs = []  # the input of every layer, kept to read its gradient
        for layer in layers:
            inputs.append(x)
            x = x + activation(layer(x)) if residual else activation(layer(x))
        return x, inputs

    return net, layers


def hidden_gradient_norms(activation, std, residual=False):
    net, _ = plain_mlp(activation, std, residual=residual)
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(64, WIDTH, generator=gen, requires_grad=True)
    out, inputs = net(x)
    upstream = torch.randn(out.shape, generator=gen)  # a fixed ∂L/∂output, the same for every network
    grads = torch.autograd.grad(out, inputs, upstream)
    return torch.stack([g.norm() for g in grads[1:]] + [upstream.norm()])  # (DEPTH,), ∂L/∂h_1 ... ∂L/∂h_20


kaiming = math.sqrt(2 / WIDTH)  # He et al. 2015: Var(w) = 2 / fan_in for ReLU
settings = {
    "ReLU, Kaiming std": (torch.relu, kaiming, False),
    "ReLU, std × 0.5": (torch.relu, 0.5 * kaiming, False),
    "ReLU, std × 1.5": (torch.relu, 1.5 * kaiming, False),
    "sigmoid, Xavier std": (torch.sigmoid, math.sqrt(1 / WIDTH), False),
    "ReLU, std × 0.5, residual": (torch.relu, 0.5 * kaiming, True),
}
norms = {name: hidden_gradient_norms(*args) for name, args in settings.items()}

fig, ax = plt.subplots(figsize=(7, 4))
for name, n in norms.items():
    ax.semilogy(range(1, DEPTH + 1), n, "o-", markersize=3, label=name)
ax.set(xlabel="layer (1 = closest to the input)", ylabel=r"$\Vert\partial L/\partial h_l\Vert$", title="gradient norm by layer, 20 layers of width 256")
ax.legend(fontsize=8)
fig.tight_layout()

print(f"{'setting':<28} {'layer 1':>10} {'layer 20':>10} {'ratio':>10}")
for name, n in norms.items():
    print(f"{name:<28} {n[0].item():>10.2e} {n[-1].item():>10.2e} {(n[0] / n[-1]).item():>10.2e}")

# %% [markdown]
# ## Claims: it is the product of Jacobians
#
# Without any activation, a network of $L$ orthogonal matrices scaled by $a$ multiplies every vector, forward
# or backward, by exactly $a^L$. So the gradient of the input explodes for $a > 1$ and vanishes for $a < 1$,
# as a closed form predicts. The choice of activation is one factor, not the cause.
#
# With norm-preserving (orthogonal) weights, a sigmoid layer's backward Jacobian is $W^\top \operatorname{diag}(\sigma'(h))$
# with $\sigma' \le 1/4$, so each layer divides the gradient norm by at least 4.

# %%
def orthogonal_stack(scale, depth, activation, seed=0):
    gen = torch.Generator().manual_seed(seed)
    weights = [scale * torch.linalg.qr(torch.randn(32, 32, generator=gen, dtype=torch.float64))[0] for _ in range(depth)]
    x = torch.randn(8, 32, generator=gen, dtype=torch.float64, requires_grad=True)
    hidden = [x]
    for w in weights:
        hidden.append(activation(hidden[-1] @ w.T))
    return hidden


def test_linear_network_gradient_scales_as_power_of_weight_scale():
    """Through 30 orthogonal linear layers scaled by a, the input-gradient norm is exactly a^30 times the output-gradient norm, for a = 0.8 and 1.2."""
    for scale in (0.8, 1.2):
        hidden = orthogonal_stack(scale, 30, activation=lambda h: h)
        upstream = torch.randn(hidden[-1].shape, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
        (grad_x,) = torch.autograd.grad(hidden[-1], hidden[0], upstream)
        torch.testing.assert_close(grad_x.norm(), scale**30 * upstream.norm(), rtol=1e-10, atol=0)
    assert 0.8**30 < 1e-2 and 1.2**30 > 1e2  # two orders of magnitude either way


def test_sigmoid_shrinks_the_gradient_at_least_fourfold_per_layer():
    """With orthogonal weights, every one of 10 sigmoid layers divides the backpropagated gradient norm by at least 4 (σ' ≤ 1/4)."""
    hidden = orthogonal_stack(1.0, 10, activation=torch.sigmoid)
    upstream = torch.randn(hidden[-1].shape, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    grads = torch.autograd.grad(hidden[-1], hidden, upstream)  # gradient at every depth
    gn = torch.stack([g.norm() for g in grads])  # (11,), input first
    assert (gn[:-1] <= gn[1:] / 4).all()
    assert gn[0] < 4.0**-10 * gn[-1]


# %% [markdown]
# ## Claims: initialization and architecture decide
#
# For ReLU, Kaiming initialization ($\operatorname{Var} w = 2/\text{fan-in}$) makes each layer's backward gain
# close to 1 (He et al. 2015). Halving the standard deviation makes each layer's gain about 1/2, so 20 layers
# lose about $2^{19}$; multiplying it by 1.5 gains about $1.5^{19}$. A residual connection adds the identity to
# each Jacobian, $I + J$, which keeps the gradient alive even when $J$ is small.

# %%
def test_initialization_scale_decides_vanishing_or_exploding():
    """In a 20-layer ReLU net, Kaiming init keeps the gradients at layers 1 and 20 within 3×, while std × 0.5 shrinks layer 1's by over 10⁴ and std × 1.5 grows it by over 10²."""
    ratio = {k: (n[0] / n[-1]).item() for k, n in norms.items()}
    assert 1 / 3 < ratio["ReLU, Kaiming std"] < 3
    assert ratio["ReLU, std × 0.5"] < 1e-4
    assert ratio["ReLU, std × 1.5"] > 1e2
    # the per-layer gains match the closed forms 0.5 and 1.5 to within 10%
    torch.testing.assert_close(ratio["ReLU, std × 0.5"] ** (1 / 19), 0.5, rtol=0.1, atol=0)
    torch.testing.assert_close(ratio["ReLU, std × 1.5"] ** (1 / 19), 1.5, rtol=0.1, atol=0)


def test_residual_connections_keep_the_gradient():
    """With the same too-small init (std × 0.5), a residual 20-layer ReLU net gets at least the top gradient down to layer 1, over 10⁴ times what the plain net gets."""
    residual = norms["ReLU, std × 0.5, residual"]
    plain = norms["ReLU, std × 0.5"]
    assert residual[0] >= residual[-1]  # I + J never shrinks it here
    assert residual[0] > 1e4 * plain[0]


# %% [markdown]
# ## Where clipping helps
#
# Gradient clipping treats the symptom of exploding gradients: `clip_grad_norm_` computes the norm of all
# gradients together and, if it exceeds `max_norm`, multiplies every gradient by `max_norm / norm`. The
# direction is kept; only the step length is capped. It does nothing for vanishing gradients.

# %%
def test_clip_grad_norm_rescales_to_max_norm():
    """clip_grad_norm_ scales all gradients by max_norm / total norm when the norm is larger, and leaves them alone otherwise."""
    _, layers = plain_mlp(torch.relu, kaiming, depth=4)
    gen = torch.Generator().manual_seed(3)
    for layer in layers:
        layer.weight.grad = torch.randn(WIDTH, WIDTH, generator=gen)
    grads = [layer.weight.grad.clone() for layer in layers]
    total = torch.cat([g.flatten() for g in grads]).norm()  # computed by hand
    returned = nn.utils.clip_grad_norm_(list(layers.parameters()), max_norm=1.0)
    torch.testing.assert_close(returned, total)
    for layer, g in zip(layers, grads):
        torch.testing.assert_close(layer.weight.grad, g / total, rtol=1e-5, atol=1e-7)
    nn.utils.clip_grad_norm_(list(layers.parameters()), max_norm=10.0)  # norm is 1 now: unchanged
    torch.testing.assert_close(layers[0].weight.grad, grads[0] / total, rtol=1e-5, atol=1e-7)


# %% [markdown]
# ## Conclusion
#
# Vanishing and exploding gradients are the geometric growth or decay of a product of per-layer Jacobians.
# The weight scale sets it even in a linear network; saturating activations such as the sigmoid add a factor
# of at most 1/4 per layer. The remedies act on the per-layer gain: variance-preserving initialization
# (Xavier, Kaiming), non-saturating activations, normalization layers, residual connections, and clipping for
# the exploding side.

# %%
if __name__ == "__main__":
    from qed.claims import run_claims

    run_claims(globals())
