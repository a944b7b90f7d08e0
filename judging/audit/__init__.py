"""The audit log as people read it: named actions, field diffs, filters and paging.

The log itself (the model, ``record()`` and the hash chain) lives in
``judging.common.audit``, below every domain that writes to it.
"""
