// RUN: slim-opt %s -slim-ln-to-rmsnorm -split-input-file -verify-diagnostics | FileCheck %s
// RUN: slim-opt %s -slim-ln-to-rmsnorm="tied=untie" -split-input-file -verify-diagnostics | FileCheck %s --check-prefix=UNTIE

// Tests the GPT-2 shape (tied head): the norms that read the main branch
// become rms_norm with the same gain, bias and epsilon; the branch-ending
// linears get recentred weights and biases (new resources: each column of
// W and the bias minus its mean over the outputs); the shared table is kept
// and one mean subtraction follows the embedding sum (tied=center). With
// tied=untie the input side gets a recentred copy of the table instead.
// CHECK-LABEL: func.func @gpt2
// CHECK: %[[E:.*]] = slim.embedding %[[WTE:.*]][%arg0]
// CHECK: %[[X0:.*]] = slim.add %[[E]], %[[WPE:.*]] :
// CHECK: %[[M:.*]] = slim.reduce_mean %[[X0]] [-1]
// CHECK: %[[XC:.*]] = slim.sub %[[X0]], %[[M]]
// CHECK: slim.residual mlp layer 0 (%[[XC]])
// CHECK: slim.rms_norm %{{.*}}, %{{.*}}, %{{.*}} : tensor<1x2x2xf32>, tensor<2xf32>, tensor<2xf32>
// CHECK: slim.linear %{{.*}}, %[[W2:.*]], %[[B2:.*]] : tensor<1x2x4xf32>, tensor<2x4xf32>, tensor<2xf32>
// CHECK: slim.rms_norm
// CHECK: slim.linear %{{.*}}, %[[WTE]] :
// CHECK-NOT: slim.layer_norm
// The down projection [[1, 2, 3, 4], [3, 4, 5, 6]] becomes [[-1, -1, -1, -1],
// [1, 1, 1, 1]]; its bias [1, 3] becomes [-1, 1].
// CHECK: down.weight.centered: "0x04000000000080BF000080BF000080BF000080BF0000803F0000803F0000803F0000803F"
// UNTIE-LABEL: func.func @gpt2
// UNTIE: %[[WTEC:.*]] = arith.constant dense_resource<wte.centered>
// UNTIE: slim.embedding %[[WTEC]][%arg0]
// UNTIE-NOT: slim.reduce_mean
// UNTIE: slim.linear %{{.*}}, %[[WTE:.*]] : tensor<1x2x2xf32>, tensor<8x2xf32>
func.func @gpt2(%ids: tensor<1x2xi64>) -> tensor<1x2x8xf32> {
  %wte = arith.constant dense_resource<wte> : tensor<8x2xf32>
  %wpe = arith.constant dense<[[[1.0, 3.0], [2.0, 0.0]]]> : tensor<1x2x2xf32>
  %g = arith.constant dense<[1.0, 2.0]> : tensor<2xf32>
  %b = arith.constant dense<[0.5, -0.5]> : tensor<2xf32>
  %up = arith.constant dense<[[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [2.0, 1.0]]> : tensor<4x2xf32>
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
      down.weight: "0x040000000000803F00000040000040400000804000004040000080400000A0400000C040"
    }
  }
#-}

// -----

