//===- SlimDialect.td - the slim dialect and its enums -----*- tablegen -*-===//
//
// The slim dialect: transformer-level ops on static-shaped tensors, plus the
// primitives an importer produces before `slim-raise` recognizes them.
//
//===----------------------------------------------------------------------===//

#ifndef SLIM_DIALECT_TD
#define SLIM_DIALECT_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/EnumAttr.td"

def Slim_Dialect : Dialect {
  let name = "slim";
  let cppNamespace = "::mlir::slim";
  let summary = "Transformer models at the level where Slim's optimizations are stated";
  let description = [{
    The `slim` dialect represents a transformer model so that the passes of
    Slim can be stated directly on it:

    * `slim.residual` makes the residual stream visible: `y = x + body(x)`,
      tagged with the sublayer `kind` (attention or mlp) and the `layer`
      index. Layer dropping replaces a residual by its input, LayerNorm to
      RMSNorm walks the chain of residuals, token merging inserts between the
      attention and MLP residual of a layer.
    * transformer ops (`embedding`, `layer_norm`, `rms_norm`, `linear`,
      `qlinear`, `attention`, `rope`, `gelu`, `silu`, `softmax`,
      `token_merge`) and broadcasting arithmetic (`add`, `sub`, `mul`, `div`,
      `pow`).
    * primitives an importer needs before raising (`matmul`, `transpose`,
      `reshape`, `reduce_mean`, `slice`, `concat`, `where`, `erf`, `tanh`,
      `sqrt`, `exp`).

    Shapes are static: batch, sequence length and image size are compile
    options. Weights are `dense_resource` constants (`arith.constant`), so a
    module is self-contained.
  }];
}

class Slim_Op<string mnemonic, list<Trait> traits = []>
    : Op<Slim_Dialect, mnemonic, traits>;

//===----------------------------------------------------------------------===//
// Enums
//===----------------------------------------------------------------------===//

def Slim_ResidualKindAttr : I32EnumAttr<"ResidualKind",
    "the sublayer inside a residual", [
      I32EnumAttrCase<"attention", 0>,
      I32EnumAttrCase<"mlp", 1>,
    ]> {
  let cppNamespace = "::mlir::slim";
}

def Slim_GeluApproximationAttr : I32EnumAttr<"GeluApproximation",
    "how GELU is computed", [
      I32EnumAttrCase<"exact", 0>,
      I32EnumAttrCase<"tanh", 1>,
    ]> {
  let cppNamespace = "::mlir::slim";
}

def Slim_LinearActivationAttr : I32EnumAttr<"LinearActivation",
    "an activation fused into a linear layer's epilogue", [
      I32EnumAttrCase<"gelu_exact", 0>,
      I32EnumAttrCase<"gelu_tanh", 1>,
      I32EnumAttrCase<"silu", 2>,
      I32EnumAttrCase<"relu", 3>,
      I32EnumAttrCase<"relu6", 4>,
      I32EnumAttrCase<"hardswish", 5>]> {
  let cppNamespace = "::mlir::slim";
}

def Slim_PreNormAttr : I32EnumAttr<"PreNorm",
    "a normalization a quantized linear applies to its input rows", [
      I32EnumAttrCase<"layer_norm", 0>,
      I32EnumAttrCase<"rms_norm", 1>]> {
  let cppNamespace = "::mlir::slim";
}

def Slim_QuantActivationAttr : I32EnumAttr<"QuantActivation",
    "how the activations of a quantized linear are quantized", [
      I32EnumAttrCase<"none", 0>,
      I32EnumAttrCase<"dynamic", 1>,
      I32EnumAttrCase<"static_", 2, "static">,
    ]> {
  let cppNamespace = "::mlir::slim";
}

def Slim_MergeMethodAttr : I32EnumAttr<"MergeMethod",
    "the token merging method", [
      I32EnumAttrCase<"tome", 0>,
      I32EnumAttrCase<"mctf", 1>,
    ]> {
  let cppNamespace = "::mlir::slim";
}

