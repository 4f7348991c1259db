# %% [markdown]
# # Weighting the losses of several tasks: the proof
#
# **Question.** In multi-task learning, how should the losses of the tasks be weighted?
#
# A multi-task network minimizes $\sum_i w_i L_i$, and the shared layers receive $\sum_i w_i \nabla L_i$. If one task's
# loss is a hundred times larger, only because its targets are in larger units, its gradient dominates the shared
# layers and the other tasks are neglected. This module measures that, and checks the closed form behind one
# principled fix, homoscedastic-uncertainty weighting (Kendall, Gal and Cipolla, CVPR 2018), which learns the weights.
# Claims:
#
# 1. the shared layers' gradient of $\sum_i w_i L_i$ is $\sum_i w_i\nabla L_i$, computed task by task
#    (`test_shared_gradient_is_the_weighted_sum_of_task_gradients`);
# 2. with equal weights, a task whose targets are 100 times larger has a trunk gradient about 100 times larger, and
#    the total gradient points along it (`test_equal_weights_let_the_large_scale_task_dominate`);
# 3. for a fixed loss $L$, the uncertainty objective $L/(2\sigma^2) + \log\sigma$ is minimized at $\sigma^2 = L$, found
#    by numerical minimization (L-BFGS) over $\log\sigma^2$ (`test_optimal_uncertainty_is_the_task_loss`);
# 4. at that optimum the task's gradient is $\nabla\log L / 2$, the same whatever constant multiplies the loss
#    (`test_uncertainty_weighting_is_invariant_to_the_loss_scale`);
# 5. with plain SGD and equal weights the large task caps the learning rate, and at a stable rate task 1 is still far
#    from fitted after 300 steps; with Adam, learned uncertainty weights train both tasks to the noise floor
#    (`test_equal_weights_cap_the_learning_rate_uncertainty_weights_balance`).

# %% [markdown]
# ## Two regression tasks that share a trunk
#
# Inputs $x \in \mathbb R^8$; task 1 predicts $a^\top x$, task 2 predicts $100\, b^\top x$ with $a \perp b$, each with a
# little noise. The trunk is a shared linear layer, each task has its own linear head. The *normalized*
# error, MSE divided by the variance of the targets, puts both tasks on one scale: 1 means "learned nothing".

# %%
import torch
from torch import nn
import torch.nn.functional as F


def make_tasks(seed=0, n=256, scale=100.0):
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 8, generator=generator)
    a = torch.zeros(8); a[0] = 1.0
    b = torch.zeros(8); b[1] = 1.0
    y1 = x @ a + 0.05 * torch.randn(n, generator=generator)
    y2 = scale * (x @ b + 0.05 * torch.randn(n, generator=generator))
    return x, (y1[:, None], y2[:, None])


class MultiTask(nn.Module):
    def __init__(self, width=1, seed=0):
        super().__init__()
        torch.manual_seed(seed)
        self.trunk = nn.Linear(8, width)
        self.heads = nn.ModuleList([nn.Linear(width, 1) for _ in range(2)])

    def forward(self, x):
        h = self.trunk(x)  # (B, width)
        return [head(h) for head in self.heads]


def task_losses(model, x, targets):
    return [F.mse_loss(p, y) for p, y in zip(model(x), targets)]


def shared_gradient(loss, model):
    return torch.cat([g.flatten() for g in torch.autograd.grad(loss, list(model.trunk.parameters()), retain_graph=True)])


# %% [markdown]
# ## Claims: how the weights reach the shared layers

# %%
def test_shared_gradient_is_the_weighted_sum_of_task_gradients():
    """For weights (0.3, 2.0) the trunk's gradient of 0.3·L1 + 2·L2 equals 0.3·∇L1 + 2·∇L2 computed task by task."""
    x, targets = make_tasks()
    model = MultiTask(width=4)
    l1, l2 = task_losses(model, x, targets)
    expected = 0.3 * shared_gradient(l1, model) + 2.0 * shared_gradient(l2, model)
    torch.testing.assert_close(shared_gradient(0.3 * l1 + 2.0 * l2, model), expected)


def test_equal_weights_let_the_large_scale_task_dominate():
    """With equal weights and task 2's targets 100 times larger, task 2's gradient on the trunk is over 50 times task 1's, and the total gradient's cosine with it exceeds 0.999."""
    x, targets = make_tasks()
    model = MultiTask(width=4)
    l1, l2 = task_losses(model, x, targets)
    g1, g2, total = shared_gradient(l1, model), shared_gradient(l2, model), shared_gradient(l1 + l2, model)
    assert g2.norm() > 50 * g1.norm()  # residuals 100 times larger: gradient about 100 times larger
    assert F.cosine_similarity(total, g2, dim=0) > 0.999


# %% [markdown]
# ## Uncertainty weighting
#
# Kendall et al. model each regression task as Gaussian with a learned noise scale $\sigma_i$. The negative
# log-likelihood gives the objective
#
# $$\sum_i \frac{L_i}{2\sigma_i^2} + \log\sigma_i ,$$
#
# learned jointly with the network, usually through $s_i = \log\sigma_i^2$ for stability. For a fixed $L_i$ the
# derivative in $\sigma_i^2$ vanishes at $\sigma_i^2 = L_i$, so the learned weight $1/(2\sigma_i^2)$ tends to
# $1/(2L_i)$: each task is divided by its own loss. Then the gradient is $\nabla L_i/(2L_i) = \tfrac12\nabla\log L_i$,
# which does not change if the loss is multiplied by a constant (its units, a sum instead of a mean).

