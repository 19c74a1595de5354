//===- Glue.cpp - slim glue ops through linalg, bufferization, LLVM -------===//

#include "codegen/llvm/Glue.h"

#include "dialects/slim/IR/ShapeUtils.h"
#include "dialects/slim/IR/SlimOps.h"

#include "mlir/Conversion/AffineToStandard/AffineToStandard.h"
#include "mlir/Conversion/ArithToLLVM/ArithToLLVM.h"
#include "mlir/Conversion/ControlFlowToLLVM/ControlFlowToLLVM.h"
#include "mlir/Conversion/FuncToLLVM/ConvertFuncToLLVMPass.h"
#include "mlir/Conversion/MathToLLVM/MathToLLVM.h"
#include "mlir/Conversion/MathToLibm/MathToLibm.h"
#include "mlir/Conversion/MemRefToLLVM/MemRefToLLVM.h"
#include "mlir/Conversion/ReconcileUnrealizedCasts/ReconcileUnrealizedCasts.h"
#include "mlir/Conversion/SCFToControlFlow/SCFToControlFlow.h"
#include "mlir/Conversion/UBToLLVM/UBToLLVM.h"
#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Transforms/BufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Bufferization/Transforms/FuncBufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/Bufferization/Transforms/OneShotModuleBufferize.h"
#include "mlir/Dialect/Bufferization/Transforms/Transforms.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlow.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/Linalg/Transforms/BufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Tensor/Transforms/BufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/UB/IR/UBOps.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/AffineMap.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Transforms/Passes.h"

#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/raw_ostream.h"

#include <functional>

using namespace mlir;
using namespace mlir::slim;

