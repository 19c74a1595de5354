//===- Fold.cpp - ONNX nodes evaluated at import time --------------------===//
//
// Nodes whose inputs are all known at import time (shape computations,
// masks, position tables, relative-position indices) are evaluated here on
// host tensors; the registry (Registry.cpp) says which member folds which
// op type. Constant, Shape and Size fold whatever their inputs.
//
//===----------------------------------------------------------------------===//

#include "importers/onnx/OnnxImporter.h"

#include "dialects/slim/IR/ShapeUtils.h"

#include <cmath>
#include <numeric>

using namespace mlir;
using namespace mlir::slim;
using namespace mlir::slim::onnx_import;

bool NodeFolder::tooLarge(ArrayRef<int64_t> shape) {
  int64_t count = 1;
  for (int64_t d : shape) {
    if (d < 0 || (d && count > (int64_t(1) << 28) / d))
      return true;
    count *= d;
  }
  return false;
}

LogicalResult NodeFolder::run(Fn fn, bool anyInputs) {
  folded = false;
  if (!fn)
    return success();
  if (anyInputs)
    return (this->*fn)();
  // Every other op folds only when all of its inputs are known.
  for (const auto &name : n.input())
    if (!name.empty() && !constant(name))
      return success();
  for (const auto &name : n.input())
    in.push_back(name.empty() ? nullptr : constant(name));
  if (in.empty() || !in[0])
    return success();
  // Shape parameters (axes, starts, shapes, indices, pads) must be
  // integers; Pad's fill value may be anything.
  static const llvm::StringSet<> intParams = {
      "Unsqueeze", "Squeeze", "Reshape",         "Expand", "Slice",
      "Gather",    "Trilu",   "ConstantOfShape", "Pad"};
  if (intParams.contains(op)) {
    size_t first = op == "ConstantOfShape" ? 0 : 1;
    for (size_t k = first; k < in.size(); ++k)
      if (in[k] && in[k]->isFloat() && !(op == "Pad" && k == 2))
        return error(loc) << op << ": input " << k
                          << " must be an integer tensor";
  }
  return (this->*fn)();
}

/// Constant.
LogicalResult NodeFolder::foldConstant() {
  HostTensor t;
  if (const auto *a = findAttr(n, "value")) {
    if (failed(readTensor(a->t(), t, loc)))
      return failure();
  } else if (const auto *a = findAttr(n, "value_float")) {
    t.dtype = onnx::TensorProto::FLOAT;
    t.f = {a->f()};
  } else if (const auto *a = findAttr(n, "value_int")) {
    t.dtype = onnx::TensorProto::INT64;
    t.i = {a->i()};
  } else if (const auto *a = findAttr(n, "value_ints")) {
    t.dtype = onnx::TensorProto::INT64;
    t.i.assign(a->ints().begin(), a->ints().end());
    t.shape = {int64_t(t.i.size())};
  } else if (const auto *a = findAttr(n, "value_floats")) {
    t.dtype = onnx::TensorProto::FLOAT;
    t.f.assign(a->floats().begin(), a->floats().end());
    t.shape = {int64_t(t.f.size())};
  } else {
    return error(loc) << "Constant node '" << n.name()
                      << "' has no supported value attribute";
  }
  consts[n.output(0)] = std::move(t);
  folded = true;
  return success();
}

/// Shape.
/// The static shape of input 0, a known or a run-time value.
std::vector<int64_t> NodeFolder::inputShape() {
  if (const HostTensor *c = constant(n.input(0)))
    return c->shape;
  auto s = cast<RankedTensorType>(values[n.input(0)].getType()).getShape();
  return std::vector<int64_t>(s.begin(), s.end());
}

