// slim.pad in its four modes (test/E2E/pad.test).
func.func @main(%x: tensor<2x3x4xf32>) -> (tensor<2x5x7xf32>, tensor<2x5x7xf32>, tensor<2x5x7xf32>, tensor<2x5x7xf32>) {
  %c = slim.pad constant %x [0, 1, 2, 0, 1, 1] value = 1.5 : tensor<2x3x4xf32>
  %r = slim.pad reflect %x [0, 1, 2, 0, 1, 1] : tensor<2x3x4xf32>
  %e = slim.pad edge %x [0, 1, 2, 0, 1, 1] : tensor<2x3x4xf32>
  %w = slim.pad wrap %x [0, 1, 2, 0, 1, 1] : tensor<2x3x4xf32>
  return %c, %r, %e, %w : tensor<2x5x7xf32>, tensor<2x5x7xf32>, tensor<2x5x7xf32>, tensor<2x5x7xf32>
}
