//===- RaiseAttention.cpp - slim-raise: attention however it is laid out --===//
//
// (Over 800 lines: the layout tracer, the mask analysis and the rewrite
// that uses both are one algorithm; split, each part would need the
// others' internal types.)
//
// softmax(q·kᵀ·scale + mask)·v becomes slim.attention whatever layout the
// exporter chose. Rather than one matcher per exporter (Hugging Face's
// view + transpose, nn.MultiheadAttention's heads folded into the batch
// over sequence-first rows, a fused QKV projection sliced, split or
// unflattened, GQA repeats by Expand + Reshape), the layout ops between a
// projection and the scores are run on an index tensor (traceLayout): it
// says which element of the projection each head element reads, and that
// map is compared with the one slim.attention implies, for batch-first
// and sequence-first rows. Masks are taken apart the same way: a constant
// causal pattern becomes `causal`; a run-time term that depends only on
// (batch, key) — a padding mask, however it was broadcast to the heads —
// is rebuilt at [B, S] from the elementwise ops that made it and becomes
// `key_bias`. Other constant terms — relative-position biases, window
// masks added while the scores are viewed per window (Swin) — are summed
// into one dense bias at the scores' shape, reduced to its period over the
// batch (windows as the batch repeat every G rows) and become `bias`
// [G, H, T, S].
//
// It runs as a rewrite pattern rooted at each softmax: the packed forms
// are built while matching, and a match that fails further on erases them
// again, so a failure leaves the IR as it was and its reason (the match
// failure) becomes slim-raise's remark.
//
//===----------------------------------------------------------------------===//

#include "passes/RaiseUtils.h"
#include "passes/Weights.h"

#include "dialects/slim/IR/ShapeUtils.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/Matchers.h"
#include "llvm/ADT/DenseMap.h"

#include <cmath>
#include <numeric>

using namespace mlir;
using namespace mlir::slim;
using namespace mlir::slim::raise;

std::optional<double> raise::splatValue(Value v) {
  if (!v)
    return std::nullopt;
  DenseElementsAttr dense;
  if (matchPattern(v, m_Constant(&dense))) {
    if (!isa<FloatType>(dense.getElementType()))
      return std::nullopt;
    if (dense.isSplat())
      return dense.getSplatValue<APFloat>().convertToDouble();
    auto vals = dense.getValues<APFloat>();
    double first = (*vals.begin()).convertToDouble();
    for (APFloat x : vals)
      if (x.convertToDouble() != first)
        return std::nullopt;
    return first;
  }
  // Resource blobs (initializers of optimized graphs), when small.
  auto t = dyn_cast<RankedTensorType>(v.getType());
  if (!t || !t.hasStaticShape() || t.getNumElements() > 4096 ||
      !isFloatConstant(v))
    return std::nullopt;
  auto vals = floatValues(v);
  if (!vals || vals->empty())
    return std::nullopt;
  for (float x : *vals)
    if (x != (*vals)[0])
      return std::nullopt;
  return (*vals)[0];
}

bool raise::isConstant(Value v) { return v && matchPattern(v, m_Constant()); }

