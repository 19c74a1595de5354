// RUN: slim-opt %s -split-input-file -verify-diagnostics \
// RUN:   -slim-decode-step="tokens=1 name=decode" -slim-decode-step="tokens=3 name=prefill" | FileCheck %s

// Tests the step functions built from a GPT-2-style decoder over a 4-token
// window: @main is unchanged; @decode takes one token, its position and
// the logits row; the [1, 4, 2] position table becomes a [4, 2] table whose
// rows are gathered by position; the fused-qkv slices shrink with the
// tokens; the causal attention reads and writes cache slot 0 (capacity 4);
// the head reads row `logits_row`. @prefill is the same for 3 tokens.
// CHECK-LABEL: func.func @main(%{{.*}}: tensor<1x4xi64> {slim.name = "input_ids"}) -> (tensor<1x4x8xf32> {slim.name = "logits"})
// CHECK: slim.attention %{{.*}} heads(1, 1) causal
// CHECK-LABEL: func.func @decode(
// CHECK-SAME: %[[IDS:.*]]: tensor<1x1xi64> {slim.name = "input_ids"}, %[[POS:.*]]: tensor<1x1xi64> {slim.name = "positions"}, %[[ROW:.*]]: tensor<1x1xi64> {slim.name = "logits_row"}) -> (tensor<1x1x8xf32> {slim.name = "logits"})
// CHECK-SAME: attributes {slim.kv_capacity = 4 : i64}
// CHECK: %[[WTE:.*]] = arith.constant dense<{{.*}}> : tensor<8x2xf32>
// CHECK: %[[TOK:.*]] = slim.embedding %[[WTE]][%[[IDS]]] : tensor<8x2xf32>, tensor<1x1xi64>
// CHECK: %[[TAB:.*]] = arith.constant dense<{{\[\[}}0.00999999977, 2.000000e-02], [3.000000e-02, 4.000000e-02], [5.000000e-02, 6.000000e-02], [7.000000e-02, 8.000000e-02]]> : tensor<4x2xf32>
// CHECK: %[[PE:.*]] = slim.embedding %[[TAB]][%[[POS]]] : tensor<4x2xf32>, tensor<1x1xi64>
// CHECK: %[[X:.*]] = slim.add %[[TOK]], %[[PE]] : tensor<1x1x2xf32>, tensor<1x1x2xf32>
// CHECK: slim.residual attention layer 0 (%[[X]]) : tensor<1x1x2xf32>
// CHECK: %[[Q:.*]] = slim.slice %{{.*}} offsets [0, 0, 0] sizes [1, 1, 2] strides [1, 1, 1] : tensor<1x1x6xf32>
// CHECK: %[[K:.*]] = slim.slice %{{.*}} offsets [0, 0, 2] sizes [1, 1, 2]
// CHECK: %[[V:.*]] = slim.slice %{{.*}} offsets [0, 0, 4] sizes [1, 1, 2]
// CHECK: slim.kv_attention %[[Q]], %[[K]], %[[V]], %[[POS]] heads(1, 1) slot(0) capacity(4) : tensor<1x1x2xf32>, tensor<1x1x2xf32>, tensor<1x1x2xf32>, tensor<1x1xi64>
// CHECK: %[[FLAT:.*]] = slim.reshape %{{.*}} : tensor<1x1x2xf32> -> tensor<1x2xf32>
// CHECK: %[[LAST:.*]] = slim.embedding %[[FLAT]][%[[ROW]]] : tensor<1x2xf32>, tensor<1x1xi64>
// CHECK: %[[Y:.*]] = slim.linear %[[LAST]], %[[WTE]] : tensor<1x1x2xf32>, tensor<8x2xf32>
// CHECK: return %[[Y]] : tensor<1x1x8xf32>
// CHECK-LABEL: func.func @prefill(
// CHECK-SAME: tensor<1x3xi64> {slim.name = "input_ids"}, %{{.*}}: tensor<1x3xi64> {slim.name = "positions"}, %{{.*}}: tensor<1x1xi64> {slim.name = "logits_row"}) -> (tensor<1x1x8xf32> {slim.name = "logits"})
// CHECK: slim.kv_attention {{.*}} slot(0) capacity(4) : tensor<1x3x2xf32>, tensor<1x3x2xf32>, tensor<1x3x2xf32>, tensor<1x3xi64>
// CHECK: slim.reshape %{{.*}} : tensor<1x3x2xf32> -> tensor<3x2xf32>
func.func @main(%ids: tensor<1x4xi64> {slim.name = "input_ids"}) -> (tensor<1x4x8xf32> {slim.name = "logits"}) {
  %wte = arith.constant dense<[[0.1, 0.2], [0.3, 0.4], [0.5, 0.6], [0.7, 0.8], [0.9, 1.0], [1.1, 1.2], [1.3, 1.4], [1.5, 1.6]]> : tensor<8x2xf32>
  %wpe = arith.constant dense<[[[0.01, 0.02], [0.03, 0.04], [0.05, 0.06], [0.07, 0.08]]]> : tensor<1x4x2xf32>
  %wqkv = arith.constant dense<0.5> : tensor<6x2xf32>
  %g = arith.constant dense<1.0> : tensor<2xf32>
  %e = slim.embedding %wte[%ids] : tensor<8x2xf32>, tensor<1x4xi64>
  %x = slim.add %e, %wpe : tensor<1x4x2xf32>, tensor<1x4x2xf32>
  %h = slim.residual attention layer 0 (%x) : tensor<1x4x2xf32> {
  ^bb0(%a: tensor<1x4x2xf32>):
    %n = slim.layer_norm %a, %g : tensor<1x4x2xf32>, tensor<2xf32>
    %qkv = slim.linear %n, %wqkv : tensor<1x4x2xf32>, tensor<6x2xf32>
    %q = slim.slice %qkv offsets [0, 0, 0] sizes [1, 4, 2] strides [1, 1, 1] : tensor<1x4x6xf32>
    %k = slim.slice %qkv offsets [0, 0, 2] sizes [1, 4, 2] strides [1, 1, 1] : tensor<1x4x6xf32>
    %v = slim.slice %qkv offsets [0, 0, 4] sizes [1, 4, 2] strides [1, 1, 1] : tensor<1x4x6xf32>
    %o = slim.attention %q, %k, %v heads(1, 1) causal : tensor<1x4x2xf32>, tensor<1x4x2xf32>, tensor<1x4x2xf32>
    slim.yield %o : tensor<1x4x2xf32>
  }
  %f = slim.layer_norm %h, %g : tensor<1x4x2xf32>, tensor<2xf32>
  %y = slim.linear %f, %wte : tensor<1x4x2xf32>, tensor<8x2xf32>
  return %y : tensor<1x4x8xf32>
}

