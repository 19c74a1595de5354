// RUN: slim-opt %s -split-input-file -verify-diagnostics

// Every verifier message of the slim dialect, one case each.

//===----------------------------------------------------------------------===//
// slim.residual / slim.yield
//===----------------------------------------------------------------------===//

// Tests that the body's argument must be the residual stream.
func.func @residual_bad_arg(%x: tensor<1x4xf32>) -> tensor<1x4xf32> {
  // expected-error @+1 {{'slim.residual' op body must take one argument of the residual stream type 'tensor<1x4xf32>', got 1 argument(s) of type 'tensor<1x8xf32>'}}
  %y = slim.residual mlp layer 0 (%x) : tensor<1x4xf32> {
  ^bb0(%a: tensor<1x8xf32>):
    %b = slim.reshape %a : tensor<1x8xf32> -> tensor<2x4xf32>
    %c = slim.slice %b offsets [0, 0] sizes [1, 4] strides [1, 1] : tensor<2x4xf32>
    slim.yield %c : tensor<1x4xf32>
  }
  return %y : tensor<1x4xf32>
}

// -----

// Tests that the body must take exactly one argument.
func.func @residual_no_arg(%x: tensor<1x4xf32>) -> tensor<1x4xf32> {
  // expected-error @+1 {{'slim.residual' op body must take one argument of the residual stream type 'tensor<1x4xf32>', got 0 argument(s)}}
  %y = slim.residual mlp layer 0 (%x) : tensor<1x4xf32> {
    slim.yield %x : tensor<1x4xf32>
  }
  return %y : tensor<1x4xf32>
}

// -----

// Tests that the body must end with slim.yield.
func.func @residual_no_yield(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{'slim.residual' op body must end with slim.yield}}
  %y = slim.residual mlp layer 0 (%x) : tensor<4xf32> {
  ^bb0(%a: tensor<4xf32>):
    %b = slim.silu %a : tensor<4xf32>
  }
  return %y : tensor<4xf32>
}

// -----

// Tests that the branch must have the stream's type.
func.func @residual_bad_yield(%x: tensor<1x4xf32>) -> tensor<1x4xf32> {
  // expected-error @+1 {{'slim.residual' op body yields 'tensor<4xf32>' but the residual stream is 'tensor<1x4xf32>'}}
  %y = slim.residual attention layer 2 (%x) : tensor<1x4xf32> {
  ^bb0(%a: tensor<1x4xf32>):
    %b = slim.reshape %a : tensor<1x4xf32> -> tensor<4xf32>
    slim.yield %b : tensor<4xf32>
  }
  return %y : tensor<1x4xf32>
}

// -----

// Tests that layer indices are non-negative.
func.func @residual_negative_layer(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{'slim.residual' op attribute 'layer' failed to satisfy constraint: 64-bit signless integer attribute whose value is non-negative}}
  %y = slim.residual mlp layer -1 (%x) : tensor<4xf32> {
  ^bb0(%a: tensor<4xf32>):
    slim.yield %a : tensor<4xf32>
  }
  return %y : tensor<4xf32>
}

// -----

// Tests that slim.yield lives only in a slim.residual.
func.func @yield_outside(%x: tensor<4xf32>) {
  // expected-error @+1 {{'slim.yield' op expects parent op 'slim.residual'}}
  slim.yield %x : tensor<4xf32>
}

//===----------------------------------------------------------------------===//
// Operand types (shape inference runs before type constraints)
//===----------------------------------------------------------------------===//

// -----

// Tests that dynamic shapes are rejected: shapes are compile options.
func.func @dynamic_shape(%x: tensor<?x64xf32>, %w: tensor<32x64xf32>) {
  // expected-error @+1 {{'slim.linear' op operands must be static-shaped tensors, got 'tensor<?x64xf32>'}}
  %y = slim.linear %x, %w : tensor<?x64xf32>, tensor<32x64xf32>
  return
}

// -----

// Tests the ODS type constraint on ops without shape inference.
func.func @integer_layer_norm(%x: tensor<2x4xi32>, %g: tensor<4xi32>) {
  // expected-error @+1 {{'slim.layer_norm' op operand #0 must be statically shaped tensor of floating-point values, but got 'tensor<2x4xi32>'}}
  %y = slim.layer_norm %x, %g : tensor<2x4xi32>, tensor<4xi32>
  return
}

//===----------------------------------------------------------------------===//
// slim.embedding
//===----------------------------------------------------------------------===//

// -----

// Tests that the table is [vocab, dim].
func.func @embedding_rank(%t: tensor<10x4x2xf32>, %ids: tensor<1x3xi64>) {
  // expected-error @+1 {{'slim.embedding' op table must have rank 2 ([vocab, dim]), got 'tensor<10x4x2xf32>'}}
  %e = slim.embedding %t[%ids] : tensor<10x4x2xf32>, tensor<1x3xi64>
  return
}

//===----------------------------------------------------------------------===//
// slim.layer_norm / slim.rms_norm
//===----------------------------------------------------------------------===//

// -----

// Tests that the normalized axis is one of the input's.
func.func @layer_norm_axis(%x: tensor<2x4xf32>, %g: tensor<4xf32>) {
  // expected-error @+1 {{'slim.layer_norm' op axis 2 is out of range for input 'tensor<2x4xf32>'}}
  %y = slim.layer_norm %x, %g {axis = 2 : i64} : tensor<2x4xf32>, tensor<4xf32>
  return
}

// -----

// Tests that the gain spans every normalized axis.
func.func @layer_norm_scale(%x: tensor<2x3x4xf32>, %g: tensor<4xf32>) {
  // expected-error @+1 {{'slim.layer_norm' op scale must have shape [3, 4] (the normalized axes of 'tensor<2x3x4xf32>'), got 'tensor<4xf32>'}}
  %y = slim.layer_norm %x, %g {axis = -2 : i64} : tensor<2x3x4xf32>, tensor<4xf32>
  return
}

// -----

// Tests that the bias spans every normalized axis.
func.func @layer_norm_bias(%x: tensor<2x4xf32>, %g: tensor<4xf32>, %b: tensor<5xf32>) {
  // expected-error @+1 {{'slim.layer_norm' op bias must have shape [4] (the normalized axes of 'tensor<2x4xf32>'), got 'tensor<5xf32>'}}
  %y = slim.layer_norm %x, %g, %b : tensor<2x4xf32>, tensor<4xf32>, tensor<5xf32>
  return
}

// -----

// Tests that gain and input share their element type.
func.func @layer_norm_types(%x: tensor<2x4xf32>, %g: tensor<4xf16>) {
  // expected-error @+1 {{'slim.layer_norm' op element types differ: input has 'f32', scale has 'f16'}}
  %y = slim.layer_norm %x, %g : tensor<2x4xf32>, tensor<4xf16>
  return
}

// -----

// Tests that epsilon is positive.
func.func @layer_norm_epsilon(%x: tensor<2x4xf32>, %g: tensor<4xf32>) {
  // expected-error @+1 {{'slim.layer_norm' op epsilon must be positive and finite, got 0}}
  %y = slim.layer_norm %x, %g {epsilon = 0.0 : f32} : tensor<2x4xf32>, tensor<4xf32>
  return
}

// -----

// Tests that a scalar has no axis to normalize.
func.func @rms_norm_scalar(%x: tensor<f32>, %g: tensor<f32>) {
  // expected-error @+1 {{'slim.rms_norm' op input must have rank >= 1, got 'tensor<f32>'}}
  %y = slim.rms_norm %x, %g : tensor<f32>, tensor<f32>
  return
}

