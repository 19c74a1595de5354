"""The benchmark models' Hugging Face directory read for the PyTorch
timers (bench/torch_time.py, bench/torch_decode.py): config.json and the
weights of model.safetensors as float32 tensors."""
import json
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "fixtures"))
from safetensors_io import read_safetensors  # noqa: E402


def load_hf(model_dir):
    """(config, {name: tensor}) of MODEL_DIR/hf."""
    hf = os.path.join(model_dir, "hf")
    config = json.load(open(os.path.join(hf, "config.json")))
    state = {name: torch.frombuffer(bytearray(data), dtype=torch.float32).reshape(shape)
             for name, (shape, data) in read_safetensors(os.path.join(hf, "model.safetensors")).items()}
    return config, state
