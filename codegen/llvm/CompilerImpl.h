//===- CompilerImpl.h - one slim function's compilation ---------*- C++ -*-===//
//
// Private to codegen/llvm. The Compiler lowers one slim function (the model,
// or a generation step) to an LLVM-dialect function of kernel calls; its
// stages live in one file each:
//
//   ModelCompiler.cpp  the stage sequence: linearize the ops into steps,
//                      read slim-fuse-kernels' groups, emit the function,
//                      and the public entry points (object emission too);
//   WeightPlan.cpp     which constants go into the weight blob, packed how;
//   MemoryPlan.cpp     buffer lifetimes -> arena offsets (planMemory);
//   KernelCalls.cpp    the conversion patterns that turn each op into its
//                      kernel call (LLVM::CallOp);
//   CallEmission.cpp   what they build with (constants, buffer pointers,
//                      declarations, calls), then the status checks and
//                      profiler hooks around every call.
//
//===----------------------------------------------------------------------===//

#ifndef CODEGEN_LLVM_COMPILERIMPL_H
#define CODEGEN_LLVM_COMPILERIMPL_H

#include "reference/Executor.h"
#include "codegen/llvm/Glue.h"
#include "codegen/llvm/ModelCompiler.h"
#include "dialects/slim/IR/SlimOps.h"
#include "runtime/Kernels.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/OwningOpRef.h"
#include "mlir/IR/PatternMatch.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/StringMap.h"

#include <map>
#include <string>
#include <vector>

namespace mlir::slim::codegen {

namespace rt = ::slim::rt;

constexpr int64_t kAlign = 64;

inline int64_t alignUp(int64_t x) { return (x + kAlign - 1) / kAlign * kAlign; }

inline RankedTensorType tensorType(Value v) {
  return cast<RankedTensorType>(v.getType());
}

inline int64_t elemSize(Value v) {
  auto d = dtypeOf(tensorType(v).getElementType());
  return d ? int64_t(rt::dtypeSize(*d)) : 4;
}

inline int64_t byteSize(Value v) {
  return tensorType(v).getNumElements() * elemSize(v);
}

/// Where a value lives at run time.
struct Storage {
  enum Kind { Input, Arena, Weight, Output } kind;
  int64_t index = 0; // input or output number, or byte offset
};

/// One step of the linearized program: an op, or the add that closes a
/// residual (`residualAdd` set; its body's ops are the steps before it).
struct Step {
  Operation *op;
  bool residualAdd = false;
};

/// The identity of a weight: its blob (functions cloned from one another
/// and reshaped views share it) or, for inline constants, its attribute.
inline const void *weightKey(Value v) {
  auto cst = v.getDefiningOp<arith::ConstantOp>();
  if (auto res = dyn_cast<DenseResourceElementsAttr>(cst.getValue()))
    if (AsmResourceBlob *blob = res.getRawHandle().getBlob())
      return blob->getData().data();
  return cst.getValue().getAsOpaquePointer();
}

class Compiler {
public:
  /// `entry` is the symbol of the generated function; step functions
  /// (`withCache`) take the KV cache as a fifth argument.
  /// The source function is not modified: lowering consumes a copy.
  Compiler(func::FuncOp source, CompiledModel &out, GlueModule &glue,
           StringRef entry = "slim_model_compute", bool withCache = false)
      : ownedCopy(source.clone()), func(*ownedCopy),
        sourceModule(source->getParentOfType<ModuleOp>()), out(out),
        glue(glue), entry(entry), withCache(withCache) {}
  /// Plans buffers and weights and appends the LLVM-dialect code to `into`.
  LogicalResult lower(ModuleOp into);

private:
  LogicalResult linearize(Block &block);
  void collectGroups();
  void collectFusedResiduals();
  LogicalResult planWeights();
  void planArena();
  LogicalResult emitFunction(ModuleOp module);

  // Kernel-call lowering (KernelCalls.cpp): one conversion pattern per op
  // kind; each emits its op's kernel call where the op stands and erases
  // it. Buffers are the memory plan's (`storage`), not SSA values, so the
  // patterns do not read their adaptors' operands.
  template <typename OpTy> struct KernelCall;
  struct GlueCall;
  void populateKernelCallPatterns(RewritePatternSet &patterns);
  /// The profile entries of the steps (out.opNames / opFlops), in order,
  /// and the final copy of the outputs.
  void nameSteps();
  /// Points the helpers below at `op`: its location, its profile entry,
  /// the rewriter to build with.
  void begin(Operation *op, OpBuilder &builder);
  template <typename OpTy> LogicalResult lowerOp(OpTy op);
  /// A pattern's end: the lowered op erased, or, when its lowering failed
  /// (and said why), the op remembered as reported.
  LogicalResult finish(Operation *op, LogicalResult lowered,
                       RewriterBase &rewriter);
  LogicalResult lowerGlue(Operation *op);
  LogicalResult lowerNorm(Operation *op);
  LogicalResult lowerUnary(Operation *op);
  LogicalResult lowerGather(Operation *op, bool elements);
  /// After the conversion: brackets every kernel call with the profiler's
  /// hooks and branches to the error block when it returns non-zero.
  void checkCalls(LLVM::LLVMFuncOp fn);
  /// The buffer an op writes (a linear fused with its residual writes the
  /// residual's result).
  Value resultOf(Operation *op);

