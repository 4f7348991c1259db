"""Which ATen operators a piece of PyTorch code runs, and how many bytes each one writes.

First explained in ``answers/normalization/conv_bn_fusion.py`` (counting the work that Conv-BN fusion
removes); moved here on its second use, ``answers/regularization/dropout.py`` (what ``F.dropout`` runs
on CPU). A ``TorchDispatchMode`` sees every operator below autograd, after Python-level wrappers such
as ``nn.Module`` and ``F.*`` have been unwrapped into ATen calls.
"""

from __future__ import annotations

import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_leaves


class DispatchLog(TorchDispatchMode):
    """Record every ATen op that runs: its overload name and the bytes of the tensors it returns."""

    def __init__(self):
        super().__init__()
        self.calls: list[tuple[torch._ops.OpOverload, int]] = []  # (op, bytes written)

    @classmethod
    def _should_skip_dynamo(cls):
        return False  # nothing here is compiled; skipping the dynamo wrapper saves a 2 s import of torch._dynamo

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        written = sum(t.numel() * t.element_size() for t in tree_leaves(out) if isinstance(t, torch.Tensor))
        self.calls.append((func, written))
        return out

    @property
    def ops(self) -> list[tuple[str, int]]:
        """(short op name, bytes written), e.g. ``("convolution", 4096)``."""
        return [(func.overloadpacket.__name__, written) for func, written in self.calls]

    @property
    def overloads(self) -> list[str]:
        """The full overload names, e.g. ``"aten.mul.Tensor"``."""
        return [str(func) for func, _ in self.calls]
