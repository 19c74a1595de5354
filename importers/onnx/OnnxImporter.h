//===- OnnxImporter.h - the ONNX importer's internals -----------*- C++ -*-===//
//
// Internal to importers/onnx/: host tensors (values known at import time),
// the importer's state, and the op registry. Importer.cpp loads and checks
// a model and walks its graph; for each node the registry (Registry.cpp)
// gives the op's folder (Fold.cpp: evaluation at import time when the
// inputs are known) and emitter (Emit.cpp: slim ops on run-time values).
// The list of supported op types is the registry's keys.
//
//===----------------------------------------------------------------------===//

#ifndef IMPORTERS_ONNX_ONNXIMPORTER_H
#define IMPORTERS_ONNX_ONNXIMPORTER_H

#include "importers/Import.h"

#include "dialects/slim/IR/SlimOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"

#include "onnx/defs/schema.h"
#include "onnx/onnx_pb.h"

#include <cmath>
#include <limits>
#include <map>
#include <numeric>
#include <optional>
#include <string>
#include <vector>

namespace mlir::slim::onnx_import {

//===----------------------------------------------------------------------===//
// Host tensors: values known at import time
//===----------------------------------------------------------------------===//

/// A tensor known at import time. Floats are kept as f32, integers (all
/// widths) as int64, booleans as 0/1 int64; `dtype` is the ONNX type.
struct HostTensor {
  int32_t dtype = onnx::TensorProto::FLOAT;
  std::vector<int64_t> shape;
  std::vector<float> f;
  std::vector<int64_t> i;

  bool isFloat() const { return dtype == onnx::TensorProto::FLOAT; }
  int64_t size() const {
    return std::accumulate(shape.begin(), shape.end(), int64_t(1),
                           std::multiplies<int64_t>());
  }
  double at(int64_t k) const { return isFloat() ? f[k] : double(i[k]); }
  void resize(int64_t n) {
    if (isFloat())
      f.assign(n, 0.0f);
    else
      i.assign(n, 0);
  }
  /// Integer types saturate (NaN gives 0): a double outside int64's range
  /// has no defined conversion, and folded graphs may compute one.
  void set(int64_t k, double v) {
    if (isFloat())
      f[k] = float(v);
    else if (std::isnan(v))
      i[k] = 0;
    else if (v >= 9223372036854775807.0)
      i[k] = std::numeric_limits<int64_t>::max();
    else if (v <= -9223372036854775808.0)
      i[k] = std::numeric_limits<int64_t>::min();
    else
      i[k] = int64_t(v);
  }
};

bool isIntType(int32_t t);
const char *dtypeName(int32_t t);
std::vector<int64_t> strides(const std::vector<int64_t> &shape);
/// Index into a tensor of `shape` for output coordinates `idx` of a
/// broadcast result (trailing alignment, extent-1 axes repeat).
int64_t broadcastIndex(const std::vector<int64_t> &shape,
                       const std::vector<int64_t> &idx);
/// A resource key the MLIR parser reads back as a bare identifier
/// ("onnx::MatMul_260" -> "onnx__MatMul_260").
std::string resourceKey(StringRef name);

const onnx::AttributeProto *findAttr(const onnx::NodeProto &n, StringRef name);
int64_t intAttr(const onnx::NodeProto &n, StringRef name, int64_t dflt);
float floatAttr(const onnx::NodeProto &n, StringRef name, float dflt);
std::optional<std::vector<int64_t>> intsAttr(const onnx::NodeProto &n,
                                             StringRef name);
int64_t normAxis(int64_t axis, int64_t rank);

/// Iterates over all coordinates of `shape` in row-major order.
template <typename Fn>
void forEachIndex(const std::vector<int64_t> &shape, Fn fn) {
  int64_t n = std::accumulate(shape.begin(), shape.end(), int64_t(1),
                              std::multiplies<int64_t>());
  std::vector<int64_t> idx(shape.size(), 0);
  for (int64_t k = 0; k < n; ++k) {
    fn(idx, k);
    for (int d = int(shape.size()) - 1; d >= 0; --d) {
      if (++idx[d] < shape[d])
        break;
      idx[d] = 0;
    }
  }
}

template <typename T> using PropertiesOf = typename T::Properties;

//===----------------------------------------------------------------------===//
// The importer
//===----------------------------------------------------------------------===//

class OnnxImporter {
public:
  OnnxImporter(MLIRContext *ctx, StringRef path,
               const ImportOptions &options = {})
      : ctx(ctx), path(path.str()), options(options), b(ctx) {}

