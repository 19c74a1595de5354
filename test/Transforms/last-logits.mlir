// RUN: slim-opt %s -slim-last-logits -split-input-file -verify-diagnostics | FileCheck %s

// Tests that the head reads the last token only and the output becomes
// [batch, 1, vocab].
// CHECK-LABEL: func.func @lm
// CHECK-SAME: -> tensor<1x1x8xf32>
// CHECK: %[[L:.*]] = slim.slice %{{.*}} offsets [0, 3, 0] sizes [1, 1, 2] strides [1, 1, 1] : tensor<1x4x2xf32>
// CHECK: %[[Y:.*]] = slim.linear %[[L]], %{{.*}} : tensor<1x1x2xf32>, tensor<8x2xf32>
// CHECK: return %[[Y]] : tensor<1x1x8xf32>
func.func @lm(%x: tensor<1x4x2xf32>) -> tensor<1x4x8xf32> {
  %g = arith.constant dense<1.0> : tensor<2xf32>
  %w = arith.constant dense<0.5> : tensor<8x2xf32>
  %n = slim.layer_norm %x, %g : tensor<1x4x2xf32>, tensor<2xf32>
  %y = slim.linear %n, %w : tensor<1x4x2xf32>, tensor<8x2xf32>
  return %y : tensor<1x4x8xf32>
}

// -----

// Tests that a model without a linear head over the tokens is refused.
// expected-error @+1 {{last-logits: no [batch, tokens, vocab] output of @cls comes from a linear head; nothing to restrict}}
func.func @cls(%x: tensor<1x4x2xf32>) -> tensor<1x4x2xf32> {
  %g = arith.constant dense<1.0> : tensor<2xf32>
  %n = slim.layer_norm %x, %g : tensor<1x4x2xf32>, tensor<2xf32>
  return %n : tensor<1x4x2xf32>
}
