//===- EmitEinsum.cpp - ONNX Einsum as transposes, sums and a matmul ------===//
//
// Einsum with one or two operands and no index repeated inside an operand
// (what models write: batched products, attention scores, transposes,
// sums). Indices only one operand has and the output lacks are summed
// first; then A is laid out as [batch..., kept, contracted] and B as
// [batch..., contracted, kept], multiplied by one batched slim.matmul, and
// the product is transposed into the output's order. `...` stands for the same
// leading axes in every operand (aligned from the right). slim-raise then
// reads the matmuls like any others, attention included.
//
//===----------------------------------------------------------------------===//

#include "importers/onnx/OnnxImporter.h"

#include "dialects/slim/IR/ShapeUtils.h"

#include "llvm/ADT/STLExtras.h"

using namespace mlir;
using namespace mlir::slim;
using namespace mlir::slim::onnx_import;

namespace {

/// An operand and the index of each of its axes.
struct Term {
  Value v;
  std::string labels;
};

} // namespace

LogicalResult NodeEmitter::emitEinsum() {
  const onnx::AttributeProto *attr = findAttr(n, "equation");
  if (!attr)
    return unsupported("the equation attribute is missing");
  std::string eq;
  for (char c : attr->s())
    if (c != ' ')
      eq += c;
  int operands = n.input_size();
  if (operands < 1 || operands > 2)
    return unsupported("only one or two operands are supported, not " +
                       std::to_string(operands));
  if (failed(requireF32(inputs())))
    return failure();
  size_t arrow = eq.find("->");
  std::string lhs = eq.substr(0, arrow);
  std::optional<std::string> rhs;
  if (arrow != std::string::npos)
    rhs = eq.substr(arrow + 2);
  SmallVector<StringRef> parts;
  StringRef(lhs).split(parts, ',');
  if (int(parts.size()) != operands)
    return unsupported("equation '" + eq + "' has " +
                       std::to_string(parts.size()) + " terms for " +
                       std::to_string(operands) + " operands");
  // `...`: digits stand for its axes, aligned from the right.
  int64_t ellipsisRank = 0;
  SmallVector<Term, 2> terms;
  for (int k = 0; k < operands; ++k) {
    Value v = in(k);
    int64_t rank = typeOf(v).getRank();
    std::string t = parts[k].str();
    size_t dots = t.find("...");
    int64_t letters = int64_t(t.size()) - (dots == std::string::npos ? 0 : 3);
    if (dots != std::string::npos) {
      int64_t e = rank - letters;
      if (e < 0 || e > 10)
        return unsupported("term '" + t + "' does not fit operand " +
                           std::to_string(k) + " of rank " +
                           std::to_string(rank));
      ellipsisRank = std::max(ellipsisRank, e);
      std::string digits;
      for (int64_t i = 0; i < e; ++i)
        digits += char('0' + (10 - e + i));
      t = t.substr(0, dots) + digits + t.substr(dots + 3);
    }
    if (int64_t(t.size()) != rank || !llvm::all_of(t, [](char c) {
          return std::isalpha(c) || std::isdigit(c);
        }))
      return unsupported("term '" + parts[k].str() + "' does not fit operand " +
                         std::to_string(k) + " of rank " +
                         std::to_string(rank));
    for (size_t i = 0; i < t.size(); ++i)
      if (t.find(t[i], i + 1) != std::string::npos)
        return unsupported(std::string("index '") + t[i] +
                           "' is repeated within term '" + parts[k].str() +
                           "' (a diagonal); only distinct indices are "
                           "supported");
    terms.push_back({v, t});
  }
  std::string ellipsis;
  for (int64_t i = 0; i < ellipsisRank; ++i)
    ellipsis += char('0' + (10 - ellipsisRank + i));
  // The output's indices: given, or `...` then the letters used once, in
  // alphabetical order.
  std::string out;
  if (rhs) {
    size_t dots = rhs->find("...");
    out = dots == std::string::npos
              ? *rhs
              : rhs->substr(0, dots) + ellipsis + rhs->substr(dots + 3);
  } else {
    std::map<char, int> uses;
    for (const Term &t : terms)
      for (char c : t.labels)
        if (std::isalpha(c))
          ++uses[c];
    out = ellipsis;
    for (auto [c, count] : uses)
      if (count == 1)
        out += c;
  }
  // Every index has one extent.
  std::map<char, int64_t> extent;
  for (const Term &t : terms)
    for (size_t i = 0; i < t.labels.size(); ++i) {
      int64_t d = typeOf(t.v).getDimSize(i);
      auto [it, fresh] = extent.try_emplace(t.labels[i], d);
      if (!fresh && it->second != d)
        return unsupported(std::string("index '") + t.labels[i] +
                           "' has extents " + std::to_string(it->second) +
                           " and " + std::to_string(d) +
                           " (broadcasting is not supported)");
    }
  for (char c : out)
    if (!extent.count(c) || out.find(c) != out.rfind(c))
      return unsupported("output '" + out + "' names an index no operand "
                         "has, or one twice");
  Type f32 = typeOf(terms[0].v).getElementType();
  auto shapeOf = [&](StringRef labels) {
    SmallVector<int64_t> s;
    for (char c : labels)
      s.push_back(extent[c]);
    return s;
  };
  // Sums `t` over the indices in `drop`.
  auto sumOver = [&](Term &t, StringRef drop) -> LogicalResult {
    SmallVector<int64_t> axes;
    std::string kept;
    for (size_t i = 0; i < t.labels.size(); ++i)
      (drop.contains(t.labels[i]) ? (void)axes.push_back(int64_t(i))
                                  : (void)(kept += t.labels[i]));
    if (axes.empty())
      return success();
    auto r = build<ReduceOp>(
        loc, {t.v},
        {b.getNamedAttr("kind",
                        ReduceKindAttr::get(b.getContext(), ReduceKind::sum)),
         b.getNamedAttr("axes", b.getDenseI64ArrayAttr(axes)),
         b.getNamedAttr("keepdims", b.getBoolAttr(false))});
    if (failed(r))
      return failure();
    t = {(*r)->getResult(0), kept};
    return success();
  };
  // Transposes `t` into the order `labels`.
  auto permute = [&](Term &t, StringRef labels) -> LogicalResult {
    if (t.labels == labels)
      return success();
    SmallVector<int64_t> perm;
    for (char c : labels)
      perm.push_back(int64_t(t.labels.find(c)));
    auto r = build<TransposeOp>(
        loc, {t.v},
        {b.getNamedAttr("permutation", b.getDenseI64ArrayAttr(perm))});
    if (failed(r))
      return failure();
    t = {(*r)->getResult(0), labels.str()};
    return success();
  };
  auto reshape = [&](Value v, ArrayRef<int64_t> shape) -> Value {
    auto type = RankedTensorType::get(shape, f32);
    return v.getType() == type ? v : b.create<ReshapeOp>(loc, type, v).getResult();
  };
  auto has = [](StringRef s, char c) { return s.contains(c); };

  if (operands == 1) {
    Term t = terms[0];
    std::string drop;
    for (char c : t.labels)
      if (!has(out, c))
        drop += c;
    if (failed(sumOver(t, drop)) || failed(permute(t, out)))
      return failure();
    return setValue(t.v);
  }
  Term a = terms[0], bt = terms[1];
  std::string dropA, dropB;
  for (char c : a.labels)
    if (!has(bt.labels, c) && !has(out, c))
      dropA += c;
  for (char c : bt.labels)
    if (!has(a.labels, c) && !has(out, c))
      dropB += c;
  if (failed(sumOver(a, dropA)) || failed(sumOver(bt, dropB)))
    return failure();
  std::string batch, contract, keepA, keepB;
  for (char c : out) {
    bool inA = has(a.labels, c), inB = has(bt.labels, c);
    (inA && inB ? batch : inA ? keepA : keepB) += c;
  }
  for (char c : a.labels)
    if (has(bt.labels, c) && !has(out, c))
      contract += c;
  auto product = [&](StringRef labels) {
    int64_t p = 1;
    for (char c : labels)
      p *= extent[c];
    return p;
  };
  if (failed(permute(a, batch + keepA + contract)) ||
      failed(permute(bt, batch + contract + keepB)))
    return failure();
  // The batch axes stay as they are (slim.matmul batches over leading
  // axes); the kept and contracted ones are merged into one each.
  int64_t m = product(keepA), kk = product(contract), nn = product(keepB);
  SmallVector<int64_t> as = shapeOf(batch), bs = shapeOf(batch);
  as.append({m, kk});
  bs.append({kk, nn});
  auto mm = build<MatMulOp>(loc, {reshape(a.v, as), reshape(bt.v, bs)});
  if (failed(mm))
    return failure();
  Term r{reshape((*mm)->getResult(0), shapeOf(batch + keepA + keepB)),
         batch + keepA + keepB};
  if (failed(permute(r, out)))
    return failure();
  return setValue(r.v);
}