  // Codegen helpers (valid while a pattern runs).
  Value ptr(Value v);
  Value weightPtr(Value v, bool packed = false);
  Value i64(int64_t x);
  Value i32(int64_t x);
  Value f32(float x);
  Value shapeArray(ArrayRef<int64_t> values);
  Value nullPtr();
  Value rank(Value v); // i32 rank
  Value shp(Value v);  // its shape as a constant array
  Value opt(Value v);  // ptr(v), or null when absent
  LogicalResult call(StringRef kernel, ArrayRef<Value> args);
  LLVM::LLVMFuncOp declare(StringRef name, ArrayRef<Type> args);

  /// The value whose storage `v` shares (view reshapes share their input's;
  /// residual bodies were flattened, their block argument replaced by the
  /// residual's input).
  Value resolve(Value v) {
    for (;;) {
      Operation *def = v.getDefiningOp();
      if (!def || !viewReshapes.count(def))
        return v;
      v = def->getOperand(0); // a view of its input
    }
  }

  OwningOpRef<func::FuncOp> ownedCopy;
  func::FuncOp func; // that copy: lowering moves its ops into the LLVM code
  ModuleOp sourceModule; // the source function's module (may be null)
  CompiledModel &out;
  GlueModule &glue;
  std::string entry;
  bool withCache;
  std::vector<Step> steps;
  llvm::DenseMap<Operation *, int64_t> stepOf;     // op -> step index
  /// A qlinear group (slim-fuse-kernels' `group = n`): the first step
  /// runs them all (slim_k_qlinear_shared), the others' steps run nothing
  /// and their results live from the first's.
  llvm::DenseMap<Operation *, SmallVector<QLinearOp, 3>> sharedQLinears;
  llvm::DenseMap<Operation *, int64_t> sharedFrom; // member -> first step
  /// A `fused` residual (its add runs in the epilogue of the linear that
  /// computes its branch): linear -> residual. The linear writes the
  /// residual's result (which lives from the linear's step); the branch is
  /// never stored and the residual's step runs nothing.
  llvm::DenseMap<Operation *, ResidualOp> fusedResidual;
  llvm::DenseSet<Operation *> residualFused; // those residuals
  /// Reshapes marked `view` by slim-fuse-kernels that codegen can run as
  /// views: the result shares its input's storage (row-major data does not
  /// move), no kernel runs, and the input lives as long as the result is
  /// used. Not a reshape returned as an output (written into the caller's
  /// buffer) nor one of a constant.
  llvm::DenseSet<Operation *> viewReshapes;
  llvm::DenseMap<Value, Storage> storage;
  llvm::SmallPtrSet<Value, 16> packedWeights;
  /// Byte offset of each KV cache slot (slim.kv_attention).
  llvm::DenseMap<int64_t, int64_t> slotOffset;

  // Emission state.
  OpBuilder *b = nullptr;
  Location loc = UnknownLoc::get(func.getContext());
  ModuleOp llvmModule;
  Value argInputs, argOutputs, argArena, argWeights, argCache;
  llvm::DenseMap<int64_t, Value> outputPtrs;
  Block *errorBlock = nullptr;
  llvm::DenseMap<int64_t, Value> inputPtrs;
  llvm::StringMap<LLVM::LLVMFuncOp> declared;
  std::map<std::vector<int64_t>, LLVM::GlobalOp> shapeGlobals;
  /// Profile entry of step 0 (entry points share out.opNames), and the
  /// current op's.
  int64_t profileBase = 0;
  int64_t profileIndex = 0;
  /// An op whose pattern reported why it cannot be lowered (the fallback
  /// pattern then says nothing more of it).
  llvm::DenseSet<Operation *> reported;
  /// Every op a pattern lowered (the driver must not have folded a step
  /// away behind the memory plan's back).
  llvm::DenseSet<Operation *> lowered;
};

/// "slim.linear /h.0/attn/c_attn/Gemm": the op and, when the model came
/// from ONNX, the node it was made from.
std::string profileName(const Step &step);
/// The node name a location carries ("" when none); of a fused location
/// (an op and what slim-fuse-kernels folded into it), the first one's.
std::string locName(Location l);
/// Floating-point (or, for int8, integer) operations of a step: 2 × the
/// op's multiply-accumulates (CostOpInterface, as slim-stats counts them).
int64_t stepFlops(const Step &step);
/// The static shape of a tensor value.
SmallVector<int64_t> shapeOf(Value v);
/// Marks a kernel call (its profile entry) until checkCalls wraps it.
inline constexpr llvm::StringLiteral kProfileAttr = "slim.profile_index";

} // namespace mlir::slim::codegen

#endif // CODEGEN_LLVM_COMPILERIMPL_H
