// RUN: slim-opt %s -slim-merge-tokens="r=2" -split-input-file -verify-diagnostics | FileCheck %s
// RUN: slim-opt %s -slim-merge-tokens="r=0" -split-input-file | FileCheck %s --check-prefix=ZERO
// RUN: not slim-opt %s -slim-merge-tokens="schedule=1,3" -split-input-file 2>/dev/null | FileCheck %s --check-prefix=SCHED
// RUN: not slim-opt %s -slim-merge-tokens="schedule=1,3" -split-input-file 2>&1 >/dev/null | FileCheck %s --check-prefix=SCHEDERR
// RUN: not slim-opt %s -slim-merge-tokens="r=2 unmerge=1" -split-input-file 2>/dev/null | FileCheck %s --check-prefix=UNMERGE
// RUN: not slim-opt %s -slim-merge-tokens="r=2 method=mctf one_step_ahead=0" -split-input-file 2>/dev/null | FileCheck %s --check-prefix=MCTF
// RUN: not slim-opt %s -slim-merge-tokens="method=dct" 2>&1 | FileCheck %s --check-prefix=BADMETHOD
// RUN: not slim-opt %s -slim-merge-tokens="r=1 fraction=0.3" -split-input-file 2>/dev/null | FileCheck %s --check-prefix=FRACTION
// RUN: not slim-opt %s -slim-merge-tokens="fraction=1.5" 2>&1 | FileCheck %s --check-prefix=BADFRACTION
// BADFRACTION: token-merge: fraction=1.500000e+00 must be in [0, 1)
// fraction=0.3 on @vit (CLS + 8 tokens): ⌊0.3·8⌋ = 2, then ⌊0.3·6⌋ = 1.
// FRACTION-LABEL: func.func @vit
// FRACTION: slim.token_merge {{.*}} r = 2 : tensor<1x9x4xf32>
// FRACTION: slim.token_merge {{.*}} r = 1 : tensor<1x7x4xf32>
// RUN: not slim-opt %s -slim-merge-tokens="r=2 method=mctf one_step_ahead=2" -split-input-file 2>/dev/null | FileCheck %s --check-prefix=AHEAD
// RUN: not slim-opt %s -slim-merge-tokens="r=2 one_step_ahead=2" 2>&1 | FileCheck %s --check-prefix=AHEADTOME
// AHEADTOME: token-merge: one_step_ahead=2: expected 0, or 1 or 2 with method=mctf
// BADMETHOD: for the --method option: Cannot find option named 'dct'!

