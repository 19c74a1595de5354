#!/usr/bin/python3
"""Writes the small malformed/unsupported ONNX models the negative import
tests use. Needs python3-onnx; the outputs are committed.
    /usr/bin/python3 test/Import/Inputs/make_bad_models.py
"""
import os

import onnx
from onnx import TensorProto, helper

here = os.path.dirname(os.path.abspath(__file__))


def save(name, nodes, inputs, outputs, opset=17, check=True, inits=()):
    g = helper.make_graph(nodes, name, inputs, outputs, initializer=list(inits))
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])
    if check:
        onnx.checker.check_model(m)
    onnx.save(m, os.path.join(here, name + ".onnx"))


x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])
y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])

# Two unsupported op types (Hardmax twice, LpNormalization once) and a
# supported one.
save("two_unsupported", [
    helper.make_node("Hardmax", ["x"], ["a"], name="hardmax_1"),
    helper.make_node("Add", ["a", "a"], ["b"], name="add"),
    helper.make_node("LpNormalization", ["b"], ["c"], name="lpnorm"),
    helper.make_node("Hardmax", ["c"], ["y"], name="hardmax_2"),
], [x], [y])

# A dynamic batch dimension.
xd = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 4])
yd = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 4])
save("dynamic_batch", [helper.make_node("Tanh", ["x"], ["y"], name="tanh")], [xd], [yd])

# Opset 18: newer than Slim reads (older ones are upgraded).
save("opset18", [helper.make_node("Tanh", ["x"], ["y"], name="tanh")], [x], [y], opset=18)

# A node reading a value nothing produces (the checker rejects it).
save("dangling", [helper.make_node("Add", ["x", "ghost"], ["y"], name="add")],
     [x], [y], check=False)

# A shape mismatch inside the graph: [1,4] + [3] does not broadcast.
c = helper.make_tensor("c", TensorProto.FLOAT, [3], [1.0, 2.0, 3.0])
save("shape_mismatch", [helper.make_node("Add", ["x", "c"], ["y"], name="bad_add")],
     [x], [y], check=False, inits=[c])

# Weights with NaN and Inf (imported with a warning).
nan = helper.make_tensor("w", TensorProto.FLOAT, [1, 4], [1.0, float("nan"), float("inf"), 0.0])
save("nan_weights", [helper.make_node("Add", ["x", "w"], ["y"], name="add_w")],
     [x], [y], inits=[nan])

# A cycle: a -> b -> a (the checker rejects it as unsorted).
save("cyclic", [
    helper.make_node("Add", ["x", "b"], ["a"], name="first"),
    helper.make_node("Tanh", ["a"], ["b"], name="second"),
    helper.make_node("Identity", ["a"], ["y"], name="out"),
], [x], [y], check=False)

# An IR version newer than the ONNX library Slim is built with.
g = helper.make_graph([helper.make_node("Tanh", ["x"], ["y"], name="tanh")], "ir99", [x], [y])
m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
m.ir_version = 99
onnx.save(m, os.path.join(here, "ir_version_99.onnx"))

# Weights saved as external data (external/model.onnx + external/weights.bin;
# the tests copy the model without its weights file, or with it truncated).
import numpy as np
from onnx import numpy_helper
os.makedirs(os.path.join(here, "external"), exist_ok=True)
w = numpy_helper.from_array(np.arange(4, dtype=np.float32).reshape(1, 4), "w")
g = helper.make_graph([helper.make_node("Add", ["x", "w"], ["y"], name="add_w")],
                      "external", [x], [y], initializer=[w])
m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
onnx.save(m, os.path.join(here, "external", "model.onnx"), save_as_external_data=True,
          all_tensors_to_one_file=True, location="weights.bin", size_threshold=0)


# Three nodes in unsupported forms, one after another: a 3-D Conv, a 3-D
# MaxPool reading it, a run-time Cast to DOUBLE (all reported at once).
w = helper.make_tensor("w", TensorProto.FLOAT, [4, 3, 3, 3, 3], [0.1] * 324)
xi = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 4, 8, 8])
yo = helper.make_tensor_value_info("y", TensorProto.DOUBLE, [1, 4, 2, 3, 3])
save("unsupported_forms", [
    helper.make_node("Conv", ["x", "w"], ["a"], name="conv_3d"),
    helper.make_node("MaxPool", ["a"], ["b"], name="pool_3d", kernel_shape=[1, 2, 2], strides=[1, 2, 2]),
    helper.make_node("Cast", ["b"], ["y"], name="cast_double", to=TensorProto.DOUBLE),
], [xi], [yo], inits=[w])

# Dropout in a train-mode export: the identity with ratio 0, refused when
# it would really drop.
for name, p in (("dropout_train_p0", 0.0), ("dropout_train", 0.5)):
    ratio = helper.make_tensor("ratio", TensorProto.FLOAT, [], [p])
    training = helper.make_tensor("training", TensorProto.BOOL, [], [True])
    save(name, [helper.make_node("Dropout", ["x", "ratio", "training"], ["y"], name="drop")],
         [x], [y], inits=[ratio, training])
