"""The plant's rules, one module per context, each with its deciders (``DECIDERS``, by command type) and evolvers
(``EVOLVERS``, by event type); edge.domain.plant gathers them into the one registry ``decide`` and ``evolve`` use.

A context may project an event another context decided (a completed work order drops off the dispatch list and frees
its kitted stock): each context keeps its own tables up to date, in the order of ``CONTEXTS`` in edge.domain.plant.
"""
