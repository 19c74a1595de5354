// RUN: slim-opt %s -slim-quantize="weights=int4 print=true" -split-input-file -verify-diagnostics 2>&1 | FileCheck %s
// RUN: slim-opt %s -slim-quantize="weights=int4 symmetric=false group=64 act=float" -split-input-file -verify-diagnostics | FileCheck %s --check-prefix=ASYM

// Tests Q4_0 in groups of 32: the first group (0.1 everywhere but -0.8 at 5)
// has d = -0.8 / -8 = 0.1, rounded away from zero to the bfloat16
// 0.10009765625 (0x3DCD), and q = trunc(w/d + 8.5): 9 for 0.1, 0 for -0.8;
// the second (all 0.1) has d = 0.1 / -8 = -0.0125 -> -0.0125122 (0xBC4D)
// and q = trunc(-7.99 + 8.5) = 0. The worst error is the -0.8's,
// 8 · 0.00009765625 = 0.0078 d. int4 takes int8 activations (act =
// dynamic, the default); the head stays float.
// CHECK: ptq: 'slim.linear' [1, 64] -> int4 g32 Q4_0, max |W - deq| = 0.0078 |d|, W4A8
// CHECK-LABEL: func.func @mlp
// CHECK: %[[Q:.*]] = arith.constant dense_resource<w1.int4> : tensor<1x64xi4>
// CHECK: %[[S:.*]] = arith.constant dense_resource<w1.scale> : tensor<1x2xf32>
// CHECK: slim.qlinear %arg0, %[[Q]], %[[S]] act = dynamic {group_size = 32 : i64} : tensor<2x64xf32>, tensor<1x64xi4>, tensor<1x2xf32>
// CHECK: slim.linear
// CHECK: w1.int4: "0x0100000009090909090009090909090909090909090909090909090909090909090909090000000000000000000000000000000000000000000000000000000000000000"
// CHECK: w1.scale: "0x040000000000CD3D00004DBC"
// Min/max in one group of 64: range [-0.8, 0.1], s = 0.9 / 15 = 0.06,
// zero point round(0.8 / 0.06) = 13.
// ASYM: slim.qlinear %arg0, %{{.*}}, %{{.*}} zero_points(%{{.*}} : tensor<1x1xi8>) act = none {group_size = 64 : i64}
// ASYM: w1.zero: "0x010000000D"
func.func @mlp(%x: tensor<2x64xf32>) -> tensor<2x5xf32> {
  %w1 = arith.constant dense_resource<w1> : tensor<1x64xf32>
  %w2 = arith.constant dense<0.25> : tensor<5x1xf32>
  %h = slim.linear %x, %w1 : tensor<2x64xf32>, tensor<1x64xf32>
  %y = slim.linear %h, %w2 : tensor<2x1xf32>, tensor<5x1xf32>
  return %y : tensor<2x5xf32>
}
{-#
  dialect_resources: {
    builtin: {
      w1: "0x04000000CDCCCC3DCDCCCC3DCDCCCC3DCDCCCC3DCDCCCC3DCDCC4CBFCDCCCC3DCDCCCC3DCDCCCC3DCDCCCC3DCDCCCC3DCDCCCC3DCDCCCC3DCDCCCC3DCDCCCC3DCDCCCC3DCDCCCC3DCDCCCC3DCDCCCC3DCDCCCC3DCDCCCC3DCDCCCC3DCDCCCC3DCDCCCC3DCDCCCC3DCDCCCC3DCDCCCC3DCDCCCC3DCDCCCC3DCDCCCC3DCDCCCC3DCDCCCC3DCDCCCC3DCDCCCC3DCDCCCC3DCDCCCC3DCDCCCC3DCDCCCC3DCDCCCC3DCDCCCC3DCDCCCC3DCDCCCC3DCDCCCC3DCDCCCC3DCDCCCC3DCDCCCC3DCDCCCC3DCDCCCC3DCDCCCC3DCDCCCC3DCDCCCC3DCDCCCC3DCDCCCC3DCDCCCC3DCDCCCC3DCDCCCC3DCDCCCC3DCDCCCC3DCDCCCC3DCDCCCC3DCDCCCC3DCDCCCC3DCDCCCC3DCDCCCC3D"
    }
  }
#-}

// -----

// Tests that in-features not divisible by the group (32, then 64) are
// refused.
func.func @odd(%x: tensor<2x48xf32>) -> tensor<2x5xf32> {
  %w1 = arith.constant dense<0.5> : tensor<4x48xf32>
  %w2 = arith.constant dense<0.25> : tensor<5x4xf32>
  // expected-error @+1 {{ptq: 'slim.linear' in_features=48 not divisible by group_size=}}
  %h = slim.linear %x, %w1 : tensor<2x48xf32>, tensor<4x48xf32>
  %y = slim.linear %h, %w2 : tensor<2x4xf32>, tensor<5x4xf32>
  return %y : tensor<2x5xf32>
}
