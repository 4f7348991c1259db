# %% [markdown]
# # Data augmentation: the proof
#
# **Question.** What data augmentation methods do you know, and why and when do they work?
#
# Augmentation trains on transformed copies of the data whose label is known without asking anyone: a flipped
# cat is still a cat. It adds invariances the model would otherwise have to learn from data, and acts as a
# regularizer. This module implements the common transforms in plain torch and measures what they do. Claims:
#
# 1. Gaussian noise on the inputs of a linear regression is, averaged over copies, ridge regression with
#    $\lambda = n\sigma^2$ (`test_input_noise_is_ridge_in_expectation`);
# 2. the mixup loss on a mixed image equals the same mix of the two cross-entropies, so mixing labels is
#    mixing losses (`test_mixup_loss_is_the_mix_of_the_two_losses`);
# 3. flipping a detection image moves its boxes: $x' = W - x$, checked against flipping a rendered box mask
#    (`test_flipping_an_image_requires_flipping_its_boxes`);
# 4. averaging a model over an image and its flip (test-time augmentation) makes it exactly flip-invariant,
#    which the model alone is not (`test_flip_averaging_is_exactly_invariant`);
# 5. where it stops holding: a transform that changes the label (vertical flips for "is the blob at the
#    top?") destroys the task, while a label-preserving one does not (`test_a_label_changing_transform_destroys_the_task`).

# %% [markdown]
# ## A gallery of transforms
#
# Every transform is a few tensor operations on a `(C, H, W)` image: flips and 90° rotations are index
# permutations, a random crop is a padded slice, blur is a convolution, colour jitter scales channels, cutout
# zeroes a square, and mixup blends two images (and their labels).

# %%
import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F

DTYPE = torch.float64


