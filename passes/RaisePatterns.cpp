//===- RaisePatterns.cpp - slim-raise's local rewrites as patterns --------===//
//
// The rewrites of slim-raise that look at a few neighbouring ops: linear
// layers (matmul by a constant, its bias add, Gemm-style reshapes around
// it), norms (LayerNorm and RMSNorm written out as mean / sqrt / divide,
// with their gain and bias), activations (SiLU, both GELU forms),
// transposes sunk into residual sums and zero padding folded into
// convolution windows. Each is an OpRewritePattern; one that
// does not apply says why through notifyMatchFailure, and slim-raise turns
// the norm patterns' reasons into its remarks (Raise.cpp). Attention, the
// layout chains and the residual structure look at whole subgraphs and are
// not patterns (RaiseAttention.cpp, Raise.cpp).
//
//===----------------------------------------------------------------------===//

#include "passes/RaiseUtils.h"
#include "passes/Weights.h"

#include "dialects/slim/IR/ShapeUtils.h"
#include "dialects/slim/IR/SlimOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/PatternMatch.h"

#include <cmath>
#include <cstring>

using namespace mlir;
using namespace mlir::slim;
using namespace mlir::slim::raise;

namespace {

/// "layers.0.self_attn.q_proj" from an ONNX node name such as
/// "/layers.0/self_attn/q_proj/MatMul"; "" when there is none.
std::string scopeOf(Location loc) {
  auto name = dyn_cast<NameLoc>(loc);
  if (!name)
    return "";
  std::string s = name.getName().str();
  size_t last = s.rfind('/');
  if (last == std::string::npos || last == 0)
    return "";
  s = s.substr(s[0] == '/' ? 1 : 0, last - (s[0] == '/' ? 1 : 0));
  std::replace(s.begin(), s.end(), '/', '.');
  return s;
}

bool hasOneUse(Value v) { return v && v.hasOneUse(); }

/// For a binary op whose one operand is a splat constant near `c`, returns
/// the other operand (either order).
template <typename OpTy>
Value otherThanConstant(Value v, double c) {
  auto op = def<OpTy>(v);
  if (!op)
    return {};
  if (near(splatValue(op.getRhs()), c))
    return op.getLhs();
  if (near(splatValue(op.getLhs()), c))
    return op.getRhs();
  return {};
}

/// Flattens a tree of single-use slim.mul ops into its factors.
void mulFactors(Value v, SmallVectorImpl<Value> &out, bool root = true) {
  // Each operand either has the product's type or is a splat constant
  // (a scalar 0.5 broadcasts).
  auto flat = [&](Value operand, Type type) {
    return operand.getType() == type || splatValue(operand).has_value();
  };
  auto mul = def<MulOp>(v);
  if (mul && (root || v.hasOneUse()) && flat(mul.getLhs(), mul.getType()) &&
      flat(mul.getRhs(), mul.getType())) {
    mulFactors(mul.getLhs(), out, false);
    mulFactors(mul.getRhs(), out, false);
    return;
  }
  out.push_back(v);
}

/// Splits factors into a constant product and the non-constant factors.
double constantProduct(SmallVectorImpl<Value> &factors) {
  double c = 1.0;
  SmallVector<Value> rest;
  for (Value f : factors) {
    if (auto s = splatValue(f))
      c *= *s;
    else
      rest.push_back(f);
  }
  factors.assign(rest.begin(), rest.end());
  return c;
}

//===----------------------------------------------------------------------===//
// Linear layers
//===----------------------------------------------------------------------===//

/// An f32 constant of `func` defined before its uses (at the top level) with
/// this shape and exactly these values.
Value findEqualWeight(func::FuncOp func, ArrayRef<int64_t> shape,
                      ArrayRef<float> data) {
  for (auto cst : func.getBody().front().getOps<arith::ConstantOp>()) {
    auto type = dyn_cast<RankedTensorType>(cst.getType());
    if (!type || type.getShape() != shape || !type.getElementType().isF32())
      continue;
    // Compare in place: weights are large, and most differ early.
    auto res = dyn_cast<DenseF32ResourceElementsAttr>(cst.getValue());
    std::optional<ArrayRef<float>> vals =
        res ? res.tryGetAsArrayRef() : std::nullopt;
    if (vals && vals->size() == data.size() &&
        std::memcmp(vals->data(), data.data(), data.size() * 4) == 0)
      return cst.getResult();
  }
  return {};
}

/// matmul(x, W[in, out]) -> linear(x, Wᵀ). The transposed weight is named
/// after the node's scope, or linearN.weight (N counts over the pass run)
/// when it has none; a tied head (exported as the transposed embedding)
/// reuses the embedding's constant.
struct MatMulToLinear : public OpRewritePattern<MatMulOp> {
  MatMulToLinear(MLIRContext *ctx, int64_t &unnamed)
      : OpRewritePattern(ctx), unnamed(unnamed) {}

