// RUN: slim-opt %s -slim-raise -split-input-file -verify-diagnostics | FileCheck %s

// Tests that matmul by a known [in, out] weight plus a known bias becomes a
// linear with the weight transposed to [out, in].
// CHECK-LABEL: func.func @linear
// CHECK-DAG: %[[W:.*]] = arith.constant dense_resource<linear0.weight> : tensor<2x2xf32>
// CHECK-DAG: %[[B:.*]] = arith.constant dense<[5.000000e-01, -5.000000e-01]> : tensor<2xf32>
// CHECK: %[[Y:.*]] = slim.linear %arg0, %[[W]], %[[B]] : tensor<3x2xf32>, tensor<2x2xf32>, tensor<2xf32>
// CHECK-NEXT: return %[[Y]]
// The blob holds [[1, 3], [2, 4]]: the transpose of [[1, 2], [3, 4]].
// CHECK: linear0.weight: "0x040000000000803F00004040000000400000804
func.func @linear(%x: tensor<3x2xf32>) -> tensor<3x2xf32> {
  %w = arith.constant dense<[[1.0, 2.0], [3.0, 4.0]]> : tensor<2x2xf32>
  %b = arith.constant dense<[0.5, -0.5]> : tensor<2xf32>
  %m = slim.matmul %x, %w : tensor<3x2xf32>, tensor<2x2xf32>
  %y = slim.add %b, %m : tensor<2xf32>, tensor<3x2xf32>
  return %y : tensor<3x2xf32>
}

// -----

// Tests that the decomposed LayerNorm becomes slim.layer_norm with its gain,
// bias and epsilon.
// CHECK-LABEL: func.func @layer_norm
// CHECK-DAG: %[[G:.*]] = arith.constant dense<3.000000e+00> : tensor<8xf32>
// CHECK-DAG: %[[B:.*]] = arith.constant dense<-1.000000e+00> : tensor<8xf32>
// CHECK: %[[N:.*]] = slim.layer_norm %arg0, %[[G]], %[[B]] {epsilon = 9.99999997E-7 : f32} : tensor<2x8xf32>, tensor<8xf32>, tensor<8xf32>
// CHECK-NEXT: return %[[N]]
func.func @layer_norm(%x: tensor<2x8xf32>) -> tensor<2x8xf32> {
  %g = arith.constant dense<3.0> : tensor<8xf32>
  %b = arith.constant dense<-1.0> : tensor<8xf32>
  %two = arith.constant dense<2.0> : tensor<f32>
  %eps = arith.constant dense<1.0e-6> : tensor<f32>
  %m = slim.reduce_mean %x [-1] : tensor<2x8xf32>
  %d = slim.sub %x, %m : tensor<2x8xf32>, tensor<2x1xf32>
  %sq = slim.pow %d, %two : tensor<2x8xf32>, tensor<f32>
  %v = slim.reduce_mean %sq [-1] : tensor<2x8xf32>
  %ve = slim.add %v, %eps : tensor<2x1xf32>, tensor<f32>
  %s = slim.sqrt %ve : tensor<2x1xf32>
  %n = slim.div %d, %s : tensor<2x8xf32>, tensor<2x1xf32>
  %ng = slim.mul %n, %g : tensor<2x8xf32>, tensor<8xf32>
  %y = slim.add %ng, %b : tensor<2x8xf32>, tensor<8xf32>
  return %y : tensor<2x8xf32>
}

// -----

// Tests that x · 1/sqrt(mean(x²) + eps) · w becomes slim.rms_norm, and that
// a gain that is not a weight vector is left alone by the norm (only the
// normalization is raised, with a unit gain).
// CHECK-LABEL: func.func @rms_norm
// CHECK: %[[N:.*]] = slim.rms_norm %arg0, %[[G:.*]] {epsilon = 9.99999997E-7 : f32} : tensor<2x8xf32>, tensor<8xf32>
// CHECK-NEXT: return %[[N]]
func.func @rms_norm(%x: tensor<2x8xf32>) -> tensor<2x8xf32> {
  %w = arith.constant dense<[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]> : tensor<8xf32>
  %two = arith.constant dense<2.0> : tensor<f32>
  %one = arith.constant dense<1.0> : tensor<f32>
  %eps = arith.constant dense<1.0e-6> : tensor<f32>
  %sq = slim.pow %x, %two : tensor<2x8xf32>, tensor<f32>
  %v = slim.reduce_mean %sq [-1] : tensor<2x8xf32>
  %ve = slim.add %v, %eps : tensor<2x1xf32>, tensor<f32>
  %s = slim.sqrt %ve : tensor<2x1xf32>
  %r = slim.div %one, %s : tensor<f32>, tensor<2x1xf32>
  %n = slim.mul %x, %r : tensor<2x8xf32>, tensor<2x1xf32>
  %y = slim.mul %w, %n : tensor<8xf32>, tensor<2x8xf32>
  return %y : tensor<2x8xf32>
}

