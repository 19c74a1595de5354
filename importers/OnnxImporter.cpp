//===- OnnxImporter.cpp - ONNX models into slim primitives ----------------===//
//
// Reads a ModelProto with protobuf, validates it with ONNX's own checker,
// then walks the graph in topological order. Nodes whose inputs are all
// known at import time (shape computations, masks, position tables) are
// evaluated here on host tensors; every other node becomes slim ops.
// Initializers that reach the graph become dense_resource weights named
// after the initializer. Before anything is emitted, the unsupported op types
// are collected so the user sees all of them in one error.
//
//===----------------------------------------------------------------------===//

#include "importers/Import.h"

#include "dialects/slim/IR/ShapeUtils.h"
#include "dialects/slim/IR/SlimOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Verifier.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/MemoryBuffer.h"

#include "onnx/checker.h"
#include "onnx/onnx_pb.h"
#include "onnx/shape_inference/implementation.h"

#include <cmath>
#include <map>
#include <numeric>
#include <optional>

using namespace mlir;
using namespace mlir::slim;

namespace {

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
  void set(int64_t k, double v) {
    if (isFloat())
      f[k] = float(v);
    else
      i[k] = int64_t(v);
  }
};

bool isIntType(int32_t t) {
  switch (t) {
  case onnx::TensorProto::INT64:
  case onnx::TensorProto::INT32:
  case onnx::TensorProto::INT16:
  case onnx::TensorProto::INT8:
  case onnx::TensorProto::UINT8:
  case onnx::TensorProto::BOOL:
    return true;
  default:
    return false;
  }
}

const char *dtypeName(int32_t t) {
  return onnx::TensorProto::DataType_Name(
             static_cast<onnx::TensorProto::DataType>(t))
      .c_str();
}

std::vector<int64_t> strides(const std::vector<int64_t> &shape) {
  std::vector<int64_t> s(shape.size(), 1);
  for (int k = int(shape.size()) - 2; k >= 0; --k)
    s[k] = s[k + 1] * shape[k + 1];
  return s;
}

/// Index into a tensor of `shape` for output coordinates `idx` of a
/// broadcast result (trailing alignment, extent-1 axes repeat).
int64_t broadcastIndex(const std::vector<int64_t> &shape,
                       const std::vector<int64_t> &idx) {
  int64_t off = 0, stride = 1;
  for (int k = int(shape.size()) - 1, j = int(idx.size()) - 1; k >= 0;
       --k, --j) {
    if (shape[k] != 1)
      off += idx[j] * stride;
    stride *= shape[k];
  }
  return off;
}

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

//===----------------------------------------------------------------------===//
// The importer
//===----------------------------------------------------------------------===//

/// A resource key the MLIR parser reads back as a bare identifier
/// ("onnx::MatMul_260" -> "onnx__MatMul_260").
std::string resourceKey(StringRef name) {
  std::string key;
  for (char c : name)
    key += (llvm::isAlnum(c) || c == '_' || c == '.' || c == '$' || c == '-')
               ? c
               : '_';
  if (key.empty() || llvm::isDigit(key[0]) || key[0] == '-' || key[0] == '.' ||
      key[0] == '$')
    key = "_" + key;
  return key;
}

template <typename T>
using PropertiesOf = typename T::Properties;

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

private:
  // Graph-level steps.
  LogicalResult load(onnx::ModelProto &model);
  LogicalResult checkSupported(const onnx::GraphProto &g);
  LogicalResult checkOpset(const onnx::ModelProto &model);
  LogicalResult inferShapes(const onnx::ModelProto &model);
  LogicalResult inlineExternalData(onnx::ModelProto &model, Location loc);
  LogicalResult readTensor(const onnx::TensorProto &t, HostTensor &out,
                           Location loc);
  LogicalResult importNode(const onnx::NodeProto &node);
  LogicalResult foldNode(const onnx::NodeProto &node, bool &folded);
  LogicalResult emitNode(const onnx::NodeProto &node);

  // Values.
  bool isKnown(const std::string &name) const {
    return name.empty() || consts.count(name) || values.count(name);
  }
  const HostTensor *constant(const std::string &name) const {
    auto it = consts.find(name);
    return it == consts.end() ? nullptr : &it->second;
  }
  Value value(const std::string &name, Location loc);
  Value materialize(const std::string &name, const HostTensor &t,
                    Location loc);
  Type elementType(int32_t dtype);

  /// Builds an op whose result types are inferred, reporting inference
  /// failures as diagnostics instead of aborting.
  template <typename OpTy>
  FailureOr<Operation *> build(Location loc, ValueRange operands,
                               ArrayRef<NamedAttribute> attrs = {});

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
  int anonConstants = 0;
};

//===----------------------------------------------------------------------===//
// Loading and checking
//===----------------------------------------------------------------------===//

// Op types the importer handles, folded or emitted.
const char *const kSupportedOps[] = {
    "Add",       "Cast",      "Concat",     "Constant",  "ConstantOfShape",
    "Conv",      "Div",       "Dropout",    "Equal",     "Erf",
    "Exp",       "Expand",    "Gather",     "Gemm",      "Identity",
    "LayerNormalization",     "MatMul",     "Mul",       "Neg",
    "Not",       "Pow",       "Range",      "Reciprocal", "ReduceMean",
    "Relu",      "Cos",       "Sin",        "CumSum",    "Mod",
    "Less",      "Greater",   "LessOrEqual", "GreaterOrEqual", "And",
    "Or",        "ScatterND", "Pad",       "GlobalAveragePool", "Flatten",
    "Reshape",   "Shape",     "Sigmoid",    "Slice",     "Softmax",
    "Split",     "Sqrt",      "Squeeze",    "Sub",       "Tanh",
    "Transpose", "Trilu",     "Unsqueeze",  "Where",
};

LogicalResult OnnxImporter::load(onnx::ModelProto &model) {
  Location loc = FileLineColLoc::get(ctx, path, 0, 0);
  std::unique_ptr<llvm::MemoryBuffer> file;
  StringRef bytes = contents;
  if (!haveContents) {
    auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                              /*RequiresNullTerminator=*/false);
    if (!buffer)
      return error(loc) << "cannot read the model: "
                        << buffer.getError().message();
    file = std::move(*buffer);
    bytes = file->getBuffer();
  }
  if (bytes.empty())
    return error(loc) << "the file is empty, not an ONNX model";
  if (bytes.size() > size_t(INT32_MAX) ||
      !model.ParseFromArray(bytes.data(), int(bytes.size())))
    return error(loc) << "not a valid ONNX model: the protobuf does not "
                         "parse (truncated or not an .onnx file)";
  if (!model.has_graph())
    return error(loc) << "not a valid ONNX model: it has no graph";
  if (failed(inlineExternalData(model, loc)))
    return failure();
  try {
    onnx::checker::check_model(model);
  } catch (const std::exception &e) {
    // ONNX's messages span lines (a node dump, a context line): keep the
    // message, on one line.
    std::string msg = e.what();
    msg = msg.substr(0, msg.find("==> Context:"));
    std::replace(msg.begin(), msg.end(), '\n', ' ');
    msg.erase(std::unique(msg.begin(), msg.end(),
                          [](char a, char c) { return a == ' ' && c == ' '; }),
              msg.end());
    while (!msg.empty() && msg.back() == ' ')
      msg.pop_back();
    return error(loc) << "the ONNX checker rejects the model: " << msg;
  }
  return success();
}

LogicalResult OnnxImporter::inferShapes(const onnx::ModelProto &model) {
  Location loc = FileLineColLoc::get(ctx, path, 0, 0);
  // ONNX's own type and shape inference, strict: catches operands of the
  // wrong type or rank before the importer reads them. The inferred shapes
  // are written into a copy; the importer recomputes its own. It runs only
  // once every op type is one Slim supports: ONNX's inference for other
  // ops is not ours to vouch for (its ConvTranspose inference crashes on a
  // malformed node, found by the onnx fuzzer).
  try {
    onnx::ModelProto copy = model;
    onnx::shape_inference::InferShapes(
        copy, onnx::OpSchemaRegistry::Instance(),
        onnx::ShapeInferenceOptions(/*check_type=*/true, /*error_mode=*/1));
    for (const auto &vi : copy.graph().value_info()) {
      if (!vi.type().has_tensor_type() ||
          !vi.type().tensor_type().has_shape())
        continue;
      std::vector<int64_t> shape;
      bool known = true;
      for (const auto &d : vi.type().tensor_type().shape().dim()) {
        known &= d.has_dim_value() && d.dim_value() > 0;
        shape.push_back(d.dim_value());
      }
      if (known)
        inferred[vi.name()] = {vi.type().tensor_type().elem_type(), shape};
    }
  } catch (const std::exception &e) {
    std::string msg = e.what();
    std::replace(msg.begin(), msg.end(), '\n', ' ');
    while (!msg.empty() && msg.back() == ' ')
      msg.pop_back();
    return error(loc) << "ONNX shape inference rejects the model: " << msg;
  }
  return success();
}

