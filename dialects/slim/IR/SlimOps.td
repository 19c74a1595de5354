//===- SlimOps.td - slim dialect operations ----------------*- tablegen -*-===//
//
// Every op: a summary, a description with an example, an assembly format and
// a verifier whose messages name the offending shape or attribute. Where the
// result type follows from the operands it is inferred (InferTypeOpAdaptor)
// and not spelled in the assembly.
//
// Attributes that shape inference reads are spelled in the assembly format,
// never left to `attr-dict`: the generated parser infers result types before
// it moves `attr-dict` entries into the op's properties, so inference would
// see their defaults.
//
// (Over 800 lines: the dialect's ops in one file, as SlimOps.cpp has their
// C++; the definitions are independent of one another.)
//
//===----------------------------------------------------------------------===//

#ifndef SLIM_OPS_TD
#define SLIM_OPS_TD

include "dialects/slim/IR/SlimDialect.td"
include "dialects/slim/IR/SlimInterfaces.td"
include "mlir/IR/OpAsmInterface.td"
include "mlir/Interfaces/ControlFlowInterfaces.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

//===----------------------------------------------------------------------===//
// Structure
//===----------------------------------------------------------------------===//

def Slim_ResidualOp : Slim_Op<"residual", [
    AllTypesMatch<["input", "result"]>, RecursiveMemoryEffects, SingleBlock]> {
  let summary = "a residual sublayer: result = input + body(input)";
  let description = [{
    Makes the residual stream explicit. The body receives the stream as its
    only block argument and yields the sublayer's output (the branch); the op
    adds it to the input. `kind` names the sublayer and `layer` the
    transformer block it belongs to.

    `fused` (set by `slim-fuse-kernels`) says that the add already happened
    in the body: the yielded value is a linear whose `residual` operand is
    the block argument, and it is the op's result as it is.

    ```mlir
    %h = slim.residual attention layer 0 (%x) : tensor<1x8x64xf32> {
    ^bb0(%a: tensor<1x8x64xf32>):
      %n = slim.layer_norm %a, %g, %b : tensor<1x8x64xf32>, tensor<64xf32>, tensor<64xf32>
      ...
      slim.yield %o : tensor<1x8x64xf32>
    }
    ```
  }];
  let arguments = (ins
    Slim_FloatTensor:$input,
    Slim_ResidualKindAttr:$kind,
    ConfinedAttr<I64Attr, [IntNonNegative]>:$layer,
    UnitAttr:$fused);
  let results = (outs Slim_FloatTensor:$result);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = [{
    $kind `layer` $layer (`fused` $fused^)? ` ` `(` $input `)` attr-dict `:`
    type($input) $body
  }];
  let builders = [
    // Not fused (as the raisers and importers make it).
    OpBuilder<(ins "::mlir::Type":$type, "::mlir::Value":$input,
                   "::mlir::slim::ResidualKindAttr":$kind,
                   "::mlir::IntegerAttr":$layer), [{
      build($_builder, $_state, type, input, kind, layer, ::mlir::UnitAttr());
    }]>
  ];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// The value the body yields (the branch, before the residual add; with
    /// `fused`, after it).
    ::mlir::Value getBranch();
  }];
}

def Slim_YieldOp : Slim_Op<"yield", [
    Pure, ReturnLike, Terminator, HasParent<"ResidualOp">]> {
  let summary = "yields the branch value of a slim.residual";
  let description = [{
    Terminates the body of `slim.residual`; its operand is the branch output
    that the residual adds to its input.

    ```mlir
    slim.yield %o : tensor<1x8x64xf32>
    ```
  }];
  let arguments = (ins Slim_FloatTensor:$value);
  let assemblyFormat = "$value attr-dict `:` type($value)";
}

//===----------------------------------------------------------------------===//
// Transformer ops
//===----------------------------------------------------------------------===//

def Slim_EmbeddingOp : Slim_Op<"embedding", [Pure, InferTypeOpAdaptor]> {
  let summary = "gathers rows of an embedding table";
  let description = [{
    `result[i..., :] = table[indices[i...], :]`. The table is `[vocab, dim]`;
    the result has the shape of `indices` with `dim` appended. Indices out of
    `[0, vocab)` are an error at run time.

    ```mlir
    %e = slim.embedding %wte[%ids] : tensor<50257x768xf32>, tensor<1x128xi64>
    // %e : tensor<1x128x768xf32>
    ```
  }];
  let arguments = (ins Slim_FloatTensor:$table, Slim_IndexTensor:$indices);
  let results = (outs Slim_FloatTensor:$result);
  let assemblyFormat = [{
    $table `[` $indices `]` attr-dict `:` type($table) `,` type($indices)
  }];
}

def Slim_LayerNormOp : Slim_Op<"layer_norm", [
    Pure, AllTypesMatch<["input", "result"]>]> {
  let summary = "layer normalization over the trailing axes from `axis`";
  let description = [{
    `y = (x - mean(x)) / sqrt(var(x) + epsilon) * scale + bias`, the mean and
    (biased) variance taken over the axes `[axis, rank)`, as ONNX
    LayerNormalization. `scale` and the optional `bias` have the shape of
    those axes.

    ```mlir
    %y = slim.layer_norm %x, %g, %b {epsilon = 1.0e-05 : f32}
        : tensor<1x128x768xf32>, tensor<768xf32>, tensor<768xf32>
    ```
  }];
  let arguments = (ins
    Slim_FloatTensor:$input,
    Slim_FloatTensor:$scale,
    Optional<Slim_FloatTensor>:$bias,
    DefaultValuedAttr<F32Attr, "1.0e-5">:$epsilon,
    DefaultValuedAttr<I64Attr, "-1">:$axis);
  let results = (outs Slim_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $scale (`,` $bias^)? attr-dict `:` type($input) `,` type($scale)
    (`,` type($bias)^)?
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// `axis` normalized into [0, rank).
    int64_t getNormalizedAxis();
  }];
}

def Slim_RmsNormOp : Slim_Op<"rms_norm", [
    Pure, AllTypesMatch<["input", "result"]>]> {
  let summary = "RMS normalization over the last axis";
  let description = [{
    `y = x / sqrt(mean(x^2) + epsilon) * scale + bias` over the last axis.
    The optional bias is what the exact Pre-LN to Pre-RMSNorm rewrite keeps
    from the LayerNorm it replaces.

    ```mlir
    %y = slim.rms_norm %x, %g {epsilon = 1.0e-06 : f32}
        : tensor<1x128x512xf32>, tensor<512xf32>
    ```
  }];
  let arguments = (ins
    Slim_FloatTensor:$input,
    Slim_FloatTensor:$scale,
    Optional<Slim_FloatTensor>:$bias,
    DefaultValuedAttr<F32Attr, "1.0e-5">:$epsilon);
  let results = (outs Slim_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $scale (`,` $bias^)? attr-dict `:` type($input) `,` type($scale)
    (`,` type($bias)^)?
  }];
  let hasVerifier = 1;
}