// -----

// Tests that the gain spans the last axis only.
func.func @rms_norm_scale(%x: tensor<2x4xf32>, %g: tensor<2x4xf32>) {
  // expected-error @+1 {{'slim.rms_norm' op scale must have shape [4] (the normalized axes of 'tensor<2x4xf32>'), got 'tensor<2x4xf32>'}}
  %y = slim.rms_norm %x, %g : tensor<2x4xf32>, tensor<2x4xf32>
  return
}

// -----

// Tests that a scalar has no axis to normalize.
func.func @crms_norm_scalar(%x: tensor<f32>) {
  // expected-error @+1 {{'slim.crms_norm' op input must have rank >= 1, got 'tensor<f32>'}}
  %y = slim.crms_norm %x : tensor<f32>
  return
}

// -----

// Tests that epsilon is not negative.
func.func @crms_norm_epsilon(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{'slim.crms_norm' op epsilon must be >= 0, got -1.000000e+00}}
  %y = slim.crms_norm %x {epsilon = -1.0 : f32} : tensor<2x3xf32>
  return
}

//===----------------------------------------------------------------------===//
// slim.linear
//===----------------------------------------------------------------------===//

// -----

// Tests that the weight is a matrix [out, in].
func.func @linear_weight_rank(%x: tensor<2x4xf32>, %w: tensor<4xf32>) {
  // expected-error @+1 {{'slim.linear' op weight must have rank 2 ([out, in]), got 'tensor<4xf32>'}}
  %y = slim.linear %x, %w : tensor<2x4xf32>, tensor<4xf32>
  return
}

// -----

// Tests that the input has a feature axis.
func.func @linear_scalar_input(%x: tensor<f32>, %w: tensor<3x4xf32>) {
  // expected-error @+1 {{'slim.linear' op input must have rank >= 1, got 'tensor<f32>'}}
  %y = slim.linear %x, %w : tensor<f32>, tensor<3x4xf32>
  return
}

// -----

// Tests that the input's last axis is the weight's in-features.
func.func @linear_features(%x: tensor<2x5xf32>, %w: tensor<3x4xf32>) {
  // expected-error @+1 {{'slim.linear' op input feature size 5 does not match the weight's in-features 4 (weight is [out, in] = [3, 4])}}
  %y = slim.linear %x, %w : tensor<2x5xf32>, tensor<3x4xf32>
  return
}

// -----

// Tests that the bias has one value per output.
func.func @linear_bias(%x: tensor<2x4xf32>, %w: tensor<3x4xf32>, %b: tensor<4xf32>) {
  // expected-error @+1 {{'slim.linear' op bias must have shape [3], got 'tensor<4xf32>'}}
  %y = slim.linear %x, %w, %b : tensor<2x4xf32>, tensor<3x4xf32>, tensor<4xf32>
  return
}

// -----

// Tests that input and weight share their element type.
func.func @linear_types(%x: tensor<2x4xf32>, %w: tensor<3x4xbf16>) {
  // expected-error @+1 {{'slim.linear' op element types differ: input has 'f32', weight has 'bf16'}}
  %y = slim.linear %x, %w : tensor<2x4xf32>, tensor<3x4xbf16>
  return
}

// -----

// Tests that input and bias share their element type.
func.func @linear_bias_type(%x: tensor<2x4xf32>, %w: tensor<3x4xf32>, %b: tensor<3xf16>) {
  // expected-error @+1 {{'slim.linear' op element types differ: input has 'f32', bias has 'f16'}}
  %y = slim.linear %x, %w, %b : tensor<2x4xf32>, tensor<3x4xf32>, tensor<3xf16>
  return
}

//===----------------------------------------------------------------------===//
// slim.qlinear
//===----------------------------------------------------------------------===//

// -----

// Tests that the group size divides the in-features.
func.func @qlinear_group(%x: tensor<2x64xf32>, %w: tensor<8x64xi4>, %s: tensor<8x2xf32>) {
  // expected-error @+1 {{'slim.qlinear' op group_size 48 does not divide the in-features 64}}
  %y = slim.qlinear %x, %w, %s act = none {group_size = 48 : i64} : tensor<2x64xf32>, tensor<8x64xi4>, tensor<8x2xf32>
  return
}

// -----

// Tests that per-channel weights have one scale per output.
func.func @qlinear_channel_scales(%x: tensor<2x64xf32>, %w: tensor<8x64xi8>, %s: tensor<64xf32>) {
  // expected-error @+1 {{'slim.qlinear' op scales must have shape [8] ([out]), got 'tensor<64xf32>'}}
  %y = slim.qlinear %x, %w, %s act = dynamic : tensor<2x64xf32>, tensor<8x64xi8>, tensor<64xf32>
  return
}

// -----

// Tests that group-wise weights have one scale per output and group.
func.func @qlinear_group_scales(%x: tensor<2x64xf32>, %w: tensor<8x64xi4>, %s: tensor<8xf32>) {
  // expected-error @+1 {{'slim.qlinear' op scales must have shape [8, 2] ([out, in / group_size]), got 'tensor<8xf32>'}}
  %y = slim.qlinear %x, %w, %s act = none {group_size = 32 : i64} : tensor<2x64xf32>, tensor<8x64xi4>, tensor<8xf32>
  return
}

// -----

// Tests that zero points have the shape of the scales.
func.func @qlinear_zero_points(%x: tensor<2x64xf32>, %w: tensor<8x64xi4>, %s: tensor<8x2xf32>, %z: tensor<8xi4>) {
  // expected-error @+1 {{'slim.qlinear' op zero_points must have the shape of scales [8, 2], got 'tensor<8xi4>'}}
  %y = slim.qlinear %x, %w, %s zero_points(%z : tensor<8xi4>) act = none {group_size = 32 : i64} : tensor<2x64xf32>, tensor<8x64xi4>, tensor<8x2xf32>
  return
}

// -----

// Tests that static activations need their calibrated scale.
func.func @qlinear_static_scale(%x: tensor<2x64xf32>, %w: tensor<8x64xi8>, %s: tensor<8xf32>) {
  // expected-error @+1 {{'slim.qlinear' op act = static needs act_scale (the calibrated activation scale)}}
  %y = slim.qlinear %x, %w, %s act = static : tensor<2x64xf32>, tensor<8x64xi8>, tensor<8xf32>
  return
}

// -----

// Tests that an activation scale comes only with static activations.
func.func @qlinear_dynamic_scale(%x: tensor<2x64xf32>, %w: tensor<8x64xi8>, %s: tensor<8xf32>) {
  // expected-error @+1 {{'slim.qlinear' op act_scale is only meaningful with act = static, got act = dynamic}}
  %y = slim.qlinear %x, %w, %s act = dynamic {act_scale = 0.1 : f32} : tensor<2x64xf32>, tensor<8x64xi8>, tensor<8xf32>
  return
}

// -----

// Tests that the activation scale is positive.
func.func @qlinear_negative_scale(%x: tensor<2x64xf32>, %w: tensor<8x64xi8>, %s: tensor<8xf32>) {
  // expected-error @+1 {{'slim.qlinear' op act_scale must be positive, got -1}}
  %y = slim.qlinear %x, %w, %s act = static {act_scale = -1.0 : f32} : tensor<2x64xf32>, tensor<8x64xi8>, tensor<8xf32>
  return
}

// -----