// -----

// Tests the two GELU forms and SiLU.
// CHECK-LABEL: func.func @activations
// CHECK: %[[E:.*]] = slim.gelu exact %arg0 : tensor<4xf32>
// CHECK: %[[T:.*]] = slim.gelu tanh %arg0 : tensor<4xf32>
// CHECK: %[[S:.*]] = slim.silu %arg0 : tensor<4xf32>
// CHECK: return %[[E]], %[[T]], %[[S]]
func.func @activations(%x: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) {
  %half = arith.constant dense<0.5> : tensor<f32>
  %one = arith.constant dense<1.0> : tensor<f32>
  %sqrt2 = arith.constant dense<1.41421354> : tensor<f32>
  %k = arith.constant dense<0.797884583> : tensor<f32>
  %c = arith.constant dense<0.044715> : tensor<f32>
  // exact: x · 0.5 · (1 + erf(x / √2))
  %a = slim.div %x, %sqrt2 : tensor<4xf32>, tensor<f32>
  %b = slim.erf %a : tensor<4xf32>
  %bb = slim.add %b, %one : tensor<4xf32>, tensor<f32>
  %e1 = slim.mul %x, %bb : tensor<4xf32>, tensor<4xf32>
  %e = slim.mul %e1, %half : tensor<4xf32>, tensor<f32>
  // tanh: 0.5 · x · (1 + tanh(k · (x + c · x³)))
  %x2 = slim.mul %x, %x : tensor<4xf32>, tensor<4xf32>
  %x3 = slim.mul %x, %x2 : tensor<4xf32>, tensor<4xf32>
  %cx3 = slim.mul %c, %x3 : tensor<f32>, tensor<4xf32>
  %in = slim.add %x, %cx3 : tensor<4xf32>, tensor<4xf32>
  %kin = slim.mul %k, %in : tensor<f32>, tensor<4xf32>
  %th = slim.tanh %kin : tensor<4xf32>
  %th1 = slim.add %one, %th : tensor<f32>, tensor<4xf32>
  %t1 = slim.mul %x, %th1 : tensor<4xf32>, tensor<4xf32>
  %t = slim.mul %half, %t1 : tensor<f32>, tensor<4xf32>
  // silu
  %sg = slim.sigmoid %x : tensor<4xf32>
  %s = slim.mul %x, %sg : tensor<4xf32>, tensor<4xf32>
  return %e, %t, %s : tensor<4xf32>, tensor<4xf32>, tensor<4xf32>
}

// -----