/// Initializers saved with `save_as_external_data` keep their bytes in a
/// file next to the model (`location`, `offset`, `length`): read them into
/// raw_data, so the checker and the importer see an ordinary model. The
/// location must stay inside the model's directory.
LogicalResult OnnxImporter::inlineExternalData(onnx::ModelProto &model,
                                               Location loc) {
  std::map<std::string, std::unique_ptr<llvm::MemoryBuffer>> files;
  for (onnx::TensorProto &t : *model.mutable_graph()->mutable_initializer()) {
    if (t.data_location() != onnx::TensorProto::EXTERNAL)
      continue;
    std::string location;
    uint64_t offset = 0, length = 0;
    bool hasLength = false;
    for (const auto &kv : t.external_data()) {
      const std::string &value = kv.value();
      bool numeric = !value.empty() &&
                     value.find_first_not_of("0123456789") == std::string::npos &&
                     value.size() < 20;
      if (kv.key() == "location")
        location = value;
      else if ((kv.key() == "offset" || kv.key() == "length") && !numeric)
        return error(loc) << "initializer '" << t.name() << "': external data "
                          << kv.key() << " '" << value << "' is not a number";
      else if (kv.key() == "offset")
        offset = std::stoull(value);
      else if (kv.key() == "length") {
        length = std::stoull(value);
        hasLength = true;
      }
    }
    if (location.empty() || location[0] == '/' ||
        StringRef(location).contains(".."))
      return error(loc) << "initializer '" << t.name()
                        << "': external data location '" << location
                        << "' must be a relative path inside the model's "
                           "directory";
    if (haveContents)
      return error(loc) << "initializer '" << t.name()
                        << "' keeps its data in '" << location
                        << "', but the model was given as bytes, not a file";
    std::string dir = path.substr(0, path.find_last_of('/') + 1);
    std::string file = dir + location;
    auto &buf = files[file];
    if (!buf) {
      auto opened = llvm::MemoryBuffer::getFile(file, /*IsText=*/false,
                                                /*RequiresNullTerminator=*/false);
      if (!opened)
        return error(loc) << "initializer '" << t.name()
                          << "' keeps its data in '" << file
                          << "', which cannot be read: "
                          << opened.getError().message();
      buf = std::move(*opened);
    }
    uint64_t size = buf->getBufferSize();
    if (!hasLength)
      length = offset <= size ? size - offset : 0;
    if (offset > size || length > size - offset)
      return error(loc) << "initializer '" << t.name() << "' needs bytes ["
                        << offset << ", " << offset + length << ") of '"
                        << file << "', which has " << size;
    t.set_raw_data(buf->getBufferStart() + offset, length);
    t.clear_external_data();
    t.set_data_location(onnx::TensorProto::DEFAULT);
  }
  return success();
}

LogicalResult OnnxImporter::checkOpset(const onnx::ModelProto &model) {
  int64_t opset = -1;
  for (const auto &o : model.opset_import())
    if (o.domain().empty() || o.domain() == "ai.onnx")
      opset = o.version();
  if (opset < 13 || opset > 17)
    return error(FileLineColLoc::get(ctx, path, 0, 0))
           << "ONNX opset " << opset
           << " is not supported (Slim reads opsets 13 to 17); re-export "
              "with opset_version=17";
  return success();
}

LogicalResult OnnxImporter::checkSupported(const onnx::GraphProto &g) {
  llvm::StringSet<> supported;
  for (const char *op : kSupportedOps)
    supported.insert(op);
  // op type -> (count, first node name), in first-seen order.
  llvm::MapVector<StringRef, std::pair<int, std::string>> missing;
  for (const auto &n : g.node()) {
    bool ok = (n.domain().empty() || n.domain() == "ai.onnx") &&
              supported.contains(n.op_type());
    if (ok)
      continue;
    std::string type = n.domain().empty() || n.domain() == "ai.onnx"
                           ? n.op_type()
                           : n.domain() + "::" + n.op_type();
    auto &entry = missing[b.getStringAttr(type).getValue()];
    if (entry.first++ == 0)
      entry.second = n.name().empty() ? "(unnamed)" : n.name();
  }
  if (missing.empty())
    return success();
  auto diag = error(FileLineColLoc::get(ctx, path, 0, 0));
  diag << missing.size() << " unsupported op type"
       << (missing.size() == 1 ? "" : "s") << ": ";
  bool first = true;
  for (auto &[type, entry] : missing) {
    diag << (first ? "" : ", ") << type << " (" << entry.first << "x, first '"
         << entry.second << "')";
    first = false;
  }
  return failure();
}

LogicalResult OnnxImporter::readTensor(const onnx::TensorProto &t,
                                       HostTensor &out, Location loc) {
  out.dtype = t.data_type();
  out.shape.assign(t.dims().begin(), t.dims().end());
  for (int64_t d : out.shape)
    if (d < 0)
      return error(loc) << "tensor '" << t.name() << "' has a negative dim";
  if (t.data_location() == onnx::TensorProto::EXTERNAL)
    return error(loc) << "tensor '" << t.name()
                      << "' keeps its data in an external file, which Slim "
                         "does not read yet; save the model with its weights "
                         "inside (onnx.save(..., save_as_external_data=False))";
  int64_t n = out.size();
  const std::string &raw = t.raw_data();
  bool hasRaw = t.has_raw_data();
  auto sizeError = [&](int64_t have) {
    return error(loc) << "tensor '" << t.name() << "' has " << have
                      << " values, its shape needs " << n;
  };
  switch (t.data_type()) {
  case onnx::TensorProto::FLOAT: {
    if (hasRaw) {
      if (int64_t(raw.size()) != n * 4)
        return sizeError(raw.size() / 4);
      out.f.resize(n);
      if (n > 0) // an empty tensor has no data pointer
        std::memcpy(out.f.data(), raw.data(), raw.size());
    } else {
      if (t.float_data_size() != n)
        return sizeError(t.float_data_size());
      out.f.assign(t.float_data().begin(), t.float_data().end());
    }
    return success();
  }
  case onnx::TensorProto::INT64: {
    if (hasRaw) {
      if (int64_t(raw.size()) != n * 8)
        return sizeError(raw.size() / 8);
      out.i.resize(n);
      if (n > 0)
        std::memcpy(out.i.data(), raw.data(), raw.size());
    } else {
      if (t.int64_data_size() != n)
        return sizeError(t.int64_data_size());
      out.i.assign(t.int64_data().begin(), t.int64_data().end());
    }
    return success();
  }
  case onnx::TensorProto::INT32:
  case onnx::TensorProto::BOOL:
  case onnx::TensorProto::INT8:
  case onnx::TensorProto::UINT8: {
    int width = t.data_type() == onnx::TensorProto::INT32 ? 4 : 1;
    out.i.resize(n);
    if (hasRaw) {
      if (int64_t(raw.size()) != n * width)
        return sizeError(raw.size() / width);
      for (int64_t k = 0; k < n; ++k) {
        if (width == 4) {
          int32_t v;
          std::memcpy(&v, raw.data() + 4 * k, 4);
          out.i[k] = v;
        } else if (t.data_type() == onnx::TensorProto::INT8) {
          out.i[k] = int8_t(raw[k]);
        } else {
          out.i[k] = uint8_t(raw[k]);
        }
      }
    } else {
      if (t.int32_data_size() != n)
        return sizeError(t.int32_data_size());
      out.i.assign(t.int32_data().begin(), t.int32_data().end());
    }
    if (t.data_type() == onnx::TensorProto::BOOL)
      for (int64_t &v : out.i)
        v = v != 0;
    return success();
  }
  default:
    return error(loc) << "tensor '" << t.name() << "' has element type "
                      << dtypeName(t.data_type())
                      << ", which Slim does not support (float32 and "
                         "integer/bool tensors only)";
  }
}

//===----------------------------------------------------------------------===//
// Values and building
//===----------------------------------------------------------------------===//

Type OnnxImporter::elementType(int32_t dtype) {
  switch (dtype) {
  case onnx::TensorProto::FLOAT:
    return b.getF32Type();
  case onnx::TensorProto::INT64:
    return b.getI64Type();
  case onnx::TensorProto::INT32:
    return b.getI32Type();
  case onnx::TensorProto::BOOL:
    return b.getI1Type();
  default:
    return {};
  }
}

Value OnnxImporter::materialize(const std::string &name, const HostTensor &t,
                                Location loc) {
  auto it = materialized.find(name);
  if (it != materialized.end())
    return it->second;
  Type elt = elementType(t.dtype);
  if (!elt) {
    error(loc) << "constant '" << name << "' of type " << dtypeName(t.dtype)
               << " cannot be used as an operand (float32, int64, int32 and "
                  "bool only)";
    return {};
  }
  auto type = RankedTensorType::get(t.shape, elt);
  Attribute attr;
  // Initializers and Constant nodes alike: a scalar (an epsilon, a scale,
  // a mask value, which optimizers store as initializers) is an inline
  // attribute; tensors are resource blobs, named after the initializer.
  bool weight = initializerNames.contains(name) && t.size() > 1;
  if (t.isFloat() && (weight || t.size() > 64)) {
    // Weights: a resource blob named after the initializer.
    std::string key =
        weight ? resourceKey(name) : "const" + std::to_string(anonConstants++);
    attr = DenseResourceElementsAttr::get(
        type, key,
        HeapAsmResourceBlob::allocateAndCopyInferAlign<float>(
            ArrayRef<float>(t.f)));
  } else if (t.isFloat()) {
    attr = DenseElementsAttr::get(type, ArrayRef<float>(t.f));
  } else if (elt.isInteger(1)) {
    SmallVector<bool> bits(t.i.begin(), t.i.end());
    attr = DenseElementsAttr::get(type, ArrayRef<bool>(bits));
  } else if (elt.isInteger(32)) {
    SmallVector<int32_t> v(t.i.begin(), t.i.end());
    attr = DenseElementsAttr::get(type, ArrayRef<int32_t>(v));
  } else {
    attr = DenseElementsAttr::get(type, ArrayRef<int64_t>(t.i));
  }
  Value v = b.create<arith::ConstantOp>(loc, cast<TypedAttr>(attr));
  materialized[name] = v;
  return v;
}

Value OnnxImporter::value(const std::string &name, Location loc) {
  if (auto it = values.find(name); it != values.end())
    return it->second;
  if (const HostTensor *t = constant(name))
    return materialize(name, *t, loc);
  error(loc) << "value '" << name << "' is not defined";
  return {};
}

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
    if (failed(OpTy::setPropertiesFromAttr(
            props, dict, [&]() { return emitError(loc); })))
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
// Attributes
//===----------------------------------------------------------------------===//

const onnx::AttributeProto *findAttr(const onnx::NodeProto &n,
                                     StringRef name) {
  for (const auto &a : n.attribute())
    if (a.name() == name)
      return &a;
  return nullptr;
}

int64_t intAttr(const onnx::NodeProto &n, StringRef name, int64_t dflt) {
  const auto *a = findAttr(n, name);
  return a ? a->i() : dflt;
}

