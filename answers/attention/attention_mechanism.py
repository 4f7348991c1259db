# %% [markdown]
# # What attention computes, and why adding it can hurt: the proof
#
# **Question.** What does an attention mechanism do, what follows from its weights summing to one, and why
# can adding an attention module make a network worse?
#
# Scaled dot-product attention returns, for each query, a weighted average of the values, with weights
# $\mathrm{softmax}(q K^\top/\sqrt{d})$. This module checks that definition against PyTorch and measures its
# consequences. Claims:
#
# 1. the formula written out equals `F.scaled_dot_product_attention` (`test_attention_matches_pytorch`);
# 2. the weights are strictly positive and sum to one, so every value is read and each output lies inside
#    the range of the values (`test_weights_are_a_distribution_over_all_inputs`);
# 3. with equal scores attention is the mean of the values: it cannot output "nothing"
#    (`test_equal_scores_give_the_mean`);
# 4. self-attention keeps the input's shape $(n, d)$: it re-weights, it does not reduce the dimension
#    (`test_self_attention_keeps_the_shape`);
# 5. without position information self-attention is permutation equivariant: it does not see order
#    (`test_self_attention_ignores_order`).
#
# Why adding attention can hurt:
#
# 6. one relevant token with score margin $s$ among $n$ gets weight $e^s/(e^s + n - 1)$: 0.88 among 2,
#    0.07 among 100 (`test_weights_dilute_with_length`);
# 7. without the $1/\sqrt{d}$ scaling, dot products of width 512 saturate the softmax and its gradient
#    shrinks over 20-fold (`test_unscaled_scores_saturate_the_softmax`);
# 8. a squeeze-and-excitation gate inserted into a trained network multiplies its features by about 0.5 at
#    init and raises the loss over 5-fold; a residual attention block with a zero output projection changes
#    nothing (`test_inserting_attention_perturbs_a_trained_network`).

# %% [markdown]
# ## Scaled dot-product attention
#
# Queries $Q$ $(n_q, d)$, keys $K$ $(n, d)$, values $V$ $(n, d_v)$:
# $\mathrm{Attention}(Q, K, V) = \mathrm{softmax}(QK^\top/\sqrt{d})\,V$, the softmax taken over the $n$ keys.

# %%
import math

import matplotlib.pyplot as plt
import torch
from torch import nn
from torch.nn import functional as F


def attention(q, k, v):
    weights = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1]), dim=-1)  # (..., n_q, n)
    return weights @ v, weights


# %% [markdown]
# ## Dilution: one relevant token among many
#
# Give one key a score $s = 2$ above all others and grow the number of keys. The measured weight follows
# $e^s/(e^s + n - 1)$.

# %%
LENGTHS = [2, 5, 10, 20, 50, 100, 200]
MARGIN = 2.0


def weight_on_relevant(n, margin=MARGIN):
    scores = torch.zeros(n)
    scores[0] = margin
    return torch.softmax(scores, dim=0)[0].item()


measured = [weight_on_relevant(n) for n in LENGTHS]
fig, ax = plt.subplots(figsize=(5, 3))
ax.semilogx(LENGTHS, measured, "o", label="softmax, measured")
ax.semilogx(LENGTHS, [math.exp(MARGIN) / (math.exp(MARGIN) + n - 1) for n in LENGTHS], "-", label="e^s / (e^s + n - 1)")
ax.set_xlabel("number of keys n")
ax.set_ylabel("weight on the relevant key (s = 2)")
ax.legend()
fig.tight_layout()

# %% [markdown]
# ## Claims: what attention is
#
# PyTorch's fused op and closed forms against the formula.

# %%
def test_attention_matches_pytorch():
    """softmax(Q K^T / sqrt(d)) V written out equals F.scaled_dot_product_attention, with several heads."""
    torch.manual_seed(0)
    q, k, v = torch.randn(2, 4, 5, 8), torch.randn(2, 4, 7, 8), torch.randn(2, 4, 7, 3)  # (B, heads, n, d)
    torch.testing.assert_close(attention(q, k, v)[0], F.scaled_dot_product_attention(q, k, v))


def test_weights_are_a_distribution_over_all_inputs():
    """All attention weights are positive and each row sums to 1, so every output coordinate lies between the values' minimum and maximum."""
    torch.manual_seed(0)
    q, k, v = torch.randn(6, 8), torch.randn(10, 8), torch.randn(10, 4)
    out, weights = attention(q, k, v)
    assert (weights > 0).all()
    torch.testing.assert_close(weights.sum(dim=-1), torch.ones(6))
    assert (out <= v.max(dim=0).values).all() and (out >= v.min(dim=0).values).all()


def test_equal_scores_give_the_mean():
    """A zero query scores every key equally, and attention returns the mean of the values, never zero."""
    torch.manual_seed(0)
    k, v = torch.randn(9, 8), torch.randn(9, 4) + 3.0
    out, _ = attention(torch.zeros(1, 8), k, v)
    torch.testing.assert_close(out[0], v.mean(dim=0))