LogicalResult NodeFolder::foldShape() {
  std::vector<int64_t> shape = inputShape();
  int64_t rank = shape.size();
  int64_t start = normAxis(intAttr(n, "start", 0), rank);
  int64_t end = normAxis(intAttr(n, "end", rank), rank);
  start = std::clamp<int64_t>(start, 0, rank);
  end = std::clamp<int64_t>(end, start, rank);
  HostTensor t;
  t.dtype = onnx::TensorProto::INT64;
  t.i.assign(shape.begin() + start, shape.begin() + end);
  t.shape = {end - start};
  consts[n.output(0)] = std::move(t);
  folded = true;
  return success();
}

/// Size: the element count of a run-time or known input, whose shape is
/// static.
LogicalResult NodeFolder::foldSize() {
  std::vector<int64_t> shape = inputShape();
  HostTensor t;
  t.dtype = onnx::TensorProto::INT64;
  t.i = {std::accumulate(shape.begin(), shape.end(), int64_t(1),
                         std::multiplies<int64_t>())};
  t.shape = {};
  consts[n.output(0)] = std::move(t);
  folded = true;
  return success();
}

/// Add, Sub, Mul, Div, Pow, Equal, Less, Greater, LessOrEqual, GreaterOrEqual,
/// And, Or, Mod.
LogicalResult NodeFolder::foldBinary() {
  static const llvm::StringSet<> predicates = {
      "Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual", "And", "Or"};
  const HostTensor &x = *in[0], &y = *in[1];
  auto shape = broadcastShapes(x.shape, y.shape);
  if (!shape)
    return error(loc) << op << " node '" << n.name()
                      << "': shapes are not broadcast-compatible";
  if (n.input_size() != 2 || !in[1])
    return error(loc) << op << " node '" << n.name() << "' needs two inputs";
  out.dtype = predicates.contains(op) ? onnx::TensorProto::BOOL : x.dtype;
  bool fmod = intAttr(n, "fmod", 0) != 0;
  out.shape.assign(shape->begin(), shape->end());
  out.resize(out.size());
  bool integer = !x.isFloat();
  // Integer arithmetic in int64, wrapping as two's complement (exporters
  // use INT64_MAX as "to the end", which a double cannot hold exactly).
  if (integer && !y.isFloat() &&
      llvm::is_contained({"Add", "Sub", "Mul", "Div", "Mod"}, op)) {
    forEachIndex(out.shape, [&](const std::vector<int64_t> &idx, int64_t k) {
      uint64_t a = uint64_t(x.i[broadcastIndex(x.shape, idx)]);
      uint64_t c = uint64_t(y.i[broadcastIndex(y.shape, idx)]);
      int64_t sa = int64_t(a), sc = int64_t(c), r = 0;
      if (op == "Add")
        r = int64_t(a + c);
      else if (op == "Sub")
        r = int64_t(a - c);
      else if (op == "Mul")
        r = int64_t(a * c);
      else if (sc == 0)
        r = 0; // as the float path folds x / 0 for integers
      else if (sc == -1)
        r = op == "Div" ? int64_t(0 - a) : 0; // MIN / -1 wraps
      else if (op == "Div")
        r = sa / sc;
      else if ((r = sa % sc) != 0 && !fmod && ((r < 0) != (sc < 0)))
        r += sc; // Mod takes the divisor's sign unless fmod
      out.i[k] = r;
    });
    return done();
  }
  forEachIndex(out.shape, [&](const std::vector<int64_t> &idx, int64_t k) {
    double a = x.at(broadcastIndex(x.shape, idx));
    double c = y.at(broadcastIndex(y.shape, idx));
    double r = 0;
    if (op == "Add")
      r = a + c;
    else if (op == "Sub")
      r = a - c;
    else if (op == "Mul")
      r = a * c;
    else if (op == "Div")
      r = integer ? (c == 0 ? 0 : std::trunc(a / c)) : a / c;
    else if (op == "Pow")
      r = std::pow(a, c);
    else if (op == "Mod")
      r = c == 0 ? 0 : fmod ? std::fmod(a, c) : a - std::floor(a / c) * c;
    else if (op == "Less")
      r = a < c;
    else if (op == "Greater")
      r = a > c;
    else if (op == "LessOrEqual")
      r = a <= c;
    else if (op == "GreaterOrEqual")
      r = a >= c;
    else if (op == "And")
      r = a != 0 && c != 0;
    else if (op == "Or")
      r = a != 0 || c != 0;
    else
      r = a == c;
    out.set(k, r);
  });
  return done();
}

