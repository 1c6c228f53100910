"""The pure text algorithms of the engine, in the order a document meets them: :mod:`normalize`
(with its offset map), :mod:`tokens`, :mod:`passages`, :mod:`shingles`, MinHash :mod:`signatures`,
:mod:`lsh` band keys, :mod:`analysis` (all of that for one document), exact :mod:`align`-ment and
:mod:`matching` of candidate pairs, :mod:`pairs` (what two documents share) and :mod:`boilerplate`
blocks. No I/O: the pipeline feeds them documents and stores what they find.
"""
