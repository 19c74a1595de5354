//===- ModelCompiler.cpp - slim functions to native code ------------------===//

#include "codegen/llvm/ModelCompiler.h"

#include "codegen/exec/Executor.h"
#include "codegen/llvm/Glue.h"
#include "dialects/slim/IR/ShapeUtils.h"
#include "dialects/slim/IR/SlimOps.h"
#include "runtime/Kernels.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinDialect.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Export.h"

#include "llvm/ADT/TypeSwitch.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Passes/PassBuilder.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/TargetParser/SubtargetFeature.h"

#include <boost/graph/adjacency_list.hpp>
#include <boost/graph/sequential_vertex_coloring.hpp>

#include <algorithm>
#include <functional>
#include <cstring>

using namespace mlir;
using namespace mlir::slim;
namespace rt = ::slim::rt;

namespace {

constexpr int64_t kAlign = 64;

int64_t alignUp(int64_t x) { return (x + kAlign - 1) / kAlign * kAlign; }

RankedTensorType tensorType(Value v) {
  return cast<RankedTensorType>(v.getType());
}

int64_t elemSize(Value v) {
  auto d = dtypeOf(tensorType(v).getElementType());
  return d ? int64_t(rt::dtypeSize(*d)) : 4;
}

int64_t byteSize(Value v) {
  return tensorType(v).getNumElements() * elemSize(v);
}

/// Where a value lives at run time.
struct Storage {
  enum Kind { Input, Arena, Weight, Output } kind;
  int64_t index = 0; // input or output number, or byte offset
};

/// One step of the linearized program: an op, or the add that closes a
/// residual (`residual` set).
struct Step {
  Operation *op;
  bool residualAdd = false;
};

/// The identity of a weight: its blob (functions cloned from one another
/// and reshaped views share it) or, for inline constants, its attribute.
const void *weightKey(Value v) {
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
  Compiler(func::FuncOp func, CompiledModel &out, GlueModule &glue,
           StringRef entry = "slim_model_compute", bool withCache = false)
      : func(func), out(out), glue(glue), entry(entry), withCache(withCache) {}
  /// Plans buffers and weights and appends the LLVM-dialect code to `into`.
  LogicalResult lower(ModuleOp into);

private:
  LogicalResult linearize(Block &block);
  void groupSharedQLinears();
  void fuseResidualAdds();
  void fuseNorms();
  LogicalResult planWeights();
  void planArena();
  LogicalResult emitFunction(ModuleOp module);
  LogicalResult emitStep(const Step &step);

  // Codegen helpers (valid while emitting).
  Value ptr(Value v);
  Value weightPtr(Value v, bool packed = false);
  Value i64(int64_t x);
  Value i32(int64_t x);
  Value f32(float x);
  Value shapeArray(ArrayRef<int64_t> values);
  Value nullPtr();
  LogicalResult call(StringRef kernel, ArrayRef<Value> args);
  LLVM::LLVMFuncOp declare(StringRef name, ArrayRef<Type> args);

  /// The value whose storage `v` shares (residual block arguments alias the
  /// residual's input, view reshapes theirs).
  Value resolve(Value v) {
    for (;;) {
      if (auto arg = dyn_cast<BlockArgument>(v)) {
        auto res = dyn_cast<ResidualOp>(arg.getOwner()->getParentOp());
        if (!res)
          return v;
        v = res.getInput();
        continue;
      }
      Operation *def = v.getDefiningOp();
      if (!def || !viewReshapes.count(def))
        return v;
      v = def->getOperand(0); // a view of its input
    }
  }

  func::FuncOp func;
  CompiledModel &out;
  GlueModule &glue;
  std::string entry;
  bool withCache;
  std::vector<Step> steps;
  llvm::DenseMap<Operation *, int64_t> stepOf;     // op -> step index
  llvm::DenseMap<Operation *, int64_t> residualEnd; // residual -> add step
  /// slim.mul -> the slim.silu it computes with (one silu_mul kernel).
  llvm::DenseMap<Operation *, SiluOp> fusedSilu;
  /// Consecutive int8 qlinears of one input (attention's query, key and
  /// value): the first step runs them all (slim_k_qlinear_shared), the
  /// others' steps run nothing and their results live from the first's.
  llvm::DenseMap<Operation *, SmallVector<QLinearOp, 3>> sharedQLinears;
  llvm::DenseMap<Operation *, int64_t> sharedFrom; // member -> first step
  /// A residual whose add runs in the epilogue of the linear that computes
  /// its branch: linear -> residual. The linear writes the residual's
  /// result (which lives from the linear's step); the branch is never
  /// stored and the add's step runs nothing.
  llvm::DenseMap<Operation *, ResidualOp> fusedResidual;
  llvm::DenseSet<Operation *> residualFused; // those residuals
  /// A layer_norm / rms_norm read only by int8 qlinears of one call (one
  /// qlinear, or a shared group): the call normalizes each row before it
  /// quantizes it (first qlinear -> norm). The norm's step runs nothing,
  /// its result is never stored, and its input lives until the call.
  llvm::DenseMap<Operation *, Operation *> fusedNorm;
  llvm::DenseSet<Operation *> normFused; // those norms
  /// Reshapes that are views: the result shares its input's storage (row-
  /// major data does not move), no kernel runs, and the input lives as long
  /// as the result is used. Not a reshape returned as an output (written
  /// into the caller's buffer) nor one of a constant.
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
  int64_t profileIndex = 0;
};

//===----------------------------------------------------------------------===//
// Planning
//===----------------------------------------------------------------------===//

LogicalResult Compiler::linearize(Block &block) {
  for (Operation &op : block) {
    if (isa<arith::ConstantOp, func::ReturnOp, YieldOp>(op))
      continue;
    if (auto res = dyn_cast<ResidualOp>(op)) {
      if (failed(linearize(res.getBody().front())))
        return failure();
      residualEnd[&op] = steps.size();
      stepOf[&op] = steps.size();
      steps.push_back({&op, /*residualAdd=*/true});
      continue;
    }
    if (op.getNumRegions())
      return op.emitError("codegen does not handle this region op");
    // SiLU(gate) · up, both of one shape: one silu_mul kernel at the mul.
    if (auto silu = dyn_cast<SiluOp>(op); silu && silu->hasOneUse()) {
      auto mul = dyn_cast<MulOp>(*silu->user_begin());
      if (mul && mul->getBlock() == &block &&
          mul.getLhs().getType() == mul.getRhs().getType() &&
          mul.getLhs().getType() == mul.getResult().getType() &&
          mul.getLhs() != mul.getRhs()) {
        fusedSilu[mul] = silu;
        continue;
      }
    }
    stepOf[&op] = steps.size();
    steps.push_back({&op});
    if (auto silu = fusedSilu.lookup(&op))
      stepOf[silu] = stepOf[&op]; // its input is read at the mul
  }
  return success();
}

/// An int8 qlinear codegen runs with slim_k_qlinear(_shared): constant
/// per-channel int8 weights, dynamic or static activations.
static bool isPlainInt8QLinear(QLinearOp q) {
  return q && q.getWeight().getType().getElementType().isInteger(8) &&
         q.getAct() != QuantActivation::none && q.getGroupSize() == 0 &&
         !q.getZeroPoints() && q.getWeight().getDefiningOp<arith::ConstantOp>();
}

void Compiler::groupSharedQLinears() {
  for (size_t k = 0; k < steps.size(); ++k) {
    auto first = dyn_cast<QLinearOp>(steps[k].op);
    if (steps[k].residualAdd || !isPlainInt8QLinear(first))
      continue;
    SmallVector<QLinearOp, 3> group{first};
    while (group.size() < size_t(rt::kMaxSharedQLinears) &&
           k + group.size() < steps.size()) {
      const Step &next = steps[k + group.size()];
      auto q = dyn_cast<QLinearOp>(next.op);
      if (next.residualAdd || !isPlainInt8QLinear(q) ||
          q.getInput() != first.getInput() || q.getAct() != first.getAct() ||
          q.getActScale() != first.getActScale())
        break;
      group.push_back(q);
    }
    if (group.size() < 2)
      continue;
    for (size_t i = 1; i < group.size(); ++i)
      sharedFrom[group[i]] = int64_t(k);
    sharedQLinears[first] = group;
    k += group.size() - 1;
  }
}

void Compiler::fuseResidualAdds() {
  for (const Step &step : steps) {
    if (!step.residualAdd)
      continue;
    auto res = cast<ResidualOp>(step.op);
    Value branch = res.getBranch();
    Operation *def = branch.getDefiningOp();
    // The linears with a residual operand (slim_k_linear with a packed
    // constant weight, slim_k_qlinear on its own input), the branch used
    // by the add only, all three of one type (the plain add).
    bool linear = isa_and_nonnull<LinearOp>(def) &&
                  cast<LinearOp>(def).getWeight().getDefiningOp<arith::ConstantOp>();
    bool qlinear = isPlainInt8QLinear(dyn_cast_or_null<QLinearOp>(def)) &&
                   !sharedQLinears.count(def) && !sharedFrom.count(def);
    if (!(linear || qlinear) || !branch.hasOneUse() || !stepOf.count(def) ||
        res.getInput().getType() != branch.getType() ||
        branch.getType() != res.getResult().getType())
      continue;
    fusedResidual[def] = res;
    residualFused.insert(res);
  }
}

/// The rows a norm normalizes: the product of the dims from its axis on.
static int64_t normWidth(Operation *n) {
  auto type = tensorType(n->getOperand(0));
  int64_t from = type.getRank() - 1, d = 1;
  if (auto ln = dyn_cast<LayerNormOp>(n))
    from = ln.getNormalizedAxis();
  for (int64_t a = from; a < type.getRank(); ++a)
    d *= type.getDimSize(a);
  return d;
}

void Compiler::fuseNorms() {
  for (const Step &step : steps) {
    auto q = dyn_cast<QLinearOp>(step.op);
    if (step.residualAdd || !isPlainInt8QLinear(q) || sharedFrom.count(q) ||
        fusedResidual.count(q))
      continue;
    Operation *norm = q.getInput().getDefiningOp();
    if (!isa_and_nonnull<LayerNormOp, RmsNormOp>(norm) || !stepOf.count(norm))
      continue;
    SmallVector<QLinearOp, 3> group{q};
    if (auto it = sharedQLinears.find(q); it != sharedQLinears.end())
      group = it->second;
    // Read by this call only (not returned, not by another op), over rows
    // of exactly the linears' input width.
    if (!llvm::all_of(norm->getResult(0).getUsers(),
                      [&](Operation *u) {
                        return llvm::is_contained(group, u);
                      }) ||
        normWidth(norm) != q.getWeight().getType().getShape()[1])
      continue;
    fusedNorm[q] = norm;
    normFused.insert(norm);
    stepOf[norm] = stepOf[q]; // its input is read at the call
  }
}

LogicalResult Compiler::planWeights() {
  // Linear weights are stored packed for the kernel (rt::packLinearWeight).
  func.walk([&](LinearOp op) { packedWeights.insert(op.getWeight()); });
  // int4 weights: packed with their group scales and zero points.
  llvm::DenseMap<Value, QLinearOp> int4Of;
  func.walk([&](QLinearOp op) {
    if (op.getWeight().getType().getElementType().isInteger(4))
      int4Of[op.getWeight()] = op;
    else
      packedWeights.insert(op.getWeight());
  });
  for (auto &[w, op] : int4Of) {
    auto key = std::make_pair(weightKey(w), true);
    if (out.weightIndex.count(key))
      continue;
    auto shape = op.getWeight().getType().getShape();
    int64_t group = static_cast<int64_t>(op.getGroupSize());
    // The packed layout holds 8 inputs per 32-bit word (rt::packQ4Weight).
    if (group <= 0 || group % 8 != 0)
      return op.emitError("codegen supports int4 qlinear with groups of a "
                          "multiple of 8 inputs, not ")
             << group;
    FailureOr<Tensor> q = constantTensor(w.getDefiningOp<arith::ConstantOp>());
    FailureOr<Tensor> sc =
        constantTensor(op.getScales().getDefiningOp<arith::ConstantOp>());
    FailureOr<Tensor> zp = failure();
    if (op.getZeroPoints())
      zp = constantTensor(op.getZeroPoints().getDefiningOp<arith::ConstantOp>());
    if (failed(q) || failed(sc) || (op.getZeroPoints() && failed(zp)))
      return failure();
    int64_t offset = alignUp(out.weights.size());
    out.weights.resize(offset + rt::packedQ4Bytes(shape[0], shape[1], group,
                                                  bool(op.getZeroPoints())));
    rt::packQ4Weight(q->data.data(),
                     reinterpret_cast<const float *>(sc->data.data()),
                     op.getZeroPoints() ? zp->data.data() : nullptr, shape[0],
                     shape[1], group, out.weights.data() + offset);
    out.weightIndex[key] = offset;
  }
  auto add = [&](arith::ConstantOp cst, bool packed) -> LogicalResult {
    auto key = std::make_pair(weightKey(cst.getResult()), packed);
    if (out.weightIndex.count(key))
      return success();
    FailureOr<Tensor> t = constantTensor(cst);
    if (failed(t))
      return failure();
    int64_t offset = alignUp(out.weights.size());
    auto shape = tensorType(cst.getResult()).getShape();
    bool int8 = tensorType(cst.getResult()).getElementType().isInteger(8);
    out.weights.resize(
        offset + (packed && int8 ? rt::packedQLinearBytes(shape[0], shape[1])
                  : packed ? rt::packedLinearSize(shape[0], shape[1]) *
                                 int64_t(sizeof(float))
                           : int64_t(t->data.size())));
    if (packed && int8) {
      rt::packQLinearWeight(reinterpret_cast<const int8_t *>(t->data.data()),
                            shape[0], shape[1], out.weights.data() + offset);
    } else if (packed) {
      rt::packLinearWeight(reinterpret_cast<const float *>(t->data.data()),
                           shape[0], shape[1],
                           reinterpret_cast<float *>(out.weights.data() +
                                                     offset));
    } else {
      std::memcpy(out.weights.data() + offset, t->data.data(), t->data.size());
    }
    out.weightIndex[key] = offset;
    return success();
  };
  LogicalResult status = success();
  func.walk([&](arith::ConstantOp cst) {
    Value v = cst.getResult();
    // Unused constants (weights of dropped layers) are not stored.
    if (!isa<RankedTensorType>(v.getType()) || v.use_empty())
      return;
    for (Operation *user : v.getUsers())
      if (auto e = dyn_cast<EmbeddingOp>(user); e && e.getTable() == v)
        out.sparseWeights = true;
    bool linearOnly = true, packed = packedWeights.contains(v);
    for (OpOperand &use : v.getUses()) {
      bool weightUse = use.getOperandNumber() == 1 &&
                       isa<LinearOp, QLinearOp>(use.getOwner());
      // An int4 linear's weight, scales and zero points live in its packed
      // weight only.
      auto q = dyn_cast<QLinearOp>(use.getOwner());
      if (q && int4Of.count(q.getWeight()) && use.getOperandNumber() <= 3)
        weightUse = true;
      if (!weightUse)
        linearOnly = false;
    }
    if (int4Of.count(v) && linearOnly)
      return;
    if (packed && failed(add(cst, true)))
      status = failure();
    if ((!packed || !linearOnly) && failed(add(cst, false)))
      status = failure();
  });
  out.weights.resize(alignUp(out.weights.size()));
  return status;
}

void Compiler::planArena() {
  // Values computed by steps live in the arena, from their step to their
  // last use (a use inside a residual body counts at that step; the
  // residual's own use of its input is at its closing add).
  struct Interval {
    Value v;
    int64_t def, last, bytes;
  };
  std::vector<Interval> vals;
  int64_t end = steps.size();
  for (auto [k, step] : llvm::enumerate(steps)) {
    if (!step.residualAdd && fusedResidual.count(step.op))
      continue; // the branch of a fused residual is never stored
    if (viewReshapes.count(step.op))
      continue; // stored in its input's buffer
    if (normFused.count(step.op))
      continue; // normalized row by row inside its qlinear call
    for (Value r : step.op->getResults()) {
      if (storage.count(r))
        continue; // computed straight into the caller's output buffer
      int64_t last = int64_t(k);
      // Uses through view reshapes count as uses of r.
      std::function<void(Value)> addUses = [&](Value v) {
        for (OpOperand &use : v.getUses()) {
          Operation *user = use.getOwner();
          if (isa<func::ReturnOp>(user)) {
            last = end;
            continue;
          }
          if (viewReshapes.count(user)) {
            addUses(user->getResult(0));
            continue;
          }
          if (auto yield = dyn_cast<YieldOp>(user))
            user = yield->getParentOp(); // read by the closing add
          while (!stepOf.count(user))
            user = user->getParentOp();
          last = std::max(last, stepOf[user]);
        }
      };
      addUses(r);
      // A residual input is also read through the body's block argument.
      int64_t def = sharedFrom.count(step.op) ? sharedFrom[step.op] : k;
      if (step.residualAdd && residualFused.count(step.op))
        def = stepOf[cast<ResidualOp>(step.op).getBranch().getDefiningOp()];
      vals.push_back({r, def, last, byteSize(r)});
    }
  }
  // Residual inputs stay alive until the residual closes.
  llvm::DenseMap<Value, size_t> index;
  for (auto [k, iv] : llvm::enumerate(vals))
    index[iv.v] = k;
  for (const Step &step : steps)
    if (step.residualAdd) {
      Value in = resolve(cast<ResidualOp>(step.op).getInput());
      if (index.count(in))
        vals[index[in]].last =
            std::max(vals[index[in]].last, stepOf[step.op]);
    }

  using Graph = boost::adjacency_list<boost::vecS, boost::vecS,
                                      boost::undirectedS>;
  Graph g(vals.size());
  for (size_t i = 0; i < vals.size(); ++i)
    for (size_t j = i + 1; j < vals.size(); ++j)
      if (!(vals[i].last < vals[j].def || vals[j].last < vals[i].def))
        boost::add_edge(i, j, g);
  // Color large buffers first so small ones fill in around them.
  std::vector<size_t> order(vals.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t c) {
    return vals[a].bytes > vals[c].bytes;
  });
  std::vector<size_t> colors(vals.size());
  auto colorMap = boost::make_iterator_property_map(
      colors.begin(), boost::get(boost::vertex_index, g));
  using Vertex = boost::graph_traits<Graph>::vertex_descriptor;
  std::vector<Vertex> vertexOrder(order.begin(), order.end());
  size_t numColors = boost::sequential_vertex_coloring(
      g,
      boost::make_iterator_property_map(
          vertexOrder.begin(), boost::identity_property_map()),
      colorMap);
  std::vector<int64_t> slot(numColors, 0), colorOffset(numColors, 0);
  int64_t unplanned = 0;
  for (size_t k = 0; k < vals.size(); ++k) {
    slot[colors[k]] = std::max(slot[colors[k]], vals[k].bytes);
    unplanned += alignUp(vals[k].bytes);
  }
  int64_t offset = 0;
  for (size_t c = 0; c < numColors; ++c) {
    colorOffset[c] = offset;
    offset += alignUp(slot[c]);
  }
  // Entry points run one at a time: one arena serves the largest.
  out.arenaBytes = std::max<int64_t>({out.arenaBytes, offset, kAlign});
  out.unplannedBytes = std::max(out.unplannedBytes, unplanned);
  for (size_t k = 0; k < vals.size(); ++k)
    storage[vals[k].v] = {Storage::Arena, colorOffset[colors[k]]};
}

