# %% [markdown]
# # Kernel methods and the kernel SVM: the proof
#
# **Question.** What is a kernel method, and what does a kernel SVM's decision function look like?
#
# A kernel $K(x, z) = \langle \varphi(x), \varphi(z) \rangle$ computes an inner product in a feature space
# without building $\varphi$. An SVM trained through its dual only ever needs the kernel, and predicts with
# $f(x) = \sum_i \alpha_i y_i K(x_i, x) + b$. This module solves the SVM dual from scratch (projected gradient
# ascent, in float64) and checks the result against independent certificates. Claims:
#
# 1. the degree-2 polynomial kernel $(x\cdot z + 1)^2$ equals the inner product of an explicit 6-dimensional
#    feature map (`test_polynomial_kernel_is_an_inner_product`);
# 2. RBF and polynomial Gram matrices are positive semi-definite; the "sigmoid kernel" is not
#    (`test_gram_matrices_are_positive_semidefinite`);
# 3. the dual solution is optimal: primal and dual objectives agree (duality gap under $10^{-4}$) and the
#    KKT margin conditions hold (`test_dual_solution_is_optimal`);
# 4. the decision function written as a kernel sum over support vectors equals $w\cdot\varphi(x) + b$ with
#    $w$ built explicitly, and points with $\alpha_i = 0$ can be dropped (`test_decision_function_written_out`);
# 5. on two concentric circles an RBF SVM classifies new points correctly, a linear kernel cannot do better
#    than chance-like accuracy (`test_rbf_kernel_separates_circles_linear_cannot`).
#
# Where it stops holding:
#
# 6. a too narrow RBF kernel makes almost every training point a support vector and memorises: the prediction
#    cost is one kernel evaluation per support vector (`test_narrow_kernel_memorises`).

# %% [markdown]
# ## Kernels and a dual solver
#
# The soft-margin dual is $\max_\alpha \sum_i \alpha_i - \tfrac12 \sum_{ij}\alpha_i\alpha_j y_i y_j K_{ij}$ with
# $0 \le \alpha_i \le C$. To keep the solver short, the bias is absorbed into the kernel ($K + 1$, i.e. a
# constant feature), which removes the constraint $\sum_i \alpha_i y_i = 0$; then $b = \sum_i \alpha_i y_i$.
# The problem is a concave quadratic over a box, so (accelerated) projected gradient ascent converges to the
# optimum.

# %%
import matplotlib.pyplot as plt
import torch


def rbf(x, z, gamma=1.0):
    return torch.exp(-gamma * torch.cdist(x, z) ** 2)


def poly2(x, z):
    return (x @ z.T + 1) ** 2


def linear(x, z):
    return x @ z.T


def fit_svm(x, y, kernel, C=10.0, steps=4000):
    """Dual coefficients alpha of the soft-margin SVM with kernel K + 1 (bias absorbed)."""
    Q = (y[:, None] * y[None, :]) * (kernel(x, x) + 1)
    step = 1 / torch.linalg.eigvalsh(Q).max()
    alpha = previous = torch.zeros(len(y), dtype=x.dtype)
    for t in range(1, steps + 1):  # accelerated (Nesterov) projected gradient ascent
        look_ahead = alpha + (t - 1) / (t + 2) * (alpha - previous)
        previous, alpha = alpha, (look_ahead + step * (1 - Q @ look_ahead)).clamp(0, C)
    return alpha


def decision(alpha, x_train, y_train, kernel, x):
    """f(x) = sum_i alpha_i y_i K(x_i, x) + b, with b = sum_i alpha_i y_i."""
    coef = alpha * y_train
    return kernel(x, x_train) @ coef + coef.sum()


def circles(n, generator):
    angle = torch.rand(n, generator=generator, dtype=torch.float64) * 2 * torch.pi
    label = torch.randint(0, 2, (n,), generator=generator).double() * 2 - 1  # -1 inner, +1 outer
    radius = 1.5 + 0.5 * label + 0.15 * torch.randn(n, generator=generator, dtype=torch.float64)
    return torch.stack([radius * angle.cos(), radius * angle.sin()], dim=1), label