// -----

// Tests a LLaMA-style decoder: RoPE reads the positions input instead of
// the constant 0 … 3, GQA keeps its 2 kv heads, and two attention layers
// get slots 0 and 1.
// CHECK-LABEL: func.func @decode(
// CHECK-SAME: %{{.*}}: tensor<1x1xi64>, %[[POS:.*]]: tensor<1x1xi64> {slim.name = "positions"}
// CHECK: %[[RQ:.*]] = slim.rope %{{.*}}, %[[POS]] {num_heads = 4 : i64} : tensor<1x1x8xf32>, tensor<1x1xi64>
// CHECK: %[[RK:.*]] = slim.rope %{{.*}}, %[[POS]] {num_heads = 2 : i64} : tensor<1x1x4xf32>, tensor<1x1xi64>
// CHECK: slim.kv_attention %[[RQ]], %[[RK]], %{{.*}}, %[[POS]] heads(4, 2) slot(0) capacity(4) : tensor<1x1x8xf32>, tensor<1x1x4xf32>, tensor<1x1x4xf32>, tensor<1x1xi64>
// CHECK: slim.kv_attention {{.*}} heads(4, 2) slot(1) capacity(4)
// CHECK-NOT: slim.attention
// CHECK-LABEL: func.func @prefill(
func.func @main(%ids: tensor<1x4xi64>) -> tensor<1x4x16xf32> {
  %emb = arith.constant dense<0.25> : tensor<16x8xf32>
  %pos = arith.constant dense<[0, 1, 2, 3]> : tensor<4xi64>
  %wq = arith.constant dense<0.5> : tensor<8x8xf32>
  %wk = arith.constant dense<0.5> : tensor<4x8xf32>
  %g = arith.constant dense<1.0> : tensor<8xf32>
  %x = slim.embedding %emb[%ids] : tensor<16x8xf32>, tensor<1x4xi64>
  %h0 = slim.residual attention layer 0 (%x) : tensor<1x4x8xf32> {
  ^bb0(%a: tensor<1x4x8xf32>):
    %n = slim.rms_norm %a, %g : tensor<1x4x8xf32>, tensor<8xf32>
    %q = slim.linear %n, %wq : tensor<1x4x8xf32>, tensor<8x8xf32>
    %k = slim.linear %n, %wk : tensor<1x4x8xf32>, tensor<4x8xf32>
    %v = slim.linear %n, %wk : tensor<1x4x8xf32>, tensor<4x8xf32>
    %rq = slim.rope %q, %pos {num_heads = 4 : i64} : tensor<1x4x8xf32>, tensor<4xi64>
    %rk = slim.rope %k, %pos {num_heads = 2 : i64} : tensor<1x4x4xf32>, tensor<4xi64>
    %o = slim.attention %rq, %rk, %v heads(4, 2) causal : tensor<1x4x8xf32>, tensor<1x4x4xf32>, tensor<1x4x4xf32>
    slim.yield %o : tensor<1x4x8xf32>
  }
  %h1 = slim.residual attention layer 1 (%h0) : tensor<1x4x8xf32> {
  ^bb0(%a: tensor<1x4x8xf32>):
    %n = slim.rms_norm %a, %g : tensor<1x4x8xf32>, tensor<8xf32>
    %q = slim.linear %n, %wq : tensor<1x4x8xf32>, tensor<8x8xf32>
    %k = slim.linear %n, %wk : tensor<1x4x8xf32>, tensor<4x8xf32>
    %o = slim.attention %q, %k, %k heads(4, 2) causal : tensor<1x4x8xf32>, tensor<1x4x4xf32>, tensor<1x4x4xf32>
    slim.yield %o : tensor<1x4x8xf32>
  }
  %y = slim.linear %h1, %emb : tensor<1x4x8xf32>, tensor<16x8xf32>
  return %y : tensor<1x4x16xf32>
}

