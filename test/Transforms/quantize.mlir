// RUN: slim-opt %s -slim-quantize -split-input-file -verify-diagnostics | FileCheck %s
// RUN: slim-opt %s -slim-quantize="head=true print=true" -split-input-file -verify-diagnostics -o /dev/null 2>&1 | FileCheck %s --check-prefix=HEAD

// Tests the int8 rewrite: per-channel scales max|W[o,:]|/127 (rows
// [1, -2, 0.5] and [127, 0, -63.5] give 2/127 and 1), weights rounded to
// [-127, 127], the bias kept in float, act = dynamic; the head (its result
// is the graph output) stays float by default.
// CHECK-LABEL: func.func @mlp
// CHECK: %[[Q:.*]] = arith.constant dense_resource<w1.int8> : tensor<2x3xi8>
// CHECK: %[[S:.*]] = arith.constant dense_resource<w1.scale> : tensor<2xf32>
// CHECK: slim.qlinear %arg0, %[[Q]], %[[S]] bias(%{{.*}} : tensor<2xf32>) act = dynamic : tensor<4x3xf32>, tensor<2x3xi8>, tensor<2xf32>
// CHECK: slim.linear %{{.*}}, %{{.*}} : tensor<4x2xf32>, tensor<5x2xf32>
// [1, -2, 0.5] / (2/127) = [63.5, -127, 31.75] -> [64, -127, 32] and
// [127, 0, -63.5] / 1 -> [127, 0, -64] (ties round to even).
// CHECK: w1.int8: "0x010000004081207F00C0"
// CHECK: w1.scale: "0x040000000402813C0000803F"
// HEAD: ptq: 'slim.linear' [2, 3] -> int8 per channel, max |W - q*s| = 0.5000 s
// HEAD: ptq: 'slim.linear' [5, 2] -> int8 per channel
func.func @mlp(%x: tensor<4x3xf32>) -> tensor<4x5xf32> {
  %w1 = arith.constant dense_resource<w1> : tensor<2x3xf32>
  %b1 = arith.constant dense<[0.5, -0.5]> : tensor<2xf32>
  %w2 = arith.constant dense<0.25> : tensor<5x2xf32>
  %h = slim.linear %x, %w1, %b1 : tensor<4x3xf32>, tensor<2x3xf32>, tensor<2xf32>
  %y = slim.linear %h, %w2 : tensor<4x2xf32>, tensor<5x2xf32>
  return %y : tensor<4x5xf32>
}
{-#
  dialect_resources: {
    builtin: {
      w1: "0x040000000000803F000000C00000003F0000FE420000000000007EC2"
    }
  }
#-}

// -----

// Tests that a weight that is not a constant is refused (nothing changes).
func.func @dynamic_weight(%x: tensor<4x3xf32>, %w: tensor<2x3xf32>) -> tensor<4x5xf32> {
  %w2 = arith.constant dense<0.25> : tensor<5x2xf32>
  // expected-error @+1 {{ptq: 'slim.linear' weight is not a constant}}
  %h = slim.linear %x, %w : tensor<4x3xf32>, tensor<2x3xf32>
  %y = slim.linear %h, %w2 : tensor<4x2xf32>, tensor<5x2xf32>
  return %y : tensor<4x5xf32>
}

// -----

// Tests that a reduction long enough to overflow int32 (K · 127² ≥ 2³¹) is
// refused.
func.func @overflow(%x: tensor<1x133200xf32>) -> tensor<1x2xf32> {
  %w = arith.constant dense<0.5> : tensor<2x133200xf32>
  %w2 = arith.constant dense<0.25> : tensor<2x2xf32>
  // expected-error @+1 {{ptq: 'slim.linear' K=133200 risks int32 overflow}}
  %h = slim.linear %x, %w : tensor<1x133200xf32>, tensor<2x133200xf32>
  %y = slim.linear %h, %w2 : tensor<1x2xf32>, tensor<2x2xf32>
  return %y : tensor<1x2xf32>
}

// -----

// Tests that an activation already fused into a linear (slim-fuse-epilogues
// before quantization) stays as the quantized linear's epilogue.
// CHECK-LABEL: func.func @fused
// CHECK: slim.qlinear %arg0, %{{.*}}, %{{.*}} act = dynamic epilogue = gelu_tanh : tensor<4x3xf32>, tensor<2x3xi8>, tensor<2xf32>
func.func @fused(%x: tensor<4x3xf32>) -> tensor<4x5xf32> {
  %w1 = arith.constant dense<0.5> : tensor<2x3xf32>
  %w2 = arith.constant dense<0.25> : tensor<5x2xf32>
  %h = slim.linear %x, %w1 act = gelu_tanh : tensor<4x3xf32>, tensor<2x3xf32>
  %y = slim.linear %h, %w2 : tensor<4x2xf32>, tensor<5x2xf32>
  return %y : tensor<4x5xf32>
}
