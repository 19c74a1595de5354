//===- ShapeUtils.h - shape helpers shared by slim ops ----------*- C++ -*-===//
//
// Small, dialect-independent helpers for static shapes: axis normalization,
// NumPy broadcasting and the `[a, b, c]` spelling used in diagnostics.
//
//===----------------------------------------------------------------------===//

#ifndef DIALECTS_SLIM_IR_SHAPEUTILS_H
#define DIALECTS_SLIM_IR_SHAPEUTILS_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallVector.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace mlir::slim {

/// Maps `axis` in [-rank, rank) into [0, rank); nullopt when out of range.
std::optional<int64_t> normalizeAxis(int64_t axis, int64_t rank);
/// A verified reduction's axes normalized into [0, rank) and sorted, as the
/// runtime's reduce kernels take them.
std::vector<int64_t> sortedAxes(llvm::ArrayRef<int64_t> axes, int64_t rank);

/// NumPy broadcast of two static shapes; nullopt when incompatible.
std::optional<llvm::SmallVector<int64_t>>
broadcastShapes(llvm::ArrayRef<int64_t> a, llvm::ArrayRef<int64_t> b);

/// True when `perm` holds each of 0..perm.size()-1 exactly once.
bool isPermutation(llvm::ArrayRef<int64_t> perm);

/// "[1, 128, 768]".
std::string formatShape(llvm::ArrayRef<int64_t> shape);

} // namespace mlir::slim

#endif // DIALECTS_SLIM_IR_SHAPEUTILS_H