g = torch.Generator().manual_seed(0)
X_TRAIN, Y_TRAIN = circles(100, g)
X_TEST, Y_TEST = circles(300, g)
ALPHA = fit_svm(X_TRAIN, Y_TRAIN, rbf)

# %% [markdown]
# ## The decision function of an RBF SVM
#
# Contours of $f$ on the plane; circled points are the support vectors ($\alpha_i > 0$), the only training
# points the prediction uses.

# %%
grid = torch.linspace(-2.8, 2.8, 80, dtype=torch.float64)
gx, gy = torch.meshgrid(grid, grid, indexing="xy")
f_grid = decision(ALPHA, X_TRAIN, Y_TRAIN, rbf, torch.stack([gx.flatten(), gy.flatten()], 1)).reshape(80, 80)
support = ALPHA > 1e-8
fig, ax = plt.subplots(figsize=(4.2, 4))
ax.contourf(gx, gy, f_grid, levels=[-100, -1, 0, 1, 100], cmap="coolwarm", alpha=0.4)
ax.contour(gx, gy, f_grid, levels=[0], colors="k")
ax.scatter(*X_TRAIN.T, c=Y_TRAIN, cmap="coolwarm", s=12)
ax.scatter(*X_TRAIN[support].T, facecolors="none", edgecolors="k", s=60, label=f"{int(support.sum())} support vectors")
ax.legend(loc="upper right", fontsize=8)
ax.set(xlabel="$x_1$", ylabel="$x_2$", title="RBF SVM: decision boundary and margins")
ax.set_aspect("equal")
fig.tight_layout()

# %% [markdown]
# ## Claims: kernels
#
# The kernel against an explicit feature map, and the Gram matrices' spectra.

# %%
def phi2(x):
    """Explicit feature map of (x.z + 1)^2 for 2-D inputs: 6 features."""
    x1, x2 = x[:, 0], x[:, 1]
    s = 2**0.5
    return torch.stack([torch.ones_like(x1), s * x1, s * x2, x1**2, x2**2, s * x1 * x2], dim=1)


def test_polynomial_kernel_is_an_inner_product():
    """(x.z + 1)^2 equals phi(x).phi(z) for the explicit map (1, sqrt2 x1, sqrt2 x2, x1^2, x2^2, sqrt2 x1 x2)."""
    torch.manual_seed(0)
    x, z = torch.randn(7, 2, dtype=torch.float64), torch.randn(5, 2, dtype=torch.float64)
    torch.testing.assert_close(poly2(x, z), phi2(x) @ phi2(z).T)


def test_gram_matrices_are_positive_semidefinite():
    """RBF and polynomial Gram matrices on 100 points have no eigenvalue below -1e-10; the Gram matrix of tanh(x.z - 1) has one below -40."""
    for kernel in (rbf, poly2):
        assert torch.linalg.eigvalsh(kernel(X_TRAIN, X_TRAIN)).min() > -1e-10
    sigmoid_gram = torch.tanh(X_TRAIN @ X_TRAIN.T - 1)
    assert torch.linalg.eigvalsh(sigmoid_gram).min() < -40.0


# %% [markdown]
# ## Claims: the trained SVM
#
# The primal objective $\tfrac12\|w\|^2 + C\sum_i \max(0, 1 - y_i f(x_i))$, evaluated at $w = \sum_i \alpha_i y_i \varphi(x_i)$,
# upper-bounds the dual objective; they meet only at the optimum.

# %%
def objectives(alpha, x, y, kernel, C=10.0):
    coef = alpha * y
    K = kernel(x, x) + 1
    margins = y * (K @ coef)
    primal = 0.5 * coef @ K @ coef + C * (1 - margins).clamp(min=0).sum()
    dual = alpha.sum() - 0.5 * coef @ K @ coef
    return primal.item(), dual.item(), margins