// Tests that a clamp's lower bound does not exceed its upper bound.
func.func @clamp_bounds(%x: tensor<4xf32>) {
  // expected-error @+1 {{'slim.clamp' op min 1.000000e+00 must not exceed max 0.000000e+00}}
  %y = slim.clamp %x [1.0, 0.0] : tensor<4xf32>
  return
}

// -----

// Tests that a residual fused into a linear must have the result's type.
func.func @linear_residual_type(%x: tensor<2x4xf32>, %w: tensor<8x4xf32>, %r: tensor<2x4xf32>) {
  // expected-error @+1 {{'slim.linear' op residual must have the result's type 'tensor<2x8xf32>', got 'tensor<2x4xf32>'}}
  %y = slim.linear %x, %w residual(%r : tensor<2x4xf32>) : tensor<2x4xf32>, tensor<8x4xf32>
  return
}

// -----

// Tests that a fused residual must yield a linear that adds the stream.
func.func @residual_fused(%x: tensor<2x4xf32>, %w: tensor<4x4xf32>) -> tensor<2x4xf32> {
  // expected-error @+1 {{'slim.residual' op fused: the body must yield a linear or qlinear whose residual operand is the block argument}}
  %r = slim.residual mlp layer 0 fused (%x) : tensor<2x4xf32> {
  ^bb0(%a: tensor<2x4xf32>):
    %y = slim.linear %a, %w : tensor<2x4xf32>, tensor<4x4xf32>
    slim.yield %y : tensor<2x4xf32>
  }
  return %r : tensor<2x4xf32>
}

// -----

// Tests that the fusion decisions are refused on an int4 qlinear.
func.func @qlinear_fused_int4(%x: tensor<2x64xf32>, %w: tensor<8x64xi4>, %s: tensor<8x2xf32>, %r: tensor<2x8xf32>) {
  // expected-error @+1 {{'slim.qlinear' op norm, residual and group need int8 per-channel weights and act = dynamic or static}}
  %y = slim.qlinear %x, %w, %s residual(%r : tensor<2x8xf32>) act = none {group_size = 32 : i64} : tensor<2x64xf32>, tensor<8x64xi4>, tensor<8x2xf32>
  return
}

// -----

// Tests that a folded norm needs its epsilon.
func.func @qlinear_norm_eps(%x: tensor<2x64xf32>, %w: tensor<8x64xi8>, %s: tensor<8xf32>, %g: tensor<64xf32>) {
  // expected-error @+1 {{'slim.qlinear' op norm needs norm_eps}}
  %y = slim.qlinear %x, %w, %s norm = rms_norm(%g : tensor<64xf32>) act = dynamic : tensor<2x64xf32>, tensor<8x64xi8>, tensor<8xf32>
  return
}

// -----

// Tests that a folded norm's gain has the in-features' width.
func.func @qlinear_norm_shape(%x: tensor<2x64xf32>, %w: tensor<8x64xi8>, %s: tensor<8xf32>, %g: tensor<8xf32>) {
  // expected-error @+1 {{'slim.qlinear' op norm scale and bias must have shape [64] (the in-features), got 'tensor<8xf32>'}}
  %y = slim.qlinear %x, %w, %s norm = rms_norm(%g : tensor<8xf32>) act = dynamic {norm_eps = 1.0e-5 : f32} : tensor<2x64xf32>, tensor<8x64xi8>, tensor<8xf32>
  return
}

// -----

// Tests that a norm's eps without a norm is refused.
func.func @qlinear_eps_without_norm(%x: tensor<2x64xf32>, %w: tensor<8x64xi8>, %s: tensor<8xf32>) {
  // expected-error @+1 {{'slim.qlinear' op norm scale, bias and eps need norm = layer_norm or rms_norm}}
  %y = slim.qlinear %x, %w, %s act = dynamic {norm_eps = 1.0e-5 : f32} : tensor<2x64xf32>, tensor<8x64xi8>, tensor<8xf32>
  return
}

// -----

// Tests that a group's members must follow its first qlinear and read the
// same input.
func.func @qlinear_group_members(%x: tensor<2x64xf32>, %x2: tensor<2x64xf32>, %w: tensor<8x64xi8>, %s: tensor<8xf32>) {
  // expected-error @+1 {{'slim.qlinear' op group = 2: op 1 after this one must be an int8 qlinear of the same input, act, act_scale and norm, without residual or group}}
  %y = slim.qlinear %x, %w, %s act = dynamic {group = 2 : i64} : tensor<2x64xf32>, tensor<8x64xi8>, tensor<8xf32>
  %z = slim.qlinear %x2, %w, %s act = dynamic : tensor<2x64xf32>, tensor<8x64xi8>, tensor<8xf32>
  return
}

// -----

// Tests that the weights are int8 or int4.
func.func @qlinear_float_weight(%x: tensor<2x64xf32>, %w: tensor<8x64xf32>, %s: tensor<8xf32>) {
  // expected-error @+1 {{'slim.qlinear' op operand #1 must be statically shaped tensor of 8-bit signless integer or 4-bit signless integer values, but got 'tensor<8x64xf32>'}}
  %y = slim.qlinear %x, %w, %s act = none : tensor<2x64xf32>, tensor<8x64xf32>, tensor<8xf32>
  return
}

// -----

// Tests that a bias's groups divide the batch.
func.func @attention_bias_groups(%q: tensor<6x4x8xf32>, %b: tensor<4x2x4x4xf32>) {
  // expected-error @+1 {{'slim.attention' op bias must be a [G, 2, 4, 4] ([groups, heads, queries, keys], G dividing the batch 6) tensor of the query's element type, got 'tensor<4x2x4x4xf32>'}}
  %o = slim.attention %q, %q, %q bias(%b : tensor<4x2x4x4xf32>) heads(2, 2) : tensor<6x4x8xf32>, tensor<6x4x8xf32>, tensor<6x4x8xf32>
  return
}

// -----

// Tests that a bias has one slice per head.
func.func @attention_bias_heads(%q: tensor<2x4x8xf32>, %b: tensor<1x4x4x4xf32>) {
  // expected-error @+1 {{'slim.attention' op bias must be a [G, 2, 4, 4] ([groups, heads, queries, keys], G dividing the batch 2) tensor of the query's element type, got 'tensor<1x4x4x4xf32>'}}
  %o = slim.attention %q, %q, %q bias(%b : tensor<1x4x4x4xf32>) heads(2, 2) : tensor<2x4x8xf32>, tensor<2x4x8xf32>, tensor<2x4x8xf32>
  return
}

//===----------------------------------------------------------------------===//
// slim.kv_attention
//===----------------------------------------------------------------------===//

// -----

// Tests that the KV cache serves one sequence.
func.func @kv_batch(%q: tensor<2x1x64xf32>, %pos: tensor<1x1xi64>) {
  // expected-error @+1 {{'slim.kv_attention' op the KV cache holds one sequence: batch must be 1, got 2}}
  %o = slim.kv_attention %q, %q, %q, %pos heads(4, 4) slot(0) capacity(8) : tensor<2x1x64xf32>, tensor<2x1x64xf32>, tensor<2x1x64xf32>, tensor<1x1xi64>
  return
}

// -----

// Tests that query, key and value bring the same new tokens.
func.func @kv_tokens(%q: tensor<1x2x64xf32>, %k: tensor<1x3x64xf32>, %pos: tensor<1x2xi64>) {
  // expected-error @+1 {{'slim.kv_attention' op query, key and value must have the same tokens, got 2, 3, 3}}
  %o = slim.kv_attention %q, %k, %k, %pos heads(4, 4) slot(0) capacity(8) : tensor<1x2x64xf32>, tensor<1x3x64xf32>, tensor<1x3x64xf32>, tensor<1x2xi64>
  return
}

