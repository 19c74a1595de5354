// RUN: slim-opt %s -slim-ln-to-rmsnorm="variant=crms" -split-input-file -verify-diagnostics | FileCheck %s
// RUN: slim-opt %s -slim-ln-to-rmsnorm="variant=crms tied=untie" -split-input-file -verify-diagnostics | FileCheck %s --check-prefix=UNTIE
// RUN: not slim-opt %s -slim-ln-to-rmsnorm="variant=xrms" -split-input-file 2>&1 | FileCheck %s --check-prefix=BAD

// BAD: for the --variant option: Cannot find option named 'xrms'!

// Tests Pre-CRMSNorm on the GPT-2 shape (d = 2, tied head): the centred
// stream is sliced to its first d−1 = 1 coordinate; the residual, its
// branch-end linear (first d−1 rows of the recentred weight and bias) and
// the norms are d−1 wide; every norm is crms_norm with its gain and bias
// folded into the linears reading it.
// CHECK-LABEL: func.func @gpt2
// CHECK: %[[X0:.*]] = slim.add
// CHECK: %[[M:.*]] = slim.reduce_mean %[[X0]] [-1]
// CHECK: %[[XC:.*]] = slim.sub %[[X0]], %[[M]]
// CHECK: %[[S:.*]] = slim.slice %[[XC]] offsets [0, 0, 0] sizes [1, 2, 1] strides [1, 1, 1] : tensor<1x2x2xf32>
// CHECK: %[[R:.*]] = slim.residual mlp layer 0 (%[[S]]) : tensor<1x2x1xf32>
// CHECK: ^bb0(%[[A:.*]]: tensor<1x2x1xf32>):
// CHECK: %[[N:.*]] = slim.crms_norm %[[A]] : tensor<1x2x1xf32>
// CHECK: slim.linear %[[N]], %{{.*}}, %{{.*}} : tensor<1x2x1xf32>, tensor<4x1xf32>, tensor<4xf32>
// CHECK: slim.linear %{{.*}}, %{{.*}}, %{{.*}} : tensor<1x2x4xf32>, tensor<1x4xf32>, tensor<1xf32>
// CHECK: slim.yield %{{.*}} : tensor<1x2x1xf32>
// CHECK: %[[F:.*]] = slim.crms_norm %[[R]] : tensor<1x2x1xf32>
// CHECK: slim.linear %[[F]], %{{.*}}, %{{.*}} : tensor<1x2x1xf32>, tensor<8x1xf32>, tensor<8xf32>
// CHECK-NOT: slim.layer_norm
// up [[1, 0], [0, 1], [1, 1], [2, 1]] · diag(g = [1, 2]) = [[1, 0], [0, 2],
// [1, 2], [2, 2]]; column 0 minus column 1: [1, -2, -1, 0]; bias W·β with
// β = [0.5, -0.5]: [0.5, -0.5, 0, 0.5]. The down projection recentred is
// [[-1, -1, -1, -1], [1, 1, 1, 1]] with bias [-1, 1]: its first row stays.
// CHECK-DAG: down.weight.centered.crms: "0x04000000000080BF000080BF000080BF000080BF"
// CHECK-DAG: up.crms: "0x040000000000803F000000C0000080BF00000000"
// CHECK-DAG: up.crms.bias: "0x040000000000003F000000BF000000000000003F"
// The tied table is not edited: the embedding still reads wte; the head
// gets its own folded copy.
// CHECK-DAG: wte.crms:
// UNTIE-LABEL: func.func @gpt2
// UNTIE-NOT: slim.reduce_mean
// UNTIE: slim.embedding %{{.*}}[%arg0] : tensor<8x2xf32>
// UNTIE: slim.slice %{{.*}} sizes [1, 2, 1]
func.func @gpt2(%ids: tensor<1x2xi64>) -> tensor<1x2x8xf32> {
  %wte = arith.constant dense_resource<wte> : tensor<8x2xf32>
  %wpe = arith.constant dense<[[[1.0, 3.0], [2.0, 0.0]]]> : tensor<1x2x2xf32>
  %g = arith.constant dense<[1.0, 2.0]> : tensor<2xf32>
  %b = arith.constant dense<[0.5, -0.5]> : tensor<2xf32>
  %up = arith.constant dense_resource<up> : tensor<4x2xf32>
  %down = arith.constant dense_resource<down.weight> : tensor<2x4xf32>
  %downb = arith.constant dense<[1.0, 3.0]> : tensor<2xf32>
  %e = slim.embedding %wte[%ids] : tensor<8x2xf32>, tensor<1x2xi64>
  %x0 = slim.add %e, %wpe : tensor<1x2x2xf32>, tensor<1x2x2xf32>
  %x1 = slim.residual mlp layer 0 (%x0) : tensor<1x2x2xf32> {
  ^bb0(%a: tensor<1x2x2xf32>):
    %n = slim.layer_norm %a, %g, %b : tensor<1x2x2xf32>, tensor<2xf32>, tensor<2xf32>
    %u = slim.linear %n, %up : tensor<1x2x2xf32>, tensor<4x2xf32>
    %h = slim.gelu tanh %u : tensor<1x2x4xf32>
    %d = slim.linear %h, %down, %downb : tensor<1x2x4xf32>, tensor<2x4xf32>, tensor<2xf32>
    slim.yield %d : tensor<1x2x2xf32>
  }
  %f = slim.layer_norm %x1, %g, %b : tensor<1x2x2xf32>, tensor<2xf32>, tensor<2xf32>
  %logits = slim.linear %f, %wte : tensor<1x2x2xf32>, tensor<8x2xf32>
  return %logits : tensor<1x2x8xf32>
}
{-#
  dialect_resources: {
    builtin: {
      wte: "0x040000000000803F000000400000404000008040000000000000803F000000400000404000008040000000000000803F00000040000040400000804000000000000080BF",
      up: "0x040000000000803F00000000000000000000803F0000803F0000803F000000400000803F",
      down.weight: "0x040000000000803F00000040000040400000804000004040000080400000A0400000C040"
    }
  }
#-}

// -----

// Tests the ViT shape: the patch linear and the CLS vector are recentred,
// the concatenated stream is sliced to d−1 = 2, and the classifier reached
// through the CLS slice and a reshape reads the d−1 coordinates (the slice
// and reshape are re-typed, the head gets the folded weight).
// CHECK-LABEL: func.func @vit
// CHECK: %[[CAT:.*]] = slim.concat
// CHECK: %[[S:.*]] = slim.slice %[[CAT]] offsets [0, 0, 0] sizes [1, 3, 2] strides [1, 1, 1] : tensor<1x3x3xf32>
// CHECK: slim.residual attention layer 0 (%[[S]]) : tensor<1x3x2xf32>
// CHECK-COUNT-3: slim.linear %{{.*}}, %{{.*}}, %{{.*}} : tensor<1x3x2xf32>, tensor<3x2xf32>, tensor<3xf32>
// CHECK: slim.linear %{{.*}}, %{{.*}} : tensor<1x3x3xf32>, tensor<2x3xf32>
// CHECK: %[[F:.*]] = slim.crms_norm %{{.*}} : tensor<1x3x2xf32>
// CHECK: %[[C:.*]] = slim.slice %[[F]] offsets [0, 0, 0] sizes [1, 1, 2] strides [1, 1, 1] : tensor<1x3x2xf32>
// CHECK: %[[R:.*]] = slim.reshape %[[C]] : tensor<1x1x2xf32> -> tensor<1x2xf32>
// CHECK: slim.linear %[[R]], %{{.*}}, %{{.*}} : tensor<1x2xf32>, tensor<5x2xf32>, tensor<5xf32>
// CHECK-NOT: slim.layer_norm
func.func @vit(%patches: tensor<1x2x4xf32>) -> tensor<1x5xf32> {
  %w = arith.constant dense<[[1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 2.0], [3.0, 0.0, 1.0, 0.0]]> : tensor<3x4xf32>
  %cls = arith.constant dense<[[[1.0, 2.0, 6.0]]]> : tensor<1x1x3xf32>
  %g = arith.constant dense<[1.0, 2.0, 4.0]> : tensor<3xf32>
  %b = arith.constant dense<[1.0, 0.0, -1.0]> : tensor<3xf32>
  %wq = arith.constant dense<[[1.0, 0.0, 1.0], [0.0, 1.0, 0.0], [2.0, 1.0, 0.0]]> : tensor<3x3xf32>
  %wo = arith.constant dense<[[1.0, 2.0, 0.0], [0.0, 1.0, 3.0], [1.0, 0.0, 1.0]]> : tensor<3x3xf32>
  %head = arith.constant dense<[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [1.0, 1.0, 0.0], [0.0, 1.0, 1.0]]> : tensor<5x3xf32>
  %p = slim.linear %patches, %w : tensor<1x2x4xf32>, tensor<3x4xf32>
  %x0 = slim.concat %cls, %p axis = 1 : tensor<1x1x3xf32>, tensor<1x2x3xf32>
  %x1 = slim.residual attention layer 0 (%x0) : tensor<1x3x3xf32> {
  ^bb0(%a: tensor<1x3x3xf32>):
    %n = slim.layer_norm %a, %g, %b : tensor<1x3x3xf32>, tensor<3xf32>, tensor<3xf32>
    %q = slim.linear %n, %wq : tensor<1x3x3xf32>, tensor<3x3xf32>
    %k = slim.linear %n, %wq : tensor<1x3x3xf32>, tensor<3x3xf32>
    %v = slim.linear %n, %wq : tensor<1x3x3xf32>, tensor<3x3xf32>
    %o = slim.attention %q, %k, %v heads(1, 1) : tensor<1x3x3xf32>, tensor<1x3x3xf32>, tensor<1x3x3xf32>
    %d = slim.linear %o, %wo : tensor<1x3x3xf32>, tensor<3x3xf32>
    slim.yield %d : tensor<1x3x3xf32>
  }
  %f = slim.layer_norm %x1, %g, %b : tensor<1x3x3xf32>, tensor<3xf32>, tensor<3xf32>
  %c = slim.slice %f offsets [0, 0, 0] sizes [1, 1, 3] strides [1, 1, 1] : tensor<1x3x3xf32>
  %r = slim.reshape %c : tensor<1x1x3xf32> -> tensor<1x3xf32>
  %logits = slim.linear %r, %head : tensor<1x3xf32>, tensor<5x3xf32>
  return %logits : tensor<1x5xf32>
}

// -----

// Tests that a norm whose output feeds anything but a linear (here the
// attention directly) is refused: its gain cannot be folded.
func.func @norm_into_attention(%x: tensor<1x2x2xf32>) -> tensor<1x2x2xf32> {
  %g = arith.constant dense<1.0> : tensor<2xf32>
  %w = arith.constant dense<1.0> : tensor<2x2xf32>
  %r = slim.residual attention layer 0 (%x) : tensor<1x2x2xf32> {
  ^bb0(%a: tensor<1x2x2xf32>):
    %n = slim.layer_norm %a, %g : tensor<1x2x2xf32>, tensor<2xf32>
    // expected-error @+1 {{ln-to-rms: variant=crms: the output of 'slim.layer_norm' is read by 'slim.attention', which is not a linear; its gain and bias cannot be folded}}
    %o = slim.attention %n, %n, %n heads(1, 1) : tensor<1x2x2xf32>, tensor<1x2x2xf32>, tensor<1x2x2xf32>
    %d = slim.linear %o, %w : tensor<1x2x2xf32>, tensor<2x2xf32>
    slim.yield %d : tensor<1x2x2xf32>
  }
  %f = slim.layer_norm %r, %g : tensor<1x2x2xf32>, tensor<2xf32>
  %y = slim.linear %f, %w : tensor<1x2x2xf32>, tensor<2x2xf32>
  return %y : tensor<1x2x2xf32>
}

// -----

// Tests that the final norm feeding a graph output (per-token features, no
// head to fold into) is refused.
func.func @norm_is_output(%x: tensor<1x2x2xf32>) -> tensor<1x2x2xf32> {
  %g = arith.constant dense<1.0> : tensor<2xf32>
  %w = arith.constant dense<1.0> : tensor<2x2xf32>
  %r = slim.residual mlp layer 0 (%x) : tensor<1x2x2xf32> {
  ^bb0(%a: tensor<1x2x2xf32>):
    %n = slim.layer_norm %a, %g : tensor<1x2x2xf32>, tensor<2xf32>
    %d = slim.linear %n, %w : tensor<1x2x2xf32>, tensor<2x2xf32>
    slim.yield %d : tensor<1x2x2xf32>
  }
  %f = slim.layer_norm %r, %g : tensor<1x2x2xf32>, tensor<2xf32>
  // expected-error @+1 {{ln-to-rms: variant=crms: the output of 'slim.layer_norm' is read by 'func.return', which is not a linear; its gain and bias cannot be folded}}
  return %f : tensor<1x2x2xf32>
}

// -----

// Tests that CRMSNorm, which narrows one stream, refuses a model with two
// (stages joined by a linear) and names the other variant.
func.func @stages(%x: tensor<1x4x2xf32>) -> tensor<1x2x2xf32> {
  %g2 = arith.constant dense<1.0> : tensor<2xf32>
  %w = arith.constant dense<[[1.0, 2.0], [3.0, 4.0]]> : tensor<2x2xf32>
  %r0 = slim.residual mlp layer 0 (%x) : tensor<1x4x2xf32> {
  ^bb0(%a: tensor<1x4x2xf32>):
    %n = slim.layer_norm %a, %g2 : tensor<1x4x2xf32>, tensor<2xf32>
    %d = slim.linear %n, %w : tensor<1x4x2xf32>, tensor<2x2xf32>
    slim.yield %d : tensor<1x4x2xf32>
  }
  %m = slim.slice %r0 offsets [0, 0, 0] sizes [1, 2, 2] strides [1, 2, 1] : tensor<1x4x2xf32>
  // expected-error @+1 {{ln-to-rms: variant=crms needs one residual stream read only by norms and residual adds; this model has 2 streams and a norm reading rearranged stream rows (use variant=rms)}}
  %n1 = slim.layer_norm %m, %g2 : tensor<1x2x2xf32>, tensor<2xf32>
  %x1 = slim.linear %n1, %w : tensor<1x2x2xf32>, tensor<2x2xf32>
  %r1 = slim.residual mlp layer 1 (%x1) : tensor<1x2x2xf32> {
  ^bb0(%a: tensor<1x2x2xf32>):
    %n = slim.layer_norm %a, %g2 : tensor<1x2x2xf32>, tensor<2xf32>
    %d = slim.linear %n, %w : tensor<1x2x2xf32>, tensor<2x2xf32>
    slim.yield %d : tensor<1x2x2xf32>
  }
  %f = slim.layer_norm %r1, %g2 : tensor<1x2x2xf32>, tensor<2xf32>
  %y = slim.linear %f, %w : tensor<1x2x2xf32>, tensor<2x2xf32>
  return %y : tensor<1x2x2xf32>
}
