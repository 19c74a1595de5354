// RUN: slim-opt %s -slim-fuse-kernels -slim-lower-to-llvm -split-input-file -verify-diagnostics | FileCheck %s
// RUN: slim-opt %s -slim-lower-to-llvm -split-input-file -verify-diagnostics | FileCheck %s --check-prefix=UNFUSED
//
// Codegen follows the fusion decisions slim-fuse-kernels writes into the
// IR (a residual or norm on a qlinear, a qlinear group, a view); without
// that pass every op is a kernel call of its own (UNFUSED).

// Tests that each op becomes one kernel call with its sizes as constants,
// buffers are arena offsets reused once dead (layer_norm's buffer at 0 is
// reused by silu: 128 bytes instead of 192), the weights are blob offsets
// (the packed linear weight first, then the gain), every call is checked,
// and the linear computing the result writes it straight into the caller's
// output buffer (no copy).
// CHECK-LABEL: module attributes {slim.arena_bytes = 128 : i64, slim.weights_bytes = 128 : i64}
// CHECK-DAG: llvm.func @slim_k_layer_norm(!llvm.ptr, i64, i64, !llvm.ptr, !llvm.ptr, f32, !llvm.ptr) -> i32
// CHECK-DAG: llvm.func @slim_k_linear(!llvm.ptr, i64, i64, !llvm.ptr, !llvm.ptr, i64, i32, !llvm.ptr, !llvm.ptr) -> i32
// CHECK: llvm.func @slim_model_compute(%[[IN:.*]]: !llvm.ptr, %[[OUT:.*]]: !llvm.ptr, %[[ARENA:.*]]: !llvm.ptr, %[[W:.*]]: !llvm.ptr) -> i32
// CHECK: %[[XSLOT:.*]] = llvm.getelementptr %[[IN]][0]
// CHECK: %[[X:.*]] = llvm.load %[[XSLOT]]
// CHECK: %[[OSLOT:.*]] = llvm.getelementptr %[[OUT]][0]
// CHECK: %[[O:.*]] = llvm.load %[[OSLOT]]
// CHECK: ^[[ERR:bb[0-9]+]](%[[RC:.*]]: i32):
// CHECK-NEXT: llvm.return %[[RC]] : i32
// layer_norm: 2 rows of 4, gain at weights+64, no bias, into arena+0
// CHECK: %[[ROWS:.*]] = llvm.mlir.constant(2 : i64)
// CHECK: %[[D:.*]] = llvm.mlir.constant(4 : i64)
// CHECK: %[[GOFF:.*]] = llvm.mlir.constant(64 : i64)
// CHECK: %[[G:.*]] = llvm.getelementptr %[[W]][%[[GOFF]]]
// CHECK: %[[NOBIAS:.*]] = llvm.mlir.zero
// CHECK: %[[LN:.*]] = llvm.getelementptr %[[ARENA]][%{{.*}}]
// CHECK: %[[S1:.*]] = llvm.call @slim_k_layer_norm(%[[X]], %[[ROWS]], %[[D]], %[[G]], %[[NOBIAS]], %{{.*}}, %[[LN]])
// CHECK: %[[BAD:.*]] = llvm.icmp "ne" %[[S1]]
// CHECK: llvm.cond_br %[[BAD]], ^[[ERR]](%[[S1]] : i32)
// gelu (tanh = 1), then silu (2) back into the layer_norm buffer
// CHECK: llvm.call @slim_k_unary
// CHECK: llvm.mlir.constant(2 : i32)
// CHECK: llvm.mlir.constant(64 : i64)
// CHECK: llvm.mlir.constant(0 : i64)
// CHECK: llvm.call @slim_k_unary
// linear: rows 2, in 4, the packed weight (weights+0: the gain is at 64),
// out 3, no fused activation (0), no residual
// CHECK: %[[WT:.*]] = llvm.getelementptr %[[W]][%{{.*}}]
// CHECK: %[[NB:.*]] = llvm.mlir.zero
// CHECK: %[[N3:.*]] = llvm.mlir.constant(3 : i64)
// CHECK: %[[ACT:.*]] = llvm.mlir.constant(0 : i32)
// CHECK: %[[NORES:.*]] = llvm.mlir.zero
// CHECK: llvm.call @slim_k_linear(%{{.*}}, %{{.*}}, %{{.*}}, %[[WT]], %[[NB]], %[[N3]], %[[ACT]], %[[NORES]], %[[O]])
// CHECK-NOT: llvm.call @slim_glue
// CHECK: llvm.return %{{.*}} : i32
// CHECK-NOT: func.func @main
func.func @main(%x: tensor<2x4xf32> {slim.name = "x"}) -> (tensor<2x3xf32> {slim.name = "y"}) {
  %w = arith.constant dense<[[1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0], [9.0, 10.0, 11.0, 12.0]]> : tensor<3x4xf32>
  %g = arith.constant dense<1.0> : tensor<4xf32>
  %n = slim.layer_norm %x, %g : tensor<2x4xf32>, tensor<4xf32>
  %a = slim.gelu tanh %n : tensor<2x4xf32>
  %b = slim.silu %a : tensor<2x4xf32>
  %y = slim.linear %b, %w : tensor<2x4xf32>, tensor<3x4xf32>
  return %y : tensor<2x3xf32>
}