// Tests ToMe on a two-block ViT-shaped model (CLS + 8 patch tokens, d = 4,
// 2 heads of 2): the norm and the key linear of each attention move in
// front of its residual (the keys are computed once and read outside too);
// after the residual the keys, reshaped to [1, 9, 2 heads, 2], are averaged
// over the heads (ToMe's metric), and token_merge (CLS protected) shortens
// the stream by r; the MLP and every later op run on T − r tokens; the
// second attention gets the sizes (proportional attention); the CLS
// readout is unchanged.
// CHECK-LABEL: func.func @vit
// CHECK: %[[X0:.*]] = slim.concat
// CHECK: %[[N:.*]] = slim.layer_norm %[[X0]], %{{.*}} : tensor<1x9x4xf32>, tensor<4xf32>
// CHECK-NEXT: %[[K:.*]] = slim.linear %[[N]], %{{.*}}, %{{.*}} : tensor<1x9x4xf32>, tensor<4x4xf32>, tensor<4xf32>
// CHECK-NEXT: %[[X1:.*]] = slim.residual attention layer 0 (%[[X0]]) : tensor<1x9x4xf32>
// CHECK: slim.attention %{{.*}}, %[[K]], %{{.*}} heads(2, 2)
// CHECK: %[[KH:.*]] = slim.reshape %[[K]] : tensor<1x9x4xf32> -> tensor<1x9x2x2xf32>
// CHECK-NEXT: %[[M:.*]] = slim.reduce_mean %[[KH]] [2] keepdims = false : tensor<1x9x2x2xf32>
// CHECK-NEXT: %[[H:.*]], %[[S:.*]] = slim.token_merge %[[X1]], %[[M]], %{{.*}} r = 2 : tensor<1x9x4xf32>, tensor<1x9x2xf32>, tensor<1x9xf32>
// CHECK: slim.residual mlp layer 0 (%[[H]]) : tensor<1x7x4xf32>
// CHECK: slim.residual attention layer 1 (%{{.*}}) : tensor<1x7x4xf32>
// CHECK: slim.attention %{{.*}}, %{{.*}}, %{{.*}} sizes(%[[S]] : tensor<1x7xf32>) heads(2, 2) : tensor<1x7x4xf32>
// CHECK: slim.token_merge %{{.*}}, %{{.*}}, %[[S]] r = 2 : tensor<1x7x4xf32>, tensor<1x7x2xf32>, tensor<1x7xf32>
// CHECK: slim.residual mlp layer 1 (%{{.*}}) : tensor<1x5x4xf32>
// CHECK: slim.slice %{{.*}} offsets [0, 0, 0] sizes [1, 1, 4] strides [1, 1, 1] : tensor<1x5x4xf32>
// ZERO-LABEL: func.func @vit
// ZERO-NOT: slim.token_merge
// SCHED: slim.token_merge {{.*}} r = 1 : tensor<1x9x4xf32>
// SCHED: slim.token_merge {{.*}} r = 3 : tensor<1x8x4xf32>
// (the one-block functions below have one block for two entries)
// SCHEDERR: error: token-merge: schedule has 2 entries for 1 blocks
func.func @vit(%p: tensor<1x8x4xf32>) -> tensor<1x4xf32> {
  %cls = arith.constant dense<[[[1.0, 0.0, 0.0, 0.0]]]> : tensor<1x1x4xf32>
  %g = arith.constant dense<1.0> : tensor<4xf32>
  %wk = arith.constant dense<[[1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0], [0.0, 0.0, 0.0, 1.0]]> : tensor<4x4xf32>
  %bk = arith.constant dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32>
  %w = arith.constant dense<0.5> : tensor<4x4xf32>
  %x0 = slim.concat %cls, %p axis = 1 : tensor<1x1x4xf32>, tensor<1x8x4xf32>
  %x1 = slim.residual attention layer 0 (%x0) : tensor<1x9x4xf32> {
  ^bb0(%a: tensor<1x9x4xf32>):
    %n = slim.layer_norm %a, %g : tensor<1x9x4xf32>, tensor<4xf32>
    %q = slim.linear %n, %w : tensor<1x9x4xf32>, tensor<4x4xf32>
    %k = slim.linear %n, %wk, %bk : tensor<1x9x4xf32>, tensor<4x4xf32>, tensor<4xf32>
    %v = slim.linear %n, %w : tensor<1x9x4xf32>, tensor<4x4xf32>
    %o = slim.attention %q, %k, %v heads(2, 2) : tensor<1x9x4xf32>, tensor<1x9x4xf32>, tensor<1x9x4xf32>
    %d = slim.linear %o, %w : tensor<1x9x4xf32>, tensor<4x4xf32>
    slim.yield %d : tensor<1x9x4xf32>
  }
  %x2 = slim.residual mlp layer 0 (%x1) : tensor<1x9x4xf32> {
  ^bb0(%a: tensor<1x9x4xf32>):
    %n = slim.layer_norm %a, %g : tensor<1x9x4xf32>, tensor<4xf32>
    %u = slim.linear %n, %w : tensor<1x9x4xf32>, tensor<4x4xf32>
    %h = slim.gelu exact %u : tensor<1x9x4xf32>
    %d = slim.linear %h, %w : tensor<1x9x4xf32>, tensor<4x4xf32>
    slim.yield %d : tensor<1x9x4xf32>
  }
  %x3 = slim.residual attention layer 1 (%x2) : tensor<1x9x4xf32> {
  ^bb0(%a: tensor<1x9x4xf32>):
    %n = slim.layer_norm %a, %g : tensor<1x9x4xf32>, tensor<4xf32>
    %q = slim.linear %n, %w : tensor<1x9x4xf32>, tensor<4x4xf32>
    %k = slim.linear %n, %wk : tensor<1x9x4xf32>, tensor<4x4xf32>
    %o = slim.attention %q, %k, %k heads(2, 2) : tensor<1x9x4xf32>, tensor<1x9x4xf32>, tensor<1x9x4xf32>
    %d = slim.linear %o, %w : tensor<1x9x4xf32>, tensor<4x4xf32>
    slim.yield %d : tensor<1x9x4xf32>
  }
  %x4 = slim.residual mlp layer 1 (%x3) : tensor<1x9x4xf32> {
  ^bb0(%a: tensor<1x9x4xf32>):
    %n = slim.layer_norm %a, %g : tensor<1x9x4xf32>, tensor<4xf32>
    %d = slim.linear %n, %w : tensor<1x9x4xf32>, tensor<4x4xf32>
    slim.yield %d : tensor<1x9x4xf32>
  }
  %f = slim.layer_norm %x4, %g : tensor<1x9x4xf32>, tensor<4xf32>
  %c = slim.slice %f offsets [0, 0, 0] sizes [1, 1, 4] strides [1, 1, 1] : tensor<1x9x4xf32>
  %r = slim.reshape %c : tensor<1x1x4xf32> -> tensor<1x4xf32>
  return %r : tensor<1x4xf32>
}

