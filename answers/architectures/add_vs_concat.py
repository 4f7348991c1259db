# %% [markdown]
# # Addition vs concatenation: the proof
#
# **Question.** What is the difference between merging two feature maps by addition (ResNet) and by
# concatenation (Inception, DenseNet, U-Net)?
#
# Both are ways to merge two tensors; they differ in the shapes they need, in what the next layer sees and
# pays, and in how the gradient is routed. Claims:
#
# 1. a convolution applied to $a + b$ equals a convolution with the weight $[W, W]$ applied to the
#    concatenation $[a; b]$: addition is concatenation followed by a layer with tied weights
#    (`test_add_is_concat_with_tied_weights`);
# 2. addition loses information: different pairs give the same sum, while concatenation can be split back
#    exactly (`test_add_is_not_invertible_concat_is`);
# 3. after concatenation the next 3×3 convolution reads twice the channels, so its weights and MACs double
#    (`test_concat_doubles_the_next_layers_cost`);
# 4. the backward of an addition hands the same gradient to both inputs; the backward of a concatenation
#    hands each input its own slice (`test_gradient_routing`);
# 5. a DenseNet block, which concatenates every layer's output, grows by $k$ channels per layer and its
#    cost grows quadratically with depth, a residual stack's linearly (`test_dense_block_grows_linearly_in_width`);
# 6. a merge is a shortcut only when one of its inputs is the block's input itself: DenseNet's concatenation is,
#    Inception's concatenation of transformed branches is not
#    (`test_a_merge_is_a_shortcut_only_when_one_input_is_the_identity`).
#
# Where it stops holding:
#
# 7. "addition needs identical shapes" is not enforced: PyTorch broadcasts a (B, 1, H, W) map against
#    (B, C, H, W) without an error (`test_add_broadcasts_silently`).

# %% [markdown]
# ## Two merges
#
# `torch.add` needs the same shape (up to broadcasting) and keeps it; `torch.cat(dim=1)` needs the same batch
# size and spatial size and adds up the channel counts.

# %%
import matplotlib.pyplot as plt
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

torch.manual_seed(0)
a, b = torch.randn(2, 8, 6, 6), torch.randn(2, 8, 6, 6)  # (B, C, H, W)
print("add:", tuple((a + b).shape), " concat:", tuple(torch.cat([a, b], dim=1).shape))


def macs(model, shape):
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model(torch.empty(shape, device="meta"))
    return counter.get_total_flops() // 2


# %% [markdown]
# ## Width and cost with depth: residual vs dense
#
# A residual stack keeps $C$ channels; a DenseNet block feeds layer $l$ the concatenation of the input and
# all earlier outputs, $k_0 + l k$ channels, so layer $l$'s 3×3 convolution costs $(k_0 + l k) \cdot k \cdot 9$
# weights. The plot sums the MACs of $L$ layers at 16×16 with $k_0 = k = 32$.

# %%
class DenseBlock(nn.Module):
    def __init__(self, in_channels, growth, layers):
        super().__init__()
        self.convs = nn.ModuleList(
            nn.Conv2d(in_channels + i * growth, growth, kernel_size=3, padding=1) for i in range(layers)
        )

    def forward(self, x):
        for conv in self.convs:
            x = torch.cat([x, torch.relu(conv(x))], dim=1)  # (B, C + growth, H, W)
        return x


class ResidualStack(nn.Module):
    def __init__(self, channels, layers):
        super().__init__()
        self.convs = nn.ModuleList(nn.Conv2d(channels, channels, kernel_size=3, padding=1) for _ in range(layers))

    def forward(self, x):
        for conv in self.convs:
            x = x + torch.relu(conv(x))  # (B, C, H, W)
        return x


DEPTHS = list(range(1, 13))
with torch.device("meta"):
    dense_macs = [macs(DenseBlock(32, 32, L), (1, 32, 16, 16)) for L in DEPTHS]
    residual_macs = [macs(ResidualStack(32, L), (1, 32, 16, 16)) for L in DEPTHS]
fig, ax = plt.subplots(figsize=(5, 3))
ax.plot(DEPTHS, [m / 1e6 for m in dense_macs], "o-", label="dense (concat)")
ax.plot(DEPTHS, [m / 1e6 for m in residual_macs], "s-", label="residual (add)")
ax.set_xlabel("layers")
ax.set_ylabel("MACs (millions) at 16x16")
ax.legend()
fig.tight_layout()

# %% [markdown]
# ## Claims
#
# Each claim compares PyTorch's ops with an independent construction or a count by hand.

# %%
def test_add_is_concat_with_tied_weights():
    """conv(a + b) equals the convolution with weight [W, W] applied to cat([a, b]), in float64."""
    torch.manual_seed(0)
    x, y = torch.randn(2, 4, 7, 7, dtype=torch.float64), torch.randn(2, 4, 7, 7, dtype=torch.float64)
    conv = nn.Conv2d(4, 5, kernel_size=3, padding=1).double()
    tied = nn.Conv2d(8, 5, kernel_size=3, padding=1).double()
    with torch.no_grad():
        tied.weight.copy_(torch.cat([conv.weight, conv.weight], dim=1))  # (5, 8, 3, 3)
        tied.bias.copy_(conv.bias)
    torch.testing.assert_close(tied(torch.cat([x, y], dim=1)), conv(x + y))


