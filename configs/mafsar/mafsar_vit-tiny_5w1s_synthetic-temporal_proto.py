# MA-FSAR with ProtoNet matching instead of OTAM; otherwise identical to
# mafsar_vit-tiny_5w1s_synthetic-temporal.py.
_base_ = ['./mafsar_vit-tiny_5w1s_synthetic-temporal.py']
# scale=8 (the number of frames) puts the cosine of the mean on the range of
# OTAM's sum over frames, so the text branch does not drown it in the fused
# prediction (see ProtoMatcher).
model = dict(head=dict(matcher=dict(
    _delete_=True, type='ProtoMatcher', scale=8)))