// -----

// Tests that a residual reads its input through the body's block argument
// (no copy), keeps it alive until the closing add (one Halide add of the 4
// elements, writing the output buffer).
// CHECK-LABEL: module attributes {slim.arena_bytes = 64 : i64, slim.weights_bytes = 0 : i64}
// CHECK: llvm.func @slim_model_compute
// CHECK: %[[X:.*]] = llvm.load
// CHECK: %[[O:.*]] = llvm.load
// CHECK: llvm.call @slim_k_unary(%{{.*}}, %[[X]],
// CHECK: %[[N:.*]] = llvm.mlir.constant(4 : i64)
// CHECK: llvm.call @slim_k_add(%[[X]], %{{.*}}, %[[N]], %[[O]])
func.func @main(%x: tensor<1x4xf32>) -> tensor<1x4xf32> {
  %r = slim.residual mlp layer 0 (%x) : tensor<1x4xf32> {
  ^bb0(%h: tensor<1x4xf32>):
    %s = slim.silu %h : tensor<1x4xf32>
    slim.yield %s : tensor<1x4xf32>
  }
  return %r : tensor<1x4xf32>
}

// -----

// Tests that token_merge (two results) becomes one kernel call writing
// both: the merged tokens and their sizes (no source map: null, 0, null;
// ToMe: no received attention, null, then MCTF's default parameters).
// CHECK: %[[NULL:.*]] = llvm.mlir.zero : !llvm.ptr
// CHECK: %[[T0:.*]] = llvm.mlir.constant(0 : i64)
// CHECK: llvm.call @slim_k_token_merge({{.*}}, %[[NULL]], %[[T0]], %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}) : (!llvm.ptr, !llvm.ptr, !llvm.ptr, i64, i64, i64, i64, i64, i64, !llvm.ptr, !llvm.ptr, !llvm.ptr, i64, !llvm.ptr, !llvm.ptr, f32, f32, f32, i32) -> i32
func.func @main(%x: tensor<1x4x8xf32>, %k: tensor<1x4x2xf32>, %s: tensor<1x4xf32>) -> (tensor<1x3x8xf32>, tensor<1x3xf32>) {
  %h, %hs = slim.token_merge %x, %k, %s r = 1 : tensor<1x4x8xf32>, tensor<1x4x2xf32>, tensor<1x4xf32>
  return %h, %hs : tensor<1x3x8xf32>, tensor<1x3xf32>
}

// -----

