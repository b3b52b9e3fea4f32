# an EvoApproxLib circuit nobody here wrote: simulated on every operand pair (Icarus
# Verilog, in a sandbox), signedness detected, its product table kept in a MAC manifest
actc mac import mul8s_1KR3.v -o mul/
actc verify mul/mul8s_1KR3_imported.json
# weights for an alphabet set multiplier {1, 3}: rounded to what the alphabet represents
python3 -c "import numpy as np; np.save('w.npy', np.arange(-127, 128, dtype=np.int64))"
actc mac encode w.npy --alphabet 1,3 --bits 8 --signed -o asm/