//===----------------------------------------------------------------------===//
// Emission helpers
//===----------------------------------------------------------------------===//

Value Compiler::i64(int64_t x) {
  return b->create<LLVM::ConstantOp>(loc, b->getI64Type(),
                                     b->getI64IntegerAttr(x));
}
Value Compiler::i32(int64_t x) {
  return b->create<LLVM::ConstantOp>(loc, b->getI32Type(),
                                     b->getI32IntegerAttr(int32_t(x)));
}
Value Compiler::f32(float x) {
  return b->create<LLVM::ConstantOp>(loc, b->getF32Type(),
                                     b->getF32FloatAttr(x));
}
Value Compiler::nullPtr() {
  return b->create<LLVM::ZeroOp>(loc,
                                 LLVM::LLVMPointerType::get(b->getContext()));
}

Value Compiler::shapeArray(ArrayRef<int64_t> values) {
  std::vector<int64_t> key(values.begin(), values.end());
  if (key.empty())
    key.push_back(0); // rank-0 shapes still need a valid pointer
  auto it = shapeGlobals.find(key);
  LLVM::GlobalOp global;
  if (it != shapeGlobals.end()) {
    global = it->second;
  } else {
    OpBuilder::InsertionGuard guard(*b);
    b->setInsertionPointToStart(llvmModule.getBody());
    auto arrTy = LLVM::LLVMArrayType::get(b->getI64Type(), key.size());
    auto attr = DenseElementsAttr::get(
        RankedTensorType::get({int64_t(key.size())}, b->getI64Type()),
        ArrayRef<int64_t>(key));
    global = b->create<LLVM::GlobalOp>(
        loc, arrTy, /*isConstant=*/true, LLVM::Linkage::Internal,
        (entry == "slim_model_compute" ? std::string("slim") : entry) +
            "_shape" + std::to_string(shapeGlobals.size()),
        attr);
    shapeGlobals[key] = global;
  }
  return b->create<LLVM::AddressOfOp>(loc, global);
}

