# MA-FSAR with TRX matching instead of OTAM (seq_len = frames, in_channels =
# CLIP embedding size); otherwise identical to
# mafsar_vit-tiny_5w1s_synthetic-temporal.py.
_base_ = ['./mafsar_vit-tiny_5w1s_synthetic-temporal.py']
model = dict(
    head=dict(
        matcher=dict(
            _delete_=True,
            type='TRXMatcher',
            in_channels=128,
            seq_len=8)))