namespace {

int64_t numel(ArrayRef<int64_t> s) {
  int64_t n = 1;
  for (int64_t d : s)
    n *= d;
  return n;
}

SmallVector<int64_t> stridesOf(ArrayRef<int64_t> s) {
  SmallVector<int64_t> st(s.size(), 1);
  for (int64_t d = int64_t(s.size()) - 2; d >= 0; --d)
    st[d] = st[d + 1] * s[d + 1];
  return st;
}

/// out[k] = in[src(coordinates of k in outShape)].
std::vector<int64_t>
remap(const std::vector<int64_t> &in, ArrayRef<int64_t> outShape,
      llvm::function_ref<int64_t(ArrayRef<int64_t>)> src) {
  int64_t n = numel(outShape);
  std::vector<int64_t> out(n);
  SmallVector<int64_t> c(outShape.size(), 0);
  for (int64_t k = 0; k < n; ++k) {
    out[k] = in[src(c)];
    for (int64_t d = int64_t(c.size()) - 1; d >= 0; --d) {
      if (++c[d] < outShape[d])
        break;
      c[d] = 0;
    }
  }
  return out;
}

/// Where the elements of a value come from.
struct Trace {
  Value source;               // the first value not made by a layout op
  std::vector<int64_t> index; // per element: its flat position in source
  double scale = 1.0;         // constant factors met on the way
  std::optional<Location> loc; // the first layout op's, for what replaces it
};

constexpr int64_t kMaxTraced = int64_t(1) << 24;

/// Walks back from `v` through reshapes, transposes, slices and broadcasts
/// (with `scales`, also through products and quotients by a constant) and
/// runs that chain on the source's flat indices.
std::optional<Trace> traceLayout(Value v, bool scales) {
  SmallVector<Operation *> chain;
  Trace t;
  Value cur = v;
  while (Operation *d = cur.getDefiningOp()) {
    if (isa<ReshapeOp, TransposeOp, SliceOp, BroadcastOp>(d)) {
      chain.push_back(d);
      cur = d->getOperand(0);
      continue;
    }
    // A value concatenated with itself (RoPE's concat(freqs, freqs)).
    if (auto cat = dyn_cast<ConcatOp>(d);
        cat && llvm::all_equal(cat.getInputs())) {
      chain.push_back(d);
      cur = d->getOperand(0);
      continue;
    }
    if (scales && isa<MulOp, DivOp>(d)) {
      Value lhs = d->getOperand(0), rhs = d->getOperand(1);
      Type type = d->getResult(0).getType();
      if (auto c = splatValue(rhs); c && *c != 0 && lhs.getType() == type) {
        t.scale *= isa<MulOp>(d) ? *c : 1.0 / *c;
        cur = lhs;
        continue;
      }
      if (auto c = splatValue(lhs);
          c && isa<MulOp>(d) && rhs.getType() == type) {
        t.scale *= *c;
        cur = rhs;
        continue;
      }
    }
    break;
  }
  auto st = dyn_cast<RankedTensorType>(cur.getType());
  if (!st || !st.hasStaticShape() || st.getNumElements() > kMaxTraced)
    return std::nullopt;
  t.source = cur;
  if (!chain.empty())
    t.loc = chain.back()->getLoc();
  t.index.resize(st.getNumElements());
  std::iota(t.index.begin(), t.index.end(), 0);
  SmallVector<int64_t> shape(st.getShape());
  for (Operation *op : llvm::reverse(chain)) {
    ArrayRef<int64_t> outShape = tensorType(op->getResult(0)).getShape();
    SmallVector<int64_t> in = stridesOf(shape);
    if (auto tr = dyn_cast<TransposeOp>(op)) {
      ArrayRef<int64_t> perm = tr.getPermutation();
      t.index = remap(t.index, outShape, [&](ArrayRef<int64_t> c) {
        int64_t off = 0;
        for (size_t d = 0; d < c.size(); ++d)
          off += c[d] * in[perm[d]];
        return off;
      });
    } else if (auto sl = dyn_cast<SliceOp>(op)) {
      ArrayRef<int64_t> offs = sl.getOffsets(), strd = sl.getStrides();
      t.index = remap(t.index, outShape, [&](ArrayRef<int64_t> c) {
        int64_t off = 0;
        for (size_t d = 0; d < c.size(); ++d)
          off += (offs[d] + c[d] * strd[d]) * in[d];
        return off;
      });
    } else if (isa<BroadcastOp>(op)) {
      int64_t lead = int64_t(outShape.size()) - int64_t(shape.size());
      t.index = remap(t.index, outShape, [&](ArrayRef<int64_t> c) {
        int64_t off = 0;
        for (size_t d = 0; d < shape.size(); ++d)
          off += (shape[d] == 1 ? 0 : c[lead + d]) * in[d];
        return off;
      });
    } else if (auto cat = dyn_cast<ConcatOp>(op)) {
      int64_t axis = *normalizeAxis(cat.getAxis(), int64_t(shape.size()));
      t.index = remap(t.index, outShape, [&](ArrayRef<int64_t> c) {
        int64_t off = 0;
        for (size_t d = 0; d < c.size(); ++d)
          off += (int64_t(d) == axis ? c[d] % shape[d] : c[d]) * in[d];
        return off;
      });
    } // a reshape keeps the order
    shape.assign(outShape.begin(), outShape.end());
  }
  return t;
}

/// The values of the chain of single-use reshapes and transposes that
/// starts at `v`, in order.
SmallVector<Value> layoutChainFrom(Value v) {
  SmallVector<Value> chain;
  for (Value cur = v; cur.hasOneUse();) {
    Operation *u = *cur.getUsers().begin();
    if (!isa<ReshapeOp, TransposeOp>(u))
      break;
    cur = u->getResult(0);
    chain.push_back(cur);
  }
  return chain;
}

/// A head tensor [.., T, d] as slim.attention reads it.
struct Heads {
  Value packed; // [B, T, Hkv·d]: batch-first rows, heads side by side
  int64_t batch = 0, tokens = 0, heads = 0, kvHeads = 0, dim = 0;
  double scale = 1.0;
};

/// RoPE (rotate-half) on heads xh[B,H,T,d]:
///   xh·cos + concat(-xh[..., d/2:], xh[..., :d/2])·sin
/// with constant cos/sin tables for positions 0 … T-1.
struct RopeMatch {
  Value heads;
  float theta;
  Value positions; // [B, T] integer positions, or null for 0 … T-1
};

/// theta from inverse frequencies inv[i] = theta^(-2i/d), i < d/2, or 0.
double thetaOf(ArrayRef<double> inv, int64_t d) {
  if (inv.size() < 2 || inv[1] <= 0)
    return 0;
  double theta = std::pow(inv[1], -double(d) / 2.0);
  if (std::abs(theta - std::round(theta)) <= 1e-5 * theta)
    theta = std::round(theta);
  for (size_t i = 0; i < inv.size(); ++i)
    if (std::abs(inv[i] - std::pow(theta, -2.0 * double(i) / double(d))) >
        1e-5 * std::max(1.0, inv[i]))
      return 0;
  return theta;
}

/// Hugging Face's rotary embedding computed in the forward from position
/// inputs: cos/sin of emb = concat(f, f), f = (inv_freq[:, None] ·
/// positions[None, :])ᵀ, broadcast over the heads [B, H, T, d].
std::optional<std::pair<Value, double>>
ropeFromPositions(Value cosV, Value sinV, int64_t B, int64_t T, int64_t d) {
  auto tc = traceLayout(cosV, false), ts = traceLayout(sinV, false);
  auto c = tc ? def<CosOp>(tc->source) : CosOp();
  auto sn = ts ? def<SinOp>(ts->source) : SinOp();
  if (!c || !sn || c.getInput() != sn.getInput() || tc->index != ts->index)
    return std::nullopt;
  Value emb = c.getInput();
  auto et = tensorType(emb);
  if (et.getRank() != 3 || et.getDimSize(1) != T || et.getDimSize(2) != d ||
      (et.getDimSize(0) != B && et.getDimSize(0) != 1))
    return std::nullopt;
  // The tables as the heads read them: [Bc, 1 | H, T, d] -> emb[b, t, i].
  ArrayRef<int64_t> cs = tensorType(cosV).getShape();
  int64_t eb = et.getDimSize(0);
  for (int64_t k = 0, n = int64_t(tc->index.size()); k < n; ++k) {
    int64_t i = k % d, t = (k / d) % T;
    int64_t b = cs.size() == 4 ? k / (d * T * cs[1]) : 0;
    if (tc->index[k] != ((eb == 1 ? 0 : b) * T + t) * d + i)
      return std::nullopt;
  }
  // emb[b, t, i] = f[b, i mod d/2, t] with f = inv_freq · positions,
  // concatenated with itself and transposed (in either order).
  int64_t h = d / 2;
  auto tf = traceLayout(emb, false);
  auto mm = tf ? def<MatMulOp>(tf->source) : MatMulOp();
  if (!mm || tensorType(mm.getResult()).getShape() !=
                 ArrayRef<int64_t>{eb, h, T})
    return std::nullopt;
  for (int64_t k = 0, n = int64_t(tf->index.size()); k < n; ++k) {
    int64_t i = k % d, t = (k / d) % T, b = k / (d * T);
    if (tf->index[k] != (b * h + i % h) * T + t)
      return std::nullopt;
  }
  // inv_freq [eb, h, 1] (a constant, maybe broadcast) times positions
  // [eb, 1, T] cast to float.
  auto ti = traceLayout(mm.getLhs(), false);
  auto invVals = ti ? floatValues(ti->source) : std::nullopt;
  if (!invVals || int64_t(ti->index.size()) != eb * h)
    return std::nullopt;
  std::vector<double> inv(h);
  for (int64_t b = 0; b < eb; ++b)
    for (int64_t i = 0; i < h; ++i) {
      double x = (*invVals)[ti->index[b * h + i]];
      if (b > 0 && x != inv[i])
        return std::nullopt;
      inv[i] = x;
    }
  double theta = thetaOf(inv, d);
  auto tp = traceLayout(mm.getRhs(), false);
  auto cast = tp ? def<CastOp>(tp->source) : CastOp();
  if (!cast || int64_t(tp->index.size()) != eb * T)
    return std::nullopt;
  Value pos = cast.getInput();
  auto pt = tensorType(pos);
  if (pt.getNumElements() != eb * T || theta <= 0)
    return std::nullopt;
  for (int64_t k = 0; k < eb * T; ++k)
    if (tp->index[k] != k)
      return std::nullopt;
  return std::make_pair(pos, theta);
}
std::optional<RopeMatch> matchRope(Value v, Why &why) {
  auto add = def<AddOp>(v);
  if (!add)
    return std::nullopt;
  for (auto [p, q] : {std::pair(add.getLhs(), add.getRhs()),
                      std::pair(add.getRhs(), add.getLhs())}) {
    auto m1 = def<MulOp>(p), m2 = def<MulOp>(q);
    if (!m1 || !m2)
      continue;
    for (auto [a, cosV] : {std::pair(m1.getLhs(), m1.getRhs()),
                           std::pair(m1.getRhs(), m1.getLhs())}) {
      for (auto [rot, sinV] : {std::pair(m2.getLhs(), m2.getRhs()),
                               std::pair(m2.getRhs(), m2.getLhs())}) {
        auto cat = def<ConcatOp>(rot);
        if (!cat || cat.getInputs().size() != 2)
          continue;
        auto at = tensorType(a);
        int64_t rank = at.getRank(), d = at.getShape().back();
        if (normalizeAxis(cat.getAxis(), rank) != rank - 1)
          continue;
        auto neg = def<NegOp>(cat.getInputs()[0]);
        auto hi = neg ? def<SliceOp>(neg.getInput()) : SliceOp();
        auto lo = def<SliceOp>(cat.getInputs()[1]);
        if (!hi || !lo || hi.getInput() != a || lo.getInput() != a ||
            hi.getOffsets().back() != d / 2 || lo.getOffsets().back() != 0 ||
            lo.getSizes().back() != d / 2 || hi.getSizes().back() != d / 2) {
          why << "the rotation is not rotate-half (concat(-x[d/2:], x[:d/2]))";
          return std::nullopt;
        }
        if (!isConstant(cosV) || !isConstant(sinV)) {
          if (at.getRank() == 4)
            if (auto r = ropeFromPositions(cosV, sinV, at.getDimSize(0),
                                           at.getDimSize(2), d))
              return RopeMatch{a, float(r->second), r->first};
          why << "RoPE's cos/sin tables are computed at run time, not as "
                 "cos/sin of (inv_freq · positions) for integer positions";
          return std::nullopt;
        }
        auto cosT = floatValues(cosV), sinT = floatValues(sinV);
        auto ct = tensorType(cosV);
        int64_t t = at.getDimSize(rank - 2);
        if (!cosT || !sinT || ct.getNumElements() != t * d ||
            ct.getShape().back() != d) {
          why << "the cos/sin tables are not [T, head_dim] constants";
          return std::nullopt;
        }
        // Positions 0..T-1, angle(t, i) = t · theta^(-2i/d).
        if (t < 2 || d < 4) {
          why << "too few positions to identify theta";
          return std::nullopt;
        }
        double angle = std::atan2((*sinT)[1 * d + 1], (*cosT)[1 * d + 1]);
        double theta = std::pow(angle, -double(d) / 2.0);
        // f32 tables pin theta to ~1e-6 relative: snap to the integer the
        // model was configured with (10000, 500000, ...) when that close.
        if (std::abs(theta - std::round(theta)) <= 1e-5 * theta)
          theta = std::round(theta);
        for (int64_t pos = 0; pos < t; ++pos)
          for (int64_t i = 0; i < d; ++i) {
            double want = pos * std::pow(theta, -2.0 * (i % (d / 2)) / d);
            if (std::abs((*cosT)[pos * d + i] - std::cos(want)) > 1e-4 ||
                std::abs((*sinT)[pos * d + i] - std::sin(want)) > 1e-4) {
              why << "the cos/sin tables are not RoPE for positions 0.."
                  << t - 1;
              return std::nullopt;
            }
          }
        return RopeMatch{a, float(theta), Value()};
      }
    }
  }
  return std::nullopt;
}

/// Builds the packed forms at the attention's place; a sequence-first
/// source is transposed once for all of q, k and v.
struct Packer {
  OpBuilder &b;
  Location loc;
  llvm::DenseMap<Value, Value> batchFirst;