namespace {

RankedTensorType tensorTypeOf(Value v) {
  return cast<RankedTensorType>(v.getType());
}

/// The indexing map reading an operand of `shape` broadcast (NumPy rules,
/// right-aligned) to `out`: a size-1 axis against a larger one reads index 0.
AffineMap broadcastMap(ArrayRef<int64_t> shape, ArrayRef<int64_t> out,
                       MLIRContext *ctx) {
  SmallVector<AffineExpr> exprs;
  int64_t lead = int64_t(out.size()) - int64_t(shape.size());
  for (auto [k, d] : llvm::enumerate(shape)) {
    int64_t axis = lead + int64_t(k);
    exprs.push_back(d == 1 && out[axis] != 1
                        ? getAffineConstantExpr(0, ctx)
                        : getAffineDimExpr(unsigned(axis), ctx));
  }
  return AffineMap::get(unsigned(out.size()), 0, exprs, ctx);
}

using ScalarFn = std::function<Value(OpBuilder &, Location, ValueRange)>;

/// out = f(inputs...) elementwise with broadcasting, as one linalg.generic.
Value elementwise(OpBuilder &b, Location loc, RankedTensorType outType,
                  ValueRange inputs, const ScalarFn &f) {
  MLIRContext *ctx = b.getContext();
  SmallVector<AffineMap> maps;
  for (Value in : inputs)
    maps.push_back(
        broadcastMap(tensorTypeOf(in).getShape(), outType.getShape(), ctx));
  maps.push_back(AffineMap::getMultiDimIdentityMap(outType.getRank(), ctx));
  Value init = b.create<tensor::EmptyOp>(loc, outType.getShape(),
                                         outType.getElementType());
  SmallVector<utils::IteratorType> iters(outType.getRank(),
                                         utils::IteratorType::parallel);
  auto generic = b.create<linalg::GenericOp>(
      loc, TypeRange{outType}, inputs, ValueRange{init}, maps, iters,
      [&](OpBuilder &nb, Location nloc, ValueRange args) {
        nb.create<linalg::YieldOp>(nloc,
                                   f(nb, nloc, args.drop_back()));
      });
  return generic.getResult(0);
}

Value floatConst(OpBuilder &b, Location loc, Type type, double v) {
  return b.create<arith::ConstantOp>(loc, type, b.getFloatAttr(type, v));
}

/// Σ over `axes` / their extent, into a tensor without those axes (the
/// out-parameter's bytes are the same as with kept size-1 axes).
Value reduceMean(OpBuilder &b, Location loc, Value x, ArrayRef<int64_t> axes) {
  MLIRContext *ctx = b.getContext();
  auto type = tensorTypeOf(x);
  Type elem = type.getElementType();
  SmallVector<int64_t> kept;
  SmallVector<AffineExpr> outExprs;
  SmallVector<utils::IteratorType> iters;
  int64_t count = 1;
  for (int64_t d = 0; d < type.getRank(); ++d) {
    if (llvm::is_contained(axes, d)) {
      iters.push_back(utils::IteratorType::reduction);
      count *= type.getDimSize(d);
      continue;
    }
    iters.push_back(utils::IteratorType::parallel);
    kept.push_back(type.getDimSize(d));
    outExprs.push_back(getAffineDimExpr(unsigned(d), ctx));
  }
  auto sumType = RankedTensorType::get(kept, elem);
  Value init = b.create<tensor::EmptyOp>(loc, kept, elem);
  Value zero = floatConst(b, loc, elem, 0.0);
  init = b.create<linalg::FillOp>(loc, zero, init).getResult(0);
  SmallVector<AffineMap> maps = {
      AffineMap::getMultiDimIdentityMap(type.getRank(), ctx),
      AffineMap::get(unsigned(type.getRank()), 0, outExprs, ctx)};
  Value sum =
      b.create<linalg::GenericOp>(
           loc, TypeRange{sumType}, ValueRange{x}, ValueRange{init}, maps,
           iters,
           [&](OpBuilder &nb, Location nloc, ValueRange args) {
             nb.create<linalg::YieldOp>(
                 nloc, nb.create<arith::AddFOp>(nloc, args[1], args[0])
                           .getResult());
           })
          .getResult(0);
  // Divided in place (the sum's buffer is the result's).
  Value n = floatConst(b, loc, elem, double(count));
  auto id = AffineMap::getMultiDimIdentityMap(sumType.getRank(), ctx);
  SmallVector<utils::IteratorType> par(sumType.getRank(),
                                       utils::IteratorType::parallel);
  return b
      .create<linalg::GenericOp>(
          loc, TypeRange{sumType}, ValueRange{}, ValueRange{sum},
          ArrayRef<AffineMap>{id}, par,
          [&](OpBuilder &nb, Location nloc, ValueRange args) {
            nb.create<linalg::YieldOp>(
                nloc, nb.create<arith::DivFOp>(nloc, args[0], n).getResult());
          })
      .getResult(0);
}

} // namespace

bool mlir::slim::isGlueOp(Operation *op) {
  return isa<ErfOp, TanhOp, SqrtOp, ExpOp, SigmoidOp, NegOp, ReluOp, CosOp,
             SinOp, LogOp, AbsOp, FloorOp, CeilOp, RoundOp, ClampOp,
             LeakyReluOp, CastOp, AddOp, SubOp, MulOp, DivOp, PowOp, MaxOp,
             MinOp, WhereOp, CompareOp, LogicOp, NotOp, BroadcastOp,
             ReduceMeanOp,
             ReshapeOp, SliceOp, ConcatOp>(op);
}

GlueModule::GlueModule(MLIRContext *ctx) {
  DialectRegistry registry;
  arith::registerBufferizableOpInterfaceExternalModels(registry);
  linalg::registerBufferizableOpInterfaceExternalModels(registry);
  tensor::registerBufferizableOpInterfaceExternalModels(registry);
  bufferization::func_ext::registerBufferizableOpInterfaceExternalModels(
      registry);
  ctx->appendDialectRegistry(registry);
  ctx->loadDialect<affine::AffineDialect, arith::ArithDialect,
                   bufferization::BufferizationDialect, cf::ControlFlowDialect,
                   func::FuncDialect, linalg::LinalgDialect,
                   LLVM::LLVMDialect, math::MathDialect, memref::MemRefDialect,
                   scf::SCFDialect, tensor::TensorDialect, ub::UBDialect>();
  mod = ModuleOp::create(UnknownLoc::get(ctx));
}

