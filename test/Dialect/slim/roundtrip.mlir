// RUN: slim-opt %s | FileCheck %s
// RUN: slim-opt %s | slim-opt | FileCheck %s
// RUN: slim-opt %s --mlir-print-op-generic | slim-opt | FileCheck %s

// Tests that every slim op parses, verifies and prints back in its custom
// form, and that the printed form parses again to the same thing.

// CHECK-LABEL: func.func @block
func.func @block(%x: tensor<1x8x64xf32>, %g: tensor<64xf32>, %b: tensor<64xf32>,
                 %wqkv: tensor<192x64xf32>, %bqkv: tensor<192xf32>,
                 %wo: tensor<64x64xf32>, %wup: tensor<256x64xf32>,
                 %wdown: tensor<64x256xf32>) -> tensor<1x8x64xf32> {
  // CHECK: slim.residual attention layer 0 (%{{.*}}) : tensor<1x8x64xf32> {
  // CHECK-NEXT: ^bb0(%[[A:.*]]: tensor<1x8x64xf32>):
  %h = slim.residual attention layer 0 (%x) : tensor<1x8x64xf32> {
  ^bb0(%a: tensor<1x8x64xf32>):
    // CHECK: slim.layer_norm %[[A]], %{{.*}}, %{{.*}} : tensor<1x8x64xf32>, tensor<64xf32>, tensor<64xf32>
    %n = slim.layer_norm %a, %g, %b : tensor<1x8x64xf32>, tensor<64xf32>, tensor<64xf32>
    // CHECK: slim.linear %{{.*}}, %{{.*}}, %{{.*}} : tensor<1x8x64xf32>, tensor<192x64xf32>, tensor<192xf32>
    %qkv = slim.linear %n, %wqkv, %bqkv : tensor<1x8x64xf32>, tensor<192x64xf32>, tensor<192xf32>
    // CHECK: slim.slice %{{.*}} offsets [0, 0, 0] sizes [1, 8, 64] strides [1, 1, 1] : tensor<1x8x192xf32>
    %q = slim.slice %qkv offsets [0, 0, 0] sizes [1, 8, 64] strides [1, 1, 1] : tensor<1x8x192xf32>
    %k = slim.slice %qkv offsets [0, 0, 64] sizes [1, 8, 64] strides [1, 1, 1] : tensor<1x8x192xf32>
    %v = slim.slice %qkv offsets [0, 0, 128] sizes [1, 8, 64] strides [1, 1, 1] : tensor<1x8x192xf32>
    // CHECK: slim.attention %{{.*}}, %{{.*}}, %{{.*}} heads(4, 4) causal : tensor<1x8x64xf32>, tensor<1x8x64xf32>, tensor<1x8x64xf32>
    %o = slim.attention %q, %k, %v heads(4, 4) causal : tensor<1x8x64xf32>, tensor<1x8x64xf32>, tensor<1x8x64xf32>
    // CHECK: slim.linear %{{.*}}, %{{.*}} : tensor<1x8x64xf32>, tensor<64x64xf32>
    %p = slim.linear %o, %wo : tensor<1x8x64xf32>, tensor<64x64xf32>
    // CHECK: slim.yield %{{.*}} : tensor<1x8x64xf32>
    slim.yield %p : tensor<1x8x64xf32>
  }
  // CHECK: slim.residual mlp layer 0
  %y = slim.residual mlp layer 0 (%h) : tensor<1x8x64xf32> {
  ^bb0(%a: tensor<1x8x64xf32>):
    // CHECK: slim.rms_norm %{{.*}}, %{{.*}} {epsilon = 9.99999997E-7 : f32} : tensor<1x8x64xf32>, tensor<64xf32>
    %n = slim.rms_norm %a, %g {epsilon = 1.0e-6 : f32} : tensor<1x8x64xf32>, tensor<64xf32>
    %sl = slim.slice %a offsets [0, 0, 0] sizes [1, 8, 63] strides [1, 1, 1] : tensor<1x8x64xf32>
    %u = slim.linear %n, %wup : tensor<1x8x64xf32>, tensor<256x64xf32>
    // CHECK: slim.linear %{{.*}}, %{{.*}} act = silu : tensor<1x8x64xf32>, tensor<256x64xf32>
    %u2 = slim.linear %n, %wup act = silu : tensor<1x8x64xf32>, tensor<256x64xf32>
    // CHECK: slim.gelu tanh %{{.*}} : tensor<1x8x256xf32>
    %act = slim.gelu tanh %u : tensor<1x8x256xf32>
    // CHECK: slim.gelu exact %{{.*}} : tensor<1x8x256xf32>
    %act2 = slim.gelu exact %act : tensor<1x8x256xf32>
    // CHECK: slim.crms_norm %{{.*}} {epsilon = 9.99999997E-7 : f32} : tensor<1x8x63xf32>
    %cn = slim.crms_norm %sl {epsilon = 1.0e-6 : f32} : tensor<1x8x63xf32>
    %d = slim.linear %act2, %wdown : tensor<1x8x256xf32>, tensor<64x256xf32>
    slim.yield %d : tensor<1x8x64xf32>
  }
  return %y : tensor<1x8x64xf32>
}