def synthetic_image(size=32):
    yy, xx = torch.meshgrid(torch.arange(size), torch.arange(size), indexing="ij")
    img = torch.zeros(3, size, size)
    img[0] = ((xx // 4 + yy // 4) % 2).float() * 0.3  # a checkerboard in red
    img[1, 6:14, 4:24] = 1.0  # a green bar at the top left
    img[2] = ((xx - 22) ** 2 + (yy - 22) ** 2 < 30).float()  # a blue disc at the bottom right
    return img


def random_crop(img, padding, gen):
    _, h, w = img.shape
    padded = F.pad(img, (padding,) * 4)
    top, left = torch.randint(0, 2 * padding + 1, (2,), generator=gen).tolist()
    return padded[:, top : top + h, left : left + w]


def gaussian_blur(img, sigma=1.0):
    k = torch.exp(-torch.arange(-3, 4) ** 2 / (2 * sigma**2))
    kernel = (k[:, None] * k[None, :]) / k.sum() ** 2  # (7, 7), sums to 1
    return F.conv2d(img[:, None], kernel[None, None], padding=3)[:, 0]


def cutout(img, size, gen):
    out = img.clone()
    top, left = torch.randint(0, img.shape[1] - size, (2,), generator=gen).tolist()
    out[:, top : top + size, left : left + size] = 0
    return out


gen = torch.Generator().manual_seed(0)
img, other = synthetic_image(), synthetic_image().flip(1).roll(5, 2)
gallery = {
    "original": img,
    "horizontal flip": img.flip(-1),
    "rotate 90°": img.rot90(1, (1, 2)),
    "crop, padding 6": random_crop(img, 6, gen),
    "Gaussian noise": (img + 0.2 * torch.randn(img.shape, generator=gen)).clamp(0, 1),
    "blur": gaussian_blur(img),
    "colour jitter": (img * torch.tensor([1.4, 0.6, 1.0])[:, None, None]).clamp(0, 1),
    "cutout": cutout(img, 10, gen),
    "mixup, λ = 0.6": 0.6 * img + 0.4 * other,
}
fig, axes = plt.subplots(1, len(gallery), figsize=(13, 1.9))
for ax, (name, im) in zip(axes, gallery.items()):
    ax.imshow(im.permute(1, 2, 0).numpy())
    ax.set_title(name, fontsize=8)
    ax.axis("off")
fig.tight_layout()

# %% [markdown]
# ## Claims: augmentation as a regularizer
#
# For least squares, replacing $X$ by $X + E$ with $E_{ij} \sim \mathcal N(0, \sigma^2)$ gives, in expectation,
# $\lVert Xw - y\rVert^2 + n\sigma^2\lVert w\rVert^2$ (Bishop 1995, "Training with Noise is Equivalent to Tikhonov
# Regularization"). Fitting many noisy copies at once must therefore approach the ridge solution.
#
# Mixup (Zhang et al. 2018) trains on $\lambda x_1 + (1-\lambda)x_2$ with the soft label $\lambda y_1 + (1-\lambda)y_2$.
# Cross-entropy is linear in the target, so the soft-label loss equals $\lambda\,\mathrm{CE}(y_1) + (1-\lambda)\,\mathrm{CE}(y_2)$,
# which is how most implementations compute it.

# %%
def test_input_noise_is_ridge_in_expectation():
    """Least squares on 2000 noisy copies of X (σ = 0.5) lands within 1% of ridge regression with λ = nσ² on the clean data, and far from plain least squares."""
    g = torch.Generator().manual_seed(0)
    n, d, sigma, copies = 30, 5, 0.5, 2000
    X = torch.randn(n, d, generator=g, dtype=DTYPE)
    y = X @ torch.randn(d, generator=g, dtype=DTYPE) + 0.3 * torch.randn(n, generator=g, dtype=DTYPE)
    X_aug = (X + sigma * torch.randn(copies, n, d, generator=g, dtype=DTYPE)).reshape(-1, d)  # (copies·n, d)
    y_aug = y.repeat(copies)
    actual = torch.linalg.lstsq(X_aug, y_aug[:, None]).solution[:, 0]
    ridge = torch.linalg.solve(X.T @ X + n * sigma**2 * torch.eye(d, dtype=DTYPE), X.T @ y)
    plain = torch.linalg.lstsq(X, y[:, None]).solution[:, 0]
    assert (actual - ridge).norm() < 0.01 * ridge.norm()
    assert (actual - plain).norm() > 0.1 * plain.norm()


def test_mixup_loss_is_the_mix_of_the_two_losses():
    """Cross-entropy with the mixed soft label λ·y₁ + (1−λ)·y₂ equals λ·CE(y₁) + (1−λ)·CE(y₂) for every sample."""
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(8, 10, generator=g, dtype=DTYPE)
    y1, y2 = torch.randint(0, 10, (8,), generator=g), torch.randint(0, 10, (8,), generator=g)
    lam = 0.7
    soft = lam * F.one_hot(y1, 10).to(DTYPE) + (1 - lam) * F.one_hot(y2, 10).to(DTYPE)
    actual = F.cross_entropy(logits, soft, reduction="none")  # PyTorch accepts probability targets
    expected = lam * F.cross_entropy(logits, y1, reduction="none") + (1 - lam) * F.cross_entropy(logits, y2, reduction="none")
    torch.testing.assert_close(actual, expected, rtol=1e-12, atol=1e-12)


# %% [markdown]
# ## Claims: transforms must carry the targets along
#
# In detection and segmentation the label lives in image coordinates. A horizontal flip of a $W$-pixel-wide
# image maps a box $(x_1, y_1, x_2, y_2)$ (pixel edges) to $(W - x_2, y_1, W - x_1, y_2)$; a segmentation mask is
# flipped with the image. We check the box formula against a rendered mask flipped by `torch.flip`.
#
# Test-time augmentation averages the predictions for an image and its transformed copies. For flips the
# average is exactly invariant, whatever the model.

# %%
def box_mask(box, height, width):
    x1, y1, x2, y2 = box
    mask = torch.zeros(height, width, dtype=torch.bool)
    mask[y1:y2, x1:x2] = True
    return mask


def test_flipping_an_image_requires_flipping_its_boxes():
    """For 50 random boxes in a 40×64 image, flipping the rendered box mask gives the mask of (W − x₂, y₁, W − x₁, y₂), not of the unchanged box."""
    g = torch.Generator().manual_seed(0)
    height, width = 40, 64
    for _ in range(50):
        x1, x2 = sorted(torch.randint(0, width + 1, (2,), generator=g).tolist())
        y1, y2 = sorted(torch.randint(0, height + 1, (2,), generator=g).tolist())
        x2, y2 = max(x2, x1 + 1), max(y2, y1 + 1)
        flipped = box_mask((x1, y1, x2, y2), height, width).flip(-1)
        assert torch.equal(flipped, box_mask((width - x2, y1, width - x1, y2), height, width))
    assert not torch.equal(box_mask((3, 5, 10, 9), height, width).flip(-1), box_mask((3, 5, 10, 9), height, width))


def test_flip_averaging_is_exactly_invariant():
    """A random CNN's outputs for an image and its mirror differ, but the flip-averaged prediction is identical for both."""
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3), torch.nn.ReLU(), torch.nn.Flatten(), torch.nn.LazyLinear(4))
    x = torch.randn(2, 3, 12, 12, generator=torch.Generator().manual_seed(1))
    tta = lambda x: 0.5 * (model(x) + model(x.flip(-1)))  # noqa: E731
    assert (model(x) - model(x.flip(-1))).abs().max() > 1e-3
    torch.testing.assert_close(tta(x), tta(x.flip(-1)), rtol=1e-6, atol=1e-6)


