"Losses by name: every registered loss builds and reports its config; bad names fail clearly; the new maths holds."
import math
import pytest
import torch
from torch import nn
from embedtune.losses import LOSSES, make_loss, info_nce, hardest_negative_triplet, CombinedLoss, FocalInfoNCELoss
from embedtune.models import load_model

def T(*rows): return torch.tensor(rows, dtype=torch.float32)
# cos(a1,p1)=1, cos(a1,p2)=0.6, cos(a2,p1)=0, cos(a2,p2)=0.8
A, P, N = T([1., 0.], [0., 1.]), T([1., 0.], [.6, .8]), T([.8, .6], [0., 1.])
NCE = (math.log(1 + math.exp(-.4)) + math.log(1 + math.exp(-.8))) / 2   # InfoNCE at scale 1

@pytest.fixture(scope='module')
def model(): return load_model()

@pytest.mark.parametrize('name', sorted(LOSSES))
def test_make_loss_every_name(name, model):
    loss = make_loss(name, model)
    assert isinstance(loss, nn.Module) and loss.model is model
    assert isinstance(loss.get_config_dict(), dict) and loss.get_config_dict()

def test_registry_names():
    assert set(LOSSES) == {'mnrl', 'cached_mnrl', 'contrastive', 'triplet', 'combined', 'focal'}

def test_unknown_name(model):
    with pytest.raises(ValueError) as e: make_loss('infonce', model)
    assert str(e.value) == "unknown loss 'infonce'; valid names: cached_mnrl, combined, contrastive, focal, mnrl, triplet"

def test_unknown_param(model):
    with pytest.raises(ValueError, match="loss 'focal': .*margin"): make_loss('focal', model, margin=1.)

def test_params_reach_the_loss(model):
    assert make_loss('mnrl', model, scale=50.).scale == 50.
    assert make_loss('cached_mnrl', model, mini_batch_size=4).mini_batch_size == 4
    assert make_loss('triplet', model, margin=.25).triplet_margin == .25
    assert make_loss('combined', model, align_weight=0.).base_model is None
    assert make_loss('focal', model, gamma=1.).get_config_dict() == {'scale': 20., 'gamma': 1.}

def test_info_nce_by_hand():
    assert info_nce([A, P], scale=1.).item() == pytest.approx(NCE, abs=1e-6)

def test_focal_by_hand():
    assert FocalInfoNCELoss(None, 1., gamma=0.).compute_loss_from_embeddings([A, P]).item() == pytest.approx(NCE, abs=1e-6)
    p1, p2 = 1 / (1 + math.exp(-.4)), 1 / (1 + math.exp(-.8))
    want = (-(1 - p1)**2 * math.log(p1) - (1 - p2)**2 * math.log(p2)) / 2
    assert FocalInfoNCELoss(None, 1., gamma=2.).compute_loss_from_embeddings([A, P]).item() == pytest.approx(want, abs=1e-6)

def test_triplet_by_hand():
    assert hardest_negative_triplet([A, P], margin=.5).item() == pytest.approx(.05, abs=1e-6)    # in-batch hardest
    assert hardest_negative_triplet([A, P, N], margin=.5).item() == pytest.approx(.5, abs=1e-6)  # negative column

def test_combined_by_hand():
    cl = CombinedLoss(None, base_model=nn.Identity(), scale=1., margin=.5)
    base = [A, T([1., 0.], [0., 1.])]          # differs from P only in p2: 2 - 2*0.8 over 4 texts
    c = cl.loss_components([A, P], base)
    assert c['infonce'].item() == pytest.approx(NCE, abs=1e-6)
    assert c['triplet'].item() == pytest.approx(.05, abs=1e-6)
    assert c['align'].item() == pytest.approx(.1, abs=1e-6)
    assert cl.compute_loss_from_embeddings([A, P], None, base).item() == pytest.approx(NCE + .5*.05 + .3*.1, abs=1e-6)
    assert cl.loss_components([A, P], [A, P])['align'].item() == 0.

def test_combined_frozen_copy(model):
    cl = CombinedLoss(model)
    assert cl.base_model is not model and not cl.base_model.training
    assert not any(p.requires_grad for p in cl.base_model.parameters())
    cl.train(); assert not cl.base_model.training

def test_bad_hyperparameters():
    with pytest.raises(ValueError, match='gamma must be >= 0'): FocalInfoNCELoss(None, gamma=-1.)
    with pytest.raises(ValueError, match='scale must be > 0'): CombinedLoss(None, base_model=nn.Identity(), scale=0.)
