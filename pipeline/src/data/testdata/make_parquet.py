"""Writes the Parquet fixtures of `files.rs`'s tests the way users' files are written: by pandas
(pyarrow engine), snappy-compressed by default, plus the other codecs pandas offers.

    python3 -m venv /tmp/pq && /tmp/pq/bin/pip install pyarrow pandas
    /tmp/pq/bin/python pipeline/src/data/testdata/make_parquet.py
"""

from pathlib import Path

import pandas as pd

HERE = Path(__file__).parent

reviews = pd.DataFrame(
    {
        "id": [10, 11, 12, 13],
        "text": ["A wonderful film.", "Dull and long.", "Loved every minute", "Not again"],
        "label": ["pos", "neg", "pos", "neg"],
        "stars": [9, 2, 10, 1],  # int64
        "score": [1.0, 0.0, 1.0, 0.0],  # float64: 1.0 and 1 are one label
        "grade": ["1.0", "0", " 1", "0.0"],  # numbers written as strings: one label too
    }
)
for codec in ["snappy", "zstd", "gzip", None]:
    name = f"reviews-{codec or 'none'}.parquet"
    reviews.to_parquet(HERE / name, compression=codec, index=False)

# Row 3's text is missing (None: a null in Parquet).
pd.DataFrame(
    {
        "text": ["fine", "also fine", None, "fine again"],
        "label": ["pos", "neg", "pos", "neg"],
    }
).to_parquet(HERE / "null-text.parquet")
