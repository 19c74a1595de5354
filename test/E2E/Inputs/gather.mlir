// slim.gather and slim.gather_elements with run-time indices (test/E2E/gather.test).
func.func @main(%x: tensor<2x4x3xf32>, %i: tensor<2x2xi64>, %j: tensor<2x2x3xi32>) -> (tensor<2x2x2x3xf32>, tensor<2x2x3xf32>) {
  %a = slim.gather %x [%i] axis = 1 : tensor<2x4x3xf32>, tensor<2x2xi64>
  %b = slim.gather_elements %x [%j] axis = 1 : tensor<2x4x3xf32>, tensor<2x2x3xi32>
  return %a, %b : tensor<2x2x2x3xf32>, tensor<2x2x3xf32>
}