def test_add_is_not_invertible_concat_is():
    """(a + d) + (b - d) equals a + b for any d, while cat([a, b]) splits back into a and b exactly."""
    torch.manual_seed(0)
    d = torch.randn_like(a)
    torch.testing.assert_close((a + d) + (b - d), a + b)
    assert not torch.allclose(a + d, a)
    first, second = torch.cat([a, b], dim=1).split(8, dim=1)
    assert torch.equal(first, a) and torch.equal(second, b)


def test_concat_doubles_the_next_layers_cost():
    """A 3x3 conv after concatenating two 64-channel maps has 73,792 parameters and twice the MACs of one after adding them."""
    after_add = nn.Conv2d(64, 64, 3, padding=1, device="meta")
    after_cat = nn.Conv2d(128, 64, 3, padding=1, device="meta")
    assert sum(p.numel() for p in after_cat.parameters()) == 128 * 64 * 9 + 64 == 73_792
    assert macs(after_cat, (1, 128, 14, 14)) == 2 * macs(after_add, (1, 64, 14, 14)) == 2 * 64 * 64 * 9 * 14 * 14


def test_gradient_routing():
    """Backward through a + b gives both inputs the upstream gradient; through cat each input receives its own slice of it."""
    torch.manual_seed(0)
    x, y = torch.randn(3, 4, requires_grad=True), torch.randn(3, 4, requires_grad=True)
    upstream = torch.randn(3, 4)
    (x + y).backward(upstream)
    assert torch.equal(x.grad, upstream) and torch.equal(y.grad, upstream)
    x.grad, y.grad = None, None
    upstream_cat = torch.randn(3, 8)
    torch.cat([x, y], dim=1).backward(upstream_cat)
    assert torch.equal(x.grad, upstream_cat[:, :4]) and torch.equal(y.grad, upstream_cat[:, 4:])


def test_dense_block_grows_linearly_in_width():
    """A dense block with k0 = k = 32 outputs 32 + 32 L channels and its MACs follow sum_l (32 + 32 l) 32 9 HW, quadratic in L; the residual stack's grow linearly."""
    with torch.device("meta"):
        out = DenseBlock(32, 32, 5)(torch.empty(1, 32, 16, 16))
    assert out.shape[1] == 32 + 32 * 5
    for L, actual in zip(DEPTHS, dense_macs):
        assert actual == sum((32 + 32 * l) * 32 * 9 * 256 for l in range(L))
    assert residual_macs == [L * 32 * 32 * 9 * 256 for L in DEPTHS]
    assert dense_macs[-1] / residual_macs[-1] == (1 + 12) / 2  # mean width (k0 + ... + 12k) / 12 over 32


def test_a_merge_is_a_shortcut_only_when_one_input_is_the_identity():
    """A dense layer's cat([x, f(x)]) contains x unchanged (Jacobian block I), while an Inception-style cat of two conv branches contains no copy of x."""
    torch.manual_seed(0)
    x = torch.randn(1, 4, 5, 5, dtype=torch.float64)
    f = nn.Conv2d(4, 4, 3, padding=1).double()
    g = nn.Conv2d(4, 4, 1).double()
    dense = lambda t: torch.cat([t, f(t)], dim=1)  # noqa: E731  (DenseNet: the input itself is concatenated)
    branches = lambda t: torch.cat([g(t), f(t)], dim=1)  # noqa: E731  (Inception: every branch transforms)
    eye = torch.eye(x.numel(), dtype=torch.float64)
    for merge, has_identity in ((dense, True), (branches, False)):
        jac = torch.autograd.functional.jacobian(merge, x).reshape(2 * x.numel(), x.numel())
        first, second = jac[: x.numel()], jac[x.numel():]
        assert (torch.equal(first, eye) or torch.equal(second, eye)) == has_identity


# %% [markdown]
# ## Where it stops holding: broadcasting
#
# "Addition needs the same shape" is the intent, but `+` follows broadcasting rules: a single-channel map
# is silently added to every channel. A forgotten projection or a squeezed dimension therefore does not
# necessarily raise.

# %%
def test_add_broadcasts_silently():
    """(2, 8, 6, 6) + (2, 1, 6, 6) runs and gives (2, 8, 6, 6), while cat of (2, 8, 6, 6) and (2, 8, 5, 5) raises."""
    mask = torch.randn(2, 1, 6, 6)
    out = a + mask
    assert out.shape == a.shape
    torch.testing.assert_close(out[:, 3], a[:, 3] + mask[:, 0])
    try:
        torch.cat([a, torch.randn(2, 8, 5, 5)], dim=1)
        raised = False
    except RuntimeError:
        raised = True
    assert raised


# %% [markdown]
# ## Conclusion
#
# Addition keeps the width and the next layer's cost, passes the gradient unchanged to both inputs, and
# forgets which input contributed what. Concatenation keeps both inputs intact, at the price of a wider map:
# the next layer's weights and MACs grow with it, quadratically over a DenseNet block. Since a layer after a
# concatenation can learn tied weights, it can always do what addition does.

# %%
if __name__ == "__main__":
    from qed.claims import run_claims

    run_claims(globals())
