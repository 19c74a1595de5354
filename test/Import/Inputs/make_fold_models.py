#!/usr/bin/python3
"""Writes fold.onnx: shape-and-mask style computations on constants (Mod
with and without fmod, CumSum plain / exclusive+reverse, Less, Greater,
And, Where, Cast) that the importer evaluates at import, added to a
run-time input. Needs python3-onnx; the output is committed.
    /usr/bin/python3 test/Import/Inputs/make_fold_models.py
"""
import os

import onnx
from onnx import TensorProto, helper

here = os.path.dirname(os.path.abspath(__file__))
x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])
y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])
c = helper.make_tensor("c", TensorProto.INT64, [4], [5, -7, 8, 2])
cf = helper.make_tensor("cf", TensorProto.FLOAT, [4], [5, -7, 8, 2])
three = helper.make_tensor("three", TensorProto.INT64, [], [3])
threef = helper.make_tensor("threef", TensorProto.FLOAT, [], [3])
minus10 = helper.make_tensor("minus10", TensorProto.INT64, [], [-10])
axis = helper.make_tensor("axis", TensorProto.INT64, [], [0])
one = helper.make_tensor("one", TensorProto.FLOAT, [], [1])
zero = helper.make_tensor("zero", TensorProto.FLOAT, [], [0])
k10 = helper.make_tensor("k10", TensorProto.FLOAT, [], [10])
k100 = helper.make_tensor("k100", TensorProto.FLOAT, [], [100])
k1000 = helper.make_tensor("k1000", TensorProto.FLOAT, [], [1000])
nodes = [
    helper.make_node("Mod", ["c", "three"], ["m"], name="mod"),            # [2, 2, 2, 2]
    helper.make_node("Mod", ["cf", "threef"], ["fm"], name="fmod", fmod=1),  # [2, -1, 2, 2]
    helper.make_node("CumSum", ["m", "axis"], ["cs"], name="cumsum"),      # [2, 4, 6, 8]
    helper.make_node("CumSum", ["m", "axis"], ["cse"], name="cumsum_er",
                     exclusive=1, reverse=1),                              # [6, 4, 2, 0]
    helper.make_node("Less", ["c", "three"], ["lt"], name="less"),         # [F, T, F, T]
    helper.make_node("Greater", ["c", "minus10"], ["gt"], name="greater"),  # all T
    helper.make_node("And", ["lt", "gt"], ["both"], name="and"),
    helper.make_node("Where", ["both", "one", "zero"], ["w"], name="where"),  # [0, 1, 0, 1]
    helper.make_node("Cast", ["cs"], ["csf"], name="cast1", to=TensorProto.FLOAT),
    helper.make_node("Cast", ["cse"], ["csef"], name="cast2", to=TensorProto.FLOAT),
    helper.make_node("Mul", ["csef", "k10"], ["a1"], name="mul1"),
    helper.make_node("Mul", ["fm", "k100"], ["a2"], name="mul2"),
    helper.make_node("Mul", ["w", "k1000"], ["a3"], name="mul3"),
    helper.make_node("Add", ["csf", "a1"], ["s1"], name="add1"),
    helper.make_node("Add", ["s1", "a2"], ["s2"], name="add2"),
    helper.make_node("Add", ["s2", "a3"], ["s3"], name="add3"),            # [262, 944, 226, 1208]
    helper.make_node("Add", ["x", "s3"], ["y"], name="add_x"),
]
g = helper.make_graph(nodes, "fold", [x], [y],
                      initializer=[c, cf, three, threef, minus10, axis, one, zero, k10, k100, k1000])
m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
onnx.checker.check_model(m)
onnx.save(m, os.path.join(here, "fold.onnx"))

