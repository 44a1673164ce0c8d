# Unimodal baseline: fully fine-tuned CLIP visual tower per frame, no
# text, the TSN/ProtoNet baseline as CNN_TSN runs it
# (github.com/alibaba-mmai-research/CLIP-FSAR @ 30cf0a8,
# models/base/few_shot.py L1533-1572): videos are the time mean of their
# frame features (L1551-1552), cosine similarity to every support video
# (norm_sq_dist False, L1542 and L1566), averaged over the shots of a
# class (L1567, average='score'), no temperature.
_base_ = ['./clip_visual_otam.py']
model = dict(
    head=dict(
        matcher=dict(_delete_=True, type='ProtoMatcher', average='score')))
