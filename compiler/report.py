"""``actc report``: a picture of any compiled unit (PNG), drawn by its kind's report module,
and its figures printed. Needs matplotlib (a dependency of actc, imported only here)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from .errors import ToolError
from .manifest import load

__all__ = ["report"]


def _reporters() -> dict[str, Any]:
    """{unit kind: its report module}, each with figure(manifest, unit) and summary(...)."""
    from .activation import report as activation
    from .adc import report as adc
    from .mac import report as mac

    return {"activation": activation, "mac": mac, "adc": adc}


def report(manifest_path: str | Path, output: str | Path | None = None) -> tuple[Path, str]:
    """Write the PNG (default: NAME_report.png beside the manifest); return its path and the
    figures' summary line (measured afresh)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise ToolError("actc report needs matplotlib: pip install matplotlib") from None
    from .fileio import write_bytes

    manifest, unit = load(manifest_path)
    reporter = _reporters()[unit.kind]
    fig, data = reporter.figure(manifest, unit)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, metadata={"Software": None})
    plt.close(fig)
    path = Path(output) if output else Path(manifest_path).with_name(f"{unit.name}_report.png")
    write_bytes(path, buf.getvalue())
    return path, reporter.summary(data.metrics)