// Tests that 2-head attention on [1, 4, 8] projections (scale 1/sqrt(4))
// becomes slim.attention, and that x + linear(attention(layer_norm(x)))
// becomes an attention residual of layer 0 (the branch may read other
// function arguments, here the norm's gain).
// CHECK-LABEL: func.func @attention
// CHECK: %[[R:.*]] = slim.residual attention layer 0 (%arg0) : tensor<1x4x8xf32> {
// CHECK-NEXT: ^bb0(%[[A:.*]]: tensor<1x4x8xf32>):
// CHECK-NEXT: %[[N:.*]] = slim.layer_norm %[[A]]
// CHECK-NEXT: %[[O:.*]] = slim.attention %[[N]], %[[N]], %[[N]] heads(2, 2) : tensor<1x4x8xf32>, tensor<1x4x8xf32>, tensor<1x4x8xf32>
// CHECK-NEXT: %[[P:.*]] = slim.linear %[[O]]
// CHECK-NEXT: slim.yield %[[P]]
// CHECK: return %[[R]]
func.func @attention(%x: tensor<1x4x8xf32>, %g: tensor<8xf32>) -> tensor<1x4x8xf32> {
  %w = arith.constant dense<0.5> : tensor<8x8xf32>
  %c2 = arith.constant dense<2.0> : tensor<f32>
  %n = slim.layer_norm %x, %g : tensor<1x4x8xf32>, tensor<8xf32>
  %r = slim.reshape %n : tensor<1x4x8xf32> -> tensor<1x4x2x4xf32>
  %h = slim.transpose %r [0, 2, 1, 3] : tensor<1x4x2x4xf32>
  %kt = slim.transpose %r [0, 2, 3, 1] : tensor<1x4x2x4xf32>
  %s = slim.matmul %h, %kt : tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>
  %sd = slim.div %s, %c2 : tensor<1x2x4x4xf32>, tensor<f32>
  %p = slim.softmax %sd : tensor<1x2x4x4xf32>
  %o = slim.matmul %p, %h : tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>
  %ot = slim.transpose %o [0, 2, 1, 3] : tensor<1x2x4x4xf32>
  %om = slim.reshape %ot : tensor<1x4x2x4xf32> -> tensor<1x4x8xf32>
  %proj = slim.linear %om, %w : tensor<1x4x8xf32>, tensor<8x8xf32>
  %y = slim.add %x, %proj : tensor<1x4x8xf32>, tensor<1x4x8xf32>
  return %y : tensor<1x4x8xf32>
}

// -----

// Tests that a constant padding mask (one value per key, the same for every
// head and query) becomes the attention's key bias.
// CHECK-LABEL: func.func @padding_mask
// CHECK: %[[KB:.*]] = arith.constant dense<{{\[\[}}0.000000e+00, 0.000000e+00, 0.000000e+00, -3.40282347E+38]]> : tensor<1x4xf32>
// CHECK: slim.attention %{{.*}}, %{{.*}}, %{{.*}} key_bias(%[[KB]] : tensor<1x4xf32>) heads(2, 2) :
// CHECK-NOT: slim.softmax
func.func @padding_mask(%x: tensor<1x4x8xf32>) -> tensor<1x4x8xf32> {
  %c2 = arith.constant dense<2.0> : tensor<f32>
  %mask = arith.constant dense<[0.0, 0.0, 0.0, -3.40282347E+38]> : tensor<4xf32>
  %r = slim.reshape %x : tensor<1x4x8xf32> -> tensor<1x4x2x4xf32>
  %h = slim.transpose %r [0, 2, 1, 3] : tensor<1x4x2x4xf32>
  %kt = slim.transpose %r [0, 2, 3, 1] : tensor<1x4x2x4xf32>
  %s = slim.matmul %h, %kt : tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>
  %sd = slim.div %s, %c2 : tensor<1x2x4x4xf32>, tensor<f32>
  %sm = slim.add %sd, %mask : tensor<1x2x4x4xf32>, tensor<4xf32>
  %p = slim.softmax %sm : tensor<1x2x4x4xf32>
  %o = slim.matmul %p, %h : tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>
  %ot = slim.transpose %o [0, 2, 1, 3] : tensor<1x2x4x4xf32>
  %om = slim.reshape %ot : tensor<1x4x2x4xf32> -> tensor<1x4x8xf32>
  return %om : tensor<1x4x8xf32>
}

// -----

