#!/usr/bin/python3
"""truncate_inputs.py ROW LENGTH OUT_DIR IN.npy...

Writes OUT_DIR/NAME.npy = IN[ROW:ROW+1, :LENGTH] for every input: one
sequence of a padded batch, alone and unpadded."""
import os
import sys

import numpy as np

row, length, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
for path in sys.argv[4:]:
    np.save(os.path.join(out, os.path.basename(path)), np.load(path)[row:row + 1, :length])
