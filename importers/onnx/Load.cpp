//===- Load.cpp - reading and checking an ONNX model ----------------------===//
//
// Everything that happens to a ModelProto before the graph walk: parsing
// (external data inlined), ONNX's checker, the op types Slim supports, the
// structural checks ONNX's own code takes for granted, the upgrade of old
// opsets by ONNX's version converter, ONNX's shape inference, and reading
// initializers into host tensors. Each reports every problem it finds in
// one error.
//
//===----------------------------------------------------------------------===//

#include "importers/onnx/OnnxImporter.h"

#include "dialects/slim/IR/ShapeUtils.h"
#include "runtime/Files.h"
#include "runtime/Npy.h"

#include "llvm/ADT/MapVector.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/MemoryBuffer.h"

#include "onnx/checker.h"
#include "onnx/shape_inference/implementation.h"
#include "onnx/version_converter/convert.h"

#include <cmath>
#include <map>
#include <set>

using namespace mlir;
using namespace mlir::slim;
using namespace mlir::slim::onnx_import;

/// ONNX Runtime's optimizer writes some of its own ops in the default
/// domain (SimplifiedLayerNormalization; LayerNormalization below opset
/// 17), where ONNX's checker and shape inference know no schema for them:
/// they move to com.microsoft, beside ORT's other fused ops.
void OnnxImporter::adoptRuntimeOps(onnx::ModelProto &model) {
  int64_t opset = 0;
  bool haveMs = false;
  for (const auto &o : model.opset_import()) {
    if (o.domain().empty() || o.domain() == "ai.onnx")
      opset = o.version();
    haveMs |= o.domain() == "com.microsoft";
  }
  bool moved = false;
  for (auto &n : *model.mutable_graph()->mutable_node()) {
    if (!n.domain().empty() && n.domain() != "ai.onnx")
      continue;
    if (n.op_type() != "SimplifiedLayerNormalization" &&
        n.op_type() != "LayerNormalization")
      continue;
    if (onnx::OpSchemaRegistry::Schema(n.op_type(), int(opset), ""))
      continue;
    n.set_domain("com.microsoft");
    moved = true;
  }
  if (moved && !haveMs) {
    auto *o = model.add_opset_import();
    o->set_domain("com.microsoft");
    o->set_version(1);
  }
}

