"The fixed SciFact slice of the parity check (shared by tests/test_parity.py and tools/expected_parity.py)."
SLICE = dict(dataset='scifact', split='test', n_queries=60, n_docs=600, seed=0)

def build_slice():
    from embedtune.data import load_beir, slice_beir
    return slice_beir(load_beir(SLICE['dataset'], splits=[SLICE['split']]), SLICE['n_queries'], SLICE['n_docs'], SLICE['seed'])