float floatAttr(const onnx::NodeProto &n, StringRef name, float dflt) {
  const auto *a = findAttr(n, name);
  return a ? a->f() : dflt;
}

std::optional<std::vector<int64_t>> intsAttr(const onnx::NodeProto &n,
                                             StringRef name) {
  const auto *a = findAttr(n, name);
  if (!a)
    return std::nullopt;
  return std::vector<int64_t>(a->ints().begin(), a->ints().end());
}

int64_t normAxis(int64_t axis, int64_t rank) {
  return axis < 0 ? axis + rank : axis;
}

//===----------------------------------------------------------------------===//
// Import-time evaluation
//===----------------------------------------------------------------------===//

LogicalResult OnnxImporter::foldNode(const onnx::NodeProto &n, bool &folded) {
  folded = false;
  const std::string &op = n.op_type();
  Location loc = nodeLoc(n);
  if (op == "Constant") {
    HostTensor t;
    if (const auto *a = findAttr(n, "value")) {
      if (failed(readTensor(a->t(), t, loc)))
        return failure();
    } else if (const auto *a = findAttr(n, "value_float")) {
      t.dtype = onnx::TensorProto::FLOAT;
      t.f = {a->f()};
    } else if (const auto *a = findAttr(n, "value_int")) {
      t.dtype = onnx::TensorProto::INT64;
      t.i = {a->i()};
    } else if (const auto *a = findAttr(n, "value_ints")) {
      t.dtype = onnx::TensorProto::INT64;
      t.i.assign(a->ints().begin(), a->ints().end());
      t.shape = {int64_t(t.i.size())};
    } else if (const auto *a = findAttr(n, "value_floats")) {
      t.dtype = onnx::TensorProto::FLOAT;
      t.f.assign(a->floats().begin(), a->floats().end());
      t.shape = {int64_t(t.f.size())};
    } else {
      return error(loc) << "Constant node '" << n.name()
                        << "' has no supported value attribute";
    }
    consts[n.output(0)] = std::move(t);
    folded = true;
    return success();
  }
  if (op == "Shape") {
    // The input may be a run-time value: its shape is static.
    std::vector<int64_t> shape;
    if (const HostTensor *c = constant(n.input(0)))
      shape = c->shape;
    else
    {
      auto s = cast<RankedTensorType>(values[n.input(0)].getType()).getShape();
      shape.assign(s.begin(), s.end());
    }
    int64_t rank = shape.size();
    int64_t start = normAxis(intAttr(n, "start", 0), rank);
    int64_t end = normAxis(intAttr(n, "end", rank), rank);
    start = std::clamp<int64_t>(start, 0, rank);
    end = std::clamp<int64_t>(end, start, rank);
    HostTensor t;
    t.dtype = onnx::TensorProto::INT64;
    t.i.assign(shape.begin() + start, shape.begin() + end);
    t.shape = {end - start};
    consts[n.output(0)] = std::move(t);
    folded = true;
    return success();
  }
  // Every other op folds only when all of its inputs are known.
  for (const auto &in : n.input())
    if (!in.empty() && !constant(in))
      return success();
  std::vector<const HostTensor *> in;
  for (const auto &name : n.input())
    in.push_back(name.empty() ? nullptr : constant(name));
  if (in.empty() || !in[0])
    return success();
  // Shape parameters (axes, starts, shapes, indices) must be integers.
  static const llvm::StringSet<> intParams = {
      "Unsqueeze", "Squeeze", "Reshape", "Expand", "Slice", "Gather", "Trilu",
      "ConstantOfShape", "Pad"};
  if (intParams.contains(op)) {
    size_t first = op == "ConstantOfShape" ? 0 : 1;
    for (size_t k = first; k < in.size(); ++k)
      if (in[k] && in[k]->isFloat() && !(op == "Pad" && k == 2))
        return error(loc) << op << ": input " << k
                          << " must be an integer tensor";
  }
  HostTensor out;
  // Import-time tensors are shape computations and masks: refuse anything
  // that would not be small (a corrupt shape could ask for terabytes).
  auto tooLarge = [&](ArrayRef<int64_t> shape) {
    int64_t count = 1;
    for (int64_t d : shape) {
      if (d < 0 || (d && count > (int64_t(1) << 28) / d))
        return true;
      count *= d;
    }
    return false;
  };
  auto done = [&]() {
    consts[n.output(0)] = std::move(out);
    folded = true;
    return success();
  };

  // Binary ops on known values (shape and mask computations); the
  // comparisons and logic give bool, Mod follows the divisor's sign unless
  // fmod = 1 (as ONNX and Python do).
  static const llvm::StringSet<> binary = {
      "Add",  "Sub",  "Mul",     "Div",  "Pow",        "Equal", "Less",
      "Greater", "LessOrEqual", "GreaterOrEqual", "And", "Or", "Mod"};
  static const llvm::StringSet<> predicates = {
      "Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual", "And",
      "Or"};
  if (binary.contains(op)) {
    const HostTensor &x = *in[0], &y = *in[1];
    auto shape = broadcastShapes(x.shape, y.shape);
    if (!shape)
      return error(loc) << op << " node '" << n.name()
                        << "': shapes are not broadcast-compatible";
    if (n.input_size() != 2 || !in[1])
      return error(loc) << op << " node '" << n.name()
                        << "' needs two inputs";
    out.dtype = predicates.contains(op) ? onnx::TensorProto::BOOL : x.dtype;
    bool fmod = intAttr(n, "fmod", 0) != 0;
    out.shape.assign(shape->begin(), shape->end());
    out.resize(out.size());
    bool integer = !x.isFloat();
    forEachIndex(out.shape, [&](const std::vector<int64_t> &idx, int64_t k) {
      double a = x.at(broadcastIndex(x.shape, idx));
      double c = y.at(broadcastIndex(y.shape, idx));
      double r = 0;
      if (op == "Add")
        r = a + c;
      else if (op == "Sub")
        r = a - c;
      else if (op == "Mul")
        r = a * c;
      else if (op == "Div")
        r = integer ? (c == 0 ? 0 : std::trunc(a / c)) : a / c;
      else if (op == "Pow")
        r = std::pow(a, c);
      else if (op == "Mod")
        r = c == 0 ? 0
            : fmod ? std::fmod(a, c)
                   : a - std::floor(a / c) * c;
      else if (op == "Less")
        r = a < c;
      else if (op == "Greater")
        r = a > c;
      else if (op == "LessOrEqual")
        r = a <= c;
      else if (op == "GreaterOrEqual")
        r = a >= c;
      else if (op == "And")
        r = a != 0 && c != 0;
      else if (op == "Or")
        r = a != 0 || c != 0;
      else
        r = a == c;
      out.set(k, r);
    });
    return done();
  }
  if (op == "CumSum") {
    // Running sums along a known axis (positions from a mask of known
    // values); exclusive and reverse as ONNX defines them.
    const HostTensor &x = *in[0];
    if (n.input_size() < 2 || !in[1] || in[1]->size() != 1)
      return error(loc) << "CumSum node '" << n.name()
                        << "' needs a scalar axis";
    int64_t rank = x.shape.size();
    int64_t axis = int64_t(in[1]->at(0));
    if (axis < -rank || axis >= rank)
      return error(loc) << "CumSum node '" << n.name() << "': axis " << axis
                        << " is out of range for rank " << rank;
    axis = normAxis(axis, rank);
    bool exclusive = intAttr(n, "exclusive", 0) != 0;
    bool reverse = intAttr(n, "reverse", 0) != 0;
    out = x;
    int64_t len = x.shape[axis], inner = 1;
    for (int64_t d = axis + 1; d < rank; ++d)
      inner *= x.shape[d];
    int64_t outer = len ? x.size() / (len * inner) : 0;
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t i = 0; i < inner; ++i) {
        double acc = 0;
        for (int64_t step = 0; step < len; ++step) {
          int64_t j = reverse ? len - 1 - step : step;
          int64_t k = (o * len + j) * inner + i;
          double v = x.at(k);
          out.set(k, exclusive ? acc : acc + v);
          acc += v;
        }
      }
    return done();
  }
  static const llvm::StringSet<> unaryOps = {
      "Neg", "Not", "Sqrt", "Reciprocal", "Relu", "Cos",
      "Sin", "Exp", "Tanh", "Erf", "Sigmoid"};
  if (unaryOps.contains(op)) {
    out = *in[0];
    for (int64_t k = 0; k < out.size(); ++k) {
      double v = out.at(k);
      out.set(k, op == "Neg"       ? -v
                 : op == "Not"     ? double(v == 0)
                 : op == "Sqrt"    ? std::sqrt(v)
                 : op == "Relu"    ? std::max(v, 0.0)
                 : op == "Cos"     ? std::cos(v)
                 : op == "Sin"     ? std::sin(v)
                 : op == "Exp"     ? std::exp(v)
                 : op == "Tanh"    ? std::tanh(v)
                 : op == "Erf"     ? std::erf(v)
                 : op == "Sigmoid" ? 1.0 / (1.0 + std::exp(-v))
                                   : 1.0 / v);
    }
    return done();
  }
  if (op == "Cast") {
    int32_t to = intAttr(n, "to", 0);
    if (to != onnx::TensorProto::FLOAT && !isIntType(to))
      return success(); // leave it to the emitter, which reports it
    out.dtype = to;
    out.shape = in[0]->shape;
    out.resize(out.size());
    for (int64_t k = 0; k < out.size(); ++k) {
      double v = in[0]->at(k);
      out.set(k, to == onnx::TensorProto::BOOL ? double(v != 0) : v);
    }
    return done();
  }
  if (op == "Identity") {
    out = *in[0];
    return done();
  }
  if (op == "ConstantOfShape") {
    out.dtype = onnx::TensorProto::FLOAT;
    double fill = 0;
    if (const auto *a = findAttr(n, "value")) {
      HostTensor v;
      if (failed(readTensor(a->t(), v, loc)))
        return failure();
      out.dtype = v.dtype;
      fill = v.size() ? v.at(0) : 0;
    }
    if (in[0]->shape.size() != 1)
      return error(loc) << "ConstantOfShape: the shape must be 1-D";
    out.shape = in[0]->i;
    if (tooLarge(out.shape))
      return error(loc) << "ConstantOfShape: shape " << formatShape(out.shape)
                        << " is negative or too large";
    out.resize(out.size());
    for (int64_t k = 0; k < out.size(); ++k)
      out.set(k, fill);
    return done();
  }
  if (op == "Range") {
    if (in.size() != 3 || !in[1] || !in[2] || in[0]->size() != 1 ||
        in[1]->size() != 1 || in[2]->size() != 1)
      return error(loc) << "Range: start, limit and delta must be scalars";
    double start = in[0]->at(0), limit = in[1]->at(0), delta = in[2]->at(0);
    if (delta == 0)
      return error(loc) << "Range node '" << n.name() << "' has delta 0";
    double steps = std::ceil((limit - start) / delta);
    if (!(steps < double(1 << 28)))
      return error(loc) << "Range: too many elements";
    int64_t count = std::max<int64_t>(0, int64_t(steps));
    out.dtype = in[0]->dtype;
    out.shape = {count};
    out.resize(count);
    for (int64_t k = 0; k < count; ++k)
      out.set(k, start + k * delta);
    return done();
  }
  if (op == "Unsqueeze" || op == "Squeeze" || op == "Reshape" ||
      op == "Expand" || op == "Transpose" || op == "Gather" ||
      op == "Concat" || op == "Slice" || op == "Where" || op == "Trilu" ||
      op == "ScatterND" || op == "Pad") {
    // Shape manipulation on known tensors: evaluated by the same index logic
    // as the emitter would use at run time.
    const HostTensor &x = *in[0];
    int64_t rank = x.shape.size();
    if (op == "Unsqueeze" || op == "Squeeze") {
      std::vector<int64_t> axes;
      if (in.size() > 1 && in[1])
        axes = in[1]->i;
      out = x;
      if (op == "Unsqueeze") {
        int64_t outRank = rank + axes.size();
        for (int64_t &a : axes) {
          a = normAxis(a, outRank);
          if (a < 0 || a >= outRank)
            return error(loc) << "Unsqueeze: axis out of range";
        }
        std::sort(axes.begin(), axes.end());
        for (int64_t a : axes)
          out.shape.insert(out.shape.begin() + a, 1);
      } else {
        std::vector<int64_t> shape;
        for (int64_t d = 0; d < rank; ++d) {
          bool drop = axes.empty() ? x.shape[d] == 1
                                   : llvm::is_contained(axes, d) ||
                                         llvm::is_contained(axes, d - rank);
          if (!drop)
            shape.push_back(x.shape[d]);
        }
        out.shape = shape;
      }
      return done();
    }
    if (op == "Reshape") {
      out = x;
      out.shape = in[1]->i;
      int64_t known = 1, infer = -1;
      for (size_t d = 0; d < out.shape.size(); ++d) {
        if (out.shape[d] == 0 && !intAttr(n, "allowzero", 0)) {
          if (d >= x.shape.size())
            return error(loc) << "Reshape: shape entry 0 copies a missing axis";
          out.shape[d] = x.shape[d];
        }
        if (out.shape[d] == -1 && infer < 0)
          infer = d;
        else if (out.shape[d] < 0)
          return error(loc) << "Reshape: invalid shape "
                            << formatShape(in[1]->i);
        else
          known *= out.shape[d];
      }
      if (infer >= 0)
        out.shape[infer] = known ? x.size() / known : 0;
      if (tooLarge(out.shape) || out.size() != x.size())
        return error(loc) << "Reshape node '" << n.name()
                          << "': element count changes";
      return done();
    }
    if (op == "Expand") {
      auto shape = broadcastShapes(x.shape, in[1]->i);
      if (!shape)
        return error(loc) << "Expand node '" << n.name()
                          << "': shapes are not broadcast-compatible";
      out.dtype = x.dtype;
      out.shape.assign(shape->begin(), shape->end());
      if (tooLarge(out.shape))
        return error(loc) << "Expand: shape " << formatShape(out.shape)
                          << " is negative or too large";
      out.resize(out.size());
      forEachIndex(out.shape, [&](const std::vector<int64_t> &idx, int64_t k) {
        out.set(k, x.at(broadcastIndex(x.shape, idx)));
      });
      return done();
    }
    if (op == "Where") {
      const HostTensor &c = *in[0], &p = *in[1], &q = *in[2];
      auto s1 = broadcastShapes(c.shape, p.shape);
      auto shape = s1 ? broadcastShapes(*s1, q.shape) : std::nullopt;
      if (!shape)
        return error(loc) << "Where node '" << n.name()
                          << "': shapes are not broadcast-compatible";
      out.dtype = p.dtype;
      out.shape.assign(shape->begin(), shape->end());
      out.resize(out.size());
      forEachIndex(out.shape, [&](const std::vector<int64_t> &idx, int64_t k) {
        bool cond = c.at(broadcastIndex(c.shape, idx)) != 0;
        out.set(k, cond ? p.at(broadcastIndex(p.shape, idx))
                        : q.at(broadcastIndex(q.shape, idx)));
      });
      return done();
    }
    if (op == "Transpose") {
      std::vector<int64_t> perm(rank);
      std::iota(perm.rbegin(), perm.rend(), 0);
      if (auto p = intsAttr(n, "perm"))
        perm = *p;
      if (int64_t(perm.size()) != rank || !isPermutation(perm))
        return error(loc) << "Transpose: perm " << formatShape(perm)
                          << " is not a permutation of the " << rank
                          << " axes";
      out.dtype = x.dtype;
      for (int64_t p : perm)
        out.shape.push_back(x.shape[p]);
      out.resize(out.size());
      auto xs = strides(x.shape);
      forEachIndex(out.shape, [&](const std::vector<int64_t> &idx, int64_t k) {
        int64_t off = 0;
        for (int64_t d = 0; d < rank; ++d)
          off += idx[d] * xs[perm[d]];
        out.set(k, x.at(off));
      });
      return done();
    }
    if (op == "Gather") {
      int64_t axis = normAxis(intAttr(n, "axis", 0), rank);
      if (axis < 0 || axis >= rank)
        return error(loc) << "Gather: axis out of range";
      const HostTensor &ind = *in[1];
      out.dtype = x.dtype;
      out.shape.assign(x.shape.begin(), x.shape.begin() + axis);
      out.shape.insert(out.shape.end(), ind.shape.begin(), ind.shape.end());
      out.shape.insert(out.shape.end(), x.shape.begin() + axis + 1,
                       x.shape.end());
      out.resize(out.size());
      int64_t outer = std::accumulate(x.shape.begin(), x.shape.begin() + axis,
                                      int64_t(1), std::multiplies<int64_t>());
      int64_t inner =
          std::accumulate(x.shape.begin() + axis + 1, x.shape.end(),
                          int64_t(1), std::multiplies<int64_t>());
      int64_t k = 0;
      for (int64_t o = 0; o < outer; ++o)
        for (int64_t j = 0; j < ind.size(); ++j) {
          int64_t idx = ind.i[j] < 0 ? ind.i[j] + x.shape[axis] : ind.i[j];
          if (idx < 0 || idx >= x.shape[axis])
            return error(loc) << "Gather node '" << n.name() << "': index "
                              << ind.i[j] << " is out of range";
          for (int64_t e = 0; e < inner; ++e)
            out.set(k++, x.at((o * x.shape[axis] + idx) * inner + e));
        }
      return done();
    }
    if (op == "Concat") {
      int64_t axis = normAxis(intAttr(n, "axis", 0), rank);
      if (axis < 0 || axis >= rank)
        return error(loc) << "Concat: axis out of range";
      out.dtype = x.dtype;
      out.shape = x.shape;
      out.shape[axis] = 0;
      for (const HostTensor *t : in) {
        bool same = t->shape.size() == x.shape.size() &&
                    t->dtype == x.dtype;
        for (int64_t d = 0; same && d < rank; ++d)
          same = d == axis || t->shape[d] == x.shape[d];
        if (!same)
          return error(loc) << "Concat: inputs do not match";
        out.shape[axis] += t->shape[axis];
      }
      out.resize(out.size());
      int64_t outer = std::accumulate(x.shape.begin(), x.shape.begin() + axis,
                                      int64_t(1), std::multiplies<int64_t>());
      int64_t k = 0;
      for (int64_t o = 0; o < outer; ++o)
        for (const HostTensor *t : in) {
          int64_t chunk = t->size() / std::max<int64_t>(outer, 1);
          for (int64_t e = 0; e < chunk; ++e)
            out.set(k++, t->at(o * chunk + e));
        }
      return done();
    }
    if (op == "Slice") {
      std::vector<int64_t> starts = in[1]->i, ends = in[2]->i, axes, steps;
      if (in.size() > 3 && in[3])
        axes = in[3]->i;
      else
        for (size_t a = 0; a < starts.size(); ++a)
          axes.push_back(a);
      if (in.size() > 4 && in[4])
        steps = in[4]->i;
      else
        steps.assign(starts.size(), 1);
      if (ends.size() != starts.size() || axes.size() != starts.size() ||
          steps.size() != starts.size())
        return error(loc) << "Slice: starts, ends, axes and steps differ in "
                             "length";
      std::vector<int64_t> off(rank, 0), step(rank, 1), shape = x.shape;
      for (size_t j = 0; j < axes.size(); ++j) {
        int64_t a = normAxis(axes[j], rank);
        if (a < 0 || a >= rank)
          return error(loc) << "Slice: axis out of range";
        int64_t dim = x.shape[a];
        int64_t st = steps[j];
        if (st == 0)
          return error(loc) << "Slice: step 0";
        // ONNX's clamping: [0, dim] going forward, [-1, dim - 1] backward
        // (exporters reverse lists with ends of -INT64_MAX).
        auto norm = [&](int64_t v) {
          return v < -dim ? -1 : v < 0 ? v + dim : std::min(v, dim);
        };
        int64_t s = norm(starts[j]), e = norm(ends[j]);
        if (st > 0) {
          s = std::clamp<int64_t>(s, 0, dim);
          e = std::clamp<int64_t>(e, 0, dim);
          shape[a] = e > s ? (e - s + st - 1) / st : 0;
        } else {
          s = std::clamp<int64_t>(s, 0, dim - 1);
          e = std::clamp<int64_t>(e, -1, dim - 1);
          shape[a] = s > e ? (s - e - st - 1) / -st : 0;
        }
        off[a] = s;
        step[a] = st;
      }
      out.dtype = x.dtype;
      out.shape = shape;
      out.resize(out.size());
      auto xs = strides(x.shape);
      forEachIndex(shape, [&](const std::vector<int64_t> &idx, int64_t k) {
        int64_t o = 0;
        for (int64_t d = 0; d < rank; ++d)
          o += (off[d] + idx[d] * step[d]) * xs[d];
        out.set(k, x.at(o));
      });
      return done();
    }
    if (op == "ScatterND") {
      // data[indices[j]] = updates[j]: the shift masks Swin builds by
      // slice assignment. Later updates win, as ONNX specifies for
      // duplicate indices without a reduction.
      if (findAttr(n, "reduction") && findAttr(n, "reduction")->s() != "none")
        return error(loc) << "ScatterND: only reduction 'none' is evaluated";
      if (in.size() != 3 || !in[1] || !in[2] || in[1]->isFloat())
        return error(loc) << "ScatterND: needs data, integer indices and "
                             "updates";
      const HostTensor &ix = *in[1], &up = *in[2];
      if (ix.shape.empty() || ix.shape.back() > rank)
        return error(loc) << "ScatterND: index tuples longer than the data's "
                             "rank";
      int64_t q = ix.shape.back();
      int64_t tuples = q ? ix.size() / q : 0, slab = 1;
      for (int64_t d = q; d < rank; ++d)
        slab *= x.shape[d];
      if (up.size() != tuples * slab)
        return error(loc) << "ScatterND: updates have " << up.size()
                          << " elements, the indices address "
                          << tuples * slab;
      out = x;
      auto xs = strides(x.shape);
      for (int64_t t = 0; t < tuples; ++t) {
        int64_t off = 0;
        for (int64_t d = 0; d < q; ++d) {
          int64_t v = ix.i[t * q + d];
          v = v < 0 ? v + x.shape[d] : v;
          if (v < 0 || v >= x.shape[d])
            return error(loc) << "ScatterND: index " << ix.i[t * q + d]
                              << " is out of range for axis " << d;
          off += v * xs[d];
        }
        for (int64_t e = 0; e < slab; ++e)
          out.set(off + e, up.at(t * slab + e));
      }
      return done();
    }
    if (op == "Pad") {
      std::string mode =
          findAttr(n, "mode") ? findAttr(n, "mode")->s() : "constant";
      if (in.size() < 2 || !in[1] || int64_t(in[1]->size()) != 2 * rank)
        return error(loc) << "Pad: needs 2 x rank pads";
      if (mode != "constant")
        return error(loc) << "Pad: only constant padding is evaluated at "
                             "import time";
      double fill = in.size() > 2 && in[2] && in[2]->size() ? in[2]->at(0) : 0;
      const auto &pads = in[1]->i;
      out.dtype = x.dtype;
      out.shape = x.shape;
      for (int64_t d = 0; d < rank; ++d)
        out.shape[d] += pads[d] + pads[d + rank];
      if (tooLarge(out.shape))
        return error(loc) << "Pad: shape " << formatShape(out.shape)
                          << " is negative or too large";
      out.resize(out.size());
      auto xs = strides(x.shape);
      forEachIndex(out.shape, [&](const std::vector<int64_t> &idx, int64_t k) {
        int64_t o = 0;
        bool inside = true;
        for (int64_t d = 0; d < rank && inside; ++d) {
          int64_t v = idx[d] - pads[d];
          inside = v >= 0 && v < x.shape[d];
          o += v * xs[d];
        }
        out.set(k, inside ? x.at(o) : fill);
      });
      return done();
    }
    if (op == "Trilu") {
      if (rank < 2 || (in.size() > 1 && in[1] && in[1]->size() != 1))
        return error(loc) << "Trilu: needs a matrix and a scalar k";
      int64_t kdiag = in.size() > 1 && in[1] ? in[1]->i[0] : 0;
      bool upper = intAttr(n, "upper", 1);
      out = x;
      forEachIndex(x.shape, [&](const std::vector<int64_t> &idx, int64_t k) {
        int64_t r = idx[rank - 2], c = idx[rank - 1];
        bool keep = upper ? c - r >= kdiag : c - r <= kdiag;
        if (!keep)
          out.set(k, 0);
      });
      return done();
    }
  }
  return success(); // not foldable: emitted as ops
}

