//===- EmitConv.cpp - convolution, pooling and BatchNorm nodes ------------===//
//
// Conv, MaxPool / AveragePool / GlobalMaxPool and BatchNormalization as
// slim ops. A convolution of one group with a known weight becomes
// slim.im2col (or, for a patch embedding, a reshape and a transpose) and a
// slim.linear, so that quantization, weight packing and epilogue fusion
// treat it as any linear; a grouped or depthwise one, or one whose weight
// is computed at run time, a direct slim.conv2d. A BatchNormalization that
// is the only reader of such a convolution is folded into its weight and
// bias. 1-D windows are the 2-D ones over [N, C, 1, L].
//
//===----------------------------------------------------------------------===//

#include "importers/onnx/OnnxImporter.h"

#include "dialects/slim/IR/ShapeUtils.h"

#include <cmath>

using namespace mlir;
using namespace mlir::slim;
using namespace mlir::slim::onnx_import;

/// The window attributes of a Conv or pooling node over x [B, C, H, W] with
/// a kernel of `kernel` (kernel_shape, or the weight's extents): strides,
/// dilations and pads, `auto_pad` resolved into explicit pads [top, left,
/// bottom, right].
FailureOr<NodeEmitter::Window>
NodeEmitter::window(RankedTensorType xt, std::vector<int64_t> kernel) {
  // A 1-D window over [N, C, L] is the 2-D one over [N, C, 1, L].
  bool oneD = xt.getRank() == 3 && kernel.size() == 1;
  if (!oneD && (xt.getRank() != 4 || kernel.size() != 2))
    return unsupported("only 1-D and 2-D windows ([N, C, L] and [N, C, H, "
                       "W]) are supported, this input is " +
                       formatShape(xt.getShape()));
  size_t sp = oneD ? 1 : 2;
  Window w;
  w.oneD = oneD;
  w.kernel = kernel;
  w.strides = intsAttr(n, "strides").value_or(std::vector<int64_t>(sp, 1));
  w.dilations = intsAttr(n, "dilations").value_or(std::vector<int64_t>(sp, 1));
  w.pads = intsAttr(n, "pads").value_or(std::vector<int64_t>(2 * sp, 0));
  if (w.strides.size() != sp || w.dilations.size() != sp ||
      w.pads.size() != 2 * sp)
    return unsupported("strides, dilations and pads must be given for " +
                       std::to_string(sp) + " spatial axes");
  if (oneD) {
    w.kernel = {1, kernel[0]};
    w.strides = {1, w.strides[0]};
    w.dilations = {1, w.dilations[0]};
    w.pads = {0, w.pads[0], 0, w.pads[1]};
    xt = RankedTensorType::get(
        {xt.getDimSize(0), xt.getDimSize(1), 1, xt.getDimSize(2)},
        xt.getElementType());
    kernel = w.kernel;
  }
  std::string autoPad =
      findAttr(n, "auto_pad") ? findAttr(n, "auto_pad")->s() : "NOTSET";
  if (autoPad == "VALID") {
    w.pads = {0, 0, 0, 0};
  } else if (autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER") {
    // Output extent ceil(in / stride); the extra cell of an odd total pad
    // goes at the end (SAME_UPPER) or the beginning (SAME_LOWER).
    for (int a = 0; a < 2; ++a) {
      int64_t in = xt.getDimSize(2 + a), s = w.strides[a];
      int64_t out = (in + s - 1) / s;
      int64_t total = std::max<int64_t>(
          0, (out - 1) * s + (kernel[a] - 1) * w.dilations[a] + 1 - in);
      int64_t small = total / 2, large = total - small;
      w.pads[a] = autoPad == "SAME_UPPER" ? small : large;
      w.pads[a + 2] = autoPad == "SAME_UPPER" ? large : small;
    }
  } else if (autoPad != "NOTSET") {
    return unsupported("auto_pad '" + autoPad + "' is not an ONNX value");
  }
  return w;
}

/// [N, C, L] as [N, C, 1, L] for a 1-D window.
Value NodeEmitter::as2d(Value x) {
  RankedTensorType xt = typeOf(x);
  return b.create<ReshapeOp>(
      loc,
      RankedTensorType::get(
          {xt.getDimSize(0), xt.getDimSize(1), 1, xt.getDimSize(2)},
          xt.getElementType()),
      x);
}