// Tests that a residual's add runs in the epilogue of the linear that
// computes its branch: the linear reads the residual's input and writes the
// residual's result (here the output), no add is called and the branch has
// no buffer (the arena holds the norm's 2 × 48 floats only); an int8
// qlinear likewise. A residual whose branch is also used elsewhere keeps
// its add. Unfused, the norm, each linear and each add run on their own.
// UNFUSED-LABEL: module attributes {slim.arena_bytes = 768 : i64
// UNFUSED: llvm.call @slim_k_layer_norm
// UNFUSED: llvm.call @slim_k_linear(
// UNFUSED: llvm.call @slim_k_add(
// UNFUSED: llvm.call @slim_k_qlinear(
// UNFUSED: llvm.call @slim_k_add(
// CHECK-LABEL: module attributes {slim.arena_bytes = 384 : i64
// CHECK: llvm.func @slim_model_compute(%[[IN:[^:]*]]: !llvm.ptr, %[[OUT:[^:]*]]: !llvm.ptr
// CHECK: %[[XS:.*]] = llvm.getelementptr %[[IN]][0]
// CHECK-NEXT: %[[X:.*]] = llvm.load %[[XS]]
// CHECK-NEXT: %[[OS:.*]] = llvm.getelementptr %[[OUT]][0]
// CHECK-NEXT: %[[O:.*]] = llvm.load %[[OS]]
// CHECK-NEXT: %[[O2S:.*]] = llvm.getelementptr %[[OUT]][1]
// CHECK-NEXT: %[[O2:.*]] = llvm.load %[[O2S]]
// CHECK-NEXT: %[[BS:.*]] = llvm.getelementptr %[[OUT]][3]
// CHECK-NEXT: %[[B:.*]] = llvm.load %[[BS]]
// CHECK-NEXT: %[[O3S:.*]] = llvm.getelementptr %[[OUT]][2]
// CHECK-NEXT: %[[O3:.*]] = llvm.load %[[O3S]]
// CHECK: llvm.call @slim_k_layer_norm
// CHECK: llvm.call @slim_k_linear(%{{[^,]*}}, %{{[^,]*}}, %{{[^,]*}}, %{{[^,]*}}, %{{[^,]*}}, %{{[^,]*}}, %{{[^,]*}}, %[[X]], %[[O]])
// CHECK-NOT: llvm.call @slim_k_add
// CHECK: llvm.call @slim_k_qlinear(%[[O]], %{{[^,]*}}, %{{[^,]*}}, %{{[^,]*}}, %{{[^,]*}}, %{{[^,]*}}, %{{[^,]*}}, %{{[^,]*}}, %{{[^,]*}}, %[[O]], %[[O2]])
// CHECK-NOT: llvm.call @slim_k_add
// CHECK: llvm.call @slim_k_linear(%[[O2]], %{{[^,]*}}, %{{[^,]*}}, %{{[^,]*}}, %{{[^,]*}}, %{{[^,]*}}, %{{[^,]*}}, %{{[^,]*}}, %[[B]])
// CHECK: llvm.call @slim_k_add(%[[O2]], %[[B]], %{{[^,]*}}, %[[O3]])
func.func @main(%x: tensor<2x48xf32>) -> (tensor<2x48xf32>, tensor<2x48xf32>, tensor<2x48xf32>, tensor<2x48xf32>) {
  %w = arith.constant dense<0.5> : tensor<48x48xf32>
  %g = arith.constant dense<1.0> : tensor<48xf32>
  %w8 = arith.constant dense<3> : tensor<48x48xi8>
  %s8 = arith.constant dense<0.25> : tensor<48xf32>
  %r = slim.residual mlp layer 0 (%x) : tensor<2x48xf32> {
  ^bb0(%h: tensor<2x48xf32>):
    %n = slim.layer_norm %h, %g : tensor<2x48xf32>, tensor<48xf32>
    %l = slim.linear %n, %w : tensor<2x48xf32>, tensor<48x48xf32>
    slim.yield %l : tensor<2x48xf32>
  }
  %r2 = slim.residual mlp layer 1 (%r) : tensor<2x48xf32> {
  ^bb0(%h: tensor<2x48xf32>):
    %q = slim.qlinear %h, %w8, %s8 act = dynamic : tensor<2x48xf32>, tensor<48x48xi8>, tensor<48xf32>
    slim.yield %q : tensor<2x48xf32>
  }
  %b = slim.linear %r2, %w : tensor<2x48xf32>, tensor<48x48xf32>
  %r3 = slim.residual mlp layer 2 (%r2) : tensor<2x48xf32> {
  ^bb0(%h: tensor<2x48xf32>):
    slim.yield %b : tensor<2x48xf32>
  }
  return %r, %r2, %r3, %b : tensor<2x48xf32>, tensor<2x48xf32>, tensor<2x48xf32>, tensor<2x48xf32>
}