LLVM::LLVMFuncOp Compiler::declare(StringRef name, ArrayRef<Type> args) {
  auto it = declared.find(name);
  if (it != declared.end())
    return it->second;
  // Declared already by another entry point's lowering.
  if (auto fn = llvmModule.lookupSymbol<LLVM::LLVMFuncOp>(name))
    return declared[name] = fn;
  OpBuilder::InsertionGuard guard(*b);
  b->setInsertionPointToStart(llvmModule.getBody());
  auto fn = b->create<LLVM::LLVMFuncOp>(
      loc, name, LLVM::LLVMFunctionType::get(b->getI32Type(), args));
  declared[name] = fn;
  return fn;
}

LogicalResult Compiler::call(StringRef kernel, ArrayRef<Value> args) {
  SmallVector<Type> types;
  for (Value a : args)
    types.push_back(a.getType());
  auto fn = declare(kernel, types);
  if (fn.getFunctionType().getNumParams() != types.size())
    return emitError(loc) << "internal error: " << kernel
                          << " called with a different arity";
  // Every kernel call is bracketed by the profiler's hooks (a flag test
  // when --profile is off), attributed to the current step.
  auto prof = declare("slim_prof_begin", {b->getI32Type()});
  b->create<LLVM::CallOp>(loc, prof, ValueRange{i32(profileIndex)});
  auto callOp = b->create<LLVM::CallOp>(loc, fn, args);
  b->create<LLVM::CallOp>(loc, declare("slim_prof_end", {b->getI32Type()}),
                          ValueRange{i32(profileIndex)});
  ++out.numKernelCalls;
  // Stop at the first failing kernel and return its status.
  Value rc = callOp.getResult();
  Value failed =
      b->create<LLVM::ICmpOp>(loc, LLVM::ICmpPredicate::ne, rc, i32(0));
  Block *cont = b->createBlock(b->getInsertionBlock()->getParent());
  b->setInsertionPointToEnd(callOp->getBlock());
  b->create<LLVM::CondBrOp>(loc, failed, errorBlock, ValueRange{rc}, cont,
                            ValueRange{});
  b->setInsertionPointToStart(cont);
  return success();
}

