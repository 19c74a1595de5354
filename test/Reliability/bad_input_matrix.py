#!/usr/bin/env python3
"""The bad-input matrix: every row feeds one malformed input to slimc or to a
compiled binary and checks three things:

  * the exit code (slimc and binaries alike: 2 for a bad argument or a
    file that cannot be read or accepted, 1 when a later step fails, e.g.
    the output cannot be written; 0 where only a warning is due),
  * the error line (an exact substring of stderr, which names the file,
    the tensor or node, and what was expected),
  * what is left on disk: nothing in the row's fresh output directory
    (no binary, no .npy, no temporary file), unless the row succeeds.

    bad_input_matrix.py WORKDIR SLIMC FIXTURES IMPORT_INPUTS NPY_PY CORRUPT_PY

Prints one line per row ("ok NAME" or "FAIL NAME: why") and a markdown
table of the rows to WORKDIR/matrix.md; exits 1 if any row failed.
"""
import os
import shutil
import subprocess
import sys

work, slimc, fixtures, inputs, npy_py, corrupt_py = sys.argv[1:7]
shutil.rmtree(work, ignore_errors=True)
os.makedirs(work)
py = sys.executable


def path(*p):
    return os.path.join(work, *p)


def make_npy(name, dtype, shape, *extra):
    subprocess.run([py, npy_py, path(name), dtype, shape, *extra], check=True)
    return path(name)


def corrupt(*args):
    subprocess.run([py, corrupt_py, *args], check=True)


def write(name, data):
    with open(path(name), "wb") as f:
        f.write(data)
    return path(name)


# --- inputs ---------------------------------------------------------------
write("empty.onnx", b"")
corrupt("truncate", os.path.join(fixtures, "gpt2/model.onnx"), "5000", path("trunc.onnx"))
os.makedirs(path("ext-missing"))
shutil.copy(os.path.join(inputs, "external/model.onnx"), path("ext-missing"))
os.makedirs(path("ext-short"))
shutil.copy(os.path.join(inputs, "external/model.onnx"), path("ext-short"))
write("ext-short/weights.bin", open(os.path.join(inputs, "external/weights.bin"), "rb").read()[:8])
corrupt("hf", os.path.join(fixtures, "gpt2/hf"), path("hf-trunc"))
corrupt("truncate", os.path.join(fixtures, "gpt2/hf/model.safetensors"), "100000",
        path("hf-trunc/model.safetensors"))
corrupt("hf", os.path.join(fixtures, "llama/hf"), path("hf-drop"), "--drop",
        "model.layers.1.mlp.up_proj.weight")
corrupt("hf", os.path.join(fixtures, "bert/hf"), path("hf-json"), "--config-text",
        '{"model_type": "bert",')
write("not-a-dir", b"a file")
# Files that are not regular files: a directory, a FIFO (no writer: opening
# it would block), a .npy cut inside its header.
os.makedirs(path("adir"))
os.mkfifo(path("afifo"))
os.mkfifo(path("fifo.onnx"))
os.mkfifo(path("fifo.mlir"))
os.makedirs(path("ext-dir"))
shutil.copy(os.path.join(inputs, "external/model.onnx"), path("ext-dir"))
os.makedirs(path("ext-dir/weights.bin"))
os.makedirs(path("hf-cfgdir/config.json"))
corrupt("hf", os.path.join(fixtures, "gpt2/hf"), path("hf-fifo"))
os.remove(path("hf-fifo/model.safetensors"))
os.mkfifo(path("hf-fifo/model.safetensors"))

bert = path("bert")
subprocess.run([slimc, os.path.join(fixtures, "bert/model.onnx"), "-o", bert],
               check=True, capture_output=True)
