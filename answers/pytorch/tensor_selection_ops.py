# %% [markdown]
# # `nn.Identity`, `torch.chunk`, `torch.masked_select`, `torch.gather`: the proof
#
# **Question.** What are `nn.Identity()`, `torch.chunk`, `torch.masked_select` and `torch.gather` used for?
#
# Four small tools, each with a typical use: `nn.Identity` removes a layer without changing the model's
# structure, `chunk` splits a tensor into pieces, `masked_select` picks the elements where a mask is true, and
# `gather` picks one element per row by index (the core of a classification loss). Each is checked against
# slicing, boolean indexing, a loop or PyTorch's loss functions. Claims:
#
# 1. replacing the classifier by `nn.Identity()` makes the model return its penultimate features
#    (`test_identity_head_returns_the_features`);
# 2. `torch.chunk` returns views equal to slices, and asks for a number of chunks it may not deliver: 6 elements
#    in 4 chunks give 3 (`test_chunk_returns_views_and_can_return_fewer_chunks`);
# 3. `torch.masked_select` returns a 1-D tensor of the selected elements in row-major order, and its gradient
#    reaches only those positions (`test_masked_select_is_one_dimensional_and_routes_gradient`);
# 4. `torch.gather` along the class dimension picks each sample's target log-probability, and its negative mean
#    is `F.cross_entropy` (`test_gather_of_target_log_probs_is_cross_entropy`);
# 5. where it stops holding: `masked_select`'s output size depends on the data; a multiplied mask computes the
#    same masked mean with static shapes (`test_masked_mean_needs_no_data_dependent_shape`).

# %% [markdown]
# ## A backbone with a replaceable head
#
# A pretrained classifier ends in `fc`; assigning `model.fc = nn.Identity()` keeps every other layer, every
# `state_dict` key of the backbone and the `forward` code, and turns the model into a feature extractor.

# %%
import torch
from torch import nn
from torch.nn import functional as F


class SmallNet(nn.Module):
    def __init__(self, num_classes=10):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.fc = nn.Linear(8, num_classes)

    def forward(self, x):  # (B, 3, H, W) -> (B, num_classes)
        return self.fc(self.features(x))


# %% [markdown]
# ## Claims

# %%
def test_identity_head_returns_the_features():
    """After model.fc = nn.Identity() the model returns model.features(x), the backbone's state_dict keys are unchanged, and Identity ignores its constructor arguments."""
    torch.manual_seed(0)
    model = SmallNet()
    x = torch.randn(2, 3, 8, 8)
    backbone_keys = [k for k in model.state_dict() if not k.startswith("fc.")]
    model.fc = nn.Identity()
    torch.testing.assert_close(model(x), model.features(x))
    assert list(model.state_dict()) == backbone_keys
    ignored = nn.Identity(54, unused_argument=0.1)
    assert torch.equal(ignored(x), x) and list(ignored.parameters()) == []


def test_chunk_returns_views_and_can_return_fewer_chunks():
    """torch.chunk(y, 3, dim=1) equals three slices of y sharing its storage, while torch.arange(6).chunk(4) returns 3 chunks of 2 and tensor_split returns 4."""
    y = torch.arange(24.0).reshape(2, 12)
    o1, o2, o3 = torch.chunk(y, 3, dim=1)
    for i, part in enumerate((o1, o2, o3)):
        assert torch.equal(part, y[:, 4 * i : 4 * i + 4])
        assert part.untyped_storage().data_ptr() == y.untyped_storage().data_ptr()
    chunks = torch.arange(6).chunk(4)  # chunk size ceil(6 / 4) = 2, so only 3 chunks
    assert [len(c) for c in chunks] == [2, 2, 2]
    assert [len(c) for c in torch.arange(6).tensor_split(4)] == [2, 2, 1, 1]


def test_masked_select_is_one_dimensional_and_routes_gradient():
    """torch.masked_select(data, mask) is the 1-D list of elements where the mask holds, in row-major order, and the gradient of its sum is the mask."""
    torch.manual_seed(0)
    data = torch.rand(3, 3).requires_grad_()
    mask = data > data.mean()
    selected = torch.masked_select(data, mask)
    expected = [data[i, j].item() for i in range(3) for j in range(3) if mask[i, j]]  # loop, row-major
    assert selected.dim() == 1 and selected.tolist() == expected
    assert torch.equal(selected, data[mask])
    selected.sum().backward()
    assert torch.equal(data.grad, mask.float())


def test_gather_of_target_log_probs_is_cross_entropy():
    """`log_softmax(logits).gather(1, target[:, None])` equals the loop `out[i] = logp[i, target[i]]`, and minus its mean equals `F.cross_entropy`."""
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(5, 4, generator=g, dtype=torch.float64)
    target = torch.tensor([3, 0, 1, 3, 2])
    log_probs = logits.log_softmax(dim=1)  # (B, C)
    picked = log_probs.gather(1, target[:, None]).squeeze(1)  # (B,)
    assert torch.equal(picked, torch.stack([log_probs[i, target[i]] for i in range(5)]))
    torch.testing.assert_close(-picked.mean(), F.cross_entropy(logits, target), rtol=1e-12, atol=1e-12)


# %% [markdown]
# ## Where it stops holding: data-dependent shapes
#
# The length of `masked_select`'s output depends on the values of the mask, which the framework knows only after
# computing it. On a GPU that means a device-to-host synchronization to size the output, and in a compiled graph
# a dynamic shape. "Compute the loss only where a condition holds" does not need it: multiply by the mask and
# divide by its sum. The shapes are then fixed and the result is the same.

# %%
def test_masked_mean_needs_no_data_dependent_shape():
    """The mean loss over masked positions via masked_select equals (loss · mask).sum() / mask.sum(), and so do the gradients."""
    g = torch.Generator().manual_seed(1)
    prediction = torch.randn(4, 6, generator=g, dtype=torch.float64, requires_grad=True)
    target = torch.randn(4, 6, generator=g, dtype=torch.float64)
    valid = torch.rand(4, 6, generator=g) > 0.3  # e.g. pixels that are not "ignore"
    loss = (prediction - target).square()
    selected_mean = torch.masked_select(loss, valid).mean()
    weighted_mean = (loss * valid).sum() / valid.sum()
    torch.testing.assert_close(selected_mean, weighted_mean, rtol=1e-12, atol=1e-12)
    (grad_selected,) = torch.autograd.grad(selected_mean, prediction, retain_graph=True)
    (grad_weighted,) = torch.autograd.grad(weighted_mean, prediction)
    torch.testing.assert_close(grad_selected, grad_weighted, rtol=1e-12, atol=1e-12)


# %% [markdown]
# ## Conclusion
#
# `nn.Identity` is a placeholder module that returns its input, used to delete a head or a block without
# touching `forward`. `chunk` splits into views of size $\lceil n/k \rceil$ (so possibly fewer than $k$ pieces;
# `tensor_split` gives exactly $k$). `masked_select` flattens the selected elements into 1-D. `gather` indexes
# one dimension with a tensor of indices, $\text{out}[i][j] = \text{input}[i][\text{index}[i][j]]$ for `dim=1`,
# and is how a loss picks the target class's log-probability.

# %%
if __name__ == "__main__":
    from qed.claims import run_claims

    run_claims(globals())
