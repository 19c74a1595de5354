#!/usr/bin/env python3
"""Greedy text generation with a Slim-compiled byte-level GPT.

    python3 examples/tinygpt/generate.py libtinygpt.so "prompt" [--tokens N]

A library compiled with a KV cache (slimc --max-seq-len N --emit=lib)
generates through slim_model_generate: the prompt runs through the prefill
step, then one decode step per byte. Without one, each new byte re-runs
the fixed window (full recompute): the prompt and what was generated so
far sit at the start of the window, the rest is padding the causal mask
never lets the last position see. Prints the text and the time per byte.
Only the Python standard library (ctypes on the model's C API). (The
executable does the same with --generate N --prompt TEXT.)
"""
import ctypes
import sys
import time


class Desc(ctypes.Structure):
    pass


class TensorDesc(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p), ("dtype", ctypes.c_int32),
                ("rank", ctypes.c_int32), ("shape", ctypes.POINTER(ctypes.c_int64))]


Desc._fields_ = [("name", ctypes.c_char_p), ("num_inputs", ctypes.c_int32),
                 ("inputs", ctypes.POINTER(TensorDesc)), ("num_outputs", ctypes.c_int32),
                 ("outputs", ctypes.POINTER(TensorDesc))]


def main():
    args = sys.argv[1:]
    if len(args) < 2:
        print(__doc__.strip())
        sys.exit(2)
    lib = ctypes.CDLL(args[0])
    lib.slim_model_describe.restype = ctypes.POINTER(Desc)
    lib.slim_model_create.restype = ctypes.c_void_p
    lib.slim_model_create.argtypes = [ctypes.c_char_p]
    lib.slim_model_run.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p]
    lib.slim_model_error.restype = ctypes.c_char_p
    lib.slim_model_error.argtypes = [ctypes.c_void_p]
    d = lib.slim_model_describe().contents
    t = d.inputs[0].shape[1]
    vocab = d.outputs[0].shape[2]
    handle = lib.slim_model_create(None)
    if not handle:
        sys.exit("generate: " + lib.slim_model_error(None).decode())
    tokens = int(args[args.index("--tokens") + 1]) if "--tokens" in args else 80
    text = list(args[1].encode())
    if not text or len(text) >= t:
        sys.exit("generate: the prompt must have 1 to %d bytes" % (t - 1))
    lib.slim_model_generate.argtypes = [
        ctypes.c_void_p, ctypes.POINTER(ctypes.c_int64), ctypes.c_int64, ctypes.c_int64,
        ctypes.c_double, ctypes.c_int64, ctypes.c_uint64, ctypes.POINTER(ctypes.c_int64),
        ctypes.c_void_p]
    prompt = (ctypes.c_int64 * len(text))(*text)
    out = (ctypes.c_int64 * tokens)()
    start = time.perf_counter()
    if lib.slim_model_generate(handle, prompt, len(text), tokens, 0.0, 0, 0, out, None) == 0:
        elapsed = time.perf_counter() - start
        print(bytes(text + list(out)).decode("utf-8", "replace"))
        print("--- %d bytes in %.1f ms: %.2f ms per byte (KV cache)"
              % (tokens, elapsed * 1e3, elapsed * 1e3 / tokens))
        return
    if b"does not generate" not in lib.slim_model_error(handle):
        sys.exit("generate: " + lib.slim_model_error(handle).decode())
    ids = (ctypes.c_int64 * t)()
    logits = (ctypes.c_float * (t * vocab))()
    ins = (ctypes.c_void_p * 1)(ctypes.addressof(ids))
    outs = (ctypes.c_void_p * 1)(ctypes.addressof(logits))
    start = time.perf_counter()
    generated = 0
    while generated < tokens and len(text) < t:
        for i in range(t):
            ids[i] = text[i] if i < len(text) else 32
        if lib.slim_model_run(handle, ins, outs):
            sys.exit("generate: " + lib.slim_model_error(handle).decode())
        row = logits[(len(text) - 1) * vocab:len(text) * vocab]
        text.append(max(range(vocab), key=row.__getitem__))
        generated += 1
    elapsed = time.perf_counter() - start
    print(bytes(text).decode("utf-8", "replace"))
    print("--- %d bytes in %.1f ms: %.2f ms per byte (full recompute of a %d-byte window)"
          % (generated, elapsed * 1e3, elapsed * 1e3 / max(generated, 1), t))


if __name__ == "__main__":
    main()
