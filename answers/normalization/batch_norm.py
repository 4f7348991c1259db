# %% [markdown]
# # Batch norm: the proof
#
# **Question.** How is batch normalization implemented: what does it compute in training and in evaluation,
# and what state does it keep?
#
# This module writes `BatchNorm2d` from its formula, checks it against `nn.BatchNorm2d` in both modes
# (outputs, running statistics, gradients), pins down what the layer stores, and shows where its behaviour
# surprises people. Claims:
#
# 1. in train mode our layer's output equals `nn.BatchNorm2d`'s (`test_train_output_matches_batchnorm2d`);
# 2. after several training batches our running mean, running variance and batch counter equal PyTorch's
#    (`test_running_statistics_match_batchnorm2d`), and so does the eval-mode output
#    (`test_eval_output_matches_batchnorm2d`);
# 3. gradients with respect to the input, $\gamma$ and $\beta$ match PyTorch's hand-written backward
#    (`test_input_gradient_matches_batchnorm2d`), and the input gradient has the textbook closed form
#    (`test_input_gradient_has_the_closed_form`);
# 4. the statistics are taken per channel over the batch and both spatial axes
#    (`test_statistics_are_per_channel_over_batch_and_space`);
# 5. the output is normalized with the *biased* batch variance, but the running variance stores the *unbiased*
#    one (`test_running_var_is_unbiased_but_normalization_is_biased`);
# 6. `momentum` is the weight of the *new* batch, so the running mean is an exponential average
#    (`test_running_mean_is_an_exponential_average`); with `momentum=None` it is the plain average of all batches
#    (`test_momentum_none_gives_the_plain_average`);
# 7. the state is $2C$ learnable numbers plus $2C$ running statistics and one integer counter
#    (`test_state_dict_holds_2c_parameters_2c_buffers_and_a_counter`);
# 8. $\gamma$ and $\beta$ can undo the normalization exactly, for one batch in train mode or for every input in eval
#    mode, but no fixed pair does it for every batch in train mode (`test_scale_and_shift_can_undo_the_normalization`);
# 9. normalization fixes each channel's mean and variance, not the shape of its distribution
#    (`test_normalization_fixes_two_moments_not_the_shape`).
#
# Where it stops holding:
#
# 10. with one value per channel there is nothing to normalize and train mode raises
#     (`test_one_value_per_channel_cannot_be_normalized_in_train_mode`);
# 11. even with running statistics equal to the batch's own, eval output differs from train output
#     (`test_eval_differs_from_train_even_with_exact_statistics`);
# 12. in train mode a sample's output depends on the other samples in its batch
#     (`test_a_sample_depends_on_its_batchmates_only_in_train`);
# 13. `torch.no_grad()` does not stop the running statistics from changing; only `eval()` does
#     (`test_no_grad_does_not_stop_running_stat_updates`);
# 14. dropout placed before BN makes the running variance overstate the variance BN sees at eval time
#     (`test_dropout_before_bn_makes_running_var_overstate_eval_variance`).

# %% [markdown]
# ## The formula
#
# For an input of shape $(N, C, H, W)$, batch norm treats each channel $c$ separately. In train mode it takes the
# $n = N H W$ values of that channel in the batch, computes their mean $\mu_c$ and *biased* variance
# $\sigma_c^2 = \frac{1}{n}\sum (x - \mu_c)^2$, and returns
#
# $$y = \gamma_c \, \frac{x - \mu_c}{\sqrt{\sigma_c^2 + \epsilon}} + \beta_c .$$
#
# It also updates two running statistics, with $m$ = `momentum` (0.1 by default) as the weight of the new batch:
#
# $$\hat\mu_c \leftarrow (1-m)\,\hat\mu_c + m\,\mu_c, \qquad
# \hat\sigma_c^2 \leftarrow (1-m)\,\hat\sigma_c^2 + m\,\frac{n}{n-1}\,\sigma_c^2 ,$$
#
# the second one with the *unbiased* variance, and counts the batches in `num_batches_tracked`. With
# `momentum=None` the weight is $1/t$ at the $t$-th batch, which makes the running values plain averages. In eval
# mode the layer uses $\hat\mu_c, \hat\sigma_c^2$ instead of the batch's statistics, so each channel goes through a
# fixed affine map. Here is the layer, with the same parameter and buffer names as PyTorch's.

