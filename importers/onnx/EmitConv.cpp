//===- EmitConv.cpp - convolution, pooling and BatchNorm nodes ------------===//
//
// Conv, ConvTranspose, MaxPool / AveragePool / GlobalMaxPool,
// BatchNormalization and Resize / Upsample as slim ops. A convolution of one group with a known weight becomes
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
  if (runtimeWeight) {
    if (win->oneD)
      runtimeWeight = b.create<ReshapeOp>(
          loc,
          RankedTensorType::get({d, ch, p, q}, xt.getElementType()),
          runtimeWeight);
    Value bias = n.input_size() > 2 && !n.input(2).empty() ? in(2) : Value();
    return setWindowResult(buildConv2d(x, runtimeWeight, bias, *win, groups),
                           win->oneD);
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
  // A folded weight and bias are new constants, named after the weight.
  std::string wname = n.input(1) + (foldedBn ? "/bn_folded" : "");
  auto biasValue = [&]() -> Value {
    if (!foldedBn)
      return n.input_size() > 2 && !n.input(2).empty() ? in(2) : Value();
    initializerNames.insert(wname + "/bias");
    return materialize(wname + "/bias", *bias, loc);
  };
  return convolve(x, *win, weight, biasValue, groups, wname);
}

/// slim.conv2d of x [N, C, H, W] with `weight` (and `bias`, or null).
FailureOr<Operation *> NodeEmitter::buildConv2d(Value x, Value weight,
                                                Value bias, const Window &win,
                                                int64_t groups) {
  SmallVector<Value> operands = {x, weight};
  if (bias)
    operands.push_back(bias);
  return build<Conv2dOp>(
      loc, operands,
      {b.getNamedAttr("strides", b.getDenseI64ArrayAttr(win.strides)),
       b.getNamedAttr("pads", b.getDenseI64ArrayAttr(win.pads)),
       b.getNamedAttr("dilations", b.getDenseI64ArrayAttr(win.dilations)),
       b.getNamedAttr("groups", b.getI64IntegerAttr(groups))});
}