def test_self_attention_keeps_the_shape():
    """nn.MultiheadAttention as self-attention maps (B, n, d) to (B, n, d) and has 4 d^2 + 4 d parameters."""
    torch.manual_seed(0)
    mha = nn.MultiheadAttention(embed_dim=16, num_heads=4, batch_first=True)
    x = torch.randn(2, 11, 16)
    out, weights = mha(x, x, x)
    assert out.shape == x.shape and weights.shape == (2, 11, 11)
    assert sum(p.numel() for p in mha.parameters()) == 4 * 16 * 16 + 4 * 16


def test_self_attention_ignores_order():
    """Permuting the input tokens of self-attention permutes its outputs the same way: without positions, order is invisible."""
    torch.manual_seed(0)
    mha = nn.MultiheadAttention(embed_dim=16, num_heads=4, batch_first=True)
    x, perm = torch.randn(1, 11, 16), torch.randperm(11)
    out = mha(x, x, x)[0]
    shuffled = mha(x[:, perm], x[:, perm], x[:, perm])[0]
    torch.testing.assert_close(shuffled, out[:, perm])


# %% [markdown]
# ## Claims: why adding attention can hurt
#
# Three mechanisms, each measured: dilution over long inputs, saturation without scaling, and the
# perturbation of a trained network when a module is inserted with a non-identity init.

# %%
def test_weights_dilute_with_length():
    """The softmax weight of one key with margin 2 is e^2/(e^2 + n - 1): 0.88 with 2 keys, 0.07 with 100."""
    for n, actual in zip(LENGTHS, measured):
        assert math.isclose(actual, math.exp(MARGIN) / (math.exp(MARGIN) + n - 1), rel_tol=1e-6)
    assert round(measured[0], 2) == 0.88 and round(measured[LENGTHS.index(100)], 2) == 0.07


def test_unscaled_scores_saturate_the_softmax():
    """With d = 512 random queries and keys, unscaled scores put over 0.9 of the weight on one key on average and shrink the median per-query softmax gradient over 20-fold versus scores scaled by 1/sqrt(d)."""
    torch.manual_seed(0)
    q, k = torch.randn(64, 512), torch.randn(32, 512)  # score std: sqrt(512) = 22.6 unscaled, 1 scaled
    results = {}
    for name, scale in (("scaled", 512**-0.5), ("unscaled", 1.0)):
        scores = (q @ k.T * scale).requires_grad_()
        weights = torch.softmax(scores, dim=-1)
        (weights * torch.randn(64, 32, generator=torch.Generator().manual_seed(1))).sum().backward()
        results[name] = (weights.max(dim=-1).values.mean().item(), scores.grad.norm(dim=1).median().item())
    assert results["unscaled"][0] > 0.9 and results["scaled"][0] < 0.5
    assert results["unscaled"][1] < results["scaled"][1] / 20


class SEGate(nn.Module):
    """Squeeze-and-excitation: x * sigmoid(W2 relu(W1 mean(x)))."""

    def __init__(self, channels, reduction=4):
        super().__init__()
        self.fc = nn.Sequential(nn.Linear(channels, channels // reduction), nn.ReLU(), nn.Linear(channels // reduction, channels))

    def forward(self, x):  # (B, C)
        return x * torch.sigmoid(self.fc(x))


def test_inserting_attention_perturbs_a_trained_network():
    """Inserted into a trained classifier, a zero-initialised residual attention block leaves every logit unchanged, while an SE gate at default init scales the features by ~0.5 and raises the loss over 5-fold."""
    torch.manual_seed(0)
    x = torch.randn(512, 16)
    y = (x[:, :8].sum(1) > x[:, 8:].sum(1)).long()
    body, head = nn.Sequential(nn.Linear(16, 32), nn.ReLU()), nn.Linear(32, 2)
    opt = torch.optim.Adam([*body.parameters(), *head.parameters()], lr=1e-2)
    for _ in range(200):
        opt.zero_grad()
        F.cross_entropy(head(body(x)), y).backward()
        opt.step()
    with torch.no_grad():
        features = body(x)
        before = head(features)
        gate = SEGate(32)
        scale = torch.sigmoid(gate.fc(features))
        assert 0.4 < scale.mean().item() < 0.6
        loss_before = F.cross_entropy(head(features), y)
        loss_se = F.cross_entropy(head(gate(features)), y)
        mha = nn.MultiheadAttention(32, 4, batch_first=True)
        nn.init.zeros_(mha.out_proj.weight)
        nn.init.zeros_(mha.out_proj.bias)
        tokens = features.unsqueeze(1)  # (B, 1, 32)
        after_residual = head((tokens + mha(tokens, tokens, tokens)[0]).squeeze(1))
    assert (before.argmax(1) == y).float().mean() > 0.95
    assert torch.equal(after_residual, before)
    assert loss_se > 5 * loss_before


# %% [markdown]
# ## Conclusion
#
# Attention is a learned, input-dependent weighted average: every input is read, the weights sum to one,
# the shape is kept and, without positions, order is ignored. It adds computation rather than removing it.
# The same properties explain failures: weights dilute over long inputs, unscaled scores saturate, and a
# module inserted into a trained network without an identity init changes what the next layers see.

# %%
if __name__ == "__main__":
    from qed.claims import run_claims

    run_claims(globals())