/// Sets the node's output to the NCHW result of a window op, [N, C, 1, L]
/// back to [N, C, L] for a 1-D window.
LogicalResult NodeEmitter::setWindowResult(FailureOr<Operation *> r,
                                           bool oneD) {
  if (failed(r))
    return failure();
  Value y = (*r)->getResult(0);
  if (!oneD)
    return setValue(y);
  RankedTensorType yt = typeOf(y);
  return setValue(b.create<ReshapeOp>(
      loc,
      RankedTensorType::get(
          {yt.getDimSize(0), yt.getDimSize(1), yt.getDimSize(3)},
          yt.getElementType()),
      y));
}

/// Conv.
LogicalResult NodeEmitter::emitConv() {
  Value x = in(0);
  RankedTensorType xt = typeOf(x);
  // A weight computed at run time (or given as a graph input) runs as a
  // direct slim.conv2d; a known one as a linear over the patches.
  const HostTensor *w = constant(n.input(1));
  if (w && !w->isFloat())
    return unsupported("the weight must be float32");
  Value runtimeWeight = w ? Value() : in(1);
  std::vector<int64_t> wshape =
      w ? w->shape
        : std::vector<int64_t>(typeOf(runtimeWeight).getShape().begin(),
                               typeOf(runtimeWeight).getShape().end());
  if ((xt.getRank() != 3 && xt.getRank() != 4) ||
      int64_t(wshape.size()) != xt.getRank())
    return unsupported("only 1-D and 2-D convolutions are supported, this "
                       "one has input " +
                       formatShape(xt.getShape()) + " and weight " +
                       formatShape(wshape));
  FailureOr<Window> win =
      window(xt, std::vector<int64_t>(wshape.begin() + 2, wshape.end()));
  if (failed(win))
    return failure();
  if (win->oneD) {
    x = as2d(x);
    xt = typeOf(x);
  }
  int64_t d = wshape[0], ch = wshape[1], p = win->kernel[0],
          q = win->kernel[1];
  int64_t groups = intAttr(n, "group", 1);
  if (groups < 1 || xt.getDimSize(1) != ch * groups || d % groups)
    return unsupported("weight " + formatShape(wshape) +
                       " does not convolve input " +
                       formatShape(xt.getShape()) + " in " +
                       std::to_string(groups) + " groups");
  auto conv2d = [&](Value weight, Value bias) {
    SmallVector<Value> operands = {x, weight};
    if (bias)
      operands.push_back(bias);
    return setWindowResult(
        build<Conv2dOp>(
            loc, operands,
            {b.getNamedAttr("strides", b.getDenseI64ArrayAttr(win->strides)),
             b.getNamedAttr("pads", b.getDenseI64ArrayAttr(win->pads)),
             b.getNamedAttr("dilations",
                            b.getDenseI64ArrayAttr(win->dilations)),
             b.getNamedAttr("groups", b.getI64IntegerAttr(groups))}),
        win->oneD);
  };
  if (runtimeWeight) {
    if (win->oneD)
      runtimeWeight = b.create<ReshapeOp>(
          loc,
          RankedTensorType::get({d, ch, p, q}, xt.getElementType()),
          runtimeWeight);
    return conv2d(runtimeWeight, n.input_size() > 2 && !n.input(2).empty()
                                     ? in(2)
                                     : Value());
  }
  HostTensor weight = *w;
  weight.shape = {d, ch, p, q};
  std::optional<HostTensor> bias;
  if (n.input_size() > 2 && !n.input(2).empty()) {
    if (const HostTensor *bc = constant(n.input(2)))
      bias = *bc;
  }
  bool runtimeBias = !bias && n.input_size() > 2 && !n.input(2).empty();
  // A BatchNormalization that is this convolution's only reader folds into
  // its weight and bias: w' = w · s, b' = (b − mean) · s + beta with
  // s = gamma / sqrt(var + eps).
  bool foldedBn = false;
  if (!runtimeBias)
    if (const onnx::NodeProto *bn = im.foldableBatchNorm(n)) {
      foldedBn = true;
      const HostTensor *gamma = constant(bn->input(1)),
                       *beta = constant(bn->input(2)),
                       *mean = constant(bn->input(3)),
                       *var = constant(bn->input(4));
      float eps = floatAttr(*bn, "epsilon", 1e-5f);
      if (!bias) {
        bias = HostTensor();
        bias->shape = {d};
        bias->f.assign(d, 0.0f);
      }
      int64_t per = ch * p * q;
      for (int64_t o = 0; o < d; ++o) {
        float s = float(gamma->at(o) / std::sqrt(var->at(o) + double(eps)));
        for (int64_t k = 0; k < per; ++k)
          weight.f[o * per + k] *= s;
        bias->f[o] = float((bias->f[o] - mean->at(o)) * s + beta->at(o));
      }
      im.foldedBatchNorms.insert(bn->output(0));
    }
  Type f32 = xt.getElementType();
  int64_t bsz = xt.getDimSize(0), h = xt.getDimSize(2), wd = xt.getDimSize(3);
  // A folded weight and bias are new constants, named after the weight.
  std::string wname = n.input(1) + (foldedBn ? "/bn_folded" : "");
  initializerNames.insert(wname);
  auto biasValue = [&]() -> Value {
    if (!foldedBn)
      return n.input_size() > 2 && !n.input(2).empty() ? in(2) : Value();
    initializerNames.insert(wname + "/bias");
    return materialize(wname + "/bias", *bias, loc);
  };

  if (groups != 1)
    return conv2d(materialize(wname, weight, loc), biasValue());

  // One group: a linear over each output pixel's patch. A patch embedding
  // (stride = kernel, no padding, dilation 1, the input tiling exactly)
  // gathers its patches with a reshape and a transpose, anything else with
  // slim.im2col.
  Value patches;
  int64_t oh, ow;
  bool patchEmbedding =
      win->strides == std::vector<int64_t>{p, q} &&
      win->pads == std::vector<int64_t>{0, 0, 0, 0} &&
      win->dilations == std::vector<int64_t>{1, 1} && h % p == 0 && wd % q == 0;
  if (patchEmbedding) {
    oh = h / p;
    ow = wd / q;
    auto r6 = b.create<ReshapeOp>(
        loc, RankedTensorType::get({bsz, ch, oh, p, ow, q}, f32), x);
    auto t6 = build<TransposeOp>(
        loc, {r6},
        {b.getNamedAttr("permutation",
                        b.getDenseI64ArrayAttr({0, 2, 4, 1, 3, 5}))});
    if (failed(t6))
      return failure();
    patches = b.create<ReshapeOp>(
        loc, RankedTensorType::get({bsz, oh * ow, ch * p * q}, f32),
        (*t6)->getResult(0));
  } else {
    auto cols = build<Im2ColOp>(
        loc, {x},
        {b.getNamedAttr("kernel", b.getDenseI64ArrayAttr({p, q})),
         b.getNamedAttr("strides", b.getDenseI64ArrayAttr(win->strides)),
         b.getNamedAttr("pads", b.getDenseI64ArrayAttr(win->pads)),
         b.getNamedAttr("dilations", b.getDenseI64ArrayAttr(win->dilations))});
    if (failed(cols))
      return failure();
    patches = (*cols)->getResult(0);
    SmallVector<int64_t, 14> shape = windowOf(*cols);
    oh = shape[12];
    ow = shape[13];
  }
  HostTensor w2 = weight;
  w2.shape = {d, ch * p * q};
  SmallVector<Value> operands = {patches, materialize(wname, w2, loc)};
  if (Value bv = biasValue())
    operands.push_back(bv);
  auto lin =
      build<LinearOp>(loc, operands, linearSegments(operands.size() > 2));
  if (failed(lin))
    return failure();
  // Back to the NCHW layout the rest of the graph expects.
  auto r4 = b.create<ReshapeOp>(
      loc, RankedTensorType::get({bsz, oh, ow, d}, f32), (*lin)->getResult(0));
  return setWindowResult(
      build<TransposeOp>(loc, {r4},
                         {b.getNamedAttr("permutation",
                                         b.getDenseI64ArrayAttr({0, 3, 1, 2}))}),
      win->oneD);
}

