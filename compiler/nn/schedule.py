"""``HybridSchedule``: approximate products for the first ``approx_epochs``, exact for the last
``exact_epochs`` (Hammad et al.: the exact epochs recover the accuracy), or the reverse order
(``order="exact-first"``: exact training, then approximate fine-tuning, as TorchApprox
recommends).

The second phase is a fine-tuning phase: give it its own learning-rate decay (restart the
scheduler at ``switch_epoch``). On the digits CNN through EvoApproxLib's mul8s_1KR3 (MRE 136
%), exact epochs at the tail of one cosine decay recovered 36 % of what all-approximate
training loses on exact hardware, with the decay restarted 89 % (validation data,
benchmarks/results/mac_training_pilot.txt).

>>> s = HybridSchedule(8, 2)
>>> [s.approximate(e) for e in range(10)].count(True), s.approximate_fraction, s.switch_epoch
(8, 0.8, 8)
"""

from __future__ import annotations

from torch import nn

__all__ = ["HybridSchedule"]

ORDERS = ("approximate-first", "exact-first")


class HybridSchedule:
    """Which epochs run approximate products; ``apply`` switches a model's layers."""

    def __init__(self, approx_epochs: int, exact_epochs: int,
                 order: str = "approximate-first") -> None:
        if approx_epochs < 0 or exact_epochs < 0 or approx_epochs + exact_epochs == 0:
            raise ValueError("give a positive number of epochs")
        if order not in ORDERS:
            raise ValueError(f"order must be one of {', '.join(ORDERS)}")
        self.approx_epochs = approx_epochs
        self.exact_epochs = exact_epochs
        self.order = order

    @property
    def epochs(self) -> int:
        return self.approx_epochs + self.exact_epochs

    @property
    def approximate_fraction(self) -> float:
        """The share of the training MACs done approximately (equal work per epoch)."""
        return self.approx_epochs / self.epochs

    @property
    def switch_epoch(self) -> int:
        """The first epoch of the second phase (exact epochs for ``approximate-first``)."""
        return self.approx_epochs if self.order == "approximate-first" else self.exact_epochs

    def approximate(self, epoch: int) -> bool:
        """Whether epoch (0-based) uses the approximate products."""
        if self.order == "approximate-first":
            return epoch < self.approx_epochs
        return epoch >= self.exact_epochs

    def apply(self, model: nn.Module, epoch: int) -> bool:
        """Set every approximate layer of the model for this epoch; return the setting."""
        from .layers import approximate_layers

        on = self.approximate(epoch)
        for layer in approximate_layers(model):
            layer.approximate = on
        return on
