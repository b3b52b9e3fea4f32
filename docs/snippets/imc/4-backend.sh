# one column's digital back end (popcount, shifts, adds), Verilog + C + Python, bit-exact
actc adc compile --converter mtj:8 --rows 128 --weight-bits 4 --input-bits 4 --subarrays 2 \
    --target all -o col/
actc verify col/col.json
# and the activation after it, its input format taken from the column's output code
actc compile "gelu(x)" --in-from col/col.json --out-bits 8 --method grau -o col/
actc verify col/gelu.json