def Slim_CrmsNormOp : Slim_Op<"crms_norm", [
    Pure, AllTypesMatch<["input", "result"]>]> {
  let summary = "compressed RMS normalization of a d−1-wide zero-mean stream";
  let description = [{
    The CRMSNorm of Pre-CRMSNorm transformers: the input's last axis holds
    the first d−1 coordinates `x` of a zero-mean vector z ∈ ℝ^d (its last
    coordinate is `−Σx`), and
    `y = x / sqrt((Σ x_i² + (Σ x_i)²) / d + epsilon)`, d = the last axis + 1.
    It has no gain or bias: `slim-ln-to-rmsnorm{variant=crms}` folds them
    into the linears that read the result.

    ```mlir
    %y = slim.crms_norm %x {epsilon = 1.0e-05 : f32} : tensor<1x128x767xf32>
    ```
  }];
  let arguments = (ins
    Slim_FloatTensor:$input,
    DefaultValuedAttr<F32Attr, "1.0e-5">:$epsilon);
  let results = (outs Slim_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
  let hasVerifier = 1;
}

def Slim_LinearOp : Slim_Op<"linear", [
    Pure, DeclareOpInterfaceMethods<Slim_CostOpInterface>, InferTypeOpAdaptor, AttrSizedOperandSegments]> {
  let summary = "a fully connected layer: x · Wᵀ + b";
  let description = [{
    `weight` is stored `[out, in]` (as PyTorch's `nn.Linear`); the input's
    last axis is `in` and the result's is `out`. `bias`, if present, is
    `[out]`. An `activation` (set by `slim-fuse-epilogues`) is applied to
    the result in the same kernel: `act(x · Wᵀ + b)`. A `residual` (set by
    `slim-fuse-kernels` when the linear computes a residual sublayer's
    branch) has the result's type and is added last, in the same kernel:
    `act(x · Wᵀ + b) + residual`.

    ```mlir
    %y = slim.linear %x, %w, %b : tensor<1x128x768xf32>, tensor<3072x768xf32>, tensor<3072xf32>
    // %y : tensor<1x128x3072xf32>
    %g = slim.linear %x, %w, %b act = gelu_tanh : tensor<1x128x768xf32>, tensor<3072x768xf32>, tensor<3072xf32>
    %h = slim.linear %g, %w2, %b2 residual(%x : tensor<1x128x768xf32>) : tensor<1x128x3072xf32>, tensor<768x3072xf32>, tensor<768xf32>
    ```
  }];
  let arguments = (ins
    Slim_FloatTensor:$input,
    Slim_FloatTensor:$weight,
    Optional<Slim_FloatTensor>:$bias,
    Optional<Slim_FloatTensor>:$residual,
    OptionalAttr<Slim_LinearActivationAttr>:$activation);
  let results = (outs Slim_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $weight (`,` $bias^)? (`act` `=` $activation^)?
    (`residual` `(` $residual^ `:` type($residual) `)`)? attr-dict `:`
    type($input) `,` type($weight) (`,` type($bias)^)?
  }];
  let hasVerifier = 1;
  let builders = [
    // No activation or residual (the common case); the result type is
    // inferred.
    OpBuilder<(ins "::mlir::Value":$input, "::mlir::Value":$weight,
                   CArg<"::mlir::Value", "{}">:$bias), [{
      build($_builder, $_state, input, weight, bias, ::mlir::Value(),
            ::mlir::slim::LinearActivationAttr());
    }]>
  ];
}

def Slim_QLinearOp : Slim_Op<"qlinear", [
    Pure, DeclareOpInterfaceMethods<Slim_CostOpInterface>, InferTypeOpAdaptor, AttrSizedOperandSegments]> {
  let summary = "a linear layer with int8 or int4 weights";
  let description = [{
    `y = x · dequant(W)ᵀ + b` with integer weights `[out, in]` (`i8`, or `i4`
    for 4-bit formats). With `group_size = 0` the weights are per output
    channel and `scales` is `[out]`; with `group_size = g` they are quantized
    in groups of `g` along `in` and `scales` is `[out, in / g]`. Optional
    `zero_points` (the shape of `scales`) make the scheme asymmetric:
    `w = (q - z) · s`.

    `act` says how the activations are quantized: `none` (weight-only, the
    kernel dequantizes the weights), `dynamic` (a scale per token computed at
    run time) or `static` (one scale, `act_scale`, from calibration). An
    `epilogue` activation (set by `slim-fuse-epilogues`) is applied to the
    result in the same kernel, as for `slim.linear`.

    Set by `slim-fuse-kernels` (the decisions codegen follows):
    - `norm = layer_norm(%g)` / `rms_norm(%g)` with `norm_eps` and an
      optional `norm_bias`: the input rows are normalized over the last axis
      (width `in`) before they are quantized, in the same kernel; the
      normalized tensor is never stored.
    - `residual(%r : T)`: added to the result last, as for `slim.linear`.
    - `group = n` (n ≥ 2): this qlinear and the next n − 1 ops of the block,
      qlinears of the same input, `act`, `act_scale` and `norm`, run as one
      kernel call that quantizes (and normalizes) the input once.

    ```mlir
    %y = slim.qlinear %x, %q, %s bias(%b : tensor<768xf32>) act = dynamic
        : tensor<1x128x3072xf32>, tensor<768x3072xi8>, tensor<768xf32>
    %z = slim.qlinear %x, %q2, %s2 norm = layer_norm(%g : tensor<768xf32>)
        norm_bias(%b : tensor<768xf32>) act = dynamic {norm_eps = 1.0e-05 : f32}
        : tensor<1x128x768xf32>, tensor<768x768xi8>, tensor<768xf32>
    ```
  }];
  let arguments = (ins
    Slim_FloatTensor:$input,
    Slim_QWeightTensor:$weight,
    Slim_FloatTensor:$scales,
    Optional<Slim_ZeroPointTensor>:$zero_points,
    Optional<Slim_FloatTensor>:$bias,
    Optional<Slim_FloatTensor>:$residual,
    Optional<Slim_FloatTensor>:$norm_scale,
    Optional<Slim_FloatTensor>:$norm_bias,
    Slim_QuantActivationAttr:$act,
    DefaultValuedAttr<ConfinedAttr<I64Attr, [IntNonNegative]>, "0">:$group_size,
    OptionalAttr<F32Attr>:$act_scale,
    OptionalAttr<Slim_LinearActivationAttr>:$epilogue,
    OptionalAttr<Slim_PreNormAttr>:$norm,
    OptionalAttr<F32Attr>:$norm_eps,
    OptionalAttr<ConfinedAttr<I64Attr, [IntMinValue<2>]>>:$group);
  let results = (outs Slim_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $weight `,` $scales
    (`zero_points` `(` $zero_points^ `:` type($zero_points) `)`)?
    (`bias` `(` $bias^ `:` type($bias) `)`)?
    (`norm` `=` $norm^ `(` $norm_scale `:` type($norm_scale) `)`)?
    (`norm_bias` `(` $norm_bias^ `:` type($norm_bias) `)`)?
    (`residual` `(` $residual^ `:` type($residual) `)`)?
    `act` `=` $act (`epilogue` `=` $epilogue^)? attr-dict `:` type($input)
    `,` type($weight) `,` type($scales)
  }];
  let extraClassDeclaration = [{
    /// Whether the weights are int8 per output channel (no groups, no zero
    /// points) with act = dynamic or static: what the norm, residual and
    /// group fusions and the int8 kernels take.
    bool isPerChannelInt8();
    /// This op and, when it opens a group (`group = n`), the n - 1 qlinears
    /// after it that share its quantized input (the verifier checks them).
    SmallVector<QLinearOp, 3> getGroupMembers();
  }];
  let hasVerifier = 1;
}

