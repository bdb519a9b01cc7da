#!/bin/bash
# The bytes of the working tree a device call carries besides `carry` (tracked files and
# untracked ones git does not ignore); a call carries 64 MiB in all.
cd "$(dirname "$0")/../.."
(git ls-files -z; git ls-files -z --others --exclude-standard) | du -cb --files0-from=- | tail -1 | cut -f1
