"""The options that shape a run, defined once for `evaluate` and `gui`.

Both commands take the same threat model, attack budget, subset, trust and model flags,
so that the window can do what the command line does; both turn them into the same
`ThreatModel`, `ModelRequest` overrides and trust settings through this module.
"""

from __future__ import annotations

import argparse
import math
from fractions import Fraction

from inspector.cli.arguments import add_loading_arguments
from inspector.cli.hints import cli_message
from inspector.core.attacks.registry import ATTACK_SPECS, DEFAULT_QUERIES, NAMES, spec
from inspector.core.errors import InspectorError
from inspector.core.threat import NORMS, ThreatModel, parse_eps, parse_eps_list


def _number(text: str) -> float:
    """A decimal (0.5) or a fraction (1/255), as --eps takes them."""
    text = text.strip()
    value = float(Fraction(text)) if "/" in text else float(text)
    if not math.isfinite(value):
        raise ValueError(text)
    return value


def float_list(text: str) -> tuple[float, ...]:
    """Comma-separated numbers, each a decimal or a fraction: `0.5,0.5,0.5` or `1/255,...`."""
    try:
        return tuple(_number(v) for v in text.split(","))
    except (ValueError, ZeroDivisionError):
        raise argparse.ArgumentTypeError(
            f"expected comma-separated numbers (decimals or fractions such as 1/255), "
            f"got {text!r}"
        ) from None


def shape(text: str) -> tuple[int, int, int]:
    parts = text.replace("x", ",").split(",")
    if len(parts) != 3 or not all(p.strip().isdigit() for p in parts):
        raise argparse.ArgumentTypeError(f"expected C,H,W such as 3,32,32, got {text!r}")
    return tuple(int(p) for p in parts)  # type: ignore[return-value]


def nonneg_eps(text: str) -> float:
    try:
        return parse_eps(text)
    except InspectorError as exc:
        raise argparse.ArgumentTypeError(cli_message(exc)) from None


def _attack_help() -> str:
    """Every attack of the registry with its one-line description."""
    each = "; ".join(f"{s.name}: {s.description}" for s in ATTACK_SPECS)
    return f"{each}. --demo keeps PGD-10 unless this is given"


def _steps_help() -> str:
    """The registry's default steps, grouped by value: "100 for apgd-ce, ...; 10 for pgd"."""
    by_steps: dict[int, list[str]] = {}
    for s in ATTACK_SPECS:
        if s.takes_steps:
            by_steps.setdefault(s.steps, []).append(s.name)
    groups = [f"{n} for {', '.join(names)}" for n, names in sorted(by_steps.items(), reverse=True)]
    return f"attack iterations (default {'; '.join(groups)})"


def add_threat_arguments(p: argparse.ArgumentParser) -> None:
    """Norm, ε grid, attack and its budget, seed, subset size, the certificate switch."""
    p.add_argument("--norm", choices=NORMS, default=None)
    p.add_argument(
        "--eps",
        metavar="LIST",
        default=None,
        help="comma-separated ε values in [0, 1] pixel units, e.g. 0,2/255,4/255,8/255",
    )
    p.add_argument(
        "--attack",
        choices=NAMES,
        default=None,
        help=_attack_help(),
    )
    p.add_argument(
        "--steps",
        type=int,
        default=None,
        help=_steps_help(),
    )
    p.add_argument(
        "--queries",
        type=int,
        default=None,
        help="forward passes per example for Square, alone or in an ensemble "
        f"(default {DEFAULT_QUERIES})",
    )
    p.add_argument(
        "--step-size",
        type=nonneg_eps,
        default=None,
        help="absolute step size (default 2.5·ε/steps)",
    )
    p.add_argument("--restarts", type=int, default=None)
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--limit", type=int, default=None, help="a stratified subset of N examples")
    p.add_argument(
        "--no-certificate",
        action="store_true",
        help="skip the probe for the exact certificate of affine models",
    )


def add_model_arguments(p: argparse.ArgumentParser) -> None:
    """Trust, architecture, metadata overrides and normalisation of the models."""
    add_loading_arguments(p)
    p.add_argument("--class-names", default=None, help="comma-separated class names")
    p.add_argument("--input-shape", type=shape, default=None, metavar="C,H,W")
    p.add_argument(
        "--mean",
        type=float_list,
        default=None,
        help="per-channel mean in [0, 1] pixel units, e.g. 0.49,0.48,0.45 or 125/255,...",
    )
    p.add_argument(
        "--std", type=float_list, default=None, help="per-channel std, e.g. 0.25 or 1/255"
    )


def add_run_arguments(p: argparse.ArgumentParser) -> None:
    """Everything that shapes a run, as `evaluate` and `gui` both take it."""
    add_threat_arguments(p)
    add_model_arguments(p)


def model_overrides(args: argparse.Namespace) -> dict:
    """The metadata flags given (class names, input shape, mean, std), for ModelRequest."""
    names = getattr(args, "class_names", None)
    found = {
        "class_names": tuple(n.strip() for n in names.split(",")) if names else None,
        "input_shape": getattr(args, "input_shape", None),
        "mean": getattr(args, "mean", None),
        "std": getattr(args, "std", None),
    }
    return {k: v for k, v in found.items() if v is not None}


def check_limit(limit: int | None) -> None:
    if limit is not None and limit < 1:
        raise InspectorError(f"--limit must be at least 1, got {limit}")


def threat_from_args(args: argparse.Namespace, base: ThreatModel) -> ThreatModel:
    """Flags override the base threat model (the demo's or the defaults).

    An attack other than the base's, named without --steps (--restarts), gets its own
    default steps (restarts).
    """
    attack = getattr(args, "attack", None) or base.attack
    own = spec(attack)
    steps = base.steps if attack == base.attack else own.steps
    restarts = base.restarts if attack == base.attack else own.restarts

    def given(name: str, default):
        value = getattr(args, name, None)
        return default if value is None else value

    eps = getattr(args, "eps", None)
    return ThreatModel(
        norm=given("norm", base.norm),
        eps=parse_eps_list(eps) if eps is not None else base.eps,
        attack=attack,
        queries=given("queries", base.queries),
        steps=given("steps", steps),
        step_size=given("step_size", base.step_size),
        restarts=given("restarts", restarts),
        seed=given("seed", base.seed),
        certificate=base.certificate and not getattr(args, "no_certificate", False),
    )


def shapes_threat(args: argparse.Namespace) -> bool:
    """Whether any threat-model flag was given (the window then uses them, not its memory)."""
    names = ("norm", "eps", "attack", "steps", "queries", "step_size", "restarts", "seed")
    return any(getattr(args, n, None) is not None for n in names) or bool(
        getattr(args, "no_certificate", False)
    )
