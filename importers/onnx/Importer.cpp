//===- Importer.cpp - ONNX models into slim primitives -------------------===//
//
// Loads and checks a ModelProto (Load.cpp), then walks the graph in
// topological order. Each node is folded at import
// time when its inputs are known (Fold.cpp) or emitted as slim ops
// (Emit.cpp), as the op registry (Registry.cpp) says. Initializers that
// reach the graph become dense_resource weights named after the
// initializer. Before anything is emitted, the unsupported op types are
// collected so the user sees all of them in one error.
//
//===----------------------------------------------------------------------===//

#include "importers/onnx/OnnxImporter.h"
#include "runtime/Files.h"

#include "dialects/slim/IR/ShapeUtils.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Verifier.h"
#include "llvm/Support/MemoryBuffer.h"

#include "onnx/shape_inference/implementation.h"

#include <cmath>

using namespace mlir;
using namespace mlir::slim;
using namespace mlir::slim::onnx_import;

//===----------------------------------------------------------------------===//
// Helpers
//===----------------------------------------------------------------------===//

namespace mlir::slim::onnx_import {

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

const onnx::AttributeProto *findAttr(const onnx::NodeProto &n, StringRef name) {
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

} // namespace mlir::slim::onnx_import

//===----------------------------------------------------------------------===//
// Values
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

const onnx::NodeProto *
OnnxImporter::foldableBatchNorm(const onnx::NodeProto &conv) {
  auto it = readers.find(conv.output(0));
  if (it == readers.end() || it->second.size() != 1 || !it->second[0])
    return nullptr;
  const onnx::NodeProto *bn = it->second[0];
  if (opKey(*bn) != "BatchNormalization" || bn->input_size() != 5 ||
      bn->input(0) != conv.output(0) || intAttr(*bn, "training_mode", 0))
    return nullptr;
  for (int k = 1; k < bn->output_size(); ++k)
    if (!bn->output(k).empty())
      return nullptr;
  const HostTensor *w = constant(conv.input(1));
  if (!w || !w->isFloat() || w->shape.empty())
    return nullptr;
  for (int k = 1; k < 5; ++k) {
    const HostTensor *p = constant(bn->input(k));
    if (!p || p->size() != w->shape[0])
      return nullptr;
  }
  return bn;
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

//===----------------------------------------------------------------------===//
// The graph
//===----------------------------------------------------------------------===//

LogicalResult OnnxImporter::importNode(const onnx::NodeProto &n) {
  const OpInfo &info = opRegistry().find(opKey(n))->second;
  bool folded = false;
  try {
    NodeFolder folder(*this, n, folded);
    if (failed(folder.run(info.fold, info.foldAnyInputs)))
      return failure();
  } catch (const std::exception &e) {
    // Malformed shapes (negative or absurd sizes) end up here rather than
    // in a crash.
    return error(nodeLoc(n))
           << n.op_type() << ": cannot evaluate at import time: " << e.what();
  }
  if (folded)
    return success();
  return NodeEmitter(*this, n).run(info.emit, info.fold != nullptr);
}

OwningOpRef<ModuleOp> OnnxImporter::run() {
  registerImportDialects(ctx);
  onnx::ModelProto model;
  if (failed(load(model)) || failed(bindInputs(model)))
    return {};
  // Unsupported op types first: they are the bigger obstacle to report.
  if (failed(checkSupported(model.graph())) ||
      failed(checkBeforeInference(model.graph())) ||
      failed(upgradeOpset(model)) || failed(inferShapes(model)))
    return {};
  const onnx::GraphProto &g = model.graph();

  Location fileLoc = FileLineColLoc::get(ctx, path, 0, 0);
  for (const auto &t : g.initializer()) {
    HostTensor h;
    if (failed(readTensor(t, h, fileLoc)))
      return {};
    if (h.isFloat()) {
      int64_t bad =
          llvm::count_if(h.f, [](float v) { return !std::isfinite(v); });
      if (bad)
        emitWarning(fileLoc)
            << "initializer '" << t.name() << "' has " << bad
            << " NaN/Inf value" << (bad == 1 ? "" : "s") << " of " << h.size()
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
      emitError(fileLoc) << "graph input '" << in.name() << "' is not a tensor";
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
                           << " does not fit the model's input shape [" << model
                           << "]";
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
                           << in.name()
                           << "=DIMxDIM... or re-export with "
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
  auto func =
      b.create<func::FuncOp>(fileLoc, "main", b.getFunctionType(argTypes, {}));
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
  for (const onnx::NodeProto &n : g.node())
    for (const std::string &in : n.input())
      readers[in].push_back(&n);
  for (const auto &out : g.output())
    readers[out.name()].push_back(nullptr);
  for (const onnx::NodeProto &n : g.node()) {
    bool skip = llvm::any_of(n.input(), [&](const std::string &in) {
      return failedValues.contains(in);
    });
    if (skip || failed(importNode(n))) {
      failures += !skip;
      for (const std::string &out : n.output()) {
        auto it = inferred.find(out);
        Type elt =
            it == inferred.end() ? Type() : elementType(it->second.first);
        if (!elt || !(elt.isF32() || elt.isInteger(64) || elt.isInteger(1))) {
          failedValues.insert(out);
          continue;
        }
        // A placeholder (zeros) of the inferred type: later nodes are
        // checked too; the module is discarded.
        auto type = RankedTensorType::get(it->second.second, elt);
        Attribute zero = elt.isF32()        ? Attribute(b.getF32FloatAttr(0))
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