def test_dual_solution_is_optimal():
    """Primal and dual objectives agree to 1e-4 relative, and the margins satisfy KKT to 1e-3: >= 1 where alpha = 0, = 1 where 0 < alpha < C, <= 1 where alpha = C."""
    primal, dual, margins = objectives(ALPHA, X_TRAIN, Y_TRAIN, rbf)
    assert primal >= dual  # weak duality, at any alpha
    assert primal - dual <= 1e-4 * abs(primal)
    free = (ALPHA > 1e-6) & (ALPHA < 10 - 1e-6)
    assert (margins[ALPHA <= 1e-6] >= 1 - 1e-3).all()
    torch.testing.assert_close(margins[free], torch.ones_like(margins[free]), rtol=0, atol=1e-3)
    assert (margins[ALPHA >= 10 - 1e-6] <= 1 + 1e-3).all()
    primal_early, dual_early, _ = objectives(fit_svm(X_TRAIN, Y_TRAIN, rbf, steps=50), X_TRAIN, Y_TRAIN, rbf)
    assert primal_early - dual_early > 10 * (primal - dual)  # the certificate does detect a poor solution


def test_decision_function_written_out():
    """For a degree-2 polynomial SVM, sum_i alpha_i y_i K(x_i, x) + b equals w.phi(x) + b with w = sum_i alpha_i y_i phi(x_i), and only support vectors matter."""
    alpha = fit_svm(X_TRAIN, Y_TRAIN, poly2, C=1.0)
    actual = decision(alpha, X_TRAIN, Y_TRAIN, poly2, X_TEST)
    w = (alpha * Y_TRAIN) @ phi2(X_TRAIN)  # (6,): the weight vector in feature space
    expected = phi2(X_TEST) @ w + (alpha * Y_TRAIN).sum()
    torch.testing.assert_close(actual, expected)
    sv = alpha > 0
    assert sv.sum() < len(alpha)
    torch.testing.assert_close(decision(alpha[sv], X_TRAIN[sv], Y_TRAIN[sv], poly2, X_TEST), actual)


def accuracy(alpha, kernel, x, y):
    return (decision(alpha, X_TRAIN, Y_TRAIN, kernel, x).sign() == y).double().mean().item()


def test_rbf_kernel_separates_circles_linear_cannot():
    """On 300 new points of two noisy circles the RBF SVM is at least 98% accurate; the same solver with a linear kernel stays under 65%."""
    assert accuracy(ALPHA, rbf, X_TEST, Y_TEST) >= 0.98
    alpha_linear = fit_svm(X_TRAIN, Y_TRAIN, linear, C=1.0)
    assert accuracy(alpha_linear, linear, X_TEST, Y_TEST) < 0.65


# %% [markdown]
# ## Where it stops holding: the kernel's width
#
# With $\gamma = 200$ the RBF kernel is nearly the identity matrix on the training set: every point becomes a
# support vector, the training set is fitted perfectly and new points are classified by their nearest
# training point at best. Prediction costs one kernel evaluation per support vector, and the Gram matrix
# costs $O(n^2)$ memory, which is what limits kernel SVMs on large datasets.

# %%
def test_narrow_kernel_memorises():
    """With gamma = 200 at least 95 of the 100 training points are support vectors, training accuracy is 1 and test accuracy drops below the gamma = 1 model's."""
    narrow = lambda x, z: rbf(x, z, gamma=200.0)  # noqa: E731
    alpha = fit_svm(X_TRAIN, Y_TRAIN, narrow)
    assert int((alpha > 1e-8).sum()) >= 95
    assert int((ALPHA > 1e-8).sum()) < 50
    assert accuracy(alpha, narrow, X_TRAIN, Y_TRAIN) == 1.0
    assert accuracy(alpha, narrow, X_TEST, Y_TEST) < accuracy(ALPHA, rbf, X_TEST, Y_TEST) - 0.05


# %% [markdown]
# ## Conclusion
#
# A kernel replaces the inner product of a feature map, which may be infinite-dimensional (RBF); it must be
# positive semi-definite for the SVM dual to be a concave problem. The trained SVM predicts with
# $\sum_i \alpha_i y_i K(x_i, x) + b$ over its support vectors, which equals a linear classifier in feature
# space. The price is one kernel evaluation per support vector and an $n\times n$ Gram matrix, and the
# kernel's width decides between smoothing and memorising.

# %%
if __name__ == "__main__":
    from qed.claims import run_claims

    run_claims(globals())
