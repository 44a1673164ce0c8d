# MA-FSAR with ProtoNet matching instead of OTAM; otherwise identical to
# mafsar_vit-b32_5w1s_ssv2-small.py.
_base_ = ['./mafsar_vit-b32_5w1s_ssv2-small.py']
# scale=8 (the number of frames) puts the cosine of the mean on the range of
# OTAM's sum over frames, so the text branch does not drown it in the fused
# prediction (see ProtoMatcher).
model = dict(head=dict(matcher=dict(
    _delete_=True, type='ProtoMatcher', scale=8)))