// CHECK-LABEL: func.func @embedding_and_head
func.func @embedding_and_head(%ids: tensor<1x8xi64>, %wte: tensor<100x64xf32>,
                              %wpe: tensor<8x64xf32>) -> tensor<1x8x100xf32> {
  // CHECK: slim.embedding %{{.*}}[%{{.*}}] : tensor<100x64xf32>, tensor<1x8xi64>
  %e = slim.embedding %wte[%ids] : tensor<100x64xf32>, tensor<1x8xi64>
  // CHECK: slim.add %{{.*}}, %{{.*}} : tensor<1x8x64xf32>, tensor<8x64xf32>
  %x = slim.add %e, %wpe : tensor<1x8x64xf32>, tensor<8x64xf32>
  // CHECK: slim.linear %{{.*}}, %{{.*}} : tensor<1x8x64xf32>, tensor<100x64xf32>
  %logits = slim.linear %x, %wte : tensor<1x8x64xf32>, tensor<100x64xf32>
  return %logits : tensor<1x8x100xf32>
}

// CHECK-LABEL: func.func @llama_ops
func.func @llama_ops(%x: tensor<2x16x128xf32>, %kv: tensor<2x16x32xf32>,
                     %pos: tensor<16xi64>, %bpos: tensor<2x16xi32>)
    -> (tensor<2x16x128xf32>, tensor<2x16x32xf32>, tensor<2x16x128xf32>) {
  // CHECK: slim.rope %{{.*}}, %{{.*}} {num_heads = 8 : i64} : tensor<2x16x128xf32>, tensor<16xi64>
  %q = slim.rope %x, %pos {num_heads = 8 : i64} : tensor<2x16x128xf32>, tensor<16xi64>
  // CHECK: slim.rope %{{.*}}, %{{.*}} {interleaved, num_heads = 2 : i64, theta = 5.000000e+05 : f32} : tensor<2x16x32xf32>, tensor<2x16xi32>
  %k = slim.rope %kv, %bpos {num_heads = 2 : i64, theta = 500000.0 : f32, interleaved} : tensor<2x16x32xf32>, tensor<2x16xi32>
  // CHECK: slim.attention {{.*}} heads(8, 2) causal {scale = 2.500000e-01 : f32} : tensor<2x16x128xf32>, tensor<2x16x32xf32>, tensor<2x16x32xf32>
  %o = slim.attention %q, %k, %kv heads(8, 2) causal {scale = 0.25 : f32} : tensor<2x16x128xf32>, tensor<2x16x32xf32>, tensor<2x16x32xf32>
  // CHECK: slim.attention {{.*}} heads(8, 2) causal int8 : tensor<2x16x128xf32>, tensor<2x16x32xf32>, tensor<2x16x32xf32>
  %o8 = slim.attention %q, %k, %kv heads(8, 2) causal int8 : tensor<2x16x128xf32>, tensor<2x16x32xf32>, tensor<2x16x32xf32>
  // CHECK: slim.silu %{{.*}} : tensor<2x16x128xf32>
  %s = slim.silu %o : tensor<2x16x128xf32>
  // CHECK: slim.mul %{{.*}}, %{{.*}} : tensor<2x16x128xf32>, tensor<2x16x128xf32>
  %m = slim.mul %s, %x : tensor<2x16x128xf32>, tensor<2x16x128xf32>
  return %m, %k, %q : tensor<2x16x128xf32>, tensor<2x16x32xf32>, tensor<2x16x128xf32>
}

