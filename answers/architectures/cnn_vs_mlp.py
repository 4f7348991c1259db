# %% [markdown]
# # Convolutional vs fully connected layers: the proof
#
# **Question.** How does a convolutional layer differ from a fully connected one, and why do CNNs beat MLPs
# on images?
#
# A convolution is a fully connected layer with most weights forced to zero (locality) and the rest forced
# equal (weight sharing). This module writes both layers as matrices, checks the usual statements against
# PyTorch's ops, and trains both on a toy task where a pattern appears at positions never seen in training.
# Claims:
#
# 1. a Linear layer on a flattened $C\times H\times W$ map is a convolution whose kernel covers the whole map
#    (`test_linear_is_a_full_size_convolution`);
# 2. a 3×3 convolution on an 8×8 map is a Linear layer whose 4096-entry matrix has 88% zeros and only 9
#    distinct values: 9 parameters instead of 4096 (`test_convolution_is_a_sparse_shared_linear_layer`);
# 3. a convolution commutes with shifts of its input (translation equivariance); a Linear layer does not
#    (`test_convolution_commutes_with_shifts`);
# 4. flattening loses no information: an MLP trained on pixels in a fixed random order is the same MLP with
#    its first weight's columns permuted (`test_mlp_is_blind_to_pixel_order`);
# 5. trained on patterns in the left part of an image, a small CNN with global max pooling classifies them
#    in the right part; an MLP with more parameters is at chance there
#    (`test_cnn_generalises_to_unseen_positions`).
#
# Where it stops holding:
#
# 6. when the label *is* the position, the same CNN is at chance and the MLP learns it
#    (`test_cnn_cannot_tell_where_the_pattern_is`).

# %% [markdown]
# ## The two layers as matrices
#
# Any linear layer that maps a map of $n$ inputs to $m$ outputs is an $m\times n$ matrix; for a convolution
# we recover it by applying the layer to each basis image (the Jacobian).

# %%
import matplotlib.pyplot as plt
import torch
from torch import nn
from torch.nn import functional as F


def as_matrix(layer, in_shape):
    """The (outputs, inputs) matrix of a linear layer, column j = layer(basis image j)."""
    n = torch.Size(in_shape).numel()
    basis = torch.eye(n).reshape(n, *in_shape)
    with torch.no_grad():
        return layer(basis).reshape(n, -1).T


torch.manual_seed(0)
CONV = nn.Conv2d(1, 1, kernel_size=3, padding=1, bias=False)
CONV_MATRIX = as_matrix(CONV, (1, 8, 8))  # (64, 64)

fig, ax = plt.subplots(figsize=(3.5, 3.5))
ax.imshow(CONV_MATRIX.numpy(), cmap="coolwarm")
ax.set_title("3x3 conv on 8x8 as a 64x64 matrix")
ax.set_xlabel("input pixel")
ax.set_ylabel("output pixel")
fig.tight_layout()

# %% [markdown]
# ## Claims: what a convolution is
#
# PyTorch's `F.linear` and `F.conv2d` against each other, and against the explicit matrix.

# %%
def test_linear_is_a_full_size_convolution():
    """Linear(C*H*W -> m) on the flattened map equals Conv2d with an H x W kernel and no padding, weights reshaped."""
    torch.manual_seed(0)
    x = torch.randn(4, 3, 5, 5, dtype=torch.float64)
    linear = nn.Linear(3 * 5 * 5, 7).double()
    actual = F.conv2d(x, linear.weight.reshape(7, 3, 5, 5), linear.bias)  # (4, 7, 1, 1)
    torch.testing.assert_close(actual.flatten(1), linear(x.flatten(1)))