// -----

// Tests the mean-pooling readout: it becomes Σ s·h / Σ s, and no CLS is
// detected (no constant token in front), so nothing is protected.
// CHECK-LABEL: func.func @mean_pool
// CHECK: slim.token_merge {{.*}} r = 2 protected = 0
// CHECK: %[[S3:.*]] = slim.reshape %{{.*}} : tensor<1x4xf32> -> tensor<1x4x1xf32>
// CHECK: %[[W:.*]] = slim.mul %{{.*}}, %[[S3]] : tensor<1x4x4xf32>, tensor<1x4x1xf32>
// CHECK: %[[NUM:.*]] = slim.reduce_mean %[[W]] [1] keepdims = false : tensor<1x4x4xf32>
// CHECK: %[[DEN:.*]] = slim.reduce_mean %[[S3]] [1] keepdims = false : tensor<1x4x1xf32>
// CHECK: slim.div %[[NUM]], %[[DEN]] : tensor<1x4xf32>, tensor<1x1xf32>
func.func @mean_pool(%x: tensor<1x6x4xf32>) -> tensor<1x4xf32> {
  %g = arith.constant dense<1.0> : tensor<4xf32>
  %w = arith.constant dense<0.5> : tensor<4x4xf32>
  %x1 = slim.residual attention layer 0 (%x) : tensor<1x6x4xf32> {
  ^bb0(%a: tensor<1x6x4xf32>):
    %n = slim.layer_norm %a, %g : tensor<1x6x4xf32>, tensor<4xf32>
    %k = slim.linear %n, %w : tensor<1x6x4xf32>, tensor<4x4xf32>
    %o = slim.attention %k, %k, %k heads(1, 1) : tensor<1x6x4xf32>, tensor<1x6x4xf32>, tensor<1x6x4xf32>
    %d = slim.linear %o, %w : tensor<1x6x4xf32>, tensor<4x4xf32>
    slim.yield %d : tensor<1x6x4xf32>
  }
  %m = slim.reduce_mean %x1 [1] keepdims = false : tensor<1x6x4xf32>
  return %m : tensor<1x4xf32>
}

// -----

// Tests that a causal (decoder) attention is refused.
func.func @causal(%x: tensor<1x6x4xf32>) -> tensor<1x4xf32> {
  %g = arith.constant dense<1.0> : tensor<4xf32>
  %w = arith.constant dense<0.5> : tensor<4x4xf32>
  %x1 = slim.residual attention layer 0 (%x) : tensor<1x6x4xf32> {
  ^bb0(%a: tensor<1x6x4xf32>):
    %n = slim.layer_norm %a, %g : tensor<1x6x4xf32>, tensor<4xf32>
    %k = slim.linear %n, %w : tensor<1x6x4xf32>, tensor<4x4xf32>
    // expected-error @+1 {{token-merge: block 0 uses a causal/windowed mask; merging would break it}}
    %o = slim.attention %k, %k, %k heads(1, 1) causal : tensor<1x6x4xf32>, tensor<1x6x4xf32>, tensor<1x6x4xf32>
    %d = slim.linear %o, %w : tensor<1x6x4xf32>, tensor<4x4xf32>
    slim.yield %d : tensor<1x6x4xf32>
  }
  %m = slim.reduce_mean %x1 [1] keepdims = false : tensor<1x6x4xf32>
  return %m : tensor<1x4xf32>
}

// -----