// -----

// Tests that a reshape is a view: no kernel runs for it, and its consumer
// reads the producer's buffer, which stays alive until that consumer (the
// arena holds the silu's 2 × 8 floats and the gelu's: 128 bytes).
// CHECK-LABEL: module attributes {slim.arena_bytes = 128 : i64, slim.weights_bytes = 0 : i64}
// silu into arena+0; gelu reads arena+0 through the view into arena+64;
// silu into output 0.
// CHECK: llvm.func @slim_model_compute(%[[IN:[^:]*]]: !llvm.ptr, %[[OUT:[^:]*]]: !llvm.ptr, %[[ARENA:[^:]*]]: !llvm.ptr
// CHECK: %[[O0S:.*]] = llvm.getelementptr %[[OUT]][0]
// CHECK-NEXT: %[[O0:.*]] = llvm.load %[[O0S]]
// CHECK: %[[Z:.*]] = llvm.mlir.constant(0 : i64)
// CHECK-NEXT: %[[S:.*]] = llvm.getelementptr %[[ARENA]][%[[Z]]]
// CHECK: llvm.call @slim_k_unary(%{{[^,]*}}, %{{[^,]*}}, %{{[^,]*}}, %[[S]])
// CHECK: %[[Z2:.*]] = llvm.mlir.constant(0 : i64)
// CHECK-NEXT: %[[R:.*]] = llvm.getelementptr %[[ARENA]][%[[Z2]]]
// CHECK: %[[G64:.*]] = llvm.mlir.constant(64 : i64)
// CHECK-NEXT: %[[G:.*]] = llvm.getelementptr %[[ARENA]][%[[G64]]]
// CHECK: llvm.call @slim_k_unary(%{{[^,]*}}, %[[R]], %{{[^,]*}}, %[[G]])
// CHECK: llvm.call @slim_k_unary(%{{[^,]*}}, %{{[^,]*}}, %{{[^,]*}}, %[[O0]])
// CHECK-NOT: llvm.call @slim_glue
func.func @main(%x: tensor<2x8xf32>) -> tensor<4x4xf32> {
  %s = slim.silu %x : tensor<2x8xf32>
  %r = slim.reshape %s : tensor<2x8xf32> -> tensor<4x4xf32>
  %g = slim.gelu tanh %r : tensor<4x4xf32>
  %h = slim.silu %g : tensor<4x4xf32>
  return %h : tensor<4x4xf32>
}

// -----

// Tests that a reshape returned as an output is written into the caller's
// buffer (a copy), not a view.
// CHECK-LABEL: module attributes {slim.arena_bytes = 64 : i64, slim.weights_bytes = 0 : i64}
// CHECK: llvm.func @slim_model_compute(%[[IN:[^:]*]]: !llvm.ptr, %[[OUT:[^:]*]]: !llvm.ptr, %[[ARENA:[^:]*]]: !llvm.ptr
// CHECK: %[[O0S:.*]] = llvm.getelementptr %[[OUT]][0]
// CHECK-NEXT: %[[O0:.*]] = llvm.load %[[O0S]]
// CHECK: llvm.call @slim_k_unary
// CHECK: llvm.call @slim_glue_{{[0-9]+}}(%{{[^,]*}}, %[[O0]])
func.func @main(%x: tensor<2x8xf32>) -> tensor<16xf32> {
  %s = slim.silu %x : tensor<2x8xf32>
  %o = slim.reshape %s : tensor<2x8xf32> -> tensor<16xf32>
  return %o : tensor<16xf32>
}

