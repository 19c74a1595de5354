// RUN: slim-opt %s -slim-stats -o /dev/null | FileCheck %s
// RUN: slim-opt %s -slim-stats | FileCheck %s --check-prefix=IR

// Tests that slim-stats counts, per residual and for the rest, the distinct
// weight elements, their bytes and the MACs of linear/attention/matmul, and
// that the totals count a shared (tied) weight once.
//
// attention layer 0: ln 2*16 + qkv 48*16+48 = 848 params (3392 bytes);
//   MACs: qkv 1*4*16*48 = 3072, causal attention B*H*pairs*(d+dv) with the
//   pairs the mask leaves visible 1+2+3+4 = 10: 1*2*10*(8+8) = 320
// mlp layer 0: w 16*16 i8 (256 bytes) + scales 16 f32 (64 bytes) = 272 params;
//   MACs 4*16*16 = 1024
// other: table 10*16 = 160 params (640 bytes), tied head: MACs 4*16*10 = 640
//
// CHECK: slim-stats @forward
// CHECK-NEXT: layer  kind               params          bytes             MACs
// CHECK-NEXT: 0      attention             848           3392             3392
// CHECK-NEXT: 0      mlp                   272            320             1024
// CHECK-NEXT: -      other                 160            640              640
// CHECK-NEXT: total                       1280           4352             5056

// IR: func.func @forward
// IR: slim.residual attention layer 0

func.func @forward(%ids: tensor<1x4xi64>) -> tensor<1x4x10xf32> {
  %wte = arith.constant dense<0.5> : tensor<10x16xf32>
  %g = arith.constant dense<1.0> : tensor<16xf32>
  %b = arith.constant dense<0.0> : tensor<16xf32>
  %wqkv = arith.constant dense<0.1> : tensor<48x16xf32>
  %bqkv = arith.constant dense<0.0> : tensor<48xf32>
  %q8 = arith.constant dense<3> : tensor<16x16xi8>
  %s8 = arith.constant dense<0.01> : tensor<16xf32>
  %x = slim.embedding %wte[%ids] : tensor<10x16xf32>, tensor<1x4xi64>
  %h = slim.residual attention layer 0 (%x) : tensor<1x4x16xf32> {
  ^bb0(%a: tensor<1x4x16xf32>):
    %n = slim.layer_norm %a, %g, %b : tensor<1x4x16xf32>, tensor<16xf32>, tensor<16xf32>
    %qkv = slim.linear %n, %wqkv, %bqkv : tensor<1x4x16xf32>, tensor<48x16xf32>, tensor<48xf32>
    %q = slim.slice %qkv offsets [0, 0, 0] sizes [1, 4, 16] strides [1, 1, 1] : tensor<1x4x48xf32>
    %k = slim.slice %qkv offsets [0, 0, 16] sizes [1, 4, 16] strides [1, 1, 1] : tensor<1x4x48xf32>
    %v = slim.slice %qkv offsets [0, 0, 32] sizes [1, 4, 16] strides [1, 1, 1] : tensor<1x4x48xf32>
    %o = slim.attention %q, %k, %v heads(2, 2) causal : tensor<1x4x16xf32>, tensor<1x4x16xf32>, tensor<1x4x16xf32>
    slim.yield %o : tensor<1x4x16xf32>
  }
  %y = slim.residual mlp layer 0 (%h) : tensor<1x4x16xf32> {
  ^bb0(%a: tensor<1x4x16xf32>):
    %m = slim.qlinear %a, %q8, %s8 act = dynamic : tensor<1x4x16xf32>, tensor<16x16xi8>, tensor<16xf32>
    slim.yield %m : tensor<1x4x16xf32>
  }
  %logits = slim.linear %y, %wte : tensor<1x4x16xf32>, tensor<10x16xf32>
  return %logits : tensor<1x4x10xf32>
}