Value Compiler::ptr(Value v) {
  v = resolve(v);
  auto ptrTy = LLVM::LLVMPointerType::get(b->getContext());
  if (auto cst = v.getDefiningOp<arith::ConstantOp>())
    return weightPtr(v);
  auto it = storage.find(v);
  assert(it != storage.end() && "value without storage");
  Storage s = it->second;
  if (s.kind == Storage::Input || s.kind == Storage::Output) {
    // The caller's buffer pointer, loaded once in the entry block so it
    // dominates every use.
    bool input = s.kind == Storage::Input;
    auto &cache = input ? inputPtrs : outputPtrs;
    auto hit = cache.find(s.index);
    if (hit != cache.end())
      return hit->second;
    Value array = input ? argInputs : argOutputs;
    OpBuilder::InsertionGuard guard(*b);
    b->setInsertionPoint(array.getParentBlock()->getTerminator());
    Value slot = b->create<LLVM::GEPOp>(loc, ptrTy, ptrTy, array,
                                        ArrayRef<LLVM::GEPArg>{s.index});
    return cache[s.index] = b->create<LLVM::LoadOp>(loc, ptrTy, slot);
  }
  return b->create<LLVM::GEPOp>(loc, ptrTy, b->getI8Type(), argArena,
                                ArrayRef<LLVM::GEPArg>{i64(s.index)});
}

Value Compiler::weightPtr(Value v, bool packed) {
  auto ptrTy = LLVM::LLVMPointerType::get(b->getContext());
  int64_t offset = out.weightIndex.at({weightKey(v), packed});
  return b->create<LLVM::GEPOp>(loc, ptrTy, b->getI8Type(), argWeights,
                                ArrayRef<LLVM::GEPArg>{i64(offset)});
}

//===----------------------------------------------------------------------===//
// Ops
//===----------------------------------------------------------------------===//

SmallVector<int64_t> shapeOf(Value v) {
  return SmallVector<int64_t>(tensorType(v).getShape());
}

/// "slim.linear /h.0/attn/c_attn/Gemm": the op and, when the model came
/// from ONNX, the node it was made from.
std::string profileName(const Step &step) {
  // Step functions' ops are told apart by their entry point.
  std::string prefix;
  auto fn = step.op->getParentOfType<func::FuncOp>();
  if (fn && fn.getSymName() != "main")
    prefix = fn.getSymName().str() + ": ";
  std::string name = prefix + step.op->getName().getStringRef().str();
  if (auto res = dyn_cast<ResidualOp>(step.op))
    return prefix + "slim.residual add, layer " +
           std::to_string(res.getLayer()) + " " +
           stringifyResidualKind(res.getKind()).str();
  Location l = step.op->getLoc();
  if (auto n = dyn_cast<NameLoc>(l))
    name += " " + n.getName().str();
  return name;
}

/// Multiply-adds × 2 of the heavy ops (for --profile's GFLOP/s).
static int64_t stepFlops(const Step &step) {
  if (step.residualAdd)
    return 0;
  if (isa<LinearOp, QLinearOp>(step.op)) { // int8 qlinear: integer ops
    auto w = tensorType(step.op->getOperand(1)).getShape();
    int64_t rows = tensorType(step.op->getOperand(0)).getNumElements() / w[1];
    return 2 * rows * w[0] * w[1];
  }
  if (auto a = dyn_cast<AttentionOp>(step.op)) {
    auto q = a.getQuery().getType().getShape();
    auto k = a.getKey().getType().getShape();
    int64_t heads = static_cast<int64_t>(a.getNumHeads());
    int64_t dv = a.getValue().getType().getShape()[2] /
                 static_cast<int64_t>(a.getNumKvHeads());
    // The (query, key) pairs computed: all, or with a causal mask those
    // it leaves visible (query t sees keys 0 … t + S − T).
    int64_t pairs = q[1] * k[1];
    if (a.getCausal()) {
      pairs = 0;
      for (int64_t t = 0; t < q[1]; ++t)
        pairs += std::clamp<int64_t>(t + k[1] - q[1] + 1, 0, k[1]);
    }
    return 2 * q[0] * heads * pairs * (a.getHeadDim() + dv);
  }
  return 0;
}