# fold2.onnx: ScatterND (Swin's shift masks), constant Pad, Slice with
# negative steps (how exporters reverse pad lists), evaluated at import;
# and on a run-time image a zero Pad (the identity), GlobalAveragePool and
# Flatten.
img = helper.make_tensor_value_info("img", TensorProto.FLOAT, [1, 2, 2, 3])
pooled = helper.make_tensor_value_info("pooled", TensorProto.FLOAT, [1, 2])
x2 = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])
y2 = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])
inits = [
    helper.make_tensor("data", TensorProto.FLOAT, [4], [0, 0, 0, 0]),
    helper.make_tensor("idx", TensorProto.INT64, [2, 1], [1, 3]),
    helper.make_tensor("upd", TensorProto.FLOAT, [2], [5, 7]),
    helper.make_tensor("pads", TensorProto.INT64, [2], [1, 1]),
    helper.make_tensor("two", TensorProto.FLOAT, [], [2]),
    helper.make_tensor("rs", TensorProto.INT64, [1], [-1]),
    helper.make_tensor("re", TensorProto.INT64, [1], [-9223372036854775807]),
    helper.make_tensor("ax", TensorProto.INT64, [1], [0]),
    helper.make_tensor("rstep", TensorProto.INT64, [1], [-1]),
    helper.make_tensor("s0", TensorProto.INT64, [1], [0]),
    helper.make_tensor("s4", TensorProto.INT64, [1], [4]),
    helper.make_tensor("zpads", TensorProto.INT64, [8], [0] * 8),
]
nodes2 = [
    helper.make_node("ScatterND", ["data", "idx", "upd"], ["sc"], name="scatter"),  # [0, 5, 0, 7]
    helper.make_node("Pad", ["sc", "pads", "two"], ["pd"], name="pad"),             # [2, 0, 5, 0, 7, 2]
    helper.make_node("Slice", ["pd", "rs", "re", "ax", "rstep"], ["rev"], name="reverse"),  # [2, 7, 0, 5, 0, 2]
    helper.make_node("Slice", ["rev", "s0", "s4"], ["head"], name="head"),          # [2, 7, 0, 5]
    helper.make_node("Add", ["x", "head"], ["y"], name="add_x"),
    helper.make_node("Pad", ["img", "zpads"], ["img0"], name="zero_pad"),
    helper.make_node("GlobalAveragePool", ["img0"], ["gap"], name="gap"),
    helper.make_node("Flatten", ["gap"], ["pooled"], name="flatten"),
]
g2 = helper.make_graph(nodes2, "fold2", [x2, img], [y2, pooled], initializer=inits)
m2 = helper.make_model(g2, opset_imports=[helper.make_opsetid("", 17)])
onnx.checker.check_model(m2)
onnx.save(m2, os.path.join(here, "fold2.onnx"))

# fold3.onnx: int64 arithmetic folded exactly (INT64_MAX - (INT64_MAX - c)
# is c only in integer arithmetic; through a double it is 0), Mod with a
# negative divisor (the divisor's sign), Mod with fmod (the dividend's),
# integer Div (truncating).
x3 = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])
y3 = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])
inits3 = [
    helper.make_tensor("c", TensorProto.INT64, [4], [5, -7, 8, 2]),
    helper.make_tensor("big", TensorProto.INT64, [], [9223372036854775807]),
    helper.make_tensor("mthree", TensorProto.INT64, [], [-3]),
    helper.make_tensor("three", TensorProto.INT64, [], [3]),
    helper.make_tensor("two", TensorProto.INT64, [], [2]),
    helper.make_tensor("k10", TensorProto.INT64, [], [10]),
    helper.make_tensor("k100", TensorProto.INT64, [], [100]),
    helper.make_tensor("k1000", TensorProto.INT64, [], [1000]),
]
nodes3 = [
    helper.make_node("Sub", ["big", "c"], ["near_max"], name="sub1"),
    helper.make_node("Sub", ["big", "near_max"], ["back"], name="sub2"),    # [5, -7, 8, 2]
    helper.make_node("Mod", ["c", "mthree"], ["m"], name="mod"),           # [-1, -1, -1, -1]
    helper.make_node("Mod", ["c", "three"], ["fm"], name="fmod", fmod=1),  # [2, -1, 2, 2]
    helper.make_node("Div", ["c", "two"], ["d"], name="div"),              # [2, -3, 4, 1]
    helper.make_node("Mul", ["back", "k1000"], ["a1"], name="mul1"),
    helper.make_node("Mul", ["m", "k100"], ["a2"], name="mul2"),
    helper.make_node("Mul", ["fm", "k10"], ["a3"], name="mul3"),
    helper.make_node("Add", ["a1", "a2"], ["s1"], name="add1"),
    helper.make_node("Add", ["s1", "a3"], ["s2"], name="add2"),
    helper.make_node("Add", ["s2", "d"], ["s3"], name="add3"),             # [4922, -7113, 7924, 1921]
    helper.make_node("Cast", ["s3"], ["s3f"], name="cast", to=TensorProto.FLOAT),
    helper.make_node("Add", ["x", "s3f"], ["y"], name="add_x"),
]
g3 = helper.make_graph(nodes3, "fold3", [x3], [y3], initializer=inits3)
m3 = helper.make_model(g3, opset_imports=[helper.make_opsetid("", 17)])
onnx.checker.check_model(m3)
onnx.save(m3, os.path.join(here, "fold3.onnx"))