// -----

// Tests that an encoder (bidirectional attention) is refused: it has
// nothing to cache.
func.func @main(%ids: tensor<1x4xi64>) -> tensor<1x4x16xf32> {
  %emb = arith.constant dense<0.25> : tensor<16x8xf32>
  %x = slim.embedding %emb[%ids] : tensor<16x8xf32>, tensor<1x4xi64>
  // expected-error @+1 {{decode-step: 'slim.attention' is not a causal self-attention over the whole window; only decoders get a KV cache}}
  %o = slim.attention %x, %x, %x heads(2, 2) : tensor<1x4x8xf32>, tensor<1x4x8xf32>, tensor<1x4x8xf32>
  %y = slim.linear %o, %emb : tensor<1x4x8xf32>, tensor<16x8xf32>
  return %y : tensor<1x4x16xf32>
}

// -----

// Tests that RoPE at positions other than 0 … N−1 is refused: a step
// cannot move them with the cache.
func.func @main(%ids: tensor<1x4xi64>) -> tensor<1x4x16xf32> {
  %emb = arith.constant dense<0.25> : tensor<16x8xf32>
  %pos = arith.constant dense<[1, 2, 3, 4]> : tensor<4xi64>
  %x = slim.embedding %emb[%ids] : tensor<16x8xf32>, tensor<1x4xi64>
  // expected-error @+1 {{decode-step: 'slim.rope' rotates by positions that are not 0 … 3; a step cannot move them}}
  %r = slim.rope %x, %pos {num_heads = 2 : i64} : tensor<1x4x8xf32>, tensor<4xi64>
  %o = slim.attention %r, %r, %x heads(2, 2) causal : tensor<1x4x8xf32>, tensor<1x4x8xf32>, tensor<1x4x8xf32>
  %y = slim.linear %o, %emb : tensor<1x4x8xf32>, tensor<16x8xf32>
  return %y : tensor<1x4x16xf32>
}

// -----

// Tests that a slice dropping tokens before the head is refused: it
// depends on the window.
func.func @main(%ids: tensor<1x4xi64>) -> tensor<1x3x16xf32> {
  %emb = arith.constant dense<0.25> : tensor<16x8xf32>
  %x = slim.embedding %emb[%ids] : tensor<16x8xf32>, tensor<1x4xi64>
  %o = slim.attention %x, %x, %x heads(2, 2) causal : tensor<1x4x8xf32>, tensor<1x4x8xf32>, tensor<1x4x8xf32>
  %s = slim.slice %o offsets [0, 1, 0] sizes [1, 3, 8] strides [1, 1, 1] : tensor<1x4x8xf32>
  %y = slim.linear %s, %emb : tensor<1x3x8xf32>, tensor<16x8xf32>
  // expected-error @+1 {{decode-step: the output of @main must be logits [1, 4, vocab] from a linear head (not restricted to the last position)}}
  return %y : tensor<1x3x16xf32>
}

// -----

// Tests that a step longer than the window is refused.
// expected-error @+1 {{decode-step: tokens=3 must be between 1 and the window of @main (2)}}
func.func @main(%ids: tensor<1x2xi64>) -> tensor<1x2x16xf32> {
  %emb = arith.constant dense<0.25> : tensor<16x8xf32>
  %x = slim.embedding %emb[%ids] : tensor<16x8xf32>, tensor<1x2xi64>
  %o = slim.attention %x, %x, %x heads(2, 2) causal : tensor<1x2x8xf32>, tensor<1x2x8xf32>, tensor<1x2x8xf32>
  %y = slim.linear %o, %emb : tensor<1x2x8xf32>, tensor<16x8xf32>
  return %y : tensor<1x2x16xf32>
}

// -----

// Tests that an input other than token ids and RoPE's positions (here an
// attention mask) is refused.
// expected-error @+1 {{decode-step: @main has 2 inputs and RoPE does not read the second; a decoder step takes token ids, and position ids only when RoPE alone reads them}}
func.func @main(%ids: tensor<1x4xi64>, %mask: tensor<1x4xi64>) -> tensor<1x4x16xf32> {
  %emb = arith.constant dense<0.25> : tensor<16x8xf32>
  %x = slim.embedding %emb[%ids] : tensor<16x8xf32>, tensor<1x4xi64>
  %o = slim.attention %x, %x, %x heads(2, 2) causal : tensor<1x4x8xf32>, tensor<1x4x8xf32>, tensor<1x4x8xf32>
  %y = slim.linear %o, %emb : tensor<1x4x8xf32>, tensor<16x8xf32>
  return %y : tensor<1x4x16xf32>
}
