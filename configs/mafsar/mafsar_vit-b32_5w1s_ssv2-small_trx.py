# MA-FSAR with TRX matching instead of OTAM (seq_len = frames, in_channels =
# CLIP embedding size); otherwise identical to
# mafsar_vit-b32_5w1s_ssv2-small.py.
_base_ = ['./mafsar_vit-b32_5w1s_ssv2-small.py']
model = dict(
    head=dict(
        matcher=dict(
            _delete_=True,
            type='TRXMatcher',
            in_channels=512,
            seq_len=8)))
