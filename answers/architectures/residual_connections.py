# %% [markdown]
# # Residual connections: the proof
#
# **Question.** What does a residual connection $y = x + g(x)$ do, why is it called residual, and what does
# it guarantee, and not guarantee, about gradients and accuracy?
#
# The module measures the statements that circulate about ResNet on small, fully controlled stacks. Claims:
#
# 1. a torchvision-style `BasicBlock` whose last BN scale is zero (`zero_init_residual`) is exactly the
#    identity on non-negative inputs (`test_zero_init_block_is_the_identity`);
# 2. the Jacobian of $x + g(x)$ is $I + \partial g/\partial x$, by autograd (`test_jacobian_is_identity_plus_branch`);
# 3. in a 50-layer ReLU stack at PyTorch's default init the gradient at the first layer's input is about
#    $10^{-19}$ of the last one's without shortcuts, and 3.5 times larger with them, both close to the predictions from
#    the init's variance (`test_shortcuts_keep_early_gradients_alive`);
# 4. all blocks receive a gradient from the first step: they are trained together, not one after the other
#    (`test_all_blocks_get_gradient_from_the_first_step`);
# 5. a stack of blocks is an additive model $x_L = x_0 + \sum_i g_i(x_i)$, and for squared error the
#    negative gradient with respect to the output is the residual, the quantity boosting fits
#    (`test_stack_is_a_sum_of_branches_fitting_the_residual`);
# 6. PyTorch's Transformer encoder layer is two residual blocks: zero its two output projections and it
#    returns its input (`test_transformer_layer_is_residual`).
#
# Where it stops holding:
#
# 7. without normalization or scaling, each block multiplies the activation variance by $1 + 1/18$ at
#    default init, so 100 blocks grow the norm about 15-fold, as predicted (`test_unnormalized_residual_stack_grows`);
# 8. adding a residual block that starts at the identity lowers the training error but can raise the
#    test error: "never worse" holds for neither (`test_extra_block_can_make_test_error_worse`).

# %% [markdown]
# ## A block that starts as the identity
#
# The shared ResNet-18 definition (`answers/_models.py`) has torchvision's `zero_init_residual` option: the
# last BN of each branch gets $\gamma = 0$, so the branch outputs 0 and the block computes
# $\mathrm{ReLU}(x + 0) = x$ for the non-negative inputs it receives after a ReLU.

# %%
import matplotlib.pyplot as plt
import torch
from torch import nn

from answers._models import BasicBlock


class Residual(nn.Module):
    """y = x + g(x) with g = Linear -> ReLU -> Linear (PyTorch's default init)."""

    def __init__(self, width):
        super().__init__()
        self.branch = nn.Sequential(nn.Linear(width, width), nn.ReLU(), nn.Linear(width, width))

    def forward(self, x):
        return x + self.branch(x)


class Plain(nn.Module):
    """The same layers without the shortcut: y = g(x) followed by ReLU."""

    def __init__(self, width):
        super().__init__()
        self.branch = nn.Sequential(nn.Linear(width, width), nn.ReLU())

    def forward(self, x):
        return self.branch(x)


def layer_gradient_norms(blocks, width=64, batch=32, seed=0):
    """For the loss sum(output), one backward pass: the gradient norm at each block's input, and of each block's first weight."""
    torch.manual_seed(seed)
    x, inputs = torch.randn(batch, width), []
    for block in blocks:
        x.retain_grad() if x.requires_grad else x.requires_grad_()
        inputs.append(x)
        x = block(x)
    x.sum().backward()
    return [x.grad.norm().item() for x in inputs], [block.branch[0].weight.grad.norm().item() for block in blocks]


def make_stack(kind, depth, width=64, seed=0):
    torch.manual_seed(seed)
    return nn.ModuleList(kind(width) for _ in range(depth))


# %% [markdown]
# ## Gradient norms by layer, with and without shortcuts
#
# Fifty layers at PyTorch's default `nn.Linear` init, which scales weights for variance $1/(3\,\text{fan-in})$:
# each plain ReLU layer shrinks the signal and the gradient by about $\sqrt{6}$, so the product over 50
# layers vanishes. With shortcuts the gradient reaching block $i$ is $\prod_{j>i}(I + J_j)$ applied to the
# output gradient, which contains the identity path.