// Tests the ViT shape (untied): the CLS vector, the patch-embedding linear
// and the position embeddings are recentred, and nothing is inserted.
// CHECK-LABEL: func.func @vit
// CHECK-NOT: slim.reduce_mean
// CHECK: slim.linear %arg0, %{{.*}}, %{{.*}} : tensor<1x2x4xf32>, tensor<2x4xf32>, tensor<2xf32>
// CHECK: %[[CAT:.*]] = slim.concat %{{.*}}, %{{.*}} axis = 1
// CHECK: slim.add %[[CAT]], %{{.*}} :
// CHECK: slim.rms_norm
// CHECK: slim.rms_norm
// CHECK-NOT: slim.layer_norm
// CHECK: patch.weight.centered:
// CHECK: cls.centered: "0x04000000000080BF0000803F"
func.func @vit(%patches: tensor<1x2x4xf32>) -> tensor<1x3x2xf32> {
  %w = arith.constant dense_resource<patch.weight> : tensor<2x4xf32>
  %pb = arith.constant dense<[1.0, 2.0]> : tensor<2xf32>
  %cls = arith.constant dense_resource<cls> : tensor<1x1x2xf32>
  %pos = arith.constant dense<[[[1.0, 2.0], [3.0, 5.0], [0.0, 0.0]]]> : tensor<1x3x2xf32>
  %g = arith.constant dense<[1.0, 1.0]> : tensor<2xf32>
  %wo = arith.constant dense<[[1.0, 2.0], [3.0, 4.0]]> : tensor<2x2xf32>
  %p = slim.linear %patches, %w, %pb : tensor<1x2x4xf32>, tensor<2x4xf32>, tensor<2xf32>
  %cat = slim.concat %cls, %p axis = 1 : tensor<1x1x2xf32>, tensor<1x2x2xf32>
  %x0 = slim.add %cat, %pos : tensor<1x3x2xf32>, tensor<1x3x2xf32>
  %x1 = slim.residual attention layer 0 (%x0) : tensor<1x3x2xf32> {
  ^bb0(%a: tensor<1x3x2xf32>):
    %n = slim.layer_norm %a, %g : tensor<1x3x2xf32>, tensor<2xf32>
    %o = slim.attention %n, %n, %n heads(1, 1) : tensor<1x3x2xf32>, tensor<1x3x2xf32>, tensor<1x3x2xf32>
    %d = slim.linear %o, %wo : tensor<1x3x2xf32>, tensor<2x2xf32>
    slim.yield %d : tensor<1x3x2xf32>
  }
  %f = slim.layer_norm %x1, %g : tensor<1x3x2xf32>, tensor<2xf32>
  return %f : tensor<1x3x2xf32>
}
{-#
  dialect_resources: {
    builtin: {
      patch.weight: "0x040000000000803F00000040000040400000804000004040000080400000A0400000C040",
      cls: "0x040000000000000000000040"
    }
  }
#-}

// -----

// Tests that a Post-LN block (BERT) is rejected.
func.func @post_ln(%x: tensor<1x2x2xf32>, %w: tensor<2x2xf32>) -> tensor<1x2x2xf32> {
  %g = arith.constant dense<1.0> : tensor<2xf32>
  %wc = arith.constant dense<1.0> : tensor<2x2xf32>
  %n0 = slim.layer_norm %x, %g : tensor<1x2x2xf32>, tensor<2xf32>
  // expected-error @+1 {{ln-to-rms: block 0 is Post-LN; equivalence holds only for Pre-LN}}
  %r = slim.residual attention layer 0 (%n0) : tensor<1x2x2xf32> {
  ^bb0(%a: tensor<1x2x2xf32>):
    %d = slim.linear %a, %wc : tensor<1x2x2xf32>, tensor<2x2xf32>
    slim.yield %d : tensor<1x2x2xf32>
  }
  %n1 = slim.layer_norm %r, %g : tensor<1x2x2xf32>, tensor<2xf32>
  return %n1 : tensor<1x2x2xf32>
}

// -----

// Tests that a main-branch reader that is not a norm or residual is rejected.
func.func @other_reader(%x: tensor<1x2x2xf32>) -> tensor<1x2x2xf32> {
  %g = arith.constant dense<1.0> : tensor<2xf32>
  %wc = arith.constant dense<1.0> : tensor<2x2xf32>
  %r = slim.residual mlp layer 0 (%x) : tensor<1x2x2xf32> {
  ^bb0(%a: tensor<1x2x2xf32>):
    %n = slim.layer_norm %a, %g : tensor<1x2x2xf32>, tensor<2xf32>
    %d = slim.linear %n, %wc : tensor<1x2x2xf32>, tensor<2x2xf32>
    slim.yield %d : tensor<1x2x2xf32>
  }
  // expected-error @+1 {{ln-to-rms: main-branch value after block 0 is read by 'slim.gelu', which is not a norm, residual add or row rearrangement}}
  %y = slim.gelu exact %r : tensor<1x2x2xf32>
  return %y : tensor<1x2x2xf32>
}

// -----

// Tests that a branch ending in a nonlinearity is rejected.
func.func @branch_end(%x: tensor<1x2x2xf32>) -> tensor<1x2x2xf32> {
  %g = arith.constant dense<1.0> : tensor<2xf32>
  %r = slim.residual mlp layer 3 (%x) : tensor<1x2x2xf32> {
  ^bb0(%a: tensor<1x2x2xf32>):
    %n = slim.layer_norm %a, %g : tensor<1x2x2xf32>, tensor<2xf32>
    // expected-error @+1 {{ln-to-rms: residual branch of block 3 ends with 'slim.gelu'; its mean cannot be removed by editing weights}}
    %y = slim.gelu exact %n : tensor<1x2x2xf32>
    slim.yield %y : tensor<1x2x2xf32>
  }
  %f = slim.layer_norm %r, %g : tensor<1x2x2xf32>, tensor<2xf32>
  return %f : tensor<1x2x2xf32>
}

// -----

// Tests that the main branch may not be a graph output.
func.func @output(%x: tensor<1x2x2xf32>) -> tensor<1x2x2xf32> {
  %g = arith.constant dense<1.0> : tensor<2xf32>
  %wc = arith.constant dense<1.0> : tensor<2x2xf32>
  %r = slim.residual mlp layer 0 (%x) : tensor<1x2x2xf32> {
  ^bb0(%a: tensor<1x2x2xf32>):
    %n = slim.layer_norm %a, %g : tensor<1x2x2xf32>, tensor<2xf32>
    %d = slim.linear %n, %wc : tensor<1x2x2xf32>, tensor<2x2xf32>
    slim.yield %d : tensor<1x2x2xf32>
  }
  // expected-error @+1 {{ln-to-rms: main branch the result of 'slim.residual' is a graph output; its values would change}}
  return %r : tensor<1x2x2xf32>
}

// -----

// Tests that a LayerNorm over more than the last axis is rejected.
func.func @axes(%x: tensor<1x2x2xf32>) -> tensor<1x2x2xf32> {
  %g = arith.constant dense<1.0> : tensor<2x2xf32>
  %wc = arith.constant dense<1.0> : tensor<2x2xf32>
  %r = slim.residual mlp layer 0 (%x) : tensor<1x2x2xf32> {
  ^bb0(%a: tensor<1x2x2xf32>):
    // expected-error @+1 {{ln-to-rms: 'slim.layer_norm' normalizes over axes [1, 3); only last-axis LayerNorm supported}}
    %n = slim.layer_norm %a, %g {axis = 1 : i64} : tensor<1x2x2xf32>, tensor<2x2xf32>
    %d = slim.linear %n, %wc : tensor<1x2x2xf32>, tensor<2x2xf32>
    slim.yield %d : tensor<1x2x2xf32>
  }
  %g1 = arith.constant dense<1.0> : tensor<2xf32>
  %f = slim.layer_norm %r, %g1 : tensor<1x2x2xf32>, tensor<2xf32>
  return %f : tensor<1x2x2xf32>
}

// -----

// Tests that weights that are not constants (or are quantized) are rejected.
func.func @not_constant(%x: tensor<1x2x2xf32>, %w: tensor<2x2xf32>) -> tensor<1x2x2xf32> {
  %g = arith.constant dense<1.0> : tensor<2xf32>
  %r = slim.residual mlp layer 0 (%x) : tensor<1x2x2xf32> {
  ^bb0(%a: tensor<1x2x2xf32>):
    %n = slim.layer_norm %a, %g : tensor<1x2x2xf32>, tensor<2xf32>
    // expected-error @+1 {{ln-to-rms: function argument #1 (operand of 'slim.linear') is not a foldable constant (run before quantization)}}
    %d = slim.linear %n, %w : tensor<1x2x2xf32>, tensor<2x2xf32>
    slim.yield %d : tensor<1x2x2xf32>
  }
  %f = slim.layer_norm %r, %g : tensor<1x2x2xf32>, tensor<2xf32>
  return %f : tensor<1x2x2xf32>
}

// -----

// Tests that a model already on RMSNorm is left alone, with a remark.
// CHECK-LABEL: func.func @already_rms
// CHECK-NOT: .centered
// expected-warning @+1 {{ln-to-rms: no LayerNorm reads the main branch of @already_rms; nothing to rewrite}}
func.func @already_rms(%x: tensor<1x2x2xf32>) -> tensor<1x2x2xf32> {
  %g = arith.constant dense<1.0> : tensor<2xf32>
  %wc = arith.constant dense<1.0> : tensor<2x2xf32>
  %r = slim.residual mlp layer 0 (%x) : tensor<1x2x2xf32> {
  ^bb0(%a: tensor<1x2x2xf32>):
    %n = slim.rms_norm %a, %g : tensor<1x2x2xf32>, tensor<2xf32>
    %d = slim.linear %n, %wc : tensor<1x2x2xf32>, tensor<2x2xf32>
    slim.yield %d : tensor<1x2x2xf32>
  }
  %f = slim.rms_norm %r, %g : tensor<1x2x2xf32>, tensor<2xf32>
  return %f : tensor<1x2x2xf32>
}

// -----

// Tests that an RMSNorm already reading the main branch next to LayerNorms
// is refused: it does not discard the mean, so recentring would change it.
func.func @mixed_norms(%x: tensor<1x2x2xf32>) -> tensor<1x2x2xf32> {
  %g = arith.constant dense<1.0> : tensor<2xf32>
  %w = arith.constant dense<1.0> : tensor<2x2xf32>
  %r = slim.residual mlp layer 0 (%x) : tensor<1x2x2xf32> {
  ^bb0(%a: tensor<1x2x2xf32>):
    %n = slim.layer_norm %a, %g : tensor<1x2x2xf32>, tensor<2xf32>
    %d = slim.linear %n, %w : tensor<1x2x2xf32>, tensor<2x2xf32>
    slim.yield %d : tensor<1x2x2xf32>
  }
  // expected-error @+1 {{ln-to-rms: 'slim.rms_norm' reads the main branch next to LayerNorms; it does not discard the mean, so recentring would change its output}}
  %f = slim.rms_norm %r, %g : tensor<1x2x2xf32>, tensor<2xf32>
  %y = slim.linear %f, %w : tensor<1x2x2xf32>, tensor<2x2xf32>
  return %y : tensor<1x2x2xf32>
}

// -----

// Tests a hierarchical model (Swin's stages): patch merging puts two rows
// of the first stream side by side (a concat along the model dimension),
// so the norm reading them needs each row's mean and the first stream
// keeps its LayerNorms (a remark says why); the second stream, written by
// the merging linear (recentred), is rewritten.
// CHECK-LABEL: func.func @stages
// CHECK: slim.residual mlp layer 0
// CHECK: slim.layer_norm %{{.*}} : tensor<1x4x2xf32>
// CHECK: slim.concat
// CHECK: slim.layer_norm %{{.*}} : tensor<1x2x4xf32>
// CHECK: %[[X1:.*]] = slim.linear %{{.*}}, %[[RED:.*]] : tensor<1x2x4xf32>, tensor<2x4xf32>
// CHECK: slim.residual mlp layer 1 (%[[X1]])
// CHECK: slim.rms_norm
// CHECK: slim.rms_norm %{{.*}} : tensor<1x2x2xf32>
// The merging weight [[1, 0, 2, 0], [0, 1, 0, 3]] minus its column means:
// [[0.5, -0.5, 1, -1.5], [-0.5, 0.5, -1, 1.5]].
// CHECK: {{centered(_[0-9]+)?}}: "0x040000000000003F000000BF0000803F0000C0BF000000BF0000003F000080BF0000C03F"
func.func @stages(%x: tensor<1x4x2xf32>) -> tensor<1x2x2xf32> {
  %g2 = arith.constant dense<1.0> : tensor<2xf32>
  %g4 = arith.constant dense<1.0> : tensor<4xf32>
  %w = arith.constant dense<[[1.0, 2.0], [3.0, 4.0]]> : tensor<2x2xf32>
  %red = arith.constant dense<[[1.0, 0.0, 2.0, 0.0], [0.0, 1.0, 0.0, 3.0]]> : tensor<2x4xf32>
  %r0 = slim.residual mlp layer 0 (%x) : tensor<1x4x2xf32> {
  ^bb0(%a: tensor<1x4x2xf32>):
    %n = slim.layer_norm %a, %g2 : tensor<1x4x2xf32>, tensor<2xf32>
    %d = slim.linear %n, %w : tensor<1x4x2xf32>, tensor<2x2xf32>
    slim.yield %d : tensor<1x4x2xf32>
  }
  %e = slim.slice %r0 offsets [0, 0, 0] sizes [1, 2, 2] strides [1, 2, 1] : tensor<1x4x2xf32>
  %o = slim.slice %r0 offsets [0, 1, 0] sizes [1, 2, 2] strides [1, 2, 1] : tensor<1x4x2xf32>
  // expected-remark @+1 {{ln-to-rms: block 0 keeps its LayerNorms: main-branch value after block 0 is read by 'slim.concat', which joins rows along the model dimension; the norm reading it needs each row's mean}}
  %c = slim.concat %e, %o axis = 2 : tensor<1x2x2xf32>, tensor<1x2x2xf32>
  %m = slim.layer_norm %c, %g4 : tensor<1x2x4xf32>, tensor<4xf32>
  %x1 = slim.linear %m, %red : tensor<1x2x4xf32>, tensor<2x4xf32>
  %r1 = slim.residual mlp layer 1 (%x1) : tensor<1x2x2xf32> {
  ^bb0(%a: tensor<1x2x2xf32>):
    %n = slim.layer_norm %a, %g2 : tensor<1x2x2xf32>, tensor<2xf32>
    %d = slim.linear %n, %w : tensor<1x2x2xf32>, tensor<2x2xf32>
    slim.yield %d : tensor<1x2x2xf32>
  }
  %f = slim.layer_norm %r1, %g2 : tensor<1x2x2xf32>, tensor<2xf32>
  return %f : tensor<1x2x2xf32>
}

// -----

// Tests a stream that starts at a LayerNorm (Swin's patch embedding): no
// weight edit removes its mean, so one mean subtraction follows it (a
// remark says so). Norms reading rows selected from the stream (a slice of
// tokens, a concat along tokens) are rewritten too.
// CHECK-LABEL: func.func @start_norm
// CHECK: %[[X0:.*]] = slim.layer_norm %arg0
// CHECK: %[[M:.*]] = slim.reduce_mean %[[X0]] [-1]
// CHECK: %[[XC:.*]] = slim.sub %[[X0]], %[[M]]
// CHECK: slim.residual mlp layer 0 (%[[XC]])
// CHECK: slim.rms_norm
// CHECK: slim.concat
// CHECK: slim.rms_norm %{{.*}} : tensor<1x4x2xf32>
// CHECK-NOT: slim.layer_norm
func.func @start_norm(%x: tensor<1x4x2xf32>) -> tensor<1x4x2xf32> {
  %g = arith.constant dense<[1.0, 2.0]> : tensor<2xf32>
  %w = arith.constant dense<[[1.0, 2.0], [3.0, 4.0]]> : tensor<2x2xf32>
  // expected-remark @+1 {{ln-to-rms: the stream entering block 0 is written by 'slim.layer_norm', which is not a linear, embedding or constant; its mean cannot be removed by editing weights, so one mean subtraction follows it}}
  %x0 = slim.layer_norm %x, %g : tensor<1x4x2xf32>, tensor<2xf32>
  %r0 = slim.residual mlp layer 0 (%x0) : tensor<1x4x2xf32> {
  ^bb0(%a: tensor<1x4x2xf32>):
    %n = slim.layer_norm %a, %g : tensor<1x4x2xf32>, tensor<2xf32>
    %d = slim.linear %n, %w : tensor<1x4x2xf32>, tensor<2x2xf32>
    slim.yield %d : tensor<1x4x2xf32>
  }
  %h = slim.slice %r0 offsets [0, 2, 0] sizes [1, 2, 2] strides [1, 1, 1] : tensor<1x4x2xf32>
  %t = slim.slice %r0 offsets [0, 0, 0] sizes [1, 2, 2] strides [1, 1, 1] : tensor<1x4x2xf32>
  %c = slim.concat %h, %t axis = 1 : tensor<1x2x2xf32>, tensor<1x2x2xf32>
  %f = slim.layer_norm %c, %g : tensor<1x4x2xf32>, tensor<2xf32>
  return %f : tensor<1x4x2xf32>
}
