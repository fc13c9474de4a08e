"""The op allowlist for TorchScript and torch.export graphs from an untrusted party.

A graph can call ops that open files (aten::from_file, aten::save), map storage from a path
or reach Python; an image classifier needs none of them. ALLOWED_OPS is a reviewed literal:
the ops used by torchvision's resnet18, mobilenet_v3_small, efficientnet_b0, a small ViT,
densenet121, convnext_tiny, squeezenet, regnet and shufflenet and by the demo models
(traced, scripted, exported, and exported after run_decompositions()), plus the plain
arithmetic, activation, pooling, normalisation and shape ops of the same families. Every op
here computes on tensors and numbers only. Overloads share their op's name.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import torch

from inspector.core.models.safety.archive import refused

ALLOWED_OPS = frozenset(
    {
        "_operator.add",
        "_operator.and_",
        "_operator.eq",
        "_operator.floordiv",
        "_operator.ge",
        "_operator.getitem",
        "_operator.gt",
        "_operator.le",
        "_operator.lt",
        "_operator.mod",
        "_operator.mul",
        "_operator.ne",
        "_operator.neg",
        "_operator.not_",
        "_operator.or_",
        "_operator.pow",
        "_operator.sub",
        "_operator.truediv",
        "aten::Bool",
        "aten::Float",
        "aten::FloatImplicit",
        "aten::Int",
        "aten::IntImplicit",
        "aten::ScalarImplicit",
        "aten::__and__",
        "aten::__contains__",
        "aten::__getitem__",
        "aten::__is__",
        "aten::__isnot__",
        "aten::__not__",
        "aten::__or__",
        "aten::_assert_async",
        "aten::_assert_scalar",
        "aten::_assert_tensor_metadata",
        "aten::_convolution",
        "aten::_log_softmax",
        "aten::_native_batch_norm_legit",
        "aten::_native_batch_norm_legit_functional",
        "aten::_native_batch_norm_legit_no_training",
        "aten::_native_multi_head_attention",
        "aten::_safe_softmax",
        "aten::_scaled_dot_product_flash_attention_for_cpu",
        "aten::_softmax",
        "aten::_to_copy",
        "aten::_unsafe_view",
        "aten::abs",
        "aten::acos",
        "aten::adaptive_avg_pool1d",
        "aten::adaptive_avg_pool2d",
        "aten::adaptive_max_pool1d",
        "aten::adaptive_max_pool2d",
        "aten::add",
        "aten::add_",
        "aten::addcmul",
        "aten::addmm",
        "aten::alias",
        "aten::all",
        "aten::alpha_dropout",
        "aten::amax",
        "aten::amin",
        "aten::any",
        "aten::append",
        "aten::arange",
        "aten::argmax",
        "aten::argmin",
        "aten::as_strided",
        "aten::asin",
        "aten::atan",
        "aten::avg_pool1d",
        "aten::avg_pool2d",
        "aten::avg_pool3d",
        "aten::baddbmm",
        "aten::batch_norm",
        "aten::bernoulli_",
        "aten::bitwise_not",
        "aten::bmm",
        "aten::cat",
        "aten::ceil",
        "aten::celu",
        "aten::channel_shuffle",
        "aten::chunk",
        "aten::clamp",
        "aten::clamp_",
        "aten::clamp_max",
        "aten::clamp_min",
        "aten::clip",
        "aten::clone",
        "aten::constant_pad_nd",
        "aten::contiguous",
        "aten::conv1d",
        "aten::conv2d",
        "aten::conv3d",
        "aten::conv_transpose2d",
        "aten::convolution",
        "aten::copy",
        "aten::copy_",
        "aten::cos",
        "aten::cosh",
        "aten::cumsum",
        "aten::detach",
        "aten::dim",
        "aten::div",
        "aten::div_",
        "aten::dropout",
        "aten::dropout_",
        "aten::einsum",
        "aten::elu",
        "aten::elu_",
        "aten::embedding",
        "aten::empty",
        "aten::empty_like",
        "aten::eq",
        "aten::erf",
        "aten::exp",
        "aten::expand",
        "aten::expand_as",
        "aten::expm1",
        "aten::feature_dropout",
        "aten::fill_",
        "aten::flatten",
        "aten::flip",
        "aten::floor",
        "aten::floor_divide",
        "aten::floordiv",
        "aten::format",
        "aten::frac",
        "aten::full",
        "aten::full_like",
        "aten::gather",
        "aten::ge",
        "aten::gelu",
        "aten::gelu_",
        "aten::glu",
        "aten::group_norm",
        "aten::gt",
        "aten::hardshrink",
        "aten::hardsigmoid",
        "aten::hardsigmoid_",
        "aten::hardswish",
        "aten::hardswish_",
        "aten::hardtanh",
        "aten::hardtanh_",
        "aten::index",
        "aten::index_select",
        "aten::instance_norm",
        "aten::is_autocast_enabled",
        "aten::is_floating_point",
        "aten::is_grad_enabled",
        "aten::layer_norm",
        "aten::le",
        "aten::leaky_relu",
        "aten::leaky_relu_",
        "aten::len",
        "aten::lerp",
        "aten::lift_fresh_copy",
        "aten::linalg_vector_norm",
        "aten::linear",
        "aten::log",
        "aten::log10",
        "aten::log1p",
        "aten::log2",
        "aten::log_softmax",
        "aten::logical_and",
        "aten::logical_not",
        "aten::logical_or",
        "aten::logical_xor",
        "aten::logsumexp",
        "aten::lt",
        "aten::masked_fill",
        "aten::masked_fill_",
        "aten::matmul",
        "aten::max",
        "aten::max_pool1d",
        "aten::max_pool2d",
        "aten::max_pool2d_with_indices",
        "aten::max_pool3d",
        "aten::maximum",
        "aten::mean",
        "aten::min",
        "aten::minimum",
        "aten::mish",
        "aten::mm",
        "aten::mul",
        "aten::mul_",
        "aten::narrow",
        "aten::native_batch_norm",
        "aten::native_dropout",
        "aten::native_group_norm",
        "aten::native_layer_norm",
        "aten::ne",
        "aten::neg",
        "aten::new_ones",
        "aten::new_zeros",
        "aten::norm",
        "aten::numel",
        "aten::ones",
        "aten::ones_like",
        "aten::pad",
        "aten::permute",
        "aten::pixel_shuffle",
        "aten::pow",
        "aten::prelu",
        "aten::prod",
        "aten::reciprocal",
        "aten::reflection_pad2d",
        "aten::relu",
        "aten::relu6",
        "aten::relu6_",
        "aten::relu_",
        "aten::remainder",
        "aten::repeat",
        "aten::repeat_interleave",
        "aten::replication_pad2d",
        "aten::reshape",
        "aten::roll",
        "aten::round",
        "aten::rsqrt",
        "aten::rsub",
        "aten::scalar_tensor",
        "aten::scaled_dot_product_attention",
        "aten::select",
        "aten::select_scatter",
        "aten::selu",
        "aten::sigmoid",
        "aten::sigmoid_",
        "aten::sign",
        "aten::silu",
        "aten::silu_",
        "aten::sin",
        "aten::sinh",
        "aten::size",
        "aten::slice",
        "aten::slice_scatter",
        "aten::softmax",
        "aten::softplus",
        "aten::softshrink",
        "aten::sort",
        "aten::split",
        "aten::split_with_sizes",
        "aten::sqrt",
        "aten::square",
        "aten::squeeze",
        "aten::stack",
        "aten::std",
        "aten::sub",
        "aten::sub_",
        "aten::sum",
        "aten::sym_constrain_range",
        "aten::sym_constrain_range_for_size",
        "aten::sym_numel",
        "aten::sym_size",
        "aten::sym_storage_offset",
        "aten::sym_stride",
        "aten::t",
        "aten::tan",
        "aten::tanh",
        "aten::tanh_",
        "aten::threshold",
        "aten::threshold_",
        "aten::to",
        "aten::topk",
        "aten::transpose",
        "aten::trunc",
        "aten::type_as",
        "aten::unbind",
        "aten::unflatten",
        "aten::unfold",
        "aten::unsqueeze",
        "aten::upsample_bilinear2d",
        "aten::upsample_nearest2d",
        "aten::var",
        "aten::var_mean",
        "aten::view",
        "aten::view_as",
        "aten::warn",
        "aten::where",
        "aten::zeros",
        "aten::zeros_like",
        "higher_order::cond",
        "higher_order::wrap_with_autocast",
        "higher_order::wrap_with_set_grad_enabled",
        "prim::Constant",
        "prim::ConstantChunk",
        "prim::DictConstruct",
        "prim::GetAttr",
        "prim::If",
        "prim::ListConstruct",
        "prim::ListUnpack",
        "prim::Loop",
        "prim::NumToTensor",
        "prim::Print",
        "prim::RaiseException",
        "prim::TupleConstruct",
        "prim::TupleIndex",
        "prim::TupleUnpack",
        "prim::Uninitialized",
        "prim::abs",
        "prim::device",
        "prim::dtype",
        "prim::is_cuda",
        "prim::is_nested",
        "prim::layout",
        "prim::max",
        "prim::min",
        "prim::requires_grad",
        "prim::shape",
        "prim::type",
        "prim::unchecked_cast",
        "prim::unchecked_unwrap_optional",
        "torch.sym_float",
        "torch.sym_int",
        "torch.sym_max",
        "torch.sym_min",
        "torch.sym_not",
    }
)


def check_ops(path: Path, names: Iterator[str]) -> None:
    """Refuse the model at the first op outside the allowlist, naming it."""
    for name in names:
        if name not in ALLOWED_OPS:
            raise refused(
                path,
                f"its graph calls {name}, which an image classifier does not need and "
                "which could read or write files or run code",
            )


def script_op_names(module: torch.jit.ScriptModule) -> Iterator[str]:
    """Every node kind in every method of every submodule, with calls inlined (on copies)."""
    for sub in module.modules():
        compiled = getattr(sub, "_c", None)
        if compiled is None:
            continue
        for method in compiled._method_names():
            graph = compiled._get_method(method).graph.copy()
            torch._C._jit_pass_inline(graph)
            yield from _block_kinds(graph.nodes())


def _block_kinds(nodes) -> Iterator[str]:
    stack = list(nodes)
    while stack:
        node = stack.pop()
        yield node.kind()
        for block in node.blocks():
            stack.extend(block.nodes())


def exported_op_names(program: torch.export.ExportedProgram) -> Iterator[str]:
    """call_function targets of the program's graph and of every nested graph module."""
    for graph_module in program.graph_module.modules():
        if isinstance(graph_module, torch.fx.GraphModule):
            for node in graph_module.graph.nodes:
                if node.op == "call_function":
                    yield target_name(node.target)
                elif node.op in ("call_method", "call_module"):
                    yield f"{node.op} {node.target}"