// -----

// Tests that consecutive int8 qlinears of one input run as one kernel call
// with the input quantized once (attention's query, key and value): the
// first three make one slim_k_qlinear_shared with n = 3, their weights,
// scales, sizes and three results (the outputs); a fourth of the same
// input is a call of its own (three at most), and so is one with a static
// activation scale (another quantization of the input). The weights: two
// packed (3 264 bytes each with the column sums: 32 and 16 outputs pad to
// a tile of 48) and their scales.
// CHECK-LABEL: module attributes {slim.arena_bytes = 64 : i64, slim.weights_bytes = 6720 : i64}
// CHECK: %[[N:.*]] = llvm.mlir.constant(3 : i32)
// CHECK: llvm.call @slim_k_qlinear_shared(%[[X:[^,]*]], %{{[^,]*}}, %{{[^,]*}}, %{{[^,]*}}, %[[N]], %{{[^,]*}}, %{{[^,]*}}, %{{[^,]*}}, %{{[^,]*}}, %{{[^,]*}}, %{{[^,]*}}, %{{[^,]*}}, %{{[^,]*}}, %{{[^,]*}}, %{{[^,]*}}, %{{[^,]*}}, %{{[^,]*}}, %{{[^,]*}}, %{{[^,]*}}, %{{[^,]*}}, %{{[^,]*}}, %{{[^,]*}}, %{{[^,]*}}, %{{[^,]*}}, %{{[^,]*}}, %{{[^,]*}}, %{{[^,]*}})
// CHECK-NOT: llvm.call @slim_k_qlinear_shared
// CHECK: llvm.call @slim_k_qlinear(%[[X]],
// CHECK-NOT: llvm.call @slim_k_qlinear_shared
// CHECK: llvm.call @slim_k_qlinear(%[[X]],
// CHECK-NOT: llvm.call @slim_k_qlinear_shared
func.func @main(%x: tensor<4x64xf32>) -> (tensor<4x32xf32>, tensor<4x16xf32>, tensor<4x32xf32>, tensor<4x32xf32>, tensor<4x32xf32>) {
  %w = arith.constant dense<1> : tensor<32x64xi8>
  %s = arith.constant dense<0.5> : tensor<32xf32>
  %w16 = arith.constant dense<2> : tensor<16x64xi8>
  %s16 = arith.constant dense<0.25> : tensor<16xf32>
  %a = slim.qlinear %x, %w, %s act = dynamic : tensor<4x64xf32>, tensor<32x64xi8>, tensor<32xf32>
  %b = slim.qlinear %x, %w16, %s16 act = dynamic : tensor<4x64xf32>, tensor<16x64xi8>, tensor<16xf32>
  %c = slim.qlinear %x, %w, %s act = dynamic : tensor<4x64xf32>, tensor<32x64xi8>, tensor<32xf32>
  %d = slim.qlinear %x, %w, %s act = dynamic : tensor<4x64xf32>, tensor<32x64xi8>, tensor<32xf32>
  %e = slim.qlinear %x, %w, %s act = static {act_scale = 0.1 : f32} : tensor<4x64xf32>, tensor<32x64xi8>, tensor<32xf32>
  return %a, %b, %c, %d, %e : tensor<4x32xf32>, tensor<4x16xf32>, tensor<4x32xf32>, tensor<4x32xf32>, tensor<4x32xf32>
}

// -----

// Tests that a form without a kernel is reported: weight-only qlinear.
func.func @main(%x: tensor<4x64xf32>) -> tensor<4x32xf32> {
  %w8 = arith.constant dense<1> : tensor<32x64xi8>
  %s8 = arith.constant dense<0.5> : tensor<32xf32>
  // expected-error @+1 {{codegen supports int8 qlinear with per-channel weights and act = dynamic or static only}}
  %a = slim.qlinear %x, %w8, %s8 act = none : tensor<4x64xf32>, tensor<32x64xi8>, tensor<32xf32>
  return %a : tensor<4x32xf32>
}

