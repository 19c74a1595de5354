// RUN: slim-opt %s -slim-lower-to-llvm | FileCheck %s

// Tests which products get the threaded kernel: a same-shape product of
// 2^16 elements or more (SwiGLU's gate · up in a prefill: here 128 × 512)
// calls slim_k_mul with its element count; a small one (a decode step's)
// and a broadcasting one stay glue (generated loops, no kernel call).
// CHECK-LABEL: llvm.func @slim_model_compute
// CHECK: %[[N:.*]] = llvm.mlir.constant(65536 : i64) : i64
// CHECK: llvm.call @slim_k_mul(%{{.*}}, %{{.*}}, %[[N]], %{{.*}})
// CHECK-NOT: llvm.call @slim_k_mul
// CHECK: llvm.return
func.func @main(%a: tensor<1x128x512xf32>, %b: tensor<1x128x512xf32>,
                %c: tensor<1x4xf32>, %s: tensor<1x128x1xf32>)
    -> (tensor<1x128x512xf32>, tensor<1x4xf32>, tensor<1x128x512xf32>) {
  %y = slim.mul %a, %b : tensor<1x128x512xf32>, tensor<1x128x512xf32>
  %z = slim.mul %c, %c : tensor<1x4xf32>, tensor<1x4xf32>
  %w = slim.mul %y, %s : tensor<1x128x512xf32>, tensor<1x128x1xf32>
  return %y, %z, %w : tensor<1x128x512xf32>, tensor<1x4xf32>, tensor<1x128x512xf32>
}
