//===- RowSchedule.h - the schedule of the row-wise kernels ------*- C++ -*-===//
//
// Norms and softmax over the last axis of a row-major [rows, d] matrix
// (Halide dimensions (c, r)) share one schedule: a task per block of 8
// rows, the output row vectorized along c, and each per-row reduction
// computed once per row. Tails are guarded.
//
//===----------------------------------------------------------------------===//

#ifndef SLIM_CODEGEN_HALIDE_ROWSCHEDULE_H
#define SLIM_CODEGEN_HALIDE_ROWSCHEDULE_H

#include "Halide.h"

#include <initializer_list>

namespace slim::halide {

/// `vec`: the generator's natural_vector_size<float>().
inline void scheduleRowwise(Halide::Func output, Halide::Var c, Halide::Var r,
                            int vec,
                            std::initializer_list<Halide::Func> perRow) {
  using namespace Halide;
  Var ro("ro"), ri("ri");
  output.split(r, ro, ri, 8, TailStrategy::GuardWithIf)
      .parallel(ro)
      .vectorize(c, vec, TailStrategy::GuardWithIf);
  for (Func f : perRow)
    f.compute_at(output, ri);
}

/// The elementwise kernels over a flat buffer: chunks of 16 Ki elements are
/// the parallel tasks, vectorized, tails guarded.
inline void scheduleFlat(Halide::Func output, Halide::Var i, int vec) {
  using namespace Halide;
  Var io("io"), ii("ii");
  output.split(i, io, ii, 16384, TailStrategy::GuardWithIf)
      .parallel(io)
      .vectorize(ii, vec, TailStrategy::GuardWithIf);
}

} // namespace slim::halide

#endif // SLIM_CODEGEN_HALIDE_ROWSCHEDULE_H
