"""Model loading: one entry point, `load_model`, for every supported file format."""

from inspector.core.models.base import LoadedModel, ModelInfo
from inspector.core.models.loading import load_model
from inspector.core.models.metadata import ModelMetadata
from inspector.core.models.normalize import Normalized
from inspector.core.models.onnx_loader import max_logit_difference

__all__ = [
    "LoadedModel",
    "ModelInfo",
    "ModelMetadata",
    "Normalized",
    "load_model",
    "max_logit_difference",
]
