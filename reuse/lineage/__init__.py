"""The pure lineage: who copied whom, and what each copy changed.

:mod:`~reuse.lineage.facts` (what lineage reads and produces), :mod:`~reuse.lineage.evidence`
(signals, direction, shared upstreams), :mod:`~reuse.lineage.arborescence` (the tree algorithm),
:mod:`~reuse.lineage.stories` (the stages in order: :func:`~reuse.lineage.stories.build_stories`),
:mod:`~reuse.lineage.attribution` (whether a copy credits its source) and
:mod:`~reuse.lineage.edits` (what a copy changed, and the one word alignment the report and
``compare`` show). No I/O: :mod:`reuse.pipeline.lineage` loads the facts and stores the results.
"""
