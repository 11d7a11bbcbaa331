"""Runs every benchmark at one size. CI runs `--size small` so the scripts never rot.

.venv/bin/python bench/run_all.py --size small|medium|full
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

# script -> arguments per size. A script listed here but absent is reported, not failed.
PLAN: dict[str, dict[str, list[str]]] = {
    "product_list.py": {
        "small": ["--products", "2000", "--pages", "5"],
        "medium": ["--products", "200000"],
        "full": ["--products", "1000000"],
    },
    "feeds_ingest.py": {
        "small": ["--products", "2000", "--index-bound", "--link-mbps", "50"],
        "medium": ["--products", "100000"],
        "full": ["--products", "1000000"],
    },
    "product_index_cost.py": {
        "small": ["--products", "2000"],
        "medium": ["--products", "100000"],
        "full": ["--products", "1000000"],
    },
    "ecr_review.py": {
        "small": ["--products", "2000"],
        "medium": ["--products", "100000"],
        "full": ["--products", "1000000"],
    },
    "flagged_score.py": {
        "small": ["--products", "2000", "--orders", "20000"],
        "medium": ["--products", "100000", "--orders", "1000000"],
        "full": ["--products", "1000000", "--orders", "10000000"],
    },
    "flagged_tab.py": {
        "small": ["--flagged", "2000", "--requests", "40"],
        "medium": ["--flagged", "50000", "--requests", "400", "--concurrency", "2"],
        "full": ["--flagged", "50000", "--requests", "1000", "--concurrency", "2"],
    },
    "channel_feed.py": {
        "small": ["--size", "small"],
        "medium": ["--size", "medium"],
        "full": ["--size", "full"],
    },
    "orders_import.py": {
        "small": ["--size", "small"],
        "medium": ["--size", "medium"],
        "full": ["--size", "full"],
    },
    "load_mix.py": {
        "small": ["--products", "2000", "--duration", "5", "--connections", "4", "--workers", "2"],
        "medium": ["--products", "100000", "--duration", "30"],
        "full": ["--products", "1000000", "--duration", "60"],
    },
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", choices=["small", "medium", "full"], default="small")
    args = parser.parse_args()
    failed = []
    for script, sizes in PLAN.items():
        path = HERE / script
        if not path.exists():
            print(f"-- {script}: not present, skipped")
            continue
        print(f"== {script} {' '.join(sizes[args.size])}", flush=True)
        result = subprocess.run([sys.executable, str(path), *sizes[args.size]], cwd=HERE.parent)
        if result.returncode:
            failed.append(script)
    if failed:
        print("FAILED: " + ", ".join(failed))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