def test_convolution_is_a_sparse_shared_linear_layer():
    """The 64x64 matrix of a 3x3 conv on 8x8 has 3,612 zeros (88%) and its 484 non-zeros take only the 9 kernel values."""
    torch.manual_seed(0)
    x = torch.randn(2, 1, 8, 8)
    torch.testing.assert_close(CONV(x).flatten(1), x.flatten(1) @ CONV_MATRIX.T)
    nonzero = CONV_MATRIX[CONV_MATRIX != 0]
    # by hand: interior pixels see 9 inputs, edges 6, corners 4: 36*9 + 24*6 + 4*4 = 484 non-zeros
    assert nonzero.numel() == 36 * 9 + 24 * 6 + 4 * 4 == 484
    assert CONV_MATRIX.numel() - nonzero.numel() == 3612  # 88% of 4096
    assert set(nonzero.tolist()) == set(CONV.weight.flatten().tolist())


def shift(x, dx):
    return torch.roll(x, shifts=dx, dims=-1)


def test_convolution_commutes_with_shifts():
    """With circular padding, conv(shift(x)) equals shift(conv(x)); with zero padding only away from the border; a random Linear layer breaks it."""
    torch.manual_seed(0)
    conv = nn.Conv2d(2, 3, kernel_size=3, padding=1, padding_mode="circular")
    x = torch.randn(1, 2, 8, 8)
    torch.testing.assert_close(conv(shift(x, 3)), shift(conv(x), 3))
    zero_padded = nn.Conv2d(2, 3, kernel_size=3, padding=1)  # the default: zeros at the border
    zero_padded.load_state_dict(conv.state_dict())
    diff = (zero_padded(shift(x, 3)) - shift(zero_padded(x), 3)).abs().amax(dim=(0, 1, 2))  # per column
    # wrong at the image border (columns 0, 7) and where the rolled-in columns meet (2, 3), exact elsewhere
    assert diff[[0, 2, 3, 7]].min() > 1e-3 and diff[[1, 4, 5, 6]].max() < 1e-6
    linear = nn.Linear(2 * 64, 2 * 64)
    as_map = lambda t: linear(t.flatten(1)).reshape(1, 2, 8, 8)  # noqa: E731
    assert not torch.allclose(as_map(shift(x, 3)), shift(as_map(x), 3), atol=1e-2)


def test_mlp_is_blind_to_pixel_order():
    """An MLP on pixels in a fixed random order, with its first weight's columns permuted the same way, gives identical outputs."""
    torch.manual_seed(0)
    mlp = nn.Sequential(nn.Linear(144, 32), nn.ReLU(), nn.Linear(32, 2))
    perm = torch.randperm(144)
    shuffled = nn.Sequential(nn.Linear(144, 32), nn.ReLU(), nn.Linear(32, 2))
    shuffled.load_state_dict(mlp.state_dict())
    with torch.no_grad():
        shuffled[0].weight.copy_(mlp[0].weight[:, perm])
    x = torch.randn(10, 144)
    torch.testing.assert_close(shuffled(x[:, perm]), mlp(x))


# %% [markdown]
# ## A toy task: the same pattern at new positions
#
# 12×12 noisy images contain one of two fixed 3×3 patterns. Training images have the pattern in columns
# 0–4, test images in columns 5–9. A CNN (8 filters of 3×3 with circular padding, global max pool, 98
# parameters) and an MLP
# (144→64→2, 9,410 parameters) are trained for 100 full-batch Adam steps.

# %%
def make_images(n, columns, generator, label_by="pattern"):
    patterns = torch.randn(2, 3, 3, generator=torch.Generator().manual_seed(1)).sign()
    images = 0.2 * torch.randn(n, 1, 12, 12, generator=generator)
    which = torch.randint(0, 2, (n,), generator=generator)
    cols = torch.randint(columns[0], columns[1] + 1, (n,), generator=generator)
    rows = torch.randint(0, 10, (n,), generator=generator)
    for i in range(n):
        pattern = patterns[which[i]] if label_by == "pattern" else patterns[0]
        images[i, 0, rows[i] : rows[i] + 3, cols[i] : cols[i] + 3] += pattern
    labels = which if label_by == "pattern" else (cols >= 5).long()
    return images, labels


