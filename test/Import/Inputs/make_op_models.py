#!/usr/bin/python3
"""Writes small ONNX models of single ops, committed for the tests (needs
python3-onnx):
  einsum.onnx             Einsum in the forms models use, each its own
                          output (test/Import/einsum.test, against ONNX
                          Runtime)
  einsum_unsupported.onnx the forms Slim refuses, each with its reason
  resize_sizes.onnx       a Resize whose sizes are a graph input, for
                          --bind (test/Import/bind.test, the README's tour)
  sign.onnx               Sign, for NaN and signed zeros (test/Import/sign.test)
    /usr/bin/python3 test/Import/Inputs/make_op_models.py
"""
import os

import onnx
from onnx import TensorProto, helper

here = os.path.dirname(os.path.abspath(__file__))

INPUTS = {"a": [3, 4], "b": [4, 5], "p": [2, 3, 4], "q": [2, 4, 5],
          "r": [2, 3, 4, 6], "s": [2, 3, 5, 6], "w": [5, 4], "v": [2, 4]}
# (equation, operands)
FORMS = [
    ("ij,jk->ik", "ab"),            # matrix product
    ("ij,jk", "ab"),                # the same, output implied
    ("bij,bjk->bik", "pq"),         # batched
    ("...ij,...jk->...ik", "pq"),   # batched through an ellipsis
    ("bhid,bhjd->bhij", "rs"),      # attention scores
    ("bij,jk->bik", "pb"),          # batch on one side only
    ("ik,jk->ij", "aw"),            # a linear layer's x·Wᵀ
    ("bi,bi->b", "vv"),             # row dot products
    ("ij->ji", "a"),                # transpose
    ("bij->bj", "p"),               # sum over an axis
    ("bij,bjk->ik", "pq"),          # batch summed away
]

nodes, outputs = [], []
for k, (eq, ops) in enumerate(FORMS):
    nodes.append(helper.make_node("Einsum", list(ops), ["y%d" % k],
                                  equation=eq, name="einsum_%d" % k))
    outputs.append(helper.make_tensor_value_info("y%d" % k, TensorProto.FLOAT, None))
used = sorted({c for _, ops in FORMS for c in ops})
inputs = [helper.make_tensor_value_info(n, TensorProto.FLOAT, INPUTS[n]) for n in used]
g = helper.make_graph(nodes, "einsum", inputs, outputs)
m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 14)])
m = onnx.shape_inference.infer_shapes(m)
del m.graph.value_info[:]
onnx.checker.check_model(m, full_check=True)
onnx.save(m, os.path.join(here, "einsum.onnx"))

# Forms Slim refuses, each with its reason: a diagonal (an index repeated in
# one term), three operands, broadcasting between operands.
x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [3, 3])
z = helper.make_tensor_value_info("z", TensorProto.FLOAT, [1, 3])
bad = [helper.make_node("Einsum", ["x"], ["d"], equation="ii->i", name="diagonal"),
       helper.make_node("Einsum", ["x", "x", "x"], ["t"], equation="ij,jk,kl->il",
                        name="three"),
       helper.make_node("Einsum", ["z", "x"], ["u"], equation="ij,ij->ij",
                        name="broadcast")]
g = helper.make_graph(bad, "einsum_unsupported", [x, z],
                      [helper.make_tensor_value_info("d", TensorProto.FLOAT, [3]),
                       helper.make_tensor_value_info("t", TensorProto.FLOAT, [3, 3]),
                       helper.make_tensor_value_info("u", TensorProto.FLOAT, [3, 3])])
m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 14)])
onnx.checker.check_model(m)
onnx.save(m, os.path.join(here, "einsum_unsupported.onnx"))

# Resize with its sizes as an input: x [1, 2, 3, 4] -> sizes.
x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2, 3, 4])
sizes = helper.make_tensor_value_info("sizes", TensorProto.INT64, [4])
g = helper.make_graph(
    [helper.make_node("Resize", ["x", "", "", "sizes"], ["y"], mode="linear",
                      name="resize")],
    "resize_sizes", [x, sizes],
    [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 2, None, None])])
m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 14)])
onnx.checker.check_model(m)
onnx.save(m, os.path.join(here, "resize_sizes.onnx"))

# Sign over a vector that the test fills with NaN, ±inf, ±0 and others.
x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [8])
g = helper.make_graph([helper.make_node("Sign", ["x"], ["y"], name="sign")], "sign", [x],
                      [helper.make_tensor_value_info("y", TensorProto.FLOAT, [8])])
m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 14)])
onnx.checker.check_model(m)
onnx.save(m, os.path.join(here, "sign.onnx"))