// CHECK-LABEL: func.func @quantized
func.func @quantized(%x: tensor<4x64xf32>, %w8: tensor<32x64xi8>, %s8: tensor<32xf32>,
                     %w4: tensor<32x64xi4>, %s4: tensor<32x2xf32>, %z4: tensor<32x2xi4>,
                     %b: tensor<32xf32>) -> (tensor<4x32xf32>, tensor<4x32xf32>, tensor<4x32xf32>) {
  // CHECK: slim.qlinear %{{.*}}, %{{.*}}, %{{.*}} bias(%{{.*}} : tensor<32xf32>) act = dynamic : tensor<4x64xf32>, tensor<32x64xi8>, tensor<32xf32>
  %a = slim.qlinear %x, %w8, %s8 bias(%b : tensor<32xf32>) act = dynamic : tensor<4x64xf32>, tensor<32x64xi8>, tensor<32xf32>
  // CHECK: slim.qlinear %{{.*}}, %{{.*}}, %{{.*}} act = static {act_scale = 5.000000e-02 : f32} : tensor<4x64xf32>, tensor<32x64xi8>, tensor<32xf32>
  %c = slim.qlinear %x, %w8, %s8 act = static {act_scale = 0.05 : f32} : tensor<4x64xf32>, tensor<32x64xi8>, tensor<32xf32>
  // CHECK: slim.qlinear %{{.*}}, %{{.*}}, %{{.*}} zero_points(%{{.*}} : tensor<32x2xi4>) act = none {group_size = 32 : i64} : tensor<4x64xf32>, tensor<32x64xi4>, tensor<32x2xf32>
  %d = slim.qlinear %x, %w4, %s4 zero_points(%z4 : tensor<32x2xi4>) act = none {group_size = 32 : i64} : tensor<4x64xf32>, tensor<32x64xi4>, tensor<32x2xf32>
  return %a, %c, %d : tensor<4x32xf32>, tensor<4x32xf32>, tensor<4x32xf32>
}

// CHECK-LABEL: func.func @unmerge
func.func @unmerge(%h: tensor<1x197x384xf32>, %k: tensor<1x197x64xf32>,
                   %s: tensor<1x197xf32>, %m: tensor<1x197xi64>)
    -> tensor<1x197x384xf32> {
  // CHECK: slim.token_merge %{{.*}}, %{{.*}}, %{{.*}} source(%{{.*}} : tensor<1x197xi64>) r = 13 : tensor<1x197x384xf32>, tensor<1x197x64xf32>, tensor<1x197xf32>
  %h2, %s2, %m2 = slim.token_merge %h, %k, %s source(%m : tensor<1x197xi64>) r = 13 : tensor<1x197x384xf32>, tensor<1x197x64xf32>, tensor<1x197xf32>
  // CHECK: slim.unmerge %{{.*}}, %{{.*}} : tensor<1x184x384xf32>, tensor<1x197xi64>
  %u = slim.unmerge %h2, %m2 : tensor<1x184x384xf32>, tensor<1x197xi64>
  return %u : tensor<1x197x384xf32>
}

// CHECK-LABEL: func.func @mctf
func.func @mctf(%h: tensor<1x197x384xf32>, %q: tensor<1x197x384xf32>,
                %s: tensor<1x197xf32>) -> (tensor<1x181x384xf32>, tensor<1x181xf32>) {
  // CHECK: %[[A:.*]] = slim.attention_received %{{.*}}, %{{.*}} sizes(%{{.*}} : tensor<1x197xf32>) heads(6, 6) : tensor<1x197x384xf32>, tensor<1x197x384xf32>
  %a = slim.attention_received %q, %q sizes(%s : tensor<1x197xf32>) heads(6, 6) : tensor<1x197x384xf32>, tensor<1x197x384xf32>
  // CHECK: slim.token_merge %{{.*}}, %{{.*}}, %{{.*}} received(%[[A]] : tensor<1x197xf32>) r = 16 method = mctf {bidirectional = false, tau_info = 1.000000e+01 : f32} :
  %h2, %s2 = slim.token_merge %h, %h, %s received(%a : tensor<1x197xf32>) r = 16 method = mctf {bidirectional = false, tau_info = 10.0 : f32} : tensor<1x197x384xf32>, tensor<1x197x384xf32>, tensor<1x197xf32>
  return %h2, %s2 : tensor<1x181x384xf32>, tensor<1x181xf32>
}