// Tests that a constant mask that differs between queries and is not
// causal becomes the attention's [G, H, T, S] bias (G = 1: one batch row).
// CHECK-LABEL: func.func @per_query_mask
// CHECK: %[[B:.*]] = arith.constant dense<{{.*}}> : tensor<1x2x4x4xf32>
// CHECK: slim.attention %{{.*}}, %{{.*}}, %{{.*}} bias(%[[B]] : tensor<1x2x4x4xf32>) heads(2, 2) :
// CHECK-NOT: slim.softmax
func.func @per_query_mask(%x: tensor<1x4x8xf32>) -> tensor<1x4x8xf32> {
  %c2 = arith.constant dense<2.0> : tensor<f32>
  %mask = arith.constant dense<[[0.0], [0.0], [0.0], [-3.40282347E+38]]> : tensor<4x1xf32>
  %r = slim.reshape %x : tensor<1x4x8xf32> -> tensor<1x4x2x4xf32>
  %h = slim.transpose %r [0, 2, 1, 3] : tensor<1x4x2x4xf32>
  %kt = slim.transpose %r [0, 2, 3, 1] : tensor<1x4x2x4xf32>
  %s = slim.matmul %h, %kt : tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>
  %sd = slim.div %s, %c2 : tensor<1x2x4x4xf32>, tensor<f32>
  %sm = slim.add %sd, %mask : tensor<1x2x4x4xf32>, tensor<4x1xf32>
  %p = slim.softmax %sm : tensor<1x2x4x4xf32>
  %o = slim.matmul %p, %h : tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>
  %ot = slim.transpose %o [0, 2, 1, 3] : tensor<1x2x4x4xf32>
  %om = slim.reshape %ot : tensor<1x4x2x4xf32> -> tensor<1x4x8xf32>
  return %om : tensor<1x4x8xf32>
}

// -----

// Tests Swin's window attention: 4 windows as the batch, a relative-position
// bias [1, H, T, S] on the scores, then a shift mask added while the scores
// are viewed per window ([B/2, 2, H, T, S] + [1, 2, 1, T, S]): one bias of
// period 2 over the batch, [2, 2, 4, 4], whose window 1 holds the -100s.
// CHECK-LABEL: func.func @window_bias
// CHECK: %[[B:.*]] = arith.constant dense<{{.*}}-1.000000e+02{{.*}}> : tensor<2x2x4x4xf32>
// CHECK: slim.attention %{{.*}}, %{{.*}}, %{{.*}} bias(%[[B]] : tensor<2x2x4x4xf32>) heads(2, 2) :
// CHECK-NOT: slim.softmax
func.func @window_bias(%x: tensor<4x4x8xf32>) -> tensor<4x4x8xf32> {
  %c2 = arith.constant dense<2.0> : tensor<f32>
  %rel = arith.constant dense<[[[[0.5, 0.25, 0.0, -0.25]], [[0.1, 0.2, 0.3, 0.4]]]]> : tensor<1x2x1x4xf32>
  %shift = arith.constant dense<[[[[0.0, 0.0, 0.0, 0.0]]], [[[0.0, 0.0, -100.0, -100.0]]]]> : tensor<2x1x1x4xf32>
  %r = slim.reshape %x : tensor<4x4x8xf32> -> tensor<4x4x2x4xf32>
  %h = slim.transpose %r [0, 2, 1, 3] : tensor<4x4x2x4xf32>
  %kt = slim.transpose %r [0, 2, 3, 1] : tensor<4x4x2x4xf32>
  %s = slim.matmul %h, %kt : tensor<4x2x4x4xf32>, tensor<4x2x4x4xf32>
  %sd = slim.div %s, %c2 : tensor<4x2x4x4xf32>, tensor<f32>
  %sr = slim.add %sd, %rel : tensor<4x2x4x4xf32>, tensor<1x2x1x4xf32>
  %v5 = slim.reshape %sr : tensor<4x2x4x4xf32> -> tensor<2x2x2x4x4xf32>
  %sm5 = slim.add %v5, %shift : tensor<2x2x2x4x4xf32>, tensor<2x1x1x4xf32>
  %sm = slim.reshape %sm5 : tensor<2x2x2x4x4xf32> -> tensor<4x2x4x4xf32>
  %p = slim.softmax %sm : tensor<4x2x4x4xf32>
  %o = slim.matmul %p, %h : tensor<4x2x4x4xf32>, tensor<4x2x4x4xf32>
  %ot = slim.transpose %o [0, 2, 1, 3] : tensor<4x2x4x4xf32>
  %om = slim.reshape %ot : tensor<4x4x2x4xf32> -> tensor<4x4x8xf32>
  return %om : tensor<4x4x8xf32>
}

// -----

