# %% [markdown]
# # Self-attention vs convolution vs recurrence: the proof
#
# **Question.** What do a self-attention layer, a 1-D convolution and a recurrent layer cost on a sequence of
# length $n$ with width $d$, and what does each buy?
#
# Table 1 of Vaswani et al. (2017, "Attention Is All You Need") gives the complexity per layer, the number
# of sequential operations and the longest path between two positions. This module measures all three on
# PyTorch layers. Claims:
#
# 1. self-attention costs $4nd^2 + 2n^2d$ multiply-accumulates (projections plus scores and weighted sum),
#    counted by `FlopCounterMode` (`test_attention_macs_match_the_formula`);
# 2. a convolution with kernel $k$ costs $k n d^2$, `nn.RNN` $2nd^2$ and `nn.GRU` $6nd^2$, linear in $n$
#    (`test_conv_and_rnn_macs_match_the_formula`);
# 3. with its projections attention costs more than a $k=3$ convolution at every length, and its $n^2 d$
#    term overtakes the projections when $n > 2d$ (`test_attention_overtakes_conv_beyond_n_2d`);
# 4. after one layer, the last output depends on all $n$ inputs for attention and an RNN, on $k$ for a
#    convolution, measured with autograd (`test_one_layer_reach`);
# 5. an RNN's $n$ steps are sequential: its outputs are produced by a loop of $n$ dependent matmuls, where
#    attention's are one batched product (`test_rnn_needs_n_sequential_steps`).
#
# Where it stops holding:
#
# 6. `FlopCounterMode` reports **zero** FLOPs for PyTorch's fused `scaled_dot_product_attention` on the CPU,
#    so a profile of a real Transformer can miss the $n^2$ term entirely (`test_flop_counter_misses_fused_cpu_attention`).

# %% [markdown]
# ## Three sequence layers
#
# Inputs are $(B, n, d)$. The attention layer is written with explicit matmuls (one head; heads split $d$
# and do not change the count).

# %%
import matplotlib.pyplot as plt
import torch
from torch import nn
from torch.nn import functional as F
from torch.utils.flop_counter import FlopCounterMode