/// CumSum.
LogicalResult NodeFolder::foldCumSum() {
  // Running sums along a known axis (positions from a mask of known
  // values); exclusive and reverse as ONNX defines them.
  const HostTensor &x = *in[0];
  if (n.input_size() < 2 || !in[1] || in[1]->size() != 1)
    return error(loc) << "CumSum node '" << n.name() << "' needs a scalar axis";
  int64_t rank = x.shape.size();
  int64_t axis = int64_t(in[1]->at(0));
  if (axis < -rank || axis >= rank)
    return error(loc) << "CumSum node '" << n.name() << "': axis " << axis
                      << " is out of range for rank " << rank;
  axis = normAxis(axis, rank);
  bool exclusive = intAttr(n, "exclusive", 0) != 0;
  bool reverse = intAttr(n, "reverse", 0) != 0;
  out = x;
  int64_t len = x.shape[axis], inner = 1;
  for (int64_t d = axis + 1; d < rank; ++d)
    inner *= x.shape[d];
  int64_t outer = len ? x.size() / (len * inner) : 0;
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      double acc = 0;
      for (int64_t step = 0; step < len; ++step) {
        int64_t j = reverse ? len - 1 - step : step;
        int64_t k = (o * len + j) * inner + i;
        double v = x.at(k);
        out.set(k, exclusive ? acc : acc + v);
        acc += v;
      }
    }
  return done();
}

/// Neg, Not, Sqrt, Reciprocal, Relu, Cos, Sin, Exp, Tanh, Erf, Sigmoid.
LogicalResult NodeFolder::foldUnary() {
  out = *in[0];
  for (int64_t k = 0; k < out.size(); ++k) {
    double v = out.at(k);
    out.set(k, op == "Neg"       ? -v
               : op == "Not"     ? double(v == 0)
               : op == "Sqrt"    ? std::sqrt(v)
               : op == "Relu"    ? std::max(v, 0.0)
               : op == "Cos"     ? std::cos(v)
               : op == "Sin"     ? std::sin(v)
               : op == "Exp"     ? std::exp(v)
               : op == "Tanh"    ? std::tanh(v)
               : op == "Erf"     ? std::erf(v)
               : op == "Sigmoid" ? 1.0 / (1.0 + std::exp(-v))
                                 : 1.0 / v);
  }
  return done();
}

/// Cast.
LogicalResult NodeFolder::foldCast() {
  int32_t to = intAttr(n, "to", 0);
  if (to != onnx::TensorProto::FLOAT && !isIntType(to))
    return success(); // leave it to the emitter, which reports it
  out.dtype = to;
  out.shape = in[0]->shape;
  out.resize(out.size());
  for (int64_t k = 0; k < out.size(); ++k) {
    double v = in[0]->at(k);
    out.set(k, to == onnx::TensorProto::BOOL ? double(v != 0) : v);
  }
  return done();
}

/// Identity.
LogicalResult NodeFolder::foldIdentity() {
  out = *in[0];
  return done();
}

/// ConstantOfShape.
LogicalResult NodeFolder::foldConstantOfShape() {
  out.dtype = onnx::TensorProto::FLOAT;
  double fill = 0;
  if (const auto *a = findAttr(n, "value")) {
    HostTensor v;
    if (failed(readTensor(a->t(), v, loc)))
      return failure();
    out.dtype = v.dtype;
    fill = v.size() ? v.at(0) : 0;
  }
  if (in[0]->shape.size() != 1)
    return error(loc) << "ConstantOfShape: the shape must be 1-D";
  out.shape = in[0]->i;
  if (tooLarge(out.shape))
    return error(loc) << "ConstantOfShape: shape " << formatShape(out.shape)
                      << " is negative or too large";
  out.resize(out.size());
  for (int64_t k = 0; k < out.size(); ++k)
    out.set(k, fill);
  return done();
}

