# %% [markdown]
# # Backpropagation by hand: the proof
#
# **Question.** Why do we need backpropagation? Derive it for a two-layer network, and say how a DNN's
# weights are then updated.
#
# Backpropagation is the chain rule applied from the loss backwards, reusing each layer's upstream gradient,
# so that *all* partial derivatives cost a small constant times one forward pass. The update is a separate
# step (the optimizer). This module derives the gradients of a two-layer tanh network with softmax
# cross-entropy by hand and checks them. Claims:
#
# 1. the hand-derived gradients equal autograd's (`test_hand_backprop_matches_autograd`);
# 2. they equal central finite differences, an oracle that uses no derivative at all
#    (`test_hand_backprop_matches_finite_differences`);
# 3. the backward pass costs 2× the forward FLOPs minus the input gradient nobody needs, while finite
#    differences cost $2P$ forward passes (`test_backward_costs_about_twice_the_forward`);
# 4. 30 steps of hand backprop plus $w \leftarrow w - \eta\,\partial L/\partial w$ reproduce autograd plus
#    `torch.optim.SGD` (`test_hand_training_loop_matches_autograd_and_sgd`);
# 5. where it stops holding: at a kink (ReLU at 0) autograd picks the subgradient 0 while finite differences
#    give 0.5 (`test_finite_differences_disagree_at_a_kink`).

# %% [markdown]
# ## The network and its gradients
#
# For a batch $X \in \mathbb{R}^{N\times D}$ with labels $y$:
#
# $$H = XW_1^\top + b_1,\quad A = \tanh H,\quad Z = AW_2^\top + b_2,\quad L = -\frac1N\sum_n \log \operatorname{softmax}(Z_n)_{y_n}.$$
#
# Going backwards, each line uses only the gradient of the line below it:
#
# $$\frac{\partial L}{\partial Z} = \frac{\operatorname{softmax}(Z) - Y}{N},\quad
# \frac{\partial L}{\partial W_2} = \frac{\partial L}{\partial Z}^{\!\top} A,\quad
# \frac{\partial L}{\partial A} = \frac{\partial L}{\partial Z} W_2,\quad
# \frac{\partial L}{\partial H} = \frac{\partial L}{\partial A}\odot(1 - A^2),\quad
# \frac{\partial L}{\partial W_1} = \frac{\partial L}{\partial H}^{\!\top} X,$$
#
# with $Y$ the one-hot labels and each bias gradient the column sum of the gradient of its layer's output.

# %%
import torch
import torch.nn.functional as F

DTYPE = torch.float64
N, D, HIDDEN, CLASSES = 16, 5, 8, 3


def make_params(seed=0):
    gen = torch.Generator().manual_seed(seed)
    shapes = {"W1": (HIDDEN, D), "b1": (HIDDEN,), "W2": (CLASSES, HIDDEN), "b2": (CLASSES,)}
    return {k: 0.5 * torch.randn(s, generator=gen, dtype=DTYPE) for k, s in shapes.items()}


def make_batch(seed=1):
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(N, D, generator=gen, dtype=DTYPE), torch.randint(0, CLASSES, (N,), generator=gen)


def forward(p, x, y):
    a = torch.tanh(x @ p["W1"].T + p["b1"])  # (N, HIDDEN)
    z = a @ p["W2"].T + p["b2"]  # (N, CLASSES)
    return F.cross_entropy(z, y), a, z


def backward_by_hand(p, x, y):
    _, a, z = forward(p, x, y)
    dz = (z.softmax(1) - F.one_hot(y, CLASSES)) / len(x)  # (N, CLASSES)
    da = dz @ p["W2"]  # (N, HIDDEN)
    dh = da * (1 - a**2)  # tanh' = 1 - tanh²
    return {"W1": dh.T @ x, "b1": dh.sum(0), "W2": dz.T @ a, "b2": dz.sum(0)}


params, (x, y) = make_params(), make_batch()
grads = backward_by_hand(params, x, y)
print(f"{'tensor':<6} {'shape':<8} {'|grad| by hand':>15}")
for name, g in grads.items():
    print(f"{name:<6} {str(tuple(g.shape)):<8} {g.norm().item():>15.6f}")

# %% [markdown]
# ## Claims: the gradients are right
#
# Autograd is one oracle. Central finite differences, $(L(w + h e_i) - L(w - h e_i))/2h$ for every
# coordinate $i$, are another that knows nothing about derivatives; in float64 with $h = 10^{-6}$ they agree
# to about $10^{-9}$.

# %%
def test_hand_backprop_matches_autograd():
    """The hand-derived gradients of a two-layer tanh network with softmax cross-entropy equal autograd's."""
    p, (x, y) = make_params(), make_batch()
    leaves = {k: v.clone().requires_grad_() for k, v in p.items()}
    loss, _, _ = forward(leaves, x, y)
    expected = dict(zip(leaves, torch.autograd.grad(loss, list(leaves.values()))))
    actual = backward_by_hand(p, x, y)
    for name in p:
        torch.testing.assert_close(actual[name], expected[name], rtol=1e-12, atol=1e-14)


