# %% [markdown]
# # Weight initialization: the proof
#
# **Question.** Why does the initialization of a network matter, what do Xavier and Kaiming initialization
# preserve, and can a network start from all-zero weights?
#
# A linear layer multiplies the second moment of its input by $n_{in}\,\mathrm{Var}(w)$, times a factor that
# depends on the activation. Over 50 layers that factor is raised to the 50th power, so anything but 1 makes the
# signal vanish or explode. This module checks PyTorch's `nn.init` against the published formulas, measures the
# activations through 50 layers, and trains small networks from zero and constant weights. Claims:
#
# 1. `xavier_uniform_`, `kaiming_normal_` and the default `nn.Linear` initialization draw weights with the
#    variances of their formulas, with fan-in $C_{in} k^2$ for a convolution
#    (`test_nn_init_matches_the_published_variances`);
# 2. through 50 ReLU layers Kaiming initialization keeps the activations' second moment within a small factor, while
#    Xavier halves it at every layer, $2^{-49}$ over the 49 layers after the first, as the recursion predicts
#    (`test_kaiming_preserves_relu_activations_xavier_halves_them`);
# 3. with tanh, Xavier keeps the signal alive through 50 layers, while $\mathcal N(0, 0.01^2)$ shrinks it by
#    $0.01\sqrt{n}$ per layer, the factor the linearized recursion predicts
#    (`test_small_random_init_shrinks_tanh_activations_geometrically`);
# 4. PyTorch's default `nn.Linear` initialization is not Kaiming: it shrinks the second moment of a ReLU network
#    by 6 per layer (`test_default_linear_init_shrinks_a_relu_network`).
#
# Zero and constant weights:
#
# 5. with all-zero weights and a tanh or ReLU hidden layer, every weight gradient is exactly zero, only the output
#    bias learns, and the hidden weights are still zero after 100 steps (`test_zero_init_freezes_the_hidden_layers`);
# 6. with a constant (nonzero) initialization the hidden units get identical gradients and stay identical copies
#    of each other forever, so the network is no better than one with a single hidden unit
#    (`test_constant_init_keeps_hidden_units_identical`);
# 7. zero is a fine starting point when there is no symmetry to break: logistic regression from zero reaches the
#    same optimum as from random weights, and a zero-initialized *last* layer trains
#    (`test_zero_init_is_fine_without_hidden_symmetry`).
#
# Initialization and batch norm:
#
# 8. with a `BatchNorm1d` after every linear layer, the activations at depth 50 do not depend on the weights'
#    scale, because BN is invariant to it (`test_batchnorm_makes_depth_insensitive_to_init_scale`); Xavier and BN
#    can be combined, and BN removes most of the sensitivity to the scale, but not to symmetry.

# %% [markdown]
# ## The variance recursion and what `nn.init` draws
#
# For $y = Wx$ with $n_{in}$ independent inputs and weights of mean 0 and variance $\mathrm{Var}(w)$,
# $\mathrm{Var}(y) = n_{in}\,\mathrm{Var}(w)\,\mathbb E[x^2]$. After a ReLU, $\mathbb E[x^2]$ is half of the
# previous $\mathrm{Var}(y)$, so keeping the second moment constant needs $\mathrm{Var}(w) = 2/n_{in}$: Kaiming
# (He et al., 2015). For an activation that is the identity near 0 (tanh), the forward pass needs
# $\mathrm{Var}(w) = 1/n_{in}$ and the backward pass $1/n_{out}$; Glorot and Bengio (2010) compromise on
# $2/(n_{in}+n_{out})$, drawn as $U(-a, a)$ with $a = \sqrt{6/(n_{in}+n_{out})}$ (a uniform variable on $[-a, a]$
# has variance $a^2/3$). `nn.Linear`'s default calls `kaiming_uniform_` with $a=\sqrt5$, which works out to
# $U(-1/\sqrt{n_{in}}, 1/\sqrt{n_{in}})$, variance $1/(3n_{in})$. The table compares sample variances with the
# formulas.

