//===- MemoryPlan.h - buffer lifetimes to arena offsets ---------*- C++ -*-===//
//
// The arena a compiled model computes in: buffers whose lifetimes overlap
// get distinct bytes, the others share them. Interval graph -> sequential
// vertex colouring (largest buffers first, so small ones fill in around
// them) -> one slot per colour, as large as its largest buffer.
//
//===----------------------------------------------------------------------===//

#ifndef CODEGEN_LLVM_MEMORYPLAN_H
#define CODEGEN_LLVM_MEMORYPLAN_H

#include <cstdint>
#include <vector>

namespace mlir::slim {

/// A buffer written at step `def` and last read at step `last` (both
/// included), of `bytes` bytes.
struct BufferLifetime {
  int64_t def, last, bytes;
};

struct MemoryPlan {
  /// The byte offset of each buffer, a multiple of `align`.
  std::vector<int64_t> offsets;
  /// The arena's size: the sum of the slots, each rounded up to `align`.
  int64_t arenaBytes = 0;
  /// The bytes without reuse (each buffer rounded up to `align`).
  int64_t unplannedBytes = 0;
};

/// Buffers whose [def, last] intervals intersect never share a byte.
MemoryPlan planMemory(const std::vector<BufferLifetime> &buffers,
                      int64_t align);

} // namespace mlir::slim

#endif // CODEGEN_LLVM_MEMORYPLAN_H
