"""The encoder's and flow's convolution weights stored as int8, one scale per output channel.

They are 56 MB of float32, the largest part of the daemon's memory after Python itself.
Each weight becomes an int8 tensor and a DequantizeLinear node in front of its Conv:
ONNX Runtime keeps the int8 tensor (it does not fold DequantizeLinear into a constant)
and dequantizes it at each run, into a buffer freed right after the Conv. Measured with
`python -m edgecoach.bench int8` (docs/voice.md, Memory): 37-39 MB less held after 24
lines, the same CPU, and spectra 0.86-0.88 dB apart (log-mel, aligned), against 3.3 dB
between two of Piper's own renderings of a line. The decoder, where the CPU goes, keeps
float32.

Needs the onnx package: imported only in the child process that splits the graph.
"""

from typing import Any

import numpy as np

# Small weights (biases, 1x1 projections of a few channels) are not worth a node.
MIN_ELEMENTS = 4096
# DequantizeLinear with an `axis` (one scale per channel) came in opset 13.
MIN_OPSET = 13


def store_conv_weights_as_int8(model: Any) -> int:
    """Rewrite `model` (an onnx ModelProto) in place; returns how many weights changed."""
    from onnx import helper, numpy_helper

    opset = max((entry.version for entry in model.opset_import if entry.domain in ("", "ai.onnx")),
                default=0)
    if opset < MIN_OPSET:
        return 0
    graph = model.graph
    initializers = {tensor.name: tensor for tensor in graph.initializer}
    readers: dict[str, int] = {tensor.name: 1 for tensor in graph.input}  # can be fed: kept
    for node in graph.node:
        for name in node.input:
            readers[name] = readers.get(name, 0) + 1
    dequantize_nodes = []
    for node in graph.node:
        name = node.input[1] if node.op_type == "Conv" and len(node.input) > 1 else ""
        if name not in initializers or readers[name] != 1:
            continue
        weights = numpy_helper.to_array(initializers[name])
        if (weights.dtype != np.float32 or weights.size < MIN_ELEMENTS
                or not np.isfinite(weights).all()):  # a broken weight stays as it came
            continue
        quantized, scale = _per_channel_int8(weights)
        graph.initializer.remove(initializers[name])
        graph.initializer.extend([
            numpy_helper.from_array(quantized, f"{name}_int8"),
            numpy_helper.from_array(scale, f"{name}_scale"),
            numpy_helper.from_array(np.zeros(len(scale), np.int8), f"{name}_zero")])
        dequantize_nodes.append(helper.make_node(
            "DequantizeLinear", [f"{name}_int8", f"{name}_scale", f"{name}_zero"],
            [f"{name}_float"], name=f"{name}_dequantize", axis=0))
        node.input[1] = f"{name}_float"
    # The new nodes read only initializers: first in the list keeps the graph sorted.
    nodes = [*dequantize_nodes, *graph.node]
    del graph.node[:]
    graph.node.extend(nodes)
    return len(dequantize_nodes)


def _per_channel_int8(weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Symmetric int8 per output channel (axis 0): weights ~= quantized * scale."""
    largest = np.abs(weights.reshape(len(weights), -1)).max(axis=1)
    scale = np.where(largest > 0, largest / 127.0, 1.0).astype(np.float32)
    shaped = scale.reshape(-1, *[1] * (weights.ndim - 1))
    quantized = np.clip(np.round(weights / shaped), -127, 127).astype(np.int8)
    return quantized, scale
