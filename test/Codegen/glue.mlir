// RUN: slim-opt %s -slim-lower-to-llvm=glue-stage=linalg | FileCheck %s --check-prefix=LINALG
// RUN: slim-opt %s -slim-lower-to-llvm=glue-stage=buffers | FileCheck %s --check-prefix=BUF
// RUN: slim-opt %s -slim-lower-to-llvm | FileCheck %s --check-prefix=LLVM
// RUN: not slim-opt %s -slim-lower-to-llvm=glue-stage=loops 2>&1 | FileCheck %s --check-prefix=BADSTAGE

// Tests the three steps of the glue ops' lowering (codegen/llvm/Glue.h):
// each op becomes a function on tensors (linalg / tensor / arith / math)
// writing an out-parameter; one-shot bufferization turns it into code on
// the caller's buffers without allocating (the result computed straight
// into the out-parameter; slices and concatenations as subviews and
// linalg.copy); then loops and the LLVM dialect, called with bare pointers.
// Transposes are not glue: they call the tiled runtime kernel.
// Two ops with the same types and attributes share a function (the two
// subs); the returned input is copied into its output buffer by a copy
// function.

// LINALG: llvm.call @slim_glue_0(%[[X:[0-9]+]], %[[B:[0-9]+]], %{{[0-9]+}})
// LINALG: llvm.call @slim_glue_0(%{{[0-9]+}}, %[[B]], %{{[0-9]+}})
// LINALG: llvm.call @slim_k_transpose(
// LINALG: llvm.call @slim_glue_6(%[[X]], %{{[0-9]+}})
// LINALG: module @slim_glue {
// broadcasting sub: the [3] operand reads (d1)
// LINALG: func.func private @slim_glue_0(%[[A0:.*]]: tensor<2x3xf32>, %[[A1:.*]]: tensor<3xf32>, %[[OUT:.*]]: memref<2x3xf32>) -> i32
// LINALG: %[[E:.*]] = tensor.empty() : tensor<2x3xf32>
// LINALG: %[[R:.*]] = linalg.generic {indexing_maps = [#map, #map1, #map], iterator_types = ["parallel", "parallel"]} ins(%[[A0]], %[[A1]] : tensor<2x3xf32>, tensor<3xf32>) outs(%[[E]] : tensor<2x3xf32>)
// LINALG: arith.subf
// LINALG: bufferization.materialize_in_destination %[[R]] in restrict writable %[[OUT]]
// LINALG: func.func private @slim_glue_1(
// LINALG: math.erf
// reduce_mean over the last axis: the sum, then / 3 in place; the buffer
// has no kept size-1 axis (same bytes as 2x1)
// LINALG: func.func private @slim_glue_2(%{{.*}}: tensor<2x3xf32>, %{{.*}}: memref<2xf32>)
// LINALG: linalg.fill
// LINALG: iterator_types = ["parallel", "reduction"]
// LINALG: arith.constant 3.000000e+00 : f32
// LINALG: arith.divf
// LINALG: func.func private @slim_glue_3(
// LINALG: tensor.extract_slice %{{.*}}[0, 1] [2, 2] [1, 1] : tensor<2x3xf32> to tensor<2x2xf32>
// LINALG: func.func private @slim_glue_4(
// LINALG: tensor.insert_slice %{{.*}} into %{{.*}}[0, 0] [2, 3] [1, 1]
// LINALG: tensor.insert_slice %{{.*}} into %{{.*}}[0, 3] [2, 2] [1, 1]
// LINALG: func.func private @slim_glue_5(%{{.*}}: tensor<2x3xi1>,
// LINALG: arith.select
// LINALG: func.func private @slim_glue_6(%[[C0:.*]]: tensor<2x3xf32>, %[[C1:.*]]: memref<2x3xf32>)
// LINALG-NEXT: bufferization.materialize_in_destination %[[C0]] in restrict writable %[[C1]]
// LINALG-NOT: func.func