template <typename BuildFn>
std::string GlueModule::getOrCreate(const std::string &key, TypeRange inputs,
                                    RankedTensorType outType, BuildFn build) {
  auto it = byKey.find(key);
  if (it != byKey.end())
    return it->second;
  MLIRContext *ctx = mod->getContext();
  std::string name = "slim_glue_" + std::to_string(byKey.size());
  OpBuilder b(ctx);
  b.setInsertionPointToEnd(mod->getBody());
  Location loc = NameLoc::get(StringAttr::get(ctx, key));
  SmallVector<Type> args(inputs.begin(), inputs.end());
  args.push_back(
      MemRefType::get(outType.getShape(), outType.getElementType()));
  auto fn = b.create<func::FuncOp>(
      loc, name, b.getFunctionType(args, {b.getI32Type()}));
  fn.setPrivate();
  Block *entry = fn.addEntryBlock();
  b.setInsertionPointToStart(entry);
  Value result = build(b, loc, entry->getArguments().drop_back());
  b.create<bufferization::MaterializeInDestinationOp>(
      loc, TypeRange{}, result, entry->getArguments().back(),
      /*restrict=*/true, /*writable=*/true);
  b.create<func::ReturnOp>(
      loc, ValueRange{b.create<arith::ConstantIntOp>(loc, 0, 32)});
  byKey[key] = name;
  return name;
}

std::string GlueModule::outlineCopy(RankedTensorType type) {
  std::string key;
  llvm::raw_string_ostream os(key);
  os << "copy " << type;
  return getOrCreate(key, {type}, type,
                     [](OpBuilder &, Location, ValueRange args) {
                       return args[0];
                     });
}