// -----

// Tests that query and key heads have one head dim.
func.func @kv_heads(%q: tensor<1x1x64xf32>, %k: tensor<1x1x48xf32>, %pos: tensor<1x1xi64>) {
  // expected-error @+1 {{'slim.kv_attention' op query width 64 / 4 heads must equal key width 48 / 2 heads}}
  %o = slim.kv_attention %q, %k, %k, %pos heads(4, 2) slot(0) capacity(8) : tensor<1x1x64xf32>, tensor<1x1x48xf32>, tensor<1x1x48xf32>, tensor<1x1xi64>
  return
}

// -----

// Tests that there is one position per new token.
func.func @kv_positions(%q: tensor<1x2x64xf32>, %pos: tensor<2xi64>) {
  // expected-error @+1 {{'slim.kv_attention' op positions must be tensor<1x2xi64>, got 'tensor<2xi64>'}}
  %o = slim.kv_attention %q, %q, %q, %pos heads(4, 4) slot(0) capacity(8) : tensor<1x2x64xf32>, tensor<1x2x64xf32>, tensor<1x2x64xf32>, tensor<2xi64>
  return
}

// -----

// Tests that the cache holds at least the new tokens.
func.func @kv_capacity(%q: tensor<1x4x64xf32>, %pos: tensor<1x4xi64>) {
  // expected-error @+1 {{'slim.kv_attention' op capacity 2 is smaller than the 4 new tokens}}
  %o = slim.kv_attention %q, %q, %q, %pos heads(4, 4) slot(0) capacity(2) : tensor<1x4x64xf32>, tensor<1x4x64xf32>, tensor<1x4x64xf32>, tensor<1x4xi64>
  return
}

// -----

// Tests that the cache slot is not negative.
func.func @kv_slot(%q: tensor<1x1x64xf32>, %pos: tensor<1x1xi64>) {
  // expected-error @+1 {{'slim.kv_attention' op slot must be non-negative, got -1}}
  %o = slim.kv_attention %q, %q, %q, %pos heads(4, 4) slot(-1) capacity(8) : tensor<1x1x64xf32>, tensor<1x1x64xf32>, tensor<1x1x64xf32>, tensor<1x1xi64>
  return
}

//===----------------------------------------------------------------------===//
// slim.attention
//===----------------------------------------------------------------------===//

// -----

// Tests that query, key and value are [batch, tokens, heads * head_dim].
func.func @attention_rank(%q: tensor<8x64xf32>) {
  // expected-error @+1 {{'slim.attention' op query, key and value must have rank 3 ([batch, tokens, heads * head_dim]), got 'tensor<8x64xf32>', 'tensor<8x64xf32>', 'tensor<8x64xf32>'}}
  %o = slim.attention %q, %q, %q heads(4, 4) : tensor<8x64xf32>, tensor<8x64xf32>, tensor<8x64xf32>
  return
}

// -----

// Tests that query, key and value share their element type.
func.func @attention_types(%q: tensor<1x8x64xf32>, %k: tensor<1x8x64xf16>) {
  // expected-error @+1 {{'slim.attention' op element types differ: query has 'f32', key has 'f16'}}
  %o = slim.attention %q, %k, %k heads(4, 4) : tensor<1x8x64xf32>, tensor<1x8x64xf16>, tensor<1x8x64xf16>
  return
}

// -----

// Tests that query, key and value share their batch.
func.func @attention_batch(%q: tensor<1x8x64xf32>, %k: tensor<2x8x64xf32>) {
  // expected-error @+1 {{'slim.attention' op batch sizes differ: query 1, key 2, value 2}}
  %o = slim.attention %q, %k, %k heads(4, 4) : tensor<1x8x64xf32>, tensor<2x8x64xf32>, tensor<2x8x64xf32>
  return
}

// -----

// Tests that key and value have the same tokens.
func.func @attention_kv_tokens(%q: tensor<1x8x64xf32>, %k: tensor<1x8x64xf32>, %v: tensor<1x6x64xf32>) {
  // expected-error @+1 {{'slim.attention' op key and value token counts differ: 8 vs 6}}
  %o = slim.attention %q, %k, %v heads(4, 4) : tensor<1x8x64xf32>, tensor<1x8x64xf32>, tensor<1x6x64xf32>
  return
}

// -----

// Tests that there is at least one head and one kv head.
func.func @attention_heads(%q: tensor<1x8x64xf32>) {
  // expected-error @+1 {{'slim.attention' op num_heads and num_kv_heads must be positive, got 4 and 0}}
  %o = slim.attention %q, %q, %q heads(4, 0) : tensor<1x8x64xf32>, tensor<1x8x64xf32>, tensor<1x8x64xf32>
  return
}

// -----

// Tests that the heads are a multiple of the kv heads (GQA).
func.func @attention_gqa(%q: tensor<1x8x64xf32>, %k: tensor<1x8x48xf32>) {
  // expected-error @+1 {{'slim.attention' op num_heads 4 is not a multiple of num_kv_heads 3}}
  %o = slim.attention %q, %k, %k heads(4, 3) : tensor<1x8x64xf32>, tensor<1x8x48xf32>, tensor<1x8x48xf32>
  return
}

// -----

// Tests that the heads split the query width evenly.
func.func @attention_query_width(%q: tensor<1x8x66xf32>) {
  // expected-error @+1 {{'slim.attention' op query width 66 is not divisible by num_heads 4}}
  %o = slim.attention %q, %q, %q heads(4, 4) : tensor<1x8x66xf32>, tensor<1x8x66xf32>, tensor<1x8x66xf32>
  return
}

// -----

// Tests that the kv heads split the key and value widths evenly.
func.func @attention_key_width(%q: tensor<1x8x64xf32>, %k: tensor<1x8x33xf32>) {
  // expected-error @+1 {{'slim.attention' op key width 33 and value width 33 must be divisible by num_kv_heads 2}}
  %o = slim.attention %q, %k, %k heads(4, 2) : tensor<1x8x64xf32>, tensor<1x8x33xf32>, tensor<1x8x33xf32>
  return
}

// -----

// Tests that query and key heads have one head dim.
func.func @attention_head_dim(%q: tensor<1x8x64xf32>, %k: tensor<1x8x64xf32>) {
  // expected-error @+1 {{'slim.attention' op query head dim 16 differs from key head dim 32}}
  %o = slim.attention %q, %k, %k heads(4, 2) : tensor<1x8x64xf32>, tensor<1x8x64xf32>, tensor<1x8x64xf32>
  return
}

// -----

// Tests that token sizes come one per key.
func.func @attention_sizes(%q: tensor<1x8x64xf32>, %s: tensor<1x7xf32>) {
  // expected-error @+1 {{'slim.attention' op sizes must have shape [1, 8] ([batch, key tokens]), got 'tensor<1x7xf32>'}}
  %o = slim.attention %q, %q, %q sizes(%s : tensor<1x7xf32>) heads(4, 4) : tensor<1x8x64xf32>, tensor<1x8x64xf32>, tensor<1x8x64xf32>
  return
}

// -----

// Tests that causal attention has at least as many keys as queries.
func.func @attention_causal(%q: tensor<1x8x64xf32>, %k: tensor<1x4x64xf32>) {
  // expected-error @+1 {{'slim.attention' op causal attention needs at least as many keys as queries, got 8 queries and 4 keys}}
  %o = slim.attention %q, %k, %k heads(4, 4) causal : tensor<1x8x64xf32>, tensor<1x4x64xf32>, tensor<1x4x64xf32>
  return
}