// Tests that a mask computed at run time that differs between queries is
// left as it was, with a remark saying why.
// CHECK-LABEL: func.func @runtime_per_query_mask
// CHECK: slim.softmax
// CHECK-NOT: slim.attention
func.func @runtime_per_query_mask(%x: tensor<1x4x8xf32>, %mask: tensor<4x1xf32>) -> tensor<1x4x8xf32> {
  %c2 = arith.constant dense<2.0> : tensor<f32>
  %r = slim.reshape %x : tensor<1x4x8xf32> -> tensor<1x4x2x4xf32>
  %h = slim.transpose %r [0, 2, 1, 3] : tensor<1x4x2x4xf32>
  %kt = slim.transpose %r [0, 2, 3, 1] : tensor<1x4x2x4xf32>
  %s = slim.matmul %h, %kt : tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>
  %sd = slim.div %s, %c2 : tensor<1x2x4x4xf32>, tensor<f32>
  %sm = slim.add %sd, %mask : tensor<1x2x4x4xf32>, tensor<4x1xf32>
  // expected-remark @+1 {{slim-raise: softmax not raised into slim.attention: a mask computed at run time that is not the same for every head and query (run-time masks are raised as per-key [B, S] padding terms; constant ones of any shape as a bias)}}
  %p = slim.softmax %sm : tensor<1x2x4x4xf32>
  %o = slim.matmul %p, %h : tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>
  %ot = slim.transpose %o [0, 2, 1, 3] : tensor<1x2x4x4xf32>
  %om = slim.reshape %ot : tensor<1x4x2x4xf32> -> tensor<1x4x8xf32>
  return %om : tensor<1x4x8xf32>
}

// -----

// Tests PyTorch's nn.MultiheadAttention layout: sequence-first rows
// [T, B, 3E] from one fused in-projection, heads folded into the batch
// ([B·H, T, d] scores), the scale applied to q, and a run-time boolean
// key-padding mask expanded over the heads: it becomes one transpose of
// the projection, slices, and a [B, S] key bias computed from the input.
// CHECK-LABEL: func.func @mha_seq_first
// CHECK: %[[KB:.*]] = slim.where %arg1, %{{.*}}, %{{.*}} : tensor<2x4xi1>, tensor<f32>, tensor<f32>
// CHECK: %[[BF:.*]] = slim.transpose %[[QKV:.*]] [1, 0, 2] : tensor<4x2x24xf32>
// CHECK-DAG: %[[Q:.*]] = slim.slice %[[BF]] offsets [0, 0, 0] sizes [2, 4, 8]
// CHECK-DAG: %[[K:.*]] = slim.slice %[[BF]] offsets [0, 0, 8] sizes [2, 4, 8]
// CHECK-DAG: %[[V:.*]] = slim.slice %[[BF]] offsets [0, 0, 16] sizes [2, 4, 8]
// CHECK: %[[A:.*]] = slim.attention %[[Q]], %[[K]], %[[V]] key_bias(%[[KB]] : tensor<2x4xf32>) heads(2, 2) :
// CHECK: slim.transpose %[[A]] [1, 0, 2] : tensor<2x4x8xf32>
// CHECK-NOT: slim.softmax
func.func @mha_seq_first(%qkv: tensor<4x2x24xf32>, %pad: tensor<2x4xi1>) -> tensor<8x8xf32> {
  %scale = arith.constant dense<2.0> : tensor<f32>
  %ninf = arith.constant dense<0xFF800000> : tensor<f32>
  %zero = arith.constant dense<0.0> : tensor<4x1x4xf32>
  %q0 = slim.slice %qkv offsets [0, 0, 0] sizes [4, 2, 8] strides [1, 1, 1] : tensor<4x2x24xf32>
  %k0 = slim.slice %qkv offsets [0, 0, 8] sizes [4, 2, 8] strides [1, 1, 1] : tensor<4x2x24xf32>
  %v0 = slim.slice %qkv offsets [0, 0, 16] sizes [4, 2, 8] strides [1, 1, 1] : tensor<4x2x24xf32>
  %q1 = slim.reshape %q0 : tensor<4x2x8xf32> -> tensor<4x4x4xf32>
  %q = slim.transpose %q1 [1, 0, 2] : tensor<4x4x4xf32>
  %k1 = slim.reshape %k0 : tensor<4x2x8xf32> -> tensor<4x4x4xf32>
  %v1 = slim.reshape %v0 : tensor<4x2x8xf32> -> tensor<4x4x4xf32>
  %v = slim.transpose %v1 [1, 0, 2] : tensor<4x4x4xf32>
  %m1 = slim.reshape %pad : tensor<2x4xi1> -> tensor<2x1x1x4xi1>
  %m2 = slim.broadcast %m1 : tensor<2x1x1x4xi1> -> tensor<2x2x1x4xi1>
  %m3 = slim.reshape %m2 : tensor<2x2x1x4xi1> -> tensor<4x1x4xi1>
  %mask = slim.where %m3, %ninf, %zero : tensor<4x1x4xi1>, tensor<f32>, tensor<4x1x4xf32>
  %qs = slim.div %q, %scale : tensor<4x4x4xf32>, tensor<f32>
  %kt = slim.transpose %k1 [1, 2, 0] : tensor<4x4x4xf32>
  %s = slim.matmul %qs, %kt : tensor<4x4x4xf32>, tensor<4x4x4xf32>
  %sm = slim.add %s, %mask : tensor<4x4x4xf32>, tensor<4x1x4xf32>
  %p = slim.softmax %sm : tensor<4x4x4xf32>
  %o = slim.matmul %p, %v : tensor<4x4x4xf32>, tensor<4x4x4xf32>
  %ot = slim.transpose %o [1, 0, 2] : tensor<4x4x4xf32>
  %om = slim.reshape %ot : tensor<4x4x4xf32> -> tensor<8x8xf32>
  return %om : tensor<8x8xf32>
}