def Slim_ReduceKindAttr : I32EnumAttr<"ReduceKind", "a reduction", [
      I32EnumAttrCase<"sum", 0>,
      I32EnumAttrCase<"max", 1>,
      I32EnumAttrCase<"min", 2>,
      I32EnumAttrCase<"prod", 3>,
      I32EnumAttrCase<"l1", 4>,
      I32EnumAttrCase<"l2", 5>,
      I32EnumAttrCase<"sum_square", 6>,
      I32EnumAttrCase<"log_sum", 7>,
      I32EnumAttrCase<"log_sum_exp", 8>]> {
  let cppNamespace = "::mlir::slim";
}

def Slim_PoolKindAttr : I32EnumAttr<"PoolKind", "a pooling reduction", [
      I32EnumAttrCase<"max", 0>,
      I32EnumAttrCase<"avg", 1>]> {
  let cppNamespace = "::mlir::slim";
}

def Slim_ExtremumAttr : I32EnumAttr<"Extremum", "the largest or smallest", [
      I32EnumAttrCase<"max", 0>,
      I32EnumAttrCase<"min", 1>]> {
  let cppNamespace = "::mlir::slim";
}

def Slim_PadModeAttr : I32EnumAttr<"PadMode", "what fills a padding", [
      I32EnumAttrCase<"constant", 0>,
      I32EnumAttrCase<"reflect", 1>,
      I32EnumAttrCase<"edge", 2>,
      I32EnumAttrCase<"wrap", 3>]> {
  let cppNamespace = "::mlir::slim";
}

def Slim_ResizeModeAttr : I32EnumAttr<"ResizeMode", "an interpolation", [
      I32EnumAttrCase<"nearest", 0>,
      I32EnumAttrCase<"linear", 1>,
      I32EnumAttrCase<"cubic", 2>]> {
  let cppNamespace = "::mlir::slim";
}

def Slim_ResizeCoordinatesAttr : I32EnumAttr<"ResizeCoordinates",
    "how an output coordinate maps to the input", [
      I32EnumAttrCase<"half_pixel", 0>,
      I32EnumAttrCase<"pytorch_half_pixel", 1>,
      I32EnumAttrCase<"align_corners", 2>,
      I32EnumAttrCase<"asymmetric", 3>,
      I32EnumAttrCase<"tf_half_pixel_for_nn", 4>]> {
  let cppNamespace = "::mlir::slim";
}

def Slim_NearestModeAttr : I32EnumAttr<"NearestMode",
    "how a nearest resize rounds", [
      I32EnumAttrCase<"round_prefer_floor", 0>,
      I32EnumAttrCase<"round_prefer_ceil", 1>,
      I32EnumAttrCase<"floor", 2>,
      I32EnumAttrCase<"ceil", 3>]> {
  let cppNamespace = "::mlir::slim";
}

def Slim_CompareKindAttr : I32EnumAttr<"CompareKind", "a comparison", [
      I32EnumAttrCase<"eq", 0>,
      I32EnumAttrCase<"lt", 1>,
      I32EnumAttrCase<"le", 2>,
      I32EnumAttrCase<"gt", 3>,
      I32EnumAttrCase<"ge", 4>]> {
  let cppNamespace = "::mlir::slim";
}

def Slim_LogicKindAttr : I32EnumAttr<"LogicKind", "a logical connective", [
      I32EnumAttrCase<"and_", 0, "and">,
      I32EnumAttrCase<"or_", 1, "or">,
      I32EnumAttrCase<"xor_", 2, "xor">]> {
  let cppNamespace = "::mlir::slim";
}

//===----------------------------------------------------------------------===//
// Type constraints
//===----------------------------------------------------------------------===//

def Slim_FloatTensor : StaticShapeTensorOf<[AnyFloat]>;
def Slim_IndexTensor : StaticShapeTensorOf<[AnySignlessInteger]>;
def Slim_BoolTensor : StaticShapeTensorOf<[I1]>;
// What ONNX compares: float32, or int64 / int32.
def Slim_NumericTensor : StaticShapeTensorOf<[F32, I64, I32]>;
def Slim_QWeightTensor : StaticShapeTensorOf<[I8, I<4>]>;
def Slim_ZeroPointTensor : StaticShapeTensorOf<[I8, I<4>, UI8]>;

#endif // SLIM_DIALECT_TD
