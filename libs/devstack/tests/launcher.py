"""``python launcher.py <config.json>``: the ``make up`` code path on a test config (fake services)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from simfleet_devstack.__main__ import up
from simfleet_devstack.platform import PlatformConfig

if __name__ == "__main__":
    fields = json.loads(Path(sys.argv[1]).read_text())
    fields["data_dir"] = Path(fields["data_dir"])
    sys.exit(up(PlatformConfig(**fields), echo_logs=False))