/// MaxPool, AveragePool, GlobalMaxPool.
LogicalResult NodeEmitter::emitPool() {
  Value x = in(0);
  RankedTensorType xt = typeOf(x);
  for (int k = 1; k < n.output_size(); ++k)
    if (!n.output(k).empty())
      return unsupported("the Indices output is not supported");
  bool global = op == "GlobalMaxPool";
  std::vector<int64_t> kernel;
  if (global) {
    kernel.assign(xt.getShape().begin() + std::min<int64_t>(2, xt.getRank()),
                  xt.getShape().end());
  } else {
    kernel = intsAttr(n, "kernel_shape").value_or(std::vector<int64_t>{});
  }
  FailureOr<Window> win = window(xt, kernel);
  if (failed(win))
    return failure();
  if (global)
    *win = Window{win->kernel, {1, 1}, {0, 0, 0, 0}, {1, 1}, win->oneD};
  if (win->oneD)
    x = as2d(x);
  bool avg = op == "AveragePool";
  SmallVector<NamedAttribute> attrs = {
      b.getNamedAttr("kind", PoolKindAttr::get(b.getContext(), avg ? PoolKind::avg
                                                          : PoolKind::max)),
      b.getNamedAttr("kernel", b.getDenseI64ArrayAttr(win->kernel)),
      b.getNamedAttr("strides", b.getDenseI64ArrayAttr(win->strides)),
      b.getNamedAttr("pads", b.getDenseI64ArrayAttr(win->pads)),
      b.getNamedAttr("dilations", b.getDenseI64ArrayAttr(win->dilations))};
  if (!global && intAttr(n, "ceil_mode", 0))
    attrs.push_back(b.getNamedAttr("ceil_mode", b.getUnitAttr()));
  if (avg && intAttr(n, "count_include_pad", 0))
    attrs.push_back(b.getNamedAttr("count_include_pad", b.getUnitAttr()));
  if (!avg && intAttr(n, "storage_order", 0))
    return unsupported("storage_order 1 (column-major indices) is not "
                       "supported");
  return setWindowResult(build<Pool2dOp>(loc, {x}, attrs), win->oneD);
}