make_npy("ids.npy", "int64", "1,8")
make_npy("ids32.npy", "int32", "1,8")
make_npy("ids-short.npy", "int64", "1,7")
make_npy("trunc.npy", "int64", "1,8", "--truncate", "20")
make_npy("fortran.npy", "int64", "1,8", "--fortran")
make_npy("big.npy", "int64", "1,8", "--fill", "500")
write("garbage.npy", b"this is not an npy file")
write("header-cut.npy", open(path("ids.npy"), "rb").read()[:30])
bert_ext = path("bert-ext")
subprocess.run([slimc, os.path.join(fixtures, "bert/model.onnx"), "--weights=external",
                "-o", bert_ext], check=True, capture_output=True)
gen = path("gpt2-gen")
subprocess.run([slimc, os.path.join(fixtures, "gpt2/model.onnx"), "--max-seq-len", "8",
                "-o", gen], check=True, capture_output=True)

# Files without read permission. Root reads them anyway, so as root those
# rows run as nobody (setpriv, util-linux); the files they also need are
# world-readable.
shutil.copy(os.path.join(fixtures, "gpt2/model.onnx"), path("locked.onnx"))
shutil.copy(path("ids.npy"), path("locked.npy"))
shutil.copy(bert_ext + ".weights", path("locked.weights"))
for f in ("locked.onnx", "locked.npy", "locked.weights"):
    os.chmod(path(f), 0)


def unprivileged(argv):
    if os.geteuid() != 0:
        return argv
    return ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] + argv


