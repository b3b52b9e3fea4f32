# energy, latency and area: ResNet20 (CIFAR-10 shapes) on mtj:4 against an 8-bit SAR ADC,
# every parameter a published figure (its source in the JSON and the reference)
actc adc cost --network resnet20 --converter mtj:4 --baseline adc:8 --json resnet20.json \
    --plot resnet20.png
# the same with the constants fitted to StoX-Net v2's headline (labelled fitted)
actc adc cost --network resnet20 --converter mtj:4 --baseline adc:8 --preset stoxnet-v2
# your own network, with the zero fractions measured on its slices
actc adc cost --network net.json --converter mtj:8 --baseline adc:8 --rows 32 --weight-bits 4 \
    --input-bits 4 --scheme differential
