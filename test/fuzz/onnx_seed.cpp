//===- onnx_seed.cpp - small onnx_fuzzer seeds from the fixture models ----===//
//
//   onnx_seed IN.onnx OUT.onnx
//
// Writes IN with every float or int64 initializer of more than 16 values
// replaced by a ConstantOfShape node of the same shape and name (floats: a
// different fill value per tensor; int64 index tables such as Swin's
// relative positions: 0, a valid index), so that a fixture of 100-500 KB becomes a seed of a
// few KB whose graph, once the importer has folded those nodes, is the
// same: the fuzzer then mutates the graph's structure (which the importer
// and the raiser walk) thousands of times a second instead of mutating
// weight bytes a hundred times a second. Models with external data are
// refused (exit 1): their weights are not in the file.
//
//===----------------------------------------------------------------------===//

#include "onnx/onnx_pb.h"

#include <cstdio>
#include <fstream>
#include <functional>
#include <set>
#include <string>

namespace {

int64_t numElements(const onnx::TensorProto &t) {
  int64_t n = 1;
  for (int64_t d : t.dims())
    n *= d;
  return n;
}

} // namespace

int main(int argc, char **argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: onnx_seed IN.onnx OUT.onnx\n");
    return 2;
  }
  std::ifstream in(argv[1], std::ios::binary);
  onnx::ModelProto model;
  if (!in || !model.ParseFromIstream(&in)) {
    std::fprintf(stderr, "onnx_seed: %s: not an ONNX model\n", argv[1]);
    return 1;
  }
  onnx::GraphProto *g = model.mutable_graph();
  onnx::GraphProto kept;
  std::set<std::string> replaced;
  std::vector<onnx::NodeProto> fills;
  for (const onnx::TensorProto &t : g->initializer()) {
    if (t.data_location() == onnx::TensorProto::EXTERNAL) {
      std::fprintf(stderr, "onnx_seed: %s keeps '%s' in an external file\n",
                   argv[1], t.name().c_str());
      return 1;
    }
    bool isFloat = t.data_type() == onnx::TensorProto::FLOAT;
    if ((!isFloat && t.data_type() != onnx::TensorProto::INT64) ||
        numElements(t) <= 16) {
      *kept.add_initializer() = t;
      continue;
    }
    onnx::TensorProto *shape = kept.add_initializer();
    shape->set_name(t.name() + ".seed_shape");
    shape->set_data_type(onnx::TensorProto::INT64);
    shape->add_dims(t.dims_size());
    for (int64_t d : t.dims())
      shape->add_int64_data(d);
    onnx::NodeProto fill;
    fill.set_op_type("ConstantOfShape");
    fill.set_name(t.name() + ".seed_fill");
    fill.add_input(shape->name());
    fill.add_output(t.name());
    onnx::AttributeProto *value = fill.add_attribute();
    value->set_name("value");
    value->set_type(onnx::AttributeProto::TENSOR);
    onnx::TensorProto *v = value->mutable_t();
    v->set_data_type(t.data_type());
    v->add_dims(1);
    if (isFloat)
      v->add_float_data(0.01f *
                        float(1 + std::hash<std::string>()(t.name()) % 50));
    else
      v->add_int64_data(0);
    fills.push_back(fill);
    replaced.insert(t.name());
  }
  g->mutable_initializer()->Swap(kept.mutable_initializer());
  // Older exports list initializers among the graph inputs too.
  onnx::GraphProto inputs;
  for (const onnx::ValueInfoProto &i : g->input())
    if (!replaced.count(i.name()))
      *inputs.add_input() = i;
  g->mutable_input()->Swap(inputs.mutable_input());
  // The fills come first: the checker wants the nodes topologically sorted.
  onnx::GraphProto nodes;
  for (const onnx::NodeProto &n : fills)
    *nodes.add_node() = n;
  for (const onnx::NodeProto &n : g->node())
    *nodes.add_node() = n;
  g->mutable_node()->Swap(nodes.mutable_node());
  std::ofstream out(argv[2], std::ios::binary);
  if (!out || !model.SerializeToOstream(&out)) {
    std::fprintf(stderr, "onnx_seed: cannot write %s\n", argv[2]);
    return 1;
  }
  return 0;
}
