"""Generate a realistic Google Merchant Center style CSV feed (about 525 bytes a product).

    .venv/bin/python bench/gen_feed.py --products 1000000 --out var/bench/feed-1000000.csv
    .venv/bin/python bench/gen_feed.py --products 1000000 --change-percent 1 \
        --out var/bench/feed-1000000-1pct.csv

Deterministic: the same --products and --seed give the same file; --change-percent P changes
the price and title of P % of the products (spread evenly), so a re-pull touches only them.
GTINs carry their GS1 check digit but in --invalid-gtin-percent of the products (2 % by
default, spread evenly), whose check digit is wrong: review reports those, as it would in a
shop's feed; a higher share measures a catalog where many products need fixing.
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

HEADER = (
    "id,title,description,link,image_link,price,sale_price,availability,brand,gtin,"
    "condition,google_product_category,product_type,shipping,item_group_id,custom_label_0\n"
)
BRANDS = ["Northwind", "Acme Outdoor", "Lumen", "Fjord & Co", "Papillon", "Kestrel", "Urban Loom"]
NOUNS = ["Trail Runner", "Linen Shirt", "Chef Knife", "Tent 2P", "Headphones", "Hoodie", "Skillet"]
COLORS = ["Black", "Navy", "Olive", "Sand", "Red", "White", "Grey"]
AVAIL = ["in stock"] * 8 + ["out of stock", "preorder"]
WORDS = [
    "durable",
    "lightweight",
    "breathable",
    "organic",
    "recycled",
    "premium",
    "classic",
    "everyday",
    "waterproof",
    "ergonomic",
    "compact",
    "versatile",
    "handmade",
    "insulated",
    "adjustable",
    "comfortable",
    "timeless",
]


def gs1_check_digit(digits: str) -> int:
    """The GS1 mod-10 check digit of a GTIN's other digits (weights 3, 1, ... from the right)."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(digits)))
    return (10 - total % 10) % 10


def write_feed(
    path: Path,
    products: int,
    seed: int = 42,
    change_percent: float = 0.0,
    invalid_gtin_percent: float = 2.0,
) -> int:
    rng = random.Random(seed)
    words = [" ".join(rng.choice(WORDS) for _ in range(48)) for _ in range(64)]
    step = int(100 / change_percent) if change_percent else 0
    invalid_every = 100 / invalid_gtin_percent if invalid_gtin_percent else 0
    size = 0
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as out:
        out.write(HEADER)
        buf = []
        for i in range(products):
            brand = BRANDS[i % 7]
            noun = NOUNS[(i // 7) % 7]
            color = COLORS[(i // 49) % 7]
            cents = 999 + (i * 7919) % 20000
            changed = step and i % step == 0
            if changed:
                cents += 100
            title = f"{brand} {noun} {color} {i}{' v2' if changed else ''}"
            desc = words[i % 64][: 255 + i % 60]
            body = f"{(400000000000 + i * 13) % 10**12:012d}"
            check = gs1_check_digit(body)
            if invalid_every and int(i / invalid_every) != int((i + 1) / invalid_every):
                check = (check + 1) % 10
            gtin = f"{body}{check}"
            buf.append(
                f"SKU-{i:08d},{title},{desc},https://shop.example.com/p/SKU-{i:08d},"
                f"https://cdn.example.com/img/SKU-{i:08d}.jpg,"
                f"{cents // 100}.{cents % 100:02d} USD,,"
                f"{AVAIL[i % 10]},{brand},{gtin},new,1604,Apparel > Tops > {noun},"
                f"US:::4.99 USD,G-{i // 5:07d},{'summer' if i % 3 else 'winter'}\n"
            )
            if len(buf) >= 10_000:
                chunk = "".join(buf)
                size += len(chunk)
                out.write(chunk)
                buf = []
        chunk = "".join(buf)
        size += len(chunk)
        out.write(chunk)
    return path.stat().st_size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--products", type=int, default=10_000)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--change-percent", type=float, default=0.0)
    parser.add_argument("--invalid-gtin-percent", type=float, default=2.0)
    args = parser.parse_args()
    out = args.out or Path(f"var/bench/feed-{args.products}.csv")
    size = write_feed(out, args.products, args.seed, args.change_percent, args.invalid_gtin_percent)
    sys.stdout.write(f"{out}: {args.products} products, {size / 1e6:.1f} MB\n")


if __name__ == "__main__":
    main()