// -----

// Tests that the scale is positive.
func.func @attention_scale(%q: tensor<1x8x64xf32>) {
  // expected-error @+1 {{'slim.attention' op scale must be positive and finite, got 0}}
  %o = slim.attention %q, %q, %q heads(4, 4) {scale = 0.0 : f32} : tensor<1x8x64xf32>, tensor<1x8x64xf32>, tensor<1x8x64xf32>
  return
}

//===----------------------------------------------------------------------===//
// slim.rope
//===----------------------------------------------------------------------===//

// -----

// Tests that RoPE rotates [batch, tokens, heads * head_dim].
func.func @rope_rank(%x: tensor<8x64xf32>, %p: tensor<8xi64>) {
  // expected-error @+1 {{'slim.rope' op input must have rank 3 ([batch, tokens, heads * head_dim]), got 'tensor<8x64xf32>'}}
  %y = slim.rope %x, %p {num_heads = 4 : i64} : tensor<8x64xf32>, tensor<8xi64>
  return
}

// -----

// Tests that RoPE has at least one head.
func.func @rope_heads(%x: tensor<1x8x64xf32>, %p: tensor<8xi64>) {
  // expected-error @+1 {{'slim.rope' op num_heads must be positive, got 0}}
  %y = slim.rope %x, %p {num_heads = 0 : i64} : tensor<1x8x64xf32>, tensor<8xi64>
  return
}

// -----

// Tests that the heads split the width evenly.
func.func @rope_width(%x: tensor<1x8x64xf32>, %p: tensor<8xi64>) {
  // expected-error @+1 {{'slim.rope' op input width 64 is not divisible by num_heads 5}}
  %y = slim.rope %x, %p {num_heads = 5 : i64} : tensor<1x8x64xf32>, tensor<8xi64>
  return
}

// -----

// Tests that the head dim is even (RoPE rotates pairs).
func.func @rope_odd(%x: tensor<1x8x60xf32>, %p: tensor<8xi64>) {
  // expected-error @+1 {{'slim.rope' op head dim 15 must be even to rotate pairs}}
  %y = slim.rope %x, %p {num_heads = 4 : i64} : tensor<1x8x60xf32>, tensor<8xi64>
  return
}

// -----

// Tests that positions come one per token, shared or per batch.
func.func @rope_positions(%x: tensor<2x8x64xf32>, %p: tensor<1x8xi64>) {
  // expected-error @+1 {{'slim.rope' op positions must have shape [8] or [2, 8], got 'tensor<1x8xi64>'}}
  %y = slim.rope %x, %p {num_heads = 4 : i64} : tensor<2x8x64xf32>, tensor<1x8xi64>
  return
}

// -----

// Tests that theta is positive.
func.func @rope_theta(%x: tensor<1x8x64xf32>, %p: tensor<8xi64>) {
  // expected-error @+1 {{'slim.rope' op theta must be positive and finite, got -1}}
  %y = slim.rope %x, %p {num_heads = 4 : i64, theta = -1.0 : f32} : tensor<1x8x64xf32>, tensor<8xi64>
  return
}

//===----------------------------------------------------------------------===//
// slim.softmax
//===----------------------------------------------------------------------===//

// -----

// Tests that the softmax axis is one of the input's.
func.func @softmax_axis(%x: tensor<2x4xf32>) {
  // expected-error @+1 {{'slim.softmax' op axis -3 is out of range for input 'tensor<2x4xf32>'}}
  %y = slim.softmax %x {axis = -3 : i64} : tensor<2x4xf32>
  return
}

//===----------------------------------------------------------------------===//
// slim.token_merge
//===----------------------------------------------------------------------===//

// -----

// Tests that token merging reads [batch, tokens, dim].
func.func @merge_rank(%h: tensor<197x384xf32>, %k: tensor<1x197x64xf32>, %s: tensor<1x197xf32>) {
  // expected-error @+1 {{'slim.token_merge' op input must have rank 3 ([batch, tokens, dim]), got 'tensor<197x384xf32>'}}
  %a, %b = slim.token_merge %h, %k, %s r = 13 : tensor<197x384xf32>, tensor<1x197x64xf32>, tensor<1x197xf32>
  return
}

// -----

// Tests that the metric has one row per token.
func.func @merge_metric(%h: tensor<1x197x384xf32>, %k: tensor<1x196x64xf32>, %s: tensor<1x197xf32>) {
  // expected-error @+1 {{'slim.token_merge' op metric must have shape [1, 197, M] to match the input, got 'tensor<1x196x64xf32>'}}
  %a, %b = slim.token_merge %h, %k, %s r = 13 : tensor<1x197x384xf32>, tensor<1x196x64xf32>, tensor<1x197xf32>
  return
}

// -----

// Tests that token sizes come one per token.
func.func @merge_sizes(%h: tensor<1x197x384xf32>, %k: tensor<1x197x64xf32>, %s: tensor<197xf32>) {
  // expected-error @+1 {{'slim.token_merge' op sizes must have shape [1, 197], got 'tensor<197xf32>'}}
  %a, %b = slim.token_merge %h, %k, %s r = 13 : tensor<1x197x384xf32>, tensor<1x197x64xf32>, tensor<197xf32>
  return
}

// -----

// Tests that a merge merges at least one token.
func.func @merge_zero(%h: tensor<1x197x384xf32>, %k: tensor<1x197x64xf32>, %s: tensor<1x197xf32>) {
  // expected-error @+1 {{'slim.token_merge' op r must be positive (a merge of 0 tokens is not inserted), got 0}}
  %a, %b = slim.token_merge %h, %k, %s r = 0 : tensor<1x197x384xf32>, tensor<1x197x64xf32>, tensor<1x197xf32>
  return
}

// -----

// Tests that the protected tokens are within the tokens.
func.func @merge_protected(%h: tensor<1x197x384xf32>, %k: tensor<1x197x64xf32>, %s: tensor<1x197xf32>) {
  // expected-error @+1 {{'slim.token_merge' op protected_tokens must be in [0, 197], got -1}}
  %a, %b = slim.token_merge %h, %k, %s r = 1 protected = -1 : tensor<1x197x384xf32>, tensor<1x197x64xf32>, tensor<1x197xf32>
  return
}

// -----

// Tests that at most half the unprotected tokens merge.
func.func @merge_too_many(%h: tensor<1x197x384xf32>, %k: tensor<1x197x64xf32>, %s: tensor<1x197xf32>) {
  // expected-error @+1 {{'slim.token_merge' op r = 99 exceeds floor((T - protected_tokens) / 2) = 98 for T = 197}}
  %a, %b = slim.token_merge %h, %k, %s r = 99 : tensor<1x197x384xf32>, tensor<1x197x64xf32>, tensor<1x197xf32>
  return
}

// -----

// Tests that the source map covers at least the current tokens.
func.func @merge_source(%h: tensor<1x197x384xf32>, %k: tensor<1x197x64xf32>, %s: tensor<1x197xf32>, %m: tensor<1x196xi64>) {
  // expected-error @+1 {{'slim.token_merge' op source must be an int64 [1, T0] map with T0 >= 197, got 'tensor<1x196xi64>'}}
  %a, %b, %c = slim.token_merge %h, %k, %s source(%m : tensor<1x196xi64>) r = 1 : tensor<1x197x384xf32>, tensor<1x197x64xf32>, tensor<1x197xf32>
  return
}

