"""The pure decision: would ``ayjnt build`` change the lockfile, and is the lockfile sound?

Bytes in (through a :class:`~ayjnt_hooks.engine.snapshot.Snapshot`), decisions out. Nothing
here knows about git or about the commands above it.
"""