def target_name(target: object) -> str:
    """aten::conv2d for torch.ops.aten.conv2d.default; module.name for Python callables."""
    if isinstance(target, torch._ops.OpOverload | torch._ops.OpOverloadPacket):
        return str(target._schema.name) if hasattr(target, "_schema") else str(target)
    if isinstance(target, torch._ops.HigherOrderOperator):
        return f"higher_order::{target.name()}"
    if isinstance(target, str):
        return f"unresolved target {target}"
    module = getattr(target, "__module__", None)
    return f"{module}.{getattr(target, '__name__', type(target).__name__)}"


MAX_TENSOR_BYTES = 4 << 30  # far above any classifier activation at its exported batch


def check_exported_sizes(path: Path, program: torch.export.ExportedProgram) -> None:
    """Refuse a graph whose recorded shapes build a tensor over MAX_TENSOR_BYTES.

    Export records every intermediate's shape (node.meta["val"]); a graph that fills a
    terabyte of zeros would otherwise exhaust memory on the first forward pass. Symbolic
    dimensions (the batch) are not judged here: chunking bounds them.
    """
    for graph_module in program.graph_module.modules():
        if not isinstance(graph_module, torch.fx.GraphModule):
            continue
        for node in graph_module.graph.nodes:
            value = node.meta.get("val")
            values = value if isinstance(value, list | tuple) else [value]
            for tensor in values:
                if not isinstance(tensor, torch.Tensor):
                    continue
                dims = [d for d in tensor.shape if isinstance(d, int)]
                nbytes = math.prod(dims) * tensor.element_size()
                if nbytes > MAX_TENSOR_BYTES:
                    raise refused(
                        path,
                        f"its graph builds a tensor of shape {list(tensor.shape)} "
                        f"({nbytes / 2**30:.0f} GiB) at {node.name}",
                    )