/// Range.
LogicalResult NodeFolder::foldRange() {
  if (in.size() != 3 || !in[1] || !in[2] || in[0]->size() != 1 ||
      in[1]->size() != 1 || in[2]->size() != 1)
    return error(loc) << "Range: start, limit and delta must be scalars";
  double start = in[0]->at(0), limit = in[1]->at(0), delta = in[2]->at(0);
  if (delta == 0)
    return error(loc) << "Range node '" << n.name() << "' has delta 0";
  double steps = std::ceil((limit - start) / delta);
  if (!(steps < double(1 << 28)))
    return error(loc) << "Range: too many elements";
  int64_t count = std::max<int64_t>(0, int64_t(steps));
  out.dtype = in[0]->dtype;
  out.shape = {count};
  out.resize(count);
  for (int64_t k = 0; k < count; ++k)
    out.set(k, start + k * delta);
  return done();
}

/// Unsqueeze, Squeeze.
LogicalResult NodeFolder::foldSqueezeLike() {
  [[maybe_unused]] const HostTensor &x = *in[0];
  [[maybe_unused]] int64_t rank = x.shape.size();
  std::vector<int64_t> axes;
  if (in.size() > 1 && in[1])
    axes = in[1]->i;
  out = x;
  if (op == "Unsqueeze") {
    int64_t outRank = rank + axes.size();
    for (int64_t &a : axes) {
      a = normAxis(a, outRank);
      if (a < 0 || a >= outRank)
        return error(loc) << "Unsqueeze: axis out of range";
    }
    std::sort(axes.begin(), axes.end());
    for (int64_t a : axes)
      out.shape.insert(out.shape.begin() + a, 1);
  } else {
    std::vector<int64_t> shape;
    for (int64_t d = 0; d < rank; ++d) {
      bool drop = axes.empty() ? x.shape[d] == 1
                               : llvm::is_contained(axes, d) ||
                                     llvm::is_contained(axes, d - rank);
      if (!drop)
        shape.push_back(x.shape[d]);
    }
    out.shape = shape;
  }
  return done();
}

/// Reshape.
LogicalResult NodeFolder::foldReshape() {
  [[maybe_unused]] const HostTensor &x = *in[0];
  [[maybe_unused]] int64_t rank = x.shape.size();
  out = x;
  out.shape = in[1]->i;
  int64_t known = 1, infer = -1;
  for (size_t d = 0; d < out.shape.size(); ++d) {
    if (out.shape[d] == 0 && !intAttr(n, "allowzero", 0)) {
      if (d >= x.shape.size())
        return error(loc) << "Reshape: shape entry 0 copies a missing axis";
      out.shape[d] = x.shape[d];
    }
    if (out.shape[d] == -1 && infer < 0)
      infer = d;
    else if (out.shape[d] < 0)
      return error(loc) << "Reshape: invalid shape " << formatShape(in[1]->i);
    else
      known *= out.shape[d];
  }
  if (infer >= 0)
    out.shape[infer] = known ? x.size() / known : 0;
  if (tooLarge(out.shape) || out.size() != x.size())
    return error(loc) << "Reshape node '" << n.name()
                      << "': element count changes";
  return done();
}

/// Expand.
LogicalResult NodeFolder::foldExpand() {
  [[maybe_unused]] const HostTensor &x = *in[0];
  [[maybe_unused]] int64_t rank = x.shape.size();
  auto shape = broadcastShapes(x.shape, in[1]->i);
  if (!shape)
    return error(loc) << "Expand node '" << n.name()
                      << "': shapes are not broadcast-compatible";
  out.dtype = x.dtype;
  out.shape.assign(shape->begin(), shape->end());
  if (tooLarge(out.shape))
    return error(loc) << "Expand: shape " << formatShape(out.shape)
                      << " is negative or too large";
  out.resize(out.size());
  forEachIndex(out.shape, [&](const std::vector<int64_t> &idx, int64_t k) {
    out.set(k, x.at(broadcastIndex(x.shape, idx)));
  });
  return done();
}

