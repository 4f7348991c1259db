# %% [markdown]
# # ReLU versus sigmoid, and ReLU's kink: the proof
#
# **Question.** Why is ReLU the default activation instead of the sigmoid, and how can it be used when it is not
# differentiable at 0?
#
# This module measures the gradient through deep sigmoid and ReLU stacks, shows which value PyTorch uses for the
# derivative at ReLU's kink (and that different ways of writing ReLU disagree), and shows ReLU's own failure mode,
# dead units. Claims:
#
# 1. the gradient reaching the input of a deep network obeys the bound $\prod_l \lVert W_l\rVert_2 \max\phi'$, and with
#    the sigmoid ($\max\sigma' = 1/4$) it collapses through 20 layers while a Kaiming-initialized ReLU stack keeps it
#    (`test_sigmoid_gradient_vanishes_with_depth_relu_keeps_it`);
# 2. a constant slope is not enough on its own: the same ReLU stack with PyTorch's default `nn.Linear` initialization
#    also loses its gradient (`test_relu_gradient_still_vanishes_with_a_bad_init`);
# 3. PyTorch's `relu` uses derivative 0 at exactly 0, but `clamp(min=0)` uses 1 and `torch.maximum(x, 0)` uses 1/2:
#    all are valid subgradients, in $[0, 1]$ (`test_pytorch_derivative_at_the_kink`);
# 4. with continuous inputs an exact 0 never occurs, so the choice does not matter
#    (`test_exact_zero_preactivations_do_not_occur_with_continuous_inputs`); with all-zero inputs (padding) and no bias
#    it occurs every time, and the choice changes the gradient (`test_the_kink_value_matters_on_zero_inputs`);
# 5. ReLU's sparsity is real: about half its outputs are exact zeros at initialization
#    (`test_relu_outputs_half_exact_zeros_at_init`);
# 6. a ReLU unit whose pre-activation is negative on every input gets exactly zero gradient and stays dead through
#    training; a leaky ReLU unit keeps learning (`test_dead_relu_unit_never_recovers`).

# %% [markdown]
# ## Gradients through depth
#
# For $h_l = \phi(W_l h_{l-1})$, the chain rule gives $\partial L/\partial h_{l-1} = W_l^\top(\phi'(z_l)\odot
# \partial L/\partial h_l)$, so $\lVert\partial L/\partial h_0\rVert \le \prod_l \lVert W_l\rVert_2 \max|\phi'| \cdot
# \lVert\partial L/\partial h_L\rVert$. The sigmoid's slope is at most 1/4, so unless the weights are large every
# layer shrinks the gradient; ReLU's slope is 1 where the unit is active and 0 elsewhere, and the weights alone decide.
# We build 20-layer MLPs of width 64 and record the gradient norm at each layer's input.

# %%
import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F
from torch import nn

DEPTH, WIDTH = 20, 64


def deep_stack(activation, init, seed=0):
    torch.manual_seed(seed)
    layers = []
    for _ in range(DEPTH):
        linear = nn.Linear(WIDTH, WIDTH, bias=False, dtype=torch.float64)
        if init is not None:
            init(linear.weight)
        layers += [linear, activation]
    return nn.Sequential(*layers)


def gradient_norms(model, seed=0):
    """Norm of dL/dh at the input of every linear layer, for L = sum of outputs over a fixed batch."""
    x = torch.randn(32, WIDTH, dtype=torch.float64, generator=torch.Generator().manual_seed(seed))
    inputs = []
    h = x.requires_grad_()
    for module in model:
        if isinstance(module, nn.Linear):
            h.retain_grad()
            inputs.append(h)
        h = module(h)
    h.sum().backward()
    return torch.tensor([i.grad.norm().item() for i in inputs], dtype=torch.float64)


kaiming = lambda w: nn.init.kaiming_normal_(w, nonlinearity="relu")
STACKS = {
    "sigmoid, Xavier": (nn.Sigmoid(), nn.init.xavier_normal_),
    "ReLU, Kaiming": (nn.ReLU(), kaiming),
    "ReLU, nn.Linear default": (nn.ReLU(), None),
}
fig, ax = plt.subplots(figsize=(6, 3.4))
for name, (activation, init) in STACKS.items():
    norms = gradient_norms(deep_stack(activation, init))
    ax.semilogy(range(1, DEPTH + 1), norms / norms[-1], marker=".", label=name)
ax.set(xlabel="layer (1 = input)", ylabel="‖dL/dh‖ relative to the last layer", title="gradient norm by layer")
ax.legend()
fig.tight_layout()


# %% [markdown]
# ## Claims: depth

