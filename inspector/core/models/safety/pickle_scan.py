"""The one static pickle scanner: which globals a pickle would import, without unpickling it.

Used for every pickle in a torch file (torch.save, the pickles inside .pt2 and TorchScript
archives). The opcodes are walked with pickletools while a small model of the unpickler's
stack and memo is kept, so a global assembled from memoised strings (STACK_GLOBAL after
BINGET) is still named correctly; a global whose name is not a literal is reported as such.
"""

from __future__ import annotations

import io
import pickletools
from dataclasses import dataclass
from typing import IO

# What tensors, storages, parameters and plain containers need: the part of torch's
# weights_only allowlist that a classifier's weights or sample inputs use (reviewed by hand;
# no quantised, sparse, nested or subclass rebuilders).
TENSOR_GLOBALS = frozenset(
    {
        "_codecs.encode",
        "builtins.bytearray",
        "builtins.set",
        "collections.OrderedDict",
        "torch.BFloat16Storage",
        "torch.BoolStorage",
        "torch.ByteStorage",
        "torch.CharStorage",
        "torch.DoubleStorage",
        "torch.FloatStorage",
        "torch.HalfStorage",
        "torch.IntStorage",
        "torch.LongStorage",
        "torch.ShortStorage",
        "torch.Size",
        "torch._utils._rebuild_parameter",
        "torch._utils._rebuild_parameter_with_state",
        "torch._utils._rebuild_tensor",
        "torch._utils._rebuild_tensor_v2",
        "torch._utils._rebuild_tensor_v3",
        "torch.bfloat16",
        "torch.bool",
        "torch.device",
        "torch.float16",
        "torch.float32",
        "torch.float64",
        "torch.int16",
        "torch.int32",
        "torch.int64",
        "torch.int8",
        "torch.nn.parameter.Parameter",
        "torch.storage.TypedStorage",
        "torch.storage.UntypedStorage",
        "torch.uint8",
    }
)
# TorchScript's own (C++) unpickler also reads these: typed lists and the classes that the
# archive's code/ folder defines (that code is scanned separately, see script_source.py).
SCRIPT_GLOBALS = TENSOR_GLOBALS | frozenset(
    {
        "torch.jit._pickle.build_boollist",
        "torch.jit._pickle.build_doublelist",
        "torch.jit._pickle.build_intlist",
        "torch.jit._pickle.build_tensorlist",
        "torch.jit._pickle.restore_type_tag",
    }
)
SCRIPT_CLASS_PREFIX = "__torch__."
COMPUTED = "<a global whose name is computed>"

_STRING_OPS = frozenset(
    {"STRING", "BINSTRING", "SHORT_BINSTRING", "UNICODE", "BINUNICODE", "SHORT_BINUNICODE"}
    | {"BINUNICODE8"}
)
_INT_OPS = frozenset({"INT", "BININT", "BININT1", "BININT2", "LONG", "LONG1", "LONG4"})
_TUPLE_SIZES = {"EMPTY_TUPLE": 0, "TUPLE1": 1, "TUPLE2": 2, "TUPLE3": 3}
_PUT_OPS = frozenset({"PUT", "BINPUT", "LONG_BINPUT"})
_GET_OPS = frozenset({"GET", "BINGET", "LONG_BINGET"})
_EXT_OPS = frozenset({"EXT1", "EXT2", "EXT4"})
_MARK = object()
_OPAQUE = object()
_MAX_STACK = 1_000_000
# ~1.3 s per million opcodes here; a state_dict takes ~30 per tensor, so 2M is ~70k tensors
MAX_OPCODES = 2_000_000


class NotAPickle(ValueError):
    """The bytes are not one well-formed pickle (corrupt, truncated or another format)."""


@dataclass(frozen=True)
class PickleScan:
    """The globals one pickle names (in order, once each), its persistent ids, its end."""

    globals: tuple[str, ...]
    end: int
    persistent_ids: tuple[object, ...] = ()

    def storage_elements(self) -> list[int]:
        """Element counts torch's storage ids declare: ("storage", type, key, device, n)."""
        return [
            pid[4]
            for pid in self.persistent_ids
            if isinstance(pid, tuple)
            and len(pid) >= 5
            and pid[0] == "storage"
            and isinstance(pid[4], int)
        ]

    def refused(self, allowed: frozenset[str], script: bool = False) -> list[str]:
        """The globals outside `allowed` (plus __torch__ classes when `script`)."""
        return [
            g
            for g in self.globals
            if g not in allowed and not (script and g.startswith(SCRIPT_CLASS_PREFIX))
        ]


def scan_pickle(source: bytes | IO[bytes]) -> PickleScan:
    """Walk one pickle from the current position to STOP; it must start with PROTO (≥ 2)."""
    stream = io.BytesIO(source) if isinstance(source, bytes | bytearray) else source
    start = stream.tell()
    if stream.read(1) != b"\x80":
        raise NotAPickle("does not start with a pickle protocol header")
    stream.seek(start)
    state = _Machine()
    try:
        for count, (opcode, arg, pos) in enumerate(pickletools.genops(stream)):
            if count >= MAX_OPCODES:
                raise NotAPickle(f"the pickle runs past {MAX_OPCODES} opcodes")
            state.step(opcode, arg)
            if opcode.name == "STOP":
                found = tuple(dict.fromkeys(state.found))
                return PickleScan(found, int(pos or 0) + 1, tuple(state.persistent_ids))
    except NotAPickle:
        raise
    except Exception as exc:  # pickletools raises ValueError, struct/unicode errors...
        raise NotAPickle(f"malformed pickle ({type(exc).__name__})") from None
    raise NotAPickle("the pickle does not end")