// CHECK-LABEL: func.func @group_mean
func.func @group_mean(%x: tensor<1x17x8xf32>, %g: tensor<1x17xi64>, %w: tensor<1x17xf32>) -> tensor<1x14x8xf32> {
  // CHECK: slim.group_mean %{{.*}}, %{{.*}}, %{{.*}} num_groups = 14 : tensor<1x17x8xf32>, tensor<1x17xi64>, tensor<1x17xf32>
  %y = slim.group_mean %x, %g, %w num_groups = 14 : tensor<1x17x8xf32>, tensor<1x17xi64>, tensor<1x17xf32>
  return %y : tensor<1x14x8xf32>
}

// CHECK-LABEL: func.func @token_merge
func.func @token_merge(%h: tensor<1x197x384xf32>, %k: tensor<1x197x64xf32>,
                       %s: tensor<1x197xf32>, %v: tensor<1x197x384xf32>)
    -> (tensor<1x184x384xf32>, tensor<1x184xf32>, tensor<1x184x384xf32>) {
  // CHECK: slim.token_merge %{{.*}}, %{{.*}}, %{{.*}} r = 13 : tensor<1x197x384xf32>, tensor<1x197x64xf32>, tensor<1x197xf32>
  %h2, %s2 = slim.token_merge %h, %k, %s r = 13 : tensor<1x197x384xf32>, tensor<1x197x64xf32>, tensor<1x197xf32>
  // CHECK: slim.token_merge {{.*}} received({{.*}}) r = 13 protected = 2 method = mctf :
  %h3, %s3 = slim.token_merge %h, %k, %s received(%s : tensor<1x197xf32>) r = 13 protected = 2 method = mctf : tensor<1x197x384xf32>, tensor<1x197x64xf32>, tensor<1x197xf32>
  // CHECK: slim.attention %{{.*}}, %{{.*}}, %{{.*}} sizes(%{{.*}} : tensor<1x184xf32>) heads(6, 6) : tensor<1x184x384xf32>, tensor<1x184x384xf32>, tensor<1x184x384xf32>
  %o = slim.attention %h2, %h2, %h2 sizes(%s2 : tensor<1x184xf32>) heads(6, 6) : tensor<1x184x384xf32>, tensor<1x184x384xf32>, tensor<1x184x384xf32>
  return %o, %s3, %h3 : tensor<1x184x384xf32>, tensor<1x184xf32>, tensor<1x184x384xf32>
}