# %% [markdown]
# ## Where it stops holding: the transform must preserve the label
#
# The task: an 8×8 image has one bright blob; is it in the top half? Horizontal flips keep the answer, vertical
# flips invert it. Training a logistic regression on data augmented with vertical flips (keeping the original
# labels) shows it every image with both answers, and it learns nothing. The same happens to "6" and "9" under
# 180° rotation, or to left/right arrows under horizontal flips.

# %%
def blob_images(n, gen):
    imgs = 0.1 * torch.randn(n, 8, 8, generator=gen, dtype=DTYPE)
    rows, cols = torch.randint(0, 8, (n,), generator=gen), torch.randint(0, 8, (n,), generator=gen)
    imgs[torch.arange(n), rows, cols] += 3.0
    return imgs, (rows < 4).to(DTYPE)  # label: blob in the top half


def train_logistic(imgs, labels, steps=100, lr=1.0):
    X = imgs.reshape(len(imgs), -1)
    w, b = torch.zeros(64, dtype=DTYPE), torch.zeros(1, dtype=DTYPE)
    for _ in range(steps):  # gradient descent; the logistic gradient is Xᵀ(p − y)/n
        residual = torch.sigmoid(X @ w + b) - labels
        w, b = w - lr * X.T @ residual / len(X), b - lr * residual.mean(0, keepdim=True)
    return lambda imgs: ((imgs.reshape(len(imgs), -1) @ w + b) > 0).to(DTYPE)


def test_a_label_changing_transform_destroys_the_task():
    """Augmenting with horizontal flips keeps test accuracy above 95% on 'blob in the top half?', while vertical flips with unchanged labels drop it to chance (under 65%)."""
    gen = torch.Generator().manual_seed(0)
    imgs, labels = blob_images(400, gen)
    test_imgs, test_labels = blob_images(1000, gen)
    for flip_dim, low, high in ((-1, 0.95, 1.0), (-2, 0.0, 0.65)):
        aug_imgs = torch.cat([imgs, imgs.flip(flip_dim)])
        predict = train_logistic(aug_imgs, labels.repeat(2))
        accuracy = (predict(test_imgs) == test_labels).double().mean().item()
        assert low < accuracy <= high, (flip_dim, accuracy)


# %% [markdown]
# ## Conclusion
#
# Augmentations fall into a few families: geometric (flip, crop, scale, rotate, affine and elastic warps),
# photometric (colour jitter, noise, blur), occlusion (cutout, random erasing), multi-sample (mixup, CutMix) and
# learned or searched policies (AutoAugment, RandAugment). All of them rely on one contract: the label after the
# transform must be known. For classification it must be unchanged, for detection and segmentation it must be
# transformed along with the image, and for mixup it is mixed with the same weight. Within that contract
# augmentation is a regularizer (input noise is exactly ridge for a linear model) and a source of invariance.

# %%
if __name__ == "__main__":
    from qed.claims import run_claims

    run_claims(globals())
