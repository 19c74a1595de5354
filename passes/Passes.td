//===- Passes.td - Slim's passes ---------------------------*- tablegen -*-===//
//
// Every pass of Slim is declared here with its options; the flag, the file
// and the lit test share one name (slim-stats <-> Stats.cpp <->
// test/Transforms/stats.mlir).
//
//===----------------------------------------------------------------------===//

#ifndef SLIM_PASSES_TD
#define SLIM_PASSES_TD

include "mlir/Pass/PassBase.td"

//===----------------------------------------------------------------------===//
// Import
//===----------------------------------------------------------------------===//

def SlimRaisePass : Pass<"slim-raise", "::mlir::ModuleOp"> {
  let summary = "raises imported ONNX primitives to transformer ops and residuals";
  let description = [{
    Recognizes, on the primitives an ONNX import produces:

    * `linear`: MatMul by a known [in, out] weight (+ Add of a known bias),
      Gemm, and the reshape sandwich GPT-2's Conv1D exports; a linear
      whose result only slices of its output features read (a packed
      q/k/v projection: GPT-2's c_attn, nn.MultiheadAttention's in_proj)
      becomes one linear per slice;
    * `layer_norm` (decomposed ReduceMean/Sub/Pow/Sqrt/Div form; the fused
      op is imported directly) and `rms_norm` (x · 1/sqrt(mean(x²) + eps) · g);
      an `rms_norm` of x − mean(x) (ONNX Runtime's SimplifiedLayerNormalization
      after its optimizer, possibly behind a transpose that brings the
      mean's axis last) becomes x's `layer_norm`;
    * `gelu` (erf and tanh forms) and `silu` (x · sigmoid(x));
    * a Pad by zeros over H and W read by `im2col` or `conv2d` (TensorFlow
      exports, `nn.ZeroPad2d`, a transposed convolution's padding) joins
      the window's own padding: no padded copy;
    * multi-head and grouped-query `attention`, whatever the exporter's
      layout: the reshapes, transposes, slices and broadcasts between a
      projection and Q·Kᵀ (or P·V) are run on an index tensor and compared
      with batch-first and sequence-first `[B, T, H·d]` rows, so head
      splits, heads folded into the batch (`nn.MultiheadAttention`), fused
      QKV projections (sliced, split, unflattened) and GQA repeats all
      raise; the scale on Q or on the scores (Mul or Div); a constant causal
      mask (Where or additive, -inf or finfo.min) becomes `causal`; a mask
      that depends only on (batch, key) — a padding mask from an input,
      however broadcast — is rebuilt at `[B, S]` from the elementwise ops
      that made it and becomes `key_bias` (built once, shared by the
      layers); any other constant terms — relative-position biases, masks
      added while the scores are viewed per window (Swin's shifted
      windows, windows as the batch) — are summed at the scores' shape and
      become a `[G, H, T, S]` `bias`, G the period of the batch rows (a
      constant term the same for every head and query becomes `key_bias`
      instead); rotary embeddings (rotate-half) on Q and K become `rope`,
      from constant tables or from position inputs (cos/sin of
      inv_freq · positions);
    * linears whose input rows are only permuted by a private layout chain
      run on the source (sequence-first projections lose their transposes);
    * the residual structure: every `x + branch(x)` whose branch reads only
      `x` (and values computed without it, such as masks) on a stream of
      rank 3 or more (`[B, T, D]`, Swin's `[B, H, W, C]`) becomes a
      `slim.residual` with `kind` (attention when the branch holds an
      attention, else mlp) and `layer`.

    A pattern that almost matches is reported with a remark naming the op,
    the layer and the part that failed, and is left as it was: a softmax
    not raised into attention, and a norm-like mean left unraised, with the
    reason the norm patterns gave. The local rewrites (linears, norms,
    activations, zero padding, transposes sunk into sums) are rewrite patterns
    (`passes/RaisePatterns.cpp`) that give their reasons through
    `notifyMatchFailure`.

    Before:
    ```mlir
    %s = slim.matmul %q, %kt : ...
    %d = slim.div %s, %c : ...
    %p = slim.softmax %d : ...
    %o = slim.matmul %p, %v : ...
    ```
    After:
    ```mlir
    %h = slim.residual attention layer 0 (%x) : tensor<1x8x64xf32> {
    ^bb0(%a: tensor<1x8x64xf32>):
      ...
      %o = slim.attention %q, %k, %v heads(4, 4) causal : ...
      ...
    }
    ```
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect"];
}

//===----------------------------------------------------------------------===//
// Optimizations
//===----------------------------------------------------------------------===//

def SlimLnToRmsNormPass : Pass<"slim-ln-to-rmsnorm", "::mlir::ModuleOp"> {
  let summary = "exact Pre-LN -> Pre-RMSNorm rewrite (recentres the residual stream)";
  let description = [{
    In a Pre-LN transformer only norms and residual adds read the main
    branch x_l = x_0 + Σ f_k, and LN(x) = LN(x - mean(x)). Recentring every
    contribution makes the branch exactly zero-mean, and on a zero-mean
    input LayerNorm equals RMSNorm with the same gain, bias and epsilon
    (docs/passes.md §3, Pre-RMSNorm):

    * embeddings, position/type/CLS vectors: each row minus its mean;
    * the patch-embedding linear and the last linear of every residual
      branch (attention output, MLP down): W' = P·W (each column minus its
      mean over the outputs), b' = b - mean(b);
    * every LayerNorm reading the main branch (norm1, norm2, final norm)
      becomes rms_norm; q/k/v/up/gate weights and the head are untouched.

    A token embedding shared with the head (tied) is kept: with
    `tied=center` (default) one `x0 - mean(x0)` is inserted after the
    embedding sum; `tied=untie` recentres a copy for the input side. A
    stream that starts at something no weight edit recentres (a LayerNorm,
    as Swin's patch embedding; a function argument) gets the same mean
    subtraction, with a remark.

    Norms may also read rows selected from the stream (slices and reshapes
    keeping the last axis, transposes leaving it last, concats along other
    axes: a CLS readout, Swin's window shifts). Hierarchical models have one
    stream per stage, the next written by a merging linear (recentred like a
    branch end). Each stream is checked on its own: one that cannot be
    rewritten — Swin's first stages, whose patch merging concatenates
    neighbouring rows along the model dimension, so its norm needs each
    row's mean — keeps its LayerNorms and a remark names the op; the pass
    fails only when no stream can be rewritten (or a refused stream starts
    from rows of a rewritten one). Every precondition is checked before
    anything changes; a failure names the op and the block and leaves the
    module as it was.

    `variant=crms` (Pre-CRMSNorm, §3.3) goes further: a zero-mean z ∈ ℝ^d
    is kept as its first d−1 coordinates (z_d = −Σ of them), so the stream
    after the embedding sum is sliced to d−1, the branch-end linears keep
    the first d−1 rows of their recentred weights, and every main-branch
    norm becomes `slim.crms_norm` (x / sqrt((Σx² + (Σx)²)/d + eps)) whose
    gain g and bias β are folded into each linear that reads it:
    W_f = W·diag(g), b_f = b + W·β, W_c[:, i] = W_f[:, i] − W_f[:, d−1].
    Those readers may be reached through slices and reshapes that keep the
    last axis (a CLS readout); any other reader is refused, and so is a
    model with more than one stream or norms reading rearranged rows.

    Before / after (one Pre-LN block):
    ```mlir
    %h = slim.residual attention layer 0 (%x) : ... {
      %n = slim.layer_norm %a, %g, %b ...      // -> slim.rms_norm %a, %g, %b
      ...
      %o = slim.linear %att, %wo, %bo ...      // -> recentred %wo', %bo'
      slim.yield %o
    }
    ```
  }];
  let options = [
    Option<"tied", "tied", "::mlir::slim::TiedEmbedding",
           /*default=*/"::mlir::slim::TiedEmbedding::center",
           "a token embedding shared with the head",
           [{::llvm::cl::values(
             clEnumValN(::mlir::slim::TiedEmbedding::center, "center",
                        "insert one mean subtraction after the embedding sum"),
             clEnumValN(::mlir::slim::TiedEmbedding::untie, "untie",
                        "recentre a copy of the table for the input"))}]>,
    Option<"variant", "variant", "::mlir::slim::NormVariant",
           /*default=*/"::mlir::slim::NormVariant::rms",
           "the norm the LayerNorms become",
           [{::llvm::cl::values(
             clEnumValN(::mlir::slim::NormVariant::rms, "rms", "Pre-RMSNorm"),
             clEnumValN(::mlir::slim::NormVariant::crms, "crms",
                        "Pre-CRMSNorm: the stream is carried d-1 wide, norms "
                        "become crms_norm with their gain and bias folded "
                        "into the linears that read them"))}]>,
  ];
}

def SlimMergeTokensPass : Pass<"slim-merge-tokens", "::mlir::ModuleOp"> {
  let summary = "ToMe token merging between the attention and MLP of each block";
  let description = [{
    Token Merging (ToMe, docs/passes.md §2): in each block l with
    r_l > 0, after the attention residual, the tokens at even positions are
    matched to those at odd positions by the cosine similarity of the keys
    of that attention averaged over heads, and the r_l best-matched ones are
    merged into their partners (size-weighted averages; sizes add up). The
    sequence gets r_l shorter, so every later op runs on fewer tokens; the
    shapes are re-inferred (static per layer). The ops computing the keys
    from the block input (norm, key or fused qkv linear, slice) move in
    front of the residual, so the keys are computed once and the metric is
    their mean over the kv heads (reshape + reduce_mean).

    With `prop_attn` (default) every later attention adds log(size) of each
    key to its logits (proportional attention). CLS and distillation tokens
    (`protected`, detected from the constant tokens concatenated in front
    of the patches) never merge. Mean-pooling readouts become size-weighted
    means; a per-token graph output is refused unless `unmerge` is set: then
    every token_merge also tracks, for each original token, the row holding
    it, and `slim.unmerge` copies each merged token back to all the
    positions it holds before the return.

    `method=mctf` (MCTF, spec §2.2): the metric is the hidden states after
    the attention residual; the ops computing that attention's queries and
    keys move in front of the residual, where `slim.attention_received`
    computes the attention each token received (averaged over heads and
    queries, with the same log-size bias). With `one_step_ahead=2` the
    merge happens at the start of the block instead: the queries and keys
    of the block input are computed once more for a look-ahead
    `slim.attention_received`, the input merges, and the whole block runs
    on the merged tokens (MCTF's mode 2). `one_step_ahead=1` merges the
    same way but reuses the look-ahead probabilities A instead of a new
    attention: the block's attention becomes Â·V̂ (rows of merged queries
    averaged with weights received × size, columns of merged keys summed),
    computed as `slim.unmerge` of the merged values to every key, the
    attention with the look-ahead queries and keys, and `slim.group_mean`
    of its rows; the pair score is W_sim·W_info·W_size
    (`tau_sim`, `tau_info`, `tau_size`: 1, 20, 40); `bidirectional` merges
    ⌊r/2⌋ tokens A → B and the rest from the updated B into A; merged
    tokens are averages weighted by received attention × size; r is also
    capped so that at least 10 tokens remain.

    Schedule: `r` for every layer, or `(r, inflect)`:
    min = ⌊r(1 − inflect)⌋, max = 2r − min, r_l = ⌊min + l·(max − min)/(L − 1)⌋,
    or an explicit `schedule` list. Each r_l is clamped to ⌊(T_l − p)/2⌋ with
    a warning. r = 0 inserts nothing.

    Before / after (block l):
    ```mlir
    %h = slim.residual attention layer 3 (%x) ...
    %y = slim.residual mlp layer 3 (%h) ...
    // ->
    %n = slim.layer_norm %x, ...                        // norm1, moved out
    %k = slim.linear %n, %wk, %bk                       // the keys, moved out
    %h = slim.residual attention layer 3 (%x) ...       // attention(q, %k, v) sizes(%s)
    %kh = slim.reshape %k : ... -> tensor<1xTx6x64xf32>
    %m = slim.reduce_mean %kh [2] keepdims = false      // keys averaged over heads
    %h2, %s2 = slim.token_merge %h, %m, %s r = 13 protected = 1
    %y = slim.residual mlp layer 3 (%h2) ...
    ```
  }];
  let options = [
    Option<"r", "r", "int64_t", /*default=*/"13",
           "tokens merged per layer (the base of the schedule)">,
    Option<"inflect", "inflect", "double", /*default=*/"0.0",
           "schedule shape: 0 constant, > 0 increasing, -1 decreasing">,
    ListOption<"schedule", "schedule", "int64_t",
               "an explicit r per layer (overrides r and inflect)">,
    Option<"fraction", "fraction", "double", /*default=*/"0.0",
           "0 < f < 1: every layer the schedule merges in (r_l > 0) merges "
           "⌊f·(T_l − protected)⌋ tokens instead (MCTF's fractional r)">,
    Option<"method", "method", "::mlir::slim::MergeMethod",
           /*default=*/"::mlir::slim::MergeMethod::tome",
           "the merging method",
           [{::llvm::cl::values(
             clEnumValN(::mlir::slim::MergeMethod::tome, "tome",
                        "keys averaged over heads as the metric"),
             clEnumValN(::mlir::slim::MergeMethod::mctf, "mctf",
                        "multi-criteria: hidden states, received attention, "
                        "size"))}]>,
    Option<"tauSim", "tau_sim", "double", /*default=*/"1.0",
           "MCTF: temperature of the similarity criterion">,
    Option<"tauInfo", "tau_info", "double", /*default=*/"20.0",
           "MCTF: temperature of the informativeness criterion">,
    Option<"tauSize", "tau_size", "double", /*default=*/"40.0",
           "MCTF: temperature of the size criterion">,
    Option<"bidirectional", "bidirectional", "bool", /*default=*/"true",
           "MCTF: merge half A → B, then the rest from B into A">,
    Option<"oneStepAhead", "one_step_ahead", "int64_t", /*default=*/"-1",
           "MCTF: 0 merges after the block's attention; 1 and 2 at the "
           "start of the block with a look-ahead attention: 1 reuses its "
           "probabilities (merged rows and columns), 2 recomputes the "
           "attention on the merged tokens. Default: 1 for mctf (the "
           "spec's), 0 for tome">,
    Option<"propAttn", "prop_attn", "bool", /*default=*/"true",
           "proportional attention: later attentions add log(size) of each key">,
    Option<"protectedTokens", "protected", "int64_t", /*default=*/"-1",
           "tokens at the front that never merge (-1: detect CLS and "
           "distillation tokens)">,
    Option<"unmerge", "unmerge", "bool", /*default=*/"false",
           "per-token graph outputs get one row per original token "
           "(slim.unmerge), instead of being refused">,
  ];
}

def SlimQuantizePass : Pass<"slim-quantize", "::mlir::ModuleOp"> {
  let summary = "post-training quantization: int8 W8A8, int4 group-wise weights, SmoothQuant";
  let description = [{
    Post-training quantization (docs/passes.md §4): every
    `slim.linear` with a constant f32 weight becomes `slim.qlinear`.

    `weights = int8` (default): symmetric per output channel
    (s_o = max(max_i |W[o,i]|, 1e-5) / 127, q = round(W / s_o) in
    [−127, 127], so |W − q·s_o| ≤ s_o / 2), activations quantized too:
    `act = dynamic` (default; the kernel quantizes each token with
    s_t = max|x_t| / 127) or `act = static` (one scale per linear input
    from the `calibration` batches, run by the reference executor on the
    float model: max |x| with `calib = minmax`, the `percentile`-th
    percentile of |x| with `calib = percentile`). Sums in int32 with
    AVX-512 VNNI (vpdpbusd).

    `weights = int4`: groups of `group` (32, 64 or 128) inputs, Q4_0
    (`symmetric`, default: d = m / −8 with m the group's element of largest
    magnitude, q = min(15, trunc(w/d + 8.5)), w ≈ (q − 8)·d, error ≤ |d|)
    or min/max (`symmetric=false`: s = (max − min)/15 over the range widened
    to 0, zero point z = round(−min/s), error ≤ s/2). With `act = dynamic`
    (the default) every call runs W4A8 (prefill, decode steps, encoders):
    each row is quantized to int8 as above and the kernel sums int4 × int8
    products in int32 with VNNI, the group scales applied to the sums
    (error against float activations ≤ s_t/2 · Σ_k |ŵ[o,k]| per output).
    `act = none` (alias
    `float`) keeps float activations everywhere: the kernel dequantizes in
    registers.

    `alpha` > 0 applies SmoothQuant first (needs `calibration`): for each
    LayerNorm/RMSNorm whose output only linears read, s_j = max|X_j|^α /
    max_o|W[o,j]|^(1−α) over all of them; the norm's gain and bias are
    divided by s and the linears' columns multiplied by it — the same
    function in float. `weights = none` stops there (smoothing only).

    `attention` also quantizes every `slim.attention` (Q-HyViT's setting):
    q·kᵀ and p·v run in int8 with int32 sums, q and k quantized per token
    and head, v per column, the softmax numerators to 8 bits (the `int8`
    attribute; its semantics there). It needs the keys to number at most
    65536; an attention against a KV cache (generation) stays float and
    is refused. Independent of the linears' format.

    `convs` also quantizes every direct convolution (`slim.conv2d`:
    depthwise and grouped; a convolution of one group is a linear and
    quantized as one): weights per output channel, the input dynamically
    per channel (depthwise) or per image, int32 sums (the `int8`
    attribute; its semantics there). With int8 weights only. With `act =
    static` each convolution's input takes one calibrated scale (max |x| /
    127, or the percentile, over the calibration set: its `input_scale`).
    Convolutions named by `keep` stay float.

    Mixed precision per layer: with `weights=int4`, the linears named by
    `int8` (weight or ONNX node name containing one of the strings) get
    int8 weights per channel with dynamic int8 activations instead — the
    policy `slimc --budget` searches over (`--quantize=int4,int8=h.0.:h.5.`).

    The head (a linear whose result is a graph output) stays in float
    unless `head`; norms, softmax, activations, residual adds and the
    embedding gather always do. `print` lists every quantized op with its
    largest weight error. Every candidate is checked before anything
    changes (spec §4.9 messages).
  }];
  let options = [
    Option<"weights", "weights", "::mlir::slim::QuantWeights",
           /*default=*/"::mlir::slim::QuantWeights::int8", "weight format",
           [{::llvm::cl::values(
             clEnumValN(::mlir::slim::QuantWeights::int8, "int8",
                        "per output channel"),
             clEnumValN(::mlir::slim::QuantWeights::int4, "int4",
                        "group-wise"),
             clEnumValN(::mlir::slim::QuantWeights::none, "none",
                        "only SmoothQuant"))}]>,
    Option<"act", "act", "::mlir::slim::QuantActs",
           /*default=*/"::mlir::slim::QuantActs::automatic",
           "how activations are quantized",
           [{::llvm::cl::values(
             clEnumValN(::mlir::slim::QuantActs::automatic, "auto",
                        "dynamic"),
             clEnumValN(::mlir::slim::QuantActs::dynamic, "dynamic",
                        "per-token scales at run time"),
             clEnumValN(::mlir::slim::QuantActs::static_, "static",
                        "one calibrated scale per linear input"),
             clEnumValN(::mlir::slim::QuantActs::none, "none",
                        "float activations (int4 only)"),
             clEnumValN(::mlir::slim::QuantActs::none, "float",
                        "the same as none"))}]>,
    Option<"calibration", "calibration", "std::string", /*default=*/"\"\"",
           "for act=static and SmoothQuant: a .npy batch or a directory of "
           "them">,
    Option<"calib", "calib", "::mlir::slim::StaticCalibration",
           /*default=*/"::mlir::slim::StaticCalibration::minmax",
           "where act=static's scales come from",
           [{::llvm::cl::values(
             clEnumValN(::mlir::slim::StaticCalibration::minmax, "minmax",
                        "max |x|"),
             clEnumValN(::mlir::slim::StaticCalibration::percentile,
                        "percentile", "a percentile of |x|"))}]>,
    Option<"percentile", "percentile", "double", /*default=*/"99.99",
           "with calib=percentile: the percentile of |x| that maps to 127">,
    Option<"group", "group", "int64_t", /*default=*/"32",
           "int4: inputs per group (32, 64 or 128)">,
    Option<"symmetric", "symmetric", "bool", /*default=*/"true",
           "int4: Q4_0 (symmetric, z = 8) or min/max with zero points">,
    Option<"alpha", "smoothquant", "double", /*default=*/"0.0",
           "SmoothQuant migration strength (0 = off; the paper's default "
           "0.5)">,
    Option<"head", "head", "bool", /*default=*/"false",
           "quantize the head (the linear producing a graph output) too">,
    Option<"attention", "attention", "bool", /*default=*/"false",
           "quantize the attentions' two products too (q·kᵀ and p·v in "
           "int8, see slim.attention's int8)">,
    Option<"convs", "convs", "bool", /*default=*/"false",
           "quantize the direct (depthwise and grouped) convolutions too "
           "(see slim.conv2d's int8)">,
    ListOption<"keep", "keep", "std::string",
               "per-op float fallbacks: linears whose weight name or ONNX "
               "node name contains one of these stay in float">,
    ListOption<"int8", "int8", "std::string",
               "with weights=int4, per-op int8: linears whose weight name "
               "or ONNX node name contains one of these get int8 weights "
               "per channel (W8A8, dynamic activation scales) instead">,
    Option<"print", "print", "bool", /*default=*/"false",
           "print every quantized op and its weight error">,
  ];
}

def SlimLastLogitsPass : Pass<"slim-last-logits", "::mlir::ModuleOp"> {
  let summary = "computes a decoder's logits for the last position only";
  let description = [{
    The head (a linear whose [B, T, V] result is a graph output) reads only
    the last token: its input is sliced to position T − 1 and the output
    becomes [B, 1, V]. Generation needs nothing more; for GPT-2-small at
    T = 128 the 50257-wide head is 9.8 of the prefill's 32.2 GFLOP.
    (`slimc --logits=last`.) A function without such an output is an error.
  }];
}

def SlimDecodeStepPass : Pass<"slim-decode-step", "::mlir::ModuleOp"> {
  let summary = "builds a KV-cache step function from a causal decoder";
  let description = [{
    Clones `@source` (a causal decoder over a window of N tokens:
    input_ids [1, N] -> logits [1, N, V]) into `@name`, a step over
    `tokens` = C new tokens: (input_ids [1, C], positions [1, C],
    logits_row [1, 1]) -> logits [1, 1, V]. Every causal self-attention
    becomes `slim.kv_attention` (cache slots numbered in order, capacity
    N); RoPE positions, position-embedding gathers and a [1, N, d]
    position table added to the embeddings read `positions`; the head
    reads row `logits_row` of the C. slimc builds `@prefill` (C = the
    prefill chunk) and `@decode` (C = 1) for `--max-seq-len`. An op that
    depends on the window otherwise (a constant mask, a token-axis slice)
    is refused, named.

    ```mlir
    // slim-opt --slim-decode-step="tokens=1 name=decode"
    func.func @decode(%ids: tensor<1x1xi64>, %pos: tensor<1x1xi64>,
                      %row: tensor<1x1xi64>) -> tensor<1x1x128xf32>
    ```
  }];
  let options = [
    Option<"source", "source", "std::string", /*default=*/"\"main\"",
           "the decoder function to build the step from">,
    Option<"name", "name", "std::string", /*default=*/"\"decode\"",
           "the name of the new step function">,
    Option<"tokens", "tokens", "int64_t", /*default=*/"1",
           "new tokens per call (1 for decoding, the chunk for prefill)">,
    Option<"cache", "cache", "std::string", /*default=*/"\"f32\"",
           "the KV cache's element type: f32, or f16 (half the bytes; "
           "keys and values rounded to float16 when stored)">,
  ];
}

def SlimFuseEpiloguesPass : Pass<"slim-fuse-epilogues", "::mlir::ModuleOp"> {
  let summary = "fuses GELU / SiLU / ReLU / ReLU6 / HardSwish into the linear, qlinear or convolution that feeds them";
  let description = [{
    `act(linear(x, W, b))` with act = GELU (exact or tanh), SiLU, ReLU,
    ReLU6 (`slim.clamp` to [0, 6]; to [0, +inf] is ReLU) or HardSwish (`x ·
    clamp(x · 1/6 + 1/2, 0, 1)`, as the ONNX importer writes it) becomes
    `linear(x, W, b) act = ...` when the linear has no other user: the
    linear kernel applies the activation in its epilogue, so the product
    is not written and read back. A `slim.qlinear` (int8 or int4) gets the
    same as its `epilogue`. slimc runs it last, at -O1 and above
    (the other passes match the unfused ops). Reshapes and transposes
    between the linear and the activation (a convolution's result moved
    back to NCHW) do not stop it. A direct convolution (`slim.conv2d`,
    depthwise or grouped) takes the same activations as its `act`.

    Then a depthwise convolution whose input is an NHWC -> NCHW transpose
    (a linear's result) runs on the NHWC tensor (`channels_last`) with the
    transpose moved after it, and a clamp after that transpose moves
    before it (into the convolution's `act` where it is one). A chain of
    reshapes and transposes that then moves no element (NHWC -> NCHW ->
    NHWC between two convolutions) becomes one reshape.

    ```mlir
    %u = slim.linear %x, %w, %b : ...
    %g = slim.gelu tanh %u : ...
    // ->
    %g = slim.linear %x, %w, %b act = gelu_tanh : ...
    ```
  }];
}

def SlimFuseKernelsPass : Pass<"slim-fuse-kernels", "::mlir::ModuleOp"> {
  let summary = "decides which neighbouring ops run in one kernel call, in the IR";
  let description = [{
    Codegen runs each op as one kernel call except where this pass has
    joined them; each decision is an attribute or operand that
    `--emit=mlir` shows:

    - `group = n` on the first of n (≤ 3) consecutive int8 qlinears of one
      input, `act` and `act_scale` (attention's query, key and value): one
      call quantizes the input once for all of them. Constants between
      them move before the first.
    - `residual(%stream)` on a linear with a constant weight, or a lone
      int8 qlinear, that computes a `slim.residual`'s branch (used by the
      add only, all of one type), and `fused` on the residual: the add runs
      in the linear's epilogue, so the branch is never stored.
    - `norm = layer_norm(%g) norm_bias(%b) {norm_eps}` (or `rms_norm`) on
      the int8 qlinears of one call that are the only readers of a norm
      over rows of their input width: the kernel normalizes each row before
      quantizing it, and the normalized tensor is never stored.
    - `slim.silu_mul %gate, %up` for `silu(gate) · up` (SwiGLU) with the
      SiLU read by the mul only: one kernel, the SiLU never stored.
    - `view` on a reshape that is not returned and not of a constant: the
      result shares its input's buffer.

    slimc runs it last, at -O1 and above; without it codegen runs every op
    on its own. The preconditions are those of the kernels: int8 with
    per-channel weights and dynamic or static activations; int4 qlinears
    and linears with a run-time weight are left as they are.

    ```mlir
    %h = slim.residual mlp layer 0 (%x) : tensor<1x8x64xf32> {
    ^bb0(%a: tensor<1x8x64xf32>):
      %u = slim.linear %a, %w, %b : ...
      slim.yield %u : tensor<1x8x64xf32>
    }
    // ->
    %h = slim.residual mlp layer 0 fused (%x) : tensor<1x8x64xf32> {
    ^bb0(%a: tensor<1x8x64xf32>):
      %u = slim.linear %a, %w, %b residual(%a : tensor<1x8x64xf32>) : ...
      slim.yield %u : tensor<1x8x64xf32>
    }
    ```
  }];
  let statistics = [
    Statistic<"numGroups", "groups", "qlinear groups formed">,
    Statistic<"numResiduals", "residuals", "residual adds fused into linears">,
    Statistic<"numNorms", "norms", "norms fused into qlinears">,
    Statistic<"numSiluMuls", "silu-muls", "silu(gate) · up into one op">,
    Statistic<"numViews", "views", "reshapes that are views">
  ];
}

def SlimDropLayersPass : Pass<"slim-drop-layers", "::mlir::ModuleOp"> {
  let summary = "drops attention / MLP sublayers or whole blocks by calibration similarity";
  let description = [{
    "What Matters in Transformers?" (docs/passes.md §1): a module
    whose output is most similar to its input matters least. The pass runs
    the unmodified model on the calibration batches with the reference
    executor (the kernels the binary uses) and scores every candidate

        sim(M) = mean over all tokens of cos(X, Y)

    where X is the module's input (before its norm) and Y its output (after
    the residual add): a `slim.residual` for attention and MLP, the pair of
    them for a block. It drops the `count` most similar candidates (or
    `fraction` of them), never those in `keep`; `mode=iterative` drops one
    per round and rescores the model as dropped so far. With `layers` the
    modules are named and nothing is scored. A dropped `slim.residual` is
    replaced by its input; no surviving weight changes.

    `report=PREFIX` writes PREFIX.json (layer, kind, similarity, dropped)
    and PREFIX.svg (a bar chart of the scores, dropped ones marked);
    `print` prints the table.
  }];
  let options = [
    Option<"target", "target", "::mlir::slim::DropTarget",
           /*default=*/"::mlir::slim::DropTarget::attention", "what to drop",
           [{::llvm::cl::values(
             clEnumValN(::mlir::slim::DropTarget::attention, "attention",
                        "attention sublayers"),
             clEnumValN(::mlir::slim::DropTarget::mlp, "mlp", "MLP sublayers"),
             clEnumValN(::mlir::slim::DropTarget::block, "block",
                        "whole blocks"),
             clEnumValN(::mlir::slim::DropTarget::joint, "joint",
                        "attention and MLP ranked in one list"))}]>,
    Option<"count", "count", "int64_t", /*default=*/"4",
           "how many modules to drop">,
    Option<"fraction", "fraction", "double", /*default=*/"0.0",
           "drop this fraction of the candidates instead of `count`">,
    Option<"mode", "mode", "::mlir::slim::DropMode",
           /*default=*/"::mlir::slim::DropMode::one_shot", "how to score",
           [{::llvm::cl::values(
             clEnumValN(::mlir::slim::DropMode::one_shot, "one-shot",
                        "score once"),
             clEnumValN(::mlir::slim::DropMode::iterative, "iterative",
                        "drop one per round, rescoring the model as dropped "
                        "so far"))}]>,
    ListOption<"keep", "keep", "int64_t",
               "block indices never dropped">,
    ListOption<"layers", "layers", "std::string",
               "drop exactly these, no scoring: block indices (N), or "
               "attention:N / mlp:N">,
    Option<"calibration", "calibration", "std::string", /*default=*/"\"\"",
           "a .npy batch for the model's input, or a directory of them">,
    Option<"report", "report", "std::string", /*default=*/"\"\"",
           "write PREFIX.json and PREFIX.svg">,
    Option<"print", "print", "bool", /*default=*/"false",
           "print the score table">,
  ];
}

//===----------------------------------------------------------------------===//
// Lowering
//===----------------------------------------------------------------------===//

def SlimLowerToLLVMPass : Pass<"slim-lower-to-llvm", "::mlir::ModuleOp"> {
  let summary = "lowers @main to LLVM-dialect calls of the runtime kernels";
  let description = [{
    What slimc compiles: @main becomes `llvm.func @slim_model_compute(
    inputs, outputs, arena, weights) -> i32`, one `llvm.call` of a runtime
    kernel (runtime/KernelABI.h) per op, each followed by a branch that
    returns a non-zero status. Buffers are byte offsets into the arena,
    planned from their lifetimes (interference graph, coloring); constants
    are offsets into the weight blob (linear weights packed [in, out]);
    shapes are `llvm.mlir.global` constants. The module gets the attributes
    `slim.arena_bytes` and `slim.weights_bytes` (with embedding tables,
    also `slim.table_weights_bytes`: the tables come first, up to a 4 KB
    boundary, so that the runtime can map them and read the rest into
    2 MB pages), and @main is removed.
    Step functions @prefill and @decode (slim-decode-step) become
    `slim_model_prefill` / `slim_model_decode` with the KV cache as a fifth
    pointer; each `slim.kv_attention` passes its slot's byte offset in it
    (attribute `slim.kv_cache_bytes`: the whole cache).

    ```mlir
    %r = llvm.call @slim_k_linear(%x, %rows, %in, %wt, %bias, %out, %y)
        : (!llvm.ptr, i64, i64, !llvm.ptr, !llvm.ptr, i64, !llvm.ptr) -> i32
    ```

    Glue ops (broadcasting elementwise arithmetic, where, reduce_mean,
    transpose, reshape, slice, concat, and the copies into the output
    buffers) are generated code instead (codegen/llvm/Glue.h): each becomes
    a function on tensors (linalg / tensor / arith / math), one-shot
    bufferized with its result written into an out-parameter, lowered to
    loops and to `llvm.func @slim_glue_N(ptr...) -> i32` in the same module,
    called like a kernel. `glue-stage=linalg|buffers` stops that lowering
    early and nests the functions as `module @slim_glue` (for tests).
  }];
  let options = [
    Option<"glueStage", "glue-stage", "::mlir::slim::GlueStage",
           /*default=*/"::mlir::slim::GlueStage::llvm",
           "how far to lower the glue functions",
           [{::llvm::cl::values(
             clEnumValN(::mlir::slim::GlueStage::linalg, "linalg",
                        "stop at linalg on tensors (tests)"),
             clEnumValN(::mlir::slim::GlueStage::buffers, "buffers",
                        "stop after bufferization (tests)"),
             clEnumValN(::mlir::slim::GlueStage::llvm, "llvm",
                        "lower to LLVM"))}]>,
  ];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect"];
}

//===----------------------------------------------------------------------===//
// Analysis
//===----------------------------------------------------------------------===//

def SlimStatsPass : Pass<"slim-stats", "::mlir::ModuleOp"> {
  let summary = "prints the parameters and multiply-accumulates of every sublayer";
  let description = [{
    For each function, prints one row per `slim.residual` (its layer and
    kind) and one row for everything outside residuals (embeddings, final
    norm, head): the number of weight elements the row reads (distinct
    constants), their size in bytes, and the multiply-accumulates of its
    contractions (`linear`, `qlinear`, `matmul`, `attention`). The totals
    count each constant once. The IR is not changed.

    This is the table to look at before and after a lossy pass: layer
    dropping removes rows, quantization shrinks bytes, token merging lowers
    the MACs of later layers.

    ```
    $ slim-opt -slim-stats model.mlir -o /dev/null
    slim-stats @main
      layer  kind        params      bytes        MACs
      0      attention   16640       66560        2228224
      ...
      -      other       4352        17408        0
      total              70400       281600       8912896
    ```
  }];
}

#endif // SLIM_PASSES_TD