LogicalResult Compiler::emitStep(const Step &step) {
  Operation *op = step.op;
  loc = op->getLoc();
  profileIndex = out.opNames.size();
  out.opNames.push_back(profileName(step));
  out.opFlops.push_back(stepFlops(step));
  if (sharedFrom.count(op))
    return success(); // run by the first qlinear of its input
  if (viewReshapes.count(op))
    return success(); // a view: no data moves
  if (normFused.count(op))
    return success(); // run row by row by the qlinear that reads it
  if (step.residualAdd && residualFused.count(op))
    return success(); // added in its linear's epilogue
  if (step.residualAdd) {
    auto res = cast<ResidualOp>(op);
    Value branch = res.getBranch();
    if (res.getInput().getType() == branch.getType() &&
        branch.getType() == res.getResult().getType())
      return call("slim_k_add",
                  {ptr(res.getInput()), ptr(branch),
                   i64(tensorType(branch).getNumElements()),
                   ptr(res.getResult())});
    return call("slim_k_binary",
                {i32(int(rt::Binary::Add)), ptr(res.getInput()),
                 shapeArray(shapeOf(res.getInput())),
                 i32(tensorType(res.getInput()).getRank()), ptr(branch),
                 shapeArray(shapeOf(branch)), i32(tensorType(branch).getRank()),
                 ptr(res.getResult()), shapeArray(shapeOf(res.getResult())),
                 i32(tensorType(res.getResult()).getRank())});
  }
  auto rank = [&](Value v) { return i32(tensorType(v).getRank()); };
  auto shp = [&](Value v) { return shapeArray(shapeOf(v)); };
  auto opt = [&](Value v) { return v ? ptr(v) : nullPtr(); };
  Value result = op->getNumResults() ? op->getResult(0) : Value();
  // A linear with its residual's add: it writes the residual's result.
  Value residual;
  if (auto it = fusedResidual.find(op); it != fusedResidual.end()) {
    residual = it->second.getInput();
    result = it->second.getResult();
  }

  if (auto mul = dyn_cast<MulOp>(op)) {
    if (SiluOp silu = fusedSilu.lookup(op)) {
      Value up = mul.getLhs() == silu.getResult() ? mul.getRhs() : mul.getLhs();
      return call("slim_k_silu_mul",
                  {ptr(silu.getInput()), ptr(up),
                   i64(tensorType(result).getNumElements()), ptr(result)});
    }
  }
  if (auto add = dyn_cast<AddOp>(op))
    if (add.getLhs().getType() == result.getType() &&
        add.getRhs().getType() == result.getType())
      return call("slim_k_add", {ptr(add.getLhs()), ptr(add.getRhs()),
                                 i64(tensorType(result).getNumElements()),
                                 ptr(result)});
  if (isGlueOp(op)) {
    FailureOr<std::string> fn = glue.outline(op);
    if (failed(fn))
      return failure();
    SmallVector<Value> args;
    for (Value v : op->getOperands())
      args.push_back(ptr(v));
    args.push_back(ptr(result));
    return call(*fn, args);
  }

  return llvm::TypeSwitch<Operation *, LogicalResult>(op)
      .Case<LinearOp>([&](LinearOp l) -> LogicalResult {
        auto w = l.getWeight().getType().getShape();
        int64_t rows = tensorType(l.getInput()).getNumElements() / w[1];
        if (!l.getWeight().getDefiningOp<arith::ConstantOp>())
          return call("slim_k_linear_runtime_weight",
                      {ptr(l.getInput()), i64(rows), i64(w[1]),
                       ptr(l.getWeight()), opt(l.getBias()), i64(w[0]),
                       i32(int(linearAct(l))), ptr(result)});
        return call("slim_k_linear",
                    {ptr(l.getInput()), i64(rows), i64(w[1]),
                     weightPtr(l.getWeight(), /*packed=*/true),
                     opt(l.getBias()), i64(w[0]), i32(int(linearAct(l))),
                     opt(residual), ptr(result)});
      })
      .Case<LayerNormOp, RmsNormOp>([&](Operation *n) {
        Value x = n->getOperand(0);
        int64_t d = tensorType(x).getShape().back();
        Value bias, scale = n->getOperand(1);
        float eps;
        StringRef kernel = "slim_k_rms_norm";
        if (auto ln = dyn_cast<LayerNormOp>(n)) {
          d = 1;
          for (int64_t a = ln.getNormalizedAxis(); a < tensorType(x).getRank();
               ++a)
            d *= tensorType(x).getDimSize(a);
          bias = ln.getBias();
          eps = ln.getEpsilon().convertToFloat();
          kernel = "slim_k_layer_norm";
        } else {
          auto rn = cast<RmsNormOp>(n);
          bias = rn.getBias();
          eps = rn.getEpsilon().convertToFloat();
        }
        return call(kernel, {ptr(x), i64(tensorType(x).getNumElements() / d),
                             i64(d), ptr(scale), opt(bias), f32(eps),
                             ptr(result)});
      })
      .Case<QLinearOp>([&](QLinearOp q) -> LogicalResult {
        if (q.getWeight().getType().getElementType().isInteger(4)) {
          if (q.getAct() != QuantActivation::none || q.getGroupSize() == 0)
            return q.emitError("codegen supports int4 qlinear with group-wise "
                               "weights and act = none only");
          if (!q.getWeight().getDefiningOp<arith::ConstantOp>() ||
              !q.getScales().getDefiningOp<arith::ConstantOp>() ||
              (q.getZeroPoints() &&
               !q.getZeroPoints().getDefiningOp<arith::ConstantOp>()))
            return q.emitError("codegen needs constant int4 weights, scales "
                               "and zero points");
          auto w = q.getWeight().getType().getShape();
          int64_t rows = tensorType(q.getInput()).getNumElements() / w[1];
          return call("slim_k_q4linear",
                      {ptr(q.getInput()), i64(rows), i64(w[1]),
                       weightPtr(q.getWeight(), /*packed=*/true),
                       i64(static_cast<int64_t>(q.getGroupSize())),
                       opt(q.getBias()), i64(w[0]), i32(int(linearAct(q))),
                       ptr(result)});
        }
        if (q.getAct() == QuantActivation::none || q.getGroupSize() != 0 ||
            q.getZeroPoints() ||
            !q.getWeight().getType().getElementType().isInteger(8))
          return q.emitError("codegen supports int8 qlinear with per-channel "
                             "weights and act = dynamic or static only");
        if (!q.getWeight().getDefiningOp<arith::ConstantOp>())
          return q.emitError("codegen needs constant qlinear weights");
        auto w = q.getWeight().getType().getShape();
        int64_t rows = tensorType(q.getInput()).getNumElements() / w[1];
        Value actScale = f32(q.getActScale()
                                 ? q.getActScale()->convertToFloat()
                                 : 0.0f);
        Operation *norm = fusedNorm.lookup(op);
        auto shared = sharedQLinears.find(op);
        if (shared != sharedQLinears.end() || norm) {
          // Up to three linears of this input, maybe normalized first; the
          // profile counts them as one op.
          SmallVector<QLinearOp, 3> group{q};
          if (shared != sharedQLinears.end())
            group = shared->second;
          SmallVector<Value> args{
              ptr(norm ? norm->getOperand(0) : q.getInput()), i64(rows),
              i64(w[1]), actScale, i32(group.size())};
          std::string names;
          for (size_t i = 0; i < size_t(rt::kMaxSharedQLinears); ++i) {
            if (i < group.size()) {
              QLinearOp p = group[i];
              args.append({weightPtr(p.getWeight(), /*packed=*/true),
                           ptr(p.getScales()), opt(p.getBias()),
                           i64(p.getWeight().getType().getShape()[0]),
                           i32(int(linearAct(p))), ptr(p.getResult())});
              if (i > 0) {
                out.opFlops.back() += stepFlops({p});
                if (auto n = dyn_cast<NameLoc>(p.getLoc()))
                  names += " + " + n.getName().str();
              }
              continue;
            }
            args.append({nullPtr(), nullPtr(), nullPtr(), i64(0), i32(0),
                         nullPtr()});
          }
          if (auto ln = dyn_cast_or_null<LayerNormOp>(norm)) {
            args.append({i32(2), ptr(ln.getScale()), opt(ln.getBias()),
                         f32(ln.getEpsilon().convertToFloat())});
          } else if (auto rn = dyn_cast_or_null<RmsNormOp>(norm)) {
            args.append({i32(1), ptr(rn.getScale()), opt(rn.getBias()),
                         f32(rn.getEpsilon().convertToFloat())});
          } else {
            args.append({i32(0), nullPtr(), nullPtr(), f32(0.0f)});
          }
          if (norm) {
            std::string normName = norm->getName().getStringRef().str();
            if (auto n = dyn_cast<NameLoc>(norm->getLoc()))
              normName += " " + n.getName().str();
            names += " (after " + normName + ")";
          }
          out.opNames.back() += names;
          return call("slim_k_qlinear_shared", args);
        }
        return call("slim_k_qlinear",
                    {ptr(q.getInput()), i64(rows), i64(w[1]),
                     weightPtr(q.getWeight(), /*packed=*/true),
                     ptr(q.getScales()), opt(q.getBias()), i64(w[0]),
                     actScale, i32(int(linearAct(q))), opt(residual),
                     ptr(result)});
      })
      .Case<CrmsNormOp>([&](CrmsNormOp cn) {
        Value x = cn.getInput();
        int64_t w = tensorType(x).getShape().back();
        return call("slim_k_crms_norm",
                    {ptr(x), i64(tensorType(x).getNumElements() / w), i64(w),
                     f32(cn.getEpsilon().convertToFloat()), ptr(result)});
      })
      .Case<EmbeddingOp>([&](EmbeddingOp e) -> LogicalResult {
        auto t = e.getTable().getType().getShape();
        bool wide = tensorType(e.getIndices()).getElementType().isInteger(64);
        if (!wide && !tensorType(e.getIndices()).getElementType().isInteger(32))
          return e.emitError("codegen needs int32 or int64 indices");
        return call(wide ? "slim_k_embedding_i64" : "slim_k_embedding_i32",
                    {ptr(e.getTable()), i64(t[0]), i64(t[1]),
                     ptr(e.getIndices()),
                     i64(tensorType(e.getIndices()).getNumElements()),
                     ptr(result)});
      })
      .Case<AttentionOp>([&](AttentionOp a) {
        auto q = a.getQuery().getType().getShape();
        auto k = a.getKey().getType().getShape();
        int64_t kv = static_cast<int64_t>(a.getNumKvHeads());
        return call("slim_k_attention",
                    {ptr(a.getQuery()), ptr(a.getKey()), ptr(a.getValue()),
                     opt(a.getSizes()), opt(a.getKeyBias()),
                     opt(a.getBias()),
                     i64(a.getBias() ? tensorType(a.getBias()).getDimSize(0)
                                     : 0),
                     i64(q[0]),
                     i64(q[1]), i64(k[1]),
                     i64(static_cast<int64_t>(a.getNumHeads())), i64(kv),
                     i64(a.getHeadDim()),
                     i64(a.getValue().getType().getShape()[2] / kv),
                     i32(a.getCausal()), f32(a.getEffectiveScale()),
                     ptr(result)});
      })
      .Case<KvAttentionOp>([&](KvAttentionOp a) -> LogicalResult {
        if (!withCache)
          return a.emitError("slim.kv_attention belongs in a step function "
                             "(@prefill or @decode)");
        auto q = a.getQuery().getType().getShape();
        auto ptrTy = LLVM::LLVMPointerType::get(b->getContext());
        Value slotPtr = b->create<LLVM::GEPOp>(
            loc, ptrTy, b->getI8Type(), argCache,
            ArrayRef<LLVM::GEPArg>{i64(slotOffset.at(a.getSlot()))});
        return call("slim_k_kv_attention",
                    {ptr(a.getQuery()), ptr(a.getKey()), ptr(a.getValue()),
                     ptr(a.getPositions()), i64(q[1]),
                     i64(static_cast<int64_t>(a.getNumHeads())),
                     i64(static_cast<int64_t>(a.getNumKvHeads())),
                     i64(a.getHeadDim()), i64(a.getValueDim()),
                     i64(static_cast<int64_t>(a.getCapacity())), slotPtr,
                     f32(a.getEffectiveScale()), ptr(result)});
      })
      .Case<TokenMergeOp>([&](TokenMergeOp tm) {
        auto x = tensorType(tm.getInput()).getShape();
        Value source = tm.getSource();
        int64_t t0 = source ? tensorType(source).getDimSize(1) : 0;
        return call("slim_k_token_merge",
                    {ptr(tm.getInput()), ptr(tm.getMetric()), ptr(tm.getSizes()),
                     i64(x[0]), i64(x[1]), i64(x[2]),
                     i64(tensorType(tm.getMetric()).getShape()[2]),
                     i64(static_cast<int64_t>(tm.getR())),
                     i64(static_cast<int64_t>(tm.getProtectedTokens())),
                     ptr(tm.getResult()), ptr(tm.getResultSizes()),
                     opt(source), i64(t0), opt(tm.getResultSource()),
                     opt(tm.getReceived()),
                     f32(tm.getTauSim().convertToFloat()),
                     f32(tm.getTauInfo().convertToFloat()),
                     f32(tm.getTauSize().convertToFloat()),
                     i32(tm.getBidirectional())});
      })
      .Case<AttentionReceivedOp>([&](AttentionReceivedOp a) {
        auto q = a.getQuery().getType().getShape();
        auto k = a.getKey().getType().getShape();
        return call("slim_k_attention_received",
                    {ptr(a.getQuery()), ptr(a.getKey()), opt(a.getSizes()),
                     i64(q[0]), i64(q[1]), i64(k[1]),
                     i64(static_cast<int64_t>(a.getNumHeads())),
                     i64(static_cast<int64_t>(a.getNumKvHeads())),
                     i64(a.getHeadDim()), f32(a.getEffectiveScale()),
                     ptr(result)});
      })
      .Case<GroupMeanOp>([&](GroupMeanOp g) {
        auto x = tensorType(g.getInput()).getShape();
        return call("slim_k_group_mean",
                    {ptr(g.getInput()), ptr(g.getGroups()),
                     ptr(g.getWeights()), i64(x[0]), i64(x[1]),
                     i64(static_cast<int64_t>(g.getNumGroups())), i64(x[2]),
                     ptr(result)});
      })
      .Case<UnmergeOp>([&](UnmergeOp u) {
        auto x = tensorType(u.getInput()).getShape();
        return call("slim_k_unmerge",
                    {ptr(u.getInput()), ptr(u.getSource()), i64(x[0]),
                     i64(x[1]), i64(tensorType(u.getSource()).getDimSize(1)),
                     i64(x[2]), ptr(result)});
      })
      .Case<RopeOp>([&](RopeOp r) -> LogicalResult {
        auto x = r.getInput().getType().getShape();
        if (!r.getPositions().getType().getElementType().isInteger(64))
          return r.emitError("codegen needs int64 rope positions");
        int64_t heads = static_cast<int64_t>(r.getNumHeads());
        return call("slim_k_rope",
                    {ptr(r.getInput()), ptr(r.getPositions()),
                     i32(r.getPositions().getType().getRank() == 2), i64(x[0]),
                     i64(x[1]), i64(heads), i64(x[2] / heads),
                     f32(r.getTheta().convertToFloat()),
                     i32(r.getInterleaved()), ptr(result)});
      })
      .Case<GeluOp, SiluOp>([&](Operation *u) {
        return call("slim_k_unary", {i32(int(unaryKind(u))),
                                     ptr(u->getOperand(0)),
                                     i64(tensorType(result).getNumElements()),
                                     ptr(result)});
      })
      .Case<SoftmaxOp>([&](SoftmaxOp s) {
        int64_t axis = *normalizeAxis(static_cast<int64_t>(s.getAxis()),
                                      tensorType(result).getRank());
        return call("slim_k_softmax", {ptr(s.getInput()), shp(result),
                                       rank(result), i64(axis), ptr(result)});
      })
      .Case<MatMulOp>([&](MatMulOp m) {
        Value l = m.getLhs(), r = m.getRhs();
        return call("slim_k_matmul",
                    {ptr(l), shp(l), rank(l), ptr(r), shp(r), rank(r),
                     ptr(result), shp(result), rank(result)});
      })
      .Default([&](Operation *other) -> LogicalResult {
        return other->emitError("codegen does not support '")
               << other->getName() << "' yet";
      });
}

