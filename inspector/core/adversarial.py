"""The attack at one grid ε, on the examples the ε loop hands it (eps_loop.py).

Gradient attacks take the model as its conversion verdict allows (`with_faithful_gradients`);
without gradients (an ONNX model with no faithful torch conversion) only Square runs,
through the model's reference forward (`LoadedModel.query_forward`).
"""

from __future__ import annotations

import numpy as np
import torch

from inspector.core.attacks.base import module_forward as _module_forward
from inspector.core.attacks.registry import make_attack, spec, step_options
from inspector.core.errors import InspectorError
from inspector.core.logits import softmax
from inspector.core.minimum_norm import MinimumNormPass
from inspector.core.models.base import LoadedModel
from inspector.core.models.gradients import with_faithful_gradients
from inspector.core.sweep_passes import example_streams
from inspector.core.sweep_record import ModelSweep
from inspector.core.threat import ThreatModel


class AdversarialPass:
    """Attacks, at one ε after another, the examples still robust.

    Without gradients (an ONNX model with no faithful torch conversion) only Square runs,
    through onnxruntime: as `square`, or as the whole of `ensemble` (noted in the results).
    """

    def __init__(self, model: LoadedModel, threat: ThreatModel, result: ModelSweep) -> None:
        model = with_faithful_gradients(model, result)
        module, reason = model.module, str(model.gradient_unavailable_reason)
        attack = spec(threat.attack)
        runs_without = attack.runs_without_gradients
        if module is None and not runs_without:
            raise InspectorError(
                f"{threat.attack} needs gradients, which {model.info.name} cannot give: {reason}"
            )
        self.model, self.threat, self.result = model, threat, result
        forward = None
        if runs_without:
            forward = (
                _module_forward(module)
                if module is not None
                else model.query_forward(reference_only=True)
            )
        if module is None and attack.is_ensemble:
            result.attack_note = f"the {attack.label} ran Square alone: no gradients ({reason})"
        self.attack = make_attack(
            threat.attack,
            module,
            threat.norm,
            threat.steps,
            threat.restarts,
            queries=threat.queries,
            forward=forward,
        )
        self.confirm = model.info.backend == "onnx"  # judge adversarial points by onnxruntime
        if result.broken_by is None:
            result.broken_by = np.full(len(result.labels), "", dtype=object)
        self.minimum_norm = (
            MinimumNormPass(self.attack, self._judge, result) if attack.minimum_norm else None
        )

    def _judge(self, x_adv: torch.Tensor) -> np.ndarray:
        """Logits at attack points: onnxruntime for ONNX, else the module (no gradients)."""
        if self.confirm or self.model.module is None:
            return np.asarray(self.model.reference_logits(x_adv.detach().cpu().numpy()))
        with torch.no_grad():
            return self.model.module(x_adv).double().cpu().numpy()

    def batch(self, k: int, positions: np.ndarray, x: np.ndarray, cancel) -> None:
        """Attack `positions` (images `x`) at grid point k; write their column-k point and,
        where it flips the prediction, their breaking ε and the attack that broke them."""
        r, eps, device = self.result, self.threat.eps[k], self.model.info.device
        xt = torch.from_numpy(x).to(device)
        yt = torch.from_numpy(r.labels[positions]).to(device)
        generator = example_streams(self.threat.seed, k, r.indices[positions], device)
        if self.minimum_norm is not None:
            self.minimum_norm.batch(k, positions, xt, yt, generator, cancel)
            return
        outcome = self.attack.perturb(
            xt, yt, eps, generator=generator, cancel=cancel, **step_options(self.threat, eps)
        )
        if self.confirm:
            logits = np.asarray(self.model.reference_logits(outcome.x_adv.cpu().numpy()))
        else:
            logits = outcome.logits.double().cpu().numpy()
        probs = softmax(logits.astype(np.float64))
        pred = probs.argmax(axis=1)
        r.adv_pred[positions, k], r.adv_conf[positions, k] = pred, probs.max(axis=1)
        r.adv_probs[positions, k] = probs
        if r.adv_images is not None:
            r.adv_images[positions, k] = outcome.x_adv.cpu().numpy().astype(np.float16)
        flipped = pred != r.labels[positions]
        r.breaking_eps[positions[flipped]] = eps
        names = outcome.broken_by or [None] * len(positions)
        for i in np.flatnonzero(flipped):
            r.broken_by[positions[i]] = names[i] or self.threat.attack
