// RUN: slim-opt %s -split-input-file -verify-diagnostics -slim-drop-layers="target=attention count=1"

// Tests that scoring without calibration data is refused.
// expected-error @+1 {{layer-drop: importance scoring needs a calibration set}}
func.func @main(%x: tensor<1x4x8xf32>) -> tensor<1x4x8xf32> {
  %g = arith.constant dense<1.0> : tensor<8xf32>
  %w = arith.constant dense<0.5> : tensor<8x8xf32>
  %a0 = slim.residual attention layer 0 (%x) : tensor<1x4x8xf32> {
  ^bb0(%h: tensor<1x4x8xf32>):
    %n = slim.layer_norm %h, %g : tensor<1x4x8xf32>, tensor<8xf32>
    %p = slim.linear %n, %w : tensor<1x4x8xf32>, tensor<8x8xf32>
    slim.yield %p : tensor<1x4x8xf32>
  }
  return %a0 : tensor<1x4x8xf32>
}

// -----

// Tests that a body reading the stream without a norm is not a pre-norm block.
func.func @main(%x: tensor<1x4x8xf32>) -> tensor<1x4x8xf32> {
  %w = arith.constant dense<0.5> : tensor<8x8xf32>
  // expected-error @+1 {{layer-drop: block 2 is not a pre-norm residual block (found 'slim.linear' before the add)}}
  %a0 = slim.residual attention layer 2 (%x) : tensor<1x4x8xf32> {
  ^bb0(%h: tensor<1x4x8xf32>):
    %p = slim.linear %h, %w : tensor<1x4x8xf32>, tensor<8x8xf32>
    slim.yield %p : tensor<1x4x8xf32>
  }
  return %a0 : tensor<1x4x8xf32>
}

// -----

// Tests that a Post-LN model is refused.
func.func @main(%x: tensor<1x4x8xf32>) -> tensor<1x4x8xf32> {
  %g = arith.constant dense<1.0> : tensor<8xf32>
  %w = arith.constant dense<0.5> : tensor<8x8xf32>
  // expected-error @+1 {{layer-drop: block 0 is Post-LN; dropping a sublayer would remove a main-path norm}}
  %a0 = slim.residual attention layer 0 (%x) : tensor<1x4x8xf32> {
  ^bb0(%h: tensor<1x4x8xf32>):
    %n = slim.layer_norm %h, %g : tensor<1x4x8xf32>, tensor<8xf32>
    %p = slim.linear %n, %w : tensor<1x4x8xf32>, tensor<8x8xf32>
    slim.yield %p : tensor<1x4x8xf32>
  }
  %n1 = slim.layer_norm %a0, %g : tensor<1x4x8xf32>, tensor<8xf32>
  %m0 = slim.residual mlp layer 0 (%n1) : tensor<1x4x8xf32> {
  ^bb0(%h: tensor<1x4x8xf32>):
    %n = slim.layer_norm %h, %g : tensor<1x4x8xf32>, tensor<8xf32>
    %p = slim.linear %n, %w : tensor<1x4x8xf32>, tensor<8x8xf32>
    slim.yield %p : tensor<1x4x8xf32>
  }
  return %m0 : tensor<1x4x8xf32>
}

// -----

// Tests that a sublayer output read inside its body beyond the add is refused.
func.func @main(%x: tensor<1x4x8xf32>) -> tensor<1x4x8xf32> {
  %g = arith.constant dense<1.0> : tensor<8xf32>
  %w = arith.constant dense<0.5> : tensor<8x8xf32>
  // expected-error @+1 {{layer-drop: mlp output of block 0 has 1 extra users}}
  %m0 = slim.residual mlp layer 0 (%x) : tensor<1x4x8xf32> {
  ^bb0(%h: tensor<1x4x8xf32>):
    %n = slim.layer_norm %h, %g : tensor<1x4x8xf32>, tensor<8xf32>
    %p = slim.linear %n, %w : tensor<1x4x8xf32>, tensor<8x8xf32>
    %q = slim.gelu exact %p : tensor<1x4x8xf32>
    slim.yield %p : tensor<1x4x8xf32>
  }
  return %m0 : tensor<1x4x8xf32>
}

// -----

// Tests that dropping more modules than there are is refused.
// expected-error @+1 {{layer-drop: drop_n=1 exceeds the 0 droppable attention modules}}
func.func @main(%x: tensor<1x4x8xf32>) -> tensor<1x4x8xf32> {
  %g = arith.constant dense<1.0> : tensor<8xf32>
  %w = arith.constant dense<0.5> : tensor<8x8xf32>
  %m0 = slim.residual mlp layer 0 (%x) : tensor<1x4x8xf32> {
  ^bb0(%h: tensor<1x4x8xf32>):
    %n = slim.layer_norm %h, %g : tensor<1x4x8xf32>, tensor<8xf32>
    %p = slim.linear %n, %w : tensor<1x4x8xf32>, tensor<8x8xf32>
    slim.yield %p : tensor<1x4x8xf32>
  }
  return %m0 : tensor<1x4x8xf32>
}
