"""The column back ends every target is checked on (id, converter, build options). The
crossbar's default ``zero_skip`` (hardware) gives each conversion a skip-flag port; two
cases use stoxnet and none."""

COLUMN_CASES = [
    ("col_mtj8", "mtj:8", dict(subarrays=4, rows=128, weight_bits=4, input_bits=4)),
    ("col_mtj8_serial", "mtj:8", dict(subarrays=4, rows=128, weight_bits=4, input_bits=4,
                                      architecture="serial")),
    ("col_mtj1", "mtj:1", dict(subarrays=3, rows=32, weight_bits=2, input_bits=3, dac_bits=1)),
    ("col_mtj63_offset", "mtj:63", dict(subarrays=2, rows=64, weight_bits=3, input_bits=2,
                                        scheme="offset", architecture="serial")),
    ("col_mtj4_stoxnet_offset", "mtj:4", dict(subarrays=2, rows=32, weight_bits=3,
                                              input_bits=2, scheme="offset",
                                              zero_skip="stoxnet")),
    ("col_adc4_noskip_serial", "adc:4", dict(subarrays=3, rows=32, weight_bits=4, input_bits=4,
                                             zero_skip="none", architecture="serial")),
    ("col_ideal_offset", "ideal", dict(subarrays=2, rows=64, cell_bits=2, dac_bits=2,
                                       weight_bits=5, input_bits=4, scheme="offset")),
    ("col_ideal_serial", "ideal", dict(subarrays=3, rows=16, weight_bits=8, input_bits=8,
                                       cell_bits=4, dac_bits=2, architecture="serial")),
    ("col_adc4_unsigned_reg", "adc:4", dict(subarrays=2, rows=128, weight_bits=4, input_bits=4,
                                            scheme="unsigned", registered=True)),
    ("col_adc6_clip", "adc:6", dict(subarrays=5, rows=32, weight_bits=4, input_bits=4,
                                    converter_params={"clip": 12.5}, input_scale=0.0625,
                                    weight_scale=0.125)),
    ("col_sparse3", "sparse:3", dict(subarrays=4, rows=16, cell_bits=2, dac_bits=2,
                                     weight_bits=6, input_bits=4)),
    # every input vector: 2 conversions of 4 sample bits, and 1 of a 10-bit code
    ("col_tiny_mtj", "mtj:4", dict(subarrays=2, rows=16, weight_bits=2, input_bits=1)),
    ("col_tiny_ideal_serial", "ideal", dict(subarrays=1, rows=512, weight_bits=2,
                                            input_bits=1, architecture="serial")),
]
