"""A differentiable interpreter of ONNX classifier graphs in torch (one function per op).

Why an interpreter and not onnx2torch: see the commit that added it and the README. In
short, each op is a few readable lines checked against onnxruntime by the tests, versions
are explicit, and it runs as fast as the torch model.
"""

from inspector.core.models.onnx_torch.graph import OnnxGraph, onnx_opset
from inspector.core.models.onnx_torch.registry import NEWEST_OPSET, OLDEST_OPSET, supported_ops

__all__ = ["NEWEST_OPSET", "OLDEST_OPSET", "OnnxGraph", "onnx_opset", "supported_ops"]