def finite_difference_gradient(p, x, y, h=1e-6, forward=forward):
    grads = {}
    for name, value in p.items():
        g = torch.zeros_like(value)
        for i in range(value.numel()):
            for sign in (1, -1):
                shifted = dict(p)
                shifted[name] = value.clone()
                shifted[name].view(-1)[i] += sign * h
                g.view(-1)[i] += sign * forward(shifted, x, y)[0] / (2 * h)
        grads[name] = g
    return grads


def test_hand_backprop_matches_finite_differences():
    """The hand-derived gradients agree with central finite differences on all 75 parameters to 1e-8."""
    p, (x, y) = make_params(), make_batch()
    actual, expected = backward_by_hand(p, x, y), finite_difference_gradient(p, x, y)
    assert sum(v.numel() for v in p.values()) == 75
    for name in p:
        torch.testing.assert_close(actual[name], expected[name], rtol=0, atol=1e-8)


# %% [markdown]
# ## Why backpropagation: the cost
#
# The forward pass multiplies $N\times D$ by $D\times H$ and $N\times H$ by $H\times C$. Backward needs, for
# each linear layer, one product for the weight gradient and one for the input gradient, except that nobody
# needs $\partial L/\partial X$. So backward costs $2\cdot$forward minus the first layer's product, whatever
# the number of parameters $P$. Finite differences need $2P$ forward passes: 150 here, millions in a real net.

# %%
from torch.utils.flop_counter import FlopCounterMode


def test_backward_costs_about_twice_the_forward():
    """Counted by FlopCounterMode, backward costs 2·forward minus the first layer's product (2NDH), while finite differences cost 2P = 150 forwards."""
    p, (x, y) = make_params(), make_batch()
    leaves = {k: v.clone().requires_grad_() for k, v in p.items()}
    with FlopCounterMode(display=False) as fwd:
        loss, _, _ = forward(leaves, x, y)
    with FlopCounterMode(display=False) as bwd:
        loss.backward()
    forward_flops = 2 * N * D * HIDDEN + 2 * N * HIDDEN * CLASSES  # closed form: 2 FLOPs per multiply-add
    assert fwd.get_total_flops() == forward_flops
    assert bwd.get_total_flops() == 2 * forward_flops - 2 * N * D * HIDDEN
    calls = []  # count the forward passes that finite differences actually make
    finite_difference_gradient(p, x, y, forward=lambda *args: calls.append(1) or forward(*args))
    parameters = sum(v.numel() for v in p.values())
    assert len(calls) == 2 * parameters == 150


# %% [markdown]
# ## How the weights are then updated
#
# Backpropagation only produces $\partial L/\partial w$. The update is the optimizer's job; for plain SGD it is
# $w \leftarrow w - \eta\,\partial L/\partial w$, applied to every tensor after each backward pass. Thirty steps
# of our hand gradients and hand update must match autograd with `torch.optim.SGD`.

# %%
def test_hand_training_loop_matches_autograd_and_sgd():
    """Thirty steps of hand backprop and w ← w − η·grad give the same weights as autograd with torch.optim.SGD, and the loss falls."""
    lr = 0.5
    x, y = make_batch()
    by_hand = make_params()
    for _ in range(30):
        g = backward_by_hand(by_hand, x, y)
        by_hand = {k: v - lr * g[k] for k, v in by_hand.items()}
    leaves = {k: v.clone().requires_grad_() for k, v in make_params().items()}
    optimizer = torch.optim.SGD(leaves.values(), lr=lr)
    for _ in range(30):
        optimizer.zero_grad()
        forward(leaves, x, y)[0].backward()
        optimizer.step()
    for name in by_hand:
        torch.testing.assert_close(by_hand[name], leaves[name].detach(), rtol=1e-10, atol=1e-12)
    assert forward(by_hand, x, y)[0] < 0.7 * forward(make_params(), x, y)[0]


# %% [markdown]
# ## Where it stops holding: kinks
#
# The chain rule needs derivatives. ReLU has none at 0, and frameworks pick a subgradient: PyTorch's
# `relu` backward gives 0 there. A central finite difference straddles the kink and gives 0.5, so a
# gradient check that lands on a kink reports a false error.

# %%
def test_finite_differences_disagree_at_a_kink():
    """At x = 0 autograd's ReLU gradient is 0 while the central difference is 0.5; away from 0 they agree."""
    x0 = torch.tensor([0.0, 0.3, -0.3], dtype=DTYPE, requires_grad=True)
    (autograd,) = torch.autograd.grad(torch.relu(x0).sum(), x0)
    h = 1e-6
    central = (torch.relu(x0.detach() + h) - torch.relu(x0.detach() - h)) / (2 * h)
    assert autograd[0] == 0 and abs(central[0].item() - 0.5) < 1e-9
    torch.testing.assert_close(autograd[1:], central[1:], rtol=0, atol=1e-9)


# %% [markdown]
# ## Conclusion
#
# Backpropagation is reverse-mode differentiation: one backward pass, at about twice the cost of the forward,
# yields every partial derivative, which is why networks with millions of weights can be trained at all. The
# weights are then changed by an optimizer rule, $w \leftarrow w - \eta g$ for SGD, which is not part of
# backpropagation.

# %%
if __name__ == "__main__":
    from qed.claims import run_claims

    run_claims(globals())
