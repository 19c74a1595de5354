// RUN: slim-opt %s -canonicalize -split-input-file | FileCheck %s

// Tests that x + 0 folds to x.
// CHECK-LABEL: func.func @add_zero
// CHECK-SAME: (%[[X:.*]]: tensor<2x4xf32>)
// CHECK-NEXT: return %[[X]]
func.func @add_zero(%x: tensor<2x4xf32>) -> tensor<2x4xf32> {
  %z = arith.constant dense<0.0> : tensor<4xf32>
  %y = slim.add %x, %z : tensor<2x4xf32>, tensor<4xf32>
  return %y : tensor<2x4xf32>
}

// -----

// Tests that 0 + x folds too (the constant is moved to the right first).
// CHECK-LABEL: func.func @zero_add
// CHECK-NEXT: return %arg0
func.func @zero_add(%x: tensor<2x4xf32>) -> tensor<2x4xf32> {
  %z = arith.constant dense<0.0> : tensor<2x4xf32>
  %y = slim.add %z, %x : tensor<2x4xf32>, tensor<2x4xf32>
  return %y : tensor<2x4xf32>
}

// -----

// Tests that x + 0 does not fold when the zero broadcasts x to a larger shape.
// CHECK-LABEL: func.func @add_zero_broadcast
// CHECK: slim.add
func.func @add_zero_broadcast(%x: tensor<4xf32>) -> tensor<2x4xf32> {
  %z = arith.constant dense<0.0> : tensor<2x4xf32>
  %y = slim.add %x, %z : tensor<4xf32>, tensor<2x4xf32>
  return %y : tensor<2x4xf32>
}

// -----

// Tests that x + c with a non-zero c stays.
// CHECK-LABEL: func.func @add_nonzero
// CHECK: slim.add
func.func @add_nonzero(%x: tensor<4xf32>) -> tensor<4xf32> {
  %c = arith.constant dense<[0.0, 1.0, 0.0, 0.0]> : tensor<4xf32>
  %y = slim.add %x, %c : tensor<4xf32>, tensor<4xf32>
  return %y : tensor<4xf32>
}

// -----

// Tests that x * 1 folds to x and x * 2 does not.
// CHECK-LABEL: func.func @mul_one
// CHECK-NOT: slim.mul %arg0, %{{.*}} : tensor<2x4xf32>, tensor<f32>
// CHECK: %[[M:.*]] = slim.mul %arg0, %{{.*}} : tensor<2x4xf32>, tensor<1xf32>
// CHECK: return %arg0, %[[M]]
func.func @mul_one(%x: tensor<2x4xf32>) -> (tensor<2x4xf32>, tensor<2x4xf32>) {
  %one = arith.constant dense<1.0> : tensor<f32>
  %two = arith.constant dense<2.0> : tensor<1xf32>
  %y = slim.mul %x, %one : tensor<2x4xf32>, tensor<f32>
  %z = slim.mul %x, %two : tensor<2x4xf32>, tensor<1xf32>
  return %y, %z : tensor<2x4xf32>, tensor<2x4xf32>
}

// -----

// Tests that an identity transpose folds away.
// CHECK-LABEL: func.func @transpose_identity
// CHECK-NEXT: return %arg0
func.func @transpose_identity(%x: tensor<2x3x4xf32>) -> tensor<2x3x4xf32> {
  %y = slim.transpose %x [0, 1, 2] : tensor<2x3x4xf32>
  return %y : tensor<2x3x4xf32>
}

// -----

// Tests that two transposes compose into one.
// CHECK-LABEL: func.func @transpose_compose
// CHECK-NEXT: %[[T:.*]] = slim.transpose %arg0 [2, 0, 1] : tensor<2x3x4xf32>
// CHECK-NEXT: return %[[T]] : tensor<4x2x3xf32>
func.func @transpose_compose(%x: tensor<2x3x4xf32>) -> tensor<4x2x3xf32> {
  %a = slim.transpose %x [0, 2, 1] : tensor<2x3x4xf32>
  %b = slim.transpose %a [1, 0, 2] : tensor<2x4x3xf32>
  return %b : tensor<4x2x3xf32>
}

// -----

// Tests that a transpose followed by its inverse cancels.
// CHECK-LABEL: func.func @transpose_inverse
// CHECK-NEXT: return %arg0
func.func @transpose_inverse(%x: tensor<1x8x4x16xf32>) -> tensor<1x8x4x16xf32> {
  %a = slim.transpose %x [0, 2, 1, 3] : tensor<1x8x4x16xf32>
  %b = slim.transpose %a [0, 2, 1, 3] : tensor<1x4x8x16xf32>
  return %b : tensor<1x8x4x16xf32>
}

// -----

// Tests that reshape to the same type folds and reshape chains collapse.
// CHECK-LABEL: func.func @reshape
// CHECK-NEXT: %[[R:.*]] = slim.reshape %arg0 : tensor<2x12xf32> -> tensor<4x6xf32>
// CHECK-NEXT: return %[[R]], %arg0
func.func @reshape(%x: tensor<2x12xf32>) -> (tensor<4x6xf32>, tensor<2x12xf32>) {
  %a = slim.reshape %x : tensor<2x12xf32> -> tensor<24xf32>
  %b = slim.reshape %a : tensor<24xf32> -> tensor<4x6xf32>
  %c = slim.reshape %x : tensor<2x12xf32> -> tensor<2x12xf32>
  return %b, %c : tensor<4x6xf32>, tensor<2x12xf32>
}

// -----

// Tests that unused, side-effect-free slim ops are erased, residuals included.
// CHECK-LABEL: func.func @dead_code
// CHECK-NOT: slim.
// CHECK: return %arg0
func.func @dead_code(%x: tensor<1x4xf32>) -> tensor<1x4xf32> {
  %a = slim.gelu exact %x : tensor<1x4xf32>
  %r = slim.residual mlp layer 0 (%x) : tensor<1x4xf32> {
  ^bb0(%h: tensor<1x4xf32>):
    %s = slim.silu %h : tensor<1x4xf32>
    slim.yield %s : tensor<1x4xf32>
  }
  return %x : tensor<1x4xf32>
}

// -----

// Tests that a broadcast to the input's own shape folds away.
// CHECK-LABEL: func.func @broadcast_noop
// CHECK-NEXT: return %arg0
func.func @broadcast_noop(%x: tensor<2x4xf32>) -> tensor<2x4xf32> {
  %y = slim.broadcast %x : tensor<2x4xf32> -> tensor<2x4xf32>
  return %y : tensor<2x4xf32>
}