# %%
DEPTH = 50
plain_norms, _ = layer_gradient_norms(make_stack(Plain, DEPTH))
residual_norms, _ = layer_gradient_norms(make_stack(Residual, DEPTH))

fig, ax = plt.subplots(figsize=(6, 3))
ax.semilogy(range(1, DEPTH + 1), plain_norms, label="plain: ReLU(W x)")
ax.semilogy(range(1, DEPTH + 1), residual_norms, label="residual: x + g(x)")
ax.set_xlabel("layer (1 = closest to the input)")
ax.set_ylabel("gradient norm at the layer's input")
ax.legend()
fig.tight_layout()

# %% [markdown]
# ## Claims: identity, Jacobian, gradients
#
# Each claim compares two independent computations: PyTorch's modules against a closed form, or two stacks
# that differ only in the shortcut.

# %%
def test_zero_init_block_is_the_identity():
    """A BasicBlock with its last BN scale set to 0 returns its non-negative input exactly (eval mode); with the default init it does not."""
    torch.manual_seed(0)
    block = BasicBlock(16, 16).eval()
    x = torch.relu(torch.randn(2, 16, 8, 8))  # what a block receives: the output of a ReLU
    assert not torch.allclose(block(x), x)
    nn.init.zeros_(block.bn2.weight)
    torch.testing.assert_close(block(x), x, rtol=0, atol=0)


def test_jacobian_is_identity_plus_branch():
    """The Jacobian of x + g(x), by autograd, is the identity plus the Jacobian of the branch g alone."""
    torch.manual_seed(0)
    block = Residual(6).double()
    x = torch.randn(6, dtype=torch.float64)
    actual = torch.autograd.functional.jacobian(block, x)
    expected = torch.eye(6, dtype=torch.float64) + torch.autograd.functional.jacobian(block.branch, x)
    torch.testing.assert_close(actual, expected)


def test_shortcuts_keep_early_gradients_alive():
    """Over 49 layers at default init the input gradient shrinks to within 3x of (1/6)^(49/2) ~ 9e-20 without shortcuts and grows to within 25% of (19/18)^(49/2) ~ 3.8 with them."""
    plain_ratio = plain_norms[0] / plain_norms[-1]
    assert plain_ratio < 1e-4
    assert 1 / 3 < plain_ratio / (1 / 6) ** 24.5 < 3  # variance x 1/3 through W^T, x 1/2 through ReLU
    residual_ratio = residual_norms[0] / residual_norms[-1]
    assert 0.75 < residual_ratio / (19 / 18) ** 24.5 < 1.25  # variance x (1 + 1/18) per block


def test_all_blocks_get_gradient_from_the_first_step():
    """At the first backward pass every block of a residual stack has a non-zero gradient: blocks are trained jointly, not low order first."""
    _, weight_norms = layer_gradient_norms(make_stack(Residual, 8))
    assert min(weight_norms) > 0.1 * max(weight_norms)


def test_stack_is_a_sum_of_branches_fitting_the_residual():
    """A residual stack's output equals its input plus the sum of its branch outputs, and the negative MSE gradient at the output is (2/n)(y - output)."""
    torch.manual_seed(0)
    blocks = make_stack(Residual, 4, width=8)
    x0 = torch.randn(5, 8)
    x, branch_outputs = x0, []
    for block in blocks:
        branch_outputs.append(block.branch(x))
        x = block(x)
    torch.testing.assert_close(x, x0 + sum(branch_outputs))
    y = torch.randn(5, 8)
    out = x.detach().requires_grad_()
    nn.functional.mse_loss(out, y).backward()
    torch.testing.assert_close(-out.grad, 2 * (y - out.detach()) / y.numel())


def test_transformer_layer_is_residual():
    """nn.TransformerEncoderLayer (norm_first) with its attention output projection and second Linear zeroed returns its input."""
    torch.manual_seed(0)
    layer = nn.TransformerEncoderLayer(d_model=16, nhead=2, dim_feedforward=32, dropout=0.0, norm_first=True, batch_first=True)
    tokens = torch.randn(2, 7, 16)  # (B, L, d_model): a sentence of 7 token embeddings
    assert not torch.allclose(layer(tokens), tokens)
    for linear in (layer.self_attn.out_proj, layer.linear2):
        nn.init.zeros_(linear.weight)
        nn.init.zeros_(linear.bias)
    torch.testing.assert_close(layer(tokens), tokens, rtol=0, atol=0)