// -----

// Tests that MCTF reads the attention each token received.
func.func @mctf_without_received(%h: tensor<1x197x384xf32>, %s: tensor<1x197xf32>) {
  // expected-error @+1 {{'slim.token_merge' op method = mctf needs the attention each token received (received operand)}}
  %a, %b = slim.token_merge %h, %h, %s r = 1 method = mctf : tensor<1x197x384xf32>, tensor<1x197x384xf32>, tensor<1x197xf32>
  return
}

// -----

// Tests that MCTF's temperatures are positive.
func.func @mctf_tau(%h: tensor<1x197x384xf32>, %s: tensor<1x197xf32>) {
  // expected-error @+1 {{'slim.token_merge' op tau_size must be positive, got 0}}
  %a, %b = slim.token_merge %h, %h, %s received(%s : tensor<1x197xf32>) r = 1 method = mctf {tau_size = 0.0 : f32} : tensor<1x197x384xf32>, tensor<1x197x384xf32>, tensor<1x197xf32>
  return
}

// -----

// Tests that ToMe takes no received attention.
func.func @tome_received(%h: tensor<1x197x384xf32>, %s: tensor<1x197xf32>) {
  // expected-error @+1 {{'slim.token_merge' op received is used by method = mctf only}}
  %a, %b = slim.token_merge %h, %h, %s received(%s : tensor<1x197xf32>) r = 1 : tensor<1x197x384xf32>, tensor<1x197x384xf32>, tensor<1x197xf32>
  return
}

// -----

// Tests that the heads split query and key into one head dim.
func.func @received_heads(%q: tensor<1x197x384xf32>) {
  // expected-error @+1 {{'slim.attention_received' op heads (5, 5) do not split query width 384 and key width 384 into one head dim}}
  %a = slim.attention_received %q, %q heads(5, 5) : tensor<1x197x384xf32>, tensor<1x197x384xf32>
  return
}

// -----

// Tests that groups are int64, one per token.
func.func @group_mean_groups(%x: tensor<1x17x8xf32>, %g: tensor<1x17xi32>, %w: tensor<1x17xf32>) {
  // expected-error @+1 {{'slim.group_mean' op groups must be int64 [1, 17], got 'tensor<1x17xi32>'}}
  %y = slim.group_mean %x, %g, %w num_groups = 14 : tensor<1x17x8xf32>, tensor<1x17xi32>, tensor<1x17xf32>
  return
}

// -----

// Tests that the group count is between 1 and the tokens.
func.func @group_mean_count(%x: tensor<1x17x8xf32>, %g: tensor<1x17xi64>, %w: tensor<1x17xf32>) {
  // expected-error @+1 {{'slim.group_mean' op num_groups must be in [1, 17], got 18}}
  %y = slim.group_mean %x, %g, %w num_groups = 18 : tensor<1x17x8xf32>, tensor<1x17xi64>, tensor<1x17xf32>
  return
}

// -----

// Tests that unmerging reads an int64 [1, T0] source map.
func.func @unmerge_source(%h: tensor<1x171x384xf32>, %m: tensor<197xi64>) {
  // expected-error @+1 {{'slim.unmerge' op source must be an int64 [1, T0] map, got 'tensor<197xi64>'}}
  %u = slim.unmerge %h, %m : tensor<1x171x384xf32>, tensor<197xi64>
  return
}

//===----------------------------------------------------------------------===//
// Elementwise
//===----------------------------------------------------------------------===//

// -----

// Tests that elementwise operands broadcast together.
func.func @add_broadcast(%a: tensor<1x8xf32>, %b: tensor<3xf32>) {
  // expected-error @+1 {{'slim.add' op operand shapes are not broadcast-compatible: lhs [1, 8], rhs [3]}}
  %y = slim.add %a, %b : tensor<1x8xf32>, tensor<3xf32>
  return
}

// -----

// Tests that elementwise operands share their element type.
func.func @mul_types(%a: tensor<8xf32>, %b: tensor<8xf16>) {
  // expected-error @+1 {{'slim.mul' op element types differ: lhs has 'f32', rhs has 'f16'}}
  %y = slim.mul %a, %b : tensor<8xf32>, tensor<8xf16>
  return
}

// -----

// Tests that condition and both values broadcast together.
func.func @where_broadcast(%c: tensor<4xi1>, %a: tensor<8xf32>, %b: tensor<f32>) {
  // expected-error @+1 {{'slim.where' op operand shapes are not broadcast-compatible: condition [4], lhs [8], rhs []}}
  %y = slim.where %c, %a, %b : tensor<4xi1>, tensor<8xf32>, tensor<f32>
  return
}

// -----

// Tests that activations take floating-point tensors.
func.func @gelu_type(%a: tensor<8xi32>) {
  // expected-error @+1 {{'slim.gelu' op operand #0 must be statically shaped tensor of floating-point values, but got 'tensor<8xi32>'}}
  %y = slim.gelu tanh %a : tensor<8xi32>
  return
}

//===----------------------------------------------------------------------===//
// Primitives
//===----------------------------------------------------------------------===//

// -----

// Tests that matmul operands are at least matrices.
func.func @matmul_rank(%a: tensor<8xf32>, %b: tensor<8x4xf32>) {
  // expected-error @+1 {{'slim.matmul' op operands must have rank >= 2, got lhs [8] and rhs [8, 4]}}
  %y = slim.matmul %a, %b : tensor<8xf32>, tensor<8x4xf32>
  return
}

// -----

// Tests that the contraction sizes agree.
func.func @matmul_k(%a: tensor<2x8xf32>, %b: tensor<4x4xf32>) {
  // expected-error @+1 {{'slim.matmul' op contraction sizes differ: lhs [2, 8] has K = 8, rhs [4, 4] has K = 4}}
  %y = slim.matmul %a, %b : tensor<2x8xf32>, tensor<4x4xf32>
  return
}

// -----

// Tests that the batch axes broadcast together.
func.func @matmul_batch(%a: tensor<2x3x8xf32>, %b: tensor<4x8x4xf32>) {
  // expected-error @+1 {{'slim.matmul' op batch axes [2] and [4] are not broadcast-compatible}}
  %y = slim.matmul %a, %b : tensor<2x3x8xf32>, tensor<4x8x4xf32>
  return
}

// -----

// Tests that the permutation has one entry per axis.
func.func @transpose_size(%a: tensor<2x3x4xf32>) {
  // expected-error @+1 {{'slim.transpose' op permutation [1, 0] has 2 entries for input 'tensor<2x3x4xf32>'}}
  %y = slim.transpose %a [1, 0] : tensor<2x3x4xf32>
  return
}

// -----

// Tests that the permutation names each axis once.
func.func @transpose_perm(%a: tensor<2x3x4xf32>) {
  // expected-error @+1 {{'slim.transpose' op permutation [0, 0, 1] is not a permutation of [0, 3)}}
  %y = slim.transpose %a [0, 0, 1] : tensor<2x3x4xf32>
  return
}

// -----

// Tests that a reshape keeps the element type.
func.func @reshape_type(%a: tensor<2x4xf32>) {
  // expected-error @+1 {{'slim.reshape' op must keep the element type, got 'f32' -> 'f16'}}
  %y = slim.reshape %a : tensor<2x4xf32> -> tensor<8xf16>
  return
}

// -----