LogicalResult Compiler::emitFunction(ModuleOp module) {
  MLIRContext *ctx = module.getContext();
  OpBuilder builder(ctx);
  b = &builder;
  llvmModule = module;
  auto ptrTy = LLVM::LLVMPointerType::get(ctx);
  builder.setInsertionPointToEnd(module.getBody());
  SmallVector<Type> params(withCache ? 5 : 4, ptrTy);
  auto fn = builder.create<LLVM::LLVMFuncOp>(
      loc, entry,
      LLVM::LLVMFunctionType::get(builder.getI32Type(), params));
  Block *entryBlock = fn.addEntryBlock(builder);
  argInputs = entryBlock->getArgument(0);
  argOutputs = entryBlock->getArgument(1);
  argArena = entryBlock->getArgument(2);
  argWeights = entryBlock->getArgument(3);
  if (withCache)
    argCache = entryBlock->getArgument(4);
  errorBlock = builder.createBlock(&fn.getBody(), {}, {builder.getI32Type()},
                                   {loc});
  builder.create<LLVM::ReturnOp>(loc, errorBlock->getArgument(0));
  // The entry block only loads input pointers; the code starts in `body`.
  Block *body = builder.createBlock(&fn.getBody());
  builder.setInsertionPointToEnd(entryBlock);
  builder.create<LLVM::BrOp>(loc, body);
  builder.setInsertionPointToStart(body);

  for (const Step &step : steps)
    if (failed(emitStep(step)))
      return failure();
  // Outputs: copied out of the arena (or weights/inputs) into the caller's
  // buffers.
  auto ret = cast<func::ReturnOp>(func.getBody().front().getTerminator());
  profileIndex = out.opNames.size();
  out.opNames.push_back("copy of the outputs");
  out.opFlops.push_back(0);
  for (auto [k, v] : llvm::enumerate(ret.getOperands())) {
    loc = ret.getLoc();
    auto st = storage.find(resolve(v));
    if (st != storage.end() && st->second.kind == Storage::Output &&
        st->second.index == int64_t(k))
      continue; // already there
    Value slot = builder.create<LLVM::GEPOp>(
        loc, ptrTy, ptrTy, argOutputs, ArrayRef<LLVM::GEPArg>{int32_t(k)});
    Value dst = builder.create<LLVM::LoadOp>(loc, ptrTy, slot);
    if (failed(call(glue.outlineCopy(tensorType(v)), {ptr(v), dst})))
      return failure();
  }
  builder.create<LLVM::ReturnOp>(loc, i32(0));
  return success();
}