// -----

// Tests that a norm over another axis than the last (ONNX Runtime computes
// ViT's first LayerNorm in the [B, C, T] layout) is raised as a norm over
// the last axis between two transposes, its [C, 1] gain and bias reshaped.
// CHECK-LABEL: func.func @norm_on_axis_0
// CHECK: %[[T:.*]] = slim.transpose %arg0 [1, 0] : tensor<8x2xf32>
// CHECK: %[[N:.*]] = slim.layer_norm %[[T]], %{{.*}}, %{{.*}} {epsilon = 9.99999997E-7 : f32} : tensor<2x8xf32>, tensor<8xf32>, tensor<8xf32>
// CHECK: %[[B:.*]] = slim.transpose %[[N]] [1, 0] : tensor<2x8xf32>
// CHECK: return %[[B]]
func.func @norm_on_axis_0(%x: tensor<8x2xf32>) -> tensor<8x2xf32> {
  %two = arith.constant dense<2.0> : tensor<f32>
  %eps = arith.constant dense<1.0e-6> : tensor<f32>
  %g = arith.constant dense<[[1.0], [2.0], [3.0], [4.0], [5.0], [6.0], [7.0], [8.0]]> : tensor<8x1xf32>
  %b = arith.constant dense<0.5> : tensor<8x1xf32>
  %m = slim.reduce_mean %x [0] : tensor<8x2xf32>
  %d = slim.sub %x, %m : tensor<8x2xf32>, tensor<1x2xf32>
  %sq = slim.pow %d, %two : tensor<8x2xf32>, tensor<f32>
  %v = slim.reduce_mean %sq [0] : tensor<8x2xf32>
  %ve = slim.add %v, %eps : tensor<1x2xf32>, tensor<f32>
  %s = slim.sqrt %ve : tensor<1x2xf32>
  %n = slim.div %d, %s : tensor<8x2xf32>, tensor<1x2xf32>
  %ng = slim.mul %n, %g : tensor<8x2xf32>, tensor<8x1xf32>
  %nb = slim.add %ng, %b : tensor<8x2xf32>, tensor<8x1xf32>
  return %nb : tensor<8x2xf32>
}

// -----

// Tests that a norm-like pattern reducing over two axes is not raised and
// is reported.
// CHECK-LABEL: func.func @not_a_norm
// CHECK-NOT: slim.rms_norm
func.func @not_a_norm(%x: tensor<2x8xf32>) -> tensor<2x8xf32> {
  %two = arith.constant dense<2.0> : tensor<f32>
  %eps = arith.constant dense<1.0e-6> : tensor<f32>
  %sq = slim.pow %x, %two : tensor<2x8xf32>, tensor<f32>
  // expected-remark @+1 {{slim-raise: reduce_mean left unraised (not part of a recognized layer_norm or rms_norm pattern: the epsilon is not added to a mean over one axis (keepdims))}}
  %v = slim.reduce_mean %sq [0, 1] : tensor<2x8xf32>
  %ve = slim.add %v, %eps : tensor<1x1xf32>, tensor<f32>
  %s = slim.sqrt %ve : tensor<1x1xf32>
  %n = slim.div %x, %s : tensor<2x8xf32>, tensor<1x1xf32>
  return %n : tensor<2x8xf32>
}