  LogicalResult matchAndRewrite(MatMulOp op,
                                PatternRewriter &rewriter) const override {
    if (!isFloatConstant(op.getRhs()))
      return rewriter.notifyMatchFailure(op, "the right operand is not a "
                                             "float constant");
    auto wt = tensorType(op.getRhs());
    if (wt.getRank() != 2 || !wt.getElementType().isF32())
      return rewriter.notifyMatchFailure(op, "the weight is not a 2-D f32 "
                                             "matrix");
    auto w = floatValues(op.getRhs());
    int64_t in = wt.getDimSize(0), out = wt.getDimSize(1);
    std::vector<float> t(w->size());
    for (int64_t i = 0; i < in; ++i)
      for (int64_t o = 0; o < out; ++o)
        t[o * in + i] = (*w)[i * out + o];
    rewriter.setInsertionPoint(op);
    Value weight =
        findEqualWeight(op->getParentOfType<func::FuncOp>(), {out, in}, t);
    if (!weight) {
      std::string scope = scopeOf(op.getLoc());
      std::string name =
          (scope.empty() ? "linear" + std::to_string(unnamed++) : scope) +
          ".weight";
      weight = makeWeight(rewriter, op.getLoc(), name, {out, in}, t);
    }
    rewriter.replaceOpWithNewOp<LinearOp>(op, op.getLhs(), weight, Value());
    return success();
  }

  int64_t &unnamed;
};

/// add(linear(x), b[out]) -> linear(x) with bias b, when the linear has no
/// bias and no other reader.
struct FoldLinearBias : public OpRewritePattern<AddOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(AddOp add,
                                PatternRewriter &rewriter) const override {
    for (auto [lin, bias] : {std::pair(add.getLhs(), add.getRhs()),
                             std::pair(add.getRhs(), add.getLhs())}) {
      auto linear = def<LinearOp>(lin);
      if (!linear || linear.getBias() || !hasOneUse(lin) ||
          !isConstant(bias) || lin.getType() != add.getType())
        continue;
      int64_t out = linear.getWeight().getType().getDimSize(0);
      if (tensorType(bias).getShape() != ArrayRef<int64_t>{out})
        continue;
      rewriter.replaceOpWithNewOp<LinearOp>(add, linear.getInput(),
                                            linear.getWeight(), bias);
      return success();
    }
    return rewriter.notifyMatchFailure(
        add, "not a single-use bias-free linear plus a constant [out] vector");
  }
};