LogicalResult Compiler::lower(ModuleOp into) {
  Block &entry = func.getBody().front();
  // Step functions: the cache layout (one slot per kv_attention, keys then
  // values, capacity rows each), the same for every entry point.
  int64_t cacheBytes = 0;
  std::map<int64_t, KvAttentionOp> slots;
  func.walk([&](KvAttentionOp a) { slots[a.getSlot()] = a; });
  for (auto &[slot, a] : slots) {
    slotOffset[slot] = cacheBytes;
    auto k = a.getKey().getType(), v = a.getValue().getType();
    cacheBytes += alignUp(int64_t(a.getCapacity()) *
                          (k.getDimSize(2) + v.getDimSize(2)) *
                          int64_t(sizeof(float)));
  }
  if (withCache) {
    if (slots.empty())
      return func.emitError("a step function without slim.kv_attention");
    if (out.kvCacheBytes && out.kvCacheBytes != cacheBytes)
      return func.emitError("the KV cache of @")
             << func.getSymName() << " (" << cacheBytes
             << " bytes) differs from the other step function's ("
             << out.kvCacheBytes << ")";
    out.kvCacheBytes = cacheBytes;
    out.kvLayers = int64_t(slots.size());
    out.kvCapacity = int64_t(slots.begin()->second.getCapacity());
  }
  for (auto [k, arg] : llvm::enumerate(entry.getArguments())) {
    auto type = tensorType(arg);
    auto d = dtypeOf(type.getElementType());
    if (!d)
      return func.emitError("input '")
             << argumentName(func, k) << "' has an unsupported element type "
             << type.getElementType();
    if (!withCache)
      out.inputs.push_back({argumentName(func, k), *d,
                            std::vector<int64_t>(type.getShape().begin(),
                                                 type.getShape().end())});
    storage[arg] = {Storage::Input, int64_t(k)};
  }
  for (unsigned k = 0; k < func.getNumResults(); ++k) {
    auto type = cast<RankedTensorType>(func.getResultTypes()[k]);
    auto d = dtypeOf(type.getElementType());
    if (!d)
      return func.emitError("output '")
             << resultName(func, k) << "' has an unsupported element type";
    if (!withCache)
      out.outputs.push_back({resultName(func, k), *d,
                             std::vector<int64_t>(type.getShape().begin(),
                                                  type.getShape().end())});
  }
  if (failed(linearize(entry)) || failed(planWeights()))
    return failure();
  groupSharedQLinears();
  fuseResidualAdds();
  fuseNorms();
  // A result computed by a step is written straight into its output
  // buffer (the first output it is returned as), not copied out of the
  // arena at the end.
  auto ret = cast<func::ReturnOp>(entry.getTerminator());
  for (auto [k, v] : llvm::enumerate(ret.getOperands())) {
    Operation *def = v.getDefiningOp();
    if (def && stepOf.count(def) && !storage.count(v))
      storage[v] = {Storage::Output, int64_t(k)};
  }
  for (const Step &step : steps)
    if (auto r = dyn_cast<ReshapeOp>(step.op);
        r && !storage.count(r.getResult()) &&
        !r.getInput().getDefiningOp<arith::ConstantOp>())
      viewReshapes.insert(r);
  planArena();

  func.getContext()->loadDialect<LLVM::LLVMDialect>();
  return emitFunction(into);
}

} // namespace

