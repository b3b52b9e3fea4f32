# a GELU for hls4ml's ap_fixed<16,6>: hierarchical chord tables within 2048 ROM bits
actc compile "gelu(x)" --target hls --in s16.10 --out s16.10 --method knots --memory-bits 2048 \
    --name gelu_act -o out/
# g++ C simulation of the header on every input code, against the evaluator
actc verify out/gelu_act.json
# the same design as a Python reference model, for the check below
actc compile "gelu(x)" --target python --in s16.10 --out s16.10 --method knots \
    --memory-bits 2048 --name gelu_act -o ref/
