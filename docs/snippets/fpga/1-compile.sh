# GELU on 8-bit codes: formats picked by rule, a correctly rounded table by default
actc compile "gelu(x)" --target verilog --bits 8 -o out/
# check every claim of the manifest; simulate the module on every input code
actc verify out/gelu.json
# the testbench runs as shipped, too
(cd out && iverilog -o tb gelu_tb.v gelu.v && vvp -n tb)
