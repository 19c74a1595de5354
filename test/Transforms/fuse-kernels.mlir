// RUN: slim-opt %s -slim-fuse-kernels -split-input-file | FileCheck %s

// Tests that a residual whose branch is a linear with a constant weight
// becomes `fused`, the linear adding the body's argument in its epilogue,
// and that a branch with a run-time weight, or one that is not a linear, is
// left as it is.
// CHECK-LABEL: func.func @residuals
// CHECK: slim.residual attention layer 0 fused (%arg0)
// CHECK-NEXT: ^bb0(%[[A:.*]]: tensor<2x4xf32>):
// CHECK-NEXT: %[[N:.*]] = slim.layer_norm %[[A]]
// CHECK-NEXT: %[[Y:.*]] = slim.linear %[[N]], %{{.*}}, %{{.*}} residual(%[[A]] : tensor<2x4xf32>) : tensor<2x4xf32>, tensor<4x4xf32>, tensor<4xf32>
// CHECK-NEXT: slim.yield %[[Y]]
// CHECK: slim.residual mlp layer 0 (
// CHECK-NEXT: ^bb0
// CHECK-NEXT: slim.linear %{{.*}}, %arg1 : tensor<2x4xf32>, tensor<4x4xf32>
// CHECK: slim.residual mlp layer 1 (
// CHECK-NEXT: ^bb0
// CHECK-NEXT: slim.gelu
func.func @residuals(%x: tensor<2x4xf32>, %wr: tensor<4x4xf32>) -> tensor<2x4xf32> {
  %g = arith.constant dense<1.0> : tensor<4xf32>
  %w = arith.constant dense<0.5> : tensor<4x4xf32>
  %h = slim.residual attention layer 0 (%x) : tensor<2x4xf32> {
  ^bb0(%a: tensor<2x4xf32>):
    %n = slim.layer_norm %a, %g, %g : tensor<2x4xf32>, tensor<4xf32>, tensor<4xf32>
    %y = slim.linear %n, %w, %g : tensor<2x4xf32>, tensor<4x4xf32>, tensor<4xf32>
    slim.yield %y : tensor<2x4xf32>
  }
  %r = slim.residual mlp layer 0 (%h) : tensor<2x4xf32> {
  ^bb0(%a: tensor<2x4xf32>):
    %y = slim.linear %a, %wr : tensor<2x4xf32>, tensor<4x4xf32>
    slim.yield %y : tensor<2x4xf32>
  }
  %s = slim.residual mlp layer 1 (%r) : tensor<2x4xf32> {
  ^bb0(%a: tensor<2x4xf32>):
    %y = slim.gelu exact %a : tensor<2x4xf32>
    slim.yield %y : tensor<2x4xf32>
  }
  return %s : tensor<2x4xf32>
}

// -----

