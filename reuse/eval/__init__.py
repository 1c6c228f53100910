"""The evaluation harnesses: PAN 2013 text alignment (:mod:`pan13`, its corpus reader
:mod:`pan13_corpus` and the pure plagdet scorer :mod:`plagdet`) and lineage on generated news whose
truth is known (:mod:`lineage_run`, with the pure world generator and scorer :mod:`lineage_truth`).
The harnesses run the real pipeline on a scratch warehouse; the scorers read and write nothing.
"""