# %%
import torch
from torch import nn


class BatchNorm2d(nn.Module):
    """Batch normalization over (N, H, W) for each channel, written from the formula."""

    def __init__(self, num_features, eps=1e-5, momentum=0.1):
        super().__init__()
        self.eps, self.momentum = eps, momentum
        self.weight = nn.Parameter(torch.ones(num_features))  # gamma
        self.bias = nn.Parameter(torch.zeros(num_features))  # beta
        self.register_buffer("running_mean", torch.zeros(num_features))
        self.register_buffer("running_var", torch.ones(num_features))
        self.register_buffer("num_batches_tracked", torch.tensor(0))

    def forward(self, x):  # (N, C, H, W)
        if self.training:
            mean = x.mean((0, 2, 3))  # (C,)
            var = x.var((0, 2, 3), correction=0)  # (C,), biased: divides by n
            n = x.numel() // x.shape[1]
            with torch.no_grad():
                self.num_batches_tracked += 1
                m = 1 / self.num_batches_tracked.item() if self.momentum is None else self.momentum
                self.running_mean.mul_(1 - m).add_(m * mean)
                self.running_var.mul_(1 - m).add_(m * var * n / (n - 1))  # unbiased
        else:
            mean, var = self.running_mean, self.running_var
        x_hat = (x - mean[:, None, None]) / torch.sqrt(var[:, None, None] + self.eps)
        return self.weight[:, None, None] * x_hat + self.bias[:, None, None]


# %% [markdown]
# ## Two layers with the same parameters
#
# A fresh layer has $\gamma = 1$ and $\beta = 0$, which would hide a mix-up between them, so the helper draws
# random values and loads the same state into ours and PyTorch's (our `state_dict` has the same keys, so
# `strict=True` loading works). Inputs are shifted and scaled so that the statistics are far from 0 and 1.

# %%
def twin_layers(num_features=3, seed=0, momentum=0.1):
    """Our BatchNorm2d and nn.BatchNorm2d in float64, with the same random weight and bias."""
    torch.manual_seed(seed)
    theirs = nn.BatchNorm2d(num_features, momentum=momentum).double()
    with torch.no_grad():
        theirs.weight.uniform_(0.5, 2.0)
        theirs.bias.normal_()
    ours = BatchNorm2d(num_features, momentum=momentum).double()
    ours.load_state_dict(theirs.state_dict(), strict=True)
    return ours, theirs


def batch(seed, shape=(4, 3, 5, 5)):
    """A float64 batch whose channels have different means and spreads."""
    g = torch.Generator().manual_seed(seed)
    channels = shape[1]
    spread = torch.linspace(0.5, 3.0, channels, dtype=torch.float64)[:, None, None]
    offset = torch.linspace(-2.0, 4.0, channels, dtype=torch.float64)[:, None, None]
    return spread * torch.randn(shape, generator=g, dtype=torch.float64) + offset


def max_abs_diff(a, b):
    return (a - b).abs().max().item()


ours, theirs = twin_layers()
print(f"{'step':6} {'output':>8} {'running_mean':>13} {'running_var':>12}   (max |ours − nn.BatchNorm2d|)")
for step in range(3):
    x = batch(seed=step)
    diffs = (max_abs_diff(ours(x), theirs(x)), max_abs_diff(ours.running_mean, theirs.running_mean),
             max_abs_diff(ours.running_var, theirs.running_var))
    print(f"train {step:<3} {diffs[0]:8.1e} {diffs[1]:13.1e} {diffs[2]:12.1e}")
ours.eval(), theirs.eval()
print(f"eval       {max_abs_diff(ours(batch(seed=9)), theirs(batch(seed=9))):8.1e}")

# %% [markdown]
# ## Claims: our layer is PyTorch's layer
#
# Everything runs in float64, so agreement to $10^{-10}$ means the two compute the same thing; the only
# differences left are rounding. PyTorch's backward is a hand-written kernel, so autograd through our formula is an
# independent check of it; so is the closed form of the input gradient, with $g = \partial L / \partial y$,
# $\hat x = (x - \mu)/\sqrt{\sigma^2 + \epsilon}$ and means over $(N, H, W)$:
#
# $$\frac{\partial L}{\partial x} = \frac{\gamma}{\sqrt{\sigma^2 + \epsilon}}
# \left(g - \overline{g} - \hat x \, \overline{g \hat x}\right).$$