// Tests that int8 qlinears of one input (constants between them) become one
// group, the constants moving before the first, and that the norm read only
// by them is folded into each with its scale, bias and epsilon; a qlinear of
// another activation mode is not in the group.
// CHECK-LABEL: func.func @qkv
// CHECK-NOT: slim.layer_norm
// CHECK: %[[Q:.*]] = slim.qlinear %arg0, %{{.*}}, %{{.*}} norm = layer_norm(%{{.*}} : tensor<8xf32>) norm_bias(%{{.*}} : tensor<8xf32>) act = dynamic {group = 3 : i64, norm_eps = 9.99999974E-6 : f32}
// CHECK-NEXT: %[[K:.*]] = slim.qlinear %arg0, %{{.*}}, %{{.*}} norm = layer_norm({{.*}}) norm_bias({{.*}}) act = dynamic {norm_eps = 9.99999974E-6 : f32}
// CHECK-NEXT: %[[V:.*]] = slim.qlinear %arg0, %{{.*}}, %{{.*}} norm = layer_norm({{.*}}) norm_bias({{.*}}) act = dynamic {norm_eps = 9.99999974E-6 : f32}
// CHECK: slim.qlinear %arg0, %{{.*}}, %{{.*}} act = static {act_scale = 1.000000e-01 : f32}
func.func @qkv(%x: tensor<2x8xf32>) -> (tensor<2x8xf32>, tensor<2x8xf32>, tensor<2x8xf32>, tensor<2x8xf32>) {
  %g = arith.constant dense<1.0> : tensor<8xf32>
  %b = arith.constant dense<0.0> : tensor<8xf32>
  %n = slim.layer_norm %x, %g, %b {epsilon = 1.0e-5 : f32} : tensor<2x8xf32>, tensor<8xf32>, tensor<8xf32>
  %wq = arith.constant dense<1> : tensor<8x8xi8>
  %s = arith.constant dense<0.01> : tensor<8xf32>
  %q = slim.qlinear %n, %wq, %s act = dynamic : tensor<2x8xf32>, tensor<8x8xi8>, tensor<8xf32>
  %wk = arith.constant dense<2> : tensor<8x8xi8>
  %k = slim.qlinear %n, %wk, %s act = dynamic : tensor<2x8xf32>, tensor<8x8xi8>, tensor<8xf32>
  %wv = arith.constant dense<3> : tensor<8x8xi8>
  %v = slim.qlinear %n, %wv, %s act = dynamic : tensor<2x8xf32>, tensor<8x8xi8>, tensor<8xf32>
  %o = slim.qlinear %x, %wv, %s act = static {act_scale = 0.1 : f32} : tensor<2x8xf32>, tensor<8x8xi8>, tensor<8xf32>
  return %q, %k, %v, %o : tensor<2x8xf32>, tensor<2x8xf32>, tensor<2x8xf32>, tensor<2x8xf32>
}

// -----

// Tests that a norm with another reader stays, and that a lone int8 qlinear
// computing a residual's branch takes the residual while an int4 one does
// not.
// CHECK-LABEL: func.func @kept
// CHECK: %[[N:.*]] = slim.rms_norm %arg0
// CHECK: slim.residual attention layer 0 fused
// CHECK-NEXT: ^bb0(%[[A:.*]]: tensor<2x8xf32>):
// CHECK-NEXT: slim.qlinear %[[N]], %{{.*}}, %{{.*}} residual(%[[A]] : tensor<2x8xf32>) act = dynamic :
// CHECK: slim.residual mlp layer 1 (
// CHECK-NEXT: ^bb0
// CHECK-NEXT: slim.qlinear {{.*}} act = none
func.func @kept(%x: tensor<2x8xf32>) -> (tensor<2x8xf32>, tensor<2x8xf32>) {
  %g = arith.constant dense<1.0> : tensor<8xf32>
  %w = arith.constant dense<1> : tensor<8x8xi8>
  %w4 = arith.constant dense<1> : tensor<8x8xi4>
  %s = arith.constant dense<0.01> : tensor<8xf32>
  %s4 = arith.constant dense<0.01> : tensor<8x1xf32>
  %n = slim.rms_norm %x, %g : tensor<2x8xf32>, tensor<8xf32>
  %h = slim.residual attention layer 0 (%x) : tensor<2x8xf32> {
  ^bb0(%a: tensor<2x8xf32>):
    %y = slim.qlinear %n, %w, %s act = dynamic : tensor<2x8xf32>, tensor<8x8xi8>, tensor<8xf32>
    slim.yield %y : tensor<2x8xf32>
  }
  %r = slim.residual mlp layer 1 (%h) : tensor<2x8xf32> {
  ^bb0(%a: tensor<2x8xf32>):
    %y = slim.qlinear %a, %w4, %s4 act = none {group_size = 8 : i64} : tensor<2x8xf32>, tensor<8x8xi4>, tensor<8x1xf32>
    slim.yield %y : tensor<2x8xf32>
  }
  %z = slim.add %r, %n : tensor<2x8xf32>, tensor<2x8xf32>
  return %z, %n : tensor<2x8xf32>, tensor<2x8xf32>
}