# --- the matrix -------------------------------------------------------------
# (name, what, argv with OUT for the row's output, exit code, message)
S, B = slimc, bert
M = lambda *p: os.path.join(inputs, *p)
rows = [
    ("compiler: empty file", [S, path("empty.onnx"), "-o", "OUT/m"], 2,
     "empty.onnx: the file is empty, not an ONNX model"),
    ("compiler: truncated protobuf", [S, path("trunc.onnx"), "-o", "OUT/m"], 2,
     "trunc.onnx: not a valid ONNX model: the protobuf does not parse (truncated or not an .onnx file)"),
    ("compiler: IR version too new", [S, M("ir_version_99.onnx"), "-o", "OUT/m"], 2,
     "ir_version_99.onnx: the ONNX checker rejects the model: Your model ir_version is higher than the checker's."),
    ("compiler: opset too new", [S, M("opset18.onnx"), "-o", "OUT/m"], 2,
     "opset18.onnx: ONNX opset 18 is not supported (Slim reads opsets 1 to 17, upgrading those below 13); re-export with opset_version=17"),
    ("compiler: missing initializer data (external file absent)",
     [S, path("ext-missing/model.onnx"), "-o", "OUT/m"], 2,
     "initializer 'w' keeps its data in '" + path("ext-missing/weights.bin") + "', which cannot be read: No such file or directory"),
    ("compiler: truncated external initializer data",
     [S, path("ext-short/model.onnx"), "-o", "OUT/m"], 2,
     "initializer 'w' needs bytes [0, 16) of '" + path("ext-short/weights.bin") + "', which has 8"),
    ("compiler: dangling tensor name", [S, M("dangling.onnx"), "-o", "OUT/m"], 2,
     "dangling.onnx: the ONNX checker rejects the model: Nodes in a graph must be topologically sorted, however input 'ghost' of node: name: add OpType: Add is not output of any previous nodes."),
    ("compiler: cyclic graph", [S, M("cyclic.onnx"), "-o", "OUT/m"], 2,
     "cyclic.onnx: the ONNX checker rejects the model: Nodes in a graph must be topologically sorted, however input 'b' of node: name: first OpType: Add is not output of any previous nodes."),
    ("compiler: unsupported op", [S, M("two_unsupported.onnx"), "-o", "OUT/m"], 2,
     "two_unsupported.onnx: 2 unsupported op types: Hardmax (2x, first 'hardmax_1'), LpNormalization (1x, first 'lpnorm')"),
    ("compiler: shape mismatch inside the graph", [S, M("shape_mismatch.onnx"), "-o", "OUT/m"], 2,
     "shape_mismatch.onnx: ONNX shape inference rejects the model: [ShapeInferenceError] Shape inference error(s): (op_type:Add, node name: bad_add): [ShapeInferenceError] Incompatible dimensions"),
    ("compiler: NaN/Inf weights (warning, compiles)", [S, M("nan_weights.onnx"), "-o", "OUT/m"], 0,
     "warning: " + M("nan_weights.onnx") + ": initializer 'w' has 2 NaN/Inf values of 4; outputs that read them will not be finite"),
    ("compiler: dynamic input dimension", [S, M("dynamic_batch.onnx"), "-o", "OUT/m"], 2,
     "graph input 'x' has a dynamic dimension 'batch'; Slim compiles static shapes: give one with --shape x=DIMxDIM... or re-export with fixed shapes (no dynamic_axes)"),
    ("compiler: truncated safetensors", [S, path("hf-trunc"), "--seq-len", "8", "-o", "OUT/m"], 2,
     "hf-trunc/model.safetensors: tensor 'transformer.h.0.mlp.c_fc.weight' lies outside the file (offsets 68608..134144, data is 97368 bytes): truncated file?"),
    ("compiler: safetensors missing a tensor", [S, path("hf-drop"), "--seq-len", "8", "-o", "OUT/m"], 2,
     "hf-drop: model.safetensors has no tensor 'model.layers.1.mlp.up_proj.weight' (needed for model_type 'llama')"),
    ("compiler: malformed config.json", [S, path("hf-json"), "-o", "OUT/m"], 2,
     "hf-json: config.json is not valid JSON: [json.exception.parse_error.101]"),
    ("compiler: missing model file", [S, path("nope.onnx"), "-o", "OUT/m"], 2,
     "nope.onnx: cannot read the model: No such file or directory"),
    ("compiler: unwritable output path", [S, os.path.join(fixtures, "bert/model.onnx"), "-o", "OUT/no-such-dir/m"], 1,
     "slimc: error: cannot write '"),
    ("binary: missing input", [B, "--output-dir", "OUT"], 2,
     "missing input 'input_ids' (int64 [1, 8]); pass --input input_ids=FILE.npy"),
    ("binary: extra input", [B, "--input", "input_ids=" + path("ids.npy"), "--input", "mask=" + path("ids.npy"), "--output-dir", "OUT"], 2,
     "the model has no input 'mask' (its inputs: input_ids)"),
    ("binary: wrong dtype", [B, "--input", "input_ids=" + path("ids32.npy"), "--output-dir", "OUT"], 2,
     "input 'input_ids' (" + path("ids32.npy") + ") must be int64 [1, 8], got int32 [1, 8]"),
    ("binary: wrong shape", [B, "--input", "input_ids=" + path("ids-short.npy"), "--output-dir", "OUT"], 2,
     "input 'input_ids' (" + path("ids-short.npy") + ") must be int64 [1, 8], got int64 [1, 7]"),
    ("binary: truncated .npy", [B, "--input", "input_ids=" + path("trunc.npy"), "--output-dir", "OUT"], 2,
     "input 'input_ids': " + path("trunc.npy") + ": truncated .npy data: shape needs 64 bytes, file has 20"),
    ("binary: Fortran-order .npy", [B, "--input", "input_ids=" + path("fortran.npy"), "--output-dir", "OUT"], 2,
     path("fortran.npy") + ": Fortran-order arrays are not supported; save a C-order array (numpy.ascontiguousarray)"),
    ("binary: not an .npy file", [B, "--input", "input_ids=" + path("garbage.npy"), "--output-dir", "OUT"], 2,
     path("garbage.npy") + ": not a .npy file"),
    ("binary: token id out of range", [B, "--input", "input_ids=" + path("big.npy"), "--output-dir", "OUT"], 1,
     "embedding index 500 at position 0 is outside the vocabulary [0, 128)"),
    ("binary: output directory cannot be made (a file is in the way)", [B, "--input", "input_ids=" + path("ids.npy"), "--output-dir", path("not-a-dir") + "/out"], 2,
     "--output-dir " + path("not-a-dir") + "/out: cannot create the directory: Not a directory"),
    ("compiler: model is a FIFO", [S, path("fifo.onnx"), "-o", "OUT/m"], 2,
     "fifo.onnx: the model is a FIFO (named pipe), not a regular file"),
    ("compiler: .mlir model is a FIFO", [S, path("fifo.mlir"), "-o", "OUT/m"], 2,
     "fifo.mlir: is a FIFO (named pipe), not a regular file"),
    ("compiler: model is a directory without config.json", [S, path("adir"), "-o", "OUT/m"], 2,
     "'" + path("adir") + "' has no config.json: not a Hugging Face checkpoint directory"),
    ("compiler: config.json is a directory", [S, path("hf-cfgdir"), "-o", "OUT/m"], 2,
     path("hf-cfgdir/config.json") + ": is a directory, not a file"),
    ("compiler: model.safetensors is a FIFO", [S, path("hf-fifo"), "--seq-len", "8", "-o", "OUT/m"], 2,
     path("hf-fifo/model.safetensors") + ": is a FIFO (named pipe), not a regular file"),
    ("compiler: external initializer data is a directory", [S, path("ext-dir/model.onnx"), "-o", "OUT/m"], 2,
     "initializer 'w' keeps its data in '" + path("ext-dir/weights.bin") + "', which is a directory, not a file"),
    ("compiler: calibration directory without .npy files",
     [S, os.path.join(fixtures, "gpt2/model.onnx"), "--drop-layers=attention:1", "--calibration", path("adir"), "-o", "OUT/m"], 2,
     "--calibration " + path("adir") + ": a directory without .npy files"),
    ("compiler: calibration data is a FIFO",
     [S, os.path.join(fixtures, "gpt2/model.onnx"), "--drop-layers=attention:1", "--calibration", path("afifo"), "-o", "OUT/m"], 2,
     path("afifo") + ": is a FIFO (named pipe), not a regular file"),
    ("binary: input is a directory", [B, "--input", "input_ids=" + path("adir"), "--output-dir", "OUT"], 2,
     "input 'input_ids': " + path("adir") + ": is a directory, not a file"),
    ("binary: input is a FIFO", [B, "--input", "input_ids=" + path("afifo"), "--output-dir", "OUT"], 2,
     "input 'input_ids': " + path("afifo") + ": is a FIFO (named pipe), not a regular file"),
    ("binary: .npy ends inside its header", [B, "--input", "input_ids=" + path("header-cut.npy"), "--output-dir", "OUT"], 2,
     "input 'input_ids': " + path("header-cut.npy") + ": truncated .npy header"),
    ("binary: weights file is a directory", [bert_ext, "--weights", path("adir"), "--input", "input_ids=" + path("ids.npy"), "--output-dir", "OUT"], 2,
     path("adir") + ": the weights file is a directory, not a file"),
    ("binary: weights file is a FIFO", [bert_ext, "--weights", path("afifo"), "--input", "input_ids=" + path("ids.npy"), "--output-dir", "OUT"], 2,
     path("afifo") + ": the weights file is a FIFO (named pipe), not a regular file"),
    ("binary: prompt ids are a directory", [gen, "--generate", "2", "--prompt-ids", path("adir"), "--output-dir", "OUT"], 2,
     "--prompt-ids: " + path("adir") + ": is a directory, not a file"),
    ("binary: prompt ids are a FIFO", [gen, "--generate", "2", "--prompt-ids", path("afifo"), "--output-dir", "OUT"], 2,
     "--prompt-ids: " + path("afifo") + ": is a FIFO (named pipe), not a regular file"),
    ("compiler: model file without read permission", unprivileged([S, path("locked.onnx"), "-o", "OUT/m"]), 2,
     path("locked.onnx") + ": cannot read the model: Permission denied"),
    ("binary: input without read permission", unprivileged([B, "--input", "input_ids=" + path("locked.npy"), "--output-dir", "OUT"]), 2,
     "input 'input_ids': " + path("locked.npy") + ": cannot open: Permission denied"),
    ("binary: weights file without read permission", unprivileged([bert_ext, "--weights", path("locked.weights"), "--input", "input_ids=" + path("ids.npy"), "--output-dir", "OUT"]), 2,
     path("locked.weights") + ": cannot open the weights file: Permission denied"),
    ("binary: --threads beyond the CPUs (warning, runs)", [B, "--threads", "100000", "--input", "input_ids=" + path("ids.npy"), "--output-dir", "OUT"], 0,
     "warning: --threads 100000 is more than the "),
    ("compiler: three bad option values, reported together",
     [S, os.path.join(fixtures, "gpt2/model.onnx"), "--merge-tokens=r:x", "--logits=some", "--drop-layers=mlp", "-o", "OUT/m"], 2,
     "--drop-layers=mlp: expected TARGET:N or TARGET:FRACTION\nslimc: error: --merge-tokens=r:x: 'r:x' is not one of r:N, r:F (F < 1), inflect:F, schedule:A/B/..., fraction:F, prop_attn:0|1, protected:N, unmerge:0|1, method:tome|mctf, tau_sim:F, tau_info:F, tau_size:F, bidirectional:0|1, one_step_ahead:0|1|2\nslimc: error: --logits=some: expected 'all' or 'last'"),
    ("compiler: bad generation options and a missing model, reported together before any import",
     [S, path("nope.onnx"), "--max-seq-len", "0", "--tokenizer=x", "-o", "OUT/m"], 2,
     "--max-seq-len=0: expected a positive number of positions\nslimc: error: --tokenizer=x: only 'bytes' is known\nslimc: error: " + path("nope.onnx") + ": cannot read the model: No such file or directory"),
    ("compiler: missing model and bad calibration, reported together",
     [S, path("nope.onnx"), "--drop-layers=attention:1", "--calibration", path("afifo"), "-o", "OUT/m"], 2,
     "nope.onnx: cannot read the model: No such file or directory\nslimc: error: --calibration " + path("afifo") + ": is a FIFO (named pipe), not a regular file"),
]