// CHECK-LABEL: func.func @primitives
func.func @primitives(%a: tensor<1x8x64xf32>, %b: tensor<64xf32>, %m: tensor<1x1x8x8xi1>,
                      %s: tensor<1x4x8x8xf32>, %neg: tensor<f32>)
    -> (tensor<1x4x8x8xf32>, tensor<1x8x1xf32>, tensor<1x16x64xf32>, tensor<1x8x64xf32>) {
  // CHECK: slim.reshape %{{.*}} : tensor<1x8x64xf32> -> tensor<1x8x4x16xf32>
  %r = slim.reshape %a : tensor<1x8x64xf32> -> tensor<1x8x4x16xf32>
  // CHECK: slim.transpose %{{.*}} [0, 2, 1, 3] : tensor<1x8x4x16xf32>
  %t = slim.transpose %r [0, 2, 1, 3] : tensor<1x8x4x16xf32>
  // CHECK: slim.transpose %{{.*}} [0, 1, 3, 2] : tensor<1x4x8x16xf32>
  %kt = slim.transpose %t [0, 1, 3, 2] : tensor<1x4x8x16xf32>
  // CHECK: slim.matmul %{{.*}}, %{{.*}} : tensor<1x4x8x16xf32>, tensor<1x4x16x8xf32>
  %sc = slim.matmul %t, %kt : tensor<1x4x8x16xf32>, tensor<1x4x16x8xf32>
  // CHECK: slim.where %{{.*}}, %{{.*}}, %{{.*}} : tensor<1x1x8x8xi1>, tensor<1x4x8x8xf32>, tensor<f32>
  %w = slim.where %m, %sc, %neg : tensor<1x1x8x8xi1>, tensor<1x4x8x8xf32>, tensor<f32>
  // CHECK: slim.softmax %{{.*}} : tensor<1x4x8x8xf32>
  %p = slim.softmax %w : tensor<1x4x8x8xf32>
  // CHECK: slim.softmax %{{.*}} {axis = 1 : i64} : tensor<1x4x8x8xf32>
  %p1 = slim.softmax %p {axis = 1 : i64} : tensor<1x4x8x8xf32>
  // CHECK: slim.reduce_mean %{{.*}} [-1] : tensor<1x8x64xf32>
  %mean = slim.reduce_mean %a [-1] : tensor<1x8x64xf32>
  // CHECK: slim.reduce_mean %{{.*}} [1] keepdims = false : tensor<1x8x1xf32>
  %mean2 = slim.reduce_mean %mean [1] keepdims = false : tensor<1x8x1xf32>
  // CHECK: slim.sub %{{.*}}, %{{.*}} : tensor<1x8x64xf32>, tensor<1x8x1xf32>
  %c = slim.sub %a, %mean : tensor<1x8x64xf32>, tensor<1x8x1xf32>
  // CHECK: slim.pow %{{.*}}, %{{.*}} : tensor<1x8x64xf32>, tensor<f32>
  %sq = slim.pow %c, %neg : tensor<1x8x64xf32>, tensor<f32>
  // CHECK: slim.div %{{.*}}, %{{.*}} : tensor<1x8x64xf32>, tensor<64xf32>
  %dv = slim.div %sq, %b : tensor<1x8x64xf32>, tensor<64xf32>
  // CHECK: slim.erf %{{.*}} : tensor<1x8x64xf32>
  %e = slim.erf %dv : tensor<1x8x64xf32>
  // CHECK: slim.tanh
  %th = slim.tanh %e : tensor<1x8x64xf32>
  // CHECK: slim.sqrt
  %sqr = slim.sqrt %th : tensor<1x8x64xf32>
  // CHECK: slim.exp
  %ex = slim.exp %sqr : tensor<1x8x64xf32>
  // CHECK: slim.sigmoid
  %sg = slim.sigmoid %ex : tensor<1x8x64xf32>
  // CHECK: slim.neg
  %ng = slim.neg %sg : tensor<1x8x64xf32>
  // CHECK: slim.broadcast %{{.*}} : tensor<1x8x1xf32> -> tensor<2x8x64xf32>
  %bc = slim.broadcast %mean : tensor<1x8x1xf32> -> tensor<2x8x64xf32>
  // CHECK: slim.concat %{{.*}}, %{{.*}} axis = 1 : tensor<1x8x64xf32>, tensor<1x8x64xf32>
  %cat = slim.concat %ex, %a axis = 1 : tensor<1x8x64xf32>, tensor<1x8x64xf32>
  return %p1, %mean, %cat, %c : tensor<1x4x8x8xf32>, tensor<1x8x1xf32>, tensor<1x16x64xf32>, tensor<1x8x64xf32>
}

// CHECK-LABEL: func.func @resource_weights
func.func @resource_weights(%x: tensor<1x2xf32>) -> tensor<1x2xf32> {
  // CHECK: arith.constant dense_resource<w0> : tensor<2x2xf32>
  %w = arith.constant dense_resource<w0> : tensor<2x2xf32>
  %y = slim.linear %x, %w : tensor<1x2xf32>, tensor<2x2xf32>
  return %y : tensor<1x2xf32>
}