  OwningOpRef<ModuleOp> run();
  /// Imports from `bytes` instead of reading the file at `path`.
  void setContents(StringRef bytes) {
    contents = bytes;
    haveContents = true;
  }
  LogicalResult readTensorForTool(const onnx::TensorProto &t, HostTensor &h) {
    return readTensor(t, h, FileLineColLoc::get(ctx, path, 0, 0));
  }

  // The op folders and emitters (Fold.cpp, Emit.cpp) read and write the
  // importer's state through these members; this header is internal.
  // Graph-level steps.
  LogicalResult load(onnx::ModelProto &model);
  /// options.binds: each named graph input becomes an initializer holding
  /// its .npy array; every problem (no such input, unreadable file, wrong
  /// dtype or shape) listed in one error.
  LogicalResult bindInputs(onnx::ModelProto &model);
  void adoptRuntimeOps(onnx::ModelProto &model);
  LogicalResult checkSupported(const onnx::GraphProto &g);
  LogicalResult checkBeforeInference(const onnx::GraphProto &g);
  /// Refuses opsets above 17; upgrades those below 13 to 13 with ONNX's
  /// version converter.
  LogicalResult upgradeOpset(onnx::ModelProto &model);
  LogicalResult inferShapes(const onnx::ModelProto &model);
  LogicalResult inlineExternalData(onnx::ModelProto &model, Location loc);
  LogicalResult readTensor(const onnx::TensorProto &t, HostTensor &out,
                           Location loc);
  LogicalResult importNode(const onnx::NodeProto &node);

  // Values.
  bool isKnown(const std::string &name) const {
    return name.empty() || consts.count(name) || values.count(name);
  }
  const HostTensor *constant(const std::string &name) const {
    auto it = consts.find(name);
    return it == consts.end() ? nullptr : &it->second;
  }
  Value value(const std::string &name, Location loc);
  Value materialize(const std::string &name, const HostTensor &t, Location loc);
  Type elementType(int32_t dtype);

  /// Builds an op whose result types are inferred, reporting inference
  /// failures as diagnostics instead of aborting.
  template <typename OpTy>
  FailureOr<Operation *> build(Location loc, ValueRange operands,
                               ArrayRef<NamedAttribute> attrs = {});

  /// The operand segments of a slim.linear of input, weight and maybe a
  /// bias (no residual), for build<LinearOp>.
  SmallVector<NamedAttribute, 1> linearSegments(bool bias) {
    return {b.getNamedAttr("operandSegmentSizes",
                           b.getDenseI32ArrayAttr({1, 1, bias ? 1 : 0, 0}))};
  }

  InFlightDiagnostic error(Location loc) { return emitError(loc); }
  Location nodeLoc(const onnx::NodeProto &n) {
    std::string name = n.name().empty() ? n.op_type() : n.name();
    return NameLoc::get(b.getStringAttr(name),
                        FileLineColLoc::get(ctx, path, 0, 0));
  }

