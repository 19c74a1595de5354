#!/usr/bin/env node
// Runs an ONNX model with ONNX Runtime (CPU) on .npy inputs, writing .npy
// outputs: the independent reference Slim's binaries are compared with.
//
//   node ort-run.js MODEL.onnx --describe
//       prints the inputs and outputs as JSON
//   node ort-run.js MODEL.onnx --input NAME=FILE.npy ... --output-dir DIR
//       [--threads N] [--bench N]
// Output files are named after the outputs, with characters other than
// letters, digits and '_.-' replaced by '_'.
'use strict';
const fs = require('fs');
const path = require('path');
const ort = require('onnxruntime-node');

const DTYPES = {
  '<f4': ['float32', Float32Array], '<i8': ['int64', BigInt64Array],
  '<i4': ['int32', Int32Array], '|b1': ['bool', Uint8Array],
};

function readNpy(file) {
  const buf = fs.readFileSync(file);
  if (buf.slice(0, 6).toString('latin1') !== '\x93NUMPY') throw new Error(`${file}: not a .npy file`);
  const major = buf[6];
  const hlen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const off = major === 1 ? 10 : 12;
  const header = buf.slice(off, off + hlen).toString('latin1');
  const descr = /'descr':\s*'([^']+)'/.exec(header)[1];
  const shape = /'shape':\s*\(([^)]*)\)/.exec(header)[1].split(',').map(s => s.trim()).filter(s => s).map(Number);
  if (/'fortran_order':\s*True/.test(header)) throw new Error(`${file}: Fortran order`);
  const [type, Arr] = DTYPES[descr] || [];
  if (!type) throw new Error(`${file}: unsupported dtype ${descr}`);
  const data = buf.slice(off + hlen);
  const copy = new Uint8Array(data.length);
  copy.set(data);
  const arr = new Arr(copy.buffer, 0, data.length / Arr.BYTES_PER_ELEMENT);
  return new ort.Tensor(type, type === 'bool' ? Uint8Array.from(arr) : arr, shape);
}

function writeNpy(file, tensor) {
  const entry = Object.entries(DTYPES).find(([, [t]]) => t === tensor.type);
  if (!entry) throw new Error(`output of type ${tensor.type} is not supported`);
  const shape = tensor.dims.length === 1 ? `(${tensor.dims[0]},)` : `(${tensor.dims.join(', ')})`;
  let header = `{'descr': '${entry[0]}', 'fortran_order': False, 'shape': ${shape}, }`;
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - total % 64) % 64) + '\n';
  const pre = Buffer.alloc(10);
  Buffer.from('\x93NUMPY', 'latin1').copy(pre);
  pre[6] = 1; pre[7] = 0;
  pre.writeUInt16LE(header.length, 8);
  const data = Buffer.from(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength);
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, Buffer.concat([pre, Buffer.from(header, 'latin1'), data]));
  fs.renameSync(tmp, file);
}

async function main() {
  const args = process.argv.slice(2);
  const model = args.shift();
  const inputs = {};
  let outDir = '.', threads = 1, bench = 0, describe = false;
  while (args.length) {
    const a = args.shift();
    if (a === '--input') { const [n, f] = args.shift().split('='); inputs[n] = f; }
    else if (a === '--output-dir') outDir = args.shift();
    else if (a === '--threads') threads = Number(args.shift());
    else if (a === '--bench') bench = Number(args.shift());
    else if (a === '--describe') describe = true;
    else throw new Error(`unknown argument ${a}`);
  }
  const session = await ort.InferenceSession.create(model, {
    intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all',
  });
  if (describe) {
    console.log(JSON.stringify({ inputs: session.inputMetadata, outputs: session.outputNames }));
    return;
  }
  const feeds = {};
  for (const name of session.inputNames) {
    if (!inputs[name]) throw new Error(`missing input '${name}'`);
    feeds[name] = readNpy(inputs[name]);
  }
  let results = await session.run(feeds);
  if (bench > 0) {
    // Steady state first (ONNX Runtime takes several runs to reach it on
    // larger models), the rule Slim's --bench follows too: at least 10
    // runs, then more until the last three are within 5% of each other (at
    // most 40 more).
    const warm = [];
    let steady = false;
    while (warm.length < 50) {
      const t0 = process.hrtime.bigint();
      results = await session.run(feeds);
      warm.push(Number(process.hrtime.bigint() - t0) / 1e6);
      if (warm.length >= 10) {
        const last = warm.slice(-3);
        if (Math.max(...last) <= Math.min(...last) * 1.05) { steady = true; break; }
      }
    }
    const times = [];
    for (let i = 0; i < bench; ++i) {
      const t0 = process.hrtime.bigint();
      results = await session.run(feeds);
      times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    times.sort((x, y) => x - y);
    console.log(`median_ms=${times[Math.floor(times.length / 2)].toFixed(3)} min_ms=${times[0].toFixed(3)} ` +
                `warmup_runs=${warm.length} steady=${steady ? 1 : 0}`);
  }
  fs.mkdirSync(outDir, { recursive: true });
  // Intermediate value names carry '/' and ':' (torch export): one file each.
  for (const name of session.outputNames) {
    const file = name.replace(/[^A-Za-z0-9_.-]/g, '_');
    writeNpy(path.join(outDir, `${file}.npy`), results[name]);
  }
}

module.exports = { readNpy, writeNpy };

if (require.main === module)
  main().catch(e => { console.error(`ort-run: error: ${e.message}`); process.exit(1); });
