//===- HfImporter.cpp - Hugging Face checkpoints into raised slim ops -----===//
//
// Reads config.json (nlohmann-json) and model.safetensors (an 8-byte header
// length, a JSON header, raw little-endian data) and builds, for gpt2,
// llama, bert and vit, the graph slim-raise makes of the same model exported
// to ONNX: the same ops in the same order, the same weights bit for bit
// (Conv1D weights transposed to [out, in], position tables sliced to the
// compiled sequence length).
//
//===----------------------------------------------------------------------===//

#include "importers/Import.h"
#include "importers/Safetensors.h"
#include "runtime/Files.h"

#include "dialects/slim/IR/ShapeUtils.h"
#include "dialects/slim/IR/SlimOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Verifier.h"
#include "llvm/Support/Path.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <fstream>

using namespace mlir;
using namespace mlir::slim;
using json = nlohmann::json;

namespace {

class HfImporter {
public:
  HfImporter(MLIRContext *ctx, StringRef dir, const ImportOptions &options)
      : ctx(ctx), dir(dir.str()), options(options), b(ctx),
        loc(FileLineColLoc::get(ctx, dir, 0, 0)) {}

  OwningOpRef<ModuleOp> run();
  /// Reads config.json and model.safetensors from memory instead of `dir`.
  void setContents(std::string configText, std::vector<uint8_t> safetensors) {
    memConfig = std::move(configText);
    memWeights = std::move(safetensors);
    inMemory = true;
  }

private:
  // config.json access with errors that name the field.
  bool field(const char *name, int64_t &out);
  /// The model width must split evenly into attention heads.
  bool headsDivide(const char *widthField, int64_t width,
                   const char *headsField, int64_t heads);
  bool field(const char *name, double &out);

  /// The weight `name` (with the model's optional prefix), checked against
  /// `shape`; transposed from [in, out] when `transpose` (GPT-2 Conv1D).
  Value weight(const std::string &name, ArrayRef<int64_t> shape,
               bool transpose = false);
  Value rows(const std::string &name, int64_t count, int64_t d);
  /// The tensor `name` under the model's prefix, or without it.
  const SafeTensor *tensor(const std::string &name) {
    const SafeTensor *t = weights.find(prefix + name);
    return t ? t : weights.find(name);
  }
  Value constantF32(ArrayRef<int64_t> shape, ArrayRef<float> data,
                    StringRef name);

  // Op helpers (result types inferred by the ops).
  Value linear(Value x, Value w, Value bias = {});
  Value layerNorm(Value x, const std::string &prefix, float eps);
  Value residual(ResidualKind kind, int64_t layer, Value x,
                 llvm::function_ref<Value(Value)> body);
  Value slice(Value x, int64_t axis, int64_t start, int64_t size);
  /// BERT/ViT self-attention: query/key/value linears under `qkv`,
  /// non-causal attention, then `out` + "attention.output.dense".
  Value encoderAttention(Value x, const std::string &qkv,
                         const std::string &out, int64_t heads);

  Value gpt2(Value ids);
  Value llama(Value ids);
  Value bert(Value ids);
  Value vit(Value pixels);

  InFlightDiagnostic error() { return emitError(loc); }

