"""Fail the test run when domain or application line coverage drops under 90%.

Reads the Cobertura XML that `pytest --cov` writes, prints one line per layer.
"""

import sys
import xml.etree.ElementTree as ET
from pathlib import Path

THRESHOLD = 90.0
LAYERS = ("domain", "application")


def main(report: str) -> int:
    root = ET.parse(report).getroot()  # noqa: S314 - our own coverage report
    totals = {layer: [0, 0] for layer in LAYERS}
    for cls in root.iter("class"):
        parts = Path(cls.get("filename", "")).parts
        layer = next((p for p in parts if p in LAYERS), None)
        if layer is None:
            continue
        lines = cls.findall("./lines/line")
        totals[layer][0] += sum(1 for line in lines if int(line.get("hits", "0")) > 0)
        totals[layer][1] += len(lines)
    failed = False
    for layer, (covered, total) in totals.items():
        percent = 100.0 * covered / total if total else 0.0
        verdict = "ok" if percent >= THRESHOLD else f"below {THRESHOLD:.0f}%"
        print(f"coverage {layer}: {percent:.1f}% of {total} lines ({verdict})")
        failed |= percent < THRESHOLD
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1] if len(sys.argv) > 1 else "var/coverage.xml"))