/// Where.
LogicalResult NodeFolder::foldWhere() {
  [[maybe_unused]] const HostTensor &x = *in[0];
  [[maybe_unused]] int64_t rank = x.shape.size();
  const HostTensor &c = *in[0], &p = *in[1], &q = *in[2];
  auto s1 = broadcastShapes(c.shape, p.shape);
  auto shape = s1 ? broadcastShapes(*s1, q.shape) : std::nullopt;
  if (!shape)
    return error(loc) << "Where node '" << n.name()
                      << "': shapes are not broadcast-compatible";
  out.dtype = p.dtype;
  out.shape.assign(shape->begin(), shape->end());
  out.resize(out.size());
  forEachIndex(out.shape, [&](const std::vector<int64_t> &idx, int64_t k) {
    bool cond = c.at(broadcastIndex(c.shape, idx)) != 0;
    out.set(k, cond ? p.at(broadcastIndex(p.shape, idx))
                    : q.at(broadcastIndex(q.shape, idx)));
  });
  return done();
}

/// Transpose.
LogicalResult NodeFolder::foldTranspose() {
  [[maybe_unused]] const HostTensor &x = *in[0];
  [[maybe_unused]] int64_t rank = x.shape.size();
  std::vector<int64_t> perm(rank);
  std::iota(perm.rbegin(), perm.rend(), 0);
  if (auto p = intsAttr(n, "perm"))
    perm = *p;
  if (int64_t(perm.size()) != rank || !isPermutation(perm))
    return error(loc) << "Transpose: perm " << formatShape(perm)
                      << " is not a permutation of the " << rank << " axes";
  out.dtype = x.dtype;
  for (int64_t p : perm)
    out.shape.push_back(x.shape[p]);
  out.resize(out.size());
  auto xs = strides(x.shape);
  forEachIndex(out.shape, [&](const std::vector<int64_t> &idx, int64_t k) {
    int64_t off = 0;
    for (int64_t d = 0; d < rank; ++d)
      off += idx[d] * xs[perm[d]];
    out.set(k, x.at(off));
  });
  return done();
}

/// Gather.
LogicalResult NodeFolder::foldGather() {
  [[maybe_unused]] const HostTensor &x = *in[0];
  [[maybe_unused]] int64_t rank = x.shape.size();
  int64_t axis = normAxis(intAttr(n, "axis", 0), rank);
  if (axis < 0 || axis >= rank)
    return error(loc) << "Gather: axis out of range";
  const HostTensor &ind = *in[1];
  out.dtype = x.dtype;
  out.shape.assign(x.shape.begin(), x.shape.begin() + axis);
  out.shape.insert(out.shape.end(), ind.shape.begin(), ind.shape.end());
  out.shape.insert(out.shape.end(), x.shape.begin() + axis + 1, x.shape.end());
  out.resize(out.size());
  int64_t outer = std::accumulate(x.shape.begin(), x.shape.begin() + axis,
                                  int64_t(1), std::multiplies<int64_t>());
  int64_t inner = std::accumulate(x.shape.begin() + axis + 1, x.shape.end(),
                                  int64_t(1), std::multiplies<int64_t>());
  int64_t k = 0;
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t j = 0; j < ind.size(); ++j) {
      int64_t idx = ind.i[j] < 0 ? ind.i[j] + x.shape[axis] : ind.i[j];
      if (idx < 0 || idx >= x.shape[axis])
        return error(loc) << "Gather node '" << n.name() << "': index "
                          << ind.i[j] << " is out of range";
      for (int64_t e = 0; e < inner; ++e)
        out.set(k++, x.at((o * x.shape[axis] + idx) * inner + e));
    }
  return done();
}

