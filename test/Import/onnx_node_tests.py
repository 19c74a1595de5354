#!/usr/bin/env python3
"""ONNX backend node tests (Debian's libonnx-testdata) through Slim.

Usage: onnx_node_tests.py SLIM_IMPORT [NODE_TEST_DIR] [--list] [--import-only]
                          [--compiled | --both]

For every node test: import the model (slim-import --no-raise), then run it
with the reference executor (slim-run, Slim's kernels) on each
test_data_set_N and compare every output with the expected one, with the
ONNX backend's tolerance (|a - b| <= 1e-7 + 1e-3 |b|). A test whose op type
Slim does not support at all is "not applicable" (slim-import lists it as
unsupported); every other test must pass, except the expected failures
below, each with its reason. With --compiled, each model is compiled by
slimc into an executable instead and the executable runs the data sets (the
generated code: kernel calls and the linalg-lowered glue ops); with --both,
each model is imported once and run both ways, one summary per way.
Inputs that are shape parameters (named pads, scales, sizes, roi,
shape, axes, starts, ends, steps, split, repeats) are fixed at import
with `slim-import --bind` to the first data set's values: Slim compiles
static shapes, and a real model has them as constants. So are
ConvTranspose's weight and bias and Pad's fill value (BOUND_IN).
An expected failure that starts passing is
reported so the list stays true. Prints "N passed, N failed" and exits 1 on
any unexpected result. SLIM_IMPORT's directory must also hold slim-run.
"""

import array
import concurrent.futures
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile

