//===- Registry.cpp - the ONNX op types Slim imports
//-----------------------===//
//
// One entry per op type: the member that folds it at import time (when its
// inputs are known), whether it folds with run-time inputs too, and the
// member that emits it as slim ops. checkSupported() reports every type
// missing from this table; an op with a folder and no emitter is refused on
// run-time values with that reason.
//
//===----------------------------------------------------------------------===//

#include "importers/onnx/OnnxImporter.h"

using namespace mlir;
using namespace mlir::slim::onnx_import;

std::string mlir::slim::onnx_import::opKey(const onnx::NodeProto &n) {
  if (n.domain().empty() || n.domain() == "ai.onnx")
    return n.op_type();
  return n.domain() + "::" + n.op_type();
}

const llvm::StringMap<OpInfo> &mlir::slim::onnx_import::opRegistry() {
  static const llvm::StringMap<OpInfo> registry = {
      {"Abs", {nullptr, false, &NodeEmitter::emitMathUnary}},
      {"Xor", {nullptr, false, &NodeEmitter::emitLogic}},
      {"Elu", {nullptr, false, &NodeEmitter::emitCompositeActivation}},
      {"Selu", {nullptr, false, &NodeEmitter::emitCompositeActivation}},
      {"Celu", {nullptr, false, &NodeEmitter::emitCompositeActivation}},
      {"ThresholdedRelu", {nullptr, false, &NodeEmitter::emitCompositeActivation}},
      {"Shrink", {nullptr, false, &NodeEmitter::emitCompositeActivation}},
      {"PRelu", {nullptr, false, &NodeEmitter::emitCompositeActivation}},
      {"Softplus", {nullptr, false, &NodeEmitter::emitCompositeActivation}},
      {"Softsign", {nullptr, false, &NodeEmitter::emitCompositeActivation}},
      {"Sign", {nullptr, false, &NodeEmitter::emitCompositeActivation}},
      {"IsInf", {nullptr, false, &NodeEmitter::emitIsInfNaN}},
      {"IsNaN", {nullptr, false, &NodeEmitter::emitIsInfNaN}},
      {"Sum", {nullptr, false, &NodeEmitter::emitSumMean}},
      {"Mean", {nullptr, false, &NodeEmitter::emitSumMean}},
      {"ArgMax", {nullptr, false, &NodeEmitter::emitArgReduce}},
      {"ArgMin", {nullptr, false, &NodeEmitter::emitArgReduce}},
      {"Add", {&NodeFolder::foldBinary, false, &NodeEmitter::emitArithmetic}},
      {"Ceil", {nullptr, false, &NodeEmitter::emitMathUnary}},
      {"Floor", {nullptr, false, &NodeEmitter::emitMathUnary}},
      {"Log", {nullptr, false, &NodeEmitter::emitMathUnary}},
      {"Max", {nullptr, false, &NodeEmitter::emitMinMax}},
      {"Min", {nullptr, false, &NodeEmitter::emitMinMax}},
      {"Round", {nullptr, false, &NodeEmitter::emitMathUnary}},
      {"And", {&NodeFolder::foldBinary, false, &NodeEmitter::emitLogic}},
      {"Cast", {&NodeFolder::foldCast, false, &NodeEmitter::emitCast}},
      {"Concat", {&NodeFolder::foldConcat, false, &NodeEmitter::emitConcat}},
      {"Constant", {&NodeFolder::foldConstant, true, nullptr}},
      {"ConstantOfShape", {&NodeFolder::foldConstantOfShape, false, nullptr}},
      {"AveragePool", {nullptr, false, &NodeEmitter::emitPool}},
      {"BatchNormalization",
       {nullptr, false, &NodeEmitter::emitBatchNormalization}},
      {"Conv", {nullptr, false, &NodeEmitter::emitConv}},
      {"Cos", {&NodeFolder::foldUnary, false, &NodeEmitter::emitCos}},
      {"CumSum", {&NodeFolder::foldCumSum, false, nullptr}},
      {"Div", {&NodeFolder::foldBinary, false, &NodeEmitter::emitArithmetic}},
      {"Dropout", {nullptr, false, &NodeEmitter::emitDropout}},
      {"Equal", {&NodeFolder::foldBinary, false, &NodeEmitter::emitCompare}},
      {"Erf", {&NodeFolder::foldUnary, false, &NodeEmitter::emitErf}},
      {"Exp", {&NodeFolder::foldUnary, false, &NodeEmitter::emitExp}},
      {"Expand",
       {&NodeFolder::foldExpand, false, &NodeEmitter::emitReshapeLike}},
      {"Flatten", {nullptr, false, &NodeEmitter::emitFlatten}},
      {"Gather", {&NodeFolder::foldGather, false, &NodeEmitter::emitSliceLike}},
      {"Gemm", {nullptr, false, &NodeEmitter::emitGemm}},
      {"GlobalMaxPool", {nullptr, false, &NodeEmitter::emitPool}},
      {"GlobalAveragePool",
       {nullptr, false, &NodeEmitter::emitGlobalAveragePool}},
      {"Greater", {&NodeFolder::foldBinary, false, &NodeEmitter::emitCompare}},
      {"GreaterOrEqual", {&NodeFolder::foldBinary, false, &NodeEmitter::emitCompare}},
      {"Identity",
       {&NodeFolder::foldIdentity, false, &NodeEmitter::emitIdentity}},
      {"LayerNormalization",
       {nullptr, false, &NodeEmitter::emitLayerNormalization}},
      {"Less", {&NodeFolder::foldBinary, false, &NodeEmitter::emitCompare}},
      {"LessOrEqual", {&NodeFolder::foldBinary, false, &NodeEmitter::emitCompare}},
      {"LogSoftmax", {nullptr, false, &NodeEmitter::emitLogSoftmax}},
      {"MatMul", {nullptr, false, &NodeEmitter::emitMatMul}},
      {"MaxPool", {nullptr, false, &NodeEmitter::emitPool}},
      {"Mod", {&NodeFolder::foldBinary, false, nullptr}},
      {"Mul", {&NodeFolder::foldBinary, false, &NodeEmitter::emitArithmetic}},
      {"Neg", {&NodeFolder::foldUnary, false, &NodeEmitter::emitNeg}},
      {"LeakyRelu", {nullptr, false, &NodeEmitter::emitLeakyRelu}},
      {"HardSigmoid", {nullptr, false, &NodeEmitter::emitHardSigmoid}},
      {"HardSwish", {nullptr, false, &NodeEmitter::emitHardSwish}},
      {"Clip", {nullptr, false, &NodeEmitter::emitClip}},
      {"Not", {&NodeFolder::foldUnary, false, &NodeEmitter::emitNot}},
      {"Or", {&NodeFolder::foldBinary, false, &NodeEmitter::emitLogic}},
      {"Pad", {&NodeFolder::foldPad, false, &NodeEmitter::emitPad}},
      {"Pow", {&NodeFolder::foldBinary, false, &NodeEmitter::emitArithmetic}},
      {"Range", {&NodeFolder::foldRange, false, nullptr}},
      {"Reciprocal",
       {&NodeFolder::foldUnary, false, &NodeEmitter::emitReciprocal}},
      {"ReduceMean", {nullptr, false, &NodeEmitter::emitReduceMean}},
      {"ReduceSum", {nullptr, false, &NodeEmitter::emitReduce}},
      {"ReduceMax", {nullptr, false, &NodeEmitter::emitReduce}},
      {"ReduceMin", {nullptr, false, &NodeEmitter::emitReduce}},
      {"ReduceProd", {nullptr, false, &NodeEmitter::emitReduce}},
      {"ReduceL1", {nullptr, false, &NodeEmitter::emitReduce}},
      {"ReduceL2", {nullptr, false, &NodeEmitter::emitReduce}},
      {"ReduceSumSquare", {nullptr, false, &NodeEmitter::emitReduce}},
      {"ReduceLogSum", {nullptr, false, &NodeEmitter::emitReduce}},
      {"ReduceLogSumExp", {nullptr, false, &NodeEmitter::emitReduce}},
      {"Relu", {&NodeFolder::foldUnary, false, &NodeEmitter::emitRelu}},
      {"Reshape",
       {&NodeFolder::foldReshape, false, &NodeEmitter::emitReshapeLike}},
      {"ScatterND", {&NodeFolder::foldScatterND, false, nullptr}},
      {"Shape", {&NodeFolder::foldShape, true, nullptr}},
      {"Size", {&NodeFolder::foldSize, true, nullptr}},
      {"Sigmoid", {&NodeFolder::foldUnary, false, &NodeEmitter::emitSigmoid}},
      {"Sin", {&NodeFolder::foldUnary, false, &NodeEmitter::emitSin}},
      {"Slice", {&NodeFolder::foldSlice, false, &NodeEmitter::emitSliceLike}},
      {"Softmax", {nullptr, false, &NodeEmitter::emitSoftmax}},
      {"Split", {nullptr, false, &NodeEmitter::emitSliceLike}},
      {"Sqrt", {&NodeFolder::foldUnary, false, &NodeEmitter::emitSqrt}},
      {"Squeeze",
       {&NodeFolder::foldSqueezeLike, false, &NodeEmitter::emitReshapeLike}},
      {"Sub", {&NodeFolder::foldBinary, false, &NodeEmitter::emitArithmetic}},
      {"Tanh", {&NodeFolder::foldUnary, false, &NodeEmitter::emitTanh}},
      {"Transpose",
       {&NodeFolder::foldTranspose, false, &NodeEmitter::emitTranspose}},
      {"Trilu", {&NodeFolder::foldTrilu, false, nullptr}},
      {"Unsqueeze",
       {&NodeFolder::foldSqueezeLike, false, &NodeEmitter::emitReshapeLike}},
      {"Where", {&NodeFolder::foldWhere, false, &NodeEmitter::emitWhere}},
      // ONNX Runtime's fused ops, as its optimizer saves them.
      {"com.microsoft::FusedMatMul",
       {nullptr, false, &NodeEmitter::emitFusedMatMul}},
      {"com.microsoft::Gelu", {nullptr, false, &NodeEmitter::emitContribGelu}},
      {"com.microsoft::BiasGelu",
       {nullptr, false, &NodeEmitter::emitContribGelu}},
      {"com.microsoft::FastGelu",
       {nullptr, false, &NodeEmitter::emitContribGelu}},
      {"com.microsoft::QuickGelu",
       {nullptr, false, &NodeEmitter::emitQuickGelu}},
      {"com.microsoft::SkipLayerNormalization",
       {nullptr, false, &NodeEmitter::emitContribNorm}},
      {"com.microsoft::SkipSimplifiedLayerNormalization",
       {nullptr, false, &NodeEmitter::emitContribNorm}},
      // ORT writes these in the default domain; the importer moves them to
      // com.microsoft before ONNX's checker, which does not know them.
      {"com.microsoft::SimplifiedLayerNormalization",
       {nullptr, false, &NodeEmitter::emitContribNorm}},
      {"com.microsoft::LayerNormalization",
       {nullptr, false, &NodeEmitter::emitLayerNormalization}},
  };
  return registry;
}