FailureOr<std::string> GlueModule::outline(Operation *op) {
  if (isa<ReshapeOp>(op))
    return outlineCopy(tensorTypeOf(op->getOperand(0)));
  // The key: the op's name, attributes and types.
  std::string key;
  llvm::raw_string_ostream os(key);
  os << op->getName() << " " << op->getAttrDictionary() << " : ";
  llvm::interleaveComma(op->getOperandTypes(), os);
  os << " -> " << op->getResultTypes();
  auto outType = tensorTypeOf(op->getResult(0));
  // The buffer a reduction writes has no kept size-1 axes.
  RankedTensorType bufferType = outType;
  SmallVector<int64_t> axes;
  if (auto r = dyn_cast<ReduceMeanOp>(op)) {
    int64_t rank = tensorTypeOf(r.getInput()).getRank();
    SmallVector<int64_t> kept;
    for (int64_t a : r.getAxes())
      axes.push_back(*normalizeAxis(a, rank));
    for (int64_t d = 0; d < rank; ++d)
      if (!llvm::is_contained(axes, d))
        kept.push_back(tensorTypeOf(r.getInput()).getDimSize(d));
    bufferType = RankedTensorType::get(kept, outType.getElementType());
  }
  auto unary = [&](ScalarFn f) {
    return [=](OpBuilder &b, Location loc, ValueRange args) {
      return elementwise(b, loc, outType, args, f);
    };
  };
  using Build = std::function<Value(OpBuilder &, Location, ValueRange)>;
  Build build =
      llvm::TypeSwitch<Operation *, Build>(op)
          .Case<ErfOp>([&](auto) {
            return unary([](OpBuilder &b, Location l, ValueRange a) {
              return b.create<math::ErfOp>(l, a[0]);
            });
          })
          .Case<TanhOp>([&](auto) {
            return unary([](OpBuilder &b, Location l, ValueRange a) {
              return b.create<math::TanhOp>(l, a[0]);
            });
          })
          .Case<SqrtOp>([&](auto) {
            return unary([](OpBuilder &b, Location l, ValueRange a) {
              return b.create<math::SqrtOp>(l, a[0]);
            });
          })
          .Case<ExpOp>([&](auto) {
            return unary([](OpBuilder &b, Location l, ValueRange a) {
              return b.create<math::ExpOp>(l, a[0]);
            });
          })
          .Case<SigmoidOp>([&](auto) {
            return unary([](OpBuilder &b, Location l, ValueRange a) {
              Type t = a[0].getType();
              Value e = b.create<math::ExpOp>(
                  l, b.create<arith::NegFOp>(l, a[0]));
              Value one = floatConst(b, l, t, 1.0);
              return b.create<arith::DivFOp>(
                  l, one, b.create<arith::AddFOp>(l, one, e));
            });
          })
          .Case<NegOp>([&](auto) {
            return unary([](OpBuilder &b, Location l, ValueRange a) {
              return b.create<arith::NegFOp>(l, a[0]);
            });
          })
          .Case<ReluOp>([&](auto) {
            return unary([](OpBuilder &b, Location l, ValueRange a) {
              return b.create<arith::MaximumFOp>(
                  l, a[0], floatConst(b, l, a[0].getType(), 0.0));
            });
          })
          .Case<ClampOp>([&](ClampOp c) {
            double lo = c.getMin().convertToDouble(),
                   hi = c.getMax().convertToDouble();
            // maximumf / minimumf propagate NaN, as ONNX's Clip does.
            return unary([lo, hi](OpBuilder &b, Location l, ValueRange a) {
              Type t = a[0].getType();
              Value up = b.create<arith::MaximumFOp>(l, a[0],
                                                     floatConst(b, l, t, lo));
              return b.create<arith::MinimumFOp>(l, up,
                                                 floatConst(b, l, t, hi));
            });
          })
          .Case<LeakyReluOp>([&](LeakyReluOp r) {
            double alpha = r.getAlpha().convertToDouble();
            return unary([alpha](OpBuilder &b, Location l, ValueRange a) {
              Type t = a[0].getType();
              Value neg = b.create<arith::CmpFOp>(
                  l, arith::CmpFPredicate::OLT, a[0], floatConst(b, l, t, 0.0));
              Value scaled = b.create<arith::MulFOp>(
                  l, a[0], floatConst(b, l, t, alpha));
              return b.create<arith::SelectOp>(l, neg, scaled, a[0]);
            });
          })
          .Case<CosOp>([&](auto) {
            return unary([](OpBuilder &b, Location l, ValueRange a) {
              return b.create<math::CosOp>(l, a[0]);
            });
          })
          .Case<LogOp>([&](auto) {
            return unary([](OpBuilder &b, Location l, ValueRange a) {
              return b.create<math::LogOp>(l, a[0]);
            });
          })
          .Case<AbsOp>([&](auto) {
            return unary([](OpBuilder &b, Location l, ValueRange a) {
              return b.create<math::AbsFOp>(l, a[0]);
            });
          })
          .Case<FloorOp>([&](auto) {
            return unary([](OpBuilder &b, Location l, ValueRange a) {
              return b.create<math::FloorOp>(l, a[0]);
            });
          })
          .Case<CeilOp>([&](auto) {
            return unary([](OpBuilder &b, Location l, ValueRange a) {
              return b.create<math::CeilOp>(l, a[0]);
            });
          })
          .Case<RoundOp>([&](auto) {
            return unary([](OpBuilder &b, Location l, ValueRange a) {
              return b.create<math::RoundEvenOp>(l, a[0]);
            });
          })
          .Case<MaxOp>([&](auto) {
            return unary([](OpBuilder &b, Location l, ValueRange a) {
              return b.create<arith::MaximumFOp>(l, a[0], a[1]);
            });
          })
          .Case<MinOp>([&](auto) {
            return unary([](OpBuilder &b, Location l, ValueRange a) {
              return b.create<arith::MinimumFOp>(l, a[0], a[1]);
            });
          })
          .Case<SinOp>([&](auto) {
            return unary([](OpBuilder &b, Location l, ValueRange a) {
              return b.create<math::SinOp>(l, a[0]);
            });
          })
          .Case<CastOp>([&](auto) {
            return unary([](OpBuilder &b, Location l, ValueRange a) -> Value {
              Type f32 = b.getF32Type();
              if (a[0].getType().isInteger(1))
                return b.create<arith::UIToFPOp>(l, f32, a[0]);
              return b.create<arith::SIToFPOp>(l, f32, a[0]);
            });
          })
          .Case<AddOp>([&](auto) {
            return unary([](OpBuilder &b, Location l, ValueRange a) {
              return b.create<arith::AddFOp>(l, a[0], a[1]);
            });
          })
          .Case<SubOp>([&](auto) {
            return unary([](OpBuilder &b, Location l, ValueRange a) {
              return b.create<arith::SubFOp>(l, a[0], a[1]);
            });
          })
          .Case<MulOp>([&](auto) {
            return unary([](OpBuilder &b, Location l, ValueRange a) {
              return b.create<arith::MulFOp>(l, a[0], a[1]);
            });
          })
          .Case<DivOp>([&](auto) {
            return unary([](OpBuilder &b, Location l, ValueRange a) {
              return b.create<arith::DivFOp>(l, a[0], a[1]);
            });
          })
          .Case<PowOp>([&](auto) {
            return unary([](OpBuilder &b, Location l, ValueRange a) {
              return b.create<math::PowFOp>(l, a[0], a[1]);
            });
          })
          .Case<CompareOp>([&](CompareOp c) {
            CompareKind kind = c.getKind();
            return unary([kind](OpBuilder &b, Location l,
                                ValueRange a) -> Value {
              if (isa<FloatType>(a[0].getType())) {
                // Ordered: false when either is NaN, as ONNX.
                auto pred = kind == CompareKind::eq   ? arith::CmpFPredicate::OEQ
                            : kind == CompareKind::lt ? arith::CmpFPredicate::OLT
                            : kind == CompareKind::le ? arith::CmpFPredicate::OLE
                            : kind == CompareKind::gt ? arith::CmpFPredicate::OGT
                                                      : arith::CmpFPredicate::OGE;
                return b.create<arith::CmpFOp>(l, pred, a[0], a[1]);
              }
              auto pred = kind == CompareKind::eq   ? arith::CmpIPredicate::eq
                          : kind == CompareKind::lt ? arith::CmpIPredicate::slt
                          : kind == CompareKind::le ? arith::CmpIPredicate::sle
                          : kind == CompareKind::gt ? arith::CmpIPredicate::sgt
                                                    : arith::CmpIPredicate::sge;
              return b.create<arith::CmpIOp>(l, pred, a[0], a[1]);
            });
          })
          .Case<LogicOp>([&](LogicOp lo) {
            LogicKind kind = lo.getKind();
            return unary([kind](OpBuilder &b, Location l,
                                ValueRange a) -> Value {
              if (kind == LogicKind::and_)
                return b.create<arith::AndIOp>(l, a[0], a[1]);
              if (kind == LogicKind::or_)
                return b.create<arith::OrIOp>(l, a[0], a[1]);
              return b.create<arith::XOrIOp>(l, a[0], a[1]);
            });
          })
          .Case<NotOp>([&](auto) {
            return unary([](OpBuilder &b, Location l, ValueRange a) -> Value {
              Value one = b.create<arith::ConstantOp>(l, b.getBoolAttr(true));
              return b.create<arith::XOrIOp>(l, a[0], one);
            });
          })
          .Case<WhereOp>([&](auto) {
            return unary([](OpBuilder &b, Location l, ValueRange a) {
              return b.create<arith::SelectOp>(l, a[0], a[1], a[2]);
            });
          })
          .Case<BroadcastOp>([&](auto) {
            return unary(
                [](OpBuilder &, Location, ValueRange a) { return a[0]; });
          })
          .Case<ReduceMeanOp>([&](auto) -> Build {
            return [axes](OpBuilder &b, Location l, ValueRange a) {
              return reduceMean(b, l, a[0], axes);
            };
          })
          .Case<SliceOp>([&](SliceOp s) -> Build {
            SmallVector<int64_t> off(s.getOffsets()), sizes(s.getSizes()),
                strides(s.getStrides());
            return [=](OpBuilder &b, Location l, ValueRange a) {
              MLIRContext *ctx = b.getContext();
              return b
                  .create<tensor::ExtractSliceOp>(
                      l, outType, a[0], getAsIndexOpFoldResult(ctx, off),
                      getAsIndexOpFoldResult(ctx, sizes),
                      getAsIndexOpFoldResult(ctx, strides))
                  .getResult();
            };
          })
          .Case<ConcatOp>([&](ConcatOp c) -> Build {
            int64_t axis = *normalizeAxis(static_cast<int64_t>(c.getAxis()),
                                          outType.getRank());
            return [=](OpBuilder &b, Location l, ValueRange a) {
              Value acc = b.create<tensor::EmptyOp>(
                  l, outType.getShape(), outType.getElementType());
              SmallVector<int64_t> off(outType.getRank(), 0),
                  strides(outType.getRank(), 1);
              for (Value in : a) {
                auto shape = tensorTypeOf(in).getShape();
                MLIRContext *ctx = b.getContext();
                acc = b.create<tensor::InsertSliceOp>(
                    l, in, acc, getAsIndexOpFoldResult(ctx, off),
                    getAsIndexOpFoldResult(ctx, shape),
                    getAsIndexOpFoldResult(ctx, strides));
                off[axis] += shape[axis];
              }
              return acc;
            };
          })
          .Default([](Operation *) { return Build(); });
  if (!build)
    return op->emitError("no glue lowering for this op");
  return getOrCreate(key, op->getOperandTypes(), bufferType, build);
}