# %%
def test_train_output_matches_batchnorm2d():
    """In train mode our BatchNorm2d returns the same output as nn.BatchNorm2d."""
    ours, theirs = twin_layers()
    x = batch(seed=0)
    torch.testing.assert_close(ours(x), theirs(x), rtol=1e-10, atol=1e-10)


def test_running_statistics_match_batchnorm2d():
    """After three training batches our running_mean, running_var and num_batches_tracked equal nn.BatchNorm2d's."""
    ours, theirs = twin_layers()
    for seed in range(3):
        x = batch(seed)
        ours(x), theirs(x)
    torch.testing.assert_close(ours.running_mean, theirs.running_mean, rtol=1e-10, atol=1e-10)
    torch.testing.assert_close(ours.running_var, theirs.running_var, rtol=1e-10, atol=1e-10)
    assert ours.num_batches_tracked.item() == theirs.num_batches_tracked.item() == 3


def test_eval_output_matches_batchnorm2d():
    """In eval mode, after the same training batches, our BatchNorm2d returns the same output as nn.BatchNorm2d."""
    ours, theirs = twin_layers()
    for seed in range(3):
        x = batch(seed)
        ours(x), theirs(x)
    ours.eval(), theirs.eval()
    x = batch(seed=9)
    torch.testing.assert_close(ours(x), theirs(x), rtol=1e-10, atol=1e-10)


def test_input_gradient_matches_batchnorm2d():
    """Autograd through our formula gives the same gradients for the input, weight and bias as nn.BatchNorm2d's backward."""
    ours, theirs = twin_layers()
    upstream = batch(seed=5)  # a random dL/dy
    grads = []
    for layer in (ours, theirs):
        x = batch(seed=0).requires_grad_()
        (layer(x) * upstream).sum().backward()
        grads.append((x.grad, layer.weight.grad, layer.bias.grad))
    for actual, expected in zip(*grads):
        torch.testing.assert_close(actual, expected, rtol=1e-10, atol=1e-10)


def test_input_gradient_has_the_closed_form():
    """nn.BatchNorm2d's input gradient is γ/sqrt(σ² + eps)·(g − mean(g) − x̂·mean(g·x̂)), with means per channel over N, H, W."""
    _, bn = twin_layers()
    x = batch(seed=0).requires_grad_()
    g = batch(seed=5)  # dL/dy
    (bn(x) * g).sum().backward()
    dims = (0, 2, 3)
    with torch.no_grad():
        std = torch.sqrt(x.var(dims, keepdim=True, correction=0) + bn.eps)  # (1, C, 1, 1)
        x_hat = (x - x.mean(dims, keepdim=True)) / std
        gamma = bn.weight[:, None, None]
        expected = gamma / std * (g - g.mean(dims, keepdim=True) - x_hat * (g * x_hat).mean(dims, keepdim=True))
    torch.testing.assert_close(x.grad, expected, rtol=1e-10, atol=1e-10)


def test_statistics_are_per_channel_over_batch_and_space():
    """nn.BatchNorm2d normalizes each channel with statistics over N, H and W, not over N alone nor over each sample."""
    x = batch(seed=0)
    actual = nn.BatchNorm2d(3).double()(x)  # weight 1, bias 0

    def standardize(dims):
        return (x - x.mean(dims, keepdim=True)) / torch.sqrt(x.var(dims, keepdim=True, correction=0) + 1e-5)

    torch.testing.assert_close(actual, standardize((0, 2, 3)), rtol=1e-10, atol=1e-10)
    assert max_abs_diff(actual, standardize((0,))) > 0.1  # per position, as if H·W·C features
    assert max_abs_diff(actual, standardize((1, 2, 3))) > 0.1  # per sample: layer norm


# %% [markdown]
# ## Claims: which variance, which momentum
#
# These claims check PyTorch against closed forms, not against our layer: `torch.var` with `correction=0`
# (divide by $n$) or `correction=1` (divide by $n-1$), and the running mean written as a weighted sum of the
# batch means. The PyTorch documentation states both facts: the forward pass uses the biased variance, the running
# estimate the unbiased one, and `momentum` weights the new observation.