# Expected failures: test name -> reason. Keep each reason specific.
EXPECTED_FAILURES = {
    'test_max_float16': 'FLOAT16 tensors; Slim imports float32, int32/int64 and bool',
    'test_max_float64': 'DOUBLE tensors; Slim imports float32, int32/int64 and bool',
    'test_max_int16': 'INT16 tensors; Slim imports float32, int32/int64 and bool',
    'test_max_int32': 'integer Max/Min of run-time tensors; Slim computes them on float32',
    'test_max_int64': 'integer Max/Min of run-time tensors; Slim computes them on float32',
    'test_max_int8': 'INT8 tensors; Slim imports float32, int32/int64 and bool',
    'test_max_uint16': 'UINT16 tensors; Slim imports float32, int32/int64 and bool',
    'test_max_uint32': 'UINT32 tensors; Slim imports float32, int32/int64 and bool',
    'test_max_uint64': 'UINT64 tensors; Slim imports float32, int32/int64 and bool',
    'test_max_uint8': 'UINT8 tensors; Slim imports float32, int32/int64 and bool',
    'test_min_float16': 'FLOAT16 tensors; Slim imports float32, int32/int64 and bool',
    'test_min_float64': 'DOUBLE tensors; Slim imports float32, int32/int64 and bool',
    'test_min_int16': 'INT16 tensors; Slim imports float32, int32/int64 and bool',
    'test_min_int32': 'integer Max/Min of run-time tensors; Slim computes them on float32',
    'test_min_int64': 'integer Max/Min of run-time tensors; Slim computes them on float32',
    'test_min_int8': 'INT8 tensors; Slim imports float32, int32/int64 and bool',
    'test_min_uint16': 'UINT16 tensors; Slim imports float32, int32/int64 and bool',
    'test_min_uint32': 'UINT32 tensors; Slim imports float32, int32/int64 and bool',
    'test_min_uint64': 'UINT64 tensors; Slim imports float32, int32/int64 and bool',
    'test_min_uint8': 'UINT8 tensors; Slim imports float32, int32/int64 and bool',
    'test_reduce_log_sum_exp_default_axes_keepdims_example': 'DOUBLE tensors; Slim imports float32, int32/int64 and bool',
    'test_reduce_log_sum_exp_default_axes_keepdims_random': 'DOUBLE tensors; Slim imports float32, int32/int64 and bool',
    'test_reduce_log_sum_exp_do_not_keepdims_example': 'DOUBLE tensors; Slim imports float32, int32/int64 and bool',
    'test_reduce_log_sum_exp_do_not_keepdims_random': 'DOUBLE tensors; Slim imports float32, int32/int64 and bool',
    'test_reduce_log_sum_exp_keepdims_example': 'DOUBLE tensors; Slim imports float32, int32/int64 and bool',
    'test_reduce_log_sum_exp_keepdims_random': 'DOUBLE tensors; Slim imports float32, int32/int64 and bool',
    'test_reduce_log_sum_exp_negative_axes_keepdims_example': 'DOUBLE tensors; Slim imports float32, int32/int64 and bool',
    'test_reduce_log_sum_exp_negative_axes_keepdims_random': 'DOUBLE tensors; Slim imports float32, int32/int64 and bool',
    'test_averagepool_3d_default': '3-D pooling; Slim pools over 1-D and 2-D windows',
    'test_maxpool_3d_default': '3-D pooling; Slim pools over 1-D and 2-D windows',
    'test_batchnorm_epsilon_training_mode': 'BatchNormalization in training mode (running statistics outputs); Slim compiles inference',
    'test_batchnorm_example_training_mode': 'BatchNormalization in training mode (running statistics outputs); Slim compiles inference',
    'test_maxpool_2d_uint8': 'UINT8 tensors; Slim imports float32, int32/int64 and bool',
    'test_maxpool_with_argmax_2d_precomputed_pads': "MaxPool's Indices output; Slim computes the pooled values only",
    'test_maxpool_with_argmax_2d_precomputed_strides': "MaxPool's Indices output; Slim computes the pooled values only",
    'test_clip_default_min': 'Clip with a run-time bound (graph input); Slim clips by constant bounds',
    'test_clip_example': 'Clip with run-time bounds (graph inputs); Slim clips by constant bounds',
    'test_clip_inbounds': 'Clip with run-time bounds (graph inputs); Slim clips by constant bounds',
    'test_clip': 'Clip with run-time bounds (graph inputs); Slim clips by constant bounds',
    'test_clip_default_max': 'Clip with a run-time bound (graph input); Slim clips by constant bounds',
    'test_clip_outbounds': 'Clip with run-time bounds (graph inputs); Slim clips by constant bounds',
    'test_clip_splitbounds': 'Clip with run-time bounds (graph inputs); Slim clips by constant bounds',
    'test_clip_default_int8_inbounds': 'INT8 tensors; Slim imports float32, int32/int64 and bool',
    'test_clip_default_int8_max': 'INT8 tensors; Slim imports float32, int32/int64 and bool',
    'test_clip_default_int8_min': 'INT8 tensors; Slim imports float32, int32/int64 and bool',
    'test_scatternd': "ScatterND is folded at import (Swin's shift masks, test/Import/fold.test); not compiled for run-time tensors",
    'test_scatternd_add': "ScatterND is folded at import (Swin's shift masks, test/Import/fold.test); not compiled for run-time tensors",
    'test_scatternd_multiply': "ScatterND is folded at import (Swin's shift masks, test/Import/fold.test); not compiled for run-time tensors",
    'test_add_uint8': 'UINT8 tensors; Slim imports float32, int32/int64 and bool',
    'test_blackmanwindow_expanded': 'Range over a run-time size (window functions); Range folds only at import',
    'test_blackmanwindow_symmetric_expanded': 'Range over a run-time size (window functions); Range folds only at import',
    'test_cast_BFLOAT16_to_FLOAT': 'BFLOAT16 tensors; Slim imports float32, int32/int64 and bool',
    'test_cast_DOUBLE_to_FLOAT': 'DOUBLE tensors; Slim imports float32, int32/int64 and bool',
    'test_cast_DOUBLE_to_FLOAT16': 'DOUBLE tensors; Slim imports float32, int32/int64 and bool',
    'test_cast_FLOAT16_to_DOUBLE': 'FLOAT16 tensors; Slim imports float32, int32/int64 and bool',
    'test_cast_FLOAT16_to_FLOAT': 'FLOAT16 tensors; Slim imports float32, int32/int64 and bool',
    'test_cast_FLOAT_to_BFLOAT16': 'run-time Cast to BFLOAT16',
    'test_cast_FLOAT_to_DOUBLE': 'run-time Cast to DOUBLE',
    'test_cast_FLOAT_to_FLOAT16': 'run-time Cast to FLOAT16',
    'test_cast_FLOAT_to_STRING': 'run-time Cast to STRING',
    'test_cast_STRING_to_FLOAT': 'STRING tensors; Slim imports float32, int32/int64 and bool',
    'test_castlike_BFLOAT16_to_FLOAT_expanded': 'BFLOAT16 tensors; Slim imports float32, int32/int64 and bool',
    'test_castlike_DOUBLE_to_FLOAT16_expanded': 'DOUBLE tensors; Slim imports float32, int32/int64 and bool',
    'test_castlike_DOUBLE_to_FLOAT_expanded': 'DOUBLE tensors; Slim imports float32, int32/int64 and bool',
    'test_castlike_FLOAT16_to_DOUBLE_expanded': 'FLOAT16 tensors; Slim imports float32, int32/int64 and bool',
    'test_castlike_FLOAT16_to_FLOAT_expanded': 'FLOAT16 tensors; Slim imports float32, int32/int64 and bool',
    'test_castlike_FLOAT_to_BFLOAT16_expanded': 'BFLOAT16 tensors; Slim imports float32, int32/int64 and bool',
    'test_castlike_FLOAT_to_DOUBLE_expanded': 'DOUBLE tensors; Slim imports float32, int32/int64 and bool',
    'test_castlike_FLOAT_to_FLOAT16_expanded': 'FLOAT16 tensors; Slim imports float32, int32/int64 and bool',
    'test_castlike_FLOAT_to_STRING_expanded': 'STRING tensors; Slim imports float32, int32/int64 and bool',
    'test_castlike_STRING_to_FLOAT_expanded': 'STRING tensors; Slim imports float32, int32/int64 and bool',
    'test_resize_tf_crop_and_resize': 'Resize with a region of interest (tf_crop_and_resize); Slim resizes whole tensors',
    'test_convtranspose_3d': '3-D ConvTranspose; Slim transposes 1-D and 2-D convolutions',
    'test_einsum_batch_diagonal': 'DOUBLE tensors; Slim imports float32, int32/int64 and bool (Einsum itself: test/E2E/hybrid.test)',
    'test_einsum_batch_matmul': 'DOUBLE tensors; Slim imports float32, int32/int64 and bool (Einsum itself: test/E2E/hybrid.test)',
    'test_einsum_inner_prod': 'DOUBLE tensors; Slim imports float32, int32/int64 and bool (Einsum itself: test/E2E/hybrid.test)',
    'test_einsum_sum': 'DOUBLE tensors; Slim imports float32, int32/int64 and bool (Einsum itself: test/E2E/hybrid.test)',
    'test_einsum_transpose': 'DOUBLE tensors; Slim imports float32, int32/int64 and bool (Einsum itself: test/E2E/hybrid.test)',
    'test_nllloss_NCd1_ii_expanded': 'integer arithmetic (Sub of int64 indices) on run-time tensors; Slim folds integer arithmetic at import and computes float32 at run time',
    'test_nllloss_NCd1_mean_weight_negative_ii_expanded': 'integer arithmetic (Sub of int64 indices) on run-time tensors; Slim folds integer arithmetic at import and computes float32 at run time',
    'test_nllloss_NCd1_weight_ii_expanded': 'integer arithmetic (Sub of int64 indices) on run-time tensors; Slim folds integer arithmetic at import and computes float32 at run time',
    'test_nllloss_NCd1d2_no_weight_reduction_mean_ii_expanded': 'integer arithmetic (Sub of int64 indices) on run-time tensors; Slim folds integer arithmetic at import and computes float32 at run time',
    'test_nllloss_NCd1d2_with_weight_reduction_sum_ii_expanded': 'integer arithmetic (Sub of int64 indices) on run-time tensors; Slim folds integer arithmetic at import and computes float32 at run time',
    'test_nllloss_NCd1d2d3_none_no_weight_negative_ii_expanded': 'integer arithmetic (Sub of int64 indices) on run-time tensors; Slim folds integer arithmetic at import and computes float32 at run time',
    'test_nllloss_NCd1d2d3_sum_weight_high_ii_expanded': 'integer arithmetic (Sub of int64 indices) on run-time tensors; Slim folds integer arithmetic at import and computes float32 at run time',
    'test_constantofshape_float_ones': 'ConstantOfShape of a run-time shape; Slim folds it on shapes known at import time only',
    'test_constantofshape_int_shape_zero': 'ConstantOfShape of a run-time shape; Slim folds it on shapes known at import time only',
    'test_constantofshape_int_zeros': 'ConstantOfShape of a run-time shape; Slim folds it on shapes known at import time only',
    'test_cumsum_1d': 'DOUBLE tensors; Slim imports float32, int32/int64 and bool',
    'test_cumsum_1d_exclusive': 'DOUBLE tensors; Slim imports float32, int32/int64 and bool',
    'test_cumsum_1d_reverse': 'DOUBLE tensors; Slim imports float32, int32/int64 and bool',
    'test_cumsum_1d_reverse_exclusive': 'DOUBLE tensors; Slim imports float32, int32/int64 and bool',
    'test_cumsum_2d_axis_0': 'DOUBLE tensors; Slim imports float32, int32/int64 and bool',
    'test_cumsum_2d_axis_1': 'DOUBLE tensors; Slim imports float32, int32/int64 and bool',
    'test_cumsum_2d_negative_axis': 'DOUBLE tensors; Slim imports float32, int32/int64 and bool',
    'test_div_uint8': 'UINT8 tensors; Slim imports float32, int32/int64 and bool',
    'test_expand_dim_changed': 'a shape parameter (axes/shape/starts/split) is a run-time input; Slim needs it known at import',
    'test_expand_dim_unchanged': 'a shape parameter (axes/shape/starts/split) is a run-time input; Slim needs it known at import',
    'test_hammingwindow_expanded': 'Range over a run-time size (window functions); Range folds only at import',
    'test_hammingwindow_symmetric_expanded': 'Range over a run-time size (window functions); Range folds only at import',
    'test_hannwindow_expanded': 'Range over a run-time size (window functions); Range folds only at import',
    'test_hannwindow_symmetric_expanded': 'Range over a run-time size (window functions); Range folds only at import',
    'test_identity_opt': 'sequence/optional-typed input',
    'test_identity_sequence': 'sequence/optional-typed input',
    'test_layer_normalization_2d_axis0': "LayerNormalization's Mean/InvStdDev (training) outputs",
    'test_layer_normalization_2d_axis1': "LayerNormalization's Mean/InvStdDev (training) outputs",
    'test_layer_normalization_2d_axis_negative_1': "LayerNormalization's Mean/InvStdDev (training) outputs",
    'test_layer_normalization_2d_axis_negative_2': "LayerNormalization's Mean/InvStdDev (training) outputs",
    'test_layer_normalization_3d_axis0_epsilon': "LayerNormalization's Mean/InvStdDev (training) outputs",
    'test_layer_normalization_3d_axis1_epsilon': "LayerNormalization's Mean/InvStdDev (training) outputs",
    'test_layer_normalization_3d_axis2_epsilon': "LayerNormalization's Mean/InvStdDev (training) outputs",
    'test_layer_normalization_3d_axis_negative_1_epsilon': "LayerNormalization's Mean/InvStdDev (training) outputs",
    'test_layer_normalization_3d_axis_negative_2_epsilon': "LayerNormalization's Mean/InvStdDev (training) outputs",
    'test_layer_normalization_3d_axis_negative_3_epsilon': "LayerNormalization's Mean/InvStdDev (training) outputs",
    'test_layer_normalization_4d_axis0': "LayerNormalization's Mean/InvStdDev (training) outputs",
    'test_layer_normalization_4d_axis1': "LayerNormalization's Mean/InvStdDev (training) outputs",
    'test_layer_normalization_4d_axis2': "LayerNormalization's Mean/InvStdDev (training) outputs",
    'test_layer_normalization_4d_axis3': "LayerNormalization's Mean/InvStdDev (training) outputs",
    'test_layer_normalization_4d_axis_negative_1': "LayerNormalization's Mean/InvStdDev (training) outputs",
    'test_layer_normalization_4d_axis_negative_2': "LayerNormalization's Mean/InvStdDev (training) outputs",
    'test_layer_normalization_4d_axis_negative_3': "LayerNormalization's Mean/InvStdDev (training) outputs",
    'test_layer_normalization_4d_axis_negative_4': "LayerNormalization's Mean/InvStdDev (training) outputs",
    'test_layer_normalization_default_axis': "LayerNormalization's Mean/InvStdDev (training) outputs",
    'test_mod_broadcast': 'Mod is folded at import (shape and mask computations, test/Import/fold.test); not compiled for run-time tensors',
    'test_mod_int64_fmod': 'Mod is folded at import (shape and mask computations, test/Import/fold.test); not compiled for run-time tensors',
    'test_mod_mixed_sign_float16': 'FLOAT16 tensors; Slim imports float32, int32/int64 and bool',
    'test_mod_mixed_sign_float32': 'Mod is folded at import (shape and mask computations, test/Import/fold.test); not compiled for run-time tensors',
    'test_mod_mixed_sign_float64': 'DOUBLE tensors; Slim imports float32, int32/int64 and bool',
    'test_mod_mixed_sign_int16': 'INT16 tensors; Slim imports float32, int32/int64 and bool',
    'test_mod_mixed_sign_int32': 'Mod is folded at import (shape and mask computations, test/Import/fold.test); not compiled for run-time tensors',
    'test_mod_mixed_sign_int64': 'Mod is folded at import (shape and mask computations, test/Import/fold.test); not compiled for run-time tensors',
    'test_mod_mixed_sign_int8': 'INT8 tensors; Slim imports float32, int32/int64 and bool',
    'test_mod_uint16': 'UINT16 tensors; Slim imports float32, int32/int64 and bool',
    'test_mod_uint32': 'UINT32 tensors; Slim imports float32, int32/int64 and bool',
    'test_mod_uint64': 'UINT64 tensors; Slim imports float32, int32/int64 and bool',
    'test_mod_uint8': 'UINT8 tensors; Slim imports float32, int32/int64 and bool',
    'test_mul_uint8': 'UINT8 tensors; Slim imports float32, int32/int64 and bool',
    'test_pow_types_float': 'Pow of a float and an integer tensor; Slim needs one element type',
    'test_pow_types_float32_int32': 'integer arithmetic on run-time tensors (float ops only)',
    'test_pow_types_float32_int64': 'integer arithmetic on run-time tensors (float ops only)',
    'test_pow_types_float32_uint32': 'UINT32 tensors; Slim imports float32, int32/int64 and bool',
    'test_pow_types_float32_uint64': 'UINT64 tensors; Slim imports float32, int32/int64 and bool',
    'test_pow_types_int': 'Pow of a float and an integer tensor; Slim needs one element type',
    'test_pow_types_int32_float32': 'integer arithmetic on run-time tensors (float ops only)',
    'test_pow_types_int32_int32': 'integer arithmetic on run-time tensors (float ops only)',
    'test_pow_types_int64_float32': 'integer arithmetic on run-time tensors (float ops only)',
    'test_pow_types_int64_int64': 'integer arithmetic on run-time tensors (float ops only)',
    'test_range_float_type_positive_delta': 'Range of run-time bounds; Slim folds it on values known at import time only',
    'test_range_int32_type_negative_delta': 'Range of run-time bounds; Slim folds it on values known at import time only',
    'test_reshape_allowzero_reordered': 'zero-sized input dimension',
    'test_slice_neg_steps': 'a shape parameter (axes/shape/starts/split) is a run-time input; Slim needs it known at import',
    'test_split_zero_size_splits': 'zero-sized input dimension',
    'test_sub_uint8': 'UINT8 tensors; Slim imports float32, int32/int64 and bool',
    'test_training_dropout': 'training-mode Dropout',
    'test_training_dropout_default': 'training-mode Dropout',
    'test_training_dropout_default_mask': 'training-mode Dropout',
    'test_training_dropout_mask': 'training-mode Dropout',
    'test_training_dropout_zero_ratio': 'training-mode Dropout',
    'test_training_dropout_zero_ratio_mask': 'training-mode Dropout',
    'test_tril': 'Trilu is folded at import (masks); not compiled for run-time tensors',
    'test_tril_neg': 'Trilu is folded at import (masks); not compiled for run-time tensors',
    'test_tril_one_row_neg': 'Trilu is folded at import (masks); not compiled for run-time tensors',
    'test_tril_out_neg': 'Trilu is folded at import (masks); not compiled for run-time tensors',
    'test_tril_out_pos': 'Trilu is folded at import (masks); not compiled for run-time tensors',
    'test_tril_pos': 'Trilu is folded at import (masks); not compiled for run-time tensors',
    'test_tril_square': 'Trilu is folded at import (masks); not compiled for run-time tensors',
    'test_tril_square_neg': 'Trilu is folded at import (masks); not compiled for run-time tensors',
    'test_tril_zero': 'zero-sized input dimension',
    'test_triu': 'Trilu is folded at import (masks); not compiled for run-time tensors',
    'test_triu_neg': 'Trilu is folded at import (masks); not compiled for run-time tensors',
    'test_triu_one_row': 'Trilu is folded at import (masks); not compiled for run-time tensors',
    'test_triu_out_neg_out': 'Trilu is folded at import (masks); not compiled for run-time tensors',
    'test_triu_out_pos': 'Trilu is folded at import (masks); not compiled for run-time tensors',
    'test_triu_pos': 'Trilu is folded at import (masks); not compiled for run-time tensors',
    'test_triu_square': 'Trilu is folded at import (masks); not compiled for run-time tensors',
    'test_triu_square_neg': 'Trilu is folded at import (masks); not compiled for run-time tensors',
    'test_triu_zero': 'zero-sized input dimension',
    'test_where_long_example': 'integer arithmetic on run-time tensors (float ops only)',
}


