# From a float model to an IMC model: convert, calibrate, fine-tune through the converters
# (PS-quantisation-aware training), save and reload.
import json

import torch
from sklearn.datasets import load_digits

from actc.nn import calibrate, set_samples, to_imc
from actc.nn.imc import imc_network

digits = load_digits()
x = torch.tensor(digits.data / 16, dtype=torch.float32)
y = torch.tensor(digits.target)
torch.manual_seed(0)
float_model = torch.nn.Sequential(torch.nn.Linear(64, 64), torch.nn.ReLU(),
                                  torch.nn.Linear(64, 32), torch.nn.ReLU(),
                                  torch.nn.Linear(32, 10))


def train(model, epochs, lr):
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    for _ in range(epochs):
        model.train()
        for batch in torch.arange(1400).split(100):
            opt.zero_grad()
            torch.nn.functional.cross_entropy(model(x[batch]), y[batch]).backward()
            opt.step()


def accuracy(model):
    with torch.no_grad():
        return (model.eval()(x[1400:]).argmax(1) == y[1400:]).float().mean().item() * 100


train(float_model, 20, 0.01)
# every Linear/Conv2d but the first and last (kept full precision, as in StoX-Net) becomes an
# IMC layer on 32-row sub-arrays with 4-bit weights and inputs, converted by 4-sample MTJs
model = to_imc(float_model, "mtj:4", rows=32, weight_bits=4, input_bits=4, seed=0,
               inplace=False)
calibrate(model, x[:400].split(100))   # input ranges and partial-sum clips, from data
print(f"float {accuracy(float_model):.1f} %, mtj:4 post-training {accuracy(model):.1f} %")
train(model, 4, 0.002)                 # PS-QAT: the gradient through the converters' slopes
print(f"mtj:4 after PS-QAT {accuracy(model):.1f} %")

torch.save(model.state_dict(), "imc.pt")   # converter, crossbar, ranges: plain data
again = to_imc(float_model, "mtj:4", rows=32, weight_bits=4, input_bits=4, seed=0,
               inplace=False)
again.load_state_dict(torch.load("imc.pt", weights_only=True))
set_samples(again, [8])                # mtj: samples per IMC layer (inhomogeneous)
print(f"digits MLP with an mtj:8 crossbar layer: {accuracy(again):.1f} %")
# the layers' shapes and measured zero fractions, for the cost model
json.dump(imc_network(again, x[:200]), open("net.json", "w"))