// -----

// Tests that int4 groups the packed layout cannot hold (8 inputs per
// 32-bit word) are reported, not packed out of bounds.
func.func @main(%x: tensor<4x12xf32>) -> tensor<4x32xf32> {
  %w4 = arith.constant dense<3> : tensor<32x12xi4>
  %s4 = arith.constant dense<0.5> : tensor<32x3xf32>
  // expected-error @+1 {{codegen supports int4 qlinear with groups of a multiple of 8 inputs, not 4}}
  %a = slim.qlinear %x, %w4, %s4 act = none {group_size = 4 : i64} : tensor<4x12xf32>, tensor<32x12xi4>, tensor<32x3xf32>
  return %a : tensor<4x32xf32>
}

// -----

// Tests that an op with neither a kernel nor a glue lowering is reported
// by name (and the driver's generic "failed to legalize" is not added).
func.func @main(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{codegen does not support 'arith.addf' yet}}
  %y = arith.addf %x, %x : tensor<4xf32>
  return %y : tensor<4xf32>
}

// -----

// Tests that a module without @main is refused.
// expected-error @+1 {{slim-lower-to-llvm: the module has no @main}}
module {
  func.func @forward(%x: tensor<4xf32>) -> tensor<4xf32> {
    return %x : tensor<4xf32>
  }
}

// -----

// Tests that a norm read only by int8 qlinears runs inside their call: the
// two qlinears of the rms_norm's result are one slim_k_qlinear_shared of
// the norm's input %x (norm kind 1, its scale) and no rms_norm kernel runs.
// The layer_norm's result is also returned, so it runs on its own (kind 0
// in the call after it, which reads the stored result).
// CHECK-LABEL: module attributes
// CHECK: llvm.func @slim_model_compute(%[[IN:[^:]*]]: !llvm.ptr
// CHECK: %[[X0S:.*]] = llvm.getelementptr %[[IN]][0]
// CHECK-NEXT: %[[X:.*]] = llvm.load %[[X0S]]
// CHECK-NOT: llvm.call @slim_k_rms_norm
// CHECK: %[[RMS:.*]] = llvm.mlir.constant(1 : i32)
// CHECK: llvm.call @slim_k_qlinear_shared(%[[X]], {{.*}}, %[[RMS]], %{{[^,]*}}, %{{[^,]*}}, %{{[^,]*}})
// CHECK: llvm.call @slim_k_layer_norm(%[[X]],
// CHECK: llvm.call @slim_k_qlinear(
func.func @main(%x: tensor<4x64xf32>) -> (tensor<4x32xf32>, tensor<4x32xf32>, tensor<4x64xf32>, tensor<4x32xf32>) {
  %w = arith.constant dense<1> : tensor<32x64xi8>
  %s = arith.constant dense<0.5> : tensor<32xf32>
  %g = arith.constant dense<1.5> : tensor<64xf32>
  %n = slim.rms_norm %x, %g : tensor<4x64xf32>, tensor<64xf32>
  %a = slim.qlinear %n, %w, %s act = dynamic : tensor<4x64xf32>, tensor<32x64xi8>, tensor<32xf32>
  %b = slim.qlinear %n, %w, %s act = dynamic : tensor<4x64xf32>, tensor<32x64xi8>, tensor<32xf32>
  %l = slim.layer_norm %x, %g : tensor<4x64xf32>, tensor<64xf32>
  %c = slim.qlinear %l, %w, %s act = dynamic : tensor<4x64xf32>, tensor<32x64xi8>, tensor<32xf32>
  return %a, %b, %l, %c : tensor<4x32xf32>, tensor<4x32xf32>, tensor<4x64xf32>, tensor<4x32xf32>
}