LogicalResult GlueModule::lower(Stage stage) {
  if (stage == Stage::Linalg)
    return success();
  MLIRContext *ctx = mod->getContext();
  // Tensors to buffers: every tensor.empty feeding the result becomes the
  // out-parameter (no allocation), function arguments identity-layout
  // memrefs.
  IRRewriter rewriter(ctx);
  if (failed(bufferization::eliminateEmptyTensors(rewriter, *mod)))
    return mod->emitError("glue: empty tensor elimination failed");
  bufferization::OneShotBufferizationOptions options;
  options.bufferizeFunctionBoundaries = true;
  options.setFunctionBoundaryTypeConversion(
      bufferization::LayoutMapOption::IdentityLayoutMap);
  if (failed(bufferization::runOneShotModuleBufferize(*mod, options)))
    return mod->emitError("glue: bufferization failed");
  // Copies (slices, concatenations, reshapes) as linalg.copy, lowered to
  // loops below, rather than calls of MLIR's C runner library; a result
  // computed in place leaves a copy onto itself, dropped. (No canonicalizer
  // on buffers here: MLIR 19's folds an identity linalg.transpose on memrefs
  // away, writing nothing.)
  mod->walk([&](memref::CopyOp copy) {
    if (copy.getSource() == copy.getTarget()) {
      copy.erase();
      return;
    }
    OpBuilder b(copy);
    b.create<linalg::CopyOp>(copy.getLoc(), copy.getSource(),
                             copy.getTarget());
    copy.erase();
  });
  // Heap allocations would be a bug (every buffer is an argument).
  WalkResult alloc = mod->walk([](memref::AllocOp a) {
    a.emitError("glue: unexpected buffer allocation");
    return WalkResult::interrupt();
  });
  if (alloc.wasInterrupted())
    return failure();
  if (stage == Stage::Buffers)
    return success();

  PassManager pm(ctx);
  pm.addPass(createConvertLinalgToLoopsPass());
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(createLowerAffinePass());
  pm.addPass(createConvertSCFToCFPass());
  pm.addPass(createConvertMathToLLVMPass());
  pm.addPass(createConvertMathToLibmPass()); // erf: libm's erff
  pm.addPass(createArithToLLVMConversionPass());
  pm.addPass(createFinalizeMemRefToLLVMConversionPass());
  ConvertFuncToLLVMPassOptions funcOptions;
  funcOptions.useBarePtrCallConv = true;
  pm.addPass(createConvertFuncToLLVMPass(funcOptions));
  pm.addPass(createConvertControlFlowToLLVMPass());
  pm.addPass(createUBToLLVMConversionPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
  pm.addPass(createCanonicalizerPass());
  if (failed(pm.run(*mod)))
    return mod->emitError("glue: lowering to the LLVM dialect failed");
  return success();
}
