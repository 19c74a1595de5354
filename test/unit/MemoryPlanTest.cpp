//===- MemoryPlanTest.cpp - arena planning --------------------------------===//

#include "codegen/llvm/MemoryPlan.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>

using mlir::slim::BufferLifetime;
using mlir::slim::MemoryPlan;
using mlir::slim::planMemory;

// Tests that buffers whose lifetimes do not meet share bytes: a chain
// a -> b -> c where each is read only by the next needs two slots.
TEST(MemoryPlan, ChainReusesSlots) {
  std::vector<BufferLifetime> chain = {{0, 1, 100}, {1, 2, 100}, {2, 3, 100}};
  MemoryPlan plan = planMemory(chain, 64);
  ASSERT_EQ(plan.offsets.size(), 3u);
  EXPECT_EQ(plan.offsets[0], plan.offsets[2]);
  EXPECT_NE(plan.offsets[0], plan.offsets[1]);
  EXPECT_EQ(plan.arenaBytes, 256);     // two slots of 128
  EXPECT_EQ(plan.unplannedBytes, 384); // three of 128
}

// Tests that no buffers make an empty arena.
TEST(MemoryPlan, Empty) {
  MemoryPlan plan = planMemory({}, 64);
  EXPECT_TRUE(plan.offsets.empty());
  EXPECT_EQ(plan.arenaBytes, 0);
}

// Tests on random lifetimes that buffers alive at one step never share a
// byte, offsets are aligned, everything fits in the arena, and the arena
// is no larger than the buffers without reuse but at least the bytes live
// at the busiest step.
TEST(MemoryPlan, RandomLifetimesNeverOverlap) {
  std::mt19937 rng(7);
  for (int round = 0; round < 50; ++round) {
    std::vector<BufferLifetime> bufs;
    int n = 1 + int(rng() % 40);
    for (int k = 0; k < n; ++k) {
      int64_t def = rng() % 30;
      bufs.push_back({def, def + int64_t(rng() % 8), 1 + int64_t(rng() % 5000)});
    }
    MemoryPlan plan = planMemory(bufs, 64);
    ASSERT_EQ(plan.offsets.size(), bufs.size());
    int64_t busiest = 0;
    for (int64_t step = 0; step < 40; ++step) {
      int64_t live = 0;
      for (const BufferLifetime &b : bufs)
        if (b.def <= step && step <= b.last)
          live += b.bytes;
      busiest = std::max(busiest, live);
    }
    for (size_t i = 0; i < bufs.size(); ++i) {
      EXPECT_EQ(plan.offsets[i] % 64, 0);
      EXPECT_LE(plan.offsets[i] + bufs[i].bytes, plan.arenaBytes);
      for (size_t j = i + 1; j < bufs.size(); ++j) {
        bool meet = !(bufs[i].last < bufs[j].def || bufs[j].last < bufs[i].def);
        bool share = plan.offsets[i] < plan.offsets[j] + bufs[j].bytes &&
                     plan.offsets[j] < plan.offsets[i] + bufs[i].bytes;
        EXPECT_FALSE(meet && share) << "round " << round << ": buffers " << i
                                    << " and " << j;
      }
    }
    EXPECT_LE(plan.arenaBytes, plan.unplannedBytes);
    EXPECT_GE(plan.arenaBytes, busiest);
  }
}
