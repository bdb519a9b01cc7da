# Sourced by mpnet_curve.sh and mpnet_cotrain.sh: builds the CLI with libtorch (release) and
# sets $transfer to it and $model to all-mpnet-base-v2 under $TRANSFER_MODELS.
export LIBTORCH_USE_PYTORCH=1 LIBTORCH_BYPASS_VERSION_CHECK=1
cargo build --release --quiet -p transfer-cli --features transfer-nlp/tch
transfer="${CARGO_TARGET_DIR:-target}/release/transfer"
model="${TRANSFER_MODELS:-$HOME/.cache/transfer-models}/all-mpnet-base-v2"