  MLIRContext *ctx;
  std::string path;
  ImportOptions options;
  StringRef contents;
  bool haveContents = false;
  OpBuilder b;
  std::map<std::string, HostTensor> consts;
  /// Static types ONNX's shape inference gave the graph's values: a node
  /// that fails to import leaves a placeholder of its output's type, so the
  /// nodes after it are still checked (every problem reported at once).
  std::map<std::string, std::pair<int32_t, std::vector<int64_t>>> inferred;
  llvm::StringSet<> initializerNames;
  std::map<std::string, Value> values;
  std::map<std::string, Value> materialized;
  /// The nodes that read each value; graph outputs are counted as a null
  /// reader.
  std::map<std::string, std::vector<const onnx::NodeProto *>> readers;
  /// Outputs of BatchNormalization nodes folded into the convolution before
  /// them: their value is the convolution's.
  llvm::StringSet<> foldedBatchNorms;
  /// The BatchNormalization (inference, constant parameters) that is the
  /// only reader of Conv node `conv`'s output, or null.
  const onnx::NodeProto *foldableBatchNorm(const onnx::NodeProto &conv);
  int anonConstants = 0;
};

template <typename OpTy>
FailureOr<Operation *> OnnxImporter::build(Location loc, ValueRange operands,
                                           ArrayRef<NamedAttribute> attrs) {
  OperationState state(loc, OpTy::getOperationName());
  state.addOperands(operands);
  state.addAttributes(attrs);
  DictionaryAttr dict = state.attributes.getDictionary(ctx);
  // Inference reads attributes from the op's properties, so fill them in
  // before inferring (ops without attributes have no properties).
  if constexpr (llvm::is_detected<PropertiesOf, OpTy>::value) {
    auto &props = state.getOrAddProperties<typename OpTy::Properties>();
    if (failed(OpTy::setPropertiesFromAttr(props, dict,
                                           [&]() { return emitError(loc); })))
      return failure();
  }
  SmallVector<Type> types;
  if (failed(OpTy::inferReturnTypes(ctx, loc, state.operands, dict,
                                    state.getRawProperties(), state.regions,
                                    types)))
    return failure();
  state.addTypes(types);
  return b.create(state);
}

//===----------------------------------------------------------------------===//
// Folders and emitters
//===----------------------------------------------------------------------===//

/// Evaluates one node at import time (Fold.cpp). Each fold* member handles
/// the op types the registry maps to it; it either sets `out` and calls
/// done() or returns success() without folding (the node is emitted).
class NodeFolder {
public:
  NodeFolder(OnnxImporter &im, const onnx::NodeProto &n, bool &folded)
      : im(im), n(n), loc(im.nodeLoc(n)), op(n.op_type()), folded(folded),
        consts(im.consts), values(im.values) {}
  using Fn = LogicalResult (NodeFolder::*)();
  /// Folds with `fn` when the inputs allow (all known, unless `anyInputs`).
  LogicalResult run(Fn fn, bool anyInputs);

  LogicalResult foldConstant();
  LogicalResult foldSize();
  std::vector<int64_t> inputShape();
  LogicalResult foldShape();
  LogicalResult foldBinary();
  LogicalResult foldCumSum();
  LogicalResult foldUnary();
  LogicalResult foldCast();
  LogicalResult foldIdentity();
  LogicalResult foldConstantOfShape();
  LogicalResult foldRange();
  LogicalResult foldSqueezeLike();
  LogicalResult foldReshape();
  LogicalResult foldExpand();
  LogicalResult foldWhere();
  LogicalResult foldTranspose();
  LogicalResult foldGather();
  LogicalResult foldConcat();
  LogicalResult foldSlice();
  LogicalResult foldScatterND();
  LogicalResult foldPad();
  LogicalResult foldTrilu();

private:
  OnnxImporter &im;
  const onnx::NodeProto &n;
  Location loc;
  const std::string &op;
  bool &folded;
  std::map<std::string, HostTensor> &consts;
  std::map<std::string, Value> &values;
  std::vector<const HostTensor *> in;
  HostTensor out;