{-#
  dialect_resources: {
    builtin: {
      w0: "0x040000000000803F000000000000000000000040"
    }
  }
#-}

// CHECK-LABEL: func.func @kv_step
func.func @kv_step(%q: tensor<1x1x64xf32>, %k: tensor<1x1x32xf32>, %pos: tensor<1x1xi64>) -> tensor<1x1x64xf32> {
  // CHECK: slim.kv_attention %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} heads(4, 2) slot(1) capacity(128) : tensor<1x1x64xf32>, tensor<1x1x32xf32>, tensor<1x1x32xf32>, tensor<1x1xi64>
  %o = slim.kv_attention %q, %k, %k, %pos heads(4, 2) slot(1) capacity(128) : tensor<1x1x64xf32>, tensor<1x1x32xf32>, tensor<1x1x32xf32>, tensor<1x1xi64>
  // CHECK: slim.kv_attention %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} heads(4, 2) slot(2) capacity(128) cache_f16 : tensor<1x1x64xf32>
  %o2 = slim.kv_attention %q, %k, %k, %pos heads(4, 2) slot(2) capacity(128) cache_f16 : tensor<1x1x64xf32>, tensor<1x1x32xf32>, tensor<1x1x32xf32>, tensor<1x1xi64>
  return %o : tensor<1x1x64xf32>
}

// CHECK-LABEL: func.func @attention_biases
func.func @attention_biases(%q: tensor<4x4x8xf32>, %kb: tensor<4x4xf32>,
                            %b: tensor<2x2x4x4xf32>) -> tensor<4x4x8xf32> {
  // CHECK: slim.attention %{{.*}}, %{{.*}}, %{{.*}} key_bias(%{{.*}} : tensor<4x4xf32>) bias(%{{.*}} : tensor<2x2x4x4xf32>) heads(2, 2) : tensor<4x4x8xf32>, tensor<4x4x8xf32>, tensor<4x4x8xf32>
  %o = slim.attention %q, %q, %q key_bias(%kb : tensor<4x4xf32>) bias(%b : tensor<2x2x4x4xf32>) heads(2, 2) : tensor<4x4x8xf32>, tensor<4x4x8xf32>, tensor<4x4x8xf32>
  return %o : tensor<4x4x8xf32>
}

// CHECK-LABEL: func.func @elementwise
func.func @elementwise(%x: tensor<2x8xf32>) -> (tensor<2x8xf32>, tensor<2x8xf32>, tensor<2x8xf32>) {
  // CHECK: slim.clamp %{{.*}} [0.000000e+00, 6.000000e+00] : tensor<2x8xf32>
  %a = slim.clamp %x [0.0, 6.0] : tensor<2x8xf32>
  // CHECK: slim.clamp %{{.*}} [0xFF800000, 1.000000e+00] : tensor<2x8xf32>
  %b = slim.clamp %x [0xFF800000, 1.0] : tensor<2x8xf32>
  // CHECK: slim.leaky_relu %{{.*}} alpha = 0.00999999977 : tensor<2x8xf32>
  %c = slim.leaky_relu %x alpha = 0.01 : tensor<2x8xf32>
  // CHECK: slim.silu_mul %{{.*}}, %{{.*}} : tensor<2x8xf32>
  %d = slim.silu_mul %c, %x : tensor<2x8xf32>
  return %a, %b, %d : tensor<2x8xf32>, tensor<2x8xf32>, tensor<2x8xf32>
}

// Tests that col2im (a transposed convolution's scatter), with and without
// a bias, prints and parses back.
// CHECK-LABEL: func.func @col2im
// CHECK: slim.col2im %{{.*}}, %{{.*}} {dilations = array<i64: 1, 1>, kernel = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 2, 2>} : tensor<1x16x12xf32>, tensor<3xf32> -> tensor<1x3x8x8xf32>
// CHECK: slim.col2im %{{.*}} {{{.*}}} : tensor<1x16x12xf32> -> tensor<1x3x8x8xf32>
func.func @col2im(%c: tensor<1x16x12xf32>, %b: tensor<3xf32>) -> (tensor<1x3x8x8xf32>, tensor<1x3x8x8xf32>) {
  %y = slim.col2im %c, %b {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : tensor<1x16x12xf32>, tensor<3xf32> -> tensor<1x3x8x8xf32>
  %z = slim.col2im %c {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : tensor<1x16x12xf32> -> tensor<1x3x8x8xf32>
  return %y, %z : tensor<1x3x8x8xf32>, tensor<1x3x8x8xf32>
}

// Tests that the window ops of convolutional models (im2col, grouped conv2d
// on NCHW and, depthwise, on NHWC,
// max and average pooling) and log_softmax print and parse back.
// CHECK-LABEL: func.func @windows
func.func @windows(%x: tensor<1x4x8x8xf32>, %w: tensor<4x1x3x3xf32>,
                   %b: tensor<4xf32>, %xl: tensor<1x8x8x4xf32>) -> (tensor<1x64x36xf32>, tensor<1x4x4x4xf32>, tensor<1x4x3x3xf32>, tensor<1x4x8x8xf32>) {
  // CHECK: slim.im2col %{{.*}} {dilations = array<i64: 1, 1>, kernel = array<i64: 3, 3>, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>} : tensor<1x4x8x8xf32> -> tensor<1x64x36xf32>
  %p = slim.im2col %x {kernel = array<i64: 3, 3>, strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>} : tensor<1x4x8x8xf32> -> tensor<1x64x36xf32>
  // CHECK: slim.conv2d %{{.*}}, %{{.*}}, %{{.*}} {dilations = array<i64: 1, 1>, groups = 4 : i64, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>} : tensor<1x4x8x8xf32>, tensor<4x1x3x3xf32>, tensor<4xf32> -> tensor<1x4x4x4xf32>
  %c = slim.conv2d %x, %w, %b {strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 4} : tensor<1x4x8x8xf32>, tensor<4x1x3x3xf32>, tensor<4xf32> -> tensor<1x4x4x4xf32>
  // CHECK: slim.conv2d %{{.*}}, %{{.*}}, %{{.*}} act = hardswish {channels_last, {{.*}}} : tensor<1x8x8x4xf32>, tensor<4x1x3x3xf32>, tensor<4xf32> -> tensor<1x4x4x4xf32>
  %cl = slim.conv2d %xl, %w, %b act = hardswish {strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 4, channels_last} : tensor<1x8x8x4xf32>, tensor<4x1x3x3xf32>, tensor<4xf32> -> tensor<1x4x4x4xf32>
  // CHECK: slim.pool2d max %{{.*}} {ceil_mode, {{.*}}} : tensor<1x4x8x8xf32> -> tensor<1x4x3x3xf32>
  %m = slim.pool2d max %x {kernel = array<i64: 3, 3>, strides = array<i64: 3, 3>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, ceil_mode} : tensor<1x4x8x8xf32> -> tensor<1x4x3x3xf32>
  // CHECK: slim.pool2d avg %{{.*}} {count_include_pad, {{.*}}} : tensor<1x4x8x8xf32> -> tensor<1x4x8x8xf32>
  %a = slim.pool2d avg %x {kernel = array<i64: 3, 3>, strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, count_include_pad} : tensor<1x4x8x8xf32> -> tensor<1x4x8x8xf32>
  // CHECK: slim.log_softmax %{{.*}} {axis = 1 : i64} : tensor<1x4x8x8xf32>
  %l0 = slim.log_softmax %a {axis = 1} : tensor<1x4x8x8xf32>
  // CHECK: slim.reduce log_sum_exp %{{.*}} [1] : tensor<1x4x8x8xf32>
  %r = slim.reduce log_sum_exp %l0 [1] : tensor<1x4x8x8xf32>
  // CHECK: slim.reduce max %{{.*}} [0, 2] keepdims = false : tensor<1x4x8x8xf32>
  %r2 = slim.reduce max %l0 [0, 2] keepdims = false : tensor<1x4x8x8xf32>
  %l = slim.sub %l0, %r : tensor<1x4x8x8xf32>, tensor<1x1x8x8xf32>
  return %p, %c, %m, %l : tensor<1x64x36xf32>, tensor<1x4x4x4xf32>, tensor<1x4x3x3xf32>, tensor<1x4x8x8xf32>
}

// Tests that the elementwise math ops of ONNX's Log, Abs, Floor, Ceil,
// Round, Max and Min print and parse back.
// CHECK-LABEL: func.func @math
func.func @math(%x: tensor<2x8xf32>, %y: tensor<8xf32>) -> tensor<2x8xf32> {
  // CHECK: slim.log %{{.*}} : tensor<2x8xf32>
  %a = slim.log %x : tensor<2x8xf32>
  // CHECK: slim.abs
  %b = slim.abs %a : tensor<2x8xf32>
  // CHECK: slim.floor
  %c = slim.floor %b : tensor<2x8xf32>
  // CHECK: slim.ceil
  %d = slim.ceil %c : tensor<2x8xf32>
  // CHECK: slim.round
  %e = slim.round %d : tensor<2x8xf32>
  // CHECK: slim.max %{{.*}}, %{{.*}} : tensor<2x8xf32>, tensor<8xf32>
  %f = slim.max %e, %y : tensor<2x8xf32>, tensor<8xf32>
  // CHECK: slim.min %{{.*}}, %{{.*}} : tensor<2x8xf32>, tensor<8xf32>
  %g = slim.min %f, %y : tensor<2x8xf32>, tensor<8xf32>
  return %g : tensor<2x8xf32>
}

// Tests that comparisons, logic and negation print and parse; a comparison
// of int64 tensors gives booleans of the broadcast shape.
// CHECK-LABEL: func.func @compare_logic
func.func @compare_logic(%x: tensor<2x8xf32>, %i: tensor<2x1xi64>, %j: tensor<8xi64>) -> tensor<2x8xi1> {
  %zero = arith.constant dense<0.0> : tensor<f32>
  // CHECK: slim.compare lt %{{.*}}, %{{.*}} : tensor<2x8xf32>, tensor<f32>
  %a = slim.compare lt %x, %zero : tensor<2x8xf32>, tensor<f32>
  // CHECK: slim.compare eq %{{.*}}, %{{.*}} : tensor<2x1xi64>, tensor<8xi64>
  %b = slim.compare eq %i, %j : tensor<2x1xi64>, tensor<8xi64>
  // CHECK: slim.logic xor %{{.*}}, %{{.*}} : tensor<2x8xi1>, tensor<2x8xi1>
  %c = slim.logic xor %a, %b : tensor<2x8xi1>, tensor<2x8xi1>
  // CHECK: slim.not %{{.*}} : tensor<2x8xi1>
  %d = slim.not %c : tensor<2x8xi1>
  return %d : tensor<2x8xi1>
}

// Tests that arg_reduce prints and parses, with and without its optional
// attributes.
// CHECK-LABEL: func.func @arg_reduce
func.func @arg_reduce(%x: tensor<2x8xf32>) -> (tensor<2x1xi64>, tensor<8xi64>) {
  // CHECK: slim.arg_reduce max %{{.*}} axis = 1 : tensor<2x8xf32> -> tensor<2x1xi64>
  %a = slim.arg_reduce max %x axis = 1 : tensor<2x8xf32> -> tensor<2x1xi64>
  // CHECK: slim.arg_reduce min %{{.*}} axis = 0 keepdims = false select_last_index = true : tensor<2x8xf32> -> tensor<8xi64>
  %b = slim.arg_reduce min %x axis = 0 keepdims = false select_last_index = true : tensor<2x8xf32> -> tensor<8xi64>
  return %a, %b : tensor<2x1xi64>, tensor<8xi64>
}

// Tests that pad prints and parses in every mode, with and without a fill
// value, on float and integer tensors.
// CHECK-LABEL: func.func @pad
func.func @pad(%x: tensor<2x3xf32>, %i: tensor<4xi64>) -> (tensor<4x4xf32>, tensor<2x5xf32>, tensor<6xi64>) {
  // CHECK: slim.pad constant %{{.*}} [1, 0, 1, 1] value = 1.500000e+00 : tensor<2x3xf32>
  %a = slim.pad constant %x [1, 0, 1, 1] value = 1.5 : tensor<2x3xf32>
  // CHECK: slim.pad reflect %{{.*}} [0, 1, 0, 1] : tensor<2x3xf32>
  %b = slim.pad reflect %x [0, 1, 0, 1] : tensor<2x3xf32>
  // CHECK: slim.pad wrap %{{.*}} [2, 0] : tensor<4xi64>
  %c = slim.pad wrap %i [2, 0] : tensor<4xi64>
  return %a, %b, %c : tensor<4x4xf32>, tensor<2x5xf32>, tensor<6xi64>
}

// Tests that gather and gather_elements print and parse, with int64 and
// int32 indices.
// CHECK-LABEL: func.func @gather
func.func @gather(%x: tensor<2x8x4xf32>, %i: tensor<3xi64>, %j: tensor<2x3x4xi32>) -> (tensor<2x3x4xf32>, tensor<2x3x4xf32>) {
  // CHECK: slim.gather %{{.*}}[%{{.*}}] axis = 1 : tensor<2x8x4xf32>, tensor<3xi64>
  %a = slim.gather %x [%i] axis = 1 : tensor<2x8x4xf32>, tensor<3xi64>
  // CHECK: slim.gather_elements %{{.*}}[%{{.*}}] axis = -2 : tensor<2x8x4xf32>, tensor<2x3x4xi32>
  %b = slim.gather_elements %x [%j] axis = -2 : tensor<2x8x4xf32>, tensor<2x3x4xi32>
  return %a, %b : tensor<2x3x4xf32>, tensor<2x3x4xf32>
}
