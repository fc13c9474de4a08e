"""Per-example random streams: an example's draws depend on its own key, never on its batch.

A counter-based scheme (a 32-bit integer hash of key and counter, as in Philox/Random123):
a draw is a pure function of (example key, draw tag, element number), so a result does not
depend on the batch size, the shard layout or the number of processes, and a whole batch
draws in a few vectorised integer operations (no per-example generator objects).

Keys come from (seed, ε index, dataset index) in the sweep (`for_examples`); attacks
derive one child stream per purpose (`child(restart, step, ...)`) and draw from it once.
Called with a plain `torch.Generator` (or None), an attack draws one key per row from it
(`as_streams`): reproducible for a given generator, as before.
"""

from __future__ import annotations

import math
from functools import lru_cache

import torch

_MASK = 0xFFFFFFFF
_GOLDEN = 0x9E3779B9


def mix32(x: torch.Tensor) -> torch.Tensor:
    """The lowbias32 integer hash on int64 tensors holding 32-bit values (wrapping products)."""
    x = x ^ (x >> 16)
    x = (x * 0x7FEB352D) & _MASK
    x = x ^ (x >> 15)
    x = (x * 0x846CA68B) & _MASK
    return x ^ (x >> 16)


def _mix32_int(x: int) -> int:
    """mix32 on one Python int (tags are hashed without touching a tensor)."""
    x &= _MASK
    x ^= x >> 16
    x = (x * 0x7FEB352D) & _MASK
    x ^= x >> 15
    x = (x * 0x846CA68B) & _MASK
    return x ^ (x >> 16)


@lru_cache(maxsize=256)
def _counters(count: int, device: str) -> torch.Tensor:
    """The hashed element numbers 0..count−1, cached: most draws are small and repeated."""
    return mix32(torch.arange(count, dtype=torch.int64, device=device))


def _salted(tags, salt: int = 0) -> int:
    for tag in tags:
        salt = _mix32_int(salt ^ _mix32_int(tag + _GOLDEN))
    return salt


_SMALL = 64  # counter tables up to this size are computed in Python (no tensor kernels)


def _table(salt: int, count: int, device: str) -> torch.Tensor:
    """The hashed (salt, element number) for count elements: what each row's key meets."""
    if count <= _SMALL:
        values = [_mix32_int(salt ^ _mix32_int(j + _GOLDEN)) for j in range(count)]
        return torch.tensor(values, dtype=torch.int64, device=device)
    return mix32(_counters(count, device) ^ salt)


class Streams:
    """One random stream per row of a batch, addressed by explicit tags (no hidden state).

    `child(tags)` only updates a salt in Python, so deriving a stream per step is free; a
    draw is one hash of [rows, count] integers.
    """

    def __init__(self, keys: torch.Tensor, salt: int = 0) -> None:
        self.keys = keys.to(torch.int64) & _MASK
        self.salt = salt

    @classmethod
    def for_examples(cls, seed: int, indices, device, *tags: int) -> Streams:
        """Streams for dataset examples `indices` under `seed` (and tags, e.g. the ε index)."""
        index = torch.as_tensor(indices, dtype=torch.int64, device=device) & _MASK
        salt = _salted((seed & _MASK, seed >> 32, *tags))
        return cls(mix32(mix32(index + _GOLDEN) ^ salt))

    def __len__(self) -> int:
        return int(self.keys.shape[0])

    @classmethod
    def _of(cls, keys: torch.Tensor, salt: int) -> Streams:
        """Keys already in range: no tensor work."""
        streams = cls.__new__(cls)
        streams.keys, streams.salt = keys, salt
        return streams

    def rows(self, rows: torch.Tensor) -> Streams:
        """The streams of some rows (a broken row leaves; the others keep their own)."""
        return Streams._of(self.keys[rows], self.salt)

    def child(self, *tags: int) -> Streams:
        """An independent stream per row for one purpose (restart, step, member, ...)."""
        return Streams._of(self.keys, _salted(tags, self.salt))

    def bits(self, count: int) -> torch.Tensor:
        """[rows, count] independent 32-bit values (int64)."""
        table = _table(self.salt, count, str(self.keys.device))
        return mix32(self.keys[:, None] ^ table[None, :])

    def uniform(self, shape: tuple[int, ...], like: torch.Tensor) -> torch.Tensor:
        """[rows, *shape] uniform in [0, 1) (24 bits), in the dtype and device of `like`."""
        bits = self.bits(math.prod(shape)) >> 8
        return (bits.to(like.dtype) * 2.0**-24).view(len(self), *shape).to(like.device)

    def normal(self, shape: tuple[int, ...], like: torch.Tensor) -> torch.Tensor:
        """[rows, *shape] standard normal (Box–Muller on two uniforms per value)."""
        u = self.uniform((2, math.prod(shape)), like)
        radius = (-2.0 * torch.log1p(-u[:, 0])).sqrt()  # 1 − u ∈ (0, 1]: the log is finite
        return (radius * torch.cos(2 * math.pi * u[:, 1])).view(len(self), *shape)

    def signs(self, shape: tuple[int, ...], like: torch.Tensor) -> torch.Tensor:
        """[rows, *shape] ±1 with equal probability."""
        bits = (self.bits(math.prod(shape)) >> 31) & 1
        return (2 * bits - 1).to(like.dtype).view(len(self), *shape).to(like.device)

    def below(self, high: int, count: int = 1) -> torch.Tensor:
        """[rows, count] integers uniform in [0, high), high < 2³¹ (Lemire's multiply-shift)."""
        return (self.bits(count) * high) >> 32


def as_streams(generator, n: int, device) -> Streams:
    """The attack's streams: given ones, or one key per row drawn from a torch generator."""
    if isinstance(generator, Streams):
        return generator
    gen_device = generator.device if generator is not None else "cpu"
    keys = torch.randint(0, 1 << 32, (n,), generator=generator, device=gen_device)
    return Streams(keys.to(device))