def scan_pickles(source: bytes | IO[bytes], count: int) -> list[PickleScan]:
    """Up to `count` consecutive pickles (the legacy torch.save layout); stops at non-pickle."""
    stream = io.BytesIO(source) if isinstance(source, bytes | bytearray) else source
    scans = [scan_pickle(stream)]
    while len(scans) < count:
        position = stream.tell()
        if stream.read(1) != b"\x80":
            break
        stream.seek(position)
        scans.append(scan_pickle(stream))
    return scans


class _Machine:
    """Just enough of the unpickler's stack and memo to know the strings behind a global."""

    def __init__(self) -> None:
        self.stack: list[object] = []
        self.memo: dict[int, object] = {}
        self.found: list[str] = []
        self.persistent_ids: list[object] = []

    def step(self, opcode: pickletools.OpcodeInfo, arg: object) -> None:
        name = opcode.name
        if name in _STRING_OPS:
            self.stack.append(arg.decode("latin-1") if isinstance(arg, bytes) else arg)
        elif name in _INT_OPS:
            self.stack.append(arg)
        elif name in _TUPLE_SIZES or name == "TUPLE":
            self.stack.append(self._tuple(_TUPLE_SIZES.get(name)))
        elif name == "BINPERSID":
            self.persistent_ids.append(self._pop())
            self.stack.append(_OPAQUE)
        elif name == "PERSID":
            self.persistent_ids.append(arg)
            self.stack.append(_OPAQUE)
        elif name == "GLOBAL" or name == "INST":
            module, _, qualname = str(arg).partition(" ")
            self.found.append(f"{module}.{qualname}")
            self._generic(opcode)
        elif name == "STACK_GLOBAL":
            qualname, module = self._pop(), self._pop()
            ok = isinstance(module, str) and isinstance(qualname, str)
            self.found.append(f"{module}.{qualname}" if ok else COMPUTED)
            self.stack.append(_OPAQUE)
        elif name in _EXT_OPS:
            self.found.append(f"<extension code {arg}>")
            self.stack.append(_OPAQUE)
        elif name in _PUT_OPS:
            self.memo[int(arg)] = self._top()  # type: ignore[arg-type]
        elif name == "MEMOIZE":
            self.memo[len(self.memo)] = self._top()
        elif name in _GET_OPS:
            if int(arg) not in self.memo:  # type: ignore[arg-type]
                raise NotAPickle("reads a memo entry that was never written")
            self.stack.append(self.memo[int(arg)])  # type: ignore[arg-type]
        elif name == "DUP":
            self.stack.append(self._top())
        else:
            self._generic(opcode)
        if len(self.stack) > _MAX_STACK:
            raise NotAPickle("the pickle's stack grows without bound")

    def _generic(self, opcode: pickletools.OpcodeInfo) -> None:
        before = opcode.stack_before
        if pickletools.markobject in before:
            while self._pop() is not _MARK:
                pass
            count = before.index(pickletools.markobject)
        else:
            count = len(before)
        for _ in range(count):
            self._pop()
        for item in opcode.stack_after:
            self.stack.append(_MARK if item is pickletools.markobject else _OPAQUE)

    def _tuple(self, size: int | None) -> tuple:
        """TUPLE1-3 take `size` items; TUPLE (size None) takes everything above the mark."""
        items: list[object] = []
        if size is None:
            while (item := self._pop()) is not _MARK:
                items.append(item)
        else:
            items = [self._pop() for _ in range(size)]
        return tuple(reversed(items))

    def _pop(self) -> object:
        if not self.stack:
            raise NotAPickle("the pickle pops an empty stack")
        return self.stack.pop()

    def _top(self) -> object:
        if not self.stack:
            raise NotAPickle("the pickle reads an empty stack")
        return self.stack[-1]


class ClampedReader:
    """A file view for pickletools: reads never ask for more than the file still holds.

    A hostile length field (BINUNICODE8 of 2**60 bytes) must not become one huge allocation,
    and a text opcode without a newline must not read the whole file.
    """

    def __init__(self, raw: IO[bytes], size: int, line_limit: int = 1 << 16) -> None:
        self.raw = raw
        self.size = size
        self.line_limit = line_limit

    def tell(self) -> int:
        return self.raw.tell()

    def seek(self, offset: int, whence: int = 0) -> int:
        return self.raw.seek(offset, whence)

    def read(self, n: int = -1) -> bytes:
        left = max(0, self.size - self.raw.tell())
        return self.raw.read(left if n is None or n < 0 else min(n, left))

    def readline(self, limit: int = -1) -> bytes:
        return self.raw.readline(self.line_limit)
