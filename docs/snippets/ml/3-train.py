# Training through approximate products: the imported circuit, a hybrid schedule (approximate
# products first, exact for the last epochs), then alphabet-set weights.
import torch
from sklearn.datasets import load_digits

from actc.nn import AlphabetQuantizer, ApproxLinear, HybridSchedule, calibrate

digits = load_digits()
x = torch.tensor(digits.data / 16, dtype=torch.float32)
y = torch.tensor(digits.target)
torch.manual_seed(0)
model = torch.nn.Sequential(
    ApproxLinear(64, 32, multiplier="mul/mul8s_1KR3_imported.json"), torch.nn.ReLU(),
    ApproxLinear(32, 10, multiplier="mul/mul8s_1KR3_imported.json"))
calibrate(model, x[:400])                          # input ranges before the first evaluation


def accuracy():
    with torch.no_grad():
        return (model.eval()(x[1400:]).argmax(1) == y[1400:]).float().mean().item() * 100


schedule = HybridSchedule(approx_epochs=8, exact_epochs=2)
opt = torch.optim.Adam(model.parameters(), lr=0.01)
for epoch in range(10):
    if schedule.apply(model, epoch) and epoch == schedule.switch_epoch:
        opt = torch.optim.Adam(model.parameters(), lr=0.003)  # restart: a fine-tuning phase
    model.train()
    for batch in torch.arange(1400).split(100):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(x[batch]), y[batch]).backward()
        opt.step()
print(f"after the hybrid schedule (exact products): {accuracy():.1f} %")
for layer in model[::2]:
    layer.approximate = True
print(f"through mul8s_1KR3: {accuracy():.1f} %")

# alphabet-set weights: fine-tune with the weights projected onto {1, 3}, on asm:1,3
for layer in model[::2]:
    layer.set_multiplier("asm:1,3", bits=8, signed=True)
    layer.weight_transform = AlphabetQuantizer("1,3", bits=8)
calibrate(model, x[:400])
opt = torch.optim.Adam(model.parameters(), lr=0.003)
for _ in range(2):
    model.train()
    for batch in torch.arange(1400).split(100):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(x[batch]), y[batch]).backward()
        opt.step()
print(f"asm:1,3 with alphabet-aware fine-tuning: {accuracy():.1f} %")