# %%
import math

import torch
from torch import nn


def sample_variance(init, shape, seed=0):
    weight = torch.empty(shape)
    torch.manual_seed(seed)
    init(weight)
    return weight.var().item()


def default_linear_init(weight):
    return nn.init.kaiming_uniform_(weight, a=math.sqrt(5))  # what nn.Linear.reset_parameters does


INITS = {  # name: (init, weight shape, variance by the published formula)
    "xavier_uniform_ (300×200)": (nn.init.xavier_uniform_, (300, 200), 2 / (200 + 300)),
    "xavier_normal_ (300×200)": (nn.init.xavier_normal_, (300, 200), 2 / (200 + 300)),
    "kaiming_normal_ (300×200)": (lambda w: nn.init.kaiming_normal_(w, nonlinearity="relu"), (300, 200), 2 / 200),
    "kaiming_normal_ conv (64,32,3,3)": (
        lambda w: nn.init.kaiming_normal_(w, nonlinearity="relu"), (64, 32, 3, 3), 2 / (32 * 9)),
    "nn.Linear default (300×200)": (default_linear_init, (300, 200), 1 / (3 * 200)),
}
print(f"{'initializer':34s} {'sample var':>11s} {'formula':>11s}")
for name, (init, shape, formula) in INITS.items():
    print(f"{name:34s} {sample_variance(init, shape):11.3e} {formula:11.3e}")


# %% [markdown]
# ## Fifty layers deep
#
# We push a batch of 128 standard-normal inputs through 50 square linear layers of width 128 (no bias) and record the
# root mean square of each layer's output. The plot shows it for ReLU and tanh networks under five initializations:
# zero, a small constant (every weight 0.01), small random $\mathcal N(0, 0.01^2)$, Xavier and Kaiming.

# %%
import matplotlib.pyplot as plt

WIDTH, DEPTH = 128, 50


def rms_by_layer(init, activation, depth=DEPTH, width=WIDTH, batch_norm=False, seed=0):
    """RMS of the pre-activations of each layer of a deep bias-free MLP, for a fixed input batch."""
    torch.manual_seed(seed)
    x = torch.randn(128, width, dtype=torch.float64)  # (B, n); float64: tiny values stay normal numbers
    rms = []
    with torch.no_grad():
        for _ in range(depth):
            weight = torch.empty(width, width, dtype=torch.float64)
            init(weight)
            x = x @ weight.T  # (B, n)
            if batch_norm:
                x = (x - x.mean(0)) / torch.sqrt(x.var(0, correction=0) + 1e-5)  # BatchNorm1d in train mode
            rms.append(x.pow(2).mean().sqrt().item())
            x = activation(x)
    return torch.tensor(rms, dtype=torch.float64)


DEEP_INITS = {
    "zero": nn.init.zeros_,
    "constant 0.01": lambda w: nn.init.constant_(w, 0.01),
    "N(0, 0.01²)": lambda w: nn.init.normal_(w, std=0.01),
    "Xavier": nn.init.xavier_normal_,
    "Kaiming": lambda w: nn.init.kaiming_normal_(w, nonlinearity="relu"),
}
fig, axes = plt.subplots(1, 2, figsize=(9, 3.4), sharey=True)
for ax, (act_name, activation) in zip(axes, (("ReLU", torch.relu), ("tanh", torch.tanh))):
    for name, init in DEEP_INITS.items():
        rms = rms_by_layer(init, activation).clamp(min=1e-59)  # log scale: zeros drawn at the floor
        ax.semilogy(range(1, DEPTH + 1), rms, label=name)
    ax.set(title=f"{act_name}, width {WIDTH}", xlabel="layer", ylim=(1e-60, 1e8))
axes[0].set_ylabel("RMS of the layer's output")
axes[1].legend(fontsize=8)
fig.tight_layout()