// Tests that RoPE (position-dependent attention) is refused.
func.func @rope(%x: tensor<1x6x4xf32>, %pos: tensor<6xi64>) -> tensor<1x4xf32> {
  %g = arith.constant dense<1.0> : tensor<4xf32>
  %w = arith.constant dense<0.5> : tensor<4x4xf32>
  %x1 = slim.residual attention layer 0 (%x) : tensor<1x6x4xf32> {
  ^bb0(%a: tensor<1x6x4xf32>):
    %n = slim.layer_norm %a, %g : tensor<1x6x4xf32>, tensor<4xf32>
    %k = slim.linear %n, %w : tensor<1x6x4xf32>, tensor<4x4xf32>
    // expected-error @+1 {{token-merge: block 0 applies position-dependent attention ('slim.rope'); merged tokens have no single position}}
    %kr = slim.rope %k, %pos {num_heads = 1 : i64} : tensor<1x6x4xf32>, tensor<6xi64>
    %o = slim.attention %kr, %kr, %k heads(1, 1) : tensor<1x6x4xf32>, tensor<1x6x4xf32>, tensor<1x6x4xf32>
    %d = slim.linear %o, %w : tensor<1x6x4xf32>, tensor<4x4xf32>
    slim.yield %d : tensor<1x6x4xf32>
  }
  %m = slim.reduce_mean %x1 [1] keepdims = false : tensor<1x6x4xf32>
  return %m : tensor<1x4xf32>
}

// -----

// Tests MCTF on one block with CLS + 13 tokens: the norm and the query and
// key linears move in front of the attention residual (the value linear
// stays inside), slim.attention_received reads the same queries and keys,
// and token_merge uses the hidden states as its metric and the received
// attention. (The two-block @vit above has 9 tokens: MCTF keeps at least
// 10, so r is clamped to 0 there, with a warning.)
// MCTF-LABEL: func.func @mctf
// MCTF: %[[N:.*]] = slim.layer_norm %[[X:.*]], %{{.*}} : tensor<1x14x4xf32>
// MCTF-NEXT: %[[Q:.*]] = slim.linear %[[N]]
// MCTF-NEXT: %[[K:.*]] = slim.linear %[[N]]
// MCTF-NEXT: %[[A:.*]] = slim.attention_received %[[Q]], %[[K]] heads(2, 2) : tensor<1x14x4xf32>, tensor<1x14x4xf32>
// MCTF-NEXT: %[[R:.*]] = slim.residual attention layer 0 (%[[X]]) : tensor<1x14x4xf32> {
// MCTF-NEXT: ^bb0(%{{.*}}: tensor<1x14x4xf32>):
// MCTF-NEXT: %[[V:.*]] = slim.linear %[[N]]
// MCTF-NEXT: slim.attention %[[Q]], %[[K]], %[[V]] heads(2, 2)
// MCTF: %{{.*}}, %{{.*}} = slim.token_merge %[[R]], %[[R]], %{{.*}} received(%[[A]] : tensor<1x14xf32>) r = 2 method = mctf : tensor<1x14x4xf32>, tensor<1x14x4xf32>, tensor<1x14xf32>
// MCTF: slim.residual mlp layer 0 (%{{.*}}) : tensor<1x12x4xf32>
// With one_step_ahead=2 the norm and the query and key linears are cloned
// in front of the residual for a look-ahead attention_received on the
// block input, which merges first; the block (its own norm, queries, keys,
// values, and the attention with the new sizes) runs on 12 tokens.
// AHEAD-LABEL: func.func @mctf
// AHEAD: %[[N:.*]] = slim.layer_norm %[[X:.*]], %{{.*}} : tensor<1x14x4xf32>
// AHEAD-NEXT: %[[Q:.*]] = slim.linear %[[N]]
// AHEAD-NEXT: %[[K:.*]] = slim.linear %[[N]]
// AHEAD-NEXT: %[[A:.*]] = slim.attention_received %[[Q]], %[[K]] heads(2, 2)
// AHEAD-NEXT: %[[M:.*]], %[[S:.*]] = slim.token_merge %[[X]], %[[X]], %{{.*}} received(%[[A]] : tensor<1x14xf32>) r = 2 method = mctf
// AHEAD-NEXT: slim.residual attention layer 0 (%[[M]]) : tensor<1x12x4xf32> {
// AHEAD: slim.layer_norm %{{.*}} : tensor<1x12x4xf32>
// AHEAD: slim.attention %{{.*}}, %{{.*}}, %{{.*}} sizes(%[[S]] : tensor<1x12xf32>) heads(2, 2) : tensor<1x12x4xf32>
// AHEAD: slim.residual mlp layer 0 (%{{.*}}) : tensor<1x12x4xf32>
func.func @mctf(%p: tensor<1x13x4xf32>) -> tensor<1x4xf32> {
  %cls = arith.constant dense<[[[1.0, 0.0, 0.0, 0.0]]]> : tensor<1x1x4xf32>
  %g = arith.constant dense<1.0> : tensor<4xf32>
  %w = arith.constant dense<0.5> : tensor<4x4xf32>
  %wk = arith.constant dense<0.25> : tensor<4x4xf32>
  %x0 = slim.concat %cls, %p axis = 1 : tensor<1x1x4xf32>, tensor<1x13x4xf32>
  %x1 = slim.residual attention layer 0 (%x0) : tensor<1x14x4xf32> {
  ^bb0(%a: tensor<1x14x4xf32>):
    %n = slim.layer_norm %a, %g : tensor<1x14x4xf32>, tensor<4xf32>
    %q = slim.linear %n, %w : tensor<1x14x4xf32>, tensor<4x4xf32>
    %k = slim.linear %n, %wk : tensor<1x14x4xf32>, tensor<4x4xf32>
    %v = slim.linear %n, %w : tensor<1x14x4xf32>, tensor<4x4xf32>
    %o = slim.attention %q, %k, %v heads(2, 2) : tensor<1x14x4xf32>, tensor<1x14x4xf32>, tensor<1x14x4xf32>
    %d = slim.linear %o, %w : tensor<1x14x4xf32>, tensor<4x4xf32>
    slim.yield %d : tensor<1x14x4xf32>
  }
  %x2 = slim.residual mlp layer 0 (%x1) : tensor<1x14x4xf32> {
  ^bb0(%a: tensor<1x14x4xf32>):
    %n = slim.layer_norm %a, %g : tensor<1x14x4xf32>, tensor<4xf32>
    %d = slim.linear %n, %w : tensor<1x14x4xf32>, tensor<4x4xf32>
    slim.yield %d : tensor<1x14x4xf32>
  }
  %c = slim.slice %x2 offsets [0, 0, 0] sizes [1, 1, 4] strides [1, 1, 1] : tensor<1x14x4xf32>
  %r = slim.reshape %c : tensor<1x1x4xf32> -> tensor<1x4xf32>
  return %r : tensor<1x4xf32>
}