// -----

// Tests that an RMSNorm of x - mean(x) becomes x's LayerNorm, also when the
// mean was taken in another layout and a transpose brings its axis last (as
// ONNX Runtime's optimizer leaves it), with the bias added after it.
// CHECK-LABEL: func.func @centred_rms_norm
// CHECK: %[[T:.*]] = slim.transpose %arg0 [0, 2, 1] : tensor<1x4x3xf32>
// CHECK: slim.layer_norm %[[T]], %arg1, %{{.*}} {epsilon = 9.99999997E-7 : f32} : tensor<1x3x4xf32>, tensor<4xf32>, tensor<4xf32>
// CHECK-NOT: slim.rms_norm
// CHECK-NOT: slim.add
func.func @centred_rms_norm(%x: tensor<1x4x3xf32>, %g: tensor<4xf32>) -> tensor<1x3x4xf32> {
  %b = arith.constant dense<[0.5, 0.25, 0.0, -0.5]> : tensor<4xf32>
  %m = slim.reduce_mean %x [1] : tensor<1x4x3xf32>
  %c = slim.sub %x, %m : tensor<1x4x3xf32>, tensor<1x1x3xf32>
  %t = slim.transpose %c [0, 2, 1] : tensor<1x4x3xf32>
  %n = slim.rms_norm %t, %g {epsilon = 1.0e-6 : f32} : tensor<1x3x4xf32>, tensor<4xf32>
  %y = slim.add %n, %b : tensor<1x3x4xf32>, tensor<4xf32>
  return %y : tensor<1x3x4xf32>
}

// -----

// Tests that a zero pad over H and W joins the padding of the im2col or
// conv2d that reads it, and that a pad by another value does not.
// CHECK-LABEL: func.func @zero_pad_into_window
// CHECK: slim.im2col %arg0 {dilations = array<i64: 1, 1>, kernel = array<i64: 3, 3>, pads = array<i64: 2, 1, 1, 1>, strides = array<i64: 1, 1>} : tensor<1x2x4x4xf32> -> tensor<1x20x18xf32>
// CHECK: slim.conv2d %arg0, %arg1 {dilations = array<i64: 1, 1>, groups = 2 : i64, pads = array<i64: 1, 0, 0, 0>, strides = array<i64: 1, 1>}
// CHECK: %[[ONES:.*]] = slim.pad constant %arg0 [0, 0, 1, 1, 0, 0, 1, 1] value = 1.000000e+00
// CHECK: slim.im2col %[[ONES]]
func.func @zero_pad_into_window(%x: tensor<1x2x4x4xf32>, %w: tensor<2x1x1x1xf32>) -> (tensor<1x20x18xf32>, tensor<1x2x5x4xf32>, tensor<1x16x18xf32>) {
  %p = slim.pad constant %x [0, 0, 1, 0, 0, 0, 0, 0] : tensor<1x2x4x4xf32>
  %c = slim.im2col %p {dilations = array<i64: 1, 1>, kernel = array<i64: 3, 3>, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>} : tensor<1x2x5x4xf32> -> tensor<1x20x18xf32>
  %d = slim.conv2d %p, %w {dilations = array<i64: 1, 1>, groups = 2 : i64, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : tensor<1x2x5x4xf32>, tensor<2x1x1x1xf32> -> tensor<1x2x5x4xf32>
  %q = slim.pad constant %x [0, 0, 1, 1, 0, 0, 1, 1] value = 1.0 : tensor<1x2x4x4xf32>
  %e = slim.im2col %q {dilations = array<i64: 1, 1>, kernel = array<i64: 3, 3>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : tensor<1x2x6x6xf32> -> tensor<1x16x18xf32>
  return %c, %d, %e : tensor<1x20x18xf32>, tensor<1x2x5x4xf32>, tensor<1x16x18xf32>
}
