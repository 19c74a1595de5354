// RUN: slim-opt %s -slim-fuse-epilogues -split-input-file | FileCheck %s

// Tests that GELU (both forms) and SiLU fold into the linear feeding them,
// and that a linear with another user, or an activation of something else,
// is left alone.
// CHECK-LABEL: func.func @mlp
// CHECK: %[[U:.*]] = slim.linear %arg0, %arg1 act = gelu_tanh : tensor<2x4xf32>, tensor<8x4xf32>
// CHECK: %[[E:.*]] = slim.linear %[[U]], %arg2 act = gelu_exact : tensor<2x8xf32>, tensor<4x8xf32>
// CHECK: %[[S:.*]] = slim.linear %[[E]], %arg3, %arg4 act = silu : tensor<2x4xf32>, tensor<4x4xf32>, tensor<4xf32>
// CHECK: %[[KEEP:.*]] = slim.linear %[[S]], %arg3 : tensor<2x4xf32>, tensor<4x4xf32>
// CHECK: %[[G:.*]] = slim.gelu exact %[[KEEP]]
// CHECK: slim.add %[[G]], %[[KEEP]]
// CHECK: slim.silu %arg0
// CHECK-NOT: slim.gelu tanh
func.func @mlp(%x: tensor<2x4xf32>, %w1: tensor<8x4xf32>, %w2: tensor<4x8xf32>, %w3: tensor<4x4xf32>, %b3: tensor<4xf32>) -> (tensor<2x4xf32>, tensor<2x4xf32>) {
  %u = slim.linear %x, %w1 : tensor<2x4xf32>, tensor<8x4xf32>
  %g = slim.gelu tanh %u : tensor<2x8xf32>
  %e = slim.linear %g, %w2 : tensor<2x8xf32>, tensor<4x8xf32>
  %ge = slim.gelu exact %e : tensor<2x4xf32>
  %s = slim.linear %ge, %w3, %b3 : tensor<2x4xf32>, tensor<4x4xf32>, tensor<4xf32>
  %ss = slim.silu %s : tensor<2x4xf32>
  %keep = slim.linear %ss, %w3 : tensor<2x4xf32>, tensor<4x4xf32>
  %gk = slim.gelu exact %keep : tensor<2x4xf32>
  %sum = slim.add %gk, %keep : tensor<2x4xf32>, tensor<2x4xf32>
  %other = slim.silu %x : tensor<2x4xf32>
  return %sum, %other : tensor<2x4xf32>, tensor<2x4xf32>
}

// -----

// Tests that an activation also folds into a quantized linear (int8 or
// int4) as its epilogue.
// CHECK-LABEL: func.func @quantized
// CHECK: %[[Q:.*]] = slim.qlinear %arg0, %arg1, %arg2 act = dynamic epilogue = gelu_tanh : tensor<2x64xf32>, tensor<8x64xi8>, tensor<8xf32>
// CHECK: slim.qlinear %[[Q]], %arg3, %arg4 act = none epilogue = silu {group_size = 8 : i64} : tensor<2x8xf32>, tensor<64x8xi4>, tensor<64x1xf32>
func.func @quantized(%x: tensor<2x64xf32>, %w: tensor<8x64xi8>, %s: tensor<8xf32>, %w4: tensor<64x8xi4>, %s4: tensor<64x1xf32>) -> tensor<2x64xf32> {
  %q = slim.qlinear %x, %w, %s act = dynamic : tensor<2x64xf32>, tensor<8x64xi8>, tensor<8xf32>
  %g = slim.gelu tanh %q : tensor<2x8xf32>
  %q4 = slim.qlinear %g, %w4, %s4 act = none {group_size = 8 : i64} : tensor<2x8xf32>, tensor<64x8xi4>, tensor<64x1xf32>
  %y = slim.silu %q4 : tensor<2x64xf32>
  return %y : tensor<2x64xf32>
}

// -----

