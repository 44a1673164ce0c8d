# MA-FSAR with Bi-MHM matching instead of OTAM; otherwise identical to
# mafsar_vit-tiny_5w1s_synthetic-temporal.py.
_base_ = ['./mafsar_vit-tiny_5w1s_synthetic-temporal.py']
model = dict(head=dict(matcher=dict(_delete_=True, type='BiMHMMatcher')))