LogicalResult OnnxImporter::load(onnx::ModelProto &model) {
  Location loc = FileLineColLoc::get(ctx, path, 0, 0);
  std::unique_ptr<llvm::MemoryBuffer> file;
  StringRef bytes = contents;
  if (!haveContents) {
    if (std::string why = ::slim::rt::notARegularFile(path); !why.empty())
      return error(loc) << "the model " << why;
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
  adoptRuntimeOps(model);
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

LogicalResult OnnxImporter::bindInputs(onnx::ModelProto &model) {
  if (options.binds.empty())
    return success();
  onnx::GraphProto &g = *model.mutable_graph();
  std::vector<std::string> problems;
  for (const auto &bind : options.binds) {
    const std::string &name = bind.first, &file = bind.second;
    int at = -1;
    for (int k = 0; k < g.input_size(); ++k)
      if (g.input(k).name() == name)
        at = k;
    bool initialized = llvm::any_of(g.initializer(), [&](const auto &t) {
      return t.name() == name;
    });
    if (at < 0 || initialized) {
      problems.push_back("--bind " + name + ": the model has no input '" +
                         name + "'");
      continue;
    }
    ::slim::rt::NpyArray array;
    std::string why;
    if (!::slim::rt::readNpy(file, array, why)) {
      problems.push_back("--bind " + name + ": " + why);
      continue;
    }
    using TP = onnx::TensorProto;
    int32_t have = array.dtype == ::slim::rt::DType::F32    ? TP::FLOAT
                   : array.dtype == ::slim::rt::DType::I64  ? TP::INT64
                   : array.dtype == ::slim::rt::DType::I32  ? TP::INT32
                   : array.dtype == ::slim::rt::DType::Bool ? TP::BOOL
                                                            : TP::UNDEFINED;
    const onnx::TypeProto &type = g.input(at).type();
    int32_t want = type.has_tensor_type() ? type.tensor_type().elem_type()
                                          : int32_t(TP::UNDEFINED);
    if (have != want) {
      problems.push_back("--bind " + name + ": " + file + " holds " +
                         ::slim::rt::dtypeName(array.dtype) +
                         ", the input is " + dtypeName(want));
      continue;
    }
    const auto &dims = type.tensor_type().shape().dim();
    bool fits = !type.tensor_type().has_shape() ||
                dims.size() == int(array.shape.size());
    for (int d = 0; fits && type.tensor_type().has_shape() && d < dims.size();
         ++d)
      fits = !dims[d].has_dim_value() || dims[d].dim_value() < 0 ||
             dims[d].dim_value() == array.shape[d];
    if (!fits) {
      problems.push_back("--bind " + name + ": " + file + " has shape " +
                         formatShape(array.shape) +
                         ", which does not fit the input's");
      continue;
    }
    TP &t = *g.add_initializer();
    t.set_name(name);
    t.set_data_type(want);
    for (int64_t d : array.shape)
      t.add_dims(d);
    t.set_raw_data(array.data.data(), array.data.size());
    // From IR version 4 an initializer need not be an input; one that is
    // stays a default a caller may override, which ONNX's shape inference
    // does not fold.
    if (model.ir_version() >= 4)
      g.mutable_input()->DeleteSubrange(at, 1);
  }
  if (problems.empty())
    return success();
  InFlightDiagnostic diag = error(FileLineColLoc::get(ctx, path, 0, 0));
  for (size_t k = 0; k < problems.size(); ++k)
    diag << (k ? "; " : "") << problems[k];
  return failure();
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
      if (!vi.type().has_tensor_type() || !vi.type().tensor_type().has_shape())
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
      bool numeric =
          !value.empty() &&
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
      if (std::string why = ::slim::rt::notARegularFile(file); !why.empty())
        return error(loc) << "initializer '" << t.name()
                          << "' keeps its data in '" << file << "', which "
                          << why;
      auto opened =
          llvm::MemoryBuffer::getFile(file, /*IsText=*/false,
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
                        << offset << ", " << offset + length << ") of '" << file
                        << "', which has " << size;
    t.set_raw_data(buf->getBufferStart() + offset, length);
    t.clear_external_data();
    t.set_data_location(onnx::TensorProto::DEFAULT);
  }
  return success();
}

/// The ranks ONNX's shape inference left unknown but the graph fixes
/// (a transposition's permutation, an einsum's output subscripts, a
/// reshape to a constant shape, a matmul or elementwise op of known ranks,
/// ops that keep their input's rank), for the inputs of Softmax,
/// LogSoftmax and Hardmax, whose opset-13 adapters need them: written as
/// value_info of symbolic extents. A reshape to a computed shape (Shape,
/// Gather, Div into Concat: exports at opset 12) hides the extents, not
/// these ranks.
static void annotateSoftmaxRanks(onnx::ModelProto &model) {
  onnx::GraphProto &g = *model.mutable_graph();
  std::map<std::string, int64_t> rank;
  std::set<std::string> shaped; // ranks ONNX's inference knows already
  auto note = [&](const onnx::ValueInfoProto &vi) {
    if (vi.type().has_tensor_type() && vi.type().tensor_type().has_shape()) {
      rank[vi.name()] = vi.type().tensor_type().shape().dim_size();
      shaped.insert(vi.name());
    }
  };
  for (const auto &vi : g.input())
    note(vi);
  for (const auto &vi : g.value_info())
    note(vi);
  std::map<std::string, const onnx::TensorProto *> constants;
  for (const auto &t : g.initializer()) {
    rank[t.name()] = t.dims_size();
    constants[t.name()] = &t;
  }
  auto known = [&](const std::string &name) -> int64_t {
    auto it = rank.find(name);
    return it == rank.end() ? -1 : it->second;
  };
  auto attr = [](const onnx::NodeProto &n,
                 StringRef name) -> const onnx::AttributeProto * {
    for (const auto &a : n.attribute())
      if (a.name() == name)
        return &a;
    return nullptr;
  };
  static const std::set<std::string> sameRank = {
      "Softmax", "LogSoftmax", "Hardmax", "Relu", "Sigmoid", "Tanh", "Exp",
      "Log", "Sqrt", "Erf", "Neg", "Abs", "Cast", "Identity", "Dropout",
      "Clip", "LeakyRelu", "Concat", "Split", "Not", "Reciprocal"};
  static const std::set<std::string> elementwise = {
      "Add", "Sub", "Mul", "Div", "Pow", "Where", "Max", "Min", "Equal",
      "Less", "Greater", "And", "Or"};
  for (const auto &n : g.node()) {
    if (!n.domain().empty() && n.domain() != "ai.onnx")
      continue;
    if (n.op_type() == "Constant")
      if (const auto *v = attr(n, "value"); v && v->has_t()) {
        rank[n.output(0)] = v->t().dims_size();
        constants[n.output(0)] = &v->t();
        continue;
      }
    const std::string &op = n.op_type();
    int64_t r = -1, in0 = n.input_size() ? known(n.input(0)) : -1;
    if (op == "Transpose") {
      const auto *perm = attr(n, "perm");
      r = perm ? perm->ints_size() : in0;
    } else if (op == "Einsum") {
      const auto *eq = attr(n, "equation");
      std::string e = eq ? eq->s() : "";
      size_t arrow = e.find("->");
      if (arrow != std::string::npos && e.find("...") == std::string::npos)
        r = int64_t(llvm::count_if(StringRef(e).substr(arrow + 2),
                                   [](char c) { return llvm::isAlpha(c); }));
    } else if (op == "MatMul") {
      int64_t a = in0, b = n.input_size() > 1 ? known(n.input(1)) : -1;
      if (a >= 2 && b >= 2)
        r = std::max(a, b);
    } else if (elementwise.count(op)) {
      // The broadcast rank: the largest, once every input's is known.
      bool all = true;
      for (const auto &in : n.input()) {
        all &= known(in) >= 0;
        r = std::max(r, known(in));
      }
      r = all ? r : -1;
    } else if (sameRank.count(op)) {
      r = in0;
    } else if (op == "Flatten") {
      r = 2;
    } else if (op == "Unsqueeze" || op == "Squeeze") {
      // Opset < 13: the axes are an attribute.
      if (const auto *axes = attr(n, "axes"); axes && in0 >= 0)
        r = in0 + (op == "Unsqueeze" ? 1 : -1) * axes->ints_size();
    } else if (op == "Reshape" && n.input_size() > 1) {
      auto c = constants.find(n.input(1));
      if (c != constants.end() && c->second->dims_size() == 1)
        r = c->second->dims(0);
    }
    if (r < 0)
      continue;
    for (const auto &out : n.output())
      if (!out.empty() && !rank.count(out))
        rank[out] = r;
  }
  for (const auto &n : g.node()) {
    const std::string &op = n.op_type();
    if ((op != "Softmax" && op != "LogSoftmax" && op != "Hardmax") ||
        !n.input_size() || shaped.count(n.input(0)))
      continue;
    int64_t r = known(n.input(0));
    if (r < 1)
      continue;
    onnx::ValueInfoProto &vi = *g.add_value_info();
    vi.set_name(n.input(0));
    auto &tt = *vi.mutable_type()->mutable_tensor_type();
    tt.set_elem_type(onnx::TensorProto::FLOAT);
    for (int64_t d = 0; d < r; ++d)
      tt.mutable_shape()->add_dim()->set_dim_param(n.input(0) + "_d" +
                                                   std::to_string(d));
    shaped.insert(n.input(0));
  }
}

LogicalResult OnnxImporter::upgradeOpset(onnx::ModelProto &model) {
  int64_t opset = -1;
  for (const auto &o : model.opset_import())
    if (o.domain().empty() || o.domain() == "ai.onnx")
      opset = o.version();
  Location loc = FileLineColLoc::get(ctx, path, 0, 0);
  if (opset > 17 || opset < 1)
    return error(loc) << "ONNX opset " << opset
                      << " is not supported (Slim reads opsets 1 to 17, "
                         "upgrading those below 13); re-export with "
                         "opset_version=17";
  if (opset >= 13)
    return success();
  // Older models are upgraded to opset 13 by ONNX's own version converter
  // (its adapters rewrite e.g. Split's and Squeeze's attributes into
  // inputs, Clip's into inputs, Upsample into Resize).
  try {
    // Some adapters (Softmax's axis semantics) need the input shapes;
    // data propagation follows the shapes exporters compute (Shape,
    // Gather, Concat into Reshape).
    onnx::shape_inference::InferShapes(
        model, onnx::OpSchemaRegistry::Instance(),
        onnx::ShapeInferenceOptions(/*check_type=*/false, /*error_mode=*/0,
                                    /*enable_data_propagation=*/true));
    annotateSoftmaxRanks(model);
    model = onnx::version_conversion::ConvertVersion(model, 13);
  } catch (const std::exception &e) {
    std::string msg = e.what();
    std::replace(msg.begin(), msg.end(), '\n', ' ');
    while (!msg.empty() && msg.back() == ' ')
      msg.pop_back();
    return error(loc) << "ONNX's version converter cannot upgrade this "
                         "model from opset "
                      << opset << " to 13: " << msg;
  }
  return success();
}

LogicalResult OnnxImporter::checkSupported(const onnx::GraphProto &g) {
  const auto &registry = opRegistry();
  // op type -> (count, first node name), in first-seen order.
  llvm::MapVector<StringRef, std::pair<int, std::string>> missing;
  for (const auto &n : g.node()) {
    std::string type = opKey(n);
    if (registry.count(type))
      continue;
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

/// What ONNX's own shape inference and version converter take for granted
/// and crash on otherwise (both found by the onnx fuzzer; the checker lets
/// them through): every graph output is computed by a node or is a graph
/// input or initializer, and the window attributes Conv's and the pools'
/// inference divides by (strides, dilations, kernel_shape, group) are
/// positive. Every problem of the graph is listed at once.
LogicalResult OnnxImporter::checkBeforeInference(const onnx::GraphProto &g) {
  static const llvm::StringSet<> windowOps = {
      "Conv", "ConvTranspose", "MaxPool", "AveragePool", "LpPool"};
  std::vector<std::string> problems;
  llvm::StringSet<> defined;
  for (const auto &in : g.input())
    defined.insert(in.name());
  for (const auto &t : g.initializer())
    defined.insert(t.name());
  for (const auto &n : g.node())
    for (const std::string &out : n.output())
      defined.insert(out);
  for (const auto &out : g.output())
    if (!defined.contains(out.name()))
      problems.push_back("graph output '" + out.name() +
                         "' is not computed by any node, nor a graph input "
                         "or initializer");
  // The ranks the graph declares (inputs, initializers, value_info): ONNX's
  // convolution shape inference indexes the weight by the input's rank.
  llvm::StringMap<int64_t> ranks;
  for (const auto &in : g.input())
    if (in.type().tensor_type().has_shape())
      ranks[in.name()] = in.type().tensor_type().shape().dim_size();
  for (const auto &in : g.value_info())
    if (in.type().tensor_type().has_shape())
      ranks[in.name()] = in.type().tensor_type().shape().dim_size();
  for (const auto &t : g.initializer())
    ranks[t.name()] = t.dims_size();
  auto rankOf = [&](const std::string &v) -> int64_t {
    auto it = ranks.find(v);
    return it == ranks.end() ? -1 : it->second;
  };
  for (const auto &n : g.node()) {
    if (!n.domain().empty() && n.domain() != "ai.onnx")
      continue;
    if (!windowOps.contains(n.op_type()))
      continue;
    std::string name = n.op_type() + " '" +
                       (n.name().empty() ? std::string("(unnamed)") : n.name()) +
                       "'";
    auto check = [&](StringRef attr, int64_t least) {
      auto values = intsAttr(n, attr);
      if (!values)
        return;
      for (int64_t v : *values)
        if (v < least) {
          problems.push_back(name + ": " + attr.str() + " must be >= " +
                             std::to_string(least) + ", not " +
                             std::to_string(v));
          return;
        }
    };
    check("strides", 1);
    check("dilations", 1);
    check("kernel_shape", 1);
    check("pads", 0);
    check("output_padding", 0);
    int64_t rank = n.input_size() ? rankOf(n.input(0)) : -1;
    bool weighted = n.op_type() == "Conv" || n.op_type() == "ConvTranspose";
    if (weighted && n.input_size() > 1) {
      int64_t wrank = rankOf(n.input(1));
      if ((rank >= 0 && rank < 3) || (wrank >= 0 && wrank < 3) ||
          (rank >= 0 && wrank >= 0 && rank != wrank))
        problems.push_back(name + ": input of rank " + std::to_string(rank) +
                           " and weight of rank " + std::to_string(wrank) +
                           "; both need one rank of at least 3");
    }
    if (rank >= 3)
      for (auto [attr, per] : {std::pair("strides", 1), std::pair("dilations", 1),
                               std::pair("kernel_shape", 1),
                               std::pair("output_padding", 1),
                               std::pair("output_shape", 1),
                               std::pair("pads", 2)}) {
        auto values = intsAttr(n, attr);
        if (values && int64_t(values->size()) != per * (rank - 2))
          problems.push_back(name + ": " + attr + " has " +
                             std::to_string(values->size()) +
                             " values for " + std::to_string(rank - 2) +
                             " spatial axes");
      }
    if (intAttr(n, "group", 1) < 1)
      problems.push_back(name + ": group must be >= 1, not " +
                         std::to_string(intAttr(n, "group", 1)));
  }
  if (problems.empty())
    return success();
  auto diag = error(FileLineColLoc::get(ctx, path, 0, 0));
  diag << "not a valid ONNX model (" << problems.size() << " problem"
       << (problems.size() == 1 ? "" : "s") << "): ";
  for (size_t i = 0; i < problems.size(); ++i)
    diag << (i ? "; " : "") << problems[i];
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
