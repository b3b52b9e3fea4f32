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
    """{unit kind: its report module}, each with figure(manifest, unit) -> (figure, data) and
    summary(data) -> the text ``actc report`` prints."""
    from .activation import report as activation
    from .adc import report as adc
    from .mac import report as mac

    return {"activation": activation, "mac": mac, "adc": adc}


def report(manifest_path: str | Path, output: str | Path | None = None) -> tuple[Path, str]:
    """Write the PNG (default: NAME_report.png beside the manifest; ``output`` names a file,
    or a directory when it ends with a separator or is one); return its path and the
    figures' summary line (measured afresh)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise ToolError("actc report needs matplotlib: pip install matplotlib") from None
    from .fileio import output_file, write_files

    manifest, unit = load(manifest_path)
    reporter = _reporters()[unit.kind]
    fig, data = reporter.figure(manifest, unit)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, metadata={"Software": None})
    plt.close(fig)
    default = f"{unit.name}_report.png"
    directory, name = output_file(output, default) if output else \
        (Path(manifest_path).parent, default)
    path = write_files(directory, {name: buf.getvalue()})[0]
    return path, reporter.summary(data)