# %%
def uncertainty_objective(losses, log_vars):
    return sum(loss * torch.exp(-s) / 2 + s / 2 for loss, s in zip(losses, log_vars))  # log σ = s/2


def test_optimal_uncertainty_is_the_task_loss():
    """For fixed losses 0.04 and 400, L-BFGS on log σ² converges to σ² = L for each (to 1e-6 relative)."""
    losses = [torch.tensor(0.04, dtype=torch.float64), torch.tensor(400.0, dtype=torch.float64)]
    log_vars = torch.zeros(2, dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.LBFGS([log_vars], max_iter=100, tolerance_grad=1e-12, tolerance_change=0)

    def closure():
        optimizer.zero_grad()
        objective = uncertainty_objective(losses, log_vars)
        objective.backward()
        return objective

    optimizer.step(closure)
    torch.testing.assert_close(torch.exp(log_vars.detach()), torch.stack(losses), rtol=1e-6, atol=0)


def test_uncertainty_weighting_is_invariant_to_the_loss_scale():
    """At σ² = L, the trunk gradient of L/(2σ²) equals ∇log L / 2, and it is the same for task 2's loss with mean or with sum reduction (a factor 256)."""
    x, targets = make_tasks()
    model = MultiTask(width=4)
    gradients = []
    for reduction in ("mean", "sum"):
        loss = F.mse_loss(model(x)[1], targets[1], reduction=reduction)
        weighted = loss / (2 * loss.detach())  # the learned weight at its optimum, held fixed
        gradient = shared_gradient(weighted, model)
        torch.testing.assert_close(gradient, shared_gradient(torch.log(loss) / 2, model))
        gradients.append(gradient)
    torch.testing.assert_close(gradients[0], gradients[1], rtol=1e-4, atol=1e-7)
    plain = [shared_gradient(F.mse_loss(model(x)[1], targets[1], reduction=r), model) for r in ("mean", "sum")]
    torch.testing.assert_close(plain[1], 256 * plain[0], rtol=1e-4, atol=1e-4)  # unweighted: 256 times larger


# %% [markdown]
# ## Training with equal and with learned weights
#
# The trunk now has width 2, enough for both tasks. With plain SGD and equal weights the learning rate is capped by the
# large task: its curvature is $10^4$ times task 1's, so a rate of 0.01 makes task 2 diverge, while at 0.003, which
# is stable, task 1 is still far from fitted after 300 steps. Adam rescales each parameter's step and hides part of the imbalance; with
# learned uncertainty weights on top, both tasks reach the noise floor. The plot follows the normalized errors under
# Adam.

# %%
import math

import matplotlib.pyplot as plt


def train(weighting, optimizer_name="adam", lr=0.05, steps=300, seed=0):
    """Normalized errors (MSE / Var(y)) of both tasks after each step."""
    x, targets = make_tasks(seed=seed)
    model = MultiTask(width=2, seed=seed)
    log_vars = torch.zeros(2, requires_grad=True)
    parameters = list(model.parameters()) + [log_vars]
    optimizer = torch.optim.Adam(parameters, lr=lr) if optimizer_name == "adam" else torch.optim.SGD(parameters, lr=lr)
    history = []
    for _ in range(steps):
        optimizer.zero_grad()
        losses = task_losses(model, x, targets)
        objective = sum(losses) if weighting == "equal" else uncertainty_objective(losses, log_vars)
        objective.backward()
        optimizer.step()
        history.append([(loss / y.var()).item() for loss, y in zip(losses, targets)])
    return torch.tensor(history)


HISTORIES = {weighting: train(weighting) for weighting in ("equal", "uncertainty")}
fig, ax = plt.subplots(figsize=(6, 3.3))
for weighting, history in HISTORIES.items():
    style = "-" if weighting == "equal" else "--"
    for task in range(2):
        ax.plot(history[:, task], style, label=f"{weighting} weights, task {task + 1}")
ax.set(xlabel="Adam step", ylabel="MSE / Var(y)", yscale="log", title="two tasks, target scales 1 and 100")
ax.legend(fontsize=8)
fig.tight_layout()


# %%
def test_equal_weights_cap_the_learning_rate_uncertainty_weights_balance():
    """With SGD and equal weights, lr 0.01 diverges within 30 steps, and after 300 steps at the stable lr 0.003 task 1's normalized error is still above 0.4 while task 2's is below 0.01; with Adam, learned uncertainty weights bring both below 0.01 and task 1's error 5 times below equal weights'."""
    assert not math.isfinite(train("equal", "sgd", lr=0.01, steps=30)[-1].sum().item())
    sgd = train("equal", "sgd", lr=3e-3)[-1]
    assert sgd[0] > 0.4 and sgd[1] < 0.01
    equal, uncertainty = HISTORIES["equal"][-1], HISTORIES["uncertainty"][-1]
    assert uncertainty.max() < 0.01 and uncertainty[0] < equal[0] / 5


# %% [markdown]
# ## Conclusion
#
# Loss weights act on the shared layers through the weighted sum of the task gradients, so a task whose loss is large
# only because of its units takes over. Hand-tuned weights, normalizing each loss by its initial value, or learned
# uncertainty weights that converge to $1/(2L_i)$ all aim at the same thing: comparable gradient contributions. The
# uncertainty weighting makes each task's gradient $\tfrac12\nabla\log L_i$, independent of the targets' scale. Other
# schemes balance the gradients directly (GradNorm) or resolve conflicting directions (PCGrad); none removes the
# trade-off when the tasks compete for a shared capacity, it only chooses a point on it.

# %%
if __name__ == "__main__":
    from qed.claims import run_claims

    run_claims(globals())