# %%
def test_running_var_is_unbiased_but_normalization_is_biased():
    """One training step normalizes with the variance divided by n but moves running_var toward the variance divided by n − 1."""
    x = batch(seed=0, shape=(2, 3, 2, 2))  # n = 8 values per channel: the two variances differ by 8/7
    bn = nn.BatchNorm2d(3).double()
    y = bn(x)
    mean = x.mean((0, 2, 3), keepdim=True)
    for correction, matches in ((0, True), (1, False)):
        var = x.var((0, 2, 3), keepdim=True, correction=correction)
        assert torch.allclose(y, (x - mean) / torch.sqrt(var + bn.eps), rtol=1e-10, atol=1e-10) == matches
    for correction, matches in ((1, True), (0, False)):
        var = x.var((0, 2, 3), correction=correction)
        assert torch.allclose(bn.running_var, 0.9 * 1.0 + 0.1 * var, rtol=1e-10, atol=1e-10) == matches


def test_running_mean_is_an_exponential_average():
    """With momentum m, after t batches running_mean equals the sum over batches k of m·(1 − m)^(t − k) times batch k's mean."""
    m, t = 0.1, 5
    bn = nn.BatchNorm2d(3, momentum=m).double()
    batch_means = []
    for seed in range(t):
        x = batch(seed)
        bn(x)
        batch_means.append(x.mean((0, 2, 3)))
    weights = torch.tensor([m * (1 - m) ** (t - k) for k in range(1, t + 1)], dtype=torch.float64)
    expected = (weights[:, None] * torch.stack(batch_means)).sum(0)  # the initial 0 carries weight (1 − m)^t
    torch.testing.assert_close(bn.running_mean, expected, rtol=1e-10, atol=1e-10)


def test_momentum_none_gives_the_plain_average():
    """With momentum=None both layers' running_mean and running_var are the plain averages of the batch means and unbiased variances."""
    ours, theirs = twin_layers(momentum=None)
    xs = [batch(seed) for seed in range(4)]
    for x in xs:
        ours(x), theirs(x)
    expected_mean = torch.stack([x.mean((0, 2, 3)) for x in xs]).mean(0)
    expected_var = torch.stack([x.var((0, 2, 3), correction=1) for x in xs]).mean(0)
    for layer in (ours, theirs):
        torch.testing.assert_close(layer.running_mean, expected_mean, rtol=1e-10, atol=1e-10)
        torch.testing.assert_close(layer.running_var, expected_var, rtol=1e-10, atol=1e-10)


# %% [markdown]
# ## What the layer stores
#
# `parameters()` holds what the optimizer trains; buffers are state that is saved and moved with the module but not
# trained. The table lists the `state_dict` of `nn.BatchNorm2d(C)` for $C = 5$ and two variants: `affine=False`
# drops $\gamma$ and $\beta$, and `track_running_stats=False` drops all three buffers (and then eval mode normalizes
# with batch statistics too).

# %%
C = 5
print(f"{'nn.BatchNorm2d(5, ...)':32} {'state_dict entry':22} {'shape':8} {'dtype':8} trained")
for label, kwargs in (("defaults", {}), ("affine=False", {"affine": False}),
                      ("track_running_stats=False", {"track_running_stats": False})):
    bn = nn.BatchNorm2d(C, **kwargs)
    trained = {name for name, _ in bn.named_parameters()}
    for name, value in bn.state_dict().items():
        print(f"{label:32} {name:22} {str(tuple(value.shape)):8} {str(value.dtype)[6:]:8} {name in trained}")
        label = ""