failures = 0
table = ["| case | exit code | message (substring of stderr) |", "|---|---|---|"]
for k, (name, argv, code, message) in enumerate(rows):
    out = path("out%02d" % k)
    os.makedirs(out)
    argv = [a.replace("OUT", out) for a in argv]
    why = []
    try:
        p = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    except subprocess.TimeoutExpired:
        failures += 1
        print("FAIL %s: still running after 120 s (blocked on the input?)" % name)
        continue
    if p.returncode != code:
        why.append("exit code %d, expected %d" % (p.returncode, code))
    if message not in p.stderr:
        why.append("stderr lacks %r:\n%s" % (message, p.stderr))
    if p.returncode < 0:
        why.append("killed by signal %d" % -p.returncode)
    left = sorted(os.listdir(out))
    if code != 0 and left:
        why.append("left behind: %s" % left)
    if code == 0 and not left:
        why.append("a successful row wrote nothing")
    errors = [l for l in p.stderr.splitlines() if ": error: " in l]
    # One error line per problem: a row whose message spans two lines
    # checks that two problems are reported together.
    if code != 0 and len(errors) != message.count("\n") + 1:
        why.append("expected %d error line(s), got %d"
                   % (message.count("\n") + 1, len(errors)))
    if why:
        failures += 1
        print("FAIL %s: %s" % (name, "; ".join(why)))
    else:
        print("ok %s" % name)
    table.append("| %s | %d | `%s` |" % (name, code, message.replace(work + "/", "")))
with open(path("matrix.md"), "w") as f:
    f.write("\n".join(table) + "\n")
print("%d rows, %d failed" % (len(rows), failures))
sys.exit(1 if failures else 0)