# %% [markdown]
# ## Where it stops holding: the forward signal grows
#
# A shortcut keeps gradients from vanishing, but nothing in it stops growth. With default init,
# $\mathrm{Var}(W_1x) = \mathrm{Var}(x)/3$, the ReLU keeps half the second moment, and $W_2$ divides by 3 again,
# so $\mathrm{Var}(g(x)) \approx \mathrm{Var}(x)/18$ and each block multiplies the variance by $19/18$. Real
# ResNets put BN in the branch (and some scale it down) to control this.

# %%
def test_unnormalized_residual_stack_grows():
    """Through 100 unnormalized residual blocks the activation norm grows by about sqrt((19/18)^100) = 14.9, within 25%."""
    torch.manual_seed(0)
    blocks = make_stack(Residual, 100, width=256)
    x0 = torch.randn(64, 256)
    with torch.no_grad():
        x = x0
        for block in blocks:
            x = block(x)
    actual = (x.norm() / x0.norm()).item()
    expected = (19 / 18) ** 50
    assert 0.75 * expected < actual < 1.25 * expected


# %% [markdown]
# ## Where it stops holding: "an extra block can never make the model worse"
#
# Start from the best straight line through 16 noisy points of $y = 2x$, then add a residual MLP block whose
# last layer starts at zero, so the model starts exactly at the line. Training lowers the *training* error,
# as gradient descent on a model that contains the old one should; but the block fits the noise, and the
# error on fresh data goes up. Nothing drives a harmful $g$ to zero: the gradient only sees the training loss.

# %%
def overfit_experiment(steps=200):
    g = torch.Generator().manual_seed(0)
    x_train = torch.rand(16, 1, generator=g) * 2 - 1
    y_train = 2 * x_train + 0.3 * torch.randn(16, 1, generator=g)
    x_test = torch.linspace(-1, 1, 200).unsqueeze(1)
    y_test = 2 * x_test + 0.3 * torch.randn(200, 1, generator=g)
    design = torch.cat([x_train, torch.ones_like(x_train)], 1)
    coef = torch.linalg.lstsq(design, y_train).solution  # the best line, in closed form

    def line(x):
        return torch.cat([x, torch.ones_like(x)], 1) @ coef

    torch.manual_seed(0)
    branch = nn.Sequential(nn.Linear(1, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 1))
    nn.init.zeros_(branch[-1].weight)
    nn.init.zeros_(branch[-1].bias)
    model = lambda x: line(x) + branch(x)  # noqa: E731
    start = nn.functional.mse_loss(model(x_train), y_train).item()
    opt = torch.optim.Adam(branch.parameters(), lr=1e-2)
    for _ in range(steps):
        opt.zero_grad()
        nn.functional.mse_loss(model(x_train), y_train).backward()
        opt.step()
    mse = lambda f, x, y: nn.functional.mse_loss(f(x), y).item()  # noqa: E731
    with torch.no_grad():
        return {
            "start": start,
            "line_train": mse(line, x_train, y_train),
            "block_train": mse(model, x_train, y_train),
            "line_test": mse(line, x_test, y_test),
            "block_test": mse(model, x_test, y_test),
        }


OVERFIT = overfit_experiment()
print(" | ".join(f"{k}: {v:.3f}" for k, v in OVERFIT.items()))


def test_extra_block_can_make_test_error_worse():
    """A residual block added at the identity to the least-squares line cuts the training MSE below 0.01 and raises the test MSE over 2.5-fold."""
    assert abs(OVERFIT["start"] - OVERFIT["line_train"]) < 1e-6  # it starts exactly at the line
    assert OVERFIT["block_train"] < 0.01 < OVERFIT["line_train"]
    assert OVERFIT["block_test"] > 2.5 * OVERFIT["line_test"]


# %% [markdown]
# ## Conclusion
#
# A residual block makes the identity easy (zero weights in the last layer) and adds an identity term to
# every Jacobian, so gradients reach early layers in deep stacks. The stack is a sum of branch outputs, each
# fitting what the blocks before it left over, trained jointly by backprop. None of this bounds the signal
# (normalization does) or guarantees a better model: an extra block can still overfit.

# %%
if __name__ == "__main__":
    from qed.claims import run_claims

    run_claims(globals())
