# int8: sigmoid on s8 codes, a correctly rounded table (129 bytes with the symmetry fold)
actc compile "sigmoid(x)" --target c --bits 8 -o fw/
# int16: tanh s16.12 -> s16.15, the most accurate table structure within 256 bytes of C tables
actc compile "tanh(x)" --target c --in s16.12 --out s16.15 --method auto --memory-bytes 256 -o fw/
# compile each header with the system C compiler and run it on every input code
actc verify fw/sigmoid.json
actc verify fw/tanh_act.json