//===----------------------------------------------------------------------===//
// Emission
//===----------------------------------------------------------------------===//

LogicalResult OnnxImporter::emitNode(const onnx::NodeProto &n) {
  const std::string &op = n.op_type();
  Location loc = nodeLoc(n);
  auto in = [&](int k) { return value(n.input(k), loc); };
  auto set = [&](FailureOr<Operation *> r) -> LogicalResult {
    if (failed(r))
      return failure();
    values[n.output(0)] = (*r)->getResult(0);
    return success();
  };
  auto setValue = [&](Value v) {
    values[n.output(0)] = v;
    return success();
  };
  auto typeOf = [](Value v) { return cast<RankedTensorType>(v.getType()); };
  auto unsupported = [&](const Twine &why) {
    return error(loc) << op << ": " << why;
  };
  for (const auto &name : n.input())
    if (!isKnown(name))
      return error(loc) << "value '" << name << "' is not defined";

  if (op == "Add" || op == "Sub" || op == "Mul" || op == "Div" ||
      op == "Pow") {
    Value lhs = in(0), rhs = in(1);
    if (typeOf(rhs).getElementType() != typeOf(lhs).getElementType() &&
        constant(n.input(1)) && typeOf(lhs).getElementType().isF32()) {
      // Pow(x, 2) with an integer exponent, Add(x, int constant), ...
      HostTensor t = *constant(n.input(1));
      t.f.assign(t.i.begin(), t.i.end());
      t.dtype = onnx::TensorProto::FLOAT;
      rhs = materialize(n.input(1) + ".f32", t, loc);
    }
    if (op == "Add")
      return set(build<AddOp>(loc, {lhs, rhs}));
    if (op == "Sub")
      return set(build<SubOp>(loc, {lhs, rhs}));
    if (op == "Mul")
      return set(build<MulOp>(loc, {lhs, rhs}));
    if (op == "Div")
      return set(build<DivOp>(loc, {lhs, rhs}));
    return set(build<PowOp>(loc, {lhs, rhs}));
  }
  if (op == "Sqrt")
    return setValue(b.create<SqrtOp>(loc, in(0)));
  if (op == "Erf")
    return setValue(b.create<ErfOp>(loc, in(0)));
  if (op == "Tanh")
    return setValue(b.create<TanhOp>(loc, in(0)));
  if (op == "Exp")
    return setValue(b.create<ExpOp>(loc, in(0)));
  if (op == "Sigmoid")
    return setValue(b.create<SigmoidOp>(loc, in(0)));
  if (op == "Neg")
    return setValue(b.create<NegOp>(loc, in(0)));
  if (op == "Relu")
    return setValue(b.create<ReluOp>(loc, in(0)));
  if (op == "Cos")
    return setValue(b.create<CosOp>(loc, in(0)));
  if (op == "Sin")
    return setValue(b.create<SinOp>(loc, in(0)));
  if (op == "Identity")
    return setValue(in(0));
  if (op == "Dropout") {
    // Inference: the identity, with an all-true mask if one is asked for.
    // The identity unless it would really drop: training mode with a
    // ratio that is not 0 (a train-mode export of p = 0 is fine).
    const HostTensor *ratio =
        n.input_size() > 1 && !n.input(1).empty() ? constant(n.input(1))
                                                  : nullptr;
    bool zeroRatio = ratio && ratio->size() == 1 && ratio->at(0) == 0;
    if (n.input_size() > 2 && !n.input(2).empty() && !zeroRatio) {
      const HostTensor *training = constant(n.input(2));
      if (!training || training->at(0) != 0)
        return unsupported("training-mode dropout with a ratio other than 0 "
                           "is random; Slim compiles inference graphs");
    }
    Value x = in(0);
    if (n.output_size() > 1 && !n.output(1).empty()) {
      HostTensor mask;
      mask.dtype = onnx::TensorProto::BOOL;
      auto shape = typeOf(x).getShape();
      mask.shape.assign(shape.begin(), shape.end());
      mask.i.assign(mask.size(), 1);
      consts[n.output(1)] = std::move(mask);
    }
    return setValue(x);
  }
  if (op == "Reciprocal") {
    HostTensor one;
    one.f = {1.0f};
    return set(build<DivOp>(
        loc, {materialize(n.output(0) + ".one", one, loc), in(0)}));
  }
  if (op == "Cast") {
    Value x = in(0);
    int32_t to = intAttr(n, "to", 0);
    if (elementType(to) == typeOf(x).getElementType())
      return setValue(x);
    // Masks: int64 / int32 / bool inputs made float (attention_mask).
    if (to == onnx::TensorProto::FLOAT &&
        isa<IntegerType>(typeOf(x).getElementType()))
      return setValue(b.create<CastOp>(
          loc, RankedTensorType::get(typeOf(x).getShape(), b.getF32Type()),
          x));
    return unsupported(Twine("casting a run-time tensor to ") +
                       dtypeName(to) + " is not supported");
  }
  if (op == "Softmax")
    return setValue(
        b.create<SoftmaxOp>(loc, in(0), b.getI64IntegerAttr(intAttr(n, "axis", -1))));
  if (op == "MatMul")
    return set(build<MatMulOp>(loc, {in(0), in(1)}));
  if (op == "Transpose") {
    Value x = in(0);
    std::vector<int64_t> perm(typeOf(x).getRank());
    std::iota(perm.rbegin(), perm.rend(), 0);
    if (auto p = intsAttr(n, "perm"))
      perm = *p;
    return set(build<TransposeOp>(
        loc, {x},
        {b.getNamedAttr("permutation", b.getDenseI64ArrayAttr(perm))}));
  }
  if (op == "Reshape" || op == "Unsqueeze" || op == "Squeeze" ||
      op == "Expand") {
    Value x = in(0);
    RankedTensorType xt = typeOf(x);
    std::vector<int64_t> shape(xt.getShape());
    const HostTensor *arg = n.input_size() > 1 ? constant(n.input(1)) : nullptr;
    if (n.input_size() > 1 && !n.input(1).empty() && !arg)
      return unsupported("its shape/axes input is computed at run time; Slim "
                         "needs static shapes");
    if (op == "Reshape") {
      std::vector<int64_t> target = arg->i;
      int64_t known = 1, infer = -1;
      for (size_t d = 0; d < target.size(); ++d) {
        if (target[d] == 0 && !intAttr(n, "allowzero", 0)) {
          if (d >= shape.size())
            return unsupported("shape entry 0 copies a missing axis");
          target[d] = shape[d];
        }
        if (target[d] < -1 || (target[d] == -1 && infer >= 0))
          return unsupported("shape " + formatShape(target) +
                             " has a negative entry other than one -1");
        if (target[d] == -1)
          infer = d;
        else if (__builtin_mul_overflow(known, target[d], &known))
          return unsupported("shape " + formatShape(target) +
                             " has more elements than fit in 64 bits");
      }
      int64_t count = xt.getNumElements();
      if (infer >= 0 ? (known == 0 || count % known != 0) : known != count)
        return unsupported("shape " + formatShape(target) + " does not hold the " +
                           std::to_string(count) + " elements of the input");
      if (infer >= 0)
        target[infer] = count / known;
      shape = target;
    } else if (op == "Expand") {
      auto bshape = broadcastShapes(shape, arg->i);
      if (!bshape)
        return unsupported("shapes " + formatShape(shape) + " and " +
                           formatShape(arg->i) +
                           " are not broadcast-compatible");
      return setValue(b.create<BroadcastOp>(
          loc, RankedTensorType::get(*bshape, xt.getElementType()), x));
    } else {
      std::vector<int64_t> axes = arg ? arg->i : std::vector<int64_t>();
      if (op == "Unsqueeze") {
        int64_t outRank = shape.size() + axes.size();
        for (int64_t &a : axes)
          a = normAxis(a, outRank);
        std::sort(axes.begin(), axes.end());
        for (int64_t a : axes)
          shape.insert(shape.begin() + a, 1);
      } else {
        std::vector<int64_t> kept;
        int64_t rank = shape.size();
        for (int64_t d = 0; d < rank; ++d) {
          bool drop = axes.empty() ? shape[d] == 1
                                   : llvm::is_contained(axes, d) ||
                                         llvm::is_contained(axes, d - rank);
          if (!drop)
            kept.push_back(shape[d]);
        }
        shape = kept;
      }
    }
    auto type = RankedTensorType::get(shape, xt.getElementType());
    if (type.getNumElements() != xt.getNumElements())
      return unsupported("reshapes " + formatShape(xt.getShape()) + " to " +
                         formatShape(shape) + ", which has another size");
    return setValue(b.create<ReshapeOp>(loc, type, x));
  }
  if (op == "Concat") {
    SmallVector<Value> inputs;
    for (int k = 0; k < n.input_size(); ++k)
      inputs.push_back(in(k));
    return set(build<ConcatOp>(
        loc, inputs,
        {b.getNamedAttr("axis", b.getI64IntegerAttr(intAttr(n, "axis", 0)))}));
  }
  if (op == "Slice" || op == "Split" || op == "Gather") {
    Value x = in(0);
    RankedTensorType xt = typeOf(x);
    int64_t rank = xt.getRank();
    // slim.slice over `axis` from `start`, `size` elements, every `step`.
    auto slice = [&](int64_t axis, int64_t start, int64_t size,
                     int64_t step) -> FailureOr<Operation *> {
      SmallVector<int64_t> off(rank, 0), sizes(xt.getShape()), st(rank, 1);
      off[axis] = start;
      sizes[axis] = size;
      st[axis] = step;
      return build<SliceOp>(
          loc, {x},
          {b.getNamedAttr("offsets", b.getDenseI64ArrayAttr(off)),
           b.getNamedAttr("sizes", b.getDenseI64ArrayAttr(sizes)),
           b.getNamedAttr("strides", b.getDenseI64ArrayAttr(st))});
    };
    if (op == "Gather") {
      // Embedding lookup: a known 2-D table gathered by run-time indices.
      if (constant(n.input(0)) && !constant(n.input(1))) {
        if (intAttr(n, "axis", 0) != 0 || rank != 2)
          return unsupported("only row gathers (axis 0) from a 2-D table "
                             "are supported");
        return set(build<EmbeddingOp>(loc, {x, in(1)}));
      }
      // x[..., i, ...] with a known scalar or 1-element index: a slice.
      const HostTensor *idx = constant(n.input(1));
      if (!idx || idx->size() != 1)
        return unsupported("gathering a run-time tensor by run-time or "
                           "multi-element indices is not supported");
      int64_t axis = normAxis(intAttr(n, "axis", 0), rank);
      int64_t i = idx->i[0] < 0 ? idx->i[0] + xt.getDimSize(axis) : idx->i[0];
      if (i < 0 || i >= xt.getDimSize(axis))
        return unsupported("index " + std::to_string(idx->i[0]) +
                           " is out of range");
      auto s = slice(axis, i, 1, 1);
      if (failed(s))
        return failure();
      SmallVector<int64_t> shape(xt.getShape());
      if (idx->shape.empty())
        shape.erase(shape.begin() + axis);
      return setValue(b.create<ReshapeOp>(
          loc, RankedTensorType::get(shape, xt.getElementType()),
          (*s)->getResult(0)));
    }
    if (op == "Split") {
      int64_t axis = normAxis(intAttr(n, "axis", 0), rank);
      int64_t dim = xt.getDimSize(axis);
      std::vector<int64_t> sizes;
      if (n.input_size() > 1 && !n.input(1).empty()) {
        const HostTensor *s = constant(n.input(1));
        if (!s)
          return unsupported("split sizes computed at run time");
        sizes = s->i;
      } else if (auto s = intsAttr(n, "split")) {
        sizes = *s;
      } else {
        int64_t parts = n.output_size();
        if (dim % parts)
          return unsupported("cannot split " + std::to_string(dim) +
                             " evenly into " + std::to_string(parts));
        sizes.assign(parts, dim / parts);
      }
      if (int64_t(sizes.size()) != n.output_size())
        return unsupported("the number of split sizes differs from the "
                           "number of outputs");
      int64_t start = 0;
      for (int k = 0; k < n.output_size(); ++k) {
        if (sizes[k] < 0 || start + sizes[k] > dim)
          return unsupported("split sizes exceed the axis");
        auto s = slice(axis, start, sizes[k], 1);
        if (failed(s))
          return failure();
        values[n.output(k)] = (*s)->getResult(0);
        start += sizes[k];
      }
      return success();
    }
    // Slice with known starts/ends/axes/steps.
    std::vector<const HostTensor *> args;
    for (int k = 1; k < n.input_size(); ++k) {
      if (n.input(k).empty()) {
        args.push_back(nullptr);
        continue;
      }
      args.push_back(constant(n.input(k)));
      if (!args.back())
        return unsupported("slice bounds computed at run time");
    }
    std::vector<int64_t> axes, steps;
    if (args.size() > 2 && args[2])
      axes = args[2]->i;
    else
      for (int64_t a = 0; a < int64_t(args[0]->i.size()); ++a)
        axes.push_back(a);
    if (args.size() > 3 && args[3])
      steps = args[3]->i;
    else
      steps.assign(axes.size(), 1);
    SmallVector<int64_t> off(rank, 0), sizes(xt.getShape()), st(rank, 1);
    for (size_t j = 0; j < axes.size(); ++j) {
      int64_t a = normAxis(axes[j], rank), dim = xt.getDimSize(a);
      if (steps[j] <= 0)
        return unsupported("negative or zero slice steps are not supported");
      int64_t s = args[0]->i[j] < 0 ? args[0]->i[j] + dim : args[0]->i[j];
      int64_t e = args[1]->i[j] < 0 ? args[1]->i[j] + dim : args[1]->i[j];
      s = std::clamp<int64_t>(s, 0, dim);
      e = std::clamp<int64_t>(e, 0, dim);
      off[a] = s;
      st[a] = steps[j];
      sizes[a] = e > s ? (e - s + steps[j] - 1) / steps[j] : 0;
    }
    return set(build<SliceOp>(
        loc, {x},
        {b.getNamedAttr("offsets", b.getDenseI64ArrayAttr(off)),
         b.getNamedAttr("sizes", b.getDenseI64ArrayAttr(sizes)),
         b.getNamedAttr("strides", b.getDenseI64ArrayAttr(st))}));
  }
  if (op == "Where")
    return set(build<WhereOp>(loc, {in(0), in(1), in(2)}));
  if (op == "ReduceMean") {
    Value x = in(0);
    std::vector<int64_t> axes;
    if (auto a = intsAttr(n, "axes"))
      axes = *a;
    else
      for (int64_t d = 0; d < typeOf(x).getRank(); ++d)
        axes.push_back(d);
    return set(build<ReduceMeanOp>(
        loc, {x},
        {b.getNamedAttr("axes", b.getDenseI64ArrayAttr(axes)),
         b.getNamedAttr("keepdims",
                        b.getBoolAttr(intAttr(n, "keepdims", 1) != 0))}));
  }
  if (op == "GlobalAveragePool") {
    // The mean over every spatial axis, kept as extent 1.
    Value x = in(0);
    int64_t rank = typeOf(x).getRank();
    if (rank < 3)
      return unsupported("needs an [N, C, spatial...] input");
    SmallVector<int64_t> axes;
    for (int64_t d = 2; d < rank; ++d)
      axes.push_back(d);
    return set(build<ReduceMeanOp>(
        loc, {x},
        {b.getNamedAttr("axes", b.getDenseI64ArrayAttr(axes)),
         b.getNamedAttr("keepdims", b.getBoolAttr(true))}));
  }
  if (op == "Flatten") {
    Value x = in(0);
    RankedTensorType xt = typeOf(x);
    int64_t rank = xt.getRank();
    int64_t axis = normAxis(intAttr(n, "axis", 1), rank);
    if (axis < 0 || axis > rank)
      return unsupported("axis " + std::to_string(intAttr(n, "axis", 1)) +
                         " is out of range");
    int64_t outer = 1, inner = 1;
    for (int64_t d = 0; d < rank; ++d)
      (d < axis ? outer : inner) *= xt.getDimSize(d);
    return setValue(b.create<ReshapeOp>(
        loc, RankedTensorType::get({outer, inner}, xt.getElementType()), x));
  }
  if (op == "Pad") {
    // Padding by zero elements is the identity (Swin pads its feature maps
    // to a multiple of the window, which is usually nothing); real padding
    // of run-time tensors is not supported yet.
    Value x = in(0);
    const HostTensor *pads = n.input_size() > 1 ? constant(n.input(1)) : nullptr;
    if (!pads)
      return unsupported("pads computed at run time");
    if (llvm::any_of(pads->i, [](int64_t v) { return v != 0; }))
      return unsupported("padding a run-time tensor by " +
                         formatShape(pads->i) +
                         " is not supported (only zero pads)");
    return setValue(x);
  }
  if (op == "LayerNormalization") {
    for (int k = 1; k < n.output_size(); ++k)
      if (!n.output(k).empty())
        return unsupported("the Mean and InvStdDev outputs are not supported");
    Value x = in(0), scale = in(1);
    Value bias = n.input_size() > 2 && !n.input(2).empty() ? in(2) : Value();
    auto ln = b.create<LayerNormOp>(
        loc, x.getType(), x, scale, bias,
        b.getF32FloatAttr(floatAttr(n, "epsilon", 1e-5f)),
        b.getI64IntegerAttr(intAttr(n, "axis", -1)));
    return setValue(ln);
  }
  if (op == "Gemm") {
    Value a = in(0), bm = in(1);
    Value c = n.input_size() > 2 && !n.input(2).empty() ? in(2) : Value();
    // y = alpha · op(A) · op(B) + beta · C
    float alpha = floatAttr(n, "alpha", 1.0f), beta = floatAttr(n, "beta", 1.0f);
    auto scaled = [&](Value v, float k) -> FailureOr<Value> {
      if (k == 1.0f)
        return v;
      HostTensor f;
      f.f = {k};
      auto mul = build<MulOp>(loc, {v, materialize(n.output(0) + ".scale" +
                                                   std::to_string(k), f, loc)});
      if (failed(mul))
        return failure();
      return (*mul)->getResult(0);
    };
    if (intAttr(n, "transA", 0)) {
      auto t = build<TransposeOp>(
          loc, {a},
          {b.getNamedAttr("permutation", b.getDenseI64ArrayAttr({1, 0}))});
      if (failed(t))
        return failure();
      a = (*t)->getResult(0);
    }
    bool transB = intAttr(n, "transB", 0);
    bool fuseBias = transB && c && typeOf(c).getRank() == 1 && alpha == 1.0f &&
                    beta == 1.0f;
    FailureOr<Operation *> r =
        transB ? build<LinearOp>(loc, fuseBias ? ValueRange{a, bm, c}
                                               : ValueRange{a, bm})
               : build<MatMulOp>(loc, {a, bm});
    if (failed(r))
      return failure();
    FailureOr<Value> y = scaled((*r)->getResult(0), alpha);
    if (failed(y))
      return failure();
    if (c && !fuseBias) {
      FailureOr<Value> bc = scaled(c, beta);
      if (failed(bc))
        return failure();
      auto add = build<AddOp>(loc, {*y, *bc});
      if (failed(add))
        return failure();
      y = (*add)->getResult(0);
    }
    return setValue(*y);
  }
  if (op == "Conv") {
    // Patch embedding: kernel == stride, no padding, no dilation, group 1.
    // Conv(x[B,C,H,W], w[D,C,p,q]) = linear over the flattened patches.
    Value x = in(0);
    const HostTensor *w = constant(n.input(1));
    RankedTensorType xt = typeOf(x);
    if (!w || xt.getRank() != 4 || w->shape.size() != 4)
      return unsupported("only 2-D convolutions with known weights are "
                         "supported");
    int64_t d = w->shape[0], ch = w->shape[1], p = w->shape[2], q = w->shape[3];
    auto stridesA = intsAttr(n, "strides").value_or(std::vector<int64_t>{1, 1});
    auto pads = intsAttr(n, "pads").value_or(std::vector<int64_t>{0, 0, 0, 0});
    auto dil = intsAttr(n, "dilations").value_or(std::vector<int64_t>{1, 1});
    bool padded = llvm::any_of(pads, [](int64_t v) { return v != 0; });
    std::string autoPad = findAttr(n, "auto_pad") ? findAttr(n, "auto_pad")->s()
                                                  : "NOTSET";
    if (stridesA != std::vector<int64_t>{p, q} || padded ||
        dil != std::vector<int64_t>{1, 1} || intAttr(n, "group", 1) != 1 ||
        (autoPad != "NOTSET" && autoPad != "VALID"))
      return unsupported("only patch-embedding convolutions (stride equal "
                         "to the kernel, no padding, dilation 1, group 1) "
                         "are supported");
    int64_t bsz = xt.getDimSize(0), h = xt.getDimSize(2), wd = xt.getDimSize(3);
    if (xt.getDimSize(1) != ch || h % p || wd % q)
      return unsupported("the input " + formatShape(xt.getShape()) +
                         " does not tile into " + std::to_string(p) + "x" +
                         std::to_string(q) + " patches of " +
                         std::to_string(ch) + " channels");
    Type f32 = xt.getElementType();
    int64_t gh = h / p, gw = wd / q;
    auto r6 = b.create<ReshapeOp>(
        loc, RankedTensorType::get({bsz, ch, gh, p, gw, q}, f32), x);
    auto t6 = build<TransposeOp>(
        loc, {r6},
        {b.getNamedAttr("permutation",
                        b.getDenseI64ArrayAttr({0, 2, 4, 1, 3, 5}))});
    if (failed(t6))
      return failure();
    auto patches = b.create<ReshapeOp>(
        loc, RankedTensorType::get({bsz, gh * gw, ch * p * q}, f32),
        (*t6)->getResult(0));
    HostTensor w2 = *w;
    w2.shape = {d, ch * p * q};
    initializerNames.insert(n.input(1));
    Value weight = materialize(n.input(1), w2, loc);
    SmallVector<Value> operands = {patches, weight};
    if (n.input_size() > 2 && !n.input(2).empty())
      operands.push_back(in(2));
    auto lin = build<LinearOp>(loc, operands);
    if (failed(lin))
      return failure();
    // Back to the NCHW layout the rest of the graph expects.
    auto r4 = b.create<ReshapeOp>(
        loc, RankedTensorType::get({bsz, gh, gw, d}, f32),
        (*lin)->getResult(0));
    return set(build<TransposeOp>(
        loc, {r4},
        {b.getNamedAttr("permutation", b.getDenseI64ArrayAttr({0, 3, 1, 2}))}));
  }
  if (op == "Equal" || op == "Not" || op == "Range" || op == "Trilu" ||
      op == "ConstantOfShape" || op == "CumSum" || op == "Mod" ||
      op == "Less" || op == "Greater" || op == "LessOrEqual" ||
      op == "GreaterOrEqual" || op == "And" || op == "Or")
    return unsupported("it is only supported on values known at import "
                       "time (masks, shapes), not on run-time tensors");
  return unsupported("not supported on run-time tensors");
}

