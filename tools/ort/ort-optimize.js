#!/usr/bin/env node
// Writes the graph ONNX Runtime's optimizer makes of a model, as users get
// it from onnxruntime's offline optimization: Constant nodes become
// initializers, shape computations fold, and at --level extended or all
// ONNX Runtime's fused contrib ops appear.
//
//   node ort-optimize.js IN.onnx OUT.onnx [--level basic|extended|all]
'use strict';
const ort = require('onnxruntime-node');

async function main() {
  const args = process.argv.slice(2);
  let level = 'basic';
  const i = args.indexOf('--level');
  if (i >= 0) { level = args[i + 1]; args.splice(i, 2); }
  if (args.length !== 2 || !['basic', 'extended', 'all'].includes(level)) {
    console.error('usage: ort-optimize.js IN.onnx OUT.onnx [--level basic|extended|all]');
    process.exit(2);
  }
  await ort.InferenceSession.create(args[0], {
    graphOptimizationLevel: level, optimizedModelFilePath: args[1],
    executionProviders: ['cpu'],
  });
}
main().catch((e) => { console.error(`ort-optimize: ${e.message}`); process.exit(1); });