CODES = {"<f4": "f", "<i8": "q", "<i4": "i", "|b1": "B"}


def read_npy(path):
    data = open(path, "rb").read()
    hlen = struct.unpack("<H", data[8:10])[0]
    header = data[10:10 + hlen].decode("latin1")
    descr = header.split("'descr':")[1].split("'")[1]
    shape = header.split("'shape':")[1].split("(")[1].split(")")[0]
    values = array.array(CODES[descr])
    values.frombytes(data[10 + hlen:])
    return shape.replace(" ", ""), values


def close(a, b):
    if a != a or b != b:  # NaN
        return a != a and b != b
    return abs(a - b) <= 1e-7 + 1e-3 * abs(b)


# Inputs bound at import (slim-import --bind): they decide output shapes.
SHAPE_PARAMS = {"pads", "scales", "sizes", "roi", "shape", "axes", "starts",
                "ends", "steps", "split", "repeats"}
# Inputs bound at import in some tests only: ConvTranspose's weight and bias
# (Slim transposes a known weight; exporters write it as an initializer),
# Pad's fill value.
BOUND_IN = {"test_convtranspose": {"W", "w", "B", "b"}, "test_constant_pad": {"value"}}


def pb_tensor_name(path):
    """The name (field 8) of a serialized TensorProto, or ''."""
    data = open(path, "rb").read()
    i = 0

    def varint():
        nonlocal i
        v = s = 0
        while True:
            b = data[i]
            i += 1
            v |= (b & 0x7F) << s
            s += 7
            if b < 0x80:
                return v

    while i < len(data):
        key = varint()
        field, wire = key >> 3, key & 7
        if wire == 0:
            varint()
        elif wire == 1:
            i += 8
        elif wire == 5:
            i += 4
        elif wire == 2:
            n = varint()
            if field == 8:
                return data[i:i + n].decode()
            i += n
        else:
            return ""
    return ""