LogicalResult OnnxImporter::importNode(const onnx::NodeProto &n) {
  bool folded = false;
  try {
    if (failed(foldNode(n, folded)))
      return failure();
  } catch (const std::exception &e) {
    // Malformed shapes (negative or absurd sizes) end up here rather than
    // in a crash.
    return error(nodeLoc(n)) << n.op_type()
                             << ": cannot evaluate at import time: "
                             << e.what();
  }
  return folded ? success() : emitNode(n);
}

OwningOpRef<ModuleOp> OnnxImporter::run() {
  registerImportDialects(ctx);
  onnx::ModelProto model;
  if (failed(load(model)))
    return {};
  const onnx::GraphProto &g = model.graph();
  // Unsupported op types first: they are the bigger obstacle to report.
  if (failed(checkSupported(g)) || failed(checkOpset(model)) ||
      failed(inferShapes(model)))
    return {};

  Location fileLoc = FileLineColLoc::get(ctx, path, 0, 0);
  for (const auto &t : g.initializer()) {
    HostTensor h;
    if (failed(readTensor(t, h, fileLoc)))
      return {};
    if (h.isFloat()) {
      int64_t bad = llvm::count_if(h.f, [](float v) { return !std::isfinite(v); });
      if (bad)
        emitWarning(fileLoc) << "initializer '" << t.name() << "' has " << bad
                             << " NaN/Inf value" << (bad == 1 ? "" : "s")
                             << " of " << h.size()
                             << "; outputs that read them will not be finite";
    }
    initializerNames.insert(t.name());
    consts[t.name()] = std::move(h);
  }

  // Graph inputs (those that are not initializers) become arguments.
  OwningOpRef<ModuleOp> module = ModuleOp::create(fileLoc);
  SmallVector<Type> argTypes;
  SmallVector<std::string> argNames;
  for (const auto &in : g.input()) {
    if (initializerNames.contains(in.name()))
      continue;
    const auto &tt = in.type().tensor_type();
    if (!in.type().has_tensor_type()) {
      emitError(fileLoc) << "graph input '" << in.name()
                         << "' is not a tensor";
      return {};
    }
    Type elt = elementType(tt.elem_type());
    if (!elt) {
      emitError(fileLoc) << "graph input '" << in.name() << "' has type "
                         << dtypeName(tt.elem_type())
                         << ", which Slim does not support";
      return {};
    }
    SmallVector<int64_t> shape;
    auto given = options.shapes.find(in.name());
    if (given != options.shapes.end()) {
      // --shape NAME=...: must keep the rank and every static dimension.
      const auto &dims = tt.shape().dim();
      bool ok = int(given->second.size()) == dims.size();
      for (int d = 0; ok && d < dims.size(); ++d)
        ok = given->second[d] > 0 &&
             (!dims[d].has_dim_value() || dims[d].dim_value() <= 0 ||
              dims[d].dim_value() == given->second[d]);
      if (!ok) {
        std::string model;
        for (int d = 0; d < dims.size(); ++d)
          model += (d ? ", " : "") +
                   (dims[d].has_dim_value() && dims[d].dim_value() > 0
                        ? std::to_string(dims[d].dim_value())
                        : dims[d].has_dim_param() ? dims[d].dim_param()
                                                  : std::string("?"));
        emitError(fileLoc) << "--shape " << in.name() << "="
                           << formatShape(given->second)
                           << " does not fit the model's input shape ["
                           << model << "]";
        return {};
      }
      argTypes.push_back(RankedTensorType::get(given->second, elt));
      argNames.push_back(in.name());
      continue;
    }
    for (const auto &d : tt.shape().dim()) {
      if (d.has_dim_value() && d.dim_value() == 0) {
        emitError(fileLoc) << "graph input '" << in.name()
                           << "' has a zero-sized dimension, which Slim "
                              "does not compile";
        return {};
      }
      if (!d.has_dim_value() || d.dim_value() < 0) {
        emitError(fileLoc) << "graph input '" << in.name()
                           << "' has a dynamic dimension"
                           << (d.has_dim_param() ? " '" + d.dim_param() + "'"
                                                 : std::string())
                           << "; Slim compiles static shapes: give one with "
                              "--shape "
                           << in.name() << "=DIMxDIM... or re-export with "
                              "fixed shapes (no dynamic_axes)";
        return {};
      }
      shape.push_back(d.dim_value());
    }
    argTypes.push_back(RankedTensorType::get(shape, elt));
    argNames.push_back(in.name());
  }

  for (const auto &shape : options.shapes)
    if (!llvm::is_contained(argNames, shape.first)) {
      emitError(fileLoc) << "--shape " << shape.first
                         << ": the model has no input '" << shape.first << "'";
      return {};
    }

  b.setInsertionPointToEnd(module->getBody());
  auto func = b.create<func::FuncOp>(fileLoc, "main",
                                     b.getFunctionType(argTypes, {}));
  Block *entry = func.addEntryBlock();
  for (auto [k, name] : llvm::enumerate(argNames)) {
    values[name] = entry->getArgument(k);
    func.setArgAttr(k, "slim.name", b.getStringAttr(name));
  }
  b.setInsertionPointToEnd(entry);

  // The checker has verified that the nodes are topologically sorted.
  // Every node in an unsupported form is reported, not only the first:
  // what reads a failed node's outputs is skipped without a second error.
  llvm::StringSet<> failedValues;
  int64_t failures = 0;
  for (const onnx::NodeProto &n : g.node()) {
    bool skip = llvm::any_of(n.input(), [&](const std::string &in) {
      return failedValues.contains(in);
    });
    if (skip || failed(importNode(n))) {
      failures += !skip;
      for (const std::string &out : n.output()) {
        auto it = inferred.find(out);
        Type elt = it == inferred.end() ? Type() : elementType(it->second.first);
        if (!elt || !(elt.isF32() || elt.isInteger(64) || elt.isInteger(1))) {
          failedValues.insert(out);
          continue;
        }
        // A placeholder (zeros) of the inferred type: later nodes are
        // checked too; the module is discarded.
        auto type = RankedTensorType::get(it->second.second, elt);
        Attribute zero = elt.isF32() ? Attribute(b.getF32FloatAttr(0))
                         : elt.isInteger(1) ? Attribute(b.getBoolAttr(false))
                                            : Attribute(b.getI64IntegerAttr(0));
        values[out] = b.create<arith::ConstantOp>(
            fileLoc, DenseElementsAttr::get(type, zero));
      }
    }
  }
  if (failures) {
    emitError(fileLoc) << failures << " node" << (failures == 1 ? "" : "s")
                       << " in a form Slim does not support (each reported "
                          "above)";
    return {};
  }

  SmallVector<Value> results;
  for (const auto &out : g.output()) {
    Value v = value(out.name(), fileLoc);
    if (!v)
      return {};
    results.push_back(v);
  }
  b.create<func::ReturnOp>(fileLoc, results);
  func.setType(b.getFunctionType(argTypes, ValueRange(results).getTypes()));
  for (auto [k, out] : llvm::enumerate(g.output()))
    func.setResultAttr(k, "slim.name", b.getStringAttr(out.name()));
  if (failed(mlir::verify(*module)))
    return {};
  return module;
}

} // namespace