// -----

// Tests that a per-token graph output (no CLS or mean readout) is refused,
// and with unmerge=1 gets one row per original token: the merge tracks the
// row of each of the 6 original tokens (iota at first), and slim.unmerge
// copies the final norm's 4 merged rows back to the 6 positions.
// UNMERGE-LABEL: func.func @per_token
// UNMERGE: %[[IOTA:.*]] = arith.constant dense<{{\[\[}}0, 1, 2, 3, 4, 5]]> : tensor<1x6xi64>
// UNMERGE: %{{.*}}, %{{.*}}, %[[MAP:.*]] = slim.token_merge %{{.*}}, %{{.*}}, %{{.*}} source(%[[IOTA]] : tensor<1x6xi64>) r = 2 protected = 0 : tensor<1x6x4xf32>, tensor<1x6x4xf32>, tensor<1x6xf32>
// UNMERGE: %[[F:.*]] = slim.layer_norm %{{.*}} : tensor<1x4x4xf32>, tensor<4xf32>
// UNMERGE: %[[U:.*]] = slim.unmerge %[[F]], %[[MAP]] : tensor<1x4x4xf32>, tensor<1x6xi64>
// UNMERGE: return %[[U]] : tensor<1x6x4xf32>
func.func @per_token(%x: tensor<1x6x4xf32>) -> tensor<1x6x4xf32> {
  %g = arith.constant dense<1.0> : tensor<4xf32>
  %w = arith.constant dense<0.5> : tensor<4x4xf32>
  %x1 = slim.residual attention layer 0 (%x) : tensor<1x6x4xf32> {
  ^bb0(%a: tensor<1x6x4xf32>):
    %n = slim.layer_norm %a, %g : tensor<1x6x4xf32>, tensor<4xf32>
    %k = slim.linear %n, %w : tensor<1x6x4xf32>, tensor<4x4xf32>
    %o = slim.attention %k, %k, %k heads(1, 1) : tensor<1x6x4xf32>, tensor<1x6x4xf32>, tensor<1x6x4xf32>
    %d = slim.linear %o, %w : tensor<1x6x4xf32>, tensor<4x4xf32>
    slim.yield %d : tensor<1x6x4xf32>
  }
  %f = slim.layer_norm %x1, %g : tensor<1x6x4xf32>, tensor<4xf32>
  // expected-error @+1 {{token-merge: graph output is per-token; set unmerge_outputs=true}}
  return %f : tensor<1x6x4xf32>
}