# %%
def test_sigmoid_gradient_vanishes_with_depth_relu_keeps_it():
    """Through 20 sigmoid layers (Xavier) the input gradient is below 1e-6 of the last layer's and below the bound ∏‖W‖₂/4; through 20 Kaiming ReLU layers it stays within a factor 10."""
    model = deep_stack(nn.Sigmoid(), nn.init.xavier_normal_)
    norms = gradient_norms(model)
    bound = 1.0
    for module in model:
        if isinstance(module, nn.Linear):
            bound *= torch.linalg.matrix_norm(module.weight.detach(), ord=2).item() / 4
    assert norms[0] <= bound * norms[-1]  # the chain-rule bound holds
    assert norms[0] / norms[-1] < 1e-6
    relu = gradient_norms(deep_stack(nn.ReLU(), kaiming))
    assert 0.1 < relu[0] / relu[-1] < 10


def test_relu_gradient_still_vanishes_with_a_bad_init():
    """With nn.Linear's default init (variance 1/(3·fan_in)) the 20-layer ReLU stack's input gradient is below 1e-6 of the last layer's: ReLU's slope of 1 does not prevent vanishing on its own."""
    norms = gradient_norms(deep_stack(nn.ReLU(), None))
    assert norms[0] / norms[-1] < 1e-6


# %% [markdown]
# ## The kink at 0
#
# ReLU has no derivative at 0, but it has a *subdifferential*: every slope in $[0, 1]$ gives a line through the
# origin that stays below the function. Autograd needs one number, and each op's backward picks one. `F.relu`
# picks 0, `clamp(min=0)` picks 1 (its mask is $x \ge 0$), and `torch.maximum` splits a tie evenly, 1/2 to each
# argument. With continuous random inputs a pre-activation is exactly 0 with probability 0, so the choice is
# invisible; it becomes visible when exact zeros do occur, for instance for zero-padded positions fed to a layer
# without bias.

# %%
KINK_RULES = {
    "F.relu": torch.relu,
    "clamp(min=0)": lambda x: x.clamp(min=0),
    "torch.maximum(x, 0)": lambda x: torch.maximum(x, torch.zeros_like(x)),
}


def slope_at_zero(f):
    x = torch.zeros(1, requires_grad=True)
    f(x).sum().backward()
    return x.grad.item()


OTHER_KINKS = {  # name: (function, where its kink is)
    "F.leaky_relu(x, 0.01) at 0": (lambda x: F.leaky_relu(x, 0.01), 0.0),
    "F.relu6 at 0": (F.relu6, 0.0),
    "F.relu6 at 6": (F.relu6, 6.0),
    "F.hardtanh at -1": (F.hardtanh, -1.0),
    "F.hardtanh at 1": (F.hardtanh, 1.0),
    "torch.abs at 0": (torch.abs, 0.0),
}


def slope_at(f, point):
    x = torch.full((1,), point, requires_grad=True)
    f(x).sum().backward()
    return x.grad.item()


for name, f in KINK_RULES.items():
    print(f"{name:28s} slope at 0: {slope_at_zero(f)}")
for name, (f, point) in OTHER_KINKS.items():
    print(f"{name:28s} slope: {slope_at(f, point):.2f}")


# %% [markdown]
# ## Claims: the kink

# %%
def test_pytorch_derivative_at_the_kink():
    """At exactly 0 autograd gives F.relu slope 0, clamp(min=0) slope 1 and torch.maximum slope 1/2, each a valid subgradient (in [0, 1]) matching finite differences away from 0; leaky ReLU, ReLU6 (at 0 and 6), hardtanh (at −1 and 1) and abs use 0.01, 0, 0, 0, 0, 0 at their kinks."""
    assert [slope_at_zero(f) for f in KINK_RULES.values()] == [0.0, 1.0, 0.5]
    # elsewhere PyTorch takes the flatter side's slope, and abs uses sign(0) = 0, the midpoint of [-1, 1]
    actual = [slope_at(f, point) for f, point in OTHER_KINKS.values()]
    torch.testing.assert_close(actual, [0.01, 0.0, 0.0, 0.0, 0.0, 0.0])
    x = torch.tensor([-0.5, 0.5], dtype=torch.float64, requires_grad=True)
    for f in KINK_RULES.values():
        (slope,) = torch.autograd.grad(f(x).sum(), x)
        finite_difference = (f(x.detach() + 1e-6) - f(x.detach() - 1e-6)) / 2e-6
        torch.testing.assert_close(slope, finite_difference)
    for s in (0.0, 0.5, 1.0):  # subgradient inequality relu(y) >= relu(0) + s·y for all y
        y = torch.linspace(-3, 3, 61)
        assert (torch.relu(y) >= s * y).all()