OwningOpRef<ModuleOp>
mlir::slim::importOnnxFromBuffer(MLIRContext *ctx, StringRef bytes,
                                 StringRef name, const ImportOptions &options) {
  OnnxImporter importer(ctx, name, options);
  importer.setContents(bytes);
  return importer.run();
}

OwningOpRef<ModuleOp> mlir::slim::importOnnx(MLIRContext *ctx, StringRef path,
                                             const ImportOptions &options) {
  return OnnxImporter(ctx, path, options).run();
}

bool mlir::slim::readOnnxTensorFile(StringRef path, ::slim::rt::NpyArray &out,
                                    std::string &error) {
  namespace rt = ::slim::rt;
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                            /*RequiresNullTerminator=*/false);
  onnx::TensorProto t;
  if (!buffer || (*buffer)->getBufferSize() > size_t(INT32_MAX) ||
      !t.ParseFromArray((*buffer)->getBufferStart(),
                        int((*buffer)->getBufferSize()))) {
    error = path.str() + ": not a readable ONNX TensorProto";
    return false;
  }
  MLIRContext ctx;
  std::string diag;
  ScopedDiagnosticHandler handler(&ctx, [&](Diagnostic &d) {
    diag = d.str();
    return success();
  });
  OnnxImporter importer(&ctx, path);
  HostTensor h;
  if (failed(importer.readTensorForTool(t, h))) {
    error = path.str() + ": " + diag;
    return false;
  }
  out.shape = h.shape;
  switch (h.dtype) {
  case onnx::TensorProto::FLOAT:
    out.dtype = rt::DType::F32;
    out.data.resize(h.f.size() * 4);
    if (!out.data.empty())
      std::memcpy(out.data.data(), h.f.data(), out.data.size());
    return true;
  case onnx::TensorProto::INT64:
    out.dtype = rt::DType::I64;
    out.data.resize(h.i.size() * 8);
    if (!out.data.empty())
      std::memcpy(out.data.data(), h.i.data(), out.data.size());
    return true;
  case onnx::TensorProto::INT32:
    out.dtype = rt::DType::I32;
    out.data.resize(h.i.size() * 4);
    for (size_t k = 0; k < h.i.size(); ++k) {
      int32_t v = int32_t(h.i[k]);
      std::memcpy(out.data.data() + 4 * k, &v, 4);
    }
    return true;
  case onnx::TensorProto::BOOL:
    out.dtype = rt::DType::Bool;
    out.data.assign(h.i.begin(), h.i.end());
    return true;
  default:
    error = path.str() + ": element type " + dtypeName(h.dtype) +
            " has no .npy equivalent in Slim";
    return false;
  }
}

