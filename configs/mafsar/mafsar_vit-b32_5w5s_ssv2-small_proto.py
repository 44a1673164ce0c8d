# MA-FSAR with ProtoNet matching instead of OTAM; otherwise identical to
# mafsar_vit-b32_5w5s_ssv2-small.py.
_base_ = ['./mafsar_vit-b32_5w5s_ssv2-small.py']
model = dict(head=dict(matcher=dict(_delete_=True, type='ProtoMatcher')))