// Tests that a reshape keeps the element count.
func.func @reshape_count(%a: tensor<2x4xf32>) {
  // expected-error @+1 {{'slim.reshape' op must keep the element count: 'tensor<2x4xf32>' has 8 elements, 'tensor<9xf32>' has 9}}
  %y = slim.reshape %a : tensor<2x4xf32> -> tensor<9xf32>
  return
}

// -----

// Tests that a mean reduces at least one axis.
func.func @reduce_mean_empty(%a: tensor<2x4xf32>) {
  // expected-error @+1 {{'slim.reduce_mean' op axes must not be empty}}
  %y = slim.reduce_mean %a [] : tensor<2x4xf32>
  return
}

// -----

// Tests that reduced axes are the input's.
func.func @reduce_mean_range(%a: tensor<2x4xf32>) {
  // expected-error @+1 {{'slim.reduce_mean' op axis 2 is out of range for input 'tensor<2x4xf32>'}}
  %y = slim.reduce_mean %a [2] : tensor<2x4xf32>
  return
}

// -----

// Tests that each axis is reduced once.
func.func @reduce_mean_repeat(%a: tensor<2x4xf32>) {
  // expected-error @+1 {{'slim.reduce_mean' op axis 1 appears twice in axes [1, -1]}}
  %y = slim.reduce_mean %a [1, -1] : tensor<2x4xf32>
  return
}

// -----

// Tests that offsets, sizes and strides come one per axis.
func.func @slice_entries(%a: tensor<2x4xf32>) {
  // expected-error @+1 {{'slim.slice' op offsets, sizes and strides must have one entry per axis of 'tensor<2x4xf32>', got 1, 2 and 2}}
  %y = slim.slice %a offsets [0] sizes [1, 2] strides [1, 1] : tensor<2x4xf32>
  return
}

// -----

// Tests that offsets and sizes are not negative and strides positive.
func.func @slice_stride(%a: tensor<2x4xf32>) {
  // expected-error @+1 {{'slim.slice' op axis 1: offset 0, size 2 and stride 0 must be non-negative (stride >= 1)}}
  %y = slim.slice %a offsets [0, 0] sizes [1, 2] strides [1, 0] : tensor<2x4xf32>
  return
}

// -----

// Tests that a slice stays inside the input.
func.func @slice_bounds(%a: tensor<2x4xf32>) {
  // expected-error @+1 {{'slim.slice' op axis 1: the slice reads up to index 4 but the input extent is 4}}
  %y = slim.slice %a offsets [0, 1] sizes [1, 2] strides [1, 3] : tensor<2x4xf32>
  return
}

// -----

// Tests that concat has at least one input.
func.func @concat_empty() {
  // expected-error @+2 {{'slim.concat' op needs at least one input}}
  // expected-error @+1 {{'slim.concat' op failed to infer returned types}}
  %y = "slim.concat"() <{axis = 0 : i64}> : () -> tensor<1xf32>
  return
}

// -----

// Tests that the concat axis is one of the inputs'.
func.func @concat_axis(%a: tensor<2x4xf32>) {
  // expected-error @+1 {{'slim.concat' op axis 2 is out of range for rank 2 inputs}}
  %y = slim.concat %a, %a axis = 2 : tensor<2x4xf32>, tensor<2x4xf32>
  return
}

// -----

// Tests that concatenated inputs share their element type.
func.func @concat_type(%a: tensor<2x4xf32>, %b: tensor<2x4xf16>) {
  // expected-error @+1 {{'slim.concat' op input 1 has element type 'f16', input 0 has 'f32'}}
  %y = slim.concat %a, %b axis = 0 : tensor<2x4xf32>, tensor<2x4xf16>
  return
}

// -----

// Tests that concatenated inputs share their rank.
func.func @concat_rank(%a: tensor<2x4xf32>, %b: tensor<8xf32>) {
  // expected-error @+1 {{'slim.concat' op input 1 has rank 1, input 0 has rank 2}}
  %y = slim.concat %a, %b axis = 0 : tensor<2x4xf32>, tensor<8xf32>
  return
}

// -----

// Tests that concatenated inputs agree off the concat axis.
func.func @concat_extent(%a: tensor<2x4xf32>, %b: tensor<2x5xf32>) {
  // expected-error @+1 {{'slim.concat' op input 1 has extent 5 along axis 1, input 0 has 4}}
  %y = slim.concat %a, %b axis = 0 : tensor<2x4xf32>, tensor<2x5xf32>
  return
}

// -----

// Tests that a result type that contradicts shape inference is rejected
// (only the generic form can spell one).
func.func @generic_wrong_result(%x: tensor<2x4xf32>, %w: tensor<3x4xf32>) {
  // expected-error @+2 {{'slim.linear' op inferred type(s) 'tensor<2x3xf32>' are incompatible with return type(s) of operation 'tensor<2x4xf32>'}}
  // expected-error @+1 {{'slim.linear' op failed to infer returned types}}
  %y = "slim.linear"(%x, %w) <{operandSegmentSizes = array<i32: 1, 1, 0, 0>}> : (tensor<2x4xf32>, tensor<3x4xf32>) -> tensor<2x4xf32>
  return
}

// -----

// Tests that a broadcast only expands axes of extent 1.
func.func @broadcast_shape(%a: tensor<2x4xf32>) {
  // expected-error @+1 {{'slim.broadcast' op cannot broadcast [2, 4] to [3, 4]}}
  %y = slim.broadcast %a : tensor<2x4xf32> -> tensor<3x4xf32>
  return
}

// -----

// Tests that a broadcast keeps the element type.
func.func @broadcast_type(%a: tensor<1x4xf32>) {
  // expected-error @+1 {{'slim.broadcast' op must keep the element type, got 'f32' -> 'f16'}}
  %y = slim.broadcast %a : tensor<1x4xf32> -> tensor<3x4xf16>
  return
}

// -----

// Tests that a grouped convolution's weight has C / groups input channels.
func.func @conv2d_groups(%x: tensor<1x4x8x8xf32>, %w: tensor<4x2x3x3xf32>) {
  // expected-error @+2 {{'slim.conv2d' op weight 'tensor<4x2x3x3xf32>' does not convolve input 'tensor<1x4x8x8xf32>' in 4 groups}}
  // expected-error @+1 {{'slim.conv2d' op failed to infer returned types}}
  %y = slim.conv2d %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 4} : tensor<1x4x8x8xf32>, tensor<4x2x3x3xf32> -> tensor<1x4x8x8xf32>
  return
}

// -----

// Tests that channels_last (NHWC) takes depthwise convolutions only.
func.func @conv2d_channels_last(%x: tensor<1x8x8x4xf32>, %w: tensor<4x2x3x3xf32>) {
  // expected-error @+2 {{'slim.conv2d' op channels_last takes a depthwise convolution (one input channel per output channel), got weight 'tensor<4x2x3x3xf32>' in 2 groups}}
  // expected-error @+1 {{'slim.conv2d' op failed to infer returned types}}
  %y = slim.conv2d %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 2, channels_last} : tensor<1x8x8x4xf32>, tensor<4x2x3x3xf32> -> tensor<1x8x8x4xf32>
  return
}

// -----