# %% [markdown]
# Zero weights give exact zeros from the first layer on (drawn at the plot's floor). The constant 0.01 gives every unit
# the same value, the sum of the previous layer times 0.01, which here grows by $0.01 \cdot 128 = 1.28$ per ReLU
# layer. Small random weights shrink the signal by $0.01\sqrt{128} \approx 0.11$ per layer. Xavier halves the second moment
# of a ReLU network at every layer; Kaiming holds it.

# %% [markdown]
# ## Claims: the formulas and the recursion

# %%
def test_nn_init_matches_the_published_variances():
    """xavier_uniform_, xavier_normal_, kaiming_normal_ (linear and conv, fan_in = C_in·k²) and nn.Linear's default draw weights with variance 2/(n_in+n_out), 2/n_in and 1/(3 n_in), within 3%."""
    for name, (init, shape, formula) in INITS.items():
        assert abs(sample_variance(init, shape) / formula - 1) < 0.03, name
    # the uniform initializers respect their bounds: sqrt(6/(n_in+n_out)) and 1/sqrt(n_in)
    weight = nn.init.xavier_uniform_(torch.empty(300, 200))
    assert weight.abs().max() <= math.sqrt(6 / 500) and weight.abs().max() > 0.99 * math.sqrt(6 / 500)
    torch.manual_seed(0)
    weight = nn.Linear(200, 300).weight
    assert weight.abs().max() <= 1 / math.sqrt(200) and weight.abs().max() > 0.99 / math.sqrt(200)


def test_kaiming_preserves_relu_activations_xavier_halves_them():
    """Through 50 ReLU layers Kaiming keeps the output RMS within a factor 3 of the first layer's, while Xavier's falls from layer 1 to layer 50 by 2^-24.5 (second moment 2^-49), as the recursion predicts, within a factor 4."""
    kaiming = rms_by_layer(DEEP_INITS["Kaiming"], torch.relu)
    xavier = rms_by_layer(DEEP_INITS["Xavier"], torch.relu)
    assert 1 / 3 < kaiming[-1] / kaiming[0] < 3
    predicted = 0.5 ** ((DEPTH - 1) / 2)  # RMS halves its square at each of the 49 later layers
    assert 1 / 4 < (xavier[-1] / xavier[0]) / predicted < 4


def test_small_random_init_shrinks_tanh_activations_geometrically():
    """With tanh and N(0, 0.01²) weights the RMS shrinks by 0.01·√128 ≈ 0.11 per layer (to 5%), below 1e-40 at layer 50, while Xavier keeps it above 0.05."""
    small = rms_by_layer(DEEP_INITS["N(0, 0.01²)"], torch.tanh)
    ratios = small[10:] / small[9:-1]  # deep layers: tanh is the identity on such small inputs
    torch.testing.assert_close(ratios.mean().item(), 0.01 * math.sqrt(WIDTH), rtol=0.05, atol=0)
    assert small[-1] < 1e-40
    assert rms_by_layer(DEEP_INITS["Xavier"], torch.tanh)[-1] > 0.05


def test_default_linear_init_shrinks_a_relu_network():
    """nn.Linear's default variance 1/(3 n_in) multiplies a ReLU network's second moment by 1/6 per layer: over 20 layers the mean square falls by 6^-19, within a factor 4."""
    rms = rms_by_layer(default_linear_init, torch.relu, depth=20)
    ratio = (rms[-1] / rms[0]) ** 2
    assert 1 / 4 < ratio / 6.0**-19 < 4


# %% [markdown]
# ## Zero and constant initialization
#
# Take a network $x \to \phi(W_1 x + b_1) \to W_2 h + b_2$. With every weight zero, the hidden layer outputs
# $\phi(b_1) = \phi(0)$, which is 0 for tanh and ReLU. The gradient of $W_2$ is $\delta\,h^\top = 0$, the gradient
# reaching the hidden layer is $W_2^\top \delta = 0$, so only $b_2$ moves: the network learns the mean of the
# targets and nothing else. With a constant nonzero initialization every hidden unit computes the same function and
# receives the same gradient, so gradient descent keeps them identical: a width-16 layer behaves like one unit.
# Neither argument needs hidden units to be absent, which is the case where zero is a fine start.