def run(tools, path, execute, modes=("reference",)):
    """{mode: (status, message)}: status is 'pass', 'unsupported' or 'fail'.
    The model is imported and the data sets converted once for all modes."""
    slim_import = tools
    slim_run = os.path.join(os.path.dirname(tools), "slim-run")
    slimc = os.path.join(os.path.dirname(tools), "slimc")
    work = tempfile.mkdtemp(prefix="slim-node-")

    def every(result):
        return {m: result for m in modes}

    try:
        mlir = os.path.join(work, "model.mlir")
        test = os.path.basename(path)

        def bound(name):
            return name in SHAPE_PARAMS or any(
                test.startswith(prefix) and name in names for prefix, names in BOUND_IN.items())

        data_sets = sorted(d for d in os.listdir(path) if d.startswith("test_data_set_"))
        # Shape parameters given as inputs: bound to the first data set's
        # values (the same in every data set, or the test cannot run).
        binds = []
        if data_sets:
            first = os.path.join(path, data_sets[0])
            for f in sorted(os.listdir(first)):
                if not f.startswith("input_"):
                    continue
                name = pb_tensor_name(os.path.join(first, f))
                if not bound(name):
                    continue
                raw = open(os.path.join(first, f), "rb").read()
                if any(open(os.path.join(path, d, f), "rb").read() != raw for d in data_sets[1:]):
                    return every(("fail", "shape parameter '%s' differs between data sets" % name))
                npy = os.path.join(work, "bind-%s.npy" % name)
                conv = subprocess.run([slim_import, "--tensor-to-npy", os.path.join(first, f),
                                       "-o", npy], capture_output=True, text=True)
                if conv.returncode:
                    return every(("fail", "%s: %s" % (f, conv.stderr.strip())))
                binds += ["--bind", "%s=%s" % (name, npy)]
        proc = subprocess.run([slim_import, "--no-raise", os.path.join(path, "model.onnx"),
                               "-o", mlir] + binds, capture_output=True, text=True)
        err = proc.stderr.strip()
        if "unsupported op type" in err:
            return every(("unsupported", err))
        if proc.returncode:
            return every(("fail", err.splitlines()[0] if err else "import: exit %d" % proc.returncode))
        if not execute:
            return every(("pass", ""))
        text = open(mlir).read()
        signature = text[text.index("func.func @main"):text.index("{\n", text.index("func.func @main"))]
        arrow = signature.index("->") if "->" in signature else len(signature)
        in_names = re.findall(r'slim.name = "([^"]*)"', signature[:arrow])
        out_names = re.findall(r'slim.name = "([^"]*)"', signature[arrow:])
        results, runners = {}, {}
        for mode in modes:
            if mode == "compiled":
                exe = os.path.join(work, "model")
                c = subprocess.run([slimc, mlir, "-o", exe], capture_output=True, text=True)
                if c.returncode:
                    err = c.stderr.strip().splitlines()
                    results[mode] = ("fail", "slimc: " + ([l for l in err if "error" in l] or err or ["exit %d" % c.returncode])[0])
                    continue
                runners[mode] = [exe]
            else:
                runners[mode] = [slim_run, mlir]
        if not out_names or not data_sets:
            return every(("fail", "no outputs or no test data to compare"))
        for data_set in data_sets:
            ds = os.path.join(path, data_set)
            # The run-time inputs: the data set's inputs but the bound ones,
            # in order (the model's inputs, also in order).
            in_files = sorted((f for f in os.listdir(ds) if f.startswith("input_")),
                              key=lambda f: int(f[6:-3]))
            in_files = [f for f in in_files if not bound(pb_tensor_name(os.path.join(ds, f)))]
            n_out = len([f for f in os.listdir(ds) if f.startswith("output_")])
            if len(in_files) != len(in_names) or n_out != len(out_names):
                return every(("fail", "%d/%d inputs/outputs in the data, %d/%d in the model" % (
                    len(in_files), n_out, len(in_names), len(out_names))))
            args = []
            for k, name in enumerate(in_names):
                npy = os.path.join(work, "in%d.npy" % k)
                conv = subprocess.run([slim_import, "--tensor-to-npy", os.path.join(ds, in_files[k]),
                                       "-o", npy], capture_output=True, text=True)
                if conv.returncode:
                    return every(("fail", "input %d: %s" % (k, conv.stderr.strip())))
                args += ["--input", "%s=%s" % (name, npy)]
            wants = []
            for k in range(len(out_names)):
                want = os.path.join(work, "want%d.npy" % k)
                conv = subprocess.run([slim_import, "--tensor-to-npy", os.path.join(ds, "output_%d.pb" % k),
                                       "-o", want], capture_output=True, text=True)
                if conv.returncode:
                    return every(("fail", "output %d: %s" % (k, conv.stderr.strip())))
                wants.append(read_npy(want))
            for mode, runner in runners.items():
                if mode in results:
                    continue
                out_dir = os.path.join(work, "out-" + mode)
                os.makedirs(out_dir, exist_ok=True)
                r = subprocess.run(runner + ["--output-dir", out_dir] + args,
                                   capture_output=True, text=True)
                if r.returncode:
                    results[mode] = ("fail", "run: " + (r.stderr.strip().splitlines() or ["exit %d" % r.returncode])[0])
                    continue
                for name, (ws, wv) in zip(out_names, wants):
                    gs, gv = read_npy(os.path.join(out_dir, name + ".npy"))
                    if ws != gs or len(wv) != len(gv):
                        results[mode] = ("fail", "output '%s': shape (%s), expected (%s)" % (name, gs, ws))
                        break
                    bad = [i for i, (a, b) in enumerate(zip(gv, wv)) if not close(a, b)]
                    if bad:
                        i = bad[0]
                        results[mode] = ("fail", "output '%s': %d of %d values differ, first at %d: %r vs %r" % (
                            name, len(bad), len(wv), i, gv[i], wv[i]))
                        break
        return {m: results.get(m, ("pass", "")) for m in modes}
    finally:
        shutil.rmtree(work, ignore_errors=True)