# %% [markdown]
# ## Claims: the state, and what $\gamma$, $\beta$ are for
#
# The expected counts come from the formula: one $\gamma_c$ and one $\beta_c$ per channel, one running mean and one
# running variance per channel, and one counter for the whole layer. $\gamma$ and $\beta$ exist so that normalizing
# does not restrict what the layer can represent (the BN paper's example: normalized inputs to a sigmoid would stay
# in its nearly linear middle). With $\gamma = \sqrt{\sigma^2 + \epsilon}$ and $\beta = \mu$ of a batch, the layer
# returns that batch unchanged; in eval mode, $\gamma = \sqrt{\hat\sigma^2 + \epsilon}$ and $\beta = \hat\mu$ make it the
# identity for every input. In train mode no fixed pair is the identity for every batch, because $\mu$ and
# $\sigma^2$ change from batch to batch. Normalizing is an affine map per channel, so it moves the mean to 0 and scales the
# variance to $\sigma^2 / (\sigma^2 + \epsilon)$, slightly *below* 1, and leaves the shape of the distribution
# alone: a skewed channel stays exactly as skewed.

# %%
def test_state_dict_holds_2c_parameters_2c_buffers_and_a_counter():
    """nn.BatchNorm2d(C) trains 2C numbers (weight, bias); its state_dict adds 2C running statistics and one int64 num_batches_tracked."""
    C = 5
    bn = nn.BatchNorm2d(C)
    state = bn.state_dict()
    assert list(state) == ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"]
    assert bn.weight.shape == bn.bias.shape == (C,)  # one pair per channel, shared by samples and positions
    assert sum(p.numel() for p in bn.parameters()) == 2 * C
    assert [name for name, _ in bn.named_buffers()] == ["running_mean", "running_var", "num_batches_tracked"]
    assert not any(buffer.requires_grad for buffer in bn.buffers())
    assert state["running_mean"].shape == state["running_var"].shape == (C,)
    assert state["num_batches_tracked"].shape == () and state["num_batches_tracked"].dtype == torch.int64
    assert sum(value.numel() for value in state.values()) == 4 * C + 1


def test_scale_and_shift_can_undo_the_normalization():
    """Weight sqrt(σ² + eps) and bias μ of one batch make train-mode BN return that batch but not another, while weight sqrt(running_var + eps) and bias running_mean make eval-mode BN the identity."""
    x, other = batch(seed=0), batch(seed=1)
    bn = nn.BatchNorm2d(3).double()
    with torch.no_grad():
        bn.weight.copy_(torch.sqrt(x.var((0, 2, 3), correction=0) + bn.eps))
        bn.bias.copy_(x.mean((0, 2, 3)))
        torch.testing.assert_close(bn(x), x, rtol=1e-10, atol=1e-10)
        assert max_abs_diff(bn(other), other) > 0.05  # the same γ, β on the next batch: not the identity

        bn.eval()
        bn.weight.copy_(torch.sqrt(bn.running_var + bn.eps))
        bn.bias.copy_(bn.running_mean)
        for inputs in (x, other):
            torch.testing.assert_close(bn(inputs), inputs, rtol=1e-10, atol=1e-10)


def skewness(x):
    """Per-channel skewness E[(x − mean)^3] / std^3 over (N, H, W)."""
    centered = x - x.mean((0, 2, 3), keepdim=True)
    return (centered**3).mean((0, 2, 3)) / centered.pow(2).mean((0, 2, 3)) ** 1.5


def test_normalization_fixes_two_moments_not_the_shape():
    """In train mode each output channel has mean 0 and variance σ²/(σ² + eps), below 1, while its skewness equals the input's."""
    g = torch.Generator().manual_seed(0)
    spread = torch.tensor([0.01, 1.0, 5.0], dtype=torch.float64)[:, None, None]  # σ = 0.01: eps matters
    x = spread * torch.empty(8, 3, 6, 6, dtype=torch.float64).exponential_(generator=g)  # skewed: skewness ≈ 2
    bn = nn.BatchNorm2d(3).double()
    y = bn(x)
    var = x.var((0, 2, 3), correction=0)
    torch.testing.assert_close(y.mean((0, 2, 3)), torch.zeros(3, dtype=torch.float64), rtol=0, atol=1e-10)
    torch.testing.assert_close(y.var((0, 2, 3), correction=0), var / (var + bn.eps), rtol=1e-8, atol=1e-10)
    assert y.var((0, 2, 3), correction=0)[0] < 0.95
    torch.testing.assert_close(skewness(y), skewness(x), rtol=1e-8, atol=1e-8)
    assert (skewness(y) > 1).all()  # a Gaussian has skewness 0


