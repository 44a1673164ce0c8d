# Unimodal baseline: fully fine-tuned CLIP visual tower per frame, no
# text, ProtoNet on temporally averaged features (cosine, no temperature,
# like CNN_TSN in github.com/alibaba-mmai-research/CLIP-FSAR).
_base_ = ['./clip_visual_otam.py']
model = dict(head=dict(matcher=dict(_delete_=True, type='ProtoMatcher')))