/// Concat.
LogicalResult NodeFolder::foldConcat() {
  [[maybe_unused]] const HostTensor &x = *in[0];
  [[maybe_unused]] int64_t rank = x.shape.size();
  int64_t axis = normAxis(intAttr(n, "axis", 0), rank);
  if (axis < 0 || axis >= rank)
    return error(loc) << "Concat: axis out of range";
  out.dtype = x.dtype;
  out.shape = x.shape;
  out.shape[axis] = 0;
  for (const HostTensor *t : in) {
    bool same = t->shape.size() == x.shape.size() && t->dtype == x.dtype;
    for (int64_t d = 0; same && d < rank; ++d)
      same = d == axis || t->shape[d] == x.shape[d];
    if (!same)
      return error(loc) << "Concat: inputs do not match";
    out.shape[axis] += t->shape[axis];
  }
  out.resize(out.size());
  int64_t outer = std::accumulate(x.shape.begin(), x.shape.begin() + axis,
                                  int64_t(1), std::multiplies<int64_t>());
  int64_t k = 0;
  for (int64_t o = 0; o < outer; ++o)
    for (const HostTensor *t : in) {
      int64_t chunk = t->size() / std::max<int64_t>(outer, 1);
      for (int64_t e = 0; e < chunk; ++e)
        out.set(k++, t->at(o * chunk + e));
    }
  return done();
}

/// Slice.
LogicalResult NodeFolder::foldSlice() {
  [[maybe_unused]] const HostTensor &x = *in[0];
  [[maybe_unused]] int64_t rank = x.shape.size();
  std::vector<int64_t> starts = in[1]->i, ends = in[2]->i, axes, steps;
  if (in.size() > 3 && in[3])
    axes = in[3]->i;
  else
    for (size_t a = 0; a < starts.size(); ++a)
      axes.push_back(a);
  if (in.size() > 4 && in[4])
    steps = in[4]->i;
  else
    steps.assign(starts.size(), 1);
  if (ends.size() != starts.size() || axes.size() != starts.size() ||
      steps.size() != starts.size())
    return error(loc) << "Slice: starts, ends, axes and steps differ in "
                         "length";
  std::vector<int64_t> off(rank, 0), step(rank, 1), shape = x.shape;
  for (size_t j = 0; j < axes.size(); ++j) {
    int64_t a = normAxis(axes[j], rank);
    if (a < 0 || a >= rank)
      return error(loc) << "Slice: axis out of range";
    int64_t dim = x.shape[a];
    int64_t st = steps[j];
    if (st == 0)
      return error(loc) << "Slice: step 0";
    // ONNX's clamping: [0, dim] going forward, [-1, dim - 1] backward
    // (exporters reverse lists with ends of -INT64_MAX).
    auto norm = [&](int64_t v) {
      return v < -dim ? -1 : v < 0 ? v + dim : std::min(v, dim);
    };
    int64_t s = norm(starts[j]), e = norm(ends[j]);
    if (st > 0) {
      s = std::clamp<int64_t>(s, 0, dim);
      e = std::clamp<int64_t>(e, 0, dim);
      shape[a] = e > s ? (e - s + st - 1) / st : 0;
    } else {
      s = std::clamp<int64_t>(s, 0, dim - 1);
      e = std::clamp<int64_t>(e, -1, dim - 1);
      shape[a] = s > e ? (s - e - st - 1) / -st : 0;
    }
    off[a] = s;
    step[a] = st;
  }
  out.dtype = x.dtype;
  out.shape = shape;
  out.resize(out.size());
  auto xs = strides(x.shape);
  forEachIndex(shape, [&](const std::vector<int64_t> &idx, int64_t k) {
    int64_t o = 0;
    for (int64_t d = 0; d < rank; ++d)
      o += (off[d] + idx[d] * step[d]) * xs[d];
    out.set(k, x.at(o));
  });
  return done();
}

