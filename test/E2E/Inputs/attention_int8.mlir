// Two int8 attentions alone (test/E2E/targets-portable.test): grouped
// queries (4 heads over 2 kv heads, head dim 12, value dim 20), causal,
// and with a per-key bias; 100 keys (not a multiple of 16 or 64).
func.func @main(%q: tensor<2x100x48xf32>, %k: tensor<2x100x24xf32>, %v: tensor<2x100x40xf32>, %m: tensor<2x100xf32>) -> (tensor<2x100x80xf32>, tensor<2x100x80xf32>) {
  %a = slim.attention %q, %k, %v heads(4, 2) causal int8 : tensor<2x100x48xf32>, tensor<2x100x24xf32>, tensor<2x100x40xf32>
  %b = slim.attention %q, %k, %v key_bias(%m : tensor<2x100xf32>) heads(4, 2) int8 : tensor<2x100x48xf32>, tensor<2x100x24xf32>, tensor<2x100x40xf32>
  return %a, %b : tensor<2x100x80xf32>, tensor<2x100x80xf32>
}
