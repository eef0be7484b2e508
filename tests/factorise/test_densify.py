"""§6 densification: exact recovery with a large enough embedding, reported errors otherwise."""

import numpy as np
import pytest

import tlc
from tlc.factorise import densify


def random_relation(shape, facts, seed):
    rng = np.random.default_rng(seed)
    relation = np.zeros(shape, dtype=bool)
    relation.flat[rng.choice(relation.size, facts, replace=False)] = True
    return relation


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("shape, facts", [((40, 40), 30), ((12, 10, 11), 20)])
def test_large_embedding_recovers_the_relation_exactly(shape, facts, seed):
    relation = random_relation(shape, facts, seed)
    found = densify(relation, 256 if len(shape) == 2 else 64, seed=seed)
    assert found.exact and found.errors == 0
    assert np.array_equal(found.recovered, relation)
    assert "recovered exactly" in str(found)


def test_small_embedding_reports_its_errors():
    relation = random_relation((40, 40), 30, 0)
    found = densify(relation, 4)
    wrong = int(np.sum(found.recovered != relation))
    assert not found.exact and found.errors == wrong > 0
    assert found.false_positives == int(np.sum(found.recovered & ~relation))
    assert found.false_negatives == int(np.sum(~found.recovered & relation))
    assert f"{wrong} wrong entries" in str(found)


def test_the_same_densification_written_in_tensor_logic(backend):
    relation = random_relation((30, 30), 20, 1)
    found = densify(relation, 128, seed=3)
    program = tlc.compile("EmbR[d, e] = R(x, y) Emb[x, d] Emb'[y, e]\n"
                          "D[x, y] = EmbR[d, e] Emb[x, d] Emb'[y, e]\n"
                          "Q(x, y) = D[x, y] - 0.5\n", backend=backend)
    out = program(R=relation, Emb=found.embeddings[0], **{"Emb'": found.embeddings[1]})
    assert np.allclose(out["EmbR"], found.core)
    assert np.allclose(out["D"], found.reconstruction)
    assert np.array_equal(np.asarray(out["Q"]), relation)


@pytest.mark.parametrize("args, message", [
    ((np.eye(3), 0), "positive integer"), ((np.full((2, 2), 0.5), 8), "Boolean"),
    ((np.eye(3, dtype=bool), 8, 1.5), "threshold"), ((np.bool_(True), 8), "at least one argument"),
])
def test_bad_arguments(args, message):
    relation, dim, *threshold = args
    with pytest.raises(tlc.TlcError, match=message):
        densify(relation, dim, **({"threshold": threshold[0]} if threshold else {}))