def Slim_AttentionOp : Slim_Op<"attention", [
    Pure, InferTypeOpAdaptor, DeclareOpInterfaceMethods<Slim_CostOpInterface>, AttrSizedOperandSegments]> {
  let summary = "multi-head scaled dot-product attention (MHA, GQA, MQA)";
  let description = [{
    Query `[B, T, H·d]`, key `[B, S, Hkv·d]`, value `[B, S, Hkv·dv]` with the
    heads packed in the last axis (`H = num_heads`, `Hkv = num_kv_heads`,
    `H % Hkv == 0`; query head `h` reads kv head `h / (H / Hkv)`). The result
    is `[B, T, H·dv]`:

    `softmax(q·kᵀ · scale + bias) · v` per head, with `scale = 1/sqrt(d)`
    unless given. `causal` masks key `j` for query `i` when
    `j > i + (S - T)` (the query block is the last T positions). The optional
    `sizes` `[B, S]` are token sizes from token merging: proportional
    attention adds `log(sizes[j])` to every logit of key `j`. The optional
    `key_bias` `[B, S]` is added to every logit of key `j` of batch row
    `b` (a padding mask: 0 for tokens, a large negative value or -inf for
    padding), for every head and query; it is never materialised per head.
    The optional constant-shaped `bias` `[G, H, T, S]` is added to the
    logits of batch row `b` from `bias[b mod G]` (`B % G == 0`): a
    relative-position bias (`G = 1`) or, with windows as the batch, one per
    window (Swin's shifted-window masks: row `b` is window `b mod G`).

    `int8` (set by `slim-quantize attention=1`) computes both products in
    integers: q and k quantized per row and head, v per column, to int8
    (symmetric, dynamic), the softmax numerators to 0 … 255 of the row's
    largest, Σ in int32 (runtime/QAttention.cpp); at most 65536 keys.

    ```mlir
    %o = slim.attention %q, %k, %v heads(12, 12) causal
        : tensor<1x128x768xf32>, tensor<1x128x768xf32>, tensor<1x128x768xf32>
    ```
  }];
  let arguments = (ins
    Slim_FloatTensor:$query,
    Slim_FloatTensor:$key,
    Slim_FloatTensor:$value,
    Optional<Slim_FloatTensor>:$sizes,
    Optional<Slim_FloatTensor>:$key_bias,
    Optional<Slim_FloatTensor>:$bias,
    I64Attr:$num_heads,
    I64Attr:$num_kv_heads,
    UnitAttr:$causal,
    OptionalAttr<F32Attr>:$scale,
    UnitAttr:$int8);
  let results = (outs Slim_FloatTensor:$result);
  let assemblyFormat = [{
    $query `,` $key `,` $value (`sizes` `(` $sizes^ `:` type($sizes) `)`)?
    (`key_bias` `(` $key_bias^ `:` type($key_bias) `)`)?
    (`bias` `(` $bias^ `:` type($bias) `)`)?
    `heads` `(` $num_heads `,` $num_kv_heads `)` (`causal` $causal^)?
    (`int8` $int8^)?
    attr-dict `:` type($query) `,` type($key) `,` type($value)
  }];
  let extraClassDeclaration = [{
    /// The per-head size of queries and keys.
    int64_t getHeadDim();
    /// The scale applied to q·kᵀ: the `scale` attribute or 1/sqrt(head dim).
    float getEffectiveScale();
  }];
  let hasVerifier = 1;
}

def Slim_KvAttentionOp : Slim_Op<"kv_attention", [
    InferTypeOpAdaptor,
    MemoryEffects<[MemRead<DefaultResource>, MemWrite<DefaultResource>]>]> {
  let summary = "causal attention of new tokens against a KV cache";
  let description = [{
    One step of incremental decoding. `query` `[1, T, H·d]`, `key`
    `[1, T, Hkv·d]` and `value` `[1, T, Hkv·dv]` are the projections of T
    new tokens at the consecutive positions `positions` `[1, T]` (p, p+1, …).
    The op first writes `key` and `value` into rows p … p+T−1 of cache slot
    `slot` (a `[capacity, Hkv·d]` key and a `[capacity, Hkv·dv]` value
    buffer held by the runtime, one slot per attention layer), then returns
    the causal attention of the queries over cache rows 0 … p+T−1:
    query i sees key j iff j ≤ p + i. A write past `capacity` is a run-time
    error. The cache persists across calls of the functions of one module
    (the prefill and decode entry points share it), so the op has memory
    effects and is never folded away. With `cache_f16` the cache holds
    keys and values as IEEE float16 (rounded to nearest even when written;
    half the bytes to store and to read per step), otherwise float32.

    ```mlir
    %o = slim.kv_attention %q, %k, %v, %pos heads(12, 12) slot(0) capacity(1024)
        : tensor<1x1x768xf32>, tensor<1x1x768xf32>, tensor<1x1x768xf32>, tensor<1x1xi64>
    ```
  }];
  let arguments = (ins
    Slim_FloatTensor:$query,
    Slim_FloatTensor:$key,
    Slim_FloatTensor:$value,
    Slim_IndexTensor:$positions,
    I64Attr:$num_heads,
    I64Attr:$num_kv_heads,
    I64Attr:$slot,
    I64Attr:$capacity,
    OptionalAttr<F32Attr>:$scale,
    UnitAttr:$cache_f16);
  let results = (outs Slim_FloatTensor:$result);
  let assemblyFormat = [{
    $query `,` $key `,` $value `,` $positions
    `heads` `(` $num_heads `,` $num_kv_heads `)` `slot` `(` $slot `)`
    `capacity` `(` $capacity `)` (`cache_f16` $cache_f16^)? attr-dict `:` type($query) `,` type($key)
    `,` type($value) `,` type($positions)
  }];
  let extraClassDeclaration = [{
    /// The per-head size of queries and keys.
    int64_t getHeadDim();
    /// The per-head size of values.
    int64_t getValueDim();
    /// The scale applied to q·kᵀ: the `scale` attribute or 1/sqrt(head dim).
    float getEffectiveScale();
  }];
  let hasVerifier = 1;
}

def Slim_RopeOp : Slim_Op<"rope", [
    Pure, AllTypesMatch<["input", "result"]>]> {
  let summary = "rotary position embedding applied to packed heads";
  let description = [{
    Rotates each head of `input` `[B, T, H·d]` by the angles
    `positions[t] · theta^(-2i/d)`, i in [0, d/2). The default pairs element
    `i` with `i + d/2` (rotate-half, as LLaMA in Hugging Face); `interleaved`
    pairs `2i` with `2i+1` (GPT-J). `positions` is `[T]` or `[B, T]`.

    ```mlir
    %r = slim.rope %q, %pos {num_heads = 8 : i64, theta = 1.0e+04 : f32}
        : tensor<1x16x512xf32>, tensor<16xi64>
    ```
  }];
  let arguments = (ins
    Slim_FloatTensor:$input,
    Slim_IndexTensor:$positions,
    I64Attr:$num_heads,
    DefaultValuedAttr<F32Attr, "10000.0">:$theta,
    UnitAttr:$interleaved);
  let results = (outs Slim_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $positions attr-dict `:` type($input) `,` type($positions)
  }];
  let hasVerifier = 1;
}

def Slim_GeluOp : Slim_Op<"gelu", [Pure, SameOperandsAndResultType]> {
  let summary = "GELU activation, exact (erf) or tanh-approximated";
  let description = [{
    `exact`: `0.5·x·(1 + erf(x/√2))` (BERT, ViT). `tanh`:
    `0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))` (GPT-2).

    ```mlir
    %y = slim.gelu tanh %x : tensor<1x128x3072xf32>
    ```
  }];
  let arguments = (ins Slim_FloatTensor:$input,
                       Slim_GeluApproximationAttr:$approximation);
  let results = (outs Slim_FloatTensor:$result);
  let assemblyFormat = "$approximation $input attr-dict `:` type($input)";
}

