# LUTs, flip-flops and logic depth from Yosys (UltraScale+ LUT6), written into the manifest
actc cost out/gelu.json
# the design against the true function, and its error in LSBs
actc report out/gelu.json -o gelu_report.png