bool mlir::slim::exposeOnnxIntermediates(
    StringRef path, StringRef outPath,
    std::vector<std::pair<std::string, std::string>> &nodeOutputs,
    std::string &error) {
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                            /*RequiresNullTerminator=*/false);
  onnx::ModelProto model;
  if (!buffer || (*buffer)->getBufferSize() > size_t(INT32_MAX) ||
      !model.ParseFromArray((*buffer)->getBufferStart(),
                            int((*buffer)->getBufferSize()))) {
    error = path.str() + ": not a readable ONNX model";
    return false;
  }
  try {
    onnx::shape_inference::InferShapes(model);
  } catch (const std::exception &e) {
    error = path.str() + ": ONNX shape inference failed: " + e.what();
    return false;
  }
  onnx::GraphProto *g = model.mutable_graph();
  llvm::StringMap<const onnx::ValueInfoProto *> info;
  for (const auto &vi : g->value_info())
    info[vi.name()] = &vi;
  llvm::StringSet<> outputs;
  for (const auto &o : g->output())
    outputs.insert(o.name());
  std::vector<onnx::ValueInfoProto> added;
  for (const auto &n : g->node()) {
    if (n.op_type() == "Constant" || n.output_size() == 0)
      continue;
    for (const auto &o : n.output())
      if (!o.empty())
        nodeOutputs.emplace_back(n.name(), o);
    for (const auto &o : n.output()) {
      if (o.empty() || outputs.contains(o) || !info.count(o))
        continue;
      outputs.insert(o);
      added.push_back(*info[o]);
    }
  }
  for (auto &vi : added)
    *g->add_output() = vi;
  std::string bytes;
  if (!model.SerializeToString(&bytes)) {
    error = "cannot serialize the exposed model";
    return false;
  }
  std::error_code ec;
  llvm::raw_fd_ostream os(outPath, ec);
  if (ec) {
    error = "cannot write '" + outPath.str() + "': " + ec.message();
    return false;
  }
  os << bytes;
  return true;
}
