//===- ShapeUtilsTest.cpp - tests for dialects/slim/IR/ShapeUtils ---------===//

#include "dialects/slim/IR/ShapeUtils.h"

#include <gtest/gtest.h>

using namespace mlir::slim;

TEST(ShapeUtils, NormalizeAxis) {
  EXPECT_EQ(normalizeAxis(-1, 3), 2);
  EXPECT_EQ(normalizeAxis(0, 3), 0);
  EXPECT_EQ(normalizeAxis(-3, 3), 0);
  EXPECT_FALSE(normalizeAxis(3, 3));
  EXPECT_FALSE(normalizeAxis(-4, 3));
  EXPECT_FALSE(normalizeAxis(0, 0));
}

TEST(ShapeUtils, Broadcast) {
  using V = llvm::SmallVector<int64_t>;
  EXPECT_EQ(*broadcastShapes({1, 8, 64}, {64}), (V{1, 8, 64}));
  EXPECT_EQ(*broadcastShapes({8, 1}, {1, 5}), (V{8, 5}));
  EXPECT_EQ(*broadcastShapes({}, {2, 3}), (V{2, 3}));
  EXPECT_EQ(*broadcastShapes({1, 1, 8, 8}, {1, 12, 8, 8}), (V{1, 12, 8, 8}));
  EXPECT_FALSE(broadcastShapes({1, 8}, {3}));
  EXPECT_FALSE(broadcastShapes({2, 4}, {3, 4}));
}

TEST(ShapeUtils, Permutation) {
  EXPECT_TRUE(isPermutation({0, 2, 1, 3}));
  EXPECT_TRUE(isPermutation({}));
  EXPECT_FALSE(isPermutation({0, 0, 1}));
  EXPECT_FALSE(isPermutation({0, 3, 1}));
  EXPECT_FALSE(isPermutation({-1, 0}));
}

TEST(ShapeUtils, Format) {
  EXPECT_EQ(formatShape({1, 128, 768}), "[1, 128, 768]");
  EXPECT_EQ(formatShape({}), "[]");
}