  Value reshape(Value x, ArrayRef<int64_t> shape,
                std::optional<Location> at = std::nullopt) {
    auto t = tensorType(x);
    if (t.getShape() == shape)
      return x;
    return b.create<ReshapeOp>(
        at.value_or(loc), RankedTensorType::get(shape, t.getElementType()), x);
  }
  Value transpose(Value x, ArrayRef<int64_t> perm,
                  std::optional<Location> at = std::nullopt) {
    return b.create<TransposeOp>(at.value_or(loc), x,
                                 b.getDenseI64ArrayAttr(perm))
        .getResult();
  }
};

std::optional<Heads> matchHeads(Value v, bool transposed, Packer &pk,
                                Why &why, StringRef role);

/// The packed [B, T, Hs·d] form of split heads [B, Hs, T, d] that are not
/// a layout of a projection: RoPE of one (raised to slim.rope), or any
/// other value (transposed back).
Value packSplit(Value src, Packer &pk, Why &why, StringRef role,
                double &scale) {
  auto st = tensorType(src);
  int64_t b = st.getDimSize(0), hs = st.getDimSize(1), t = st.getDimSize(2),
          d = st.getDimSize(3);
  Why ropeWhy;
  if (auto rope = matchRope(src, ropeWhy)) {
    auto inner = matchHeads(rope->heads, false, pk, why, role);
    if (!inner || inner->kvHeads != hs || inner->heads != hs)
      return {};
    scale *= inner->scale;
    Value positions = rope->positions;
    if (positions) { // [T] when one row serves every batch row, else [B, T]
      int64_t rows = tensorType(positions).getNumElements() / t;
      positions = rows == 1 ? pk.reshape(positions, {t})
                            : pk.reshape(positions, {rows, t});
    }
    if (!positions) {
      SmallVector<int64_t> pos(t);
      std::iota(pos.begin(), pos.end(), 0);
      positions = pk.b.create<arith::ConstantOp>(
          pk.loc, DenseElementsAttr::get(
                      RankedTensorType::get({t}, pk.b.getI64Type()),
                      ArrayRef<int64_t>(pos)));
    }
    return pk.b
        .create<RopeOp>(pk.loc, inner->packed.getType(), inner->packed,
                        positions, pk.b.getI64IntegerAttr(hs),
                        pk.b.getF32FloatAttr(rope->theta), UnitAttr())
        .getResult();
  }
  if (!ropeWhy.text.empty()) {
    why << ropeWhy.text << " (" << role << ")";
    return {};
  }
  return pk.reshape(pk.transpose(src, {0, 2, 1, 3}), {b, t, hs * d});
}

/// Matches a head tensor: rank 4 [B, H, T, d] or rank 3 [B·H, T, d] (heads
/// folded into the batch); with `transposed`, the last two axes are
/// [d, T] (a key transposed for q·kᵀ).
std::optional<Heads> matchHeads(Value v, bool transposed, Packer &pk,
                                Why &why, StringRef role) {
  auto vt = tensorType(v);
  int64_t rank = vt.getRank();
  if (rank != 3 && rank != 4) {
    why << "the " << role << " heads have rank " << rank
        << " (expected [B, H, T, d] or [B·H, T, d])";
    return std::nullopt;
  }
  auto tr = traceLayout(v, true);
  if (!tr) {
    why << "the " << role << " is too large to trace";
    return std::nullopt;
  }
  SmallVector<int64_t> shape(vt.getShape());
  std::vector<int64_t> idx = std::move(tr->index);
  if (transposed) {
    SmallVector<int64_t> old = shape;
    std::swap(shape[rank - 1], shape[rank - 2]);
    SmallVector<int64_t> in = stridesOf(old);
    idx = remap(idx, shape, [&](ArrayRef<int64_t> c) {
      int64_t off = 0;
      for (int64_t d = 0; d < rank - 2; ++d)
        off += c[d] * in[d];
      return off + c[rank - 1] * in[rank - 2] + c[rank - 2] * in[rank - 1];
    });
  }
  int64_t T = shape[rank - 2], d = shape[rank - 1];
  int64_t L = numel(shape) / (T * d);
  Value src = tr->source;
  auto st = tensorType(src);
  // The head index h's source head, with GQA repeats: h / rep.
  auto repOf = [&](int64_t H) {
    for (int64_t h = 1; h < H; ++h)
      if (idx[h * T * d] != idx[0])
        return h;
    return H;
  };

  // A projection's rows [.., E]: row (b, t) batch-first or sequence-first,
  // the head at column off + (h / rep)·d.
  int64_t E = st.getRank() ? st.getShape().back() : 1;
  int64_t rows = E ? st.getNumElements() / E : 0;
  int64_t B = rank == 4 ? shape[0] : (T && rows % T == 0 ? rows / T : 0);
  if (st.getRank() >= 2 && B > 0 && L % B == 0 && rows == B * T) {
    int64_t H = L / B, rep = repOf(H), off = idx[0];
    if (H % rep == 0 && off + (H / rep) * d <= E) {
      int64_t Hkv = H / rep;
      for (bool seqFirst : {false, true}) {
        if (seqFirst && B == 1)
          continue;
        bool ok = true;
        for (int64_t k = 0, n = int64_t(idx.size()); k < n && ok; ++k) {
          int64_t i = k % d, t = (k / d) % T, h = (k / (d * T)) % H,
                  b = k / (d * T * H);
          int64_t row = seqFirst ? t * B + b : b * T + t;
          ok = idx[k] == row * E + off + (h / rep) * d + i;
        }
        if (!ok)
          continue;
        Value x;
        if (!seqFirst) {
          x = pk.reshape(src, {B, T, E}, tr->loc);
        } else {
          Value &cached = pk.batchFirst[src];
          if (!cached)
            cached = pk.transpose(pk.reshape(src, {T, B, E}, tr->loc),
                                  {1, 0, 2}, tr->loc);
          x = cached;
        }
        if (off != 0 || Hkv * d != E)
          x = pk.b.create<SliceOp>(
              tr->loc.value_or(pk.loc), x, pk.b.getDenseI64ArrayAttr({0, 0, off}),
              pk.b.getDenseI64ArrayAttr({B, T, Hkv * d}),
              pk.b.getDenseI64ArrayAttr({1, 1, 1}));
        return Heads{x, B, T, H, Hkv, d, tr->scale};
      }
    }
  }
  // Split heads [B, Hs, T, d] made by something other than a layout op
  // (RoPE): each head element read at ((b·Hs + h/rep)·T + t)·d + i.
  if (st.getRank() == 4 && st.getDimSize(2) == T && st.getDimSize(3) == d &&
      L % st.getDimSize(0) == 0) {
    int64_t B = st.getDimSize(0), Hs = st.getDimSize(1), H = L / B;
    if (H % Hs == 0) {
      int64_t rep = H / Hs;
      bool ok = true;
      for (int64_t k = 0, n = int64_t(idx.size()); k < n && ok; ++k) {
        int64_t i = k % d, t = (k / d) % T, h = (k / (d * T)) % H,
                b = k / (d * T * H);
        ok = idx[k] == ((b * Hs + h / rep) * T + t) * d + i;
      }
      if (ok) {
        double scale = tr->scale;
        Value x = packSplit(src, pk, why, role, scale);
        if (!x)
          return std::nullopt;
        return Heads{x, B, T, H, Hs, d, scale};
      }
    }
  }
  if (why.text.empty())
    why << "the " << role << " heads are not a head split of one projection "
        << "(no batch-first or sequence-first [B, T, H·d] layout of "
        << st << " reads them)";
  return std::nullopt;
}

/// True when mask[i][j] (last two axes, any leading broadcast) allows
/// exactly j <= i + (S - T).
bool isCausal(ArrayRef<bool> allowed, ArrayRef<int64_t> shape, int64_t t,
              int64_t s) {
  if (shape.size() < 2 || shape[shape.size() - 2] != t || shape.back() != s)
    return false;
  for (size_t k = 0; k < allowed.size(); ++k) {
    int64_t i = (k / s) % t, j = k % s;
    if (allowed[k] != (j <= i + (s - t)))
      return false;
  }
  return true;
}

/// Whether `v` is computed from the scores' matmul (through the scale and
/// mask ops), as opposed to being a mask.
bool reachesScores(Value v, int depth = 0) {
  Operation *d = v.getDefiningOp();
  if (!d || depth > 8)
    return false;
  if (isa<MatMulOp>(d))
    return true;
  if (!isa<MulOp, DivOp, AddOp, SubOp, WhereOp, ReshapeOp>(d))
    return false;
  return llvm::any_of(d->getOperands(),
                      [&](Value o) { return reachesScores(o, depth + 1); });
}

/// A mask term that depends only on (batch, key): rebuilt at [B, S].
struct KeyTerm {
  Packer &pk;
  ArrayRef<int64_t> scores; // [B, H, T, S] or [B·H, T, S]
  int64_t B, H, S;