  InFlightDiagnostic error(Location l) { return im.error(l); }
  const HostTensor *constant(const std::string &name) const {
    return im.constant(name);
  }
  LogicalResult readTensor(const onnx::TensorProto &t, HostTensor &h,
                           Location l) {
    return im.readTensor(t, h, l);
  }
  /// Import-time tensors are shape computations and masks: anything that
  /// would not be small is refused (a corrupt shape could ask for
  /// terabytes).
  static bool tooLarge(ArrayRef<int64_t> shape);
  LogicalResult done() {
    consts[n.output(0)] = std::move(out);
    folded = true;
    return success();
  }
};

/// Emits the slim ops of one node on run-time values (Emit.cpp). Each
/// emit* member handles the op types the registry maps to it.
class NodeEmitter {
public:
  NodeEmitter(OnnxImporter &im, const onnx::NodeProto &n)
      : im(im), n(n), loc(im.nodeLoc(n)), op(n.op_type()), b(im.b),
        values(im.values), consts(im.consts),
        initializerNames(im.initializerNames) {}
  using Fn = LogicalResult (NodeEmitter::*)();
  /// Emits with `fn`; a null `fn` reports why the op has no run-time form
  /// (`foldOnly`: it is evaluated at import time only).
  LogicalResult run(Fn fn, bool foldOnly);

  LogicalResult emitArithmetic();
  LogicalResult emitSqrt();
  LogicalResult emitErf();
  LogicalResult emitTanh();
  LogicalResult emitExp();
  LogicalResult emitSigmoid();
  LogicalResult emitNeg();
  LogicalResult emitMathUnary();
  LogicalResult emitMinMax();
  LogicalResult emitRelu();
  LogicalResult emitLeakyRelu();
  LogicalResult emitClip();
  LogicalResult emitHardSigmoid();
  LogicalResult emitHardSwish();
  /// clamp(alpha · x + beta, 0, 1), the two hard activations' gate.
  FailureOr<Value> hardSigmoid(Value x, float alpha, float beta);
  LogicalResult emitCos();
  LogicalResult emitSin();
  LogicalResult emitIdentity();
  LogicalResult emitDropout();
  LogicalResult emitReciprocal();
  LogicalResult emitCast();
  LogicalResult emitSoftmax();
  LogicalResult emitLogSoftmax();
  LogicalResult emitMatMul();
  LogicalResult emitTranspose();
  LogicalResult emitReshapeLike();
  LogicalResult emitConcat();
  LogicalResult emitSliceLike();
  LogicalResult emitWhere();
  LogicalResult emitReduceMean();
  LogicalResult emitReduce();
  LogicalResult emitGlobalAveragePool();
  LogicalResult emitFlatten();
  LogicalResult emitPad();
  LogicalResult emitLayerNormalization();
  LogicalResult emitGemm();
  LogicalResult emitConv();
  LogicalResult emitPool();
  LogicalResult emitResize();
  LogicalResult emitEinsum();
  LogicalResult emitGatherElements();
  LogicalResult emitBatchNormalization();
  LogicalResult emitCompare();
  LogicalResult emitLogic();
  LogicalResult emitNot();
  LogicalResult emitCompositeActivation();
  LogicalResult emitIsInfNaN();
  LogicalResult emitSumMean();
  LogicalResult emitArgReduce();
  /// A float32 scalar constant named after the node's output and `tag`.
  Value scalar(float v, StringRef tag);

