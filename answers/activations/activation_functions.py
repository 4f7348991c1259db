# %% [markdown]
# # Activation functions compared: the proof
#
# **Question.** What is an activation function, which ones are common, and how do they compare?
#
# This module writes the common activations and their derivatives by hand, checks both against PyTorch and
# autograd, and then tests the statements usually made about them. Claims:
#
# 1. the hand-written derivatives of sigmoid, tanh, ReLU, leaky ReLU, ELU, ReLU6, softplus, softsign, SiLU and GELU
#    match autograd away from their kinks (`test_derivatives_match_autograd`);
# 2. without a nonlinearity a stack of linear layers is one linear layer, which cannot fit XOR; one ReLU hidden layer
#    fits it exactly (`test_without_activation_depth_adds_nothing`);
# 3. tanh is a rescaled, zero-centred sigmoid, $\tanh x = 2\sigma(2x) - 1$, and their largest slopes are 1/4 and 1
#    (`test_tanh_is_a_rescaled_sigmoid`);
# 4. "softsign" is $x/(1+|x|)$, not $\min(\max(0,x),6)$, which is ReLU6 (`test_softsign_is_not_relu6`);
# 5. float16 has the same relative precision above 6 as below, so ReLU6's cap does not help float16; it helps
#    fixed-point (int8) quantization, where one step size covers the whole range (`test_relu6_cap_helps_int8_not_float16`);
# 6. softplus's derivative is the sigmoid: it is nonzero everywhere, but for negative inputs it is as small as
#    a sigmoid's saturated tail (`test_softplus_gradient_is_the_sigmoid_and_still_saturates`);
# 7. a classifier's last layer takes no activation: a softmax before `CrossEntropyLoss` floors the loss at
#    $\log(1 + (C-1)/e)$ (`test_softmax_before_cross_entropy_floors_the_loss`);
# 8. leaky ReLU's slope is fixed, PReLU's is learned (`test_prelu_learns_its_slope_leaky_relu_does_not`).

# %% [markdown]
# ## The catalogue, with derivatives
#
# Each entry is the function and its derivative written from the formula; the derivative of the sigmoid is written
# from its output, $\sigma'(x) = \sigma(x)(1-\sigma(x))$, which is how frameworks compute it (no second exponential).
# The plot shows the functions and their derivatives; the saturating ones have derivatives that vanish on both sides.

# %%
import math

import torch
import torch.nn.functional as F


def sigmoid(x):
    return 1 / (1 + torch.exp(-x))


def phi(x):  # standard normal density
    return torch.exp(-x**2 / 2) / math.sqrt(2 * math.pi)


def Phi(x):  # standard normal CDF
    return 0.5 * (1 + torch.erf(x / math.sqrt(2)))


ACTIVATIONS = {  # name: (ours, derivative, torch's)
    "sigmoid": (sigmoid, lambda x: sigmoid(x) * (1 - sigmoid(x)), torch.sigmoid),
    "tanh": (lambda x: (torch.exp(x) - torch.exp(-x)) / (torch.exp(x) + torch.exp(-x)),
             lambda x: 1 - torch.tanh(x) ** 2, torch.tanh),
    "ReLU": (lambda x: torch.where(x > 0, x, 0.0), lambda x: (x > 0).to(x.dtype), F.relu),
    "leaky ReLU (0.1)": (lambda x: torch.where(x > 0, x, 0.1 * x), lambda x: torch.where(x > 0, torch.ones_like(x), torch.full_like(x, 0.1)),
                         lambda x: F.leaky_relu(x, 0.1)),
    "ELU": (lambda x: torch.where(x > 0, x, torch.exp(x) - 1), lambda x: torch.where(x > 0, 1.0, torch.exp(x)), F.elu),
    "ReLU6": (lambda x: torch.minimum(torch.where(x > 0, x, 0.0), torch.tensor(6.0, dtype=x.dtype)),
              lambda x: ((x > 0) & (x < 6)).to(x.dtype), F.relu6),
    "softplus": (lambda x: torch.log1p(torch.exp(x)), sigmoid, F.softplus),
    "softsign": (lambda x: x / (1 + x.abs()), lambda x: 1 / (1 + x.abs()) ** 2, F.softsign),
    "SiLU": (lambda x: x * sigmoid(x), lambda x: sigmoid(x) * (1 + x * (1 - sigmoid(x))), F.silu),
    "GELU": (lambda x: x * Phi(x), lambda x: Phi(x) + x * phi(x), F.gelu),
}

import matplotlib.pyplot as plt