// -----

// Tests that an op mixing tokens inside a block is refused.
func.func @mixing(%x: tensor<1x6x4xf32>) -> tensor<1x4xf32> {
  %g = arith.constant dense<1.0> : tensor<4xf32>
  %w = arith.constant dense<0.5> : tensor<4x4xf32>
  %x1 = slim.residual attention layer 0 (%x) : tensor<1x6x4xf32> {
  ^bb0(%a: tensor<1x6x4xf32>):
    %n = slim.layer_norm %a, %g : tensor<1x6x4xf32>, tensor<4xf32>
    %k = slim.linear %n, %w : tensor<1x6x4xf32>, tensor<4x4xf32>
    %o = slim.attention %k, %k, %k heads(1, 1) : tensor<1x6x4xf32>, tensor<1x6x4xf32>, tensor<1x6x4xf32>
    // expected-error @+1 {{token-merge: 'slim.transpose' in block 0 mixes tokens spatially}}
    %t = slim.transpose %o [0, 2, 1] : tensor<1x6x4xf32>
    %r = slim.reshape %t : tensor<1x4x6xf32> -> tensor<1x6x4xf32>
    slim.yield %r : tensor<1x6x4xf32>
  }
  %m = slim.reduce_mean %x1 [1] keepdims = false : tensor<1x6x4xf32>
  return %m : tensor<1x4xf32>
}

// -----

// Tests keys sliced from a fused qkv projection (as timm's ViT exports
// them): the fused linear and the key slice move in front of the residual,
// and the metric averages the sliced keys over the 2 heads of dim 1.
// CHECK-LABEL: func.func @fused_qkv
// CHECK: %[[QKV:.*]] = slim.linear %{{.*}} : tensor<1x6x2xf32>, tensor<6x2xf32>
// CHECK-NEXT: %[[K:.*]] = slim.slice %[[QKV]] offsets [0, 0, 2] sizes [1, 6, 2]
// CHECK-NEXT: slim.residual attention layer 0
// CHECK: %[[KH:.*]] = slim.reshape %[[K]] : tensor<1x6x2xf32> -> tensor<1x6x2x1xf32>
// CHECK-NEXT: %[[M:.*]] = slim.reduce_mean %[[KH]] [2] keepdims = false : tensor<1x6x2x1xf32>
// CHECK-NEXT: slim.token_merge %{{.*}}, %[[M]], %{{.*}} r = 2 protected = 0 : tensor<1x6x2xf32>, tensor<1x6x1xf32>, tensor<1x6xf32>
func.func @fused_qkv(%x: tensor<1x6x2xf32>) -> tensor<1x2xf32> {
  %g = arith.constant dense<1.0> : tensor<2xf32>
  %wqkv = arith.constant dense<[[1.0, 0.0], [0.0, 1.0], [2.0, 4.0], [6.0, 8.0], [0.5, 0.5], [0.25, 0.25]]> : tensor<6x2xf32>
  %w = arith.constant dense<0.5> : tensor<2x2xf32>
  %x1 = slim.residual attention layer 0 (%x) : tensor<1x6x2xf32> {
  ^bb0(%a: tensor<1x6x2xf32>):
    %n = slim.layer_norm %a, %g : tensor<1x6x2xf32>, tensor<2xf32>
    %qkv = slim.linear %n, %wqkv : tensor<1x6x2xf32>, tensor<6x2xf32>
    %q = slim.slice %qkv offsets [0, 0, 0] sizes [1, 6, 2] strides [1, 1, 1] : tensor<1x6x6xf32>
    %k = slim.slice %qkv offsets [0, 0, 2] sizes [1, 6, 2] strides [1, 1, 1] : tensor<1x6x6xf32>
    %v = slim.slice %qkv offsets [0, 0, 4] sizes [1, 6, 2] strides [1, 1, 1] : tensor<1x6x6xf32>
    %o = slim.attention %q, %k, %v heads(2, 2) : tensor<1x6x2xf32>, tensor<1x6x2xf32>, tensor<1x6x2xf32>
    %d = slim.linear %o, %w : tensor<1x6x2xf32>, tensor<2x2xf32>
    slim.yield %d : tensor<1x6x2xf32>
  }
  %m = slim.reduce_mean %x1 [1] keepdims = false : tensor<1x6x2xf32>
  return %m : tensor<1x2xf32>
}
