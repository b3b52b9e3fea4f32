# A PyTorch MLP with a GELU (hls4ml 1.3 has no GELU: the actc design is its implementation),
# converted by hls4ml, compiled by hls4ml's own g++ C simulation, and checked bit for bit.
from pathlib import Path

import hls4ml
import numpy as np
import torch

import actc.hls4ml
from actc.targets.python import load_module


class MLP(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = torch.nn.Linear(16, 12)
        self.act = torch.nn.GELU()
        self.fc2 = torch.nn.Linear(12, 4)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


torch.manual_seed(0)
model = MLP().eval()
actc.hls4ml.register()  # before config_from_pytorch_model: teaches hls4ml nn.GELU
config = hls4ml.utils.config_from_pytorch_model(model, (16,), granularity="name",
                                                backend="Vitis",
                                                default_precision="ap_fixed<16,6>")
actc.hls4ml.use(config, layer="act", manifest="out/gelu_act.json")
config["LayerName"]["fc1"]["Trace"] = True
config["LayerName"]["act"]["Trace"] = True
hls_model = hls4ml.converters.convert_from_pytorch_model(
    model, hls_config=config, output_dir="prj", backend="Vitis")
hls_model.compile()

x = np.random.default_rng(0).normal(0, 2, size=(100, 16)).astype(np.float32)
y, trace = hls_model.trace(x)
# the activation layer's outputs are actc's reference model on the first layer's outputs
reference = load_module(Path("ref/gelu_act.py"))
codes = np.round(trace["fc1"].reshape(-1) * 2**10).astype(np.int64)   # s16.10 codes
expected = reference.evaluate(codes) / 2**10
assert np.array_equal(trace["act"].reshape(-1), expected)
print(f"{hls_model.graph['act'].class_name}: {codes.size} activations bit-exact; "
      f"hls4ml output {np.asarray(y).shape}, max |torch - hls4ml| "
      f"{np.abs(model(torch.tensor(x)).detach().numpy() - y).max():.3f}")
