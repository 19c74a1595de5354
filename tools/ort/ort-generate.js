#!/usr/bin/env node
// Greedy generation with ONNX Runtime: the reference Slim's KV-cache
// binaries (slimc --max-seq-len) are compared with, token for token.
//
//   node ort-generate.js MODEL.onnx --prompt-ids FILE.npy --generate N
//       --output-dir DIR [--threads N]
//
// MODEL maps input_ids [1, T] (and, if it has a second input, position_ids
// [1, T], fed 0 … T-1) to logits [1, T, V]. Every step recomputes
// the whole sequence (no cache): with a dynamic T the input is the ids so
// far; with a static T (a fixed export) the ids are right-padded with 0 to
// T, which a causal model cannot see from earlier rows. Token i is the
// first largest logit of the last real row. Writes DIR/ids.npy (int64
// [1, N]) and DIR/logits.npy (float32 [N, V], the logits each token was
// picked from), like the Slim binary's --output ids= / logits=.
'use strict';
const fs = require('fs');
const path = require('path');
const ort = require('onnxruntime-node');
const { readNpy, writeNpy } = require('./ort-run.js');

async function main() {
  const args = process.argv.slice(2);
  const model = args.shift();
  let promptFile = null, count = 0, outDir = '.', threads = 1;
  while (args.length) {
    const a = args.shift();
    if (a === '--prompt-ids') promptFile = args.shift();
    else if (a === '--generate') count = Number(args.shift());
    else if (a === '--output-dir') outDir = args.shift();
    else if (a === '--threads') threads = Number(args.shift());
    else throw new Error(`unknown argument ${a}`);
  }
  if (!promptFile || !(count > 0)) throw new Error('needs --prompt-ids FILE.npy and --generate N');
  const session = await ort.InferenceSession.create(model, {
    intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all',
  });
  const meta = session.inputMetadata[0];
  const n = session.inputNames.length;
  if (n !== 1 && !(n === 2 && session.inputNames[1] === 'position_ids'))
    throw new Error('the model must have one input (input_ids), or input_ids and position_ids');
  const window = typeof meta.shape[1] === 'number' ? meta.shape[1] : 0;
  const ids = Array.from(readNpy(promptFile).data, x => BigInt(x));
  if (window && ids.length + count - 1 > window)
    throw new Error(`prompt ${ids.length} + ${count} tokens do not fit the static window ${window}`);
  const out = [], logits = [];
  let vocab = 0;
  for (let i = 0; i < count; ++i) {
    const t = window || ids.length;
    const data = new BigInt64Array(t);
    ids.forEach((x, k) => { data[k] = x; });
    const feeds = { [session.inputNames[0]]: new ort.Tensor('int64', data, [1, t]) };
    if (n === 2)
      feeds.position_ids = new ort.Tensor('int64', BigInt64Array.from({ length: t }, (_, k) => BigInt(k)), [1, t]);
    const res = await session.run(feeds);
    const l = res[session.outputNames[0]];
    vocab = l.dims[2];
    const row = l.data.subarray((ids.length - 1) * vocab, ids.length * vocab);
    let best = 0;
    for (let v = 1; v < vocab; ++v) if (row[v] > row[best]) best = v;
    logits.push(Float32Array.from(row));
    out.push(BigInt(best));
    ids.push(BigInt(best));
  }
  const flat = new Float32Array(count * vocab);
  logits.forEach((r, i) => flat.set(r, i * vocab));
  fs.mkdirSync(outDir, { recursive: true });
  writeNpy(path.join(outDir, 'ids.npy'), new ort.Tensor('int64', BigInt64Array.from(out), [1, count]));
  writeNpy(path.join(outDir, 'logits.npy'), new ort.Tensor('float32', flat, [count, vocab]));
}

main().catch(e => { console.error(`ort-generate: error: ${e.message}`); process.exit(1); });
