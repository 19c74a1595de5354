//===- CallEmission.cpp - what every kernel call is made of ---------------===//
//
// The helpers the kernel-call patterns (KernelCalls.cpp) build with:
// constants and constant shape arrays, buffer pointers from the memory
// plan, kernel declarations and calls; after the conversion, each call's
// status check and profiler hooks; the profile's names and FLOP counts.
//
//===----------------------------------------------------------------------===//

#include "codegen/llvm/CompilerImpl.h"

using namespace mlir;
using namespace mlir::slim;

namespace mlir::slim::codegen {

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
  auto callOp = b->create<LLVM::CallOp>(loc, fn, args);
  // checkCalls wraps it once the conversion is done.
  callOp->setAttr(kProfileAttr, b->getI32IntegerAttr(int32_t(profileIndex)));
  return success();
}

void Compiler::checkCalls(LLVM::LLVMFuncOp fn) {
  SmallVector<LLVM::CallOp> calls;
  fn.walk([&](LLVM::CallOp c) {
    if (c->hasAttr(kProfileAttr))
      calls.push_back(c);
  });
  OpBuilder builder(fn.getContext());
  b = &builder;
  for (LLVM::CallOp callOp : calls) {
    loc = callOp.getLoc();
    auto index = callOp->getAttrOfType<IntegerAttr>(kProfileAttr);
    callOp->removeAttr(kProfileAttr);
    // Every kernel call is bracketed by the profiler's hooks (a flag test
    // when --profile is off), attributed to its op.
    builder.setInsertionPoint(callOp);
    auto begin = declare("slim_prof_begin", {builder.getI32Type()});
    auto end = declare("slim_prof_end", {builder.getI32Type()});
    builder.create<LLVM::CallOp>(loc, begin, ValueRange{i32(index.getInt())});
    builder.setInsertionPointAfter(callOp);
    builder.create<LLVM::CallOp>(loc, end, ValueRange{i32(index.getInt())});
    ++out.numKernelCalls;
    // Stop at the first failing kernel and return its status.
    Value rc = callOp.getResult();
    Value failed =
        builder.create<LLVM::ICmpOp>(loc, LLVM::ICmpPredicate::ne, rc, i32(0));
    Block *cont = builder.getInsertionBlock()->splitBlock(
        builder.getInsertionPoint());
    builder.setInsertionPointToEnd(callOp->getBlock());
    builder.create<LLVM::CondBrOp>(loc, failed, errorBlock, ValueRange{rc},
                                   cont, ValueRange{});
  }
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
// Profile entries and the current op
//===----------------------------------------------------------------------===//

SmallVector<int64_t> shapeOf(Value v) {
  return SmallVector<int64_t>(tensorType(v).getShape());
}

std::string locName(Location l) {
  if (auto n = dyn_cast<NameLoc>(l))
    return n.getName().str();
  if (auto f = dyn_cast<FusedLoc>(l); f && !f.getLocations().empty())
    return locName(f.getLocations().front());
  return "";
}

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
  if (std::string n = locName(step.op->getLoc()); !n.empty())
    name += " " + n;
  return name;
}

int64_t stepFlops(const Step &step) {
  auto cost = dyn_cast<CostOpInterface>(step.op);
  return step.residualAdd || !cost ? 0 : 2 * cost.getMacs();
}

std::string stepKind(const Step &step) {
  std::string kind = step.op->getName().getStringRef().str();
  if (step.residualAdd || isa<ResidualOp>(step.op))
    return "slim.residual add";
  if (auto q = dyn_cast<QLinearOp>(step.op))
    return kind + (q.getWeight().getType().getElementType().isInteger(4)
                       ? " int4"
                       : " int8");
  if (auto a = dyn_cast<AttentionOp>(step.op); a && a.getInt8())
    return kind + " int8";
  if (auto c = dyn_cast<Conv2dOp>(step.op); c && c.getInt8())
    return kind + " int8";
  return kind;
}

void Compiler::nameSteps() {
  profileBase = int64_t(out.opNames.size());
  for (const Step &step : steps) {
    out.opNames.push_back(profileName(step));
    out.opFlops.push_back(stepFlops(step));
    out.opKinds.push_back(stepKind(step));
  }
  out.opNames.push_back("copy of the outputs");
  out.opFlops.push_back(0);
  out.opKinds.push_back("copy of the outputs");
}

void Compiler::begin(Operation *op, OpBuilder &builder) {
  lowered.insert(op);
  b = &builder;
  loc = op->getLoc();
  auto step = stepOf.find(op);
  profileIndex = step != stepOf.end() ? profileBase + step->second
                                      : profileBase + int64_t(steps.size());
}

Value Compiler::resultOf(Operation *op) {
  // A linear with its residual's add: it writes the residual's result.
  if (auto it = fusedResidual.find(op); it != fusedResidual.end())
    return it->second.getResult();
  return op->getNumResults() ? op->getResult(0) : Value();
}

Value Compiler::rank(Value v) { return i32(tensorType(v).getRank()); }
Value Compiler::shp(Value v) { return shapeArray(shapeOf(v)); }
Value Compiler::opt(Value v) { return v ? ptr(v) : nullPtr(); }

} // namespace mlir::slim::codegen
