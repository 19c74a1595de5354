// RUN: slim-opt %s -slim-decode-step="tokens=2 name=prefill" -slim-decode-step="tokens=1 name=decode" -slim-lower-to-llvm | FileCheck %s
// RUN: slim-opt %s -slim-decode-step="tokens=2 name=prefill cache=f16" -slim-decode-step="tokens=1 name=decode cache=f16" | FileCheck %s --check-prefix=F16OP
// RUN: slim-opt %s -slim-decode-step="tokens=2 name=prefill cache=f16" -slim-decode-step="tokens=1 name=decode cache=f16" -slim-lower-to-llvm | FileCheck %s --check-prefix=F16
// RUN: not slim-opt %s -slim-decode-step="tokens=1 name=decode cache=bf16" 2>&1 | FileCheck %s --check-prefix=BADCACHE
// RUN: not slim-opt %s -slim-decode-step="tokens=2 name=prefill cache=f16" -slim-decode-step="tokens=1 name=decode" -slim-lower-to-llvm 2>&1 | FileCheck %s --check-prefix=MIXED

// Tests the lowering of the step functions: slim_model_prefill and
// slim_model_decode take the KV cache as a fifth pointer; each
// slim.kv_attention passes its slot inside it (slot 0 at byte 0, slot 1
// after 4 positions x (4 key + 4 value floats) = 128 bytes), its 1 or 2 new
// tokens, 2 heads over 1 kv head of 4, and the capacity 4. The cache is 256
// bytes. The weights are stored once for the three entry points: 4736 bytes
// = first the 16x8 table plain for the gather (512), padded to a 4 KB page
// (the runtime maps the tables, of which a run reads a few rows, and reads
// the rest into 2 MB pages), then the table packed for the head (512) and the
// packed 4x8 key weight (128); not three times that.
// (The GEP offsets are constants shared with the arena's; the slots' byte
// offsets are pinned by the cache size and checked at run time by the
// two-layer fixtures in E2E/generate.test.)
// With cache=f16 (slimc --kv-cache=f16) the slots hold float16: half the
// bytes (slot 1 at byte 64, 128 in all), the kernel told so by an i32 flag
// (E2E/generate.test runs such caches against ONNX Runtime);
// a bad element type and steps that disagree are refused.
// F16OP-COUNT-4: slim.kv_attention {{.*}} capacity(4) cache_f16 :
// F16: slim.kv_cache_bytes = 128 : i64
// BADCACHE: decode-step: cache=bf16: expected f32 or f16
// MIXED: error: the KV cache of @decode (256 bytes) differs from the other step function's (128 bytes)
// CHECK-LABEL: module attributes {slim.arena_bytes = {{[0-9]+}} : i64, slim.kv_cache_bytes = 256 : i64, slim.table_weights_bytes = 4096 : i64, slim.weights_bytes = 4736 : i64}
// CHECK-DAG: llvm.func @slim_k_kv_attention(!llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr, i64, i64, i64, i64, i64, i64, !llvm.ptr, i32, f32, !llvm.ptr) -> i32
// CHECK: llvm.func @slim_model_compute(%{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr) -> i32
// CHECK: llvm.call @slim_k_attention
// CHECK: llvm.func @slim_model_prefill(%{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr, %[[CACHE:.*]]: !llvm.ptr) -> i32
// CHECK: %[[SLOT0:.*]] = llvm.getelementptr %[[CACHE]][%{{[0-9]+}}] : (!llvm.ptr, i64) -> !llvm.ptr, i8
// CHECK: %[[T2:.*]] = llvm.mlir.constant(2 : i64) : i64
// CHECK: %[[H:.*]] = llvm.mlir.constant(2 : i64) : i64
// CHECK: %[[HKV:.*]] = llvm.mlir.constant(1 : i64) : i64
// CHECK: %[[D:.*]] = llvm.mlir.constant(4 : i64) : i64
// CHECK: %[[DV:.*]] = llvm.mlir.constant(4 : i64) : i64
// CHECK: %[[CAP:.*]] = llvm.mlir.constant(4 : i64) : i64
// CHECK: llvm.call @slim_k_kv_attention(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %[[T2]], %[[H]], %[[HKV]], %[[D]], %[[DV]], %[[CAP]], %[[SLOT0]], %{{.*}}, %{{.*}}, %{{.*}})
// CHECK: %[[SLOT1:.*]] = llvm.getelementptr %[[CACHE]][%{{[0-9]+}}] : (!llvm.ptr, i64) -> !llvm.ptr, i8
// CHECK: llvm.call @slim_k_kv_attention({{.*}}, %[[SLOT1]], %{{.*}}, %{{.*}}, %{{.*}})
// CHECK: llvm.func @slim_model_decode(%{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr) -> i32
// CHECK: llvm.call @slim_k_kv_attention
// CHECK: llvm.call @slim_k_kv_attention
// CHECK-NOT: func.func
func.func @main(%ids: tensor<1x4xi64>) -> tensor<1x4x16xf32> {
  %emb = arith.constant dense<0.25> : tensor<16x8xf32>
  %wk = arith.constant dense<0.5> : tensor<4x8xf32>
  %x = slim.embedding %emb[%ids] : tensor<16x8xf32>, tensor<1x4xi64>
  %h = slim.residual attention layer 0 (%x) : tensor<1x4x8xf32> {
  ^bb0(%a: tensor<1x4x8xf32>):
    %k = slim.linear %a, %wk : tensor<1x4x8xf32>, tensor<4x8xf32>
    %o = slim.attention %a, %k, %k heads(2, 1) causal : tensor<1x4x8xf32>, tensor<1x4x4xf32>, tensor<1x4x4xf32>
    slim.yield %o : tensor<1x4x8xf32>
  }
  %h1 = slim.residual attention layer 1 (%h) : tensor<1x4x8xf32> {
  ^bb0(%a: tensor<1x4x8xf32>):
    %k = slim.linear %a, %wk : tensor<1x4x8xf32>, tensor<4x8xf32>
    %o = slim.attention %a, %k, %k heads(2, 1) causal : tensor<1x4x8xf32>, tensor<1x4x4xf32>, tensor<1x4x4xf32>
    slim.yield %o : tensor<1x4x8xf32>
  }
  %y = slim.linear %h1, %emb : tensor<1x4x8xf32>, tensor<16x8xf32>
  return %y : tensor<1x4x16xf32>
}