/// The convolution of x [N, C, H, W] (2-D already) with a known weight
/// [D, C / groups, P, Q] over `win`: slim.conv2d for several groups; for
/// one, a linear over each output pixel's patch. `bias` gives the bias
/// operand (or null) after the weight is materialized, named `wname`.
LogicalResult NodeEmitter::convolve(Value x, const Window &window,
                                    const HostTensor &weight,
                                    function_ref<Value()> bias, int64_t groups,
                                    const std::string &wname) {
  RankedTensorType xt = typeOf(x);
  const Window *win = &window;
  int64_t d = weight.shape[0], ch = weight.shape[1], p = weight.shape[2],
          q = weight.shape[3];
  Type f32 = xt.getElementType();
  int64_t bsz = xt.getDimSize(0), h = xt.getDimSize(2), wd = xt.getDimSize(3);
  initializerNames.insert(wname);
  auto biasValue = [&]() { return bias(); };

  if (groups != 1) {
    Value w = materialize(wname, weight, loc);
    return setWindowResult(buildConv2d(x, w, biasValue(), *win, groups),
                           win->oneD);
  }

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

/// ConvTranspose of one group as a linear over the input's pixels (the
/// weight [C_in, C, kh, kw] as [C·kh·kw, C_in]) and slim.col2im, which
/// adds each pixel's C·kh·kw products at their places in the output: the
/// transposed convolution's own multiply-adds and no others. failure()
/// (nothing emitted) for several groups, or pads the window arithmetic of
/// col2im cannot express; the caller then convolves the dilated input.
LogicalResult NodeEmitter::convTransposeByScatter(
    Value x, const HostTensor &w, ArrayRef<int64_t> kernel,
    ArrayRef<int64_t> strides, ArrayRef<int64_t> dilations,
    ArrayRef<int64_t> outPad, ArrayRef<int64_t> pads, int64_t groups,
    bool oneD) {
  RankedTensorType xt = typeOf(x);
  int64_t bsz = xt.getDimSize(0), cin = xt.getDimSize(1), h = xt.getDimSize(2),
          wd = xt.getDimSize(3);
  int64_t cout = w.shape[1], p = kernel[0], q = kernel[1];
  if (groups != 1 || llvm::any_of(pads, [](int64_t v) { return v < 0; }))
    return failure();
  Value bias = n.input_size() > 2 && !n.input(2).empty() ? in(2) : Value();
  if (bias && typeOf(bias).getShape() != ArrayRef<int64_t>{cout})
    return failure();
  // The output extent, and im2col's bottom / right pads over it (ONNX's,
  // less output_padding: within a stride of the window's slack).
  int64_t outHW[2], imPads[4] = {pads[0], pads[1], 0, 0};
  int64_t in[2] = {h, wd};
  for (int a = 0; a < 2; ++a) {
    outHW[a] = (in[a] - 1) * strides[a] - pads[a] - pads[a + 2] +
               dilations[a] * (kernel[a] - 1) + 1 + outPad[a];
    imPads[a + 2] = std::max<int64_t>(0, pads[a + 2] - outPad[a]);
    int64_t span = outHW[a] + imPads[a] + imPads[a + 2] -
                   dilations[a] * (kernel[a] - 1);
    if (outHW[a] < 1 || span < 1 || (span - 1) / strides[a] + 1 != in[a])
      return failure();
  }
  Type f32 = xt.getElementType();
  // The input's pixels as rows [N, H·W, C_in].
  auto nhwc = build<TransposeOp>(
      loc, {x},
      {b.getNamedAttr("permutation", b.getDenseI64ArrayAttr({0, 2, 3, 1}))});
  if (failed(nhwc))
    return failure();
  Value rows = b.create<ReshapeOp>(
      loc, RankedTensorType::get({bsz, h * wd, cin}, f32),
      (*nhwc)->getResult(0));
  HostTensor w2;
  w2.dtype = w.dtype;
  w2.shape = {cout * p * q, cin};
  w2.f.assign(w.f.size(), 0.0f);
  for (int64_t ci = 0; ci < cin; ++ci)
    for (int64_t k = 0; k < cout * p * q; ++k)
      w2.f[k * cin + ci] = w.f[ci * cout * p * q + k];
  std::string wname = n.input(1) + "/scatter";
  initializerNames.insert(wname);
  SmallVector<Value> lin = {rows, materialize(wname, w2, loc)};
  auto cols = build<LinearOp>(loc, lin, linearSegments(false));
  if (failed(cols))
    return failure();
  SmallVector<Value> operands = {(*cols)->getResult(0)};
  if (bias)
    operands.push_back(bias);
  auto y = b.create<Col2ImOp>(
      loc, RankedTensorType::get({bsz, cout, outHW[0], outHW[1]}, f32),
      operands, ArrayRef<NamedAttribute>{
          b.getNamedAttr("kernel", b.getDenseI64ArrayAttr({p, q})),
          b.getNamedAttr("strides", b.getDenseI64ArrayAttr(strides)),
          b.getNamedAttr("pads", b.getDenseI64ArrayAttr(imPads)),
          b.getNamedAttr("dilations", b.getDenseI64ArrayAttr(dilations))});
  return setWindowResult(y.getOperation(), oneD);
}

/// ConvTranspose (1-D and 2-D, a known weight): the input dilated by the
/// strides (stride − 1 zeros between elements: a reshape, slim.pad and a
/// reshape), padded by (k − 1)·dilation − pad on each side plus
/// output_padding at the end (cropped where that is negative), then a
/// stride-1 convolution with the weight flipped and its channel axes
/// swapped per group, which runs as Conv does. The zeros cost stride² more
/// multiply-adds than a scatter; the convolution kernels are reused.
LogicalResult NodeEmitter::emitConvTranspose() {
  Value x = in(0);
  if (failed(requireF32(x)))
    return failure();
  RankedTensorType xt = typeOf(x);
  const HostTensor *w = constant(n.input(1));
  if (!w || !w->isFloat())
    return unsupported("the weight must be a float32 constant");
  int64_t rank = xt.getRank();
  if ((rank != 3 && rank != 4) || int64_t(w->shape.size()) != rank)
    return unsupported("only 1-D and 2-D transposed convolutions are "
                       "supported, this one has input " +
                       formatShape(xt.getShape()) + " and weight " +
                       formatShape(w->shape));
  bool oneD = rank == 3;
  size_t sp = oneD ? 1 : 2;
  int64_t groups = intAttr(n, "group", 1);
  int64_t cin = w->shape[0], coutPerGroup = w->shape[1];
  if (groups < 1 || xt.getDimSize(1) != cin || cin % groups)
    return unsupported("weight " + formatShape(w->shape) +
                       " does not transpose-convolve input " +
                       formatShape(xt.getShape()) + " in " +
                       std::to_string(groups) + " groups");
  auto ints = [&](StringRef name, int64_t dflt, size_t count) {
    return intsAttr(n, name).value_or(std::vector<int64_t>(count, dflt));
  };
  std::vector<int64_t> kernel(w->shape.begin() + 2, w->shape.end());
  std::vector<int64_t> strides = ints("strides", 1, sp),
                       dilations = ints("dilations", 1, sp),
                       outPad = ints("output_padding", 0, sp),
                       pads = ints("pads", 0, 2 * sp);
  if (strides.size() != sp || dilations.size() != sp || outPad.size() != sp ||
      pads.size() != 2 * sp)
    return unsupported("strides, dilations, output_padding and pads must be "
                       "given for " + std::to_string(sp) + " spatial axes");
  for (size_t a = 0; a < sp; ++a)
    if (strides[a] < 1 || dilations[a] < 1 || outPad[a] < 0 ||
        kernel[a] < 1)
      return unsupported("strides, dilations and the kernel must be ≥ 1, "
                         "output_padding ≥ 0");
  // output_shape or auto_pad SAME_*: the pads that give that extent.
  std::string autoPad =
      findAttr(n, "auto_pad") ? findAttr(n, "auto_pad")->s() : "NOTSET";
  auto outputShape = intsAttr(n, "output_shape");
  if (outputShape && outputShape->size() != sp)
    return unsupported("output_shape must give " + std::to_string(sp) +
                       " spatial extents");
  if (autoPad == "VALID") {
    pads.assign(2 * sp, 0);
  } else if (outputShape || autoPad == "SAME_UPPER" ||
             autoPad == "SAME_LOWER") {
    for (size_t a = 0; a < sp; ++a) {
      int64_t in = xt.getDimSize(2 + a);
      int64_t out = outputShape ? (*outputShape)[a] : in * strides[a];
      int64_t total = strides[a] * (in - 1) + outPad[a] +
                      (kernel[a] - 1) * dilations[a] + 1 - out;
      // A negative total (output_shape past what the pads give) adds
      // output cells, as a negative pad does.
      // ONNX halves the total rounding down (also when it is negative).
      bool upper = autoPad == "SAME_UPPER";
      int64_t half = total >= 0 ? total / 2 : -((-total + 1) / 2);
      pads[a] = upper ? half : total - half;
      pads[a + sp] = total - pads[a];
    }
  } else if (autoPad != "NOTSET") {
    return unsupported("auto_pad '" + autoPad + "' is not an ONNX value");
  }
  if (oneD) {
    x = as2d(x);
    xt = typeOf(x);
    kernel.insert(kernel.begin(), 1);
    strides.insert(strides.begin(), 1);
    dilations.insert(dilations.begin(), 1);
    outPad.insert(outPad.begin(), 0);
    pads = {0, pads[0], 0, pads[1]};
  }
  Type f32 = xt.getElementType();
  int64_t bsz = xt.getDimSize(0), h = xt.getDimSize(2), wd = xt.getDimSize(3);
  if (succeeded(convTransposeByScatter(x, *w, kernel, strides, dilations,
                                       outPad, pads, groups, oneD)))
    return success();
  // Dilate by the strides: [N, C, H, 1, W, 1] padded to [N, C, H, sh, W,
  // sw], as [N, C, H·sh, W·sw]; its last stride − 1 rows and columns are
  // zeros past the dilated input.
  int64_t sh = strides[0], sw = strides[1];
  if (sh > 1 || sw > 1) {
    Value r6 = b.create<ReshapeOp>(
        loc, RankedTensorType::get({bsz, cin, h, 1, wd, 1}, f32), x);
    FailureOr<Value> padded = padOrCrop(
        r6, {0, 0, 0, 0, 0, 0, 0, 0, 0, sh - 1, 0, sw - 1}, PadMode::constant);
    if (failed(padded))
      return failure();
    x = b.create<ReshapeOp>(
        loc, RankedTensorType::get({bsz, cin, h * sh, wd * sw}, f32), *padded);
  }
  // Pad (or crop) each side to the full correlation.
  SmallVector<int64_t> counts(8, 0);
  for (int a = 0; a < 2; ++a) {
    int64_t k = (kernel[a] - 1) * dilations[a];
    counts[2 + a] = k - pads[a];
    counts[6 + a] = k - pads[a + 2] + outPad[a] - (strides[a] - 1);
  }
  FailureOr<Value> full = padOrCrop(x, counts, PadMode::constant);
  if (failed(full))
    return failure();
  x = *full;
  // The convolution's weight [cout, cin / groups, p, q]: per group, the
  // transposed weight's channel axes swapped and its window flipped.
  int64_t p = kernel[0], q = kernel[1], cinPerGroup = cin / groups;
  HostTensor weight;
  weight.dtype = w->dtype;
  weight.shape = {groups * coutPerGroup, cinPerGroup, p, q};
  weight.f.assign(w->f.size(), 0.0f);
  for (int64_t g = 0; g < groups; ++g)
    for (int64_t i = 0; i < cinPerGroup; ++i)
      for (int64_t o = 0; o < coutPerGroup; ++o)
        for (int64_t y = 0; y < p; ++y)
          for (int64_t z = 0; z < q; ++z)
            weight.f[(((g * coutPerGroup + o) * cinPerGroup + i) * p + y) * q +
                     z] =
                w->f[(((g * cinPerGroup + i) * coutPerGroup + o) * p +
                      (p - 1 - y)) * q + (q - 1 - z)];
  Window win{{p, q}, {1, 1}, {0, 0, 0, 0}, {dilations[0], dilations[1]},
             oneD};
  auto bias = [&]() -> Value {
    return n.input_size() > 2 && !n.input(2).empty() ? in(2) : Value();
  };
  return convolve(x, win, weight, bias, groups,
                  n.input(1) + "/transposed");
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


/// Resize (opset 10 to 18) and Upsample: slim.resize, with the scales or
/// sizes known at import. Opset 10's Resize and Upsample map coordinates
/// asymmetrically; later ones say how.
LogicalResult NodeEmitter::emitResize() {
  Value x = in(0);
  if (failed(requireF32(x)))
    return failure();
  RankedTensorType xt = typeOf(x);
  int64_t rank = xt.getRank();
  auto given = [&](int k) {
    return n.input_size() > k && !n.input(k).empty();
  };
  auto str = [&](StringRef name, StringRef dflt) {
    const onnx::AttributeProto *a = findAttr(n, name);
    return a ? a->s() : dflt.str();
  };
  // Opset 10 Resize and Upsample: (X, scales). Later: (X, roi, scales,
  // sizes).
  bool legacy = op == "Upsample" || n.input_size() == 2;
  int scalesAt = legacy ? 1 : 2, sizesAt = 3;
  std::string modeName = str("mode", "nearest");
  if (modeName == "bilinear") // Upsample's spelling
    modeName = "linear";
  std::optional<ResizeMode> mode = symbolizeResizeMode(modeName);
  if (!mode)
    return unsupported("mode '" + modeName +
                       "' is not one of nearest, linear, cubic");
  std::string coordName = str("coordinate_transformation_mode",
                              legacy ? "asymmetric" : "half_pixel");
  if (coordName == "tf_crop_and_resize")
    return unsupported("coordinate_transformation_mode tf_crop_and_resize "
                       "(a region of interest) is not supported");
  std::optional<ResizeCoordinates> coords =
      symbolizeResizeCoordinates(coordName);
  if (!coords)
    return unsupported("coordinate_transformation_mode '" + coordName +
                       "' is not an ONNX value");
  std::string nearestName = str("nearest_mode", "round_prefer_floor");
  std::optional<NearestMode> nearest = symbolizeNearestMode(nearestName);
  if (!nearest)
    return unsupported("nearest_mode '" + nearestName +
                       "' is not an ONNX value");
  if (intAttr(n, "antialias", 0))
    return unsupported("antialias is not supported");
  if (str("keep_aspect_ratio_policy", "stretch") != "stretch")
    return unsupported("keep_aspect_ratio_policy '" +
                       str("keep_aspect_ratio_policy", "stretch") +
                       "' is not supported (only stretch)");
  // The axes the scales or sizes are for (opset 18), all by default.
  std::optional<std::vector<int64_t>> axesAttr = intsAttr(n, "axes");
  auto normalized = normalizeAxes(
      axesAttr ? std::optional<ArrayRef<int64_t>>(*axesAttr) : std::nullopt,
      rank);
  if (failed(normalized))
    return failure();
  const std::vector<int64_t> &axes = *normalized;
  const HostTensor *scales = given(scalesAt) ? constant(n.input(scalesAt))
                                             : nullptr;
  const HostTensor *sizes =
      !legacy && given(sizesAt) ? constant(n.input(sizesAt)) : nullptr;
  if ((given(scalesAt) && !scales) || (!legacy && given(sizesAt) && !sizes))
    return unsupported("scales or sizes computed at run time (a graph "
                       "input can be fixed with --bind NAME=FILE.npy)");
  if (scales && scales->size() == 0)
    scales = nullptr; // an empty scales beside sizes (opset 11 to 13)
  if (!scales == !sizes)
    return unsupported("exactly one of scales and sizes must be given");
  const HostTensor &given_ = scales ? *scales : *sizes;
  if (int64_t(given_.size()) != int64_t(axes.size()))
    return unsupported(std::string(scales ? "scales" : "sizes") + " has " +
                       std::to_string(given_.size()) + " entries for " +
                       std::to_string(axes.size()) + " axes");
  SmallVector<float> scale(rank, 1.0f);
  SmallVector<int64_t> out(xt.getShape());
  for (size_t k = 0; k < axes.size(); ++k) {
    int64_t a = axes[k], d = xt.getDimSize(a);
    if (scales) {
      float s = float(scales->at(k));
      if (!(s > 0.0f) || !std::isfinite(s))
        return unsupported("scale " + std::to_string(s) + " of axis " +
                           std::to_string(a) + " is not positive");
      scale[a] = s;
      out[a] = int64_t(std::floor(double(d) * double(s)));
    } else {
      out[a] = int64_t(sizes->at(k));
      if (out[a] < 0 || (d == 0) != (out[a] == 0))
        return unsupported("size " + std::to_string(out[a]) + " of axis " +
                           std::to_string(a) + " cannot come from extent " +
                           std::to_string(d));
      scale[a] = d == 0 ? 1.0f : float(out[a]) / float(d);
    }
  }
  auto resultType = RankedTensorType::get(out, xt.getElementType());
  MLIRContext *ctx = b.getContext();
  auto r = b.create<ResizeOp>(
      loc, resultType, ResizeModeAttr::get(ctx, *mode), x,
      b.getDenseF32ArrayAttr(scale), ResizeCoordinatesAttr::get(ctx, *coords),
      NearestModeAttr::get(ctx, *nearest),
      b.getF32FloatAttr(floatAttr(n, "cubic_coeff_a", -0.75f)),
      b.getBoolAttr(intAttr(n, "exclude_outside", 0) != 0));
  return setValue(r.getResult());
}
