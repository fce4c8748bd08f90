"""Convolution weights stored as int8: what is rewritten, what is not, and how close it runs.

Also the aligned spectral distance the voice's int8 check and benchmark read."""

import numpy as np
import onnx
import onnxruntime
import pytest
from onnx import TensorProto, helper, numpy_helper

from edgecoach.voice.analysis import aligned_spectral_distance_db
from edgecoach.voice.int8_weights import MIN_ELEMENTS, _per_channel_int8, store_conv_weights_as_int8

RATE = 22050


def conv_model(opset: int = 15) -> onnx.ModelProto:
    """x -> Conv(big) -> Conv(small) -> Conv(shared) -> Conv(shared) -> y, 1-D."""
    generator = np.random.default_rng(3)
    big = generator.normal(0, 0.1, (32, 32, 5)).astype(np.float32)  # 5,120 elements
    small = generator.normal(0, 0.1, (32, 32, 1)).astype(np.float32)  # 1,024: kept
    shared = generator.normal(0, 0.1, (32, 32, 5)).astype(np.float32)  # read twice: kept
    assert big.size >= MIN_ELEMENTS > small.size
    nodes = [helper.make_node("Conv", ["x", "big"], ["a"], pads=[2, 2]),
             helper.make_node("Conv", ["a", "small"], ["b"]),
             helper.make_node("Conv", ["b", "shared"], ["c"], pads=[2, 2]),
             helper.make_node("Conv", ["c", "shared"], ["y"], pads=[2, 2])]
    graph = helper.make_graph(
        nodes, "convs", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 32, None])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 32, None])],
        [numpy_helper.from_array(array, name)
         for name, array in (("big", big), ("small", small), ("shared", shared))])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


def run(model: onnx.ModelProto, x: np.ndarray) -> np.ndarray:
    session = onnxruntime.InferenceSession(model.SerializeToString(),
                                           providers=["CPUExecutionProvider"])
    return session.run(None, {"x": x})[0]


def test_only_a_large_weight_read_once_becomes_int8_and_runs_close() -> None:
    model = conv_model()
    x = np.random.default_rng(4).normal(size=(1, 32, 50)).astype(np.float32)
    expected = run(model, x)
    assert store_conv_weights_as_int8(model) == 1
    kinds = {tensor.name: tensor.data_type for tensor in model.graph.initializer}
    assert kinds["big_int8"] == TensorProto.INT8 and "big" not in kinds
    assert kinds["small"] == kinds["shared"] == TensorProto.FLOAT
    assert [node.op_type for node in model.graph.node].count("DequantizeLinear") == 1
    onnx.checker.check_model(model)
    actual = run(model, x)
    error = np.abs(actual - expected).max() / np.abs(expected).max()
    assert 0 < error < 0.01  # changed, by under 1 % of the output's range


def test_a_weight_that_is_also_a_graph_input_is_left_alone() -> None:
    model = conv_model()
    model.graph.input.append(helper.make_tensor_value_info("big", TensorProto.FLOAT,
                                                           [32, 32, 5]))
    assert store_conv_weights_as_int8(model) == 0


def test_a_weight_that_is_not_finite_is_left_alone() -> None:
    model = conv_model()
    big = next(tensor for tensor in model.graph.initializer if tensor.name == "big")
    weights = numpy_helper.to_array(big).copy()
    weights[3, 0, 0] = np.nan
    big.CopyFrom(numpy_helper.from_array(weights, "big"))
    assert store_conv_weights_as_int8(model) == 0


def test_an_opset_without_per_channel_dequantization_is_left_alone() -> None:
    model = conv_model(opset=12)
    before = model.SerializeToString()
    assert store_conv_weights_as_int8(model) == 0
    assert model.SerializeToString() == before


def tone(seconds: float, hertz: float) -> np.ndarray:
    times = np.arange(int(seconds * RATE)) / RATE
    return (0.3 * np.sin(2 * np.pi * hertz * times)).astype(np.float32)


def test_the_aligned_distance_forgives_timing_not_sound() -> None:
    speech = np.concatenate([tone(0.3, 220), tone(0.3, 660), tone(0.3, 440)])
    assert aligned_spectral_distance_db(speech, speech, RATE) == 0.0
    # The middle sound held 0.1 s longer: aligned, nearly nothing apart.
    slower = np.concatenate([tone(0.3, 220), tone(0.4, 660), tone(0.3, 440)])
    other = np.concatenate([tone(0.3, 330), tone(0.3, 990), tone(0.3, 550)])
    held = aligned_spectral_distance_db(speech, slower, RATE)
    assert held < 1.0 < 10 * held < aligned_spectral_distance_db(speech, other, RATE)


@pytest.mark.parametrize("shape", [(32, 32, 5), (16, 8, 3, 3)])
def test_every_channel_keeps_its_largest_weight_exactly(shape: tuple[int, ...]) -> None:
    weights = np.random.default_rng(5).normal(0, 0.2, shape).astype(np.float32)
    weights[1] = 0.0  # a channel of zeros: scale 1, all zero
    quantized, scale = _per_channel_int8(weights)
    restored = quantized * scale.reshape(-1, *[1] * (len(shape) - 1))
    largest = np.abs(weights.reshape(shape[0], -1)).max(axis=1)
    assert np.allclose(np.abs(restored.reshape(shape[0], -1)).max(axis=1), largest, rtol=1e-6)
    assert np.all(np.abs(restored - weights) <= scale.reshape(-1, *[1] * (len(shape) - 1)) / 2
                  + 1e-7)
    assert not restored[1].any()
