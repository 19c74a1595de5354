//===- Raise.cpp - slim-raise: primitives to transformer ops --------------===//
//
// Runs in stages over each function: fold (transposes compose, constants
// move right), linear layers, norms, activations, attention (with RoPE and
// grouped-query repeats), then the residual structure. Each stage matches
// use-def patterns whose intermediate values have no other users, builds
// the raised op and leaves the old ops to dead-code elimination. A pattern
// that almost matches is reported with a remark saying which part failed.
// (Just over 800 lines: the stages share the matching helpers at the top;
// attention has its own file, RaiseAttention.cpp.)
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"
#include "passes/RaiseUtils.h"
#include "passes/Weights.h"

#include "dialects/slim/IR/ShapeUtils.h"
#include "dialects/slim/IR/SlimOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/Dominance.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/CSE.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "llvm/ADT/SetVector.h"

#include <cmath>
#include <cstring>
#include <numeric>

namespace mlir::slim {
#define GEN_PASS_DEF_SLIMRAISEPASS
#include "passes/Passes.h.inc"
} // namespace mlir::slim

using namespace mlir;
using namespace mlir::slim;
using namespace mlir::slim::raise;

namespace {

//===----------------------------------------------------------------------===//
// Constants
//===----------------------------------------------------------------------===//

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

/// matmul(x, W[in, out]) -> linear(x, Wᵀ); Gemm-style 2-D reshapes around a
/// linear collapse; add(linear, b[out]) folds into the linear's bias.
/// `unnamed` counts the new weights without a scope to name them after
/// (linear0.weight, linear1.weight, ... over the module).
void raiseLinear(func::FuncOp func, int64_t &unnamed) {
  SmallVector<MatMulOp> matmuls;
  func.walk([&](MatMulOp op) { matmuls.push_back(op); });
  for (MatMulOp op : matmuls) {
    auto w = floatValues(op.getRhs());
    auto wt = tensorType(op.getRhs());
    if (!w || wt.getRank() != 2 || !wt.getElementType().isF32())
      continue;
    int64_t in = wt.getDimSize(0), out = wt.getDimSize(1);
    std::vector<float> t(w->size());
    for (int64_t i = 0; i < in; ++i)
      for (int64_t o = 0; o < out; ++o)
        t[o * in + i] = (*w)[i * out + o];
    OpBuilder b(op);
    // A tied head is exported as the transposed embedding: reuse the
    // embedding's constant when the transposed data equals it.
    Value weight = findEqualWeight(func, {out, in}, t);
    if (!weight) {
      std::string scope = scopeOf(op.getLoc());
      std::string name =
          (scope.empty() ? "linear" + std::to_string(unnamed++) : scope) +
          ".weight";
      weight = makeWeight(b, op.getLoc(), name, {out, in}, t);
    }
    auto linear = b.create<LinearOp>(op.getLoc(), op.getLhs(), weight, Value());
    op.replaceAllUsesWith(linear.getResult());
    op.erase();
  }

  SmallVector<AddOp> adds;
  func.walk([&](AddOp op) { adds.push_back(op); });
  for (AddOp add : adds) {
    for (auto [lin, bias] : {std::pair(add.getLhs(), add.getRhs()),
                             std::pair(add.getRhs(), add.getLhs())}) {
      auto linear = def<LinearOp>(lin);
      if (!linear || linear.getBias() || !hasOneUse(lin) ||
          !isConstant(bias) || lin.getType() != add.getType())
        continue;
      int64_t out = linear.getWeight().getType().getDimSize(0);
      if (tensorType(bias).getShape() != ArrayRef<int64_t>{out})
        continue;
      OpBuilder b(add);
      auto fused = b.create<LinearOp>(add.getLoc(), linear.getInput(),
                                      linear.getWeight(), bias);
      add.replaceAllUsesWith(fused.getResult());
      add.erase();
      linear.erase();
      break;
    }
  }

  // reshape([..., N]) ∘ linear ∘ reshape([M, K]) -> linear on the original
  // rank (GPT-2's Conv1D: view(-1, K), addmm, view(..., N)).
  SmallVector<ReshapeOp> reshapes;
  func.walk([&](ReshapeOp op) { reshapes.push_back(op); });
  for (ReshapeOp outer : reshapes) {
    auto linear = def<LinearOp>(outer.getInput());
    if (!linear || !hasOneUse(linear.getResult()))
      continue;
    auto inner = def<ReshapeOp>(linear.getInput());
    if (!inner || !hasOneUse(inner.getResult()))
      continue;
    auto x = tensorType(inner.getInput());
    auto y = tensorType(outer.getResult());
    if (x.getRank() < 2 || x.getShape().drop_back() != y.getShape().drop_back() ||
        x.getShape().back() != tensorType(inner.getResult()).getShape().back())
      continue;
    OpBuilder b(outer);
    auto raised = b.create<LinearOp>(linear.getLoc(), inner.getInput(),
                                     linear.getWeight(), linear.getBias());
    outer.replaceAllUsesWith(raised.getResult());
    outer.erase();
    linear.erase();
    inner.erase();
  }
}

//===----------------------------------------------------------------------===//
// Norms
//===----------------------------------------------------------------------===//

/// mean over one axis of `v` (keepdims): the operand and the axis.
std::optional<std::pair<Value, int64_t>> oneAxisMean(Value v) {
  auto rm = def<ReduceMeanOp>(v);
  if (!rm || !rm.getKeepdims() || rm.getAxes().size() != 1)
    return std::nullopt;
  auto axis = normalizeAxis(rm.getAxes()[0], tensorType(rm.getInput()).getRank());
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

std::optional<RmsDenominator> rmsDenominator(Value v) {
  auto sqrt = def<SqrtOp>(v);
  if (!sqrt)
    return std::nullopt;
  auto add = def<AddOp>(sqrt.getInput());
  if (!add)
    return std::nullopt;
  Value meanV = add.getLhs();
  auto eps = splatValue(add.getRhs());
  if (!eps) {
    meanV = add.getRhs();
    eps = splatValue(add.getLhs());
  }
  if (!eps)
    return std::nullopt;
  auto sq = oneAxisMean(meanV);
  if (!sq)
    return std::nullopt;
  Value d;
  if (auto pow = def<PowOp>(sq->first); pow && near(splatValue(pow.getRhs()), 2.0))
    d = pow.getLhs();
  else if (auto mul = def<MulOp>(sq->first); mul && mul.getLhs() == mul.getRhs())
    d = mul.getLhs();
  if (!d)
    return std::nullopt;
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
void buildNorm(Value root, Value x, float eps, int64_t axis) {
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
  OpBuilder b(anchor);
  Location loc = anchor->getLoc();
  auto asVector = [&](Value v) {
    return !v || tensorType(v).getRank() == 1 ? v : reshapeConstant(b, v, {d});
  };
  gain = asVector(gain);
  bias = asVector(bias);
  if (!gain) {
    std::vector<float> ones(d, 1.0f);
    gain = b.create<arith::ConstantOp>(
        root.getLoc(),
        DenseElementsAttr::get(RankedTensorType::get({d}, b.getF32Type()),
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
    in = b.create<TransposeOp>(
        loc, RankedTensorType::get(moved, tensorType(x).getElementType()), x,
        b.getDenseI64ArrayAttr(toLast));
  }
  Value norm;
  if constexpr (std::is_same_v<NormOp, LayerNormOp>)
    norm = b.create<LayerNormOp>(loc, in.getType(), in, gain, bias,
                                 b.getF32FloatAttr(eps),
                                 b.getI64IntegerAttr(-1));
  else
    norm = b.create<RmsNormOp>(loc, in.getType(), in, gain, bias,
                               b.getF32FloatAttr(eps));
  if (!last)
    norm = b.create<TransposeOp>(loc, x.getType(), norm,
                                 b.getDenseI64ArrayAttr(back));
  result.replaceAllUsesWith(norm);
}

void raiseNorms(func::FuncOp func) {
  // rms: x * (1 / sqrt(mean(x^2) + eps))  or  x / sqrt(mean(x^2) + eps)
  // layer: d / sqrt(mean(d^2) + eps) with d = x - mean(x)
  SmallVector<Operation *> candidates;
  func.walk([&](Operation *op) {
    if (isa<MulOp, DivOp>(op))
      candidates.push_back(op);
  });
  for (Operation *op : candidates) {
    if (op->use_empty() && op->getBlock() == nullptr)
      continue;
    Value x, denom;
    if (auto div = dyn_cast<DivOp>(op)) {
      x = div.getLhs();
      denom = div.getRhs();
    } else {
      auto mul = cast<MulOp>(op);
      for (auto [a, c] : {std::pair(mul.getLhs(), mul.getRhs()),
                          std::pair(mul.getRhs(), mul.getLhs())}) {
        auto recip = def<DivOp>(c);
        if (recip && near(splatValue(recip.getLhs()), 1.0)) {
          x = a;
          denom = recip.getRhs();
          break;
        }
      }
    }
    if (!x || x.getType() != op->getResult(0).getType())
      continue;
    auto den = rmsDenominator(denom);
    if (!den || den->d != x)
      continue;
    auto sub = def<SubOp>(x);
    auto mean = sub ? oneAxisMean(sub.getRhs()) : std::nullopt;
    if (mean && mean->first == sub.getLhs() && mean->second == den->axis &&
        sub.getType() == sub.getLhs().getType()) {
      buildNorm<LayerNormOp>(op->getResult(0), sub.getLhs(), den->eps, den->axis);
      continue;
    }
    buildNorm<RmsNormOp>(op->getResult(0), x, den->eps, den->axis);
  }
  // An RMSNorm of x - mean(x) is x's LayerNorm (ONNX Runtime's optimizer
  // fuses the tail of a LayerNorm into SimplifiedLayerNormalization when
  // the mean has another reader); a constant bias added after it joins it.
  SmallVector<RmsNormOp> rms;
  func.walk([&](RmsNormOp op) { rms.push_back(op); });
  for (RmsNormOp op : rms) {
    // Possibly through a transpose that brings the mean's axis last (ORT's
    // transpose optimizer computes the mean in another layout).
    Value centred = op.getInput();
    auto perm = def<TransposeOp>(centred);
    if (perm)
      centred = perm.getInput();
    auto sub = def<SubOp>(centred);
    auto mean = sub ? def<ReduceMeanOp>(sub.getRhs()) : ReduceMeanOp();
    if (!mean || !mean.getKeepdims() || mean.getInput() != sub.getLhs() ||
        mean.getAxes().size() != 1 ||
        sub.getType() != sub.getLhs().getType())
      continue;
    int64_t rank = tensorType(centred).getRank();
    auto axis = normalizeAxis(mean.getAxes()[0], rank);
    int64_t last = perm ? perm.getPermutation().back() : rank - 1;
    if (axis != std::optional<int64_t>(last))
      continue;
    Value bias = op.getBias(), result = op.getResult();
    int64_t d = tensorType(result).getShape().back();
    if (!bias)
      bias = absorbBias(result, [&](Value v) {
        return isConstant(v) && tensorType(v).getShape() == ArrayRef<int64_t>{d};
      });
    OpBuilder b(result.getDefiningOp());
    Value x = sub.getLhs();
    if (perm)
      x = b.create<TransposeOp>(perm.getLoc(), perm.getType(), x,
                                perm.getPermutationAttr());
    Value ln = b.create<LayerNormOp>(op.getLoc(), result.getType(), x,
                                     op.getScale(), bias,
                                     op.getEpsilonAttr(),
                                     b.getI64IntegerAttr(-1));
    result.replaceAllUsesWith(ln);
  }
}

//===----------------------------------------------------------------------===//
// Activations
//===----------------------------------------------------------------------===//

void raiseActivations(func::FuncOp func) {
  SmallVector<MulOp> muls;
  func.walk([&](MulOp op) { muls.push_back(op); });
  const double invSqrt2 = 1.0 / std::sqrt(2.0);
  for (MulOp op : muls) {
    if (!op->getBlock())
      continue;
    // silu: x * sigmoid(x)
    for (auto [x, s] : {std::pair(op.getLhs(), op.getRhs()),
                        std::pair(op.getRhs(), op.getLhs())}) {
      auto sig = def<SigmoidOp>(s);
      if (sig && sig.getInput() == x && x.getType() == op.getType()) {
        OpBuilder b(op);
        op.replaceAllUsesWith(b.create<SiluOp>(op.getLoc(), x).getResult());
        break;
      }
    }
    if (op.use_empty())
      continue;
    // gelu: 0.5 · x · (1 + erf(x/√2))  or  0.5 · x · (1 + tanh(√(2/π)·(x + 0.044715·x³)))
    SmallVector<Value> factors;
    mulFactors(op.getResult(), factors);
    double c = constantProduct(factors);
    if (factors.size() != 2 || !near(c, 0.5))
      continue;
    for (auto [x, onePlus] : {std::pair(factors[0], factors[1]),
                              std::pair(factors[1], factors[0])}) {
      Value inner = otherThanConstant<AddOp>(onePlus, 1.0);
      if (!inner || x.getType() != op.getType())
        continue;
      std::optional<GeluApproximation> kind;
      if (auto erf = def<ErfOp>(inner)) {
        Value arg = erf.getInput();
        if (otherThanConstant<DivOp>(arg, std::sqrt(2.0)) == x ||
            otherThanConstant<MulOp>(arg, invSqrt2) == x)
          kind = GeluApproximation::exact;
      } else if (auto tanh = def<TanhOp>(inner)) {
        SmallVector<Value> f;
        mulFactors(tanh.getInput(), f);
        double k = constantProduct(f);
        if (f.size() == 1 && near(k, std::sqrt(2.0 / M_PI))) {
          auto sum = def<AddOp>(f[0]);
          if (sum) {
            for (auto [xx, cube] : {std::pair(sum.getLhs(), sum.getRhs()),
                                    std::pair(sum.getRhs(), sum.getLhs())}) {
              SmallVector<Value> g;
              mulFactors(cube, g);
              double k2 = constantProduct(g);
              bool cubic = g.size() == 3 && llvm::all_of(g, [&](Value v) {
                             return v == xx;
                           });
              if (!cubic && g.size() == 1)
                if (auto pow = def<PowOp>(g[0]))
                  cubic = pow.getLhs() == xx && near(splatValue(pow.getRhs()), 3.0);
              if (xx == x && cubic && near(k2, 0.044715))
                kind = GeluApproximation::tanh;
            }
          }
        }
      }
      if (!kind)
        continue;
      OpBuilder b(op);
      auto gelu = b.create<GeluOp>(op.getLoc(), x, *kind);
      op.replaceAllUsesWith(gelu.getResult());
      break;
    }
  }
}

//===----------------------------------------------------------------------===//
// Attention
//===----------------------------------------------------------------------===//

} // namespace

namespace {

//===----------------------------------------------------------------------===//
// Layout chains
//===----------------------------------------------------------------------===//

/// transpose(a + b) -> transpose(a) + transpose(b) when a and b are
/// themselves transposes or reshapes (whose layout chains then fold) and
/// the sum has no other reader. ONNX Runtime's transpose optimizer leaves
/// ViT's first residual sum in the sequence-first layout of
/// nn.MultiheadAttention with the [B, T, C] transpose after it; sunk into
/// the operands, it cancels theirs and the sum becomes a residual in the
/// stream's own layout.
void sinkTransposesIntoAdds(func::FuncOp func) {
  SmallVector<TransposeOp> transposes;
  func.walk([&](TransposeOp op) { transposes.push_back(op); });
  for (TransposeOp t : transposes) {
    auto add = def<AddOp>(t.getInput());
    if (!add || !add->hasOneUse() || add.getLhs().getType() != add.getType() ||
        add.getRhs().getType() != add.getType())
      continue;
    auto layout = [](Value v) {
      return isa_and_nonnull<TransposeOp, ReshapeOp>(v.getDefiningOp());
    };
    if (!layout(add.getLhs()) || !layout(add.getRhs()))
      continue;
    OpBuilder b(t);
    auto moved = [&](Value v) {
      return b.create<TransposeOp>(t.getLoc(), t.getType(), v,
                                   t.getPermutationAttr());
    };
    Value sum = b.create<AddOp>(add.getLoc(), t.getType(), moved(add.getLhs()),
                                moved(add.getRhs()));
    t.replaceAllUsesWith(sum);
    t.erase();
    add.erase();
  }
}

/// A chain of reshapes and transposes that leaves the elements in row-major
/// order (Conv patch embedding followed by flatten + transpose, head splits
/// undone) is one reshape. Checked by pushing the flat index through the
/// chain.
void simplifyLayoutChains(func::FuncOp func) {
  SmallVector<Operation *> tails;
  func.walk([&](Operation *op) {
    if (isa<ReshapeOp, TransposeOp>(op))
      tails.push_back(op);
  });
  for (Operation *tail : llvm::reverse(tails)) {
    if (!tail->getBlock())
      continue;
    SmallVector<Operation *> chain = {tail};
    Value src = tail->getOperand(0);
    while (Operation *d = src.getDefiningOp()) {
      if (!isa<ReshapeOp, TransposeOp>(d) || !d->hasOneUse())
        break;
      chain.push_back(d);
      src = d->getOperand(0);
    }
    if (chain.size() < 2 ||
        !llvm::any_of(chain, [](Operation *op) { return isa<TransposeOp>(op); }))
      continue;
    int64_t n = tensorType(src).getNumElements();
    if (n > (1 << 22))
      continue;
    // idx[k] = which source element sits at position k.
    std::vector<int64_t> idx(n);
    std::iota(idx.begin(), idx.end(), 0);
    for (Operation *op : llvm::reverse(chain)) {
      auto tr = dyn_cast<TransposeOp>(op);
      if (!tr)
        continue;
      ArrayRef<int64_t> in = tensorType(tr.getInput()).getShape();
      ArrayRef<int64_t> perm = tr.getPermutation();
      int64_t rank = in.size();
      SmallVector<int64_t> inStride(rank, 1), outShape;
      for (int64_t d = rank - 2; d >= 0; --d)
        inStride[d] = inStride[d + 1] * in[d + 1];
      for (int64_t p : perm)
        outShape.push_back(in[p]);
      std::vector<int64_t> next(n);
      SmallVector<int64_t> c(rank, 0);
      for (int64_t k = 0; k < n; ++k) {
        int64_t off = 0;
        for (int64_t d = 0; d < rank; ++d)
          off += c[d] * inStride[perm[d]];
        next[k] = idx[off];
        for (int64_t d = rank - 1; d >= 0; --d) {
          if (++c[d] < outShape[d])
            break;
          c[d] = 0;
        }
      }
      idx.swap(next);
    }
    bool identity = true;
    for (int64_t k = 0; k < n && identity; ++k)
      identity = idx[k] == k;
    if (!identity)
      continue;
    OpBuilder b(tail);
    Value result = src;
    if (src.getType() != tail->getResult(0).getType())
      result = b.create<ReshapeOp>(tail->getLoc(), tail->getResult(0).getType(),
                                   src);
    tail->getResult(0).replaceAllUsesWith(result);
  }
}

//===----------------------------------------------------------------------===//
// Residual structure
//===----------------------------------------------------------------------===//

/// The ops computing `y` from `x` (and constants) only, in block order, when
/// every intermediate is used only inside; empty otherwise.
SmallVector<Operation *> branchOps(Value x, Value y, Operation *add) {
  Operation *root = y.getDefiningOp();
  if (!root || root->getBlock() != add->getBlock())
    return {};
  // The ops computed from x: what does not depend on it (a padding mask
  // from an input, shared by every layer) stays outside the branch.
  llvm::SmallPtrSet<Operation *, 32> fromX;
  SmallVector<Value> frontier = {x};
  while (!frontier.empty()) {
    Value v = frontier.pop_back_val();
    for (Operation *user : v.getUsers())
      if (user->getBlock() == add->getBlock() && user->isBeforeInBlock(add) &&
          fromX.insert(user).second)
        llvm::append_range(frontier, user->getResults());
  }
  llvm::SetVector<Operation *> slice;
  SmallVector<Operation *> work = {root};
  bool readsX = false;
  while (!work.empty()) {
    Operation *op = work.pop_back_val();
    if (!slice.insert(op))
      continue;
    for (Value operand : op->getOperands()) {
      if (operand == x) {
        readsX = true;
        continue;
      }
      Operation *d = operand.getDefiningOp();
      if (!d)
        continue; // another function input (a gain, a mask): not the stream
      if (d->hasTrait<OpTrait::ConstantLike>())
        continue;
      if (d->getBlock() != add->getBlock())
        return {};
      if (!fromX.contains(d))
        continue; // computed from inputs only (a mask): not the stream
      work.push_back(d);
    }
  }
  if (!readsX)
    return {};
  for (Operation *op : slice)
    for (Operation *user : op->getUsers())
      if (user != add && !slice.contains(user))
        return {};
  SmallVector<Operation *> ordered(slice.begin(), slice.end());
  llvm::sort(ordered, [](Operation *a, Operation *b) {
    return a->isBeforeInBlock(b);
  });
  return ordered;
}

void raiseResiduals(func::FuncOp func) {
  int64_t layer = -1;
  bool sawAttention = false;
  SmallVector<AddOp> adds;
  for (Operation &op : func.getBody().front())
    if (auto add = dyn_cast<AddOp>(op))
      adds.push_back(add);
  for (AddOp add : adds) {
    if (add.getLhs().getType() != add.getType() ||
        add.getRhs().getType() != add.getType() ||
        cast<RankedTensorType>(add.getType()).getRank() < 3)
      continue;
    for (auto [x, y] : {std::pair(add.getLhs(), add.getRhs()),
                        std::pair(add.getRhs(), add.getLhs())}) {
      SmallVector<Operation *> ops = branchOps(x, y, add);
      if (ops.empty())
        continue;
      bool attention = llvm::any_of(
          ops, [](Operation *op) { return isa<AttentionOp>(op); });
      bool mlp = llvm::any_of(
          ops, [](Operation *op) { return isa<LinearOp, QLinearOp>(op); });
      if (!attention && !mlp)
        continue;
      // An attention residual opens a layer; the MLP after it shares it.
      if (attention || !sawAttention)
        ++layer;
      sawAttention = attention;
      OpBuilder b(add);
      auto residual = b.create<ResidualOp>(
          add.getLoc(), add.getType(), x,
          ResidualKindAttr::get(b.getContext(), attention
                                                    ? ResidualKind::attention
                                                    : ResidualKind::mlp),
          b.getI64IntegerAttr(layer));
      Block *body = b.createBlock(&residual.getBody(), {}, {x.getType()},
                                  {x.getLoc()});
      for (Operation *op : ops)
        op->moveBefore(body, body->end());
      b.setInsertionPointToEnd(body);
      b.create<YieldOp>(add.getLoc(), y);
      x.replaceUsesWithIf(body->getArgument(0), [&](OpOperand &use) {
        return residual->isProperAncestor(use.getOwner());
      });
      add.replaceAllUsesWith(residual.getResult());
      add.erase();
      break;
    }
  }
}

//===----------------------------------------------------------------------===//
// The pass
//===----------------------------------------------------------------------===//

LogicalResult cleanup(Operation *op) {
  RewritePatternSet none(op->getContext());
  GreedyRewriteConfig config;
  config.enableRegionSimplification = GreedySimplifyRegionLevel::Disabled;
  return applyPatternsAndFoldGreedily(op, std::move(none), config);
}

struct SlimRaisePass : public mlir::slim::impl::SlimRaisePassBase<SlimRaisePass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    int64_t unnamedWeights = 0;
    if (failed(cleanup(module)))
      return signalPassFailure();
    for (auto func : module.getOps<func::FuncOp>()) {
      raiseLinear(func, unnamedWeights);
      raiseNorms(func);
      raiseActivations(func);
      (void)cleanup(func);
      SmallVector<SoftmaxOp> softmaxes;
      func.walk([&](SoftmaxOp op) { softmaxes.push_back(op); });
      for (SoftmaxOp sm : softmaxes) {
        Why why;
        if (failed(raiseAttention(sm, why)))
          sm.emitRemark("slim-raise: softmax not raised into slim.attention: ")
              << why.text;
      }
      (void)cleanup(func);
      { // one padding mask for all layers (each built its own)
        IRRewriter rewriter(func.getContext());
        DominanceInfo dom(func);
        eliminateCommonSubExpressions(rewriter, dom, func);
      }
      raiseLinear(func, unnamedWeights); // Conv1D reshape sandwiches around new attention
      commuteRowPermutations(func); // sequence-first projections
      sinkTransposesIntoAdds(func);
      (void)cleanup(func);
      simplifyLayoutChains(func);
      (void)cleanup(func);
      { // the transposes sunk into sums meet the norms' own
        IRRewriter rewriter(func.getContext());
        DominanceInfo dom(func);
        eliminateCommonSubExpressions(rewriter, dom, func);
      }
      raiseResiduals(func);
      (void)cleanup(func);
      // What is left of a norm pattern (a mean of squares or differences,
      // or one that is subtracted or divided by) is worth a remark too; a
      // pooling mean (over H and W of NCHW) is not.
      func.walk([&](ReduceMeanOp op) {
        SmallVector<int64_t> axes(op.getAxes());
        for (int64_t &a : axes)
          a = *normalizeAxis(a, op.getInput().getType().getRank());
        llvm::sort(axes);
        if (op.getInput().getType().getRank() == 4 &&
            axes == SmallVector<int64_t>{2, 3})
          return;
        bool normLike =
            isa_and_nonnull<PowOp, MulOp, SubOp>(op.getInput().getDefiningOp()) ||
            llvm::any_of(op->getUsers(), [](Operation *u) {
              return isa<AddOp, SubOp, DivOp>(u);
            });
        if (!normLike)
          return;
        op.emitRemark("slim-raise: reduce_mean left unraised (not part of a "
                      "recognized layer_norm or rms_norm pattern)");
      });
    }
  }
};

} // namespace