grid = torch.linspace(-6, 8, 561, dtype=torch.float64)
fig, axes = plt.subplots(1, 2, figsize=(11.5, 3.6))
for name in ("sigmoid", "tanh", "ReLU", "leaky ReLU (0.1)", "ELU", "ReLU6", "softplus", "GELU"):
    ours, derivative, _ = ACTIVATIONS[name]
    axes[0].plot(grid, ours(grid), label=name)
    axes[1].plot(grid, derivative(grid), label=name)
axes[0].set(title="activation", xlabel="x", ylim=(-1.5, 7))
axes[1].set(title="derivative", xlabel="x", ylim=(-0.2, 1.3))
axes[1].legend(fontsize=7, loc="center left", bbox_to_anchor=(1.02, 0.5))  # outside: inside it hid curves
fig.tight_layout()

# %% [markdown]
# ## Claims: the formulas
#
# The inputs avoid the kinks (0 for the ReLU family, 6 for ReLU6), where the derivative is not defined and PyTorch
# picks a value; the ReLU page's proof shows which one.

# %%
def test_derivatives_match_autograd():
    """For ten activations our formula equals PyTorch's op and our derivative equals autograd's, in float64 on 2000 points off the kinks."""
    x = torch.randn(2000, dtype=torch.float64, generator=torch.Generator().manual_seed(0)) * 4
    x = x[(x.abs() > 1e-3) & ((x - 6).abs() > 1e-3)].requires_grad_()
    for name, (ours, derivative, theirs) in ACTIVATIONS.items():
        expected_value = theirs(x)
        (expected_grad,) = torch.autograd.grad(expected_value.sum(), x)
        torch.testing.assert_close(ours(x.detach()), expected_value.detach(), rtol=1e-10, atol=1e-12, msg=name)
        torch.testing.assert_close(derivative(x.detach()), expected_grad, rtol=1e-10, atol=1e-12, msg=name)


def test_without_activation_depth_adds_nothing():
    """Three stacked linear layers equal one linear layer with the product matrix; on XOR the best linear fit has MSE 1/4 (least squares), while a 2-unit ReLU layer fits it exactly."""
    torch.manual_seed(0)
    layers = [torch.nn.Linear(5, 5, dtype=torch.float64) for _ in range(3)]
    x = torch.randn(10, 5, dtype=torch.float64)
    weight = layers[2].weight @ layers[1].weight @ layers[0].weight
    bias = layers[2].weight @ (layers[1].weight @ layers[0].bias + layers[1].bias) + layers[2].bias
    with torch.no_grad():
        torch.testing.assert_close(layers[2](layers[1](layers[0](x))), x @ weight.T + bias)

    xor_x = torch.tensor([[0.0, 0], [0, 1], [1, 0], [1, 1]], dtype=torch.float64)
    xor_y = torch.tensor([0.0, 1, 1, 0], dtype=torch.float64)
    design = torch.cat([xor_x, torch.ones(4, 1, dtype=torch.float64)], 1)  # (4, 3): w1, w2, bias
    solution = torch.linalg.lstsq(design, xor_y[:, None]).solution
    assert abs(((design @ solution).squeeze() - xor_y).pow(2).mean().item() - 0.25) < 1e-12
    hidden = F.relu(xor_x @ torch.tensor([[1.0, 1.0], [1.0, 1.0]], dtype=torch.float64) - torch.tensor([0.0, 1.0]))
    torch.testing.assert_close(hidden @ torch.tensor([1.0, -2.0], dtype=torch.float64), xor_y)


def test_tanh_is_a_rescaled_sigmoid():
    """tanh(x) = 2σ(2x) − 1 on a grid, autograd's derivatives are y(1−y) and 1−y² of the outputs y, and the largest derivative found on a fine grid is 1/4 for the sigmoid and 1 for tanh, both at 0."""
    torch.testing.assert_close(torch.tanh(grid), 2 * torch.sigmoid(2 * grid) - 1)
    x = grid.clone().requires_grad_()
    for f, expected, from_output in ((torch.sigmoid, 0.25, lambda y: y * (1 - y)), (torch.tanh, 1.0, lambda y: 1 - y**2)):
        y = f(x)
        (slope,) = torch.autograd.grad(y.sum(), x)
        torch.testing.assert_close(slope, from_output(y.detach()))  # the backward reuses the output: no exp
        assert abs(slope.max().item() - expected) < 1e-12 and grid[slope.argmax()].abs() < 0.03


# %% [markdown]
# ## Claims: what the catalogue entries are for
#
# ReLU6, $\min(\max(0, x), 6)$ (Krizhevsky, 2010), was adopted by MobileNet for its robustness in low-precision
# computation. Floating-point formats, float16
# included, have the same *relative* precision at every magnitude, so capping the range at 6 buys float16 nothing
# (until 65504, where float16 overflows). Fixed-point int8 has one step size for the whole range, so a bounded range
# means a finer step. Softplus, $\log(1 + e^x)$, is a smooth ReLU whose derivative is the sigmoid: never exactly zero,
# but vanishingly small for negative inputs.