// Tests that an activation after a convolution's way back to NCHW (the
// linear's result reshaped and transposed) folds into the linear, and that
// a layout op with another user stops it.
// CHECK-LABEL: func.func @through_layout
// CHECK: %[[L:.*]] = slim.linear %arg0, %arg1 act = silu : tensor<1x16x8xf32>, tensor<4x8xf32>
// CHECK: %[[R:.*]] = slim.reshape %[[L]] : tensor<1x16x4xf32> -> tensor<1x4x4x4xf32>
// CHECK: %[[T:.*]] = slim.transpose %[[R]] [0, 3, 1, 2]
// CHECK-NOT: slim.silu
// CHECK: %[[L2:.*]] = slim.linear %arg0, %arg1 : tensor<1x16x8xf32>, tensor<4x8xf32>
// CHECK: %[[R2:.*]] = slim.reshape %[[L2]]
// CHECK: slim.relu %[[R2]]
func.func @through_layout(%x: tensor<1x16x8xf32>, %w: tensor<4x8xf32>) -> (tensor<1x4x4x4xf32>, tensor<1x4x4x4xf32>, tensor<1x4x4x4xf32>) {
  %l = slim.linear %x, %w : tensor<1x16x8xf32>, tensor<4x8xf32>
  %r = slim.reshape %l : tensor<1x16x4xf32> -> tensor<1x4x4x4xf32>
  %t = slim.transpose %r [0, 3, 1, 2] : tensor<1x4x4x4xf32>
  %s = slim.silu %t : tensor<1x4x4x4xf32>
  %l2 = slim.linear %x, %w : tensor<1x16x8xf32>, tensor<4x8xf32>
  %r2 = slim.reshape %l2 : tensor<1x16x4xf32> -> tensor<1x4x4x4xf32>
  %a = slim.relu %r2 : tensor<1x4x4x4xf32>
  return %s, %a, %r2 : tensor<1x4x4x4xf32>, tensor<1x4x4x4xf32>, tensor<1x4x4x4xf32>
}

// -----

// Tests that two pointwise convolutions with an activation between them
// lose their NHWC -> NCHW -> NHWC round trip once the activation is in
// the first linear (the chain moves no element: the second linear reads
// the first's result as it is), and that a
// round trip that does move elements (a transpose into an op that reads
// NCHW) stays.
// CHECK-LABEL: func.func @conv_round_trip
// CHECK: %[[L:.*]] = slim.linear %arg0, %arg1 act = silu
// CHECK-NEXT: slim.linear %[[L]], %arg2
// CHECK: %[[L3:.*]] = slim.linear %arg0, %arg1 act = silu
// CHECK: %[[R3:.*]] = slim.reshape %[[L3]]
// CHECK: slim.transpose %[[R3]] [0, 3, 1, 2]
func.func @conv_round_trip(%x: tensor<1x16x8xf32>, %w: tensor<4x8xf32>, %w2: tensor<8x4xf32>) -> (tensor<1x16x8xf32>, tensor<1x4x4x4xf32>) {
  %l = slim.linear %x, %w : tensor<1x16x8xf32>, tensor<4x8xf32>
  %r = slim.reshape %l : tensor<1x16x4xf32> -> tensor<1x4x4x4xf32>
  %t = slim.transpose %r [0, 3, 1, 2] : tensor<1x4x4x4xf32>
  %s = slim.silu %t : tensor<1x4x4x4xf32>
  %u = slim.reshape %s : tensor<1x4x4x4xf32> -> tensor<1x4x4x1x4x1xf32>
  %v = slim.transpose %u [0, 2, 4, 1, 3, 5] : tensor<1x4x4x1x4x1xf32>
  %f = slim.reshape %v : tensor<1x4x4x4x1x1xf32> -> tensor<1x16x4xf32>
  %o = slim.linear %f, %w2 : tensor<1x16x4xf32>, tensor<8x4xf32>
  %l3 = slim.linear %x, %w : tensor<1x16x8xf32>, tensor<4x8xf32>
  %r3 = slim.reshape %l3 : tensor<1x16x4xf32> -> tensor<1x4x4x4xf32>
  %t3 = slim.transpose %r3 [0, 3, 1, 2] : tensor<1x4x4x4xf32>
  %s3 = slim.silu %t3 : tensor<1x4x4x4xf32>
  return %o, %s3 : tensor<1x16x8xf32>, tensor<1x4x4x4xf32>
}

// -----

