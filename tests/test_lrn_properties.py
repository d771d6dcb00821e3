"""Property test: the fast LRN equals F.local_response_norm for any shape, window and parameters."""

import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.test_lrn import DEVICE, assert_matches_functional


@settings(max_examples=80, deadline=None)
@given(
    batch=st.integers(1, 3),
    channels=st.integers(1, 12),  # often fewer channels than the window
    spatial=st.lists(st.integers(1, 5), min_size=1, max_size=3),  # (N, C, L), (N, C, H, W), (N, C, D, H, W)
    size=st.integers(1, 9),
    alpha=st.floats(1e-5, 1.0),
    beta=st.one_of(st.sampled_from([0.5, 0.75, 1.0]), st.floats(0.05, 2.0)),
    k=st.floats(0.5, 3.0),
    scale=st.floats(0.01, 30.0),
    dtype=st.sampled_from([torch.float32, torch.float64]),
    seed=st.integers(0, 2**31 - 1),
)
def test_fast_lrn_equals_functional(batch, channels, spatial, size, alpha, beta, k, scale, dtype, seed):
    shape = (batch, channels, *spatial)
    generator = torch.Generator().manual_seed(seed)
    x = (torch.randn(shape, generator=generator, dtype=dtype) * scale).to(DEVICE)
    grad_out = torch.randn(shape, generator=generator, dtype=dtype).to(DEVICE)
    assert_matches_functional(x, size, alpha, beta, k, grad_out)
