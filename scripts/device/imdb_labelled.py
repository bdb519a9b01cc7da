"""The IMDB tarball without its 50,000 unlabelled reviews (train/unsup), which plain
fine-tuning never reads: about half the bytes to carry to the device machine.

    python3 scripts/device/imdb_labelled.py aclImdb_v1.tar.gz OUT.tar.gz
"""
import sys
import tarfile

with tarfile.open(sys.argv[1], "r:gz") as src, tarfile.open(sys.argv[2], "w:gz", compresslevel=9) as dst:
    for member in src:
        if "/unsup/" in member.name or member.name.endswith("unsupBow.feat") or "urls_unsup" in member.name:
            continue
        dst.addfile(member, src.extractfile(member) if member.isfile() else None)