def report(tests, results, mode, execute):
    """Prints one mode's summary; returns the number of unexpected results."""
    passed, xfailed, not_applicable, failures, unexpected_passes = [], [], [], [], []
    for t in tests:
        status, err = results[t][mode]
        if status == "unsupported":
            not_applicable.append(t)
        elif status == "pass":
            (unexpected_passes if t in EXPECTED_FAILURES else passed).append(t)
        elif t in EXPECTED_FAILURES:
            xfailed.append(t)
        else:
            failures.append((t, err))
    if "--list" in sys.argv:
        for t, err in failures:
            print("FAIL %s: %s" % (t, err))
    print("  %s: %d, expected failures: %d, op not supported: %d"
          % ("compiled and ran within tolerance" if mode == "compiled"
             else "imported and ran within tolerance" if execute else "imported",
             len(passed), len(xfailed), len(not_applicable)))
    for t, err in failures:
        print("  unexpected failure: %s: %s" % (t, err))
    for t in unexpected_passes:
        print("  now passes, remove from EXPECTED_FAILURES: %s" % t)
    print("%d passed, %d failed" % (len(passed), len(failures) + len(unexpected_passes)))
    return len(failures) + len(unexpected_passes)


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    slim_import = args[0]
    root = args[1] if len(args) > 1 else "/usr/share/libonnx-testdata/data/node"
    tests = sorted(d for d in os.listdir(root)
                   if os.path.exists(os.path.join(root, d, "model.onnx")))
    execute = "--import-only" not in sys.argv
    modes = (("reference", "compiled") if "--both" in sys.argv
             else ("compiled",) if "--compiled" in sys.argv else ("reference",))
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        results = dict(zip(tests, pool.map(
            lambda t: run(slim_import, os.path.join(root, t), execute, modes), tests)))
    print("ONNX node tests: %d in %s" % (len(tests), root))
    bad = sum(report(tests, results, mode, execute) for mode in modes)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