# %% [markdown]
# ## Where it stops holding
#
# Batch statistics need a batch. With a single value per channel the variance is zero and the output would be
# $\beta$ whatever the input, so PyTorch refuses in train mode; a $(1, C, H, W)$ image still has $HW$ values per
# channel and trains, noisily. Eval mode never needs a batch. Eval and train outputs also differ for a reason beyond
# noisy running averages: even when the running statistics are exactly the batch's own, the stored variance is the
# unbiased one, so eval mode divides by $\sqrt{\tfrac{n}{n-1}\sigma^2 + \epsilon}$ instead of
# $\sqrt{\sigma^2 + \epsilon}$. In train mode each output depends on the whole batch, the noise usually credited with batch
# norm's regularizing effect (the claim shows the dependence, not the regularization). And `torch.no_grad()` only stops gradient tracking: a layer in train mode still
# updates its running statistics.

# %%
import pytest


def test_one_value_per_channel_cannot_be_normalized_in_train_mode():
    """In train mode BatchNorm1d on (1, C) and BatchNorm2d on (1, C, 1, 1) raise ValueError; (1, C, 4, 4) trains, and eval mode accepts (1, C)."""
    torch.manual_seed(0)
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        nn.BatchNorm1d(3)(torch.randn(1, 3))
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        nn.BatchNorm2d(3)(torch.randn(1, 3, 1, 1))
    assert nn.BatchNorm2d(3)(torch.randn(1, 3, 4, 4)).shape == (1, 3, 4, 4)
    assert nn.BatchNorm1d(3).eval()(torch.randn(1, 3)).shape == (1, 3)


def test_eval_differs_from_train_even_with_exact_statistics():
    """After one step with momentum=None the running statistics are the batch's own, yet eval output is train output shrunk by sqrt((σ² + eps)/(σ²·n/(n − 1) + eps))."""
    x = batch(seed=0, shape=(2, 3, 2, 2))  # n = 8
    _, bn = twin_layers(momentum=None)
    train_out = bn(x)
    eval_out = bn.eval()(x)
    biased, unbiased = x.var((0, 2, 3), correction=0), x.var((0, 2, 3), correction=1)
    shrink = torch.sqrt((biased + bn.eps) / (unbiased + bn.eps))[:, None, None]  # (C, 1, 1)
    beta = bn.bias.detach()[:, None, None]
    torch.testing.assert_close(eval_out - beta, shrink * (train_out - beta), rtol=1e-10, atol=1e-10)
    assert max_abs_diff(eval_out, train_out) > 0.05


def test_a_sample_depends_on_its_batchmates_only_in_train():
    """Changing samples 1..N−1 changes sample 0's output in train mode but not in eval mode."""
    x = batch(seed=0)
    other = x.clone()
    other[1:] = batch(seed=1)[1:]
    _, bn = twin_layers()
    assert max_abs_diff(bn(x)[0], bn(other)[0]) > 0.01
    bn.eval()
    torch.testing.assert_close(bn(x)[0], bn(other)[0], rtol=0, atol=0)


def test_no_grad_does_not_stop_running_stat_updates():
    """Under torch.no_grad() a BatchNorm2d in train mode still updates its running statistics; in eval mode it does not."""
    bn = nn.BatchNorm2d(3).double()
    with torch.no_grad():
        bn(batch(seed=0))
        assert bn.num_batches_tracked.item() == 1
        assert max_abs_diff(bn.running_mean, torch.zeros(3)) > 0.01
        before = {name: value.clone() for name, value in bn.named_buffers()}
        bn.eval()(batch(seed=1))
    for name, value in bn.named_buffers():
        torch.testing.assert_close(value, before[name], rtol=0, atol=0)


# %% [markdown]
# ### Dropout before BN: the variance shift
#
# Batch norm is sometimes said to replace dropout. The BN paper says that it reduces the need for dropout, in some
# cases eliminating it; combining the two in the wrong order causes a "variance shift" (Li et al., 2019). Inverted dropout keeps each
# input's mean $\mu$ but raises its variance from $s^2$ to $(s^2 + \mu^2)/(1-p) - \mu^2$, since
# $\mathbb{E}[y^2] = \mathbb{E}[x^2]/(1-p)$. A BN after it accumulates that inflated variance in `running_var`. In
# eval mode dropout is the identity, so BN receives inputs of variance $s^2$ and divides them by the inflated
# estimate: its output variance is $s^2 / \hat\sigma^2$, far below the 1 it has in training. With $p = 0$ the
# shift vanishes. (The input generator's seed differs from the dropout generator's, so masks and inputs are
# independent; with equal seeds the two streams coincide and the masks track the inputs.)