  /// Places the builder right after the latest of `vs` (the mask is built
  /// once, where its inputs are known, and shared by every layer).
  void placeAfter(ArrayRef<Value> vs) {
    Operation *latest = nullptr;
    Block *block = pk.b.getInsertionBlock();
    for (Value v : vs) {
      Operation *d = v.getDefiningOp();
      while (d && d->getBlock() != block)
        d = d->getParentOp();
      if (d && (!latest || latest->isBeforeInBlock(d)))
        latest = d;
    }
    if (latest)
      pk.b.setInsertionPointAfter(latest);
    else
      pk.b.setInsertionPointToStart(block);
  }

  /// The [B, S] value equal to `m` broadcast to the scores at every
  /// (b, h, t, s), a rank-0 constant for a splat, or null.
  Value build(Value m, int depth = 0) {
    if (depth > 12)
      return {};
    if (auto c = splatValue(m)) {
      placeAfter({});
      auto type = RankedTensorType::get({}, tensorType(m).getElementType());
      return pk.b.create<arith::ConstantOp>(
          pk.loc, DenseElementsAttr::get(type, APFloat(float(*c))));
    }
    Operation *d = m.getDefiningOp();
    if (d && isa<WhereOp, AddOp, SubOp, MulOp, DivOp, CastOp, NegOp>(d)) {
      SmallVector<Value> operands;
      bool perKey = false;
      for (Value o : d->getOperands()) {
        Value r = build(o, depth + 1);
        if (!r)
          return {};
        perKey |= tensorType(r).getRank() == 2;
        operands.push_back(r);
      }
      if (!perKey)
        return {};
      placeAfter(operands);
      OperationState state(d->getLoc(), d->getName());
      state.addOperands(operands);
      state.addTypes(RankedTensorType::get(
          {B, S}, tensorType(m).getElementType()));
      state.addAttributes(d->getAttrs());
      return pk.b.create(state)->getResult(0);
    }
    // A layout (reshape, expand over heads and queries) of a [B, S] value.
    auto tr = traceLayout(m, false);
    if (!tr || tensorType(tr->source).getNumElements() != B * S)
      return {};
    ArrayRef<int64_t> ms = tensorType(m).getShape();
    int64_t rank = scores.size(), lead = rank - int64_t(ms.size());
    if (lead < 0)
      return {};
    SmallVector<int64_t> mst = stridesOf(ms);
    int64_t n = numel(scores);
    SmallVector<int64_t> c(rank, 0);
    for (int64_t k = 0; k < n; ++k) {
      int64_t off = 0;
      for (int64_t a = 0; a < int64_t(ms.size()); ++a)
        off += (ms[a] == 1 ? 0 : c[lead + a]) * mst[a];
      int64_t b = rank == 4 ? c[0] : c[0] / H, s = c[rank - 1];
      if (tr->index[off] != b * S + s)
        return {};
      for (int64_t a = rank - 1; a >= 0; --a) {
        if (++c[a] < scores[a])
          break;
        c[a] = 0;
      }
    }
    placeAfter({tr->source});
    return pk.reshape(tr->source, {B, S});
  }
};

} // namespace