/// BatchNormalization (inference): folded into the convolution before it
/// when that is its input's only reader, else y = x · s + t per channel.
LogicalResult NodeEmitter::emitBatchNormalization() {
  if (im.foldedBatchNorms.contains(n.output(0)))
    return setValue(in(0));
  for (int k = 1; k < n.output_size(); ++k)
    if (!n.output(k).empty())
      return unsupported("training mode (running mean and variance "
                         "outputs) is not supported");
  if (intAttr(n, "training_mode", 0))
    return unsupported("training_mode 1 is not supported");
  Value x = in(0);
  RankedTensorType xt = typeOf(x);
  if (xt.getRank() < 2)
    return unsupported("needs an [N, C, ...] input");
  int64_t c = xt.getDimSize(1);
  float eps = floatAttr(n, "epsilon", 1e-5f);
  std::vector<const HostTensor *> params;
  for (int k = 1; k < 5; ++k)
    params.push_back(constant(n.input(k)));
  if (llvm::is_contained(params, nullptr)) {
    // Parameters computed at run time: (x − mean) / sqrt(var + eps) ·
    // scale + bias, each [C] viewed as [C, 1, …].
    SmallVector<int64_t> pshape(xt.getRank() - 1, 1);
    pshape[0] = c;
    SmallVector<Value, 4> p;
    for (int k = 1; k < 5; ++k) {
      Value v = in(k);
      if (typeOf(v).getNumElements() != c)
        return unsupported("parameter " + n.input(k) + " " +
                           formatShape(typeOf(v).getShape()) + " for " +
                           std::to_string(c) + " channels");
      p.push_back(b.create<ReshapeOp>(
          loc, RankedTensorType::get(pshape, xt.getElementType()), v));
    }
    HostTensor e;
    e.f = {eps};
    Value epsV = materialize(n.output(0) + "/eps", e, loc);
    FailureOr<Operation *> r = build<SubOp>(loc, {x, p[2]});
    if (failed(r))
      return failure();
    FailureOr<Operation *> var = build<AddOp>(loc, {p[3], epsV});
    if (failed(var))
      return failure();
    Value sd = b.create<SqrtOp>(loc, (*var)->getResult(0));
    r = build<DivOp>(loc, {(*r)->getResult(0), sd});
    if (failed(r))
      return failure();
    r = build<MulOp>(loc, {(*r)->getResult(0), p[0]});
    if (failed(r))
      return failure();
    return set(build<AddOp>(loc, {(*r)->getResult(0), p[1]}));
  }
  for (const HostTensor *t : params)
    if (t->size() != c)
      return unsupported("parameters of " + std::to_string(t->size()) +
                         " values for " + std::to_string(c) + " channels");
  HostTensor s, t;
  s.shape.assign(xt.getRank() - 1, 1);
  s.shape[0] = c;
  t.shape = s.shape;
  for (int64_t k = 0; k < c; ++k) {
    double sk = params[0]->at(k) / std::sqrt(params[3]->at(k) + double(eps));
    s.f.push_back(float(sk));
    t.f.push_back(float(params[1]->at(k) - params[2]->at(k) * sk));
  }
  auto mul = build<MulOp>(loc, {x, materialize(n.output(0) + "/scale", s, loc)});
  if (failed(mul))
    return failure();
  return set(build<AddOp>(loc, {(*mul)->getResult(0),
                                materialize(n.output(0) + "/shift", t, loc)}));
}