// Tests ReLU6 (a clamp to [0, 6]) and a clamp to [0, +inf) (ReLU) folding
// into the linear; other bounds stay a clamp. And a depthwise convolution
// between two pointwise ones (MobileNet's inverted residual): it runs on
// the first linear's NHWC result (channels_last), the clamp after it
// moves above the transpose back and into the convolution's epilogue,
// and the round trip into the second linear vanishes: no transpose left.
// A grouped convolution that is not depthwise keeps NCHW; a ReLU6 and a
// HardSwish after it fuse into it too, a clamp to [0, 5] does not.
// CHECK-LABEL: func.func @inverted_residual
// CHECK: %[[E:.*]] = slim.linear %arg0, %arg1 act = relu6 : tensor<1x16x4xf32>, tensor<8x4xf32>
// CHECK: %[[R:.*]] = slim.reshape %[[E]] : tensor<1x16x8xf32> -> tensor<1x4x4x8xf32>
// CHECK: %[[D:.*]] = slim.conv2d %[[R]], %arg2 act = relu6 {channels_last, dilations = array<i64: 1, 1>, groups = 8 : i64, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>} : tensor<1x4x4x8xf32>, tensor<8x1x3x3xf32> -> tensor<1x4x4x8xf32>
// CHECK-NOT: slim.transpose
// CHECK: slim.linear %{{.*}}, %arg3 act = relu : tensor<1x16x8xf32>, tensor<4x8xf32>
// CHECK: slim.clamp %{{.*}} [0.000000e+00, 5.000000e+00]
// CHECK: slim.conv2d %{{.*}}, %arg4 act = relu6 {dilations = array<i64: 1, 1>, groups = 2 : i64, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : tensor<1x8x4x4xf32>, tensor<8x4x1x1xf32> -> tensor<1x8x4x4xf32>
// CHECK: %[[G:.*]] = slim.conv2d %{{.*}}, %arg4 act = hardswish {dilations
// CHECK: %[[G5:.*]] = slim.conv2d %{{.*}}, %arg4 {dilations
// CHECK: slim.clamp %[[G5]] [0.000000e+00, 5.000000e+00]
func.func @inverted_residual(%x: tensor<1x16x4xf32>, %w1: tensor<8x4xf32>, %dw: tensor<8x1x3x3xf32>, %w2: tensor<4x8xf32>, %g: tensor<8x4x1x1xf32>) -> (tensor<1x4x4x4xf32>, tensor<1x8x4x4xf32>, tensor<1x8x4x4xf32>, tensor<1x8x4x4xf32>) {
  %e = slim.linear %x, %w1 : tensor<1x16x4xf32>, tensor<8x4xf32>
  %r = slim.reshape %e : tensor<1x16x8xf32> -> tensor<1x4x4x8xf32>
  %t = slim.transpose %r [0, 3, 1, 2] : tensor<1x4x4x8xf32>
  %a = slim.clamp %t [0.0, 6.0] : tensor<1x8x4x4xf32>
  %d = slim.conv2d %a, %dw {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 8} : tensor<1x8x4x4xf32>, tensor<8x1x3x3xf32> -> tensor<1x8x4x4xf32>
  %c = slim.clamp %d [0.0, 6.0] : tensor<1x8x4x4xf32>
  %t2 = slim.transpose %c [0, 2, 3, 1] : tensor<1x8x4x4xf32>
  %r2 = slim.reshape %t2 : tensor<1x4x4x8xf32> -> tensor<1x16x8xf32>
  %p = slim.linear %r2, %w2 : tensor<1x16x8xf32>, tensor<4x8xf32>
  %rp = slim.reshape %p : tensor<1x16x4xf32> -> tensor<1x4x4x4xf32>
  %h = slim.linear %r2, %w2 : tensor<1x16x8xf32>, tensor<4x8xf32>
  %inf = slim.clamp %h [0.0, 0x7F800000] : tensor<1x16x4xf32>
  %rh = slim.reshape %inf : tensor<1x16x4xf32> -> tensor<1x4x4x4xf32>
  %th = slim.transpose %rh [0, 3, 1, 2] : tensor<1x4x4x4xf32>
  %other = slim.linear %r2, %w2 : tensor<1x16x8xf32>, tensor<4x8xf32>
  %five = slim.clamp %other [0.0, 5.0] : tensor<1x16x4xf32>
  %ro = slim.reshape %five : tensor<1x16x4xf32> -> tensor<1x4x4x4xf32>
  %to = slim.transpose %ro [0, 3, 1, 2] : tensor<1x4x4x4xf32>
  %cat = slim.concat %th, %to axis = 1 : tensor<1x4x4x4xf32>, tensor<1x4x4x4xf32>
  %gc0 = slim.conv2d %cat, %g {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 2} : tensor<1x8x4x4xf32>, tensor<8x4x1x1xf32> -> tensor<1x8x4x4xf32>
  %gc = slim.clamp %gc0 [0.0, 6.0] : tensor<1x8x4x4xf32>
  %sixth = arith.constant dense<0.166666672> : tensor<f32>
  %half = arith.constant dense<5.000000e-01> : tensor<f32>
  %hc = slim.conv2d %cat, %g {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 2} : tensor<1x8x4x4xf32>, tensor<8x4x1x1xf32> -> tensor<1x8x4x4xf32>
  %hm = slim.mul %hc, %sixth : tensor<1x8x4x4xf32>, tensor<f32>
  %ha = slim.add %hm, %half : tensor<1x8x4x4xf32>, tensor<f32>
  %hg = slim.clamp %ha [0.0, 1.0] : tensor<1x8x4x4xf32>
  %hs = slim.mul %hc, %hg : tensor<1x8x4x4xf32>, tensor<1x8x4x4xf32>
  %fc = slim.conv2d %cat, %g {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 2} : tensor<1x8x4x4xf32>, tensor<8x4x1x1xf32> -> tensor<1x8x4x4xf32>
  %f5 = slim.clamp %fc [0.0, 5.0] : tensor<1x8x4x4xf32>
  return %rp, %gc, %hs, %f5 : tensor<1x4x4x4xf32>, tensor<1x8x4x4xf32>, tensor<1x8x4x4xf32>, tensor<1x8x4x4xf32>
}