// -----

// Tests that a reshape becomes a view unless it is returned or reshapes a
// constant.
// CHECK-LABEL: func.func @views
// CHECK: slim.reshape %{{.*}} : tensor<8xf32> -> tensor<2x4xf32>
// CHECK: slim.reshape %arg0 view : tensor<2x4xf32> -> tensor<8xf32>
// CHECK: slim.reshape %{{.*}} : tensor<8xf32> -> tensor<4x2xf32>
func.func @views(%x: tensor<2x4xf32>) -> (tensor<2x4xf32>, tensor<4x2xf32>) {
  %c = arith.constant dense<1.0> : tensor<8xf32>
  %cr = slim.reshape %c : tensor<8xf32> -> tensor<2x4xf32>
  %f = slim.reshape %x : tensor<2x4xf32> -> tensor<8xf32>
  %e = slim.exp %f : tensor<8xf32>
  %out = slim.reshape %e : tensor<8xf32> -> tensor<4x2xf32>
  %y = slim.add %cr, %x : tensor<2x4xf32>, tensor<2x4xf32>
  return %y, %out : tensor<2x4xf32>, tensor<4x2xf32>
}

// -----

// Tests that a qlinear of a group that also computes a residual's branch
// stays in the group and the residual keeps its add.
// CHECK-LABEL: func.func @group_member_branch
// CHECK: slim.residual attention layer 0 (%arg0)
// CHECK: slim.qlinear %{{.*}} act = dynamic {group = 2 : i64}
// CHECK-NEXT: slim.qlinear %{{.*}} act = dynamic :
func.func @group_member_branch(%x: tensor<2x8xf32>) -> (tensor<2x8xf32>, tensor<2x8xf32>) {
  %w = arith.constant dense<1> : tensor<8x8xi8>
  %s = arith.constant dense<0.01> : tensor<8xf32>
  %o = slim.residual attention layer 0 (%x) : tensor<2x8xf32> {
  ^bb0(%a: tensor<2x8xf32>):
    %q = slim.qlinear %a, %w, %s act = dynamic : tensor<2x8xf32>, tensor<8x8xi8>, tensor<8xf32>
    %k = slim.qlinear %a, %w, %s act = dynamic : tensor<2x8xf32>, tensor<8x8xi8>, tensor<8xf32>
    slim.yield %k : tensor<2x8xf32>
  }
  return %o, %o : tensor<2x8xf32>, tensor<2x8xf32>
}

// -----

// Tests that silu(gate) · up becomes one slim.silu_mul (either operand
// order) when the SiLU has no other reader, and stays apart when it has.
// CHECK-LABEL: func.func @swiglu
// CHECK: %[[A:.*]] = slim.silu_mul %arg0, %arg1 : tensor<2x8xf32>
// CHECK: %[[B:.*]] = slim.silu_mul %arg1, %arg0 : tensor<2x8xf32>
// CHECK: %[[S:.*]] = slim.silu %arg0
// CHECK: slim.mul %[[S]], %arg1
func.func @swiglu(%g: tensor<2x8xf32>, %u: tensor<2x8xf32>) -> (tensor<2x8xf32>, tensor<2x8xf32>, tensor<2x8xf32>, tensor<2x8xf32>) {
  %s = slim.silu %g : tensor<2x8xf32>
  %a = slim.mul %s, %u : tensor<2x8xf32>, tensor<2x8xf32>
  %s2 = slim.silu %u : tensor<2x8xf32>
  %b = slim.mul %g, %s2 : tensor<2x8xf32>, tensor<2x8xf32>
  %s3 = slim.silu %g : tensor<2x8xf32>
  %c = slim.mul %s3, %u : tensor<2x8xf32>, tensor<2x8xf32>
  return %a, %b, %c, %s3 : tensor<2x8xf32>, tensor<2x8xf32>, tensor<2x8xf32>, tensor<2x8xf32>
}