  MLIRContext *ctx;
  std::string dir;
  ImportOptions options;
  OpBuilder b;
  Location loc;
  json config;
  Safetensors weights;
  std::string prefix; // "transformer.", "model.", "bert." or "" as found
  bool failed = false;
  bool inMemory = false;
  std::string memConfig;
  std::vector<uint8_t> memWeights;
  int64_t seqLen = 0;
  int64_t hidden = 0;
};

bool HfImporter::headsDivide(const char *widthField, int64_t width,
                             const char *headsField, int64_t heads) {
  if (width % heads == 0)
    return true;
  error() << "config.json: " << widthField << " " << width
          << " is not divisible by " << headsField << " " << heads;
  failed = true;
  return false;
}

bool HfImporter::field(const char *name, int64_t &out) {
  auto it = config.find(name);
  if (it == config.end() || !it->is_number_integer()) {
    error() << "config.json: '" << name << "' is missing or not an integer";
    failed = true;
    return false;
  }
  out = it->get<int64_t>();
  if (out <= 0) {
    error() << "config.json: '" << name << "' must be positive, got " << out;
    failed = true;
    return false;
  }
  return true;
}

bool HfImporter::field(const char *name, double &out) {
  auto it = config.find(name);
  if (it == config.end() || !it->is_number()) {
    error() << "config.json: '" << name << "' is missing or not a number";
    failed = true;
    return false;
  }
  out = it->get<double>();
  return true;
}

Value HfImporter::constantF32(ArrayRef<int64_t> shape, ArrayRef<float> data,
                              StringRef name) {
  auto type = RankedTensorType::get(shape, b.getF32Type());
  Attribute attr;
  if (data.size() > 64 || !name.empty())
    attr = DenseResourceElementsAttr::get(
        type, name.empty() ? "const" : name,
        HeapAsmResourceBlob::allocateAndCopyInferAlign<float>(data));
  else
    attr = DenseElementsAttr::get(type, data);
  return b.create<arith::ConstantOp>(loc, cast<TypedAttr>(attr));
}

Value HfImporter::weight(const std::string &name, ArrayRef<int64_t> shape,
                         bool transpose) {
  if (failed)
    return {};
  const SafeTensor *t = tensor(name);
  if (!t) {
    error() << "model.safetensors has no tensor '" << prefix + name
            << "' (needed for model_type '"
            << config.value("model_type", std::string()) << "')";
    failed = true;
    return {};
  }
  SmallVector<int64_t> want(shape);
  if (transpose)
    std::swap(want[0], want[1]);
  if (ArrayRef<int64_t>(t->shape) != ArrayRef<int64_t>(want)) {
    error() << "tensor '" << t->name << "' has shape " << formatShape(t->shape)
            << ", config.json implies " << formatShape(want);
    failed = true;
    return {};
  }
  std::vector<float> data = t->toFloat();
  if (transpose) {
    std::vector<float> tr(data.size());
    int64_t in = want[0], out = want[1];
    for (int64_t i = 0; i < in; ++i)
      for (int64_t o = 0; o < out; ++o)
        tr[o * in + i] = data[i * out + o];
    data.swap(tr);
  }
  return constantF32(shape, data, t->name);
}

/// The first `count` rows of the [*, d] table `name`, as a [1, count, d]
/// constant (what ONNX export folds a position lookup into).
Value HfImporter::rows(const std::string &name, int64_t count, int64_t d) {
  if (failed)
    return {};
  const SafeTensor *t = tensor(name);
  if (!t || t->shape.size() != 2 || t->shape[1] != d || t->shape[0] < count) {
    error() << "model.safetensors: tensor '" << prefix + name << "' "
            << (t ? "has shape " + formatShape(t->shape) : "is missing")
            << ", need at least [" << count << ", " << d << "]";
    failed = true;
    return {};
  }
  std::vector<float> data = t->toFloat();
  data.resize(count * d);
  return constantF32({1, count, d}, data, "");
}

Value HfImporter::linear(Value x, Value w, Value bias) {
  if (!x || !w)
    return {};
  return b.create<LinearOp>(loc, x, w, bias);
}

Value HfImporter::layerNorm(Value x, const std::string &p, float eps) {
  Value g = weight(p + ".weight", {hidden});
  Value bb = weight(p + ".bias", {hidden});
  if (!x || !g || !bb)
    return {};
  return b.create<LayerNormOp>(loc, x.getType(), x, g, bb,
                               b.getF32FloatAttr(eps), b.getI64IntegerAttr(-1));
}

Value HfImporter::residual(ResidualKind kind, int64_t layer, Value x,
                           llvm::function_ref<Value(Value)> body) {
  if (!x)
    return {};
  auto r = b.create<ResidualOp>(loc, x.getType(), x,
                                ResidualKindAttr::get(ctx, kind),
                                b.getI64IntegerAttr(layer));
  OpBuilder::InsertionGuard guard(b);
  Block *block = b.createBlock(&r.getBody(), {}, {x.getType()}, {loc});
  Value y = body(block->getArgument(0));
  if (!y)
    return {};
  b.create<YieldOp>(loc, y);
  return r.getResult();
}

Value HfImporter::slice(Value x, int64_t axis, int64_t start, int64_t size) {
  auto t = cast<RankedTensorType>(x.getType());
  SmallVector<int64_t> off(t.getRank(), 0), sizes(t.getShape()),
      st(t.getRank(), 1);
  off[axis] = start;
  sizes[axis] = size;
  return b.create<SliceOp>(loc, x, b.getDenseI64ArrayAttr(off),
                           b.getDenseI64ArrayAttr(sizes),
                           b.getDenseI64ArrayAttr(st));
}

Value HfImporter::encoderAttention(Value x, const std::string &qkv,
                                   const std::string &out, int64_t heads) {
  int64_t d = hidden;
  Value q = linear(x, weight(qkv + "query.weight", {d, d}),
                   weight(qkv + "query.bias", {d}));
  Value k = linear(x, weight(qkv + "key.weight", {d, d}),
                   weight(qkv + "key.bias", {d}));
  Value v = linear(x, weight(qkv + "value.weight", {d, d}),
                   weight(qkv + "value.bias", {d}));
  if (!q || !k || !v)
    return {};
  Value o = b.create<AttentionOp>(loc, q, k, v, Value(), Value(), Value(), heads, heads,
                                  /*causal=*/false, nullptr);
  return linear(o, weight(out + "attention.output.dense.weight", {d, d}),
                weight(out + "attention.output.dense.bias", {d}));
}

//===----------------------------------------------------------------------===//
// Model families
//===----------------------------------------------------------------------===//

Value HfImporter::gpt2(Value ids) {
  int64_t vocab, nPos, layers, heads;
  double eps = 1e-5;
  if (!field("vocab_size", vocab) || !field("n_positions", nPos) ||
      !field("n_embd", hidden) || !field("n_layer", layers) ||
      !field("n_head", heads) || !headsDivide("n_embd", hidden, "n_head", heads))
    return {};
  if (config.contains("layer_norm_epsilon") && !field("layer_norm_epsilon", eps))
    return {};
  int64_t d = hidden, inner = 4 * d;
  if (config.contains("n_inner") && !config["n_inner"].is_null() &&
      !field("n_inner", inner))
    return {};
  std::string act = config.value("activation_function", "gelu_new");
  if (act != "gelu_new" && act != "gelu_pytorch_tanh" && act != "gelu")
    return error() << "config.json: activation_function '" << act
                   << "' is not supported (gelu_new, gelu_pytorch_tanh, gelu)",
           failed = true, Value();
  auto gelu = act == "gelu" ? GeluApproximation::exact : GeluApproximation::tanh;
  if (seqLen > nPos)
    return error() << "--seq-len " << seqLen << " exceeds n_positions "
                   << nPos,
           failed = true, Value();
  prefix = weights.find("transformer.wte.weight") ? "transformer." : "";
  Value wte = weight("wte.weight", {vocab, d});
  if (!wte)
    return {};
  Value x = b.create<EmbeddingOp>(loc, wte, ids);
  Value pos = rows("wpe.weight", seqLen, d);
  if (!pos)
    return {};
  x = b.create<AddOp>(loc, x, pos);
  for (int64_t l = 0; l < layers && x; ++l) {
    std::string p = "h." + std::to_string(l) + ".";
    x = residual(ResidualKind::attention, l, x, [&](Value a) -> Value {
      Value n = layerNorm(a, p + "ln_1", eps);
      Value qkv = linear(n, weight(p + "attn.c_attn.weight", {3 * d, d}, true),
                         weight(p + "attn.c_attn.bias", {3 * d}));
      if (!qkv)
        return {};
      Value q = slice(qkv, 2, 0, d), k = slice(qkv, 2, d, d),
            v = slice(qkv, 2, 2 * d, d);
      Value o = b.create<AttentionOp>(loc, q, k, v, Value(), Value(), Value(), heads, heads,
                                      /*causal=*/true, nullptr);
      return linear(o, weight(p + "attn.c_proj.weight", {d, d}, true),
                    weight(p + "attn.c_proj.bias", {d}));
    });
    x = residual(ResidualKind::mlp, l, x, [&](Value a) -> Value {
      Value n = layerNorm(a, p + "ln_2", eps);
      Value h = linear(n, weight(p + "mlp.c_fc.weight", {inner, d}, true),
                       weight(p + "mlp.c_fc.bias", {inner}));
      if (!h)
        return {};
      h = b.create<GeluOp>(loc, h, gelu);
      return linear(h, weight(p + "mlp.c_proj.weight", {d, inner}, true),
                    weight(p + "mlp.c_proj.bias", {d}));
    });
  }
  x = layerNorm(x, "ln_f", eps);
  // The LM head is tied to the token embedding.
  return linear(x, wte);
}

Value HfImporter::llama(Value ids) {
  int64_t vocab, inter, layers, heads, kvHeads, maxPos;
  double eps = 1e-6, theta = 10000.0;
  if (!field("vocab_size", vocab) || !field("hidden_size", hidden) ||
      !field("intermediate_size", inter) ||
      !field("num_hidden_layers", layers) ||
      !field("num_attention_heads", heads) ||
      !field("max_position_embeddings", maxPos))
    return {};
  kvHeads = heads;
  if (config.contains("num_key_value_heads") &&
      !field("num_key_value_heads", kvHeads))
    return {};
  if (config.contains("rms_norm_eps") && !field("rms_norm_eps", eps))
    return {};
  if (config.contains("rope_theta") && !field("rope_theta", theta))
    return {};
  if (config.contains("rope_scaling") && !config["rope_scaling"].is_null())
    return error() << "config.json: rope_scaling is not supported",
           failed = true, Value();
  if (seqLen > maxPos)
    return error() << "--seq-len " << seqLen
                   << " exceeds max_position_embeddings " << maxPos,
           failed = true, Value();
  int64_t d = hidden, dh = d / heads;
  if (d % heads || heads % kvHeads)
    return error() << "config.json: hidden_size " << d
                   << " / num_attention_heads " << heads
                   << " / num_key_value_heads " << kvHeads
                   << " do not divide evenly",
           failed = true, Value();
  bool tied = config.value("tie_word_embeddings", false);
  prefix = weights.find("model.embed_tokens.weight") ? "model." : "";
  Value emb = weight("embed_tokens.weight", {vocab, d});
  if (!emb)
    return {};
  Value x = b.create<EmbeddingOp>(loc, emb, ids);
  SmallVector<int64_t> pos(seqLen);
  for (int64_t i = 0; i < seqLen; ++i)
    pos[i] = i;
  auto rms = [&](Value a, const std::string &name) -> Value {
    Value g = weight(name, {d});
    if (!a || !g)
      return {};
    return b.create<RmsNormOp>(loc, a.getType(), a, g, Value(),
                               b.getF32FloatAttr(float(eps)));
  };
  auto rope = [&](Value a, int64_t h) -> Value {
    Value positions = b.create<arith::ConstantOp>(
        loc, DenseElementsAttr::get(
                 RankedTensorType::get({seqLen}, b.getI64Type()),
                 ArrayRef<int64_t>(pos)));
    return b.create<RopeOp>(loc, a.getType(), a, positions,
                            b.getI64IntegerAttr(h),
                            b.getF32FloatAttr(float(theta)), UnitAttr());
  };
  for (int64_t l = 0; l < layers && x; ++l) {
    std::string p = "layers." + std::to_string(l) + ".";
    x = residual(ResidualKind::attention, l, x, [&](Value a) -> Value {
      Value n = rms(a, p + "input_layernorm.weight");
      Value q = linear(n, weight(p + "self_attn.q_proj.weight", {heads * dh, d}));
      Value k = linear(n, weight(p + "self_attn.k_proj.weight", {kvHeads * dh, d}));
      Value v = linear(n, weight(p + "self_attn.v_proj.weight", {kvHeads * dh, d}));
      if (!q || !k || !v)
        return {};
      q = rope(q, heads);
      k = rope(k, kvHeads);
      Value o = b.create<AttentionOp>(loc, q, k, v, Value(), Value(), Value(), heads, kvHeads,
                                      /*causal=*/true, nullptr);
      return linear(o, weight(p + "self_attn.o_proj.weight", {d, heads * dh}));
    });
    x = residual(ResidualKind::mlp, l, x, [&](Value a) -> Value {
      Value n = rms(a, p + "post_attention_layernorm.weight");
      Value gate = linear(n, weight(p + "mlp.gate_proj.weight", {inter, d}));
      if (!gate)
        return {};
      Value act = b.create<SiluOp>(loc, gate);
      Value up = linear(n, weight(p + "mlp.up_proj.weight", {inter, d}));
      if (!up)
        return {};
      Value h = b.create<MulOp>(loc, act, up);
      return linear(h, weight(p + "mlp.down_proj.weight", {d, inter}));
    });
  }
  x = rms(x, "norm.weight");
  std::string savedPrefix = prefix;
  prefix = "";
  Value head = tied ? emb : weight("lm_head.weight", {vocab, d});
  prefix = savedPrefix;
  return linear(x, head);
}

Value HfImporter::bert(Value ids) {
  int64_t vocab, layers, heads, inter, maxPos, types;
  double eps = 1e-12;
  if (!field("vocab_size", vocab) || !field("hidden_size", hidden) ||
      !field("num_hidden_layers", layers) ||
      !field("num_attention_heads", heads) ||
      !field("intermediate_size", inter) ||
      !field("max_position_embeddings", maxPos) ||
      !field("type_vocab_size", types) ||
      !headsDivide("hidden_size", hidden, "num_attention_heads", heads))
    return {};
  if (config.contains("layer_norm_eps") && !field("layer_norm_eps", eps))
    return {};
  std::string act = config.value("hidden_act", "gelu");
  if (act != "gelu")
    return error() << "config.json: hidden_act '" << act
                   << "' is not supported (gelu)",
           failed = true, Value();
  if (seqLen > maxPos)
    return error() << "--seq-len " << seqLen
                   << " exceeds max_position_embeddings " << maxPos,
           failed = true, Value();
  int64_t d = hidden;
  prefix = weights.find("bert.embeddings.word_embeddings.weight") ? "bert." : "";
  Value word = weight("embeddings.word_embeddings.weight", {vocab, d});
  if (!word)
    return {};
  Value x = b.create<EmbeddingOp>(loc, word, ids);
  // token_type_ids are all 0: row 0 of the type table, at every position.
  const SafeTensor *typeTable =
      tensor("embeddings.token_type_embeddings.weight");
  if (!typeTable || typeTable->shape != std::vector<int64_t>{types, d}) {
    error() << "model.safetensors: tensor '" << prefix
            << "embeddings.token_type_embeddings.weight' is missing or not ["
            << types << ", " << d << "]";
    failed = true;
    return {};
  }
  std::vector<float> row0 = typeTable->toFloat();
  std::vector<float> typeRows;
  for (int64_t t = 0; t < seqLen; ++t)
    typeRows.insert(typeRows.end(), row0.begin(), row0.begin() + d);
  x = b.create<AddOp>(loc, x, constantF32({1, seqLen, d}, typeRows, ""));
  Value pos = rows("embeddings.position_embeddings.weight", seqLen, d);
  if (!pos)
    return {};
  x = b.create<AddOp>(loc, x, pos);
  x = layerNorm(x, "embeddings.LayerNorm", eps);
  for (int64_t l = 0; l < layers && x; ++l) {
    std::string p = "encoder.layer." + std::to_string(l) + ".";
    // Post-LN: the norm follows each residual.
    x = residual(ResidualKind::attention, l, x, [&](Value a) -> Value {
      return encoderAttention(a, p + "attention.self.", p, heads);
    });
    x = layerNorm(x, p + "attention.output.LayerNorm", eps);
    x = residual(ResidualKind::mlp, l, x, [&](Value a) -> Value {
      Value h = linear(a, weight(p + "intermediate.dense.weight", {inter, d}),
                       weight(p + "intermediate.dense.bias", {inter}));
      if (!h)
        return {};
      h = b.create<GeluOp>(loc, h, GeluApproximation::exact);
      return linear(h, weight(p + "output.dense.weight", {d, inter}),
                    weight(p + "output.dense.bias", {d}));
    });
    x = layerNorm(x, p + "output.LayerNorm", eps);
  }
  return x;
}

Value HfImporter::vit(Value pixels) {
  int64_t layers, heads, inter, image, patch, channels;
  double eps = 1e-12;
  if (!field("hidden_size", hidden) || !field("num_hidden_layers", layers) ||
      !field("num_attention_heads", heads) ||
      !field("intermediate_size", inter) || !field("image_size", image) ||
      !field("patch_size", patch) || !field("num_channels", channels) ||
      !headsDivide("hidden_size", hidden, "num_attention_heads", heads))
    return {};
  if (config.contains("layer_norm_eps") && !field("layer_norm_eps", eps))
    return {};
  if (image % patch)
    return error() << "config.json: image_size " << image
                   << " is not a multiple of patch_size " << patch,
           failed = true, Value();
  auto labels = config.find("id2label");
  if (labels == config.end() || !labels->is_object() || labels->empty())
    return error() << "config.json: 'id2label' is missing (the classifier's "
                      "size)",
           failed = true, Value();
  int64_t classes = labels->size(), d = hidden, g = image / patch;
  int64_t n = g * g, bsz = 1;
  prefix = "vit.";
  // Patches: [B,C,H,W] -> [B, N, C·p·p], then the projection as a linear.
  Type f32 = b.getF32Type();
  Value x = b.create<ReshapeOp>(
      loc, RankedTensorType::get({bsz, channels, g, patch, g, patch}, f32),
      pixels);
  x = b.create<TransposeOp>(loc, x,
                            b.getDenseI64ArrayAttr({0, 2, 4, 1, 3, 5}));
  x = b.create<ReshapeOp>(
      loc, RankedTensorType::get({bsz, n, channels * patch * patch}, f32), x);
  const SafeTensor *proj =
      tensor("embeddings.patch_embeddings.projection.weight");
  if (!proj || proj->shape != std::vector<int64_t>{d, channels, patch, patch}) {
    error() << "model.safetensors: tensor '" << prefix
            << "embeddings.patch_embeddings.projection.weight' is missing or "
               "not "
            << formatShape({d, channels, patch, patch});
    failed = true;
    return {};
  }
  Value w = constantF32({d, channels * patch * patch}, proj->toFloat(),
                        proj->name);
  x = linear(x, w,
             weight("embeddings.patch_embeddings.projection.bias", {d}));
  Value cls = weight("embeddings.cls_token", {1, 1, d});
  if (!x || !cls)
    return {};
  x = b.create<ConcatOp>(loc, ValueRange{cls, x}, 1);
  Value pos = weight("embeddings.position_embeddings", {1, n + 1, d});
  if (!pos)
    return {};
  x = b.create<AddOp>(loc, x, pos);
  for (int64_t l = 0; l < layers && x; ++l) {
    std::string p = "encoder.layer." + std::to_string(l) + ".";
    x = residual(ResidualKind::attention, l, x, [&](Value a) -> Value {
      Value h = layerNorm(a, p + "layernorm_before", eps);
      return encoderAttention(h, p + "attention.attention.", p, heads);
    });
    x = residual(ResidualKind::mlp, l, x, [&](Value a) -> Value {
      Value h = layerNorm(a, p + "layernorm_after", eps);
      h = linear(h, weight(p + "intermediate.dense.weight", {inter, d}),
                 weight(p + "intermediate.dense.bias", {inter}));
      if (!h)
        return {};
      h = b.create<GeluOp>(loc, h, GeluApproximation::exact);
      return linear(h, weight(p + "output.dense.weight", {d, inter}),
                    weight(p + "output.dense.bias", {d}));
    });
  }
  x = layerNorm(x, "layernorm", eps);
  if (!x)
    return {};
  // Classifier on the CLS token.
  Value clsOut = slice(x, 1, 0, 1);
  clsOut = b.create<ReshapeOp>(loc, RankedTensorType::get({bsz, d}, f32),
                               clsOut);
  prefix = "";
  return linear(clsOut, weight("classifier.weight", {classes, d}),
                weight("classifier.bias", {classes}));
}

OwningOpRef<ModuleOp> HfImporter::run() {
  registerImportDialects(ctx);
  std::string configPath = dir + "/config.json";
  std::ifstream cf;
  if (!inMemory) {
    if (std::string why = ::slim::rt::notARegularFile(configPath);
        !why.empty()) {
      emitError(loc) << configPath << ": " << why;
      return {};
    }
    cf.open(configPath);
    if (!cf) {
      emitError(loc) << "'" << dir
                     << "' has no config.json: not a Hugging Face checkpoint "
                        "directory";
      return {};
    }
  }
  try {
    config = inMemory ? json::parse(memConfig) : json::parse(cf);
  } catch (const json::exception &e) {
    emitError(loc) << "config.json is not valid JSON: " << e.what();
    return {};
  }
  if (!config.is_object() || !config.contains("model_type") ||
      !config["model_type"].is_string()) {
    emitError(loc) << "config.json has no 'model_type' string";
    return {};
  }
  std::string type = config["model_type"];
  if (type != "gpt2" && type != "llama" && type != "bert" && type != "vit") {
    emitError(loc) << "model_type '" << type
                   << "' is not supported (gpt2, llama, bert, vit)";
    return {};
  }
  std::string err;
  if (inMemory ? !weights.parse(std::move(memWeights),
                                dir + "/model.safetensors", err)
               : !weights.open(dir + "/model.safetensors", err)) {
    emitError(loc) << err;
    return {};
  }

  OwningOpRef<ModuleOp> module = ModuleOp::create(loc);
  b.setInsertionPointToEnd(module->getBody());
  Type input;
  std::string inputName = "input_ids";
  if (type == "vit") {
    int64_t image, channels;
    if (!field("image_size", image) || !field("num_channels", channels))
      return {};
    input = RankedTensorType::get({1, channels, image, image}, b.getF32Type());
    inputName = "pixel_values";
  } else {
    int64_t maxPos = 0;
    const char *posField = type == "gpt2" ? "n_positions" : "max_position_embeddings";
    if (!field(posField, maxPos))
      return {};
    seqLen = options.seqLen > 0 ? options.seqLen : std::min<int64_t>(128, maxPos);
    input = RankedTensorType::get({1, seqLen}, b.getI64Type());
  }
  auto func = b.create<func::FuncOp>(loc, "main",
                                     b.getFunctionType({input}, {}));
  Block *entry = func.addEntryBlock();
  func.setArgAttr(0, "slim.name", b.getStringAttr(inputName));
  b.setInsertionPointToEnd(entry);
  Value arg = entry->getArgument(0);
  Value out = type == "gpt2"    ? gpt2(arg)
              : type == "llama" ? llama(arg)
              : type == "bert"  ? bert(arg)
                                : vit(arg);
  if (!out || failed)
    return {};
  b.create<func::ReturnOp>(loc, out);
  func.setType(b.getFunctionType({input}, {out.getType()}));
  func.setResultAttr(0, "slim.name",
                     b.getStringAttr(type == "bert" ? "last_hidden_state"
                                                    : "logits"));
  if (mlir::failed(mlir::verify(*module)))
    return {};
  return module;
}

} // namespace

OwningOpRef<ModuleOp>
mlir::slim::importHuggingFace(MLIRContext *ctx, StringRef dir,
                              const ImportOptions &options) {
  return HfImporter(ctx, dir, options).run();
}

OwningOpRef<ModuleOp> mlir::slim::importHuggingFaceFromMemory(
    MLIRContext *ctx, std::string configText, std::vector<uint8_t> safetensors,
    StringRef name, const ImportOptions &options) {
  HfImporter importer(ctx, name, options);
  importer.setContents(std::move(configText), std::move(safetensors));
  return importer.run();
}