# %%
def test_softsign_is_not_relu6():
    """F.softsign is x/(1+|x|), bounded by 1 in absolute value; min(max(0,x),6) is F.relu6."""
    x = torch.linspace(-10, 10, 101)
    torch.testing.assert_close(F.softsign(x), x / (1 + x.abs()))
    torch.testing.assert_close(F.relu6(x), torch.clamp(x, 0, 6))
    assert F.softsign(x).abs().max() < 1 and (F.softsign(x) - F.relu6(x)).abs().max() > 4


def test_relu6_cap_helps_int8_not_float16():
    """float16 rounds values in [6, 60000] with the same worst relative error (2^-11) as values in [0.1, 6]; int8 with a range of [0, 6] has a step 10 times finer than with a range of [0, 60]."""
    def worst_relative_error(low, high):
        x = torch.logspace(math.log10(low), math.log10(high), 20001, dtype=torch.float64)
        return ((x.half().double() - x).abs() / x).max().item()

    small, large = worst_relative_error(0.1, 6), worst_relative_error(6, 60000)
    assert abs(small / 2**-11 - 1) < 0.01 and abs(large / 2**-11 - 1) < 0.01
    step = {high: high / 255 for high in (6.0, 60.0)}  # unsigned 8-bit: 256 levels spread over [0, high]
    x = torch.rand(10000, generator=torch.Generator().manual_seed(0), dtype=torch.float64) * 6
    errors = {high: ((x / s).round() * s - x).abs().max().item() for high, s in step.items()}
    assert errors[60.0] > 9 * errors[6.0]


def test_softplus_gradient_is_the_sigmoid_and_still_saturates():
    """Autograd's derivative of softplus equals the sigmoid; at x = −20 it is about 2e-9, no better than a saturated sigmoid and 5e8 times smaller than ReLU's 1 for positive inputs."""
    x = torch.linspace(-20, 20, 81, dtype=torch.float64, requires_grad=True)
    (slope,) = torch.autograd.grad(F.softplus(x).sum(), x)
    torch.testing.assert_close(slope, torch.sigmoid(x.detach()))
    assert slope.min() > 0 and slope[0] < 3e-9


# %% [markdown]
# ## Claims: where an activation does not belong, and what a learned slope is
#
# The output layer of a classifier produces logits, because `nn.CrossEntropyLoss` applies log-softmax itself. A
# softmax in front of it squashes the "logits" into $[0, 1]$, so even a perfectly confident prediction keeps a loss
# of $\log(1 + (C-1)/e)$ (the softmax of a one-hot vector), and the gradient never dies out. Leaky ReLU has a fixed
# negative slope; PReLU (He et al., 2015) makes that slope a learned parameter, one per layer by default.

# %%
def test_softmax_before_cross_entropy_floors_the_loss():
    """With 10 classes, CrossEntropyLoss on the softmax of a confident prediction is log(1 + 9/e) ≈ 1.46 instead of ≈ 0."""
    logits = torch.tensor([[30.0, 0, 0, 0, 0, 0, 0, 0, 0, 0]], dtype=torch.float64)
    target = torch.tensor([0])
    assert F.cross_entropy(logits, target).item() < 1e-12
    actual = F.cross_entropy(torch.softmax(logits, 1), target).item()
    assert abs(actual - math.log(1 + 9 / math.e)) < 1e-12


def test_prelu_learns_its_slope_leaky_relu_does_not():
    """nn.LeakyReLU has no parameters; nn.PReLU has one slope, initialized to 0.25, whose gradient is the sum of the negative inputs times the upstream gradient."""
    assert list(torch.nn.LeakyReLU(0.25).parameters()) == []
    prelu = torch.nn.PReLU()
    x = torch.tensor([-2.0, -1.0, 0.5, 3.0])
    prelu(x).sum().backward()
    assert prelu.weight.item() == 0.25 and prelu.weight.grad.item() == -3.0


# %% [markdown]
# ## Conclusion
#
# An activation function is the nonlinearity between linear layers; without it any depth collapses to one linear
# map. The saturating ones (sigmoid, tanh) have small derivatives away from 0, at most 1/4 for the sigmoid; tanh is a
# zero-centred sigmoid with four times its slope. The ReLU family has slope 1 for positive inputs and cheap
# derivatives; ReLU6 caps the output for fixed-point inference; smooth variants (softplus, ELU, SiLU, GELU) trade the
# kink for a little computation, and softplus keeps a gradient for negative inputs only in name.

# %%
if __name__ == "__main__":
    from qed.claims import run_claims

    run_claims(globals())
