# actc.nn in one script: convert a float model, calibrate, evaluate, save and reload
import torch
from sklearn.datasets import load_digits

from actc.nn import calibrate, to_approx

digits = load_digits()
x = torch.tensor(digits.data / 16, dtype=torch.float32).reshape(-1, 1, 8, 8)
y = torch.tensor(digits.target)
torch.manual_seed(0)
float_model = torch.nn.Sequential(torch.nn.Conv2d(1, 8, 3, padding="same"), torch.nn.ReLU(),
                                  torch.nn.Flatten(), torch.nn.Linear(512, 10))
opt = torch.optim.Adam(float_model.parameters(), lr=0.01)
for _ in range(50):                                 # train the float model as usual
    opt.zero_grad()
    torch.nn.functional.cross_entropy(float_model(x[:1400]), y[:1400]).backward()
    opt.step()


def accuracy(model):
    with torch.no_grad():
        return (model.eval()(x[1400:]).argmax(1) == y[1400:]).float().mean().item() * 100


model = to_approx(float_model, "drum:4", bits=8)    # every Conv2d and Linear, weights copied
calibrate(model, x[:400].split(100), observer="percentile:99.99")  # input ranges from data
torch.save(model.state_dict(), "digits_drum4.pt")   # ranges, mode, multiplier and widths
again = to_approx(float_model, "drum:4", bits=8)    # (with another multiplier: ValueError)
again.load_state_dict(torch.load("digits_drum4.pt"))
print(f"float {accuracy(float_model):.1f} %, drum:4 {accuracy(model):.1f} %, "
      f"reloaded {accuracy(again):.1f} %")
