#!/usr/bin/python3
"""make_w4a8_reference.py IN.onnx OUT.onnx GROUP: an ONNX rendering of
slim-quantize's W4A8 (int4 Q4_0 weights in groups of GROUP, int8 activations
per row), for ONNX Runtime to check the compiled kernels against
(test/E2E/quantize.test; needs python3-onnx, the output is committed):

  every MatMul with a 2-D initializer B [in, out], except the one producing
  a graph output (the head stays float), gets
    - B replaced by its Q4_0 quantize-dequantize along `in` (fake_quant.py's
      q4, in float32 arithmetic as the pass does);
    - its input A by the per-row int8 fake quantization the kernel applies:
      s = ReduceMax(|A|, last axis) / 127, q = Round(A · Reciprocal(s)),
      A' = q · s (Round is half-to-even, as the kernel's conversion).

ONNX Runtime then sums the float products A'·B' where the kernel sums the
same integers exactly: the two agree to float rounding.
"""
import sys

import numpy as np
import onnx
from onnx import helper, numpy_helper

src, dst, group = sys.argv[1], sys.argv[2], int(sys.argv[3])
model = onnx.load(src)
graph = model.graph
inits = {t.name: t for t in graph.initializer}
outputs = {o.name for o in graph.output}


def bf16_away(d):
    """d rounded away from zero to a bfloat16, as quantizeQ4 rounds Q4_0's d."""
    b = d.astype(np.float32).view(np.uint32)
    b = np.where(b & 0xFFFF, (b & 0xFFFF0000) + 0x10000, b).astype(np.uint32)
    return b.view(np.float32)


def q4_0(w):  # w [out, in], groups along in
    o, k = w.shape
    g = w.reshape(o, k // group, group)
    idx = np.abs(g).argmax(axis=2)
    m = np.take_along_axis(g, idx[..., None], axis=2)
    d = (m / np.float32(-8)).astype(np.float32)
    d = bf16_away(d)
    one = np.float32(1)
    inv = np.where(d != 0, one / np.where(d != 0, d, one), np.float32(0)).astype(np.float32)
    q = np.minimum(15, np.trunc(g * inv + np.float32(8.5))).astype(np.float32)
    return ((q - 8) * d).reshape(o, k).astype(np.float32)


def const(name, value):
    graph.initializer.append(numpy_helper.from_array(np.array(value, dtype=np.float32), name))
    return name


c127 = const("w4a8_127", 127.0)
nodes = []
count = 0
for node in graph.node:
    b = node.input[1] if node.op_type == "MatMul" and len(node.input) == 2 else None
    if b in inits and len(inits[b].dims) == 2 and node.output[0] not in outputs:
        w = numpy_helper.to_array(inits[b]).astype(np.float32)  # [in, out]
        inits[b].CopyFrom(numpy_helper.from_array(q4_0(w.T).T.copy(), b))
        p = f"w4a8_{count}"
        a = node.input[0]
        nodes += [
            helper.make_node("Abs", [a], [p + "_abs"]),
            helper.make_node("ReduceMax", [p + "_abs"], [p + "_amax"], axes=[-1], keepdims=1),
            helper.make_node("Div", [p + "_amax", c127], [p + "_s"]),
            helper.make_node("Reciprocal", [p + "_s"], [p + "_inv"]),
            helper.make_node("Mul", [a, p + "_inv"], [p + "_scaled"]),
            helper.make_node("Round", [p + "_scaled"], [p + "_q"]),
            helper.make_node("Mul", [p + "_q", p + "_s"], [p + "_a"]),
        ]
        node.input[0] = p + "_a"
        count += 1
    nodes.append(node)
del graph.node[:]
graph.node.extend(nodes)
onnx.checker.check_model(model)
onnx.save(model, dst)
print(f"{dst}: {count} MatMuls as W4A8 (Q4_0, groups of {group})")