// -----

// Tests HardSwish as the ONNX importer writes it, x · clamp(x · (1/6) +
// 1/2, 0, 1), folding into the linear (through its way back to NCHW), and
// not when x has a third reader.
// CHECK-LABEL: func.func @hardswish
// CHECK: %[[L:.*]] = slim.linear %arg0, %arg1 act = hardswish : tensor<1x16x8xf32>, tensor<4x8xf32>
// CHECK: %[[R:.*]] = slim.reshape %[[L]]
// CHECK: %[[T:.*]] = slim.transpose %[[R]] [0, 3, 1, 2]
// CHECK-NOT: slim.clamp
// CHECK: %[[L2:.*]] = slim.linear %arg0, %arg1 : tensor<1x16x8xf32>, tensor<4x8xf32>
// CHECK: slim.clamp
// CHECK: slim.mul %[[L2]]
// CHECK: slim.add %[[L2]]
func.func @hardswish(%x: tensor<1x16x8xf32>, %w: tensor<4x8xf32>) -> (tensor<1x4x4x4xf32>, tensor<1x16x4xf32>) {
  %sixth = arith.constant dense<0.166666672> : tensor<f32>
  %half = arith.constant dense<5.000000e-01> : tensor<f32>
  %l = slim.linear %x, %w : tensor<1x16x8xf32>, tensor<4x8xf32>
  %r = slim.reshape %l : tensor<1x16x4xf32> -> tensor<1x4x4x4xf32>
  %t = slim.transpose %r [0, 3, 1, 2] : tensor<1x4x4x4xf32>
  %m = slim.mul %t, %sixth : tensor<1x4x4x4xf32>, tensor<f32>
  %a = slim.add %m, %half : tensor<1x4x4x4xf32>, tensor<f32>
  %c = slim.clamp %a [0.0, 1.0] : tensor<1x4x4x4xf32>
  %y = slim.mul %t, %c : tensor<1x4x4x4xf32>, tensor<1x4x4x4xf32>
  %l2 = slim.linear %x, %w : tensor<1x16x8xf32>, tensor<4x8xf32>
  %m2 = slim.mul %l2, %sixth : tensor<1x16x4xf32>, tensor<f32>
  %a2 = slim.add %m2, %half : tensor<1x16x4xf32>, tensor<f32>
  %c2 = slim.clamp %a2 [0.0, 1.0] : tensor<1x16x4xf32>
  %y2 = slim.mul %l2, %c2 : tensor<1x16x4xf32>, tensor<1x16x4xf32>
  %z = slim.add %l2, %y2 : tensor<1x16x4xf32>, tensor<1x16x4xf32>
  return %y, %z : tensor<1x4x4x4xf32>, tensor<1x16x4xf32>
}
