"""A read-only git reader: repository discovery, refs, config, the index, objects, ignore rules,
the commit-graph, status and the clean-tree proof, history, snapshots and the remote.

It never writes into the repository and needs no ``git`` binary. It knows nothing of the
commands above it; from the engine it uses only the snapshot protocol.
"""