/// The matcher and the rewrite in one: it builds the packed forms as it
/// matches them (through `created`, which sees each new op) and replaces
/// P·V's merged rows through `rewriter` only once everything matched.
static LogicalResult raiseAttention(SoftmaxOp softmax, Why &why,
                                    OpBuilder::Listener *created,
                                    RewriterBase &rewriter) {
  auto pt = softmax.getType();
  int64_t prank = pt.getRank();
  if ((prank != 3 && prank != 4) ||
      normalizeAxis(softmax.getAxis(), prank) != std::optional(prank - 1))
    return why << "softmax is not over the last axis of [B, H, T, S] or "
                  "[B·H, T, S] scores",
           failure();
  if (!softmax->hasOneUse())
    return why << "the attention probabilities have other users "
                  "(need_weights=True?)",
           failure();
  auto pv = dyn_cast<MatMulOp>(*softmax->getUsers().begin());
  if (!pv || pv.getLhs() != softmax.getResult())
    return why << "the probabilities do not multiply V", failure();
  int64_t T = pt.getDimSize(prank - 2), S = pt.getDimSize(prank - 1);

  // Scores: [masks]([scale](q·kᵀ)), in any order.
  Value scores = softmax.getInput();
  bool causal = false;
  double scale = 1.0;
  SmallVector<Value> keyMasks;
  // Constant terms and the shape of the view they are added at (the
  // scores may be reshaped, e.g. to [B/G, G, H, T, S] for window masks).
  SmallVector<std::pair<Value, RankedTensorType>> constTerms;
  bool inView = false; // below a reshape of the scores
  while (!def<MatMulOp>(scores)) {
    if (auto r = def<ReshapeOp>(scores)) {
      if (!r->hasOneUse())
        return why << "the reshaped scores have other users", failure();
      scores = r.getInput();
      inView = true;
      continue;
    }
    if (auto where = def<WhereOp>(scores); where && !inView) {
      DenseElementsAttr cond;
      auto fill = splatValue(where.getRhs());
      if (!matchPattern(where.getCondition(), m_Constant(&cond)) || !fill ||
          *fill > -1e30 || where.getLhs().getType() != where.getType())
        return why << "a Where on the scores that is not a constant mask "
                      "filling -inf / finfo.min",
               failure();
      SmallVector<bool> allowed(cond.getValues<bool>());
      if (!isCausal(allowed, cond.getType().getShape(), T, S))
        return why << "the constant mask is not causal (only causal "
                      "constant masks are raised)",
               failure();
      causal = true;
      scores = where.getLhs();
      continue;
    }
    if (auto add = def<AddOp>(scores)) {
      Value s = add.getLhs(), m = add.getRhs();
      if (!reachesScores(s) || s.getType() != add.getType())
        std::swap(s, m);
      if (!reachesScores(s) || s.getType() != add.getType())
        return why << "an addition to the scores whose operands both or "
                      "neither come from q·kᵀ",
               failure();
      scores = s;
      if (!isConstant(m)) {
        if (inView)
          return why << "a run-time mask added to reshaped scores",
                 failure();
        keyMasks.push_back(m);
        continue;
      }
      auto vals = floatValues(m);
      if (!vals)
        return why << "a constant added to the scores that is not float",
               failure();
      SmallVector<bool> allowed;
      bool allZero = true, binary = true;
      for (float x : *vals) {
        binary &= x == 0.0f || x <= -1e30f;
        allowed.push_back(x == 0.0f);
        allZero &= x == 0.0f;
      }
      if (allZero)
        continue;
      if (!inView && binary && isCausal(allowed, tensorType(m).getShape(), T, S))
        causal = true;
      else
        constTerms.push_back({m, add.getType()}); // a bias, or per key
      continue;
    }
    if (auto mul = def<MulOp>(scores)) {
      if (auto c = splatValue(mul.getRhs()); c && mul.getLhs().getType() == mul.getType()) {
        scale *= *c;
        scores = mul.getLhs();
        continue;
      }
      if (auto c = splatValue(mul.getLhs()); c && mul.getRhs().getType() == mul.getType()) {
        scale *= *c;
        scores = mul.getRhs();
        continue;
      }
    }
    if (auto div = def<DivOp>(scores)) {
      if (auto c = splatValue(div.getRhs());
          c && *c != 0 && div.getLhs().getType() == div.getType()) {
        scale /= *c;
        scores = div.getLhs();
        continue;
      }
    }
    Operation *d = scores.getDefiningOp();
    return why << "the scores are not Q·Kᵀ [+ mask] [· scale] (met "
               << (d ? d->getName().getStringRef() : StringRef("an argument"))
               << ")",
           failure();
  }
  auto qk = def<MatMulOp>(scores);
  if (tensorType(qk.getResult()).getShape() != pt.getShape())
    return why << "the scores are broadcast before the softmax", failure();
  // The constant terms summed at the scores' shape (each broadcast to the
  // view it was added at; a reshape keeps the element order).
  std::vector<float> dense;
  const int64_t N = numel(pt.getShape());
  if (!constTerms.empty()) {
    if (N > (int64_t(1) << 26))
      return why << "a constant bias on " << N
                 << " scores (too large to carry)",
             failure();
    dense.assign(N, 0.0f);
    for (auto &[m, view] : constTerms) {
      auto vals = floatValues(m);
      SmallVector<int64_t> vs(view.getShape());
      ArrayRef<int64_t> ms = tensorType(m).getShape();
      if (!vals || numel(vs) != N || ms.size() > vs.size())
        return why << "a constant added to the scores that does not "
                      "broadcast to them",
               failure();
      SmallVector<int64_t> mst = stridesOf(ms), c(vs.size(), 0);
      int64_t lead = vs.size() - ms.size();
      for (int64_t k = 0; k < N; ++k) {
        int64_t off = 0;
        for (int64_t a = 0; a < int64_t(ms.size()); ++a)
          off += (ms[a] == 1 ? 0 : c[lead + a]) * mst[a];
        dense[k] += (*vals)[off];
        for (int64_t a = int64_t(vs.size()) - 1; a >= 0; --a) {
          if (++c[a] < vs[a])
            break;
          c[a] = 0;
        }
      }
    }
  }

  // The output: P·V's heads merged back into rows, batch- or
  // sequence-first, by the longest chain of single-use layout ops.
  SmallVector<Value> outs = layoutChainFrom(pv.getResult());
  if (outs.empty())
    return why << "P·V is not merged back into [B, T, H·d] rows", failure();

  // Everything is built right after P·V: every source dominates it.
  OpBuilder b(pv->getContext(), created);
  b.setInsertionPointAfter(pv);
  Packer pk{b, softmax.getLoc(), llvm::DenseMap<Value, Value>()};
  auto q = matchHeads(qk.getLhs(), false, pk, why, "query");
  if (!q)
    return failure();
  auto k = matchHeads(qk.getRhs(), true, pk, why, "key");
  if (!k)
    return failure();
  auto v = matchHeads(pv.getRhs(), false, pk, why, "value");
  if (!v)
    return failure();
  if (q->kvHeads != q->heads)
    return why << "the query heads repeat", failure();
  if (k->heads != q->heads || v->heads != q->heads ||
      k->kvHeads != v->kvHeads || k->batch != q->batch ||
      v->batch != q->batch || k->tokens != v->tokens ||
      q->tokens != T || k->tokens != S || k->dim != q->dim)
    return why << "query, key and value heads do not agree (heads "
               << q->heads << "/" << k->heads << "/" << v->heads
               << ", batch " << q->batch << "/" << k->batch << "/"
               << v->batch << ")",
           failure();
  if (v->scale != 1.0)
    return why << "the values are scaled", failure();
  int64_t B = q->batch, H = q->heads, dv = v->dim;

  // The dense bias: the same for every head and query, it is a per-key
  // term like a padding mask (cheaper); otherwise [G, H, T, S] for the
  // smallest period G of the batch rows.
  Value bias, constKeyBias;
  if (!dense.empty()) {
    const int64_t rows = B, per = N / rows; // per batch row: H·T·S
    bool perKey = true;
    for (int64_t k = 0; k < N && perKey; ++k)
      perKey = dense[k] == dense[(k / per) * per + k % S];
    auto f32 = pt.getElementType();
    if (perKey) {
      std::vector<float> kb(B * S);
      for (int64_t r = 0; r < B; ++r)
        std::copy_n(dense.begin() + r * per, S, kb.begin() + r * S);
      auto type = RankedTensorType::get({B, S}, f32);
      constKeyBias = b.create<arith::ConstantOp>(
          pk.loc, DenseElementsAttr::get(type, ArrayRef<float>(kb)));
    } else {
      int64_t G = rows;
      for (int64_t g = 1; g < rows; ++g) {
        if (rows % g)
          continue;
        if (std::equal(dense.begin() + g * per, dense.end(), dense.begin())) {
          G = g;
          break;
        }
      }
      auto type = RankedTensorType::get({G, H, T, S}, f32);
      bias = b.create<arith::ConstantOp>(
          pk.loc, DenseElementsAttr::get(
                      type, ArrayRef<float>(dense.data(), G * per)));
    }
  }

  // Per-key masks at [B, S].
  Value keyBias;
  for (Value m : keyMasks) {
    KeyTerm term{pk, pt.getShape(), B, H, S};
    OpBuilder::InsertionGuard guard(b);
    Value kb = term.build(m);
    if (!kb || tensorType(kb).getRank() != 2 ||
        !tensorType(kb).getElementType().isF32())
      return why << "a mask computed at run time that is not the same for "
                    "every head and query (run-time masks are raised as "
                    "per-key [B, S] padding terms; constant ones of any "
                    "shape as a bias)",
             failure();
    if (keyBias) {
      term.placeAfter({keyBias, kb});
      keyBias = b.create<AddOp>(pk.loc, keyBias, kb).getResult();
    } else {
      keyBias = kb;
    }
  }
  if (constKeyBias)
    keyBias = keyBias ? b.create<AddOp>(pk.loc, keyBias, constKeyBias)
                            .getResult()
                      : constKeyBias;

  // The output layout: element (b, t, h, i) of [B, T, H·dv] rows.
  Value out;
  bool outSeqFirst = false;
  for (Value cand : llvm::reverse(outs)) {
    auto tr = traceLayout(cand, false);
    if (!tr || tr->source != pv.getResult())
      continue;
    for (bool seqFirst : {false, true}) {
      if (seqFirst && B == 1)
        continue;
      bool ok = int64_t(tr->index.size()) == B * T * H * dv;
      for (int64_t k = 0, n = int64_t(tr->index.size()); k < n && ok; ++k) {
        int64_t i = k % dv, h = (k / dv) % H;
        int64_t row = k / (dv * H);
        int64_t bb = seqFirst ? row % B : row / T,
                t = seqFirst ? row / B : row % T;
        ok = tr->index[k] == ((bb * H + h) * T + t) * dv + i;
      }
      if (ok) {
        out = cand;
        outSeqFirst = seqFirst;
        break;
      }
    }
    if (out)
      break;
  }
  if (!out)
    return why << "P·V's heads are not merged back into batch-first or "
                  "sequence-first [B, T, H·d] rows",
           failure();
  double total = scale * q->scale * k->scale;
  int64_t headDim = q->dim;
  auto attnType = RankedTensorType::get({B, T, H * dv}, pt.getElementType());
  auto attn = b.create<AttentionOp>(
      softmax.getLoc(), attnType, q->packed, k->packed, v->packed, Value(),
      keyBias, bias, b.getI64IntegerAttr(H), b.getI64IntegerAttr(k->kvHeads),
      causal ? b.getUnitAttr() : UnitAttr(),
      std::abs(total * std::sqrt(double(headDim)) - 1.0) < 1e-5
          ? FloatAttr()
          : b.getF32FloatAttr(float(total)),
      UnitAttr());
  Value result = attn.getResult();
  if (outSeqFirst)
    result = pk.transpose(result, {1, 0, 2});
  result = pk.reshape(result, tensorType(out).getShape());
  rewriter.replaceAllUsesWith(out, result);
  return success();
}