/// ScatterND.
LogicalResult NodeFolder::foldScatterND() {
  [[maybe_unused]] const HostTensor &x = *in[0];
  [[maybe_unused]] int64_t rank = x.shape.size();
  // data[indices[j]] = updates[j]: the shift masks Swin builds by
  // slice assignment. Later updates win, as ONNX specifies for
  // duplicate indices without a reduction.
  if (findAttr(n, "reduction") && findAttr(n, "reduction")->s() != "none")
    return error(loc) << "ScatterND: only reduction 'none' is evaluated";
  if (in.size() != 3 || !in[1] || !in[2] || in[1]->isFloat())
    return error(loc) << "ScatterND: needs data, integer indices and "
                         "updates";
  const HostTensor &ix = *in[1], &up = *in[2];
  if (ix.shape.empty() || ix.shape.back() > rank)
    return error(loc) << "ScatterND: index tuples longer than the data's "
                         "rank";
  int64_t q = ix.shape.back();
  int64_t tuples = q ? ix.size() / q : 0, slab = 1;
  for (int64_t d = q; d < rank; ++d)
    slab *= x.shape[d];
  if (up.size() != tuples * slab)
    return error(loc) << "ScatterND: updates have " << up.size()
                      << " elements, the indices address " << tuples * slab;
  out = x;
  auto xs = strides(x.shape);
  for (int64_t t = 0; t < tuples; ++t) {
    int64_t off = 0;
    for (int64_t d = 0; d < q; ++d) {
      int64_t v = ix.i[t * q + d];
      v = v < 0 ? v + x.shape[d] : v;
      if (v < 0 || v >= x.shape[d])
        return error(loc) << "ScatterND: index " << ix.i[t * q + d]
                          << " is out of range for axis " << d;
      off += v * xs[d];
    }
    for (int64_t e = 0; e < slab; ++e)
      out.set(off + e, up.at(t * slab + e));
  }
  return done();
}

/// Pad.
LogicalResult NodeFolder::foldPad() {
  [[maybe_unused]] const HostTensor &x = *in[0];
  [[maybe_unused]] int64_t rank = x.shape.size();
  std::string mode =
      findAttr(n, "mode") ? findAttr(n, "mode")->s() : "constant";
  if (in.size() < 2 || !in[1] || int64_t(in[1]->size()) != 2 * rank)
    return error(loc) << "Pad: needs 2 x rank pads";
  if (mode != "constant")
    return error(loc) << "Pad: only constant padding is evaluated at "
                         "import time";
  double fill = in.size() > 2 && in[2] && in[2]->size() ? in[2]->at(0) : 0;
  const auto &pads = in[1]->i;
  out.dtype = x.dtype;
  out.shape = x.shape;
  for (int64_t d = 0; d < rank; ++d)
    out.shape[d] += pads[d] + pads[d + rank];
  if (tooLarge(out.shape))
    return error(loc) << "Pad: shape " << formatShape(out.shape)
                      << " is negative or too large";
  out.resize(out.size());
  auto xs = strides(x.shape);
  forEachIndex(out.shape, [&](const std::vector<int64_t> &idx, int64_t k) {
    int64_t o = 0;
    bool inside = true;
    for (int64_t d = 0; d < rank && inside; ++d) {
      int64_t v = idx[d] - pads[d];
      inside = v >= 0 && v < x.shape[d];
      o += v * xs[d];
    }
    out.set(k, inside ? x.at(o) : fill);
  });
  return done();
}

/// Trilu.
LogicalResult NodeFolder::foldTrilu() {
  [[maybe_unused]] const HostTensor &x = *in[0];
  [[maybe_unused]] int64_t rank = x.shape.size();
  if (rank < 2 || (in.size() > 1 && in[1] && in[1]->size() != 1))
    return error(loc) << "Trilu: needs a matrix and a scalar k";
  int64_t kdiag = in.size() > 1 && in[1] ? in[1]->i[0] : 0;
  bool upper = intAttr(n, "upper", 1);
  out = x;
  forEachIndex(x.shape, [&](const std::vector<int64_t> &idx, int64_t k) {
    int64_t r = idx[rank - 2], c = idx[rank - 1];
    bool keep = upper ? c - r >= kdiag : c - r <= kdiag;
    if (!keep)
      out.set(k, 0);
  });
  return done();
}
