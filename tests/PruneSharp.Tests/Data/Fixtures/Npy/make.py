# Writes the .npy/.npz fixtures of NpyFileTests with NumPy: /usr/bin/python3 make.py (in this folder).
import numpy as np
np.save("f32.npy", np.arange(6, dtype=np.float32).reshape(2, 3) / 4)
np.save("f64.npy", np.array([1.5, -2.25, 1e-300]))
np.save("i64.npy", np.array([[0, 1, 2**40], [-3, 4, 5]], dtype=np.int64))
np.save("i32.npy", np.array([7, -8], dtype=np.int32))
np.save("bool.npy", np.array([[True, False], [False, True]]))
np.save("scalar.npy", np.float32(3.5))
np.save("f32_be.npy", np.arange(3, dtype=">f4"))
np.save("fortran.npy", np.asfortranarray(np.arange(6, dtype=np.float32).reshape(2, 3)))
np.save("u8.npy", np.arange(3, dtype=np.uint8))
np.savez("inputs.npz", input_ids=np.array([[1, 2, 3]], dtype=np.int64), attention_mask=np.ones((1, 3), dtype=np.int64))
np.savez_compressed("compressed.npz", x=np.arange(4, dtype=np.float32))
