"""Reference kernels for keras.initializers.STFT, computed the way Keras 3's
constant_initializers.py does (windows from scipy.signal.get_window, the
argument formed in the kernel dtype), with NumPy standing in for keras.ops.
Run with Debian's python3-numpy and python3-scipy:
    /usr/bin/python3 tools/make_stft_fixtures.py > tests/fixtures/stft/kernels.txt
Each case: a header line "side window periodic scaling dtype T C F" (a
window of values written as the list [v,...]), then
the T*C*F values (C order), %.17g."""
import numpy as np
import scipy.signal

cases = [
    ("real", "hann", False, "density", "float32", 16, 1, 9),
    ("imag", "hann", False, "density", "float32", 16, 1, 9),
    ("real", "hamming", True, "spectrum", "float32", 12, 1, 7),
    ("imag", "blackman", False, None, "float64", 10, 1, 6),
    ("real", None, False, "density", "float64", 8, 1, 5),
    ("real", "bartlett", True, "density", "float64", 9, 2, 5),
    ("imag", "triang", False, "spectrum", "float64", 7, 1, 4),
    ("real", "triang", True, "density", "float64", 8, 1, 4),
    ("real", "boxcar", False, "density", "float32", 5, 1, 3),
    ("real", "cosine", True, "spectrum", "float64", 6, 1, 4),
    ("imag", "blackmanharris", False, "density", "float64", 11, 1, 6),
    ("real", "nuttall", True, "density", "float64", 10, 1, 6),
    ("real", "flattop", False, "spectrum", "float64", 13, 1, 7),
    ("real", "hann", False, "density", "float64", 1, 1, 2),
    # every other window get_window computes without a parameter, and the parameterized ones
    # (scipy's tuple form, which nninit also accepts in a spec: window=("tukey", 0.25))
    ("real", "barthann", False, "density", "float64", 11, 1, 6),
    ("imag", "bohman", True, "spectrum", "float64", 10, 1, 6),
    ("real", "parzen", False, "density", "float64", 13, 1, 7),
    ("real", "parzen", True, "density", "float64", 12, 1, 7),
    ("real", "lanczos", False, "density", "float64", 10, 1, 6),
    ("imag", "lanczos", True, "density", "float64", 9, 1, 5),
    ("real", "tukey", False, "density", "float64", 16, 1, 9),
    ("real", ("tukey", 0.25), True, "spectrum", "float64", 15, 1, 8),
    ("real", ("tukey", 1.0), False, "density", "float64", 8, 1, 5),
    ("real", "exponential", False, "density", "float64", 9, 1, 5),
    ("real", ("exponential", None, 3.0), True, "density", "float64", 10, 1, 6),
    ("real", "taylor", False, "density", "float64", 16, 1, 9),
    ("imag", ("taylor", 5, 40), True, "spectrum", "float64", 12, 1, 7),
    ("real", ("gaussian", 2.5), False, "density", "float64", 11, 1, 6),
    ("real", ("general_gaussian", 1.5, 3.0), True, "density", "float64", 12, 1, 7),
    ("real", ("kaiser", 8), False, "density", "float64", 16, 1, 9),
    ("imag", ("kaiser", 14.0), True, "spectrum", "float64", 20, 1, 11),
    ("real", ("general_hamming", 0.6), False, "density", "float64", 9, 1, 5),
    ("real", ("kaiser", 8), False, "density", "float32", 16, 1, 9),
    # an array_like window: ops.convert_to_tensor(window, dtype) as it is (periodic does not apply)
    ("real", [0.1, 0.7, 1.0, 0.7, 0.1], True, "density", "float32", 5, 1, 3),
    ("imag", [1, 2, 3, 2], False, "spectrum", "float64", 4, 2, 3),
    ("real", [0.3333333333333333, -0.25, 0.5, 1e-3, 2.0, 0.75], False, None, "float32", 6, 1, 4),
]
for side, window, periodic, scaling, dtype, T, C, F in cases:
    dt = np.dtype(dtype)
    win = None
    scale = 1
    if window is not None:
        if isinstance(window, list):
            win = np.asarray(window).astype(dt).reshape(T, 1, 1)
        else:
            win = scipy.signal.get_window(window, T, periodic).astype(dt).reshape(T, 1, 1)
        if scaling == "density":
            scale = np.sqrt(np.sum(np.square(win)))
        elif scaling == "spectrum":
            scale = np.sum(np.abs(win))
    fft = (F - 1) * 2
    freq = np.divide(np.arange(F, dtype=dt).reshape(1, 1, F), fft).astype(dt)
    time = np.arange(T, dtype=dt).reshape(T, 1, 1)
    args = (np.multiply(np.multiply(dt.type(-2), time), freq) * np.arccos(dt.type(-1))).astype(dt)
    kernel = (np.cos(args) if side == "real" else np.sin(args)).astype(dt)
    if win is not None:
        kernel = np.divide(np.multiply(kernel, win), scale).astype(dt)
    kernel = np.broadcast_to(kernel, (T, C, F))
    token = ",".join("None" if x is None else str(x) for x in window) if isinstance(window, tuple) else window
    if isinstance(window, list):
        token = "[" + ",".join(repr(x) for x in window) + "]"  # the spec's list syntax as it is
    print(side, token if window else "None", int(periodic), scaling if scaling else "None", dtype, T, C, F)
    print(" ".join("%.17g" % v for v in kernel.astype(np.float64).ravel()))