# %%
def dropout_then_bn_variances(p, mean=2.0, std=1.5, features=8):
    """Train Dropout(p) → BatchNorm1d on 50 batches of N(mean, std²); return (running_var, eval-mode output variance)."""
    gen = torch.Generator().manual_seed(1)
    torch.manual_seed(0)  # the dropout masks
    model = nn.Sequential(nn.Dropout(p), nn.BatchNorm1d(features, affine=False, momentum=None)).double()
    with torch.no_grad():
        for _ in range(50):
            model(mean + std * torch.randn(256, features, generator=gen, dtype=torch.float64))
        model.eval()
        eval_out = model(mean + std * torch.randn(4096, features, generator=gen, dtype=torch.float64))
    return model[1].running_var.mean().item(), eval_out.var(dim=0).mean().item()


def test_dropout_before_bn_makes_running_var_overstate_eval_variance():
    """After Dropout(0.5), BN's running_var learns (s² + μ²)/(1 − p) − μ², not the eval-time input variance s², so eval outputs have variance s²/running_var, not 1."""
    p, mean, std = 0.5, 2.0, 1.5
    inflated = (std**2 + mean**2) / (1 - p) - mean**2  # 8.5, against s² = 2.25
    running_var, eval_var = dropout_then_bn_variances(p, mean, std)
    torch.testing.assert_close(running_var, inflated, rtol=0.03, atol=0)
    torch.testing.assert_close(eval_var, std**2 / inflated, rtol=0.05, atol=0)  # about 0.26
    running_var, eval_var = dropout_then_bn_variances(0.0, mean, std)  # no dropout: no shift
    torch.testing.assert_close(running_var, std**2, rtol=0.03, atol=0)
    torch.testing.assert_close(eval_var, 1.0, rtol=0.05, atol=0)


# %% [markdown]
# ## How fast the running mean forgets
#
# With the default `momentum=0.1`, a batch's weight in the running mean falls by a factor 0.9 per later batch, so
# the running mean starts at 0 and needs about 20 batches to get within 12% ($0.9^{20}$) of the data's mean; with
# `momentum=None` every batch counts equally from the first. The dashed line is the expected exponential approach
# $\mu\,(1 - 0.9^t)$ for data with mean $\mu = 2$.

# %%
import matplotlib.pyplot as plt

torch.manual_seed(0)
steps = torch.arange(1, 41)
batches = 2 + torch.randn(len(steps), 8, 1, 4, 4)  # the same 40 batches for both settings
fig, ax = plt.subplots(figsize=(6, 3.2))
for momentum in (0.1, None):
    bn = nn.BatchNorm2d(1, momentum=momentum)
    history = []
    for x in batches:
        bn(x)
        history.append(bn.running_mean.item())
    ax.plot(steps, history, marker=".", label=f"momentum={momentum}")
ax.plot(steps, 2 * (1 - 0.9**steps), "k--", label="2·(1 − 0.9^t)")
ax.set(xlabel="training batches t", ylabel="running_mean", title="BatchNorm2d running mean, data mean 2")
ax.legend()
fig.tight_layout()

# %% [markdown]
# ## Conclusion
#
# Batch norm is short to write: per channel, standardize with the batch mean and biased variance over $(N, H, W)$,
# then scale by $\gamma$ and shift by $\beta$. The parts interviewers probe are the state and the two modes: $2C$
# trained numbers, $2C$ running statistics updated with `momentum` as the new batch's weight and with the unbiased
# variance, a batch counter, and an eval mode that swaps batch statistics for the running ones. That swap is why
# train and eval outputs differ, why a lone value cannot be normalized in train mode but can be at inference, and why
# at inference the layer is an affine map that can be folded into the convolution before it.

# %%
if __name__ == "__main__":
    from qed.claims import run_claims

    run_claims(globals())