def cnn():
    conv = nn.Conv2d(1, 8, 3, padding=1, padding_mode="circular")  # no border for position to leak through
    return nn.Sequential(conv, nn.ReLU(), nn.AdaptiveMaxPool2d(1), nn.Flatten(), nn.Linear(8, 2))


def mlp():
    return nn.Sequential(nn.Flatten(), nn.Linear(144, 64), nn.ReLU(), nn.Linear(64, 2))


def train_and_test(make_model, train, test, steps=100):
    torch.manual_seed(0)
    model = make_model()
    opt = torch.optim.Adam(model.parameters(), lr=2e-2)
    for _ in range(steps):
        opt.zero_grad()
        F.cross_entropy(model(train[0]), train[1]).backward()
        opt.step()
    with torch.no_grad():
        accuracy = lambda data: (model(data[0]).argmax(1) == data[1]).float().mean().item()  # noqa: E731
        return accuracy(train), accuracy(test)


g = torch.Generator().manual_seed(0)
SHIFTED = {"train": make_images(200, (0, 4), g), "test": make_images(400, (5, 9), g)}
RESULTS = {name: train_and_test(model, SHIFTED["train"], SHIFTED["test"]) for name, model in (("cnn", cnn), ("mlp", mlp))}
g = torch.Generator().manual_seed(1)
WHERE = {"train": make_images(200, (0, 9), g, "position"), "test": make_images(400, (0, 9), g, "position")}
WHERE_RESULTS = {name: train_and_test(model, WHERE["train"], WHERE["test"]) for name, model in (("cnn", cnn), ("mlp", mlp))}
print(f"{'task':<28}{'model':<7}{'train acc':>9}  {'test acc':>8}")
for task, results in (("which pattern, new columns", RESULTS), ("left or right half", WHERE_RESULTS)):
    for name, (train_acc, test_acc) in results.items():
        print(f"{task:<28}{name:<7}{train_acc:>9.2f}  {test_acc:>8.2f}")


# %% [markdown]
# ## Claims: generalisation
#
# Accuracies are measured on 400 fresh images; chance is 0.5.

# %%
def test_cnn_generalises_to_unseen_positions():
    """Both models fit the training images, but at new columns the CNN (98 parameters) scores over 0.9 and the MLP (9,410) stays near chance, under 0.6."""
    assert sum(p.numel() for p in cnn().parameters()) == 98
    assert sum(p.numel() for p in mlp().parameters()) == 9410
    assert RESULTS["cnn"][0] > 0.95 and RESULTS["mlp"][0] > 0.95
    assert RESULTS["cnn"][1] > 0.9
    assert RESULTS["mlp"][1] < 0.6


# %% [markdown]
# ## Where it stops holding: when position is the label
#
# Global max pooling throws away where a feature was found. If the label is "left half or right half", the
# CNN's prior is wrong and the MLP's lack of one is an advantage. (CoordConv and position embeddings exist
# for this reason.)

# %%
def test_cnn_cannot_tell_where_the_pattern_is():
    """When the label is the pattern's half of the image, the pooled CNN stays near chance on test images (under 0.6) and the MLP exceeds 0.85."""
    assert WHERE_RESULTS["cnn"][1] < 0.6
    assert WHERE_RESULTS["mlp"][1] > 0.85


# %% [markdown]
# ## Conclusion
#
# A convolution is a fully connected layer with a sparse, weight-shared matrix; a fully connected layer is a
# convolution with a kernel as large as its input. The constraint costs nothing when the statistics of an
# image do not depend on position, and it buys translation equivariance and far fewer parameters, which is
# why a 98-parameter CNN recognises a pattern where a 9,410-parameter MLP has never seen it. When position
# matters, the same prior hurts.

# %%
if __name__ == "__main__":
    from qed.claims import run_claims

    run_claims(globals())
