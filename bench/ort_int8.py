#!/usr/bin/python3
"""ort_int8.py IN.onnx OUT.onnx [--head]: ONNX Runtime's own int8, as
onnxruntime.quantization.quantize_dynamic(per_channel=True) writes it (that
package is not in Debian; this script is its rewrite, done with python3-onnx):

  every MatMul whose B is a 2-D float initializer [in, out] becomes
    DynamicQuantizeLinear(A) -> A_q (uint8), a_scale, a_zero
    MatMulInteger(A_q, B_q, a_zero)   B_q int8, symmetric per output column:
                                      s_o = max|B[:, o]| / 127, round(B / s_o)
    Cast(int32 -> float) · (a_scale · s)
  the bias Add after it unchanged. quantize_dynamic leaves Gemm in float
  (GPT-2's export has a Gemm for every projection): a Gemm of a 2-D
  initializer (alpha = beta = 1, A not transposed) is rewritten the same
  way with its bias added after the scale, so ORT runs int8 in the layers
  Slim does. The MatMul producing a graph output (the head) stays float
  unless --head. Prints how many it rewrote.

bench/quant_speed.py checks each rewritten model against the fp32 one by
the cosine of their outputs before timing it.
"""
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def main():
    src, dst = sys.argv[1], sys.argv[2]
    head = "--head" in sys.argv[3:]
    model = onnx.load(src)
    graph = model.graph
    inits = {t.name: t for t in graph.initializer}
    outputs = {o.name for o in graph.output}
    # A head reached through a Transpose of a tied embedding (GPT-2's
    # lm_head) has no initializer B: it stays float, as on Slim's side
    # unless quantized there too.
    transposed = {n.output[0]: n.input[0] for n in graph.node
                  if n.op_type == "Transpose" and n.input[0] in inits}
    nodes, count = [], 0
    for node in graph.node:
        attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        gemm = (node.op_type == "Gemm" and attrs.get("alpha", 1.0) == 1.0 and
                attrs.get("beta", 1.0) == 1.0 and not attrs.get("transA", 0))
        b = node.input[1] if node.op_type == "MatMul" or gemm else None
        is_head = b is not None and node.output[0] in outputs
        w = None
        if b in inits and len(inits[b].dims) == 2:
            w = numpy_helper.to_array(inits[b]).astype(np.float32)
            if gemm and attrs.get("transB", 0):
                w = w.T
        elif head and b in transposed and len(inits[transposed[b]].dims) == 2:
            w = numpy_helper.to_array(inits[transposed[b]]).astype(np.float32).T
        if w is None or (is_head and not head):
            nodes.append(node)
            continue
        p = "ort_int8_%d" % count
        scale = np.maximum(np.abs(w).max(axis=0), 1e-8) / 127.0
        q = np.clip(np.rint(w / scale), -127, 127).astype(np.int8)
        graph.initializer.extend([numpy_helper.from_array(q, p + "_B"),
                                  numpy_helper.from_array(scale.astype(np.float32), p + "_s")])
        nodes += [
            helper.make_node("DynamicQuantizeLinear", [node.input[0]], [p + "_a", p + "_as", p + "_az"]),
            helper.make_node("MatMulInteger", [p + "_a", p + "_B", p + "_az"], [p + "_i"]),
            helper.make_node("Cast", [p + "_i"], [p + "_f"], to=TensorProto.FLOAT),
            helper.make_node("Mul", [p + "_as", p + "_s"], [p + "_scale"]),
        ]
        if gemm and len(node.input) > 2 and node.input[2]:
            nodes += [helper.make_node("Mul", [p + "_f", p + "_scale"], [p + "_y"]),
                      helper.make_node("Add", [p + "_y", node.input[2]], [node.output[0]])]
        else:
            nodes.append(helper.make_node("Mul", [p + "_f", p + "_scale"], [node.output[0]]))
        count += 1
    del graph.node[:]
    graph.node.extend(nodes)
    # Initializers no longer read (the float weights) are dropped.
    used = {i for n in graph.node for i in n.input}
    keep = [t for t in graph.initializer if t.name in used]
    del graph.initializer[:]
    graph.initializer.extend(keep)
    onnx.save(model, dst)
    print("%s: %d MatMul/Gemm as int8 (MatMulInteger)%s" % (dst, count, ", head included" if head else ""))


if __name__ == "__main__":
    main()