  /// Builds an op whose result type is inferred; reports a shape error at
  /// the node.
  template <typename OpTy>
  FailureOr<Operation *> build(Location l, ValueRange operands,
                               ArrayRef<NamedAttribute> attrs = {}) {
    return im.build<OpTy>(l, operands, attrs);
  }
  /// A 2-D window's attributes with auto_pad resolved (pads [top, left,
  /// bottom, right]).
  /// A 1-D window (`oneD`, over [N, C, L]) is given as the 2-D one over
  /// [N, C, 1, L].
  struct Window {
    std::vector<int64_t> kernel, strides, pads, dilations;
    bool oneD = false;
  };
  FailureOr<Window> window(RankedTensorType x, std::vector<int64_t> kernel);
  Value as2d(Value x);
  FailureOr<Operation *> buildConv2d(Value x, Value weight, Value bias,
                                     const Window &win, int64_t groups);
  /// `x` padded (positive counts, in `mode` with `value`) and cropped
  /// (negative counts): counts[a] before axis a, counts[a + rank] after.
  FailureOr<Value> padOrCrop(Value x, ArrayRef<int64_t> counts, PadMode mode,
                             float value = 0.0f);
  /// `values` as axes of a rank-`rank` tensor (negative ones from the end;
  /// none given: every axis); fails naming one out of range.
  FailureOr<std::vector<int64_t>>
  normalizeAxes(std::optional<ArrayRef<int64_t>> values, int64_t rank);
  LogicalResult convolve(Value x, const Window &win, const HostTensor &weight,
                         function_ref<Value()> bias, int64_t groups,
                         const std::string &wname);
  LogicalResult convTransposeByScatter(Value x, const HostTensor &w,
                                       ArrayRef<int64_t> kernel,
                                       ArrayRef<int64_t> strides,
                                       ArrayRef<int64_t> dilations,
                                       ArrayRef<int64_t> outPad,
                                       ArrayRef<int64_t> pads, int64_t groups,
                                       bool oneD);
  LogicalResult emitConvTranspose();
  LogicalResult setWindowResult(FailureOr<Operation *> r, bool oneD);
  LogicalResult emitFusedMatMul();
  LogicalResult emitContribGelu();
  LogicalResult emitQuickGelu();
  LogicalResult emitContribNorm();

private:
  OnnxImporter &im;
  const onnx::NodeProto &n;
  Location loc;
  const std::string &op;
  OpBuilder &b;
  std::map<std::string, Value> &values;
  std::map<std::string, HostTensor> &consts;
  llvm::StringSet<> &initializerNames;

  Value in(int k) { return im.value(n.input(k), loc); }
  LogicalResult set(FailureOr<Operation *> r) {
    if (failed(r))
      return failure();
    values[n.output(0)] = (*r)->getResult(0);
    return success();
  }
  LogicalResult setValue(Value v) {
    values[n.output(0)] = v;
    return success();
  }
  static RankedTensorType typeOf(Value v) {
    return cast<RankedTensorType>(v.getType());
  }
  InFlightDiagnostic unsupported(const Twine &why) {
    return im.error(loc) << op << ": " << why;
  }
  /// Fails with "only float32 tensors are supported, not T" when one of
  /// `values` is not f32.
  LogicalResult requireF32(ValueRange values) {
    for (Value v : values)
      if (!typeOf(v).getElementType().isF32())
        return unsupported("only float32 tensors are supported, not ")
               << typeOf(v).getElementType();
    return success();
  }
  /// All the node's inputs.
  SmallVector<Value> inputs() {
    SmallVector<Value> vs;
    for (int k = 0; k < n.input_size(); ++k)
      vs.push_back(in(k));
    return vs;
  }
  InFlightDiagnostic error(Location l) { return im.error(l); }
  const HostTensor *constant(const std::string &name) const {
    return im.constant(name);
  }
  Type elementType(int32_t dtype) { return im.elementType(dtype); }
  Value materialize(const std::string &name, const HostTensor &t, Location l) {
    return im.materialize(name, t, l);
  }
  SmallVector<NamedAttribute, 1> linearSegments(bool bias) {
    return im.linearSegments(bias);
  }
};

//===----------------------------------------------------------------------===//
// The op registry
//===----------------------------------------------------------------------===//

/// What the importer does with one op type.
struct OpInfo {
  NodeFolder::Fn fold = nullptr;  // evaluation at import time, if any
  bool foldAnyInputs = false;     // folds with run-time inputs (Shape)
  NodeEmitter::Fn emit = nullptr; // slim ops on run-time values, if any
};

/// The op types Slim imports, keyed by type ("Add") or, outside the
/// default domain, "domain::Type" ("com.microsoft::FusedMatMul").
const llvm::StringMap<OpInfo> &opRegistry();

/// The registry key of a node.
std::string opKey(const onnx::NodeProto &n);

} // namespace mlir::slim::onnx_import

#endif // IMPORTERS_ONNX_ONNXIMPORTER_H