def test_exact_zero_preactivations_do_not_occur_with_continuous_inputs():
    """Over a million pre-activations of a random layer on Gaussian inputs none is exactly 0, so F.relu and clamp give identical gradients."""
    torch.manual_seed(0)
    layer = nn.Linear(32, 1000)
    x = torch.randn(1000, 32)
    assert (layer(x) == 0).sum() == 0
    grads = []
    for f in (torch.relu, lambda z: z.clamp(min=0)):
        layer.zero_grad()
        f(layer(x)).sum().backward()
        grads.append(layer.weight.grad.clone())
    assert torch.equal(grads[0], grads[1])


def test_the_kink_value_matters_on_zero_inputs():
    """For a batch with zero-padded rows fed to a bias-free layer, the pre-activations of those rows are exactly 0 and the input gradient of those rows is 0 with F.relu but Wᵀ·1 with clamp(min=0)."""
    torch.manual_seed(0)
    layer = nn.Linear(8, 4, bias=False)
    x = torch.randn(6, 8)
    x[3:] = 0  # padding
    grads = []
    for f in (torch.relu, lambda z: z.clamp(min=0)):
        xi = x.clone().requires_grad_()
        f(layer(xi)).sum().backward()
        grads.append(xi.grad)
    assert (layer(x)[3:] == 0).all()
    torch.testing.assert_close(grads[0][:3], grads[1][:3])
    assert grads[0][3:].abs().max() == 0
    torch.testing.assert_close(grads[1][3:], layer.weight.detach().sum(0).expand(3, 8))


# %% [markdown]
# ## ReLU's exact zeros
#
# Exact zeros are rare in the *input* of a ReLU, but common in its output: every negative pre-activation becomes an
# exact 0, about half of them for a symmetric initialization. That is the sparsity ReLU is credited with.

# %%
def test_relu_outputs_half_exact_zeros_at_init():
    """At initialization a ReLU layer on Gaussian inputs outputs exact zeros about half the time (0.45 to 0.55), a sigmoid layer never."""
    torch.manual_seed(0)
    z = nn.Linear(32, 256)(torch.randn(512, 32))
    assert 0.45 < (torch.relu(z) == 0).double().mean() < 0.55
    assert (torch.sigmoid(z) == 0).sum() == 0


# %% [markdown]
# ## Where ReLU fails: dead units
#
# A ReLU unit whose pre-activation is negative for every input outputs 0 and passes back a zero gradient, so its
# weights and bias never change again. A large negative bias, often left behind by one big gradient step, is enough.
# A leaky ReLU keeps a small slope for negative inputs, so the same unit keeps getting gradient and keeps moving.

# %%
def test_dead_relu_unit_never_recovers():
    """A ReLU unit with bias −10 has zero gradient on every input, and its weights are bit-for-bit unchanged after 100 SGD steps; with leaky ReLU (slope 0.01) the same unit's weights and bias keep moving."""
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(256, 4, generator=generator)
    y = x.sum(1, keepdim=True).abs()
    results = {}
    for name, activation in (("relu", nn.ReLU()), ("leaky", nn.LeakyReLU(0.01))):
        torch.manual_seed(0)
        model = nn.Sequential(nn.Linear(4, 1), activation, nn.Linear(1, 1))
        with torch.no_grad():
            model[0].bias.fill_(-10.0)  # pre-activation < 0 for every input
        before = [p.detach().clone() for p in model[0].parameters()]
        optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
        for _ in range(100):
            optimizer.zero_grad()
            nn.functional.mse_loss(model(x), y).backward()
            optimizer.step()
        results[name] = (before, [p.detach() for p in model[0].parameters()])
    before, after = results["relu"]
    assert all(torch.equal(b, a) for b, a in zip(before, after))
    before, after = results["leaky"]
    assert (after[1] - before[1]).abs() > 1e-3 and (after[0] - before[0]).abs().max() > 1e-3


# %% [markdown]
# ## Conclusion
#
# ReLU is the default because its slope is exactly 1 wherever it is active, so with a suitable initialization
# (Kaiming) the gradient keeps its size through depth, whereas the sigmoid multiplies it by at most 1/4 per layer.
# ReLU is also cheap, and it outputs exact zeros. Its kink at 0 is harmless in practice: PyTorch's `relu` uses slope
# 0 there, other formulations use 1 or 1/2, all valid subgradients, and the choice only shows on exact zeros, which
# continuous inputs never produce but zero padding does. The price is dead units: a unit that is negative on every
# input gets no gradient, ever; leaky variants avoid it.

# %%
if __name__ == "__main__":
    from qed.claims import run_claims

    run_claims(globals())