// BUF: module @slim_glue {
// BUF-NOT: memref.alloc
// BUF-NOT: tensor
// BUF: func.func private @slim_glue_0(%[[A0:.*]]: memref<2x3xf32>, %[[A1:.*]]: memref<3xf32>, %[[OUT:.*]]: memref<2x3xf32>) -> i32
// BUF-NEXT: linalg.generic {{.*}} ins(%[[A0]], %[[A1]] : memref<2x3xf32>, memref<3xf32>) outs(%[[OUT]] : memref<2x3xf32>)
// BUF: func.func private @slim_glue_2(%{{.*}}: memref<2x3xf32>, %[[M:.*]]: memref<2xf32>)
// BUF: linalg.fill ins(%{{.*}} : f32) outs(%[[M]] : memref<2xf32>)
// BUF: func.func private @slim_glue_3(%[[S0:.*]]: memref<2x3xf32>, %[[S1:.*]]: memref<2x2xf32>)
// BUF-NEXT: %[[SV:.*]] = memref.subview %[[S0]][0, 1] [2, 2] [1, 1]
// BUF-NEXT: linalg.copy ins(%[[SV]] : {{.*}}) outs(%[[S1]] : memref<2x2xf32>)
// BUF: func.func private @slim_glue_4(
// BUF-COUNT-2: linalg.copy
// BUF: func.func private @slim_glue_6(%[[C0:.*]]: memref<2x3xf32>, %[[C1:.*]]: memref<2x3xf32>)
// BUF-NEXT: linalg.copy ins(%[[C0]] : memref<2x3xf32>) outs(%[[C1]] : memref<2x3xf32>)
// BUF-NOT: memref.copy

// LLVM-NOT: func.func
// LLVM-NOT: module @slim_glue
// LLVM-NOT: memrefCopy
// LLVM: llvm.func @slim_model_compute(
// LLVM: llvm.call @slim_glue_0(
// LLVM: llvm.func @erff(f32) -> f32
// LLVM: llvm.func internal @slim_glue_0(%{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr) -> i32
// LLVM: llvm.fsub
// LLVM: llvm.func internal @slim_glue_1(
// LLVM: llvm.call @erff(
// LLVM: llvm.func internal @slim_glue_6(
// LLVM-NOT: llvm.func @slim_glue

// BADSTAGE: for the --glue-stage option: Cannot find option named 'loops'!

func.func @main(%x: tensor<2x3xf32> {slim.name = "x"}, %b: tensor<3xf32> {slim.name = "b"}, %c: tensor<2x3xi1> {slim.name = "c"}) -> (tensor<3x2xf32> {slim.name = "t"}, tensor<2x1xf32> {slim.name = "m"}, tensor<2x5xf32> {slim.name = "cat"}, tensor<2x3xf32> {slim.name = "w"}, tensor<2x3xf32> {slim.name = "x2"}) {
  %s = slim.sub %x, %b : tensor<2x3xf32>, tensor<3xf32>
  %s2 = slim.sub %s, %b : tensor<2x3xf32>, tensor<3xf32>
  %e = slim.erf %s2 : tensor<2x3xf32>
  %t = slim.transpose %e [1, 0] : tensor<2x3xf32>
  %m = slim.reduce_mean %e [-1] : tensor<2x3xf32>
  %sl = slim.slice %e offsets [0, 1] sizes [2, 2] strides [1, 1] : tensor<2x3xf32>
  %cat = slim.concat %e, %sl axis = 1 : tensor<2x3xf32>, tensor<2x2xf32>
  %w = slim.where %c, %x, %e : tensor<2x3xi1>, tensor<2x3xf32>, tensor<2x3xf32>
  return %t, %m, %cat, %w, %x : tensor<3x2xf32>, tensor<2x1xf32>, tensor<2x5xf32>, tensor<2x3xf32>, tensor<2x3xf32>
}
