"""``AlphabetQuantizer``: projection of integer weight codes onto the weights an alphabet set
multiplier represents (the nearest one; ties as ``tie``), with a straight-through gradient.

Alphabet-aware training (Sarwar et al., ACM JETC 2018): train, then fine-tune with the
projection on (``weight_transform=AlphabetQuantizer(...)`` on the layers, or their multiplier
set to ``"asm:..."``, which multiplies by the projected weights: the two are the same
products).

>>> import torch
>>> q = AlphabetQuantizer("1,3", bits=8)
>>> q(torch.tensor([5.0, -7.0, 15.0, 127.0])).tolist()
[6.0, -8.0, 16.0, 108.0]

The projection stays inside the layer's weight codes (|code| <= 127 at 8 signed bits), so a
weight near the top goes to the largest representable magnitude below it; an ``"asm:..."``
multiplier instead takes 128 there, as its sign-magnitude hardware can.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from actc.mac.families.asm import AsmFamily

__all__ = ["AlphabetQuantizer"]


class AlphabetQuantizer(nn.Module):
    """Weight codes -> the nearest representable weight codes (straight-through)."""

    values: torch.Tensor

    def __init__(self, alphabet: str | tuple[int, ...], bits: int = 8, signed: bool = True,
                 tie: str = "up", limit: int | None = None) -> None:
        super().__init__()
        letters = tuple(int(t) for t in alphabet.split(",")) if isinstance(alphabet, str) \
            else tuple(alphabet)
        self.family = AsmFamily(letters, tie)
        self.tie = tie
        self.bits = bits
        self.signed = signed
        self.limit = limit if limit is not None else \
            ((1 << (bits - 1)) - 1 if signed else (1 << bits) - 1)
        mags = self.family.layout(bits, signed).nearest(tie, self.limit)
        self.register_buffer("values", torch.from_numpy(mags.astype("float32")),
                             persistent=False)

    @property
    def representable(self) -> int:
        """How many weight magnitudes (up to ``limit``) the alphabet represents."""
        return int(len(np.unique(self.values.numpy())))

    def for_widths(self, bits: int, signed: bool) -> AlphabetQuantizer:
        """The projection for another layer's weight codes (``set_multiplier`` calls it when
        the widths change): this one if they are its own."""
        if (bits, signed) == (self.bits, self.signed):
            return self
        return AlphabetQuantizer(self.family.alphabet, bits, signed, self.tie)

    def forward(self, codes: torch.Tensor) -> torch.Tensor:
        mag = codes.detach().abs().long().clamp_max(len(self.values) - 1)
        projected = torch.sign(codes.detach()) * self.values[mag]
        return codes + (projected - codes).detach()

    def extra_repr(self) -> str:
        return f"{self.family.spec()}, bits={self.bits}, signed={self.signed}"