# %%
def regression_data(seed=0, n=128):
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 4, generator=generator)
    y = torch.sin(x[:, :1] * 2) + x[:, 1:2] * x[:, 2:3]  # nonlinear target, (n, 1)
    return x, y


def train(model, x, y, steps=200, lr=0.1, loss_fn=nn.functional.mse_loss):
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    for _ in range(steps):
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
    return loss_fn(model(x), y).item()


def mlp(activation, init=None, hidden=16, seed=0):
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(4, hidden), activation, nn.Linear(hidden, 1))
    if init is not None:
        for parameter in model.parameters():
            init(parameter)
    return model


# %% [markdown]
# ## Claims: zero and constant weights

# %%
def test_zero_init_freezes_the_hidden_layers():
    """With all-zero parameters and a tanh or ReLU hidden layer, only the output bias gets a gradient; after 100 SGD steps both weight matrices are still exactly zero and the output is the target mean."""
    x, y = regression_data()
    for activation in (nn.Tanh(), nn.ReLU()):
        model = mlp(activation, nn.init.zeros_)
        nn.functional.mse_loss(model(x), y).backward()
        grads = [p.grad.abs().max().item() for p in model.parameters()]  # W1, b1, W2, b2
        assert grads[:3] == [0.0, 0.0, 0.0] and grads[3] > 0
        model.zero_grad()
        train(model, x, y, steps=100)
        assert model[0].weight.abs().max() == 0 and model[2].weight.abs().max() == 0
        torch.testing.assert_close(model(x), y.mean().expand_as(y), rtol=0, atol=1e-5)


def test_constant_init_keeps_hidden_units_identical():
    """With every parameter 0.1, the 16 hidden units of a tanh MLP stay identical through 150 SGD steps, and the model reaches the same loss as the same recipe with a single hidden unit trained with matching step sizes; random init does much better."""
    x, y = regression_data()
    constant = mlp(nn.Tanh(), lambda p: nn.init.constant_(p, 0.1))
    constant_loss = train(constant, x, y, steps=150)
    weight = constant[0].weight  # (16, 4): every row the same
    assert (weight - weight[:1]).abs().max() == 0 and weight.std(0).max() == 0
    # the 16 copies are one unit with output weight V = 16·v: in that parametrization SGD's step is 16 times
    # larger on V and 16 times smaller on the unit's input weights, so train a single unit with those rates
    single = mlp(nn.Tanh(), lambda p: nn.init.constant_(p, 0.1), hidden=1)
    with torch.no_grad():
        single[2].weight.fill_(16 * 0.1)
    optimizer = torch.optim.SGD([{"params": single[0].parameters(), "lr": 0.1 / 16},
                                 {"params": [single[2].weight], "lr": 0.1 * 16},
                                 {"params": [single[2].bias], "lr": 0.1}])
    for _ in range(150):
        optimizer.zero_grad()
        nn.functional.mse_loss(single(x), y).backward()
        optimizer.step()
    torch.testing.assert_close(nn.functional.mse_loss(single(x), y).item(), constant_loss, rtol=1e-4, atol=1e-6)
    assert train(mlp(nn.Tanh()), x, y, steps=150) < 0.7 * constant_loss