namespace {

/// The ops a match has built so far.
struct CreatedOps : OpBuilder::Listener {
  SmallVector<Operation *> ops;
  void notifyOperationInserted(Operation *op,
                               OpBuilder::InsertPoint) override {
    ops.push_back(op);
  }
};

/// softmax(q·kᵀ·scale + mask)·v -> slim.attention. A failed match takes
/// back the ops it built (unseen by the driver, so the IR is as it was)
/// and says why; a successful one announces them to the driver.
struct RaiseAttentionPattern : OpRewritePattern<SoftmaxOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(SoftmaxOp softmax,
                                PatternRewriter &rewriter) const override {
    Why why;
    CreatedOps created;
    if (failed(raiseAttention(softmax, why, &created, rewriter))) {
      for (Operation *op : llvm::reverse(created.ops))
        op->erase();
      return rewriter.notifyMatchFailure(softmax, why.text);
    }
    if (OpBuilder::Listener *listener = rewriter.getListener())
      for (Operation *op : created.ops)
        listener->notifyOperationInserted(op, {});
    return success();
  }
};

} // namespace

void raise::populateAttentionPatterns(RewritePatternSet &patterns) {
  patterns.add<RaiseAttentionPattern>(patterns.getContext());
}

void raise::commuteRowPermutations(func::FuncOp func) {
  SmallVector<LinearOp> linears;
  func.walk([&](LinearOp op) { linears.push_back(op); });
  for (LinearOp lin : linears) {
    if (!lin->getBlock())
      continue;
    // Only a layout private to the linear moves: a permuted value that
    // others read (the residual stream of a sequence-first model) stays.
    bool privateChain = true;
    for (Value cur = lin.getInput();
         isa_and_nonnull<ReshapeOp, TransposeOp, SliceOp, BroadcastOp>(
             cur.getDefiningOp());
         cur = cur.getDefiningOp()->getOperand(0))
      privateChain &= cur.hasOneUse();
    if (!privateChain)
      continue;
    int64_t in = tensorType(lin.getInput()).getShape().back();
    int64_t outW = tensorType(lin.getResult()).getShape().back();
    auto inTrace = traceLayout(lin.getInput(), false);
    if (!inTrace || inTrace->source == lin.getInput() ||
        tensorType(inTrace->source).getShape().back() != in)
      continue;
    // Input rows: row r of the linear's input is row rowIn[r] of the
    // source, columns in place.
    int64_t rows = int64_t(inTrace->index.size()) / in;
    std::vector<int64_t> rowIn(rows);
    bool ok = true;
    for (int64_t r = 0; r < rows && ok; ++r) {
      rowIn[r] = inTrace->index[r * in] / in;
      for (int64_t c = 0; c < in && ok; ++c)
        ok = inTrace->index[r * in + c] == rowIn[r] * in + c;
    }
    // A permutation of all the source's rows (not a slice of them).
    if (!ok || tensorType(inTrace->source).getNumElements() != rows * in)
      continue;
    bool inOrder = true;
    for (int64_t r = 0; r < rows && inOrder; ++r)
      inOrder = rowIn[r] == r;
    if (inOrder) {
      // Only rows regrouped (a reshape, or a transpose of a size-1 axis):
      // the linear runs on the source and its result is reshaped.
      OpBuilder b(lin);
      auto nl = b.create<LinearOp>(lin.getLoc(), inTrace->source,
                                   lin.getWeight(), lin.getBias());
      nl.setActivationAttr(lin.getActivationAttr());
      Value r = nl.getResult();
      if (r.getType() != lin.getType())
        r = b.create<ReshapeOp>(lin.getLoc(), lin.getType(), r);
      lin.getResult().replaceAllUsesWith(r);
      continue;
    }
    // Follow the output's single-use layout chain; the longest prefix
    // whose rows come back in the source's order.
    SmallVector<Value> outs = layoutChainFrom(lin.getResult());
    if (!lin->hasOneUse())
      continue;
    for (Value y : llvm::reverse(outs)) {
      auto tr = traceLayout(y, false);
      if (!tr || tr->source != lin.getResult() ||
          tensorType(y).getShape().back() != outW)
        continue;
      bool identity = true;
      for (int64_t r = 0; r < rows && identity; ++r)
        for (int64_t c = 0; c < outW && identity; ++c) {
          int64_t src = tr->index[r * outW + c];
          identity = src % outW == c && rowIn[src / outW] == r;
        }
      if (!identity)
        continue;
      OpBuilder b(y.getContext());
      b.setInsertionPointAfterValue(y);
      Value x = inTrace->source;
      auto nl = b.create<LinearOp>(lin.getLoc(), x, lin.getWeight(),
                                   lin.getBias());
      nl.setActivationAttr(lin.getActivationAttr());
      Value r = nl.getResult();
      if (r.getType() != y.getType())
        r = b.create<ReshapeOp>(lin.getLoc(), y.getType(), r);
      y.replaceAllUsesWith(r);
      break;
    }
  }
}
