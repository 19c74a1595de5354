//===- SlimInterfaces.td - slim op interfaces ---------------*- tablegen -*-===//

#ifndef SLIM_INTERFACES
#define SLIM_INTERFACES

include "mlir/IR/OpBase.td"

def Slim_CostOpInterface : OpInterface<"CostOpInterface"> {
  let description = [{
    The arithmetic of an op, counted once for every consumer: `slim-stats`
    (MACs per sublayer), the compiled model's `--profile` (GFLOP/s per
    kernel call) and the benchmarks' efficiency figures. A FLOP count is
    2 × MACs. Ops that only move data or work elementwise do not implement
    it and count 0.
  }];
  let cppNamespace = "::mlir::slim";
  let methods = [
    InterfaceMethod<
      "Multiply-accumulates of one run of the op (for causal attention, "
      "only the (query, key) pairs the mask leaves visible).",
      "int64_t", "getMacs">
  ];
}

#endif // SLIM_INTERFACES