/// Lowers the glue functions the entry points call and puts them into
/// `into`: as LLVM functions replacing their declarations, or, stopped at an
/// earlier stage (tests), as a nested module @slim_glue.
static LogicalResult finishGlue(GlueModule &glue, ModuleOp into,
                                GlueModule::Stage stage) {
  if (failed(glue.lower(stage)))
    return failure();
  ModuleOp mod = glue.module();
  if (stage != GlueModule::Stage::LLVM) {
    mod.setSymName("slim_glue");
    Operation *nested = mod->clone();
    into.getBody()->push_back(nested);
    return success();
  }
  SymbolTable symbols(into);
  for (Operation &op : llvm::make_early_inc_range(*mod.getBody())) {
    auto fn = dyn_cast<LLVM::LLVMFuncOp>(op);
    if (!fn) {
      if (auto sym = dyn_cast<SymbolOpInterface>(op);
          sym && symbols.lookup(sym.getNameAttr()))
        continue;
      op.moveBefore(into.getBody(), into.getBody()->end());
      continue;
    }
    auto existing = symbols.lookup<LLVM::LLVMFuncOp>(fn.getName());
    if (existing && (fn.isExternal() || !existing.isExternal()))
      continue; // a library declaration (erff) both have
    if (existing)
      existing.erase();
    // Local to the model's object (a shared library exports only the API).
    if (!fn.isExternal()) {
      fn.setLinkage(LLVM::Linkage::Internal);
      fn->removeAttr(SymbolTable::getVisibilityAttrName());
    }
    op.moveBefore(into.getBody(), into.getBody()->end());
  }
  return success();
}

LogicalResult mlir::slim::lowerModelToLLVM(func::FuncOp func, ModuleOp into,
                                           CompiledModel &out) {
  GlueModule glue(func.getContext());
  if (failed(Compiler(func, out, glue).lower(into)))
    return failure();
  return finishGlue(glue, into, GlueModule::Stage::LLVM);
}

LogicalResult mlir::slim::emitObject(ModuleOp module, unsigned optLevel,
                                     SmallVectorImpl<char> &object) {
  MLIRContext *ctx = module.getContext();
  DialectRegistry registry;
  registerBuiltinDialectTranslation(registry);
  registerLLVMDialectTranslation(registry);
  ctx->appendDialectRegistry(registry);
  llvm::LLVMContext llvmContext;
  std::unique_ptr<llvm::Module> llvmModule =
      translateModuleToLLVMIR(module, llvmContext, "slim_model");
  if (!llvmModule)
    return module.emitError("translation to LLVM IR failed");

  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();
  std::string triple = llvm::sys::getDefaultTargetTriple(), error;
  const llvm::Target *target = llvm::TargetRegistry::lookupTarget(triple, error);
  if (!target)
    return module.emitError("no LLVM target for ") << triple << ": " << error;
  llvm::SubtargetFeatures features;
  for (auto &f : llvm::sys::getHostCPUFeatures())
    features.AddFeature(f.first(), f.second);
  llvm::TargetOptions targetOptions;
  std::unique_ptr<llvm::TargetMachine> machine(target->createTargetMachine(
      triple, llvm::sys::getHostCPUName(), features.getString(), targetOptions,
      llvm::Reloc::PIC_, std::nullopt,
      optLevel == 0 ? llvm::CodeGenOptLevel::None
                    : llvm::CodeGenOptLevel::Default));
  llvmModule->setDataLayout(machine->createDataLayout());
  llvmModule->setTargetTriple(triple);

  if (optLevel > 0) {
    llvm::LoopAnalysisManager lam;
    llvm::FunctionAnalysisManager fam;
    llvm::CGSCCAnalysisManager cgam;
    llvm::ModuleAnalysisManager mam;
    llvm::PassBuilder pb(machine.get());
    pb.registerModuleAnalyses(mam);
    pb.registerCGSCCAnalyses(cgam);
    pb.registerFunctionAnalyses(fam);
    pb.registerLoopAnalyses(lam);
    pb.crossRegisterProxies(lam, fam, cgam, mam);
    llvm::OptimizationLevel level =
        optLevel >= 3 ? llvm::OptimizationLevel::O3 : llvm::OptimizationLevel::O2;
    pb.buildPerModuleDefaultPipeline(level).run(*llvmModule, mam);
  }

  llvm::raw_svector_ostream os(object);
  llvm::legacy::PassManager pm;
  if (machine->addPassesToEmitFile(pm, os, nullptr,
                                   llvm::CodeGenFileType::ObjectFile))
    return module.emitError("the target cannot emit object files");
  pm.run(*llvmModule);
  return success();
}

LogicalResult mlir::slim::lowerModuleToLLVM(ModuleOp source, ModuleOp into,
                                            CompiledModel &out,
                                            GlueModule::Stage glueStage) {
  auto main = source.lookupSymbol<func::FuncOp>("main");
  if (!main)
    return source.emitError("the model has no function @main");
  GlueModule glue(source.getContext());
  if (failed(Compiler(main, out, glue).lower(into)))
    return failure();
  auto prefill = source.lookupSymbol<func::FuncOp>("prefill");
  auto decode = source.lookupSymbol<func::FuncOp>("decode");
  if (!prefill && !decode)
    return finishGlue(glue, into, glueStage);
  if (!prefill || !decode)
    return source.emitError("generation needs both @prefill and @decode "
                            "step functions (slim-decode-step)");
  // The step signature the runtime calls: ids, positions, logits row ->
  // logits [1, 1, V].
  for (func::FuncOp f : {prefill, decode}) {
    auto ins = f.getArgumentTypes();
    auto res = f.getResultTypes();
    if (ins.size() != 3 || res.size() != 1 ||
        cast<RankedTensorType>(res[0]).getRank() != 3 ||
        cast<RankedTensorType>(res[0]).getDimSize(1) != 1)
      return f.emitError("@")
             << f.getSymName()
             << " is not a step function (input_ids, positions, logits_row) "
                "-> logits [1, 1, V]";
  }
  if (cast<RankedTensorType>(decode.getArgumentTypes()[0]).getDimSize(1) != 1)
    return decode.emitError("@decode must take one token at a time");
  if (failed(Compiler(prefill, out, glue, "slim_model_prefill", true)
                 .lower(into)) ||
      failed(Compiler(decode, out, glue, "slim_model_decode", true)
                 .lower(into)))
    return failure();
  out.generates = true;
  out.prefillTokens =
      cast<RankedTensorType>(prefill.getArgumentTypes()[0]).getDimSize(1);
  out.vocabSize =
      cast<RankedTensorType>(decode.getResultTypes()[0]).getDimSize(2);
  if (cast<RankedTensorType>(prefill.getResultTypes()[0]).getDimSize(2) !=
      out.vocabSize)
    return prefill.emitError("@prefill and @decode have different "
                             "vocabularies");
  return finishGlue(glue, into, glueStage);
}

LogicalResult mlir::slim::compileModel(ModuleOp source,
                                       const CompileOptions &options,
                                       CompiledModel &out) {
  OwningOpRef<ModuleOp> module = ModuleOp::create(source.getLoc());
  if (failed(lowerModuleToLLVM(source, *module, out)) ||
      failed(mlir::verify(*module)))
    return failure();
  return emitObject(*module, options.optLevel, out.object);
}