def Slim_SoftmaxOp : Slim_Op<"softmax", [Pure, SameOperandsAndResultType]> {
  let summary = "softmax along one axis";
  let description = [{
    `exp(x - max(x)) / sum(exp(x - max(x)))` along `axis` (default: last).

    ```mlir
    %p = slim.softmax %s {axis = -1 : i64} : tensor<1x12x128x128xf32>
    ```
  }];
  let arguments = (ins Slim_FloatTensor:$input,
                       DefaultValuedAttr<I64Attr, "-1">:$axis);
  let results = (outs Slim_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
  let hasVerifier = 1;
}

def Slim_LogSoftmaxOp : Slim_Op<"log_softmax", [Pure, SameOperandsAndResultType]> {
  let summary = "log of the softmax along one axis";
  let description = [{
    `x - max(x) - log(sum(exp(x - max(x))))` along `axis`: finite where
    `log(softmax(x))` would underflow to `-inf` (a CTC or language-model
    head's log-probabilities).

    ```mlir
    %p = slim.log_softmax %s {axis = -1 : i64} : tensor<1x25x37xf32>
    ```
  }];
  let arguments = (ins Slim_FloatTensor:$input,
                       DefaultValuedAttr<I64Attr, "-1">:$axis);
  let results = (outs Slim_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
  let hasVerifier = 1;
}

def Slim_TokenMergeOp : Slim_Op<"token_merge", [
    Pure, InferTypeOpAdaptor, AttrSizedOperandSegments]> {
  let summary = "merges r token pairs by bipartite soft matching (ToMe, MCTF)";
  let description = [{
    Takes the tokens `input` `[B, T, D]`, a similarity `metric` `[B, T, M]`
    (keys averaged over heads for ToMe, the hidden states for MCTF) and the
    token `sizes` `[B, T]`. The first `protected` tokens (CLS, distillation)
    are never merged. Returns the `T - r` merged tokens (size-weighted
    averages) and their sizes. `r` must not exceed `(T - protected) / 2`.
    The algorithm, tie-breaking and output order are those of
    docs/passes.md §2.

    With a `source` map `[B, T0]` (int64: for each original token, the
    index of the current token that holds it), the op also returns the map
    after this merge, for `slim.unmerge`.

    `method = mctf` (Multi-criteria token fusion) needs `received` `[B, T]`,
    the attention each token received (slim.attention_received). The score
    of a pair is then W_sim·W_info·W_size with the exponents 1/`tau_sim`,
    1/`tau_info`, 1/`tau_size`; with `bidirectional`, ⌊r/2⌋ tokens merge
    A → B and the other r − ⌊r/2⌋ from the updated B into the unmerged A;
    merged tokens are averages weighted by received attention × size
    (docs/passes.md §2.2).

    ```mlir
    %h2, %s2 = slim.token_merge %h, %k, %s r = 13
        : tensor<1x197x384xf32>, tensor<1x197x64xf32>, tensor<1x197xf32>
    // %h2 : tensor<1x184x384xf32>, %s2 : tensor<1x184xf32>
    %h3, %s3, %m3 = slim.token_merge %h2, %k2, %s2
        source(%m2 : tensor<1x197xi64>) r = 13
        : tensor<1x184x384xf32>, tensor<1x184x64xf32>, tensor<1x184xf32>
    // %m3 : tensor<1x197xi64>, each value in [0, 171)
    %h4, %s4 = slim.token_merge %h, %h, %s received(%a : tensor<1x197xf32>)
        r = 16 method = mctf
        : tensor<1x197x384xf32>, tensor<1x197x384xf32>, tensor<1x197xf32>
    ```
  }];
  let arguments = (ins
    Slim_FloatTensor:$input,
    Slim_FloatTensor:$metric,
    Slim_FloatTensor:$sizes,
    Optional<Slim_IndexTensor>:$source,
    Optional<Slim_FloatTensor>:$received,
    I64Attr:$r,
    DefaultValuedAttr<I64Attr, "1">:$protected_tokens,
    DefaultValuedAttr<Slim_MergeMethodAttr, "::mlir::slim::MergeMethod::tome">:$method,
    DefaultValuedAttr<F32Attr, "1.0f">:$tau_sim,
    DefaultValuedAttr<F32Attr, "20.0f">:$tau_info,
    DefaultValuedAttr<F32Attr, "40.0f">:$tau_size,
    DefaultValuedAttr<BoolAttr, "true">:$bidirectional);
  let results = (outs Slim_FloatTensor:$result, Slim_FloatTensor:$result_sizes,
                      Optional<Slim_IndexTensor>:$result_source);
  let assemblyFormat = [{
    $input `,` $metric `,` $sizes
    (`source` `(` $source^ `:` type($source) `)`)?
    (`received` `(` $received^ `:` type($received) `)`)?
    `r` `=` $r
    (`protected` `=` $protected_tokens^)? (`method` `=` $method^)?
    attr-dict `:` type($input) `,` type($metric) `,` type($sizes)
  }];
  let hasVerifier = 1;
}

def Slim_AttentionReceivedOp : Slim_Op<"attention_received", [
    Pure, InferTypeOpAdaptor, DeclareOpInterfaceMethods<Slim_CostOpInterface>]> {
  let summary = "the attention each key receives, averaged over heads and queries";
  let description = [{
    `result[b, j]` = the mean over heads h and queries i of
    `softmax_j(q_i·k_jᵀ · scale + log(sizes[b, j]))`: the attention
    probabilities of the non-causal `slim.attention` with the same query,
    key, sizes and heads (`scale = 1/sqrt(d)` unless given), as MCTF's
    informativeness criterion needs (slim.token_merge method = mctf).

    ```mlir
    %a = slim.attention_received %q, %k sizes(%s : tensor<1x184xf32>)
        heads(6, 6) : tensor<1x184x384xf32>, tensor<1x184x384xf32>
    // %a : tensor<1x184xf32>
    ```
  }];
  let arguments = (ins
    Slim_FloatTensor:$query,
    Slim_FloatTensor:$key,
    Optional<Slim_FloatTensor>:$sizes,
    I64Attr:$num_heads,
    I64Attr:$num_kv_heads,
    OptionalAttr<F32Attr>:$scale);
  let results = (outs Slim_FloatTensor:$result);
  let assemblyFormat = [{
    $query `,` $key (`sizes` `(` $sizes^ `:` type($sizes) `)`)?
    `heads` `(` $num_heads `,` $num_kv_heads `)`
    attr-dict `:` type($query) `,` type($key)
  }];
  let extraClassDeclaration = [{
    int64_t getHeadDim();
    float getEffectiveScale();
  }];
}

def Slim_GroupMeanOp : Slim_Op<"group_mean", [Pure, InferTypeOpAdaptor]> {
  let summary = "weighted means of groups of tokens";
  let description = [{
    `result[b, g, :] = Σ_t w[b, t]·input[b, t, :] / Σ_t w[b, t]` over the
    tokens t with `groups[b, t] = g`, for `g < num_groups`: the rows of an
    attention output averaged over the tokens merged into each row (MCTF's
    one-step-ahead attention: the merged queries' rows of Â). Every group
    must have a member with positive weight; a group index outside
    `[0, num_groups)` or an empty group is an error at run time.

    ```mlir
    %o = slim.group_mean %x, %g, %w num_groups = 181
        : tensor<1x197x384xf32>, tensor<1x197xi64>, tensor<1x197xf32>
    // %o : tensor<1x181x384xf32>
    ```
  }];
  let arguments = (ins Slim_FloatTensor:$input, Slim_IndexTensor:$groups,
                       Slim_FloatTensor:$weights, I64Attr:$num_groups);
  let results = (outs Slim_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $groups `,` $weights `num_groups` `=` $num_groups attr-dict
    `:` type($input) `,` type($groups) `,` type($weights)
  }];
}

def Slim_UnmergeOp : Slim_Op<"unmerge", [Pure, InferTypeOpAdaptor]> {
  let summary = "copies merged tokens back to every original position they hold";
  let description = [{
    `result[b, t, :] = input[b, source[b, t], :]`: the per-token output of a
    model whose tokens were merged (slim.token_merge), one row per original
    token, each the value of the merged token it went into (ToMe's unmerge).
    `source` is the map the last token_merge returned; an index outside
    `[0, T')` is an error at run time.

    ```mlir
    %y = slim.unmerge %h, %m : tensor<1x171x384xf32>, tensor<1x197xi64>
    // %y : tensor<1x197x384xf32>
    ```
  }];
  let arguments = (ins Slim_FloatTensor:$input, Slim_IndexTensor:$source);
  let results = (outs Slim_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $source attr-dict `:` type($input) `,` type($source)
  }];
}

//===----------------------------------------------------------------------===//
// Elementwise
//===----------------------------------------------------------------------===//

class Slim_UnaryOp<string mnemonic, string formula>
    : Slim_Op<mnemonic, [Pure, SameOperandsAndResultType]> {
  let summary = "elementwise " # formula;
  let description = "Computes `" # formula # "` elementwise.\n\n"
    "```mlir\n%y = slim." # mnemonic # " %x : tensor<1x128x768xf32>\n```";
  let arguments = (ins Slim_FloatTensor:$input);
  let results = (outs Slim_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
}

def Slim_SiluOp : Slim_UnaryOp<"silu", "x · sigmoid(x)">;
def Slim_ErfOp : Slim_UnaryOp<"erf", "erf(x)">;
def Slim_TanhOp : Slim_UnaryOp<"tanh", "tanh(x)">;
def Slim_SqrtOp : Slim_UnaryOp<"sqrt", "sqrt(x)">;
def Slim_ExpOp : Slim_UnaryOp<"exp", "exp(x)">;
def Slim_SigmoidOp : Slim_UnaryOp<"sigmoid", "1 / (1 + exp(-x))">;
def Slim_NegOp : Slim_UnaryOp<"neg", "-x">;
def Slim_ReluOp : Slim_UnaryOp<"relu", "max(x, 0)">;
def Slim_CosOp : Slim_UnaryOp<"cos", "cos(x)">;
def Slim_SinOp : Slim_UnaryOp<"sin", "sin(x)">;
def Slim_LogOp : Slim_UnaryOp<"log", "log(x)">;
def Slim_AbsOp : Slim_UnaryOp<"abs", "|x|">;
def Slim_FloorOp : Slim_UnaryOp<"floor", "floor(x)">;
def Slim_CeilOp : Slim_UnaryOp<"ceil", "ceil(x)">;
def Slim_RoundOp : Slim_UnaryOp<"round", "x rounded to the nearest integer, halves to even">;

def Slim_SiluMulOp : Slim_Op<"silu_mul", [Pure, SameOperandsAndResultType]> {
  let summary = "elementwise silu(gate) · up (SwiGLU's gate)";
  let description = [{
    Set by `slim-fuse-kernels` for `slim.mul` of a `slim.silu` read by
    nothing else and another tensor of the same type: one kernel, the SiLU
    never stored.

    ```mlir
    %y = slim.silu_mul %gate, %up : tensor<1x16x2048xf32>
    ```
  }];
  let arguments = (ins Slim_FloatTensor:$gate, Slim_FloatTensor:$up);
  let results = (outs Slim_FloatTensor:$result);
  let assemblyFormat = "$gate `,` $up attr-dict `:` type($gate)";
}

def Slim_ClampOp : Slim_Op<"clamp", [Pure, SameOperandsAndResultType]> {
  let summary = "elementwise min(max(x, min), max)";
  let description = [{
    Clamps each element to `[min, max]` (either bound may be infinite): ONNX
    `Clip`, ReLU6, and with a scale and shift in front, `HardSigmoid` and
    `HardSwish`. A NaN stays NaN.

    ```mlir
    %y = slim.clamp %x [0.0, 6.0] : tensor<1x16x32xf32>
    ```
  }];
  let arguments = (ins Slim_FloatTensor:$input, F32Attr:$min, F32Attr:$max);
  let results = (outs Slim_FloatTensor:$result);
  let assemblyFormat =
      "$input ` ` `[` $min `,` $max `]` attr-dict `:` type($input)";
  let hasVerifier = 1;
}

def Slim_LeakyReluOp : Slim_Op<"leaky_relu", [Pure, SameOperandsAndResultType]> {
  let summary = "elementwise x if x ≥ 0, else alpha · x";
  let description = [{
    ONNX `LeakyRelu`.

    ```mlir
    %y = slim.leaky_relu %x alpha = 0.01 : tensor<1x16x32xf32>
    ```
  }];
  let arguments = (ins Slim_FloatTensor:$input, F32Attr:$alpha);
  let results = (outs Slim_FloatTensor:$result);
  let assemblyFormat = "$input `alpha` `=` $alpha attr-dict `:` type($input)";
}

def Slim_CastOp : Slim_Op<"cast", [Pure, SameOperandsAndResultShape]> {
  let summary = "converts integers or booleans to float";
  let description = [{
    Converts each element of an integer (signed) or boolean (0 or 1) tensor
    to float: how an int64 `attention_mask` input becomes an additive mask.

    ```mlir
    %m = slim.cast %mask : tensor<2x8xi64> -> tensor<2x8xf32>
    ```
  }];
  let arguments = (ins StaticShapeTensorOf<[AnySignlessInteger]>:$input);
  let results = (outs Slim_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
}

class Slim_BinaryOp<string mnemonic, string formula, list<Trait> traits = []>
    : Slim_Op<mnemonic, !listconcat([Pure, InferTypeOpAdaptor], traits)> {
  let summary = "elementwise " # formula # " with broadcasting";
  let description = "Computes `" # formula # "` elementwise, broadcasting the "
    "operand shapes as NumPy and ONNX do; both operands have the same element "
    "type.\n\n"
    "```mlir\n%y = slim." # mnemonic # " %a, %b : tensor<1x128x768xf32>, tensor<768xf32>\n"
    "// %y : tensor<1x128x768xf32>\n```";
  let arguments = (ins Slim_FloatTensor:$lhs, Slim_FloatTensor:$rhs);
  let results = (outs Slim_FloatTensor:$result);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` type($lhs) `,` type($rhs)";
}

def Slim_AddOp : Slim_BinaryOp<"add", "lhs + rhs", [Commutative]> {
  let hasFolder = 1;
}
def Slim_SubOp : Slim_BinaryOp<"sub", "lhs - rhs">;
def Slim_MulOp : Slim_BinaryOp<"mul", "lhs · rhs", [Commutative]> {
  let hasFolder = 1;
}
def Slim_DivOp : Slim_BinaryOp<"div", "lhs / rhs">;
def Slim_PowOp : Slim_BinaryOp<"pow", "lhs ^ rhs">;
def Slim_MaxOp : Slim_BinaryOp<"max", "max(lhs, rhs) (NaN if either is)", [Commutative]>;
def Slim_MinOp : Slim_BinaryOp<"min", "min(lhs, rhs) (NaN if either is)", [Commutative]>;

def Slim_WhereOp : Slim_Op<"where", [Pure, InferTypeOpAdaptor]> {
  let summary = "elementwise select with broadcasting";
  let description = [{
    `condition ? lhs : rhs` elementwise, the three shapes broadcast together
    (ONNX Where).

    ```mlir
    %y = slim.where %mask, %scores, %neg : tensor<1x1x8x8xi1>, tensor<1x12x8x8xf32>, tensor<f32>
    ```
  }];
  let arguments = (ins Slim_BoolTensor:$condition, Slim_FloatTensor:$lhs,
                       Slim_FloatTensor:$rhs);
  let results = (outs Slim_FloatTensor:$result);
  let assemblyFormat = [{
    $condition `,` $lhs `,` $rhs attr-dict `:` type($condition) `,` type($lhs)
    `,` type($rhs)
  }];
}

def Slim_CompareOp : Slim_Op<"compare", [Pure, InferTypeOpAdaptor]> {
  let summary = "elementwise comparison with broadcasting";
  let description = [{
    `lhs kind rhs` elementwise (`eq`, `lt`, `le`, `gt`, `ge`), the operand
    shapes broadcast as in ONNX; both operands have the same element type
    (float32, int64 or int32), the result is boolean. A comparison with NaN
    is false.

    ```mlir
    %m = slim.compare lt %x, %zero : tensor<2x8xf32>, tensor<f32>
    // %m : tensor<2x8xi1>
    ```
  }];
  let arguments = (ins Slim_CompareKindAttr:$kind, Slim_NumericTensor:$lhs,
                       Slim_NumericTensor:$rhs);
  let results = (outs Slim_BoolTensor:$result);
  let assemblyFormat = [{
    $kind $lhs `,` $rhs attr-dict `:` type($lhs) `,` type($rhs)
  }];
}

def Slim_LogicOp : Slim_Op<"logic", [Pure, InferTypeOpAdaptor]> {
  let summary = "elementwise and, or, xor of booleans with broadcasting";
  let description = [{
    ```mlir
    %m = slim.logic and %a, %b : tensor<2x8xi1>, tensor<8xi1>
    // %m : tensor<2x8xi1>
    ```
  }];
  let arguments = (ins Slim_LogicKindAttr:$kind, Slim_BoolTensor:$lhs,
                       Slim_BoolTensor:$rhs);
  let results = (outs Slim_BoolTensor:$result);
  let assemblyFormat = [{
    $kind $lhs `,` $rhs attr-dict `:` type($lhs) `,` type($rhs)
  }];
}

def Slim_NotOp : Slim_Op<"not", [Pure, SameOperandsAndResultType]> {
  let summary = "elementwise logical negation";
  let description = [{
    ```mlir
    %n = slim.not %m : tensor<2x8xi1>
    ```
  }];
  let arguments = (ins Slim_BoolTensor:$input);
  let results = (outs Slim_BoolTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
}

//===----------------------------------------------------------------------===//
// Shape and contraction primitives
//===----------------------------------------------------------------------===//

def Slim_MatMulOp : Slim_Op<"matmul", [
    Pure, InferTypeOpAdaptor, DeclareOpInterfaceMethods<Slim_CostOpInterface>]> {
  let summary = "batched matrix product with broadcast batch axes";
  let description = [{
    NumPy/ONNX `MatMul` for operands of rank ≥ 2: `[..., M, K] × [..., K, N]
    → [..., M, N]`, the leading axes broadcast.

    ```mlir
    %s = slim.matmul %q, %kt : tensor<1x12x128x64xf32>, tensor<1x12x64x128xf32>
    // %s : tensor<1x12x128x128xf32>
    ```
  }];
  let arguments = (ins Slim_FloatTensor:$lhs, Slim_FloatTensor:$rhs);
  let results = (outs Slim_FloatTensor:$result);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` type($lhs) `,` type($rhs)";
}

def Slim_TransposeOp : Slim_Op<"transpose", [Pure, InferTypeOpAdaptor]> {
  let summary = "permutes the axes of a tensor";
  let description = [{
    `result.shape[i] = input.shape[permutation[i]]`.

    ```mlir
    %t = slim.transpose %x [0, 2, 1, 3] : tensor<1x128x12x64xf32>
    // %t : tensor<1x12x128x64xf32>
    ```
  }];
  let arguments = (ins AnyStaticShapeTensor:$input,
                       DenseI64ArrayAttr:$permutation);
  let results = (outs AnyStaticShapeTensor:$result);
  let assemblyFormat = "$input $permutation attr-dict `:` type($input)";
  let hasFolder = 1;
}

def Slim_ReshapeOp : Slim_Op<"reshape", [Pure]> {
  let summary = "reinterprets a tensor with another static shape";
  let description = [{
    Same elements in row-major order, another shape; the element count and
    element type are unchanged. `view` (set by `slim-fuse-kernels`) says
    that the result shares its input's buffer: no kernel runs.

    ```mlir
    %r = slim.reshape %x : tensor<1x128x768xf32> -> tensor<1x128x12x64xf32>
    ```
  }];
  let arguments = (ins AnyStaticShapeTensor:$input, UnitAttr:$view);
  let results = (outs AnyStaticShapeTensor:$result);
  let assemblyFormat =
      "$input (`view` $view^)? attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Slim_BroadcastOp : Slim_Op<"broadcast", [Pure]> {
  let summary = "broadcasts a tensor to a larger static shape";
  let description = [{
    NumPy broadcasting of `input` to the result shape (ONNX Expand with a
    known shape): the input's shape, aligned from the trailing axis, must
    have extent 1 or the result's extent on every axis.

    ```mlir
    %k2 = slim.broadcast %k : tensor<1x2x1x8x16xf32> -> tensor<1x2x2x8x16xf32>
    ```
  }];
  let arguments = (ins AnyStaticShapeTensor:$input, UnitAttr:$view);
  let results = (outs AnyStaticShapeTensor:$result);
  let assemblyFormat =
      "$input (`view` $view^)? attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Slim_ReduceMeanOp : Slim_Op<"reduce_mean", [Pure, InferTypeOpAdaptor]> {
  let summary = "mean over a set of axes";
  let description = [{
    Averages `input` over `axes` (each in `[-rank, rank)`, no repeats). With
    `keepdims` (the default, as ONNX) the reduced axes stay with extent 1.

    ```mlir
    %m = slim.reduce_mean %x [-1] : tensor<1x128x768xf32>
    // %m : tensor<1x128x1xf32>
    ```
  }];
  let arguments = (ins Slim_FloatTensor:$input, DenseI64ArrayAttr:$axes,
                       DefaultValuedAttr<BoolAttr, "true">:$keepdims);
  let results = (outs Slim_FloatTensor:$result);
  let assemblyFormat = [{
    $input $axes (`keepdims` `=` $keepdims^)? attr-dict `:` type($input)
  }];
}

def Slim_ReduceOp : Slim_Op<"reduce", [Pure, InferTypeOpAdaptor]> {
  let summary = "sum, max, min, product or norm over a set of axes";
  let description = [{
    ONNX's other reductions (the mean is `slim.reduce_mean`, which
    `slim-raise` reads for norms): `sum`, `max`, `min`, `prod`, `l1` (Σ|x|),
    `l2` (sqrt Σx²), `sum_square`, `log_sum` (log Σx) and `log_sum_exp`
    (computed from the maximum, finite for large x) over `axes`, which
    follow `slim.reduce_mean`'s rules.

    ```mlir
    %s = slim.reduce sum %x [1] keepdims = false : tensor<2x8x4xf32>
    // %s : tensor<2x4xf32>
    ```
  }];
  let arguments = (ins Slim_ReduceKindAttr:$kind, Slim_FloatTensor:$input,
                       DenseI64ArrayAttr:$axes,
                       DefaultValuedAttr<BoolAttr, "true">:$keepdims);
  let results = (outs Slim_FloatTensor:$result);
  let assemblyFormat = [{
    $kind $input $axes (`keepdims` `=` $keepdims^)? attr-dict `:`
    type($input)
  }];
}

def Slim_ArgReduceOp : Slim_Op<"arg_reduce", [Pure, InferTypeOpAdaptor]> {
  let summary = "index of the maximum or minimum along an axis";
  let description = [{
    ONNX ArgMax / ArgMin: the int64 index of the largest (`max`) or
    smallest (`min`) element along `axis`, the first of equal ones or, with
    `select_last_index`, the last; the axis is kept with extent 1 unless
    `keepdims` is false. A NaN is never selected unless the row holds only
    NaN.

    ```mlir
    %i = slim.arg_reduce max %x axis = -1 keepdims = false : tensor<2x8xf32> -> tensor<2xi64>
    ```
  }];
  let arguments = (ins Slim_ExtremumAttr:$kind, Slim_FloatTensor:$input,
                       I64Attr:$axis,
                       DefaultValuedAttr<BoolAttr, "true">:$keepdims,
                       DefaultValuedAttr<BoolAttr, "false">:$select_last_index);
  let results = (outs StaticShapeTensorOf<[I64]>:$result);
  let assemblyFormat = [{
    $kind $input `axis` `=` $axis (`keepdims` `=` $keepdims^)?
    (`select_last_index` `=` $select_last_index^)? attr-dict `:`
    type($input) `->` type($result)
  }];
}

def Slim_SliceOp : Slim_Op<"slice", [Pure, InferTypeOpAdaptor]> {
  let summary = "a strided static slice";
  let description = [{
    Takes `sizes[i]` elements along axis `i` starting at `offsets[i]`, every
    `strides[i]`-th (one entry per axis, strides ≥ 1). The slice must lie
    inside the input.

    ```mlir
    %q = slim.slice %qkv offsets [0, 0, 0] sizes [1, 128, 768] strides [1, 1, 1]
        : tensor<1x128x2304xf32>
    // %q : tensor<1x128x768xf32>
    ```
  }];
  let arguments = (ins AnyStaticShapeTensor:$input,
                       DenseI64ArrayAttr:$offsets, DenseI64ArrayAttr:$sizes,
                       DenseI64ArrayAttr:$strides);
  let results = (outs AnyStaticShapeTensor:$result);
  let assemblyFormat = [{
    $input `offsets` $offsets `sizes` $sizes `strides` $strides attr-dict `:`
    type($input)
  }];
}

def Slim_PadOp : Slim_Op<"pad", [Pure, InferTypeOpAdaptor]> {
  let summary = "pads a tensor with a constant, its mirror image, its edge or its other end";
  let description = [{
    ONNX Pad: `pads` holds the counts before each axis, then after each
    (`[b0, b1, …, e0, e1, …]`, all ≥ 0). The new cells hold `value`
    (`constant`), the input mirrored without repeating the border
    (`reflect`; a count must be smaller than its axis), the border element
    (`edge`) or the input repeated periodically (`wrap`); an axis padded
    in another mode than `constant` must not be empty. float32, int32 or
    int64 elements (`value` converted to the element type).

    ```mlir
    %y = slim.pad reflect %x [0, 0, 1, 1, 0, 0, 1, 1] : tensor<1x3x8x8xf32>
    // %y : tensor<1x3x10x10xf32>
    ```
  }];
  let arguments = (ins Slim_PadModeAttr:$mode, Slim_NumericTensor:$input,
                       DenseI64ArrayAttr:$pads,
                       DefaultValuedAttr<F32Attr, "0.0f">:$value);
  let results = (outs Slim_NumericTensor:$result);
  let assemblyFormat = [{
    $mode $input $pads (`value` `=` $value^)? attr-dict `:` type($input)
  }];
}

def Slim_ResizeOp : Slim_Op<"resize", [Pure]> {
  let summary = "resizes a tensor by nearest, linear or cubic interpolation";
  let description = [{
    ONNX Resize (and Upsample) without a region of interest: axis `a` of
    the result has its own extent, and output coordinate `x` reads the
    input at `x_in` given by `coordinates` and `scales[a]` (the scale the
    model gave, or output / input extent): `half_pixel` (x + 0.5) / s −
    0.5; `pytorch_half_pixel` the same, 0 when in · s is 1;
    `align_corners` x · (in − 1) / (in · s − 1); `asymmetric` x / s;
    `tf_half_pixel_for_nn` (x + 0.5) / s. `nearest` takes the element at
    `x_in` rounded by `nearest_mode`; `linear` interpolates between the two
    neighbours, `cubic` over four with Keys' kernel of parameter
    `cubic_coeff_a` (`exclude_outside` drops taps outside the input and
    renormalises); neighbours past the border repeat it. Axes are
    interpolated one after another (separably), as ONNX defines it.

    ```mlir
    %y = slim.resize linear %x scales [1.0, 1.0, 2.0, 2.0]
        coordinates = half_pixel : tensor<1x8x16x16xf32> -> tensor<1x8x32x32xf32>
    ```
  }];
  let arguments = (ins Slim_ResizeModeAttr:$mode, Slim_FloatTensor:$input,
                       DenseF32ArrayAttr:$scales,
                       Slim_ResizeCoordinatesAttr:$coordinates,
                       DefaultValuedAttr<Slim_NearestModeAttr,
                         "::mlir::slim::NearestMode::round_prefer_floor">:$nearest_mode,
                       DefaultValuedAttr<F32Attr, "-0.75f">:$cubic_coeff_a,
                       DefaultValuedAttr<BoolAttr, "false">:$exclude_outside);
  let results = (outs Slim_FloatTensor:$result);
  let assemblyFormat = [{
    $mode $input `scales` $scales `coordinates` `=` $coordinates
    (`nearest_mode` `=` $nearest_mode^)? attr-dict `:` type($input) `->`
    type($result)
  }];
  let hasVerifier = 1;
}

def Slim_GatherOp : Slim_Op<"gather", [Pure, InferTypeOpAdaptor]> {
  let summary = "slices of a tensor along an axis, at run-time indices";
  let description = [{
    ONNX Gather: the result is `input`'s shape with axis `axis` replaced by
    the indices' shape; each index (negative ones count from the end)
    selects one slice of the axis. An index outside the axis stops the
    model with an error naming it.

    ```mlir
    %y = slim.gather %x [%i] axis = 1 : tensor<2x8x4xf32>, tensor<3xi64>
    // %y : tensor<2x3x4xf32>
    ```
  }];
  let arguments = (ins Slim_NumericTensor:$input, Slim_IndexTensor:$indices,
                       I64Attr:$axis);
  let results = (outs Slim_NumericTensor:$result);
  let assemblyFormat = [{
    $input `[` $indices `]` `axis` `=` $axis attr-dict `:` type($input) `,`
    type($indices)
  }];
}

def Slim_GatherElementsOp : Slim_Op<"gather_elements", [Pure, InferTypeOpAdaptor]> {
  let summary = "elements of a tensor at run-time indices along an axis";
  let description = [{
    ONNX GatherElements: the result has the indices' shape (of `input`'s
    rank, no larger than `input` on the other axes); element `p` is
    `input` at `p` with its coordinate along `axis` replaced by
    `indices[p]` (negative from the end; outside the axis an error).

    ```mlir
    %y = slim.gather_elements %x [%i] axis = 1 : tensor<2x8xf32>, tensor<2x3xi64>
    // %y : tensor<2x3xf32>
    ```
  }];
  let arguments = (ins Slim_NumericTensor:$input, Slim_IndexTensor:$indices,
                       I64Attr:$axis);
  let results = (outs Slim_NumericTensor:$result);
  let assemblyFormat = [{
    $input `[` $indices `]` `axis` `=` $axis attr-dict `:` type($input) `,`
    type($indices)
  }];
}

def Slim_ConcatOp : Slim_Op<"concat", [Pure, InferTypeOpAdaptor]> {
  let summary = "concatenates tensors along one axis";
  let description = [{
    All inputs have the same rank, element type and extents except along
    `axis`.

    ```mlir
    %x = slim.concat %cls, %patches axis = 1
        : tensor<1x1x192xf32>, tensor<1x196x192xf32>
    // %x : tensor<1x197x192xf32>
    ```
  }];
  let arguments = (ins Variadic<AnyStaticShapeTensor>:$inputs, I64Attr:$axis);
  let results = (outs AnyStaticShapeTensor:$result);
  let assemblyFormat = "$inputs `axis` `=` $axis attr-dict `:` type($inputs)";
}

//===----------------------------------------------------------------------===//
// Convolution and pooling (NCHW)
//===----------------------------------------------------------------------===//

def Slim_Im2ColOp : Slim_Op<"im2col", [Pure, InferTypeOpAdaptor]> {
  let summary = "the patches of a 2-D convolution, one row per output pixel";
  let description = [{
    `x [B, C, H, W]` → `[B, OH·OW, C·kh·kw]`: row `oh·OW + ow`, column
    `(c·kh + i)·kw + j` holds `x[b, c, oh·sh − pt + i·dh, ow·sw − pl + j·dw]`,
    zero outside the input, with `OH = (H + pt + pb − dh·(kh − 1) − 1) / sh
    + 1` (likewise `OW`). `pads` is `[top, left, bottom, right]`, as ONNX
    orders them. A `slim.linear` with the convolution's weight `[D, C, kh,
    kw]` viewed as `[D, C·kh·kw]` then computes the convolution, so
    quantization, packing and epilogue fusion apply to it as to any linear.

    ```mlir
    %p = slim.im2col %x {kernel = array<i64: 3, 3>, strides = array<i64: 1, 1>,
                         pads = array<i64: 1, 1, 1, 1>,
                         dilations = array<i64: 1, 1>}
        : tensor<1x16x32x32xf32> -> tensor<1x1024x144xf32>
    ```
  }];
  let arguments = (ins Slim_FloatTensor:$input, DenseI64ArrayAttr:$kernel,
                       DenseI64ArrayAttr:$strides, DenseI64ArrayAttr:$pads,
                       DenseI64ArrayAttr:$dilations);
  let results = (outs Slim_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
}

def Slim_Col2ImOp : Slim_Op<"col2im", [Pure]> {
  let summary = "scatter-adds patches into an image: the adjoint of im2col";
  let description = [{
    `cols [B, OH·OW, C·kh·kw]` → `y [B, C, H, W]` (the result type gives
    `H` and `W`): with the window of `slim.im2col` over `y` (`kernel`,
    `strides`, `pads [top, left, bottom, right]`, `dilations`, which must
    give exactly `OH × OW` positions), `y[b, c, oh·sh − pt + i·dh, ow·sw −
    pl + j·dw] += cols[b, oh·OW + ow, (c·kh + i)·kw + j]` for every position
    and tap inside `y`, after `y = bias[c]` (0 without a bias). The
    importer writes ONNX `ConvTranspose` of one group as `slim.linear` (the
    weight `[C_in, C, kh, kw]` viewed as `[C·kh·kw, C_in]`, over the
    input's pixels as rows) followed by this op: every multiply-add is one
    of the transposed convolution's, none with an inserted zero.

    ```mlir
    %y = slim.col2im %cols, %b {kernel = array<i64: 2, 2>,
                               strides = array<i64: 2, 2>,
                               pads = array<i64: 0, 0, 0, 0>,
                               dilations = array<i64: 1, 1>}
        : tensor<1x64x32xf32>, tensor<8xf32> -> tensor<1x8x16x16xf32>
    ```
  }];
  let arguments = (ins Slim_FloatTensor:$input,
                       Optional<Slim_FloatTensor>:$bias,
                       DenseI64ArrayAttr:$kernel, DenseI64ArrayAttr:$strides,
                       DenseI64ArrayAttr:$pads, DenseI64ArrayAttr:$dilations);
  let results = (outs Slim_FloatTensor:$result);
  let assemblyFormat = [{
    $input (`,` $bias^)? attr-dict `:` type($input) (`,` type($bias)^)? `->`
    type($result)
  }];
  let hasVerifier = 1;
}

def Slim_Conv2dOp : Slim_Op<"conv2d", [
    Pure, InferTypeOpAdaptor, DeclareOpInterfaceMethods<Slim_CostOpInterface>]> {
  let summary = "direct 2-D convolution in groups (depthwise and grouped)";
  let description = [{
    ONNX `Conv` on `x [B, C, H, W]` with `weight [D, C / groups, kh, kw]` and
    an optional `bias [D]`: output channel `d` of group `g = d / (D /
    groups)` sums over that group's `C / groups` input channels. `pads` is
    `[top, left, bottom, right]`. The importer writes it for `groups > 1`
    (depthwise convolutions above all); a convolution of one group becomes
    `slim.im2col` and `slim.linear`.

    With `channels_last` the input is `[B, H, W, C]` and the result
    `[B, OH, OW, D]` (NHWC; the weight as above): only a depthwise
    convolution (`groups = C = D`). `slim-fuse-epilogues` sets it where the
    input arrives through an NHWC -> NCHW transpose (a linear's result), so
    that the transposes around the convolution cancel.

    `activation` (set by `slim-fuse-epilogues` from a ReLU, ReLU6,
    HardSwish, SiLU or GELU that reads only this convolution) is applied to
    each output as the linears' epilogue is.

    `int8` (set by `slim-quantize` with `convs`): the input and the weight
    are quantized symmetrically at run time — the weight per output
    channel, the input per channel of each image for a depthwise
    convolution and per image otherwise (max |·| / 127, round to nearest
    even) — the products summed exactly in int32 and each sum scaled back
    by its two scales, then the bias and the activation. With
    `input_scale` (slim-quantize's `act = static`: max |x| / 127 of the
    input over a calibration set) every image and channel of the input
    takes that one scale instead.

    ```mlir
    %y = slim.conv2d %x, %w, %b {strides = array<i64: 1, 1>,
                                 pads = array<i64: 1, 1, 1, 1>,
                                 dilations = array<i64: 1, 1>, groups = 32}
        : tensor<1x32x16x16xf32>, tensor<32x1x3x3xf32>, tensor<32xf32>
        -> tensor<1x32x16x16xf32>
    ```
  }];
  let arguments = (ins Slim_FloatTensor:$input, Slim_FloatTensor:$weight,
                       Optional<Slim_FloatTensor>:$bias,
                       DenseI64ArrayAttr:$strides, DenseI64ArrayAttr:$pads,
                       DenseI64ArrayAttr:$dilations, I64Attr:$groups,
                       UnitAttr:$channels_last,
                       OptionalAttr<Slim_LinearActivationAttr>:$activation,
                       UnitAttr:$int8, OptionalAttr<F32Attr>:$input_scale);
  let results = (outs Slim_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $weight (`,` $bias^)? (`act` `=` $activation^)? attr-dict `:`
    type($input) `,` type($weight) (`,` type($bias)^)? `->` type($result)
  }];
}

def Slim_Pool2dOp : Slim_Op<"pool2d", [Pure, InferTypeOpAdaptor]> {
  let summary = "2-D max or average pooling";
  let description = [{
    ONNX `MaxPool` / `AveragePool` on `x [B, C, H, W]`; `pads` is `[top,
    left, bottom, right]`. A window covers `x[oh·sh − pt + i·dh, …]` for
    `i < kh` (likewise along W); padding never wins a max. An average
    divides by the window's cells inside the input, or with
    `count_include_pad` by those inside the padded input. With `ceil_mode`
    the output size rounds up; a window that would start in the bottom or
    right padding is not produced.

    ```mlir
    %y = slim.pool2d max %x {kernel = array<i64: 3, 3>,
                             strides = array<i64: 2, 2>,
                             pads = array<i64: 1, 1, 1, 1>,
                             dilations = array<i64: 1, 1>}
        : tensor<1x16x32x32xf32> -> tensor<1x16x16x16xf32>
    ```
  }];
  let arguments = (ins Slim_FloatTensor:$input, Slim_PoolKindAttr:$kind,
                       DenseI64ArrayAttr:$kernel, DenseI64ArrayAttr:$strides,
                       DenseI64ArrayAttr:$pads, DenseI64ArrayAttr:$dilations,
                       UnitAttr:$count_include_pad, UnitAttr:$ceil_mode);
  let results = (outs Slim_FloatTensor:$result);
  let assemblyFormat =
      "$kind $input attr-dict `:` type($input) `->` type($result)";
}

#endif // SLIM_OPS_TD
