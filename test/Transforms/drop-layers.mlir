// RUN: slim-opt %s -split-input-file -verify-diagnostics -slim-drop-layers="target=attention layers=1" | FileCheck %s --check-prefix=ATT
// RUN: slim-opt %s -split-input-file -verify-diagnostics -slim-drop-layers="target=mlp layers=0" | FileCheck %s --check-prefix=MLP
// RUN: slim-opt %s -split-input-file -verify-diagnostics -slim-drop-layers="target=block layers=0" | FileCheck %s --check-prefix=BLOCK
// RUN: slim-opt %s -split-input-file -verify-diagnostics -slim-drop-layers="target=joint layers=attention:0,mlp:1" | FileCheck %s --check-prefix=JOINT
// RUN: slim-opt %s -split-input-file -verify-diagnostics -slim-drop-layers="count=0" | FileCheck %s --check-prefix=NONE

// Tests explicit drop lists for every target: a dropped slim.residual is
// replaced by its input; the others and all weights are untouched; with
// count=0 nothing changes.
// ATT-LABEL: func.func @main
// ATT: %[[A0:.*]] = slim.residual attention layer 0 (%arg0)
// ATT: %[[M0:.*]] = slim.residual mlp layer 0 (%[[A0]])
// ATT-NOT: slim.residual attention layer 1
// ATT: %[[M1:.*]] = slim.residual mlp layer 1 (%[[M0]])
// ATT: return %[[M1]]
// MLP-LABEL: func.func @main
// MLP: %[[A0:.*]] = slim.residual attention layer 0 (%arg0)
// MLP-NOT: slim.residual mlp layer 0
// MLP: slim.residual attention layer 1 (%[[A0]])
// BLOCK-LABEL: func.func @main
// BLOCK-NOT: layer 0
// BLOCK: %[[A1:.*]] = slim.residual attention layer 1 (%arg0)
// BLOCK: slim.residual mlp layer 1 (%[[A1]])
// JOINT-LABEL: func.func @main
// JOINT-NOT: slim.residual attention layer 0
// JOINT: %[[M0:.*]] = slim.residual mlp layer 0 (%arg0)
// JOINT: %[[A1:.*]] = slim.residual attention layer 1 (%[[M0]])
// JOINT-NOT: slim.residual mlp layer 1
// JOINT: return %[[A1]]
// NONE-COUNT-4: slim.residual
func.func @main(%x: tensor<1x4x8xf32>) -> tensor<1x4x8xf32> {
  %g = arith.constant dense<1.0> : tensor<8xf32>
  %w = arith.constant dense<0.5> : tensor<8x8xf32>
  %a0 = slim.residual attention layer 0 (%x) : tensor<1x4x8xf32> {
  ^bb0(%h: tensor<1x4x8xf32>):
    %n = slim.layer_norm %h, %g : tensor<1x4x8xf32>, tensor<8xf32>
    %o = slim.attention %n, %n, %n heads(2, 2) causal : tensor<1x4x8xf32>, tensor<1x4x8xf32>, tensor<1x4x8xf32>
    %p = slim.linear %o, %w : tensor<1x4x8xf32>, tensor<8x8xf32>
    slim.yield %p : tensor<1x4x8xf32>
  }
  %m0 = slim.residual mlp layer 0 (%a0) : tensor<1x4x8xf32> {
  ^bb0(%h: tensor<1x4x8xf32>):
    %n = slim.layer_norm %h, %g : tensor<1x4x8xf32>, tensor<8xf32>
    %p = slim.linear %n, %w : tensor<1x4x8xf32>, tensor<8x8xf32>
    slim.yield %p : tensor<1x4x8xf32>
  }
  %a1 = slim.residual attention layer 1 (%m0) : tensor<1x4x8xf32> {
  ^bb0(%h: tensor<1x4x8xf32>):
    %n = slim.layer_norm %h, %g : tensor<1x4x8xf32>, tensor<8xf32>
    %o = slim.attention %n, %n, %n heads(2, 2) causal : tensor<1x4x8xf32>, tensor<1x4x8xf32>, tensor<1x4x8xf32>
    %p = slim.linear %o, %w : tensor<1x4x8xf32>, tensor<8x8xf32>
    slim.yield %p : tensor<1x4x8xf32>
  }
  %m1 = slim.residual mlp layer 1 (%a1) : tensor<1x4x8xf32> {
  ^bb0(%h: tensor<1x4x8xf32>):
    %n = slim.rms_norm %h, %g : tensor<1x4x8xf32>, tensor<8xf32>
    %p = slim.linear %n, %w : tensor<1x4x8xf32>, tensor<8x8xf32>
    slim.yield %p : tensor<1x4x8xf32>
  }
  return %m1 : tensor<1x4x8xf32>
}