/// reshape([..., N]) ∘ linear ∘ reshape([M, K]) -> linear on the original
/// rank (GPT-2's Conv1D: view(-1, K), addmm, view(..., N)).
struct CollapseGemmReshapes : public OpRewritePattern<ReshapeOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(ReshapeOp outer,
                                PatternRewriter &rewriter) const override {
    auto linear = def<LinearOp>(outer.getInput());
    if (!linear || !hasOneUse(linear.getResult()))
      return rewriter.notifyMatchFailure(outer, "not of a single-use linear");
    auto inner = def<ReshapeOp>(linear.getInput());
    if (!inner || !hasOneUse(inner.getResult()))
      return rewriter.notifyMatchFailure(
          outer, "the linear's input is not a single-use reshape");
    auto x = tensorType(inner.getInput());
    auto y = tensorType(outer.getResult());
    if (x.getRank() < 2 ||
        x.getShape().drop_back() != y.getShape().drop_back() ||
        x.getShape().back() != tensorType(inner.getResult()).getShape().back())
      return rewriter.notifyMatchFailure(
          outer, "the reshapes do not only flatten and restore the rows");
    auto raised = rewriter.create<LinearOp>(linear.getLoc(), inner.getInput(),
                                            linear.getWeight(),
                                            linear.getBias());
    rewriter.replaceOp(outer, raised.getResult());
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Norms
//===----------------------------------------------------------------------===//

/// mean over one axis of `v` (keepdims): the operand and the axis.
std::optional<std::pair<Value, int64_t>> oneAxisMean(Value v) {
  auto rm = def<ReduceMeanOp>(v);
  if (!rm || !rm.getKeepdims() || rm.getAxes().size() != 1)
    return std::nullopt;
  auto axis =
      normalizeAxis(rm.getAxes()[0], tensorType(rm.getInput()).getRank());
  if (!axis)
    return std::nullopt;
  return std::make_pair(rm.getInput(), *axis);
}

/// sqrt(mean(d^2) + eps) over one axis.
struct RmsDenominator {
  Value d;
  float eps;
  int64_t axis;
};

FailureOr<RmsDenominator> rmsDenominator(Value v, Why &why) {
  auto sqrt = def<SqrtOp>(v);
  if (!sqrt)
    return why << "the divisor is not a square root", failure();
  auto add = def<AddOp>(sqrt.getInput());
  if (!add)
    return why << "the square root is not of a sum (mean + epsilon)",
           failure();
  Value meanV = add.getLhs();
  auto eps = splatValue(add.getRhs());
  if (!eps) {
    meanV = add.getRhs();
    eps = splatValue(add.getLhs());
  }
  if (!eps)
    return why << "no constant epsilon is added under the square root",
           failure();
  auto sq = oneAxisMean(meanV);
  if (!sq)
    return why << "the epsilon is not added to a mean over one axis "
                  "(keepdims)",
           failure();
  Value d;
  if (auto pow = def<PowOp>(sq->first);
      pow && near(splatValue(pow.getRhs()), 2.0))
    d = pow.getLhs();
  else if (auto mul = def<MulOp>(sq->first); mul && mul.getLhs() == mul.getRhs())
    d = mul.getLhs();
  if (!d)
    return why << "the mean is not of a square (pow 2 or d·d)", failure();
  return RmsDenominator{d, float(*eps), sq->second};
}

/// When the only user of `result` adds a constant `isVector` accepts to
/// it: that constant (a norm's bias), with `result` moved to the sum.
/// Otherwise null.
Value absorbBias(Value &result, function_ref<bool(Value)> isVector) {
  if (!hasOneUse(result))
    return {};
  auto add = dyn_cast<AddOp>(*result.getUsers().begin());
  if (!add || add.getType() != result.getType())
    return {};
  Value bb = add.getLhs() == result ? add.getRhs() : add.getLhs();
  if (!isVector(bb))
    return {};
  result = add.getResult();
  return bb;
}

/// Replaces `root` with a norm of `x` over `axis`, absorbing a following
/// ·g and +b. A norm over another axis than the last (ONNX Runtime's
/// transpose optimizer computes ViT's first LayerNorm in the [B, C, T]
/// layout of the patch embedding) becomes transpose -> norm over the last
/// axis -> transpose back; the transposes then fold into their neighbours'.
template <typename NormOp>
void buildNorm(PatternRewriter &rewriter, Value root, Value x, float eps,
               int64_t axis) {
  Value result = root;
  Value gain, bias;
  auto shape = tensorType(x).getShape();
  int64_t rank = shape.size(), d = shape[axis];
  bool last = axis == rank - 1;
  // A gain or bias: a constant of d values along `axis` (1 elsewhere,
  // aligned from the right), an arith.constant when it must be reshaped.
  auto vecOf = [&](Value v) {
    if (!isConstant(v))
      return false;
    auto s = tensorType(v).getShape();
    int64_t n = s.size();
    if (n > rank || n < rank - axis)
      return false;
    for (int64_t k = 0; k < n; ++k)
      if (s[k] != (rank - n + k == axis ? d : 1))
        return false;
    return n == 1 || bool(v.getDefiningOp<arith::ConstantOp>());
  };
  if (hasOneUse(result)) {
    Operation *user = *result.getUsers().begin();
    if (auto mul = dyn_cast<MulOp>(user)) {
      Value g = mul.getLhs() == result ? mul.getRhs() : mul.getLhs();
      if (vecOf(g) && mul.getType() == root.getType()) {
        gain = g;
        result = mul.getResult();
      }
    }
  }
  if (gain)
    bias = absorbBias(result, vecOf);
  Operation *anchor = result.getDefiningOp();
  rewriter.setInsertionPoint(anchor);
  Location loc = anchor->getLoc();
  auto asVector = [&](Value v) {
    return !v || tensorType(v).getRank() == 1
               ? v
               : reshapeConstant(rewriter, v, {d});
  };
  gain = asVector(gain);
  bias = asVector(bias);
  if (!gain) {
    std::vector<float> ones(d, 1.0f);
    gain = rewriter.create<arith::ConstantOp>(
        root.getLoc(),
        DenseElementsAttr::get(RankedTensorType::get({d}, rewriter.getF32Type()),
                               ArrayRef<float>(ones)));
  }
  Value in = x;
  SmallVector<int64_t> toLast, back(rank);
  if (!last) {
    for (int64_t k = 0; k < rank; ++k)
      if (k != axis)
        toLast.push_back(k);
    toLast.push_back(axis);
    SmallVector<int64_t> moved;
    for (int64_t k = 0; k < rank; ++k) {
      back[toLast[k]] = k;
      moved.push_back(shape[toLast[k]]);
    }
    in = rewriter.create<TransposeOp>(
        loc, RankedTensorType::get(moved, tensorType(x).getElementType()), x,
        rewriter.getDenseI64ArrayAttr(toLast));
  }
  Value norm;
  if constexpr (std::is_same_v<NormOp, LayerNormOp>)
    norm = rewriter.create<LayerNormOp>(loc, in.getType(), in, gain, bias,
                                        rewriter.getF32FloatAttr(eps),
                                        rewriter.getI64IntegerAttr(-1));
  else
    norm = rewriter.create<RmsNormOp>(loc, in.getType(), in, gain, bias,
                                      rewriter.getF32FloatAttr(eps));
  if (!last)
    norm = rewriter.create<TransposeOp>(loc, x.getType(), norm,
                                        rewriter.getDenseI64ArrayAttr(back));
  rewriter.replaceOp(anchor, norm);
}

/// rms: x * (1 / sqrt(mean(x^2) + eps))  or  x / sqrt(mean(x^2) + eps);
/// layer: d / sqrt(mean(d^2) + eps) with d = x - mean(x). Rooted at the
/// division (or the multiplication by the reciprocal).
template <typename OpTy>
struct RaiseNorm : public OpRewritePattern<OpTy> {
  using OpRewritePattern<OpTy>::OpRewritePattern;

  LogicalResult matchAndRewrite(OpTy op,
                                PatternRewriter &rewriter) const override {
    Value x, denom;
    if constexpr (std::is_same_v<OpTy, DivOp>) {
      x = op.getLhs();
      denom = op.getRhs();
    } else {
      for (auto [a, c] : {std::pair(op.getLhs(), op.getRhs()),
                          std::pair(op.getRhs(), op.getLhs())}) {
        auto recip = def<DivOp>(c);
        if (recip && near(splatValue(recip.getLhs()), 1.0)) {
          x = a;
          denom = recip.getRhs();
          break;
        }
      }
      if (!x)
        return rewriter.notifyMatchFailure(op, kNotANormCandidate);
    }
    if (x.getType() != op.getType())
      return rewriter.notifyMatchFailure(
          op, "the normalised value is broadcast");
    Why why;
    auto den = rmsDenominator(denom, why);
    if (failed(den))
      return rewriter.notifyMatchFailure(op, why.text);
    if (den->d != x)
      return rewriter.notifyMatchFailure(
          op, "the value divided is not the one whose mean square is taken");
    auto sub = def<SubOp>(x);
    auto mean = sub ? oneAxisMean(sub.getRhs()) : std::nullopt;
    if (mean && mean->first == sub.getLhs() && mean->second == den->axis &&
        sub.getType() == sub.getLhs().getType())
      buildNorm<LayerNormOp>(rewriter, op.getResult(), sub.getLhs(), den->eps,
                             den->axis);
    else
      buildNorm<RmsNormOp>(rewriter, op.getResult(), x, den->eps, den->axis);
    return success();
  }
};

/// An RMSNorm of x - mean(x) is x's LayerNorm (ONNX Runtime's optimizer
/// fuses the tail of a LayerNorm into SimplifiedLayerNormalization when the
/// mean has another reader); a constant bias added after it joins it.
/// Possibly through a transpose that brings the mean's axis last (ORT's
/// transpose optimizer computes the mean in another layout).
struct CenteredRmsToLayerNorm : public OpRewritePattern<RmsNormOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(RmsNormOp op,
                                PatternRewriter &rewriter) const override {
    Value centred = op.getInput();
    auto perm = def<TransposeOp>(centred);
    if (perm)
      centred = perm.getInput();
    auto sub = def<SubOp>(centred);
    auto mean = sub ? def<ReduceMeanOp>(sub.getRhs()) : ReduceMeanOp();
    if (!mean || !mean.getKeepdims() || mean.getInput() != sub.getLhs() ||
        mean.getAxes().size() != 1 ||
        sub.getType() != sub.getLhs().getType())
      return rewriter.notifyMatchFailure(op, "its input is not x - mean(x)");
    int64_t rank = tensorType(centred).getRank();
    auto axis = normalizeAxis(mean.getAxes()[0], rank);
    int64_t last = perm ? perm.getPermutation().back() : rank - 1;
    if (axis != std::optional<int64_t>(last))
      return rewriter.notifyMatchFailure(
          op, "the mean is over another axis than the norm's");
    Value bias = op.getBias(), result = op.getResult();
    int64_t d = tensorType(result).getShape().back();
    if (!bias)
      bias = absorbBias(result, [&](Value v) {
        return isConstant(v) &&
               tensorType(v).getShape() == ArrayRef<int64_t>{d};
      });
    Operation *anchor = result.getDefiningOp();
    rewriter.setInsertionPoint(anchor);
    Value x = sub.getLhs();
    if (perm)
      x = rewriter.create<TransposeOp>(perm.getLoc(), perm.getType(), x,
                                       perm.getPermutationAttr());
    Value ln = rewriter.create<LayerNormOp>(
        op.getLoc(), result.getType(), x, op.getScale(), bias,
        op.getEpsilonAttr(), rewriter.getI64IntegerAttr(-1));
    rewriter.replaceOp(anchor, ln);
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Activations
//===----------------------------------------------------------------------===//

/// silu: x * sigmoid(x).
struct RaiseSilu : public OpRewritePattern<MulOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(MulOp op,
                                PatternRewriter &rewriter) const override {
    for (auto [x, s] : {std::pair(op.getLhs(), op.getRhs()),
                        std::pair(op.getRhs(), op.getLhs())}) {
      auto sig = def<SigmoidOp>(s);
      if (sig && sig.getInput() == x && x.getType() == op.getType()) {
        rewriter.replaceOpWithNewOp<SiluOp>(op, x);
        return success();
      }
    }
    return rewriter.notifyMatchFailure(op, "not x · sigmoid(x)");
  }
};

/// gelu: 0.5 · x · (1 + erf(x/√2))  or
///       0.5 · x · (1 + tanh(√(2/π)·(x + 0.044715·x³))).
struct RaiseGelu : public OpRewritePattern<MulOp> {
  using OpRewritePattern::OpRewritePattern;

  static bool isCubic(Value cube, Value x) {
    SmallVector<Value> g;
    mulFactors(cube, g);
    double k = constantProduct(g);
    bool cubic =
        g.size() == 3 && llvm::all_of(g, [&](Value v) { return v == x; });
    if (!cubic && g.size() == 1)
      if (auto pow = def<PowOp>(g[0]))
        cubic = pow.getLhs() == x && near(splatValue(pow.getRhs()), 3.0);
    return cubic && near(k, 0.044715);
  }

  /// Which GELU `inner` (the term added to 1) makes of `x`, if any.
  static std::optional<GeluApproximation> kindOf(Value inner, Value x) {
    if (auto erf = def<ErfOp>(inner)) {
      Value arg = erf.getInput();
      if (otherThanConstant<DivOp>(arg, std::sqrt(2.0)) == x ||
          otherThanConstant<MulOp>(arg, 1.0 / std::sqrt(2.0)) == x)
        return GeluApproximation::exact;
      return std::nullopt;
    }
    auto tanh = def<TanhOp>(inner);
    if (!tanh)
      return std::nullopt;
    SmallVector<Value> f;
    mulFactors(tanh.getInput(), f);
    double k = constantProduct(f);
    if (f.size() != 1 || !near(k, std::sqrt(2.0 / M_PI)))
      return std::nullopt;
    auto sum = def<AddOp>(f[0]);
    if (!sum)
      return std::nullopt;
    for (auto [xx, cube] : {std::pair(sum.getLhs(), sum.getRhs()),
                            std::pair(sum.getRhs(), sum.getLhs())})
      if (xx == x && isCubic(cube, x))
        return GeluApproximation::tanh;
    return std::nullopt;
  }

  LogicalResult matchAndRewrite(MulOp op,
                                PatternRewriter &rewriter) const override {
    SmallVector<Value> factors;
    mulFactors(op.getResult(), factors);
    double c = constantProduct(factors);
    if (factors.size() != 2 || !near(c, 0.5))
      return rewriter.notifyMatchFailure(op, "not 0.5 · x · y");
    for (auto [x, onePlus] : {std::pair(factors[0], factors[1]),
                              std::pair(factors[1], factors[0])}) {
      Value inner = otherThanConstant<AddOp>(onePlus, 1.0);
      if (!inner || x.getType() != op.getType())
        continue;
      if (auto kind = kindOf(inner, x)) {
        rewriter.replaceOpWithNewOp<GeluOp>(op, x, *kind);
        return success();
      }
    }
    return rewriter.notifyMatchFailure(
        op, "neither factor is 1 + erf(x/√2) or 1 + tanh(√(2/π)(x + "
            "0.044715x³))");
  }
};

//===----------------------------------------------------------------------===//
// Transposes into sums
//===----------------------------------------------------------------------===//

/// transpose(a + b) -> transpose(a) + transpose(b) when a and b are
/// themselves transposes or reshapes (whose layout chains then fold) and
/// the sum has no other reader. ONNX Runtime's transpose optimizer leaves
/// ViT's first residual sum in the sequence-first layout of
/// nn.MultiheadAttention with the [B, T, C] transpose after it; sunk into
/// the operands, it cancels theirs and the sum becomes a residual in the
/// stream's own layout.
struct SinkTransposeIntoAdd : public OpRewritePattern<TransposeOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(TransposeOp t,
                                PatternRewriter &rewriter) const override {
    auto add = def<AddOp>(t.getInput());
    if (!add || !add->hasOneUse() || add.getLhs().getType() != add.getType() ||
        add.getRhs().getType() != add.getType())
      return rewriter.notifyMatchFailure(
          t, "not of a single-use sum without broadcasting");
    auto layout = [](Value v) {
      return isa_and_nonnull<TransposeOp, ReshapeOp>(v.getDefiningOp());
    };
    if (!layout(add.getLhs()) || !layout(add.getRhs()))
      return rewriter.notifyMatchFailure(
          t, "the summands are not both transposes or reshapes");
    auto moved = [&](Value v) {
      return rewriter.create<TransposeOp>(t.getLoc(), t.getType(), v,
                                          t.getPermutationAttr());
    };
    Value lhs = moved(add.getLhs()), rhs = moved(add.getRhs());
    rewriter.replaceOpWithNewOp<AddOp>(t, t.getType(), lhs, rhs);
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Zero padding into convolution windows
//===----------------------------------------------------------------------===//

/// im2col or conv2d of pad(x) by zeros over H and W -> the same window over
/// x with the padding added to its own (TensorFlow exports and
/// nn.ZeroPad2d write the padding as a Pad node): no padded copy. The
/// result is the same shape; the pad stays for any other reader.
template <typename OpTy>
struct FoldZeroPadIntoWindow : public OpRewritePattern<OpTy> {
  using OpRewritePattern<OpTy>::OpRewritePattern;

  LogicalResult matchAndRewrite(OpTy op,
                                PatternRewriter &rewriter) const override {
    auto pad = def<PadOp>(op.getInput());
    if (!pad || pad.getMode() != PadMode::constant ||
        !pad.getValue().isZero())
      return rewriter.notifyMatchFailure(op, "its input is not a zero pad");
    ArrayRef<int64_t> p = pad.getPads();
    if (p.size() != 8 || p[0] || p[1] || p[4] || p[5])
      return rewriter.notifyMatchFailure(
          op, "the pad is not over the spatial axes of NCHW only");
    ArrayRef<int64_t> own = op.getPads();
    SmallVector<int64_t> pads = {own[0] + p[2], own[1] + p[3], own[2] + p[6],
                                 own[3] + p[7]};
    rewriter.modifyOpInPlace(op, [&] {
      op.getInputMutable().assign(pad.getInput());
      op.setPadsAttr(rewriter.getDenseI64ArrayAttr(pads));
    });
    return success();
  }
};

} // namespace

void raise::populateWindowPatterns(RewritePatternSet &patterns) {
  patterns.add<FoldZeroPadIntoWindow<Im2ColOp>, FoldZeroPadIntoWindow<Conv2dOp>>(
      patterns.getContext());
}

void raise::populateLinearPatterns(RewritePatternSet &patterns,
                                   int64_t &unnamedWeights) {
  patterns.add<MatMulToLinear>(patterns.getContext(), unnamedWeights);
  patterns.add<FoldLinearBias, CollapseGemmReshapes>(patterns.getContext());
}

void raise::populateNormPatterns(RewritePatternSet &patterns) {
  patterns.add<RaiseNorm<MulOp>, RaiseNorm<DivOp>, CenteredRmsToLayerNorm>(
      patterns.getContext());
}

void raise::populateActivationPatterns(RewritePatternSet &patterns) {
  patterns.add<RaiseSilu, RaiseGelu>(patterns.getContext());
}

void raise::populateSinkTransposePatterns(RewritePatternSet &patterns) {
  patterns.add<SinkTransposeIntoAdd>(patterns.getContext());
}