// Tests that a window must fit its padded input.
func.func @im2col_too_small(%x: tensor<1x4x2x2xf32>) {
  // expected-error @+2 {{'slim.im2col' op a [3, 3] window with dilations [1, 1] does not fit input 'tensor<1x4x2x2xf32>' padded by [0, 0, 0, 0]}}
  // expected-error @+1 {{'slim.im2col' op failed to infer returned types}}
  %y = slim.im2col %x {kernel = array<i64: 3, 3>, strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : tensor<1x4x2x2xf32> -> tensor<1x1x36xf32>
  return
}

// -----

// Tests that window attributes have two positive strides.
func.func @pool_strides(%x: tensor<1x4x8x8xf32>) {
  // expected-error @+2 {{'slim.pool2d' op strides must be two positive values, got [0, 1]}}
  // expected-error @+1 {{'slim.pool2d' op failed to infer returned types}}
  %y = slim.pool2d max %x {kernel = array<i64: 2, 2>, strides = array<i64: 0, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : tensor<1x4x8x8xf32> -> tensor<1x4x4x4xf32>
  return
}

// -----

// Tests that pooling pads are smaller than the kernel.
func.func @pool_pads(%x: tensor<1x4x8x8xf32>) {
  // expected-error @+2 {{'slim.pool2d' op pads [2, 0, 0, 0] must be smaller than the kernel [2, 2]}}
  // expected-error @+1 {{'slim.pool2d' op failed to infer returned types}}
  %y = slim.pool2d avg %x {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 2, 0, 0, 0>, dilations = array<i64: 1, 1>} : tensor<1x4x8x8xf32> -> tensor<1x4x5x4xf32>
  return
}

// -----

// Tests that an im2col's result is the patch matrix its window gives.
func.func @im2col_result(%x: tensor<1x4x8x8xf32>) {
  // expected-error @+2 {{'slim.im2col' op inferred type(s) 'tensor<1x64x36xf32>' are incompatible with return type(s) of operation 'tensor<1x64x32xf32>'}}
  // expected-error @+1 {{'slim.im2col' op failed to infer returned types}}
  %y = slim.im2col %x {kernel = array<i64: 3, 3>, strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>} : tensor<1x4x8x8xf32> -> tensor<1x64x32xf32>
  return
}

// -----

// Tests that col2im's patches must be the im2col of its result: as many
// rows as window positions over the image, C·kh·kw columns.
func.func @col2im_positions(%c: tensor<1x15x12xf32>) {
  // expected-error @+1 {{'slim.col2im' op patches 'tensor<1x15x12xf32>' are not the im2col of 'tensor<1x3x8x8xf32>' (4 x 4 window positions of 3 x 2 x 2)}}
  %y = slim.col2im %c {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : tensor<1x15x12xf32> -> tensor<1x3x8x8xf32>
  return
}

// -----

// Tests that col2im's bias has one value per image channel.
func.func @col2im_bias(%c: tensor<1x16x12xf32>, %b: tensor<4xf32>) {
  // expected-error @+1 {{'slim.col2im' op bias must be [3], got 'tensor<4xf32>'}}
  %y = slim.col2im %c, %b {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : tensor<1x16x12xf32>, tensor<4xf32> -> tensor<1x3x8x8xf32>
  return
}

// -----

// Tests that col2im's window attributes are checked as im2col's are.
func.func @col2im_window(%c: tensor<1x16x12xf32>) {
  // expected-error @+1 {{'slim.col2im' op strides must be two positive values, got [2, 0]}}
  %y = slim.col2im %c {kernel = array<i64: 2, 2>, strides = array<i64: 2, 0>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : tensor<1x16x12xf32> -> tensor<1x3x8x8xf32>
  return
}

// -----

// Tests that a log_softmax axis is inside the input's rank.
func.func @log_softmax_axis(%x: tensor<2x8xf32>) {
  // expected-error @+1 {{'slim.log_softmax' op axis 2 is out of range for input 'tensor<2x8xf32>'}}
  %y = slim.log_softmax %x {axis = 2} : tensor<2x8xf32>
  return
}

// -----

// Tests that a reduction names each axis once.
func.func @reduce_axes(%x: tensor<2x8xf32>) {
  // expected-error @+1 {{'slim.reduce' op axis 1 appears twice in axes [1, -1]}}
  %y = slim.reduce sum %x [1, -1] : tensor<2x8xf32>
  return
}

// -----

// Tests that a comparison's operands have one element type.
func.func @compare_mixed(%a: tensor<8xf32>, %b: tensor<8xi64>) {
  // expected-error @+1 {{'slim.compare' op element types differ: lhs has 'f32', rhs has 'i64'}}
  %y = slim.compare eq %a, %b : tensor<8xf32>, tensor<8xi64>
  return
}

// -----

// Tests that logic operands broadcast together.
func.func @logic_broadcast(%a: tensor<4xi1>, %b: tensor<8xi1>) {
  // expected-error @+1 {{'slim.logic' op operand shapes are not broadcast-compatible: lhs [4], rhs [8]}}
  %y = slim.logic or %a, %b : tensor<4xi1>, tensor<8xi1>
  return
}

// -----

// Tests that arg_reduce's axis is in range.
func.func @arg_reduce_axis(%x: tensor<2x8xf32>) {
  // expected-error @+2 {{'slim.arg_reduce' op axis 2 is out of range for input 'tensor<2x8xf32>'}}
  // expected-error @+1 {{'slim.arg_reduce' op failed to infer returned types}}
  %y = slim.arg_reduce max %x axis = 2 : tensor<2x8xf32> -> tensor<2x8xi64>
  return
}

// -----

// Tests that pad has a begin and an end count for every axis.
func.func @pad_count(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{'slim.pad' op pads has 2 entries; an input of rank 2 needs 4}}
  %y = slim.pad constant %x [0, 1] : tensor<2x3xf32>
  return
}

// -----

// Tests that pad counts are not negative.
func.func @pad_negative(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{'slim.pad' op pads of axis 1 are -1 and 0; they must be ≥ 0 (crop with slim.slice)}}
  %y = slim.pad constant %x [0, -1, 0, 0] : tensor<2x3xf32>
  return
}

// -----

// Tests that reflect pads are smaller than the axis they mirror.
func.func @pad_reflect(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{'slim.pad' op reflect pads of axis 1 (3, 0) must be smaller than its extent 3}}
  %y = slim.pad reflect %x [0, 3, 0, 0] : tensor<2x3xf32>
  return
}

// -----

// Tests that edge padding has an element to repeat.
func.func @pad_empty(%x: tensor<0x3xf32>) {
  // expected-error @+1 {{'slim.pad' op axis 0 is empty: edge padding has nothing to repeat}}
  %y = slim.pad edge %x [1, 0, 0, 0] : tensor<0x3xf32>
  return
}

// -----

// Tests that gather's axis is in range.
func.func @gather_axis(%x: tensor<2x8xf32>, %i: tensor<3xi64>) {
  // expected-error @+1 {{'slim.gather' op axis 2 is out of range for input 'tensor<2x8xf32>'}}
  %y = slim.gather %x [%i] axis = 2 : tensor<2x8xf32>, tensor<3xi64>
  return
}

// -----

// Tests that gather_elements' indices have the input's rank.
func.func @gather_elements_rank(%x: tensor<2x8xf32>, %i: tensor<3xi64>) {
  // expected-error @+1 {{'slim.gather_elements' op indices of rank 1 for an input of rank 2}}
  %y = slim.gather_elements %x [%i] axis = 1 : tensor<2x8xf32>, tensor<3xi64>
  return
}

// -----

// Tests that gather_elements' indices fit the input off the axis.
func.func @gather_elements_extent(%x: tensor<2x8xf32>, %i: tensor<3x2xi64>) {
  // expected-error @+1 {{'slim.gather_elements' op indices extent 3 on axis 0 exceeds the input's 2}}
  %y = slim.gather_elements %x [%i] axis = 1 : tensor<2x8xf32>, tensor<3x2xi64>
  return
}
