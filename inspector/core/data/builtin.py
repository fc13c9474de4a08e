"""Built-in datasets that need no files: scikit-learn digits and the Tsipras et al. toy.

`digits` is a real (tiny) image set so the whole pipeline can be tried offline in seconds.
`tsipras` is the distribution from Tsipras et al. 2018, "Robustness May Be at Odds with
Accuracy": a label y in {-1, +1}, one strong-but-noisy feature z1 = y with probability p
(else -y) and d weak features z2..z_{d+1} ~ N(eta * y, 1). A classifier that averages the
weak features is almost always right on clean data, yet an L-inf adversary with budget
2 * eta (in z units) moves every weak feature to the other class's mean; only z1 is robust.

Pixels are x = clip(0.5 + z / 10, 0, 1), so an eps in pixel units is eps_z / 10: the weak
features are all flipped at pixel eps >= 2 * eta / 10 ~= 0.0756 (TSIPRAS_WEAK_FLIP_EPS),
while z1 (at 0.5 +- 0.1) survives any eps below 0.1 (TSIPRAS_STRONG_FLIP_EPS).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from inspector.core.data.common import ArrayDataset, sha256_arrays
from inspector.core.errors import InspectorError

BUILTIN_NAMES = ("digits", "tsipras")
# What a front end offers to open without a file: (spec, what it is), in the menu's order.
BUILTIN_CHOICES = (
    ("digits", "8×8 handwritten digits, test split (360 images)"),
    ("digits:train", "8×8 handwritten digits, training split (1,437 images)"),
    ("tsipras", "Tsipras et al.'s provable tradeoff (n=1000, p=0.9)"),
)

DIGITS_TEST_SIZE = 0.2
DIGITS_RANDOM_STATE = 0

TSIPRAS_D = 63  # number of weak features; d + 1 = 64 values fill one 8x8 image
TSIPRAS_ETA = 3.0 / math.sqrt(TSIPRAS_D)  # mean of the weak features, times y
TSIPRAS_PIXEL_SCALE = 0.1  # pixel = 0.5 + z * TSIPRAS_PIXEL_SCALE
TSIPRAS_WEAK_FLIP_EPS = 2.0 * TSIPRAS_ETA * TSIPRAS_PIXEL_SCALE  # ~0.0756 in pixels
TSIPRAS_STRONG_FLIP_EPS = 1.0 * TSIPRAS_PIXEL_SCALE  # z1 = +-1 sits 0.1 from the midpoint
TSIPRAS_SHAPE = (1, 8, 8)
TSIPRAS_CLASS_NAMES = ("-1", "+1")


def tsipras_eta(d: int = TSIPRAS_D) -> float:
    """Weak-feature mean 3 / sqrt(d): large enough that averaging d of them is reliable."""
    return 3.0 / math.sqrt(d)


def z_to_pixels(z: np.ndarray) -> np.ndarray:
    """Map feature values to pixels in [0, 1] (float32), z = 0 at mid-gray."""
    return np.clip(0.5 + np.asarray(z) * TSIPRAS_PIXEL_SCALE, 0.0, 1.0).astype(np.float32)


def pixels_to_z(x: np.ndarray) -> np.ndarray:
    """Inverse of `z_to_pixels` (exact wherever no clipping happened)."""
    return (np.asarray(x, dtype=np.float64) - 0.5) / TSIPRAS_PIXEL_SCALE


def pixel_eps_to_z(eps: float) -> float:
    """An L-inf budget in pixel units expressed in feature (z) units."""
    return eps / TSIPRAS_PIXEL_SCALE


def is_builtin(spec: str) -> bool:
    """True for `digits`, `tsipras` and their `name:...` forms (checked before any path)."""
    name = spec.split(":", 1)[0].strip().lower()
    return name in BUILTIN_NAMES


def open_builtin(spec: str) -> ArrayDataset:
    name, _, rest = spec.partition(":")
    name = name.strip().lower()
    if name == "digits":
        return open_digits(spec, rest.strip())
    return open_tsipras(spec, parse_tsipras_spec(rest))


# --- digits -----------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _digits_arrays() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Load sklearn's bundled digits once and split them (sklearn is imported lazily: slow)."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    bunch = load_digits()
    images = (bunch.images / 16.0).astype(np.float32)[:, None, :, :]
    target = bunch.target.astype(np.int64)
    train_idx, test_idx = train_test_split(
        np.arange(len(target)),
        test_size=DIGITS_TEST_SIZE,
        stratify=target,
        random_state=DIGITS_RANDOM_STATE,
    )
    parts = (images[test_idx], target[test_idx], images[train_idx], target[train_idx])
    for part in parts:
        part.setflags(write=False)  # cached and shared between datasets: keep it intact
    return parts


def open_digits(spec: str, split: str) -> ArrayDataset:
    """`digits` / `digits:test` = 360 held-out images, `digits:train` = the other 1437."""
    split = split.lower() or "test"
    if split not in ("test", "train"):
        raise InspectorError(
            f"unknown digits split {split!r}; use digits, digits:test or digits:train"
        )
    x_test, y_test, x_train, y_train = _digits_arrays()
    images, labels = (x_test, y_test) if split == "test" else (x_train, y_train)
    return ArrayDataset(
        spec=spec,
        kind="digits",
        images=images,
        labels=labels,
        class_names=tuple(str(i) for i in range(10)),
        sha256=sha256_arrays(images, labels),
    )


# --- tsipras ----------------------------------------------------------------------------


@dataclass(frozen=True)
class TsiprasParams:
    """What `tsipras:n=...,p=...,seed=...,split=...` asks for."""

    n: int = 1000
    p: float = 0.9
    seed: int = 0
    split: str = "test"


def parse_tsipras_spec(options: str) -> TsiprasParams:
    """Parse the part after `tsipras:`, e.g. `n=500,p=0.95,seed=3,split=train`."""
    values: dict[str, str] = {}
    for item in filter(None, (part.strip() for part in options.split(","))):
        key, sep, value = item.partition("=")
        key = key.strip().lower()
        if not sep or key not in ("n", "p", "seed", "split"):
            raise InspectorError(
                f"bad tsipras option {item!r}; use tsipras:n=1000,p=0.9,seed=0,split=test"
            )
        values[key] = value.strip()
    try:
        params = TsiprasParams(
            n=int(values.get("n", TsiprasParams.n)),
            p=float(values.get("p", TsiprasParams.p)),
            seed=int(values.get("seed", TsiprasParams.seed)),
            split=values.get("split", TsiprasParams.split).lower(),
        )
    except ValueError as exc:
        raise InspectorError(
            f"bad tsipras option value ({exc}); n and seed are integers, p a number"
        ) from exc
    _check_tsipras_params(params)
    return params


def _check_tsipras_params(params: TsiprasParams) -> None:
    if params.n < 1:
        raise InspectorError(f"tsipras n={params.n}; ask for at least one example (n >= 1)")
    if not 0.0 <= params.p <= 1.0:
        raise InspectorError(f"tsipras p={params.p}; p is a probability, use a value in [0, 1]")
    if params.seed < 0:
        raise InspectorError(f"tsipras seed={params.seed}; use a seed >= 0")
    if params.split not in ("test", "train"):
        raise InspectorError(f"tsipras split={params.split!r}; use split=test or split=train")


def generate_tsipras_z(params: TsiprasParams) -> tuple[np.ndarray, np.ndarray]:
    """Draw (z [n, d+1] float64, y [n] in {-1, +1}); test and train use disjoint streams."""
    rng = np.random.default_rng([params.seed, 0 if params.split == "test" else 1])
    y = rng.integers(0, 2, size=params.n) * 2 - 1
    agrees = rng.random(params.n) < params.p
    z1 = np.where(agrees, y, -y).astype(np.float64)
    weak = rng.normal(loc=TSIPRAS_ETA * y[:, None], scale=1.0, size=(params.n, TSIPRAS_D))
    return np.concatenate([z1[:, None], weak], axis=1), y


def open_tsipras(spec: str, params: TsiprasParams) -> ArrayDataset:
    """Generate the dataset; labels are 0 for y = -1 and 1 for y = +1."""
    z, y = generate_tsipras_z(params)
    images = z_to_pixels(z).reshape(params.n, *TSIPRAS_SHAPE)
    labels = ((y + 1) // 2).astype(np.int64)
    return ArrayDataset(
        spec=spec,
        kind="tsipras",
        images=images,
        labels=labels,
        class_names=TSIPRAS_CLASS_NAMES,
        sha256=sha256_arrays(images, labels),
    )
