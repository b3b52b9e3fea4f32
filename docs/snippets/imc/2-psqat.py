# PS-quantisation-aware training: an IMC layer trained through its converter (the gradient
# of each partial sum scaled by the slope of the converter's expected output).
import json

import torch
from sklearn.datasets import load_digits

from actc.nn import IMCLinear, set_samples
from actc.nn.imc import imc_network

digits = load_digits()
x = torch.tensor(digits.data / 16, dtype=torch.float32)
y = torch.tensor(digits.target)
torch.manual_seed(0)
model = torch.nn.Sequential(torch.nn.Linear(64, 64), torch.nn.ReLU(),
                            IMCLinear(64, 32, converter="mtj:4", rows=32, weight_bits=4,
                                      input_bits=4, seed=0),
                            torch.nn.ReLU(), torch.nn.Linear(32, 10))
opt = torch.optim.Adam(model.parameters(), lr=0.01)
for _ in range(6):
    model.train()
    for batch in torch.arange(1400).split(100):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(x[batch]), y[batch]).backward()
        opt.step()
# training-mode forwards kept the input range and the per-slice converter clips (running)
set_samples(model, [8])                   # mtj: samples per IMC layer (inhomogeneous)
with torch.no_grad():
    acc = (model.eval()(x[1400:]).argmax(1) == y[1400:]).float().mean().item() * 100
print(f"digits MLP with an mtj:8 crossbar layer: {acc:.1f} %")
# the layer's shapes and measured zero fractions, for the cost model
json.dump(imc_network(model, x[:200]), open("net.json", "w"))