class SelfAttention(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.qkv, self.out = nn.Linear(d, 3 * d), nn.Linear(d, d)

    def forward(self, x):  # (B, n, d)
        q, k, v = self.qkv(x).chunk(3, dim=-1)
        weights = torch.softmax(q @ k.transpose(1, 2) / q.shape[-1] ** 0.5, dim=-1)  # (B, n, n)
        return self.out(weights @ v)


class Conv1d(nn.Module):
    def __init__(self, d, k=3):
        super().__init__()
        self.conv = nn.Conv1d(d, d, k, padding=k // 2)

    def forward(self, x):  # (B, n, d) -> (B, n, d)
        return self.conv(x.transpose(1, 2)).transpose(1, 2)


class RNN(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.rnn = nn.RNN(d, d, batch_first=True)

    def forward(self, x):
        return self.rnn(x)[0]


def macs(layer, n, d):
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        layer(torch.zeros(1, n, d))
    return counter.get_total_flops() // 2


D = 64
LENGTHS = [16, 32, 64, 128, 256, 512]
torch.manual_seed(0)
LAYERS = {"self-attention": SelfAttention(D), "conv k=3": Conv1d(D), "RNN": RNN(D)}
MEASURED = {name: [macs(layer, n, D) for n in LENGTHS] for name, layer in LAYERS.items()}

fig, ax = plt.subplots(figsize=(5, 3.2))
for name, values in MEASURED.items():
    ax.loglog(LENGTHS, values, "o-", label=name)
ax.axvline(2 * D, color="grey", linestyle=":", label="n = 2d")
ax.set_xticks(LENGTHS, [str(n) for n in LENGTHS])
ax.minorticks_off()
ax.set_xlabel("sequence length n (d = 64)")
ax.set_ylabel("MACs per layer")
ax.legend()
fig.tight_layout()

# %% [markdown]
# ## Claims: cost per layer
#
# `FlopCounterMode` against the closed forms.

# %%
def test_attention_macs_match_the_formula():
    """Self-attention with width 64 costs 4 n d^2 + 2 n^2 d MACs at every measured length."""
    for n, actual in zip(LENGTHS, MEASURED["self-attention"]):
        assert actual == 4 * n * D**2 + 2 * n**2 * D


def test_conv_and_rnn_macs_match_the_formula():
    """A k=3 Conv1d costs 3 n d^2 MACs, nn.RNN 2 n d^2 (input and hidden matmuls) and nn.GRU 6 n d^2 (three gates): all linear in n."""
    for n, conv, rnn in zip(LENGTHS, MEASURED["conv k=3"], MEASURED["RNN"]):
        assert conv == 3 * n * D**2
        assert rnn == 2 * n * D**2
    torch.manual_seed(0)
    gru = nn.GRU(D, D, batch_first=True)
    for n in (32, 128):
        assert macs(lambda x: gru(x)[0], n, D) == 6 * n * D**2
    # so attention, 4 n d^2 + 2 n^2 d, does fewer MACs than a GRU of the same width exactly when n < d
    assert [n for n in LENGTHS if 4 * n * D**2 + 2 * n**2 * D < 6 * n * D**2] == [n for n in LENGTHS if n < D]


def test_attention_overtakes_conv_beyond_n_2d():
    """At d = 64 attention (with its 4 n d^2 of projections) costs more than a k=3 convolution at every length, and its n^2 d term passes the projections beyond n = 2d = 128."""
    cheaper = [n for n, a, c in zip(LENGTHS, MEASURED["self-attention"], MEASURED["conv k=3"]) if a < c]
    assert cheaper == []  # 4 n d^2 alone exceeds 3 n d^2: with projections, attention is never cheaper
    quadratic_dominates = [n for n in LENGTHS if 2 * n**2 * D > 4 * n * D**2]
    assert quadratic_dominates == [n for n in LENGTHS if n > 2 * D] == [256, 512]
    ratios = [a / c for a, c in zip(MEASURED["self-attention"], MEASURED["conv k=3"])]
    assert ratios == sorted(ratios) and ratios[-1] > 6  # the gap grows linearly with n


# %% [markdown]
# ## Claims: reach and sequential steps
#
# Which inputs does the last output depend on after one layer? Autograd answers: the gradient of the last
# output with respect to each input position is non-zero exactly where the dependence is.

# %%
def reach(layer, n=12):
    torch.manual_seed(0)
    x = torch.randn(1, n, D, requires_grad=True)
    layer(x)[0, -1].sum().backward()
    return int((x.grad[0].abs().sum(dim=-1) > 0).sum())


def test_one_layer_reach():
    """After one layer the last of 12 outputs depends on all 12 inputs for attention and the RNN, on 2 for a centred k=3 convolution (1 past + itself)."""
    assert reach(LAYERS["self-attention"]) == 12
    assert reach(LAYERS["RNN"]) == 12
    assert reach(LAYERS["conv k=3"]) == 2  # the right neighbour is padding at the last position


def test_rnn_needs_n_sequential_steps():
    """An explicit loop of n dependent tanh(W x_t + U h_{t-1}) steps reproduces nn.RNN; attention's n outputs come from one (n, n) product."""
    torch.manual_seed(0)
    rnn = LAYERS["RNN"].rnn
    x = torch.randn(1, 10, D)
    h, outputs = torch.zeros(1, D), []
    for t in range(10):  # each step needs the previous one: O(n) sequential operations
        h = torch.tanh(x[:, t] @ rnn.weight_ih_l0.T + rnn.bias_ih_l0 + h @ rnn.weight_hh_l0.T + rnn.bias_hh_l0)
        outputs.append(h)
    torch.testing.assert_close(torch.stack(outputs, dim=1), rnn(x)[0])
    attention = LAYERS["self-attention"]
    q, k, v = attention.qkv(x).chunk(3, dim=-1)
    expected = attention.out(torch.softmax(q @ k.transpose(1, 2) / D**0.5, dim=-1) @ v)  # O(1) sequential
    torch.testing.assert_close(attention(x), expected)


# %% [markdown]
# ## Where it stops holding: the profiler misses fused attention
#
# PyTorch's `F.scaled_dot_product_attention` dispatches on the CPU to a fused kernel that `FlopCounterMode`
# has no formula for. The same computation written with matmuls is counted.

# %%
def test_flop_counter_misses_fused_cpu_attention():
    """FlopCounterMode counts 4 n^2 d FLOPs for attention written with matmuls and 0 for F.scaled_dot_product_attention on the CPU, which gives the same output."""
    torch.manual_seed(0)
    q, k, v = (torch.randn(1, 1, 32, 16) for _ in range(3))
    with FlopCounterMode(display=False) as fused:
        actual = F.scaled_dot_product_attention(q, k, v)
    with FlopCounterMode(display=False) as explicit:
        expected = torch.softmax(q @ k.transpose(-1, -2) / 16**0.5, dim=-1) @ v
    torch.testing.assert_close(actual, expected)
    assert explicit.get_total_flops() == 2 * 2 * 32 * 32 * 16
    assert fused.get_total_flops() == 0


# %% [markdown]
# ## Conclusion
#
# Per layer, self-attention costs $O(n^2 d + n d^2)$, a convolution $O(k n d^2)$ and an RNN $O(n d^2)$. With
# its projections attention is never cheaper than a small convolution, and beyond $n = 2d$ its quadratic term
# dominates. What it buys is reach: every output sees every input after one layer, in one parallel product,
# where a convolution needs $\lceil (n-1)/(k-1) \rceil$ layers and an RNN $n$ sequential steps.

# %%
if __name__ == "__main__":
    from qed.claims import run_claims

    run_claims(globals())
