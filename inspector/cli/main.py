"""`robustness-inspector`: evaluate models under attack from a script.

User errors (bad files, mismatches, bad flags) print one line on stderr and exit with
code 2; `--debug` shows the traceback. Ctrl-C at any moment, the imports below included,
prints "robustness-inspector: interrupted" and exits with code 130 (see interrupts.py).
"""

from __future__ import annotations

import argparse
import sys
import traceback
from collections.abc import Sequence

from inspector.cli import interrupts

interrupts.install()  # this module is the console script's entry: its imports take seconds
with interrupts.exit_on_interrupt():
    from inspector import __version__
    from inspector.cli.progress import ProgressLine
    from inspector.cli.report_command import add_report_parser
    from inspector.cli.saliency_command import add_saliency_parser
    from inspector.cli.table import summary_table
    from inspector.cli.trust import add_trust_arguments
    from inspector.core.errors import InspectorError
    from inspector.core.threat import (
        ATTACKS,
        DEFAULT_RESTARTS,
        DEFAULT_STEPS,
        NORMS,
        ThreatModel,
        parse_eps,
        parse_eps_list,
    )

EXIT_USER_ERROR = 2


class _Parser(argparse.ArgumentParser):
    """argparse that reports a bad flag as one line, exit code 2, like every other user error."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise InspectorError(f"{message} (see {self.prog} --help)")


def _float_list(text: str) -> tuple[float, ...]:
    try:
        return tuple(float(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated numbers, got {text!r}"
        ) from None


def _shape(text: str) -> tuple[int, int, int]:
    parts = text.replace("x", ",").split(",")
    if len(parts) != 3 or not all(p.strip().isdigit() for p in parts):
        raise argparse.ArgumentTypeError(f"expected C,H,W such as 3,32,32, got {text!r}")
    return tuple(int(p) for p in parts)  # type: ignore[return-value]


def _nonneg_eps(text: str) -> float:
    try:
        return parse_eps(text)
    except InspectorError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _add_evaluate(sub) -> None:
    p = sub.add_parser("evaluate", help="attack models over an ε grid and report the tradeoff")
    p.add_argument("--demo", action="store_true", help="the digits demo models on digits")
    p.add_argument(
        "--model",
        action="append",
        default=[],
        metavar="PATH",
        help="model file (.pt2, .pt/.ts TorchScript, .onnx, state_dict); repeatable",
    )
    p.add_argument(
        "--data",
        metavar="SPEC",
        help="digits, tsipras[:n=..,p=..,seed=..], or a path (image folder, .npz, "
        "CIFAR-10 batches, MNIST IDX)",
    )
    p.add_argument("--norm", choices=NORMS, default=None)
    p.add_argument(
        "--eps",
        metavar="LIST",
        default=None,
        help="comma-separated ε values in [0, 1] pixel units, e.g. 0,2/255,4/255,8/255",
    )
    p.add_argument(
        "--attack",
        choices=ATTACKS,
        default=None,
        help="ensemble (the default for audits: APGD-CE, then APGD-T, then Square on the "
        "points still robust), apgd-ce, apgd-t, square (gradient-free; runs on ONNX through "
        "onnxruntime alone), fmn (minimum norm: a radius per example), or pgd/fgsm (fast, "
        "for teaching); --demo keeps PGD-10 unless this is given",
    )
    p.add_argument(
        "--steps",
        type=int,
        default=None,
        help="attack iterations (default 100 for apgd-ce, apgd-t, fmn and ensemble, 10 for pgd)",
    )
    p.add_argument(
        "--queries",
        type=int,
        default=None,
        help="forward passes per example for Square, alone or in the ensemble (default 1000)",
    )
    p.add_argument(
        "--step-size",
        type=_nonneg_eps,
        default=None,
        help="absolute step size (default 2.5·ε/steps)",
    )
    p.add_argument("--restarts", type=int, default=None)
    p.add_argument("--limit", type=int, default=None, help="a stratified subset of N examples")
    p.add_argument(
        "--batch-size",
        type=int,
        default=128,
        help="examples per forward pass at most; fewer when the model's memory use needs it",
    )
    p.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")
    p.add_argument("--seed", type=int, default=None)
    p.add_argument(
        "--trust-code",
        action="store_true",
        help="allow loading files that run code (pickled modules, --arch factories)",
    )
    p.add_argument(
        "--arch",
        metavar="PKG.MODULE:FACTORY",
        default=None,
        help="architecture for a plain state_dict (needs --trust-code)",
    )
    p.add_argument(
        "--resize",
        action="store_true",
        help="resize images (and convert channels) to each model's input shape",
    )
    p.add_argument("--class-names", default=None, help="comma-separated class names")
    p.add_argument("--input-shape", type=_shape, default=None, metavar="C,H,W")
    p.add_argument(
        "--mean", type=_float_list, default=None, help="per-channel mean, e.g. 0.49,0.48,0.45"
    )
    p.add_argument("--std", type=_float_list, default=None, help="per-channel std")
    p.add_argument("--out", metavar="RESULTS.json", default=None)
    p.add_argument("--csv", metavar="PER_EXAMPLE.csv", default=None)
    add_trust_arguments(p)
    p.add_argument(
        "--summary-json",
        metavar="PATH",
        default=None,
        help="write the per-model, per-ε summary (rates, threat model, file hashes) as JSON",
    )
    p.add_argument(
        "--audit",
        metavar="PATH.riaudit",
        default=None,
        help="write an audit file (results, probabilities, adversarial images) the window opens",
    )


def _add_gui(sub) -> None:
    p = sub.add_parser("gui", help="open the window (the default with no command)")
    p.add_argument(
        "audit",
        nargs="?",
        default=None,
        metavar="AUDIT",
        help="a saved audit (.riaudit) or results .json to reopen as it was",
    )
    p.add_argument("--demo", action="store_true", help="load the digits demo models")
    p.add_argument("--model", action="append", default=[], metavar="PATH")
    p.add_argument("--data", metavar="SPEC", default=None)
    p.add_argument("--run", action="store_true", help="start the evaluation at once")
    p.add_argument(
        "--screenshot",
        metavar="PATH",
        default=None,
        help="with --run: save a PNG of the window when the run ends, then exit",
    )
    p.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="robustness-inspector", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)
    _add_evaluate(sub)
    _add_gui(sub)
    add_report_parser(sub)
    add_saliency_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """The entry point: run one command; user errors exit 2, Ctrl-C exits 130, one line each."""
    try:
        interrupts.install()
        return _run(list(sys.argv[1:] if argv is None else argv))
    except BaseException as exc:
        if isinstance(exc, SystemExit) or not interrupts.was_interrupted(exc):
            raise
        code = interrupts.report()
    if argv is None:  # the process's entry point (the console script): see exit_process
        interrupts.exit_process(code)
    return code


def _run(argv: list[str]) -> int:
    debug = "--debug" in argv
    try:
        return _dispatch(build_parser().parse_args(argv))
    except InspectorError as exc:
        if interrupts.was_interrupted(exc):  # e.g. a loader's message about a Ctrl-C
            raise
        if debug:
            traceback.print_exc()
        print(f"robustness-inspector: error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "evaluate":
        from inspector.cli.evaluate_command import run_evaluate

        return run_evaluate(args)
    if args.command == "report":
        from inspector.cli.report_command import run_report

        return run_report(args)
    if args.command == "saliency":
        from inspector.cli.saliency_command import run_saliency

        return run_saliency(args)
    from inspector.gui.app import GuiOptions, run_gui  # Qt only loads for the window

    if args.command == "gui":
        return run_gui(
            GuiOptions(
                models=args.model,
                data=args.data,
                demo=args.demo,
                run=args.run,
                screenshot=args.screenshot,
                device=args.device,
                audit=args.audit,
            )
        )
    return run_gui(GuiOptions(demo=True))


def threat_from_args(args: argparse.Namespace, base: ThreatModel) -> ThreatModel:
    """Flags override the base threat model (the demo's or the defaults).

    An attack other than the base's, named without --steps (--restarts), gets its own
    default steps (restarts).
    """
    attack = args.attack or base.attack
    steps = base.steps if attack == base.attack else DEFAULT_STEPS[attack]
    restarts = base.restarts if attack == base.attack else DEFAULT_RESTARTS.get(attack, 1)
    queries = getattr(args, "queries", None)
    return ThreatModel(
        norm=args.norm or base.norm,
        eps=parse_eps_list(args.eps) if args.eps is not None else base.eps,
        attack=attack,
        queries=queries if queries is not None else base.queries,
        steps=args.steps if args.steps is not None else steps,
        step_size=args.step_size if args.step_size is not None else base.step_size,
        restarts=args.restarts if args.restarts is not None else restarts,
        seed=args.seed if args.seed is not None else base.seed,
    )


__all__ = ["ProgressLine", "build_parser", "main", "summary_table", "threat_from_args"]