def test_zero_init_is_fine_without_hidden_symmetry():
    """Logistic regression started from zero reaches the same weights as from random weights (to 1e-3), and an MLP whose last layer alone starts at zero lowers its loss as much as the default init (within 10%)."""
    generator = torch.Generator().manual_seed(1)
    x = torch.randn(200, 3, generator=generator)
    labels = (x @ torch.tensor([1.5, -2.0, 0.5]) + torch.randn(200, generator=generator) > 0).float()
    solutions = []
    for init in (nn.init.zeros_, lambda p: nn.init.normal_(p, std=1.0)):
        model = nn.Linear(3, 1)
        for parameter in model.parameters():
            init(parameter)
        optimizer = torch.optim.LBFGS(model.parameters(), max_iter=200, tolerance_grad=1e-9, tolerance_change=0)

        def closure():
            optimizer.zero_grad()
            loss = nn.functional.binary_cross_entropy_with_logits(model(x), labels[:, None])
            loss.backward()
            return loss

        optimizer.step(closure)
        solutions.append(torch.cat([model.weight.flatten(), model.bias]).detach())
    torch.testing.assert_close(solutions[0], solutions[1], rtol=0, atol=1e-3)

    x, y = regression_data()
    zero_last = mlp(nn.Tanh())
    nn.init.zeros_(zero_last[2].weight)
    nn.init.zeros_(zero_last[2].bias)
    assert train(zero_last, x, y, steps=300) < 1.1 * train(mlp(nn.Tanh()), x, y, steps=300)


# %% [markdown]
# ## Where the scale stops mattering: batch norm
#
# Batch norm divides each unit by its batch standard deviation, so multiplying a layer's weights by any $a > 0$
# leaves its output unchanged (up to $\epsilon$). In a network with BN after every linear layer the initialization's
# *scale* therefore drops out of the forward pass, and Xavier, Kaiming or a scaled-up version all give the same
# activations. BN does not break symmetry, though: zero or constant weights are still stuck, and a layer without BN
# after it (typically the last one) still feels its scale.

# %%
def test_batchnorm_makes_depth_insensitive_to_init_scale():
    """With batch norm after each of 50 ReLU layers, Xavier weights, Kaiming weights and Xavier weights times 10 give the same RMS at every layer (to 1e-3), while without BN they differ by a factor 2^25; zero weights stay zero with BN."""

    def scaled_xavier(scale):
        return lambda w: nn.init.xavier_normal_(w).mul_(scale)

    expected = rms_by_layer(scaled_xavier(1.0), torch.relu, batch_norm=True)
    for init in (scaled_xavier(math.sqrt(2)), scaled_xavier(10.0)):  # √2·Xavier is Kaiming for a square layer
        torch.testing.assert_close(rms_by_layer(init, torch.relu, batch_norm=True), expected, rtol=1e-3, atol=0)
    # BN does not break symmetry: zero weights still give exact zeros at every layer
    assert rms_by_layer(nn.init.zeros_, torch.relu, batch_norm=True).max() == 0
    # without BN, ReLU is positively homogeneous: the same draws scaled by √2 give √2 more per layer, 2^25 in all
    kaiming, xavier = (rms_by_layer(scaled_xavier(s), torch.relu)[-1] for s in (math.sqrt(2), 1.0))
    torch.testing.assert_close((kaiming / xavier).item(), 2.0**25, rtol=1e-6, atol=0)


# %% [markdown]
# ## Conclusion
#
# Initialization sets the factor by which each layer multiplies the signal's second moment: $n_{in}\mathrm{Var}(w)$
# times the activation's share (1/2 for ReLU, about 1 for tanh near zero). Kaiming makes the factor 1 for ReLU,
# Xavier for tanh-like activations; PyTorch's default `nn.Linear` initialization does neither for a deep ReLU
# stack. Zero or constant weights fail for a different reason, symmetry: hidden units that start equal stay equal,
# and with zeros the hidden layers get no gradient at all. Where there is no symmetry (no hidden layer, or only the
# last layer at zero) zero is a fine start. Batch norm makes the forward pass invariant to the weights' scale, so
# it combines with any initialization, but it does not fix symmetry.

# %%
if __name__ == "__main__":
    from qed.claims import run_claims

    run_claims(globals())
