// A toy classifier: logits = the first two pixels of a 2x2 image.
func.func @main(%px: tensor<1x1x2x2xf32> {slim.name = "pixel_values"}) -> (tensor<1x2xf32> {slim.name = "logits"}) {
  %w = arith.constant dense<[[1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0]]> : tensor<2x4xf32>
  %flat = slim.reshape %px : tensor<1x1x2x2xf32> -> tensor<1x4xf32>
  %logits = slim.linear %flat, %w : tensor<1x4xf32>, tensor<2x4xf32>
  return %logits : tensor<1x2xf32>
}
